-- Custom key stores (emulated: their keys' material is held here), and the keys in them.
-- Secrets given for a store (the CloudHSM password, the proxy's secret access key) are
-- never stored.

CREATE TABLE custom_key_stores (
    account                    TEXT    NOT NULL,
    region                     TEXT    NOT NULL,
    store_id                   TEXT    NOT NULL,
    name                       TEXT    NOT NULL,
    store_type                 TEXT    NOT NULL CHECK (store_type IN ('AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE')),
    cloud_hsm_cluster_id       TEXT,
    trust_anchor_certificate   TEXT,
    xks_connectivity           TEXT,
    xks_access_key_id          TEXT,
    xks_uri_endpoint           TEXT,
    xks_uri_path               TEXT,
    xks_vpc_endpoint_service_name  TEXT,
    xks_vpc_endpoint_service_owner TEXT,
    connection_state           TEXT    NOT NULL,
    -- While CONNECTING: when the connection is up, and the state it reaches.
    settles_at                 INTEGER,
    settles_to                 TEXT,
    created_at                 INTEGER NOT NULL,
    PRIMARY KEY (account, region, store_id)
);

ALTER TABLE keys ADD COLUMN custom_key_store_id TEXT;
ALTER TABLE keys ADD COLUMN xks_key_id TEXT;
