ALTER TABLE containers DROP COLUMN ssh_key_enc;
