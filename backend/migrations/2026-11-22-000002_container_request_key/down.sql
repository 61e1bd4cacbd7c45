ALTER TABLE containers DROP COLUMN request_key;
