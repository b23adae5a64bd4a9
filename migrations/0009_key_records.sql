-- A key in one row: its identity, its policy, and one JSONB document (`record`) with
-- everything else, metadata, material history and tags (`src/store/record.rs` reads and
-- writes it; the two must agree). Start-up reads every key: as 21 key columns and 13
-- columns for each material entry, nearly all NULL or the same, most of its time went to
-- SQLite handing over values.
--
-- Members are written only when they say something (no nulls, no empty lists, no empty
-- description); material ids and bytes are lowercase hex.

-- Every row gets its document below.
ALTER TABLE keys ADD COLUMN record BLOB NOT NULL DEFAULT x'';

UPDATE keys SET record = jsonb(json_patch('{}', json_object(
    'created_at', created_at,
    'description', nullif(description, ''),
    'state', state,
    'deletion_date', deletion_date,
    'pending_window_days', pending_window_days,
    'spec', key_spec,
    'usage', key_usage,
    'origin', origin,
    'manager', key_manager,
    'multi_region', CASE WHEN primary_region IS NOT NULL THEN
        json_object('primary', primary_region, 'replicas', json(coalesce(replica_regions, '[]')))
    END,
    'custom_key_store', CASE WHEN custom_key_store_id IS NOT NULL THEN
        json_object('id', custom_key_store_id, 'xks_key_id', xks_key_id)
    END,
    'settles', CASE WHEN settles_at IS NOT NULL AND settles_to IS NOT NULL THEN
        json_object('at', settles_at, 'to', settles_to)
    END,
    'rotation', CASE WHEN rotation_period_days IS NOT NULL AND next_rotation IS NOT NULL THEN
        json_object('period_days', rotation_period_days, 'next', next_rotation)
    END,
    'materials', json(nullif((
        SELECT json_group_array(json_patch('{}', json_object(
            'id', lower(hex(m.material_id)),
            'created_at', m.created_at,
            'state', m.state,
            'key', CASE WHEN m.material IS NOT NULL THEN lower(hex(m.material)) END,
            'rotated', CASE WHEN m.rotation_type IS NOT NULL AND m.rotated_at IS NOT NULL THEN
                json_object('at', m.rotated_at, 'type', m.rotation_type)
            END,
            'valid_to', m.valid_to,
            'description', m.description
        )) ORDER BY m.seq)
        FROM key_material m
        WHERE m.account = keys.account AND m.region = keys.region AND m.key_id = keys.key_id
    ), '[]')),
    'tags', json(nullif((
        SELECT json_group_array(json_array(t.tag_key, t.tag_value) ORDER BY t.position)
        FROM tags t
        WHERE t.account = keys.account AND t.region = keys.region AND t.key_id = keys.key_id
    ), '[]'))
)));

DROP TABLE key_material;
DROP TABLE tags;

ALTER TABLE keys DROP COLUMN created_at;
ALTER TABLE keys DROP COLUMN description;
ALTER TABLE keys DROP COLUMN state;
ALTER TABLE keys DROP COLUMN deletion_date;
ALTER TABLE keys DROP COLUMN pending_window_days;
ALTER TABLE keys DROP COLUMN key_spec;
ALTER TABLE keys DROP COLUMN key_usage;
ALTER TABLE keys DROP COLUMN origin;
ALTER TABLE keys DROP COLUMN key_manager;
ALTER TABLE keys DROP COLUMN multi_region;
ALTER TABLE keys DROP COLUMN rotation_period_days;
ALTER TABLE keys DROP COLUMN next_rotation;
ALTER TABLE keys DROP COLUMN primary_region;
ALTER TABLE keys DROP COLUMN replica_regions;
ALTER TABLE keys DROP COLUMN settles_at;
ALTER TABLE keys DROP COLUMN settles_to;
ALTER TABLE keys DROP COLUMN custom_key_store_id;
ALTER TABLE keys DROP COLUMN xks_key_id;
