-- Roles: admins do everything; operators create and manage containers but not nodes or
-- accounts, and open only the credentials of containers they created. Every account that exists
-- already becomes an admin, since until now every account could do everything.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'operator'));
ALTER TABLE users ALTER COLUMN role DROP DEFAULT;
-- A disabled account cannot log in; disabling it ends its sessions.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

-- Who revealed a credential, ran a power action or deleted a container, and when. No foreign key
-- to containers: the record of a deletion outlives the container. The user name is kept as it
-- was, so the record reads the same after the account is renamed or removed.
CREATE TABLE audit_events (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    username     TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('credential_revealed', 'power', 'deleted')),
    detail       TEXT NOT NULL DEFAULT '',
    container_id UUID NOT NULL,
    -- `hostname (VMID n)` when it happened.
    container    TEXT NOT NULL
);
CREATE INDEX audit_events_container_idx ON audit_events (container_id, at DESC);
CREATE INDEX audit_events_at_idx ON audit_events (at DESC);
