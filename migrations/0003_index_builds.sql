-- Plain field indexes are built after publish commits, with CREATE INDEX CONCURRENTLY, so
-- adding an indexed field to a big object never blocks writes to the shared records
-- table. built_at is NULL while an index is wanted but not yet built.
ALTER TABLE field_indexes ADD COLUMN built_at timestamptz;
UPDATE field_indexes SET built_at = created_at;
