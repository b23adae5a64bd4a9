-- Grants, in a table of their own: deleted with their key.

CREATE TABLE grants (
    account            TEXT    NOT NULL,
    region             TEXT    NOT NULL,
    key_id             TEXT    NOT NULL,
    grant_id           TEXT    NOT NULL,
    name               TEXT,
    grantee_principal  TEXT    NOT NULL,
    retiring_principal TEXT,
    -- JSON arrays and objects, as on the wire.
    operations         TEXT    NOT NULL,
    constraints        TEXT,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (account, region, key_id, grant_id),
    FOREIGN KEY (account, region, key_id) REFERENCES keys (account, region, key_id) ON DELETE CASCADE
);
