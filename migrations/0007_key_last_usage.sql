-- The last successful cryptographic operation of each key (GetKeyLastUsage), written in
-- batches; and when this database began tracking it.

CREATE TABLE key_last_usage (
    account    TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    operation  TEXT    NOT NULL,
    used_at    INTEGER NOT NULL,
    request_id TEXT    NOT NULL,
    event_id   TEXT    NOT NULL,
    PRIMARY KEY (account, region, key_id),
    FOREIGN KEY (account, region, key_id) REFERENCES keys (account, region, key_id) ON DELETE CASCADE
);

CREATE TABLE meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
