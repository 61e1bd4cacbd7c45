-- The key the wizard generates when it opens: a second Deploy with the same key finds the
-- container the first one created instead of creating another.
ALTER TABLE containers ADD COLUMN request_key UUID UNIQUE;
