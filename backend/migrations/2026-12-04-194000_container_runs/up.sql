-- Runs: the creation, then each update run that applies a container's template again.
ALTER TABLE containers DROP CONSTRAINT containers_lifecycle_check;
ALTER TABLE containers ADD CONSTRAINT containers_lifecycle_check
    CHECK (lifecycle IN ('creating', 'ready', 'error', 'updating'));

CREATE TABLE container_runs (
    container_id UUID NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    -- 1 for the creation, then 2, 3 … per update.
    number       INTEGER NOT NULL CHECK (number >= 1),
    kind         TEXT NOT NULL CHECK (kind IN ('create', 'update')),
    -- For updates: which configuration it applies.
    source       TEXT CHECK (source IN ('stored', 'template')),
    -- The seq of the run's first progress event (its log is from there on).
    first_seq    BIGINT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    outcome      TEXT CHECK (outcome IN ('ready', 'error', 'cancelled')),
    started_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (container_id, number)
);

-- Every existing container had one run: its creation.
INSERT INTO container_runs (container_id, number, kind, first_seq, started_at, finished_at, outcome, started_by)
SELECT id, 1, 'create', 1, created_at,
       CASE WHEN lifecycle IN ('ready', 'error') THEN updated_at END,
       CASE WHEN lifecycle IN ('ready', 'error') THEN lifecycle END,
       created_by
FROM containers;
