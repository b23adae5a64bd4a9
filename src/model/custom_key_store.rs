//! Custom key stores (AWS CloudHSM and external key stores), emulated: trent keeps their
//! configuration and connection state and holds their keys' material itself. A store's
//! keys are usable only while it is connected; that one fact is shared with every key in
//! the store ([`StoreLink`]), so connecting or disconnecting touches no key.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::enums::{ConnectionState, CustomKeyStoreType, XksProxyConnectivity};
use super::ids::Scope;
use crate::clock::Timestamp;

/// How long a connection takes to come up: long enough to see CONNECTING.
pub const CONNECT_MS: i64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XksProxy {
    pub connectivity: XksProxyConnectivity,
    pub access_key_id: String,
    pub uri_endpoint: String,
    pub uri_path: String,
    pub vpc_endpoint_service_name: Option<String>,
    pub vpc_endpoint_service_owner: Option<String>,
}

/// One store. Secrets (the CloudHSM password, the proxy's secret access key) are checked
/// for form and never kept.
#[derive(Debug, Clone)]
pub struct CustomKeyStore {
    /// `cks-` and 17 hex digits.
    pub id: String,
    pub scope: Scope,
    pub name: String,
    pub kind: CustomKeyStoreType,
    pub cloud_hsm_cluster_id: Option<String>,
    pub trust_anchor_certificate: Option<String>,
    pub xks: Option<XksProxy>,
    pub state: ConnectionState,
    /// While CONNECTING: when the connection is up.
    pub settles: Option<(Timestamp, ConnectionState)>,
    pub created_at: Timestamp,
    /// Whether the store is connected, shared with its keys (and by every version of
    /// this store: an update clones it).
    pub connected: Arc<AtomicBool>,
}

impl CustomKeyStore {
    /// Publishes the committed state to the store's keys (called by the store after the
    /// commit, never before).
    pub fn publish(&self) {
        self.connected
            .store(self.state == ConnectionState::Connected, Ordering::Relaxed);
    }
}

/// A key's tie to its custom key store.
#[derive(Debug, Clone)]
pub struct StoreLink {
    pub store_id: String,
    pub cloud_hsm_cluster_id: Option<String>,
    pub xks_key_id: Option<String>,
    pub connected: Arc<AtomicBool>,
}

impl StoreLink {
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}
