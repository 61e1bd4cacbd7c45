-- The worker falls back to SSH into the node (`pct exec` / `pct push`) when a container is not
-- reachable directly; it logs in as root with its deploy key on this port and pins the host key.
ALTER TABLE pve_nodes
    ADD COLUMN ssh_port INTEGER NOT NULL DEFAULT 22 CHECK (ssh_port BETWEEN 1 AND 65535),
    ADD COLUMN ssh_host_key TEXT;
