ALTER TABLE pve_nodes DROP COLUMN ssh_port, DROP COLUMN ssh_host_key;
