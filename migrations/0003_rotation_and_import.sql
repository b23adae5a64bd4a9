-- Rotation and imported key material.
--
-- A key may have automatic rotation turned on (its period and next date). A material
-- entry records how it became current (an automatic or on-demand rotation, and when),
-- and, for imported material, when it expires and the importer's description.
-- Import parameters (the wrapping key behind an import token) live until they expire.

ALTER TABLE keys ADD COLUMN rotation_period_days INTEGER;
ALTER TABLE keys ADD COLUMN next_rotation INTEGER;

ALTER TABLE key_material ADD COLUMN rotation_type TEXT
    CHECK (rotation_type IN ('AUTOMATIC', 'ON_DEMAND'));
ALTER TABLE key_material ADD COLUMN rotated_at INTEGER;
ALTER TABLE key_material ADD COLUMN valid_to INTEGER;
ALTER TABLE key_material ADD COLUMN description TEXT;

CREATE TABLE import_tokens (
    token_id           BLOB    NOT NULL PRIMARY KEY CHECK (length(token_id) = 32),
    account            TEXT    NOT NULL,
    region             TEXT    NOT NULL,
    key_id             TEXT    NOT NULL,
    wrapping_algorithm TEXT    NOT NULL,
    wrapping_key_spec  TEXT    NOT NULL,
    -- The wrapping key pair's private half, PKCS#8 DER.
    wrapping_key       BLOB    NOT NULL,
    expires_at         INTEGER NOT NULL,
    FOREIGN KEY (account, region, key_id) REFERENCES keys (account, region, key_id) ON DELETE CASCADE
);
