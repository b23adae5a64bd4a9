-- Key material of every kind, each entry with its own id and state.
--
-- 0001 stored only AES-256 keys, append-only, the highest `seq` being current. Now an
-- entry records the kind of its key (the key spec: raw bytes for SYMMETRIC_DEFAULT and
-- HMAC, PKCS#8 DER for private keys), where it stands in the rotation history, and may
-- lose its bytes (imported material that was deleted) while keeping its id.

CREATE TABLE key_material (
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    material_id BLOB    NOT NULL CHECK (length(material_id) = 32),
    -- Orders the history: oldest first.
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('CURRENT', 'NON_CURRENT', 'PENDING_ROTATION')),
    -- NULL once the bytes were removed.
    material    BLOB,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account, region, key_id, material_id),
    FOREIGN KEY (account, region, key_id) REFERENCES keys (account, region, key_id) ON DELETE CASCADE
);

INSERT INTO key_material (account, region, key_id, material_id, seq, kind, state, material, created_at)
SELECT m.account, m.region, m.key_id, m.material_id, m.seq, 'SYMMETRIC_DEFAULT',
       CASE WHEN m.seq = (SELECT max(n.seq) FROM key_materials n
                          WHERE n.account = m.account AND n.region = m.region AND n.key_id = m.key_id)
            THEN 'CURRENT' ELSE 'NON_CURRENT' END,
       m.material, m.created_at
FROM key_materials m;

DROP TABLE key_materials;
