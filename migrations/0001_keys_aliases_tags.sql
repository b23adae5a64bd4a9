-- The first schema: keys, their material generations, tags and aliases.
-- Every row is scoped by account and region; times are epoch milliseconds.

CREATE TABLE keys (
    account             TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    key_id              TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    description         TEXT    NOT NULL,
    state               TEXT    NOT NULL CHECK (state IN (
                            'Creating', 'Enabled', 'Disabled', 'PendingDeletion', 'PendingImport',
                            'PendingReplicaDeletion', 'Unavailable', 'Updating')),
    -- Set exactly while the key is PendingDeletion.
    deletion_date       INTEGER,
    pending_window_days INTEGER,
    key_spec            TEXT    NOT NULL,
    key_usage           TEXT    NOT NULL,
    origin              TEXT    NOT NULL,
    key_manager         TEXT    NOT NULL CHECK (key_manager IN ('AWS', 'CUSTOMER')),
    multi_region        INTEGER NOT NULL CHECK (multi_region IN (0, 1)),
    policy              TEXT    NOT NULL,
    PRIMARY KEY (account, region, key_id)
);

-- Each generation of a key's material; `seq` orders them, the highest is current.
CREATE TABLE key_materials (
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    material_id BLOB    NOT NULL CHECK (length(material_id) = 32),
    material    BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account, region, key_id, seq),
    FOREIGN KEY (account, region, key_id) REFERENCES keys (account, region, key_id) ON DELETE CASCADE
);

-- `position` keeps the order in which tags were first added.
CREATE TABLE tags (
    account   TEXT    NOT NULL,
    region    TEXT    NOT NULL,
    key_id    TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    tag_key   TEXT    NOT NULL,
    tag_value TEXT    NOT NULL,
    PRIMARY KEY (account, region, key_id, tag_key),
    FOREIGN KEY (account, region, key_id) REFERENCES keys (account, region, key_id) ON DELETE CASCADE
);

-- Deleting a key deletes its aliases, as AWS does when the deletion window ends.
CREATE TABLE aliases (
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    alias_name    TEXT    NOT NULL,
    target_key_id TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (account, region, alias_name),
    FOREIGN KEY (account, region, target_key_id) REFERENCES keys (account, region, key_id) ON DELETE CASCADE
);
