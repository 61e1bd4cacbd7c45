DROP TABLE container_runs;
UPDATE containers SET lifecycle = 'ready' WHERE lifecycle = 'updating';
ALTER TABLE containers DROP CONSTRAINT containers_lifecycle_check;
ALTER TABLE containers ADD CONSTRAINT containers_lifecycle_check
    CHECK (lifecycle IN ('creating', 'ready', 'error'));
