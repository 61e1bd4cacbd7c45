-- Users, sessions and the Proxmox nodes they manage.
CREATE TABLE users (
    id            UUID PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A session is found by the SHA-256 of its cookie token; the token itself is never stored.
CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE pve_nodes (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    host               TEXT NOT NULL,
    port               INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    token_id           TEXT NOT NULL,
    -- AES-256-GCM: 12-byte nonce followed by the ciphertext and tag.
    token_secret_enc   BYTEA NOT NULL,
    tls_fingerprint    TEXT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Templates and what they carry.
CREATE TABLE templates (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL CHECK (source IN ('filesystem', 'custom')),
    version      TEXT NOT NULL DEFAULT '',
    os_template  TEXT NOT NULL DEFAULT '',
    cores        INTEGER NOT NULL,
    memory_mib   INTEGER NOT NULL,
    swap_mib     INTEGER NOT NULL,
    disk_gib     INTEGER NOT NULL,
    storage      TEXT NOT NULL DEFAULT '',
    bridge       TEXT NOT NULL DEFAULT '',
    unprivileged BOOLEAN NOT NULL DEFAULT TRUE,
    nesting      BOOLEAN NOT NULL DEFAULT FALSE,
    keyctl       BOOLEAN NOT NULL DEFAULT FALSE,
    fuse         BOOLEAN NOT NULL DEFAULT FALSE,
    tags         TEXT[] NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE template_scripts (
    id          UUID PRIMARY KEY,
    template_id UUID NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    content     TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (template_id, name)
);
CREATE INDEX template_scripts_template_idx ON template_scripts (template_id, position);

CREATE TABLE template_files (
    id          UUID PRIMARY KEY,
    template_id UUID NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    target_dir  TEXT NOT NULL,
    policy      TEXT NOT NULL CHECK (policy IN ('replace', 'default', 'backup')),
    content     TEXT NOT NULL,
    UNIQUE (template_id, target_dir, name)
);
CREATE INDEX template_files_template_idx ON template_files (template_id);

CREATE TABLE template_packages (
    id          UUID PRIMARY KEY,
    template_id UUID NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    manager     TEXT NOT NULL CHECK (manager IN ('apt', 'npm', 'pip', 'custom')),
    version     TEXT
);
CREATE INDEX template_packages_template_idx ON template_packages (template_id, position);

CREATE TABLE package_buckets (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE bucket_packages (
    id        UUID PRIMARY KEY,
    bucket_id UUID NOT NULL REFERENCES package_buckets (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    manager   TEXT NOT NULL CHECK (manager IN ('apt', 'npm', 'pip', 'custom')),
    version   TEXT
);
CREATE INDEX bucket_packages_bucket_idx ON bucket_packages (bucket_id, position);

CREATE TABLE template_buckets (
    template_id UUID NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    bucket_id   UUID NOT NULL REFERENCES package_buckets (id) ON DELETE CASCADE,
    PRIMARY KEY (template_id, bucket_id)
);
CREATE INDEX template_buckets_bucket_idx ON template_buckets (bucket_id);

-- Containers infrahaus creates, and what their creation produced.
CREATE TABLE containers (
    id                 UUID PRIMARY KEY,
    node_id            UUID NOT NULL REFERENCES pve_nodes (id) ON DELETE RESTRICT,
    template_id        UUID REFERENCES templates (id) ON DELETE SET NULL,
    vmid               INTEGER NOT NULL CHECK (vmid BETWEEN 100 AND 999999999),
    hostname           TEXT NOT NULL,
    lifecycle          TEXT NOT NULL CHECK (lifecycle IN ('creating', 'ready', 'error')),
    -- The full non-secret configuration the wizard produced.
    config             JSONB NOT NULL,
    -- Erased once the container exists: only the create call needs it.
    root_password_enc  BYTEA,
    -- Last finished pipeline step, so a reclaimed job resumes after it.
    checkpoint         JSONB NOT NULL DEFAULT '{}',
    ip_address         TEXT,
    ssh_host_key       TEXT,
    error_message      TEXT,
    created_by         UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX containers_created_at_idx ON containers (created_at DESC);
CREATE INDEX containers_node_vmid_idx ON containers (node_id, vmid);

CREATE TABLE container_events (
    container_id UUID NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('step', 'log', 'complete', 'error')),
    phase        TEXT NOT NULL,
    percent      SMALLINT NOT NULL CHECK (percent BETWEEN 0 AND 100),
    message      TEXT NOT NULL,
    stream       TEXT CHECK (stream IN ('stdout', 'stderr')),
    script_name  TEXT,
    script_index INTEGER,
    script_total INTEGER,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (container_id, seq)
);

CREATE TABLE container_services (
    id           UUID PRIMARY KEY,
    container_id UUID NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    port         INTEGER,
    protocol     TEXT NOT NULL DEFAULT 'tcp',
    url          TEXT
);
CREATE INDEX container_services_container_idx ON container_services (container_id);

CREATE TABLE container_credentials (
    id           UUID PRIMARY KEY,
    container_id UUID NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    value_enc    BYTEA NOT NULL,
    UNIQUE (container_id, name)
);
