//! Custom key stores (AWS CloudHSM and external key stores), emulated: trent keeps their
//! configuration and connection state and holds their keys' material itself. A store's
//! keys are usable only while it is connected; that fact (and the store's cluster) is
//! shared with every key in the store ([`StoreLink`]), so connecting or disconnecting
//! touches no key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
    /// What its keys read of it, shared by every version of this store (an update clones
    /// it).
    pub shared: Arc<Shared>,
}

impl CustomKeyStore {
    /// Publishes the committed store to its keys (called by the store after the commit,
    /// never before).
    pub fn publish(&self) {
        self.shared
            .connected
            .store(self.state == ConnectionState::Connected, Ordering::Relaxed);
        *self
            .shared
            .cloud_hsm_cluster_id
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = self.cloud_hsm_cluster_id.clone();
    }
}

/// What a store's keys read of it: whether it is connected, and its cluster.
#[derive(Debug, Default)]
pub struct Shared {
    connected: AtomicBool,
    cloud_hsm_cluster_id: Mutex<Option<String>>,
}

/// A key's tie to its custom key store.
#[derive(Debug, Clone)]
pub struct StoreLink {
    pub store_id: String,
    pub xks_key_id: Option<String>,
    pub shared: Arc<Shared>,
}

impl StoreLink {
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }

    pub fn cloud_hsm_cluster_id(&self) -> Option<String> {
        self.shared
            .cloud_hsm_cluster_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
