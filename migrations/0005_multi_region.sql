-- Multi-Region key sets, and keys on their way to a settled state.
--
-- Every member of a set records the primary's Region and the replicas' Regions (a JSON
-- array, in the order they were made); a key created as multi-Region before this had no
-- replicas and is its own primary. A replica being created or a set whose primary Region
-- is changing is Creating / Updating until `settles_at`, then `settles_to`.

ALTER TABLE keys ADD COLUMN primary_region TEXT;
ALTER TABLE keys ADD COLUMN replica_regions TEXT;
ALTER TABLE keys ADD COLUMN settles_at INTEGER;
ALTER TABLE keys ADD COLUMN settles_to TEXT;

UPDATE keys SET primary_region = region, replica_regions = '[]' WHERE multi_region = 1;
