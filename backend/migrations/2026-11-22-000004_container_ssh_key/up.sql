-- Each container's own SSH key pair: the worker logs in to the container with it (never with the
-- key the Proxmox nodes trust). The OpenSSH private key, sealed with the secret key file
-- (purpose `container-ssh-key`); created before the create call and reused by retries.
-- NULL for containers created before per-container keys: the worker re-keys them on next use.
ALTER TABLE containers ADD COLUMN ssh_key_enc BYTEA;
