//! Custom key stores: CreateCustomKeyStore, DescribeCustomKeyStores, UpdateCustomKeyStore,
//! ConnectCustomKeyStore, DisconnectCustomKeyStore, DeleteCustomKeyStore, and the checks
//! CreateKey makes for a key in a store. Emulated: no HSM or proxy is contacted; a
//! connection comes up on the store's schedule, and while a store is not connected its
//! keys are Unavailable.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::paging::{self, PageInfo};
use super::{Ctx, Empty};
use crate::clock::Timestamp;
use crate::crypto::{hex, random_array};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::custom_key_store::{CONNECT_MS, CustomKeyStore, StoreLink, XksProxy};
use crate::model::enums::{ConnectionState, CustomKeyStoreType, XksProxyConnectivity};
use crate::model::{KeySpec, KeyUsage, Origin, Scope};

/// Custom key stores per account and Region (AWS's quota).
const MAX_STORES: usize = 10;

/// The first sentence of each exception's description in the AWS model, as its message.
fn error(code: ErrorCode) -> KmsError {
    let message = match code {
        ErrorCode::CustomKeyStoreNotFound => {
            "The request was rejected because KMS cannot find a custom key store with the specified key store name or ID."
        }
        ErrorCode::CustomKeyStoreNameInUse => {
            "The request was rejected because the specified custom key store name is already assigned to another custom key store in the account."
        }
        ErrorCode::CustomKeyStoreHasCmks => {
            "The request was rejected because the custom key store contains KMS keys."
        }
        ErrorCode::CloudHsmClusterInUse => {
            "The request was rejected because the specified CloudHSM cluster is already associated with an CloudHSM key store in the account, or it shares a backup history with an CloudHSM key store in the account."
        }
        ErrorCode::XksProxyUriInUse => {
            "The request was rejected because the concatenation of the XksProxyUriEndpoint and XksProxyUriPath is already associated with another external key store in this Amazon Web Services Region."
        }
        ErrorCode::XksProxyUriEndpointInUse => {
            "The request was rejected because the XksProxyUriEndpoint is already associated with another external key store in this Amazon Web Services Region."
        }
        ErrorCode::XksProxyVpcEndpointServiceInUse => {
            "The request was rejected because the specified Amazon VPC endpoint service is already associated with another external key store in this Amazon Web Services Region."
        }
        ErrorCode::XksKeyAlreadyInUse => {
            "The request was rejected because the (XksKeyId) is already associated with another KMS key in this external key store."
        }
        _ => "",
    };
    KmsError::new(code, message)
}

/// CustomKeyStoreInvalidStateException, saying which state the store is in.
fn invalid_state(store: &CustomKeyStore, needed: &str) -> KmsError {
    KmsError::new(
        ErrorCode::CustomKeyStoreInvalidState,
        format!(
            "The custom key store {} is {}; {needed}.",
            store.id, store.state
        ),
    )
}

fn store_by_id(ctx: &Ctx, id: &str) -> Result<std::sync::Arc<CustomKeyStore>> {
    ctx.svc
        .store
        .custom_key_store(&ctx.scope, id)
        .ok_or_else(|| error(ErrorCode::CustomKeyStoreNotFound))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksCredential {
    access_key_id: String,
    /// Checked by the model for form; never read, kept, or shown.
    #[allow(dead_code)]
    raw_secret_access_key: IgnoredAny,
}

/// The external key store members of CreateCustomKeyStore and UpdateCustomKeyStore.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksMembers {
    xks_proxy_uri_endpoint: Option<String>,
    xks_proxy_uri_path: Option<String>,
    xks_proxy_vpc_endpoint_service_name: Option<String>,
    xks_proxy_vpc_endpoint_service_owner: Option<String>,
    xks_proxy_authentication_credential: Option<XksCredential>,
    xks_proxy_connectivity: Option<XksProxyConnectivity>,
}

impl XksMembers {
    fn given(&self) -> bool {
        self.xks_proxy_uri_endpoint.is_some()
            || self.xks_proxy_uri_path.is_some()
            || self.xks_proxy_vpc_endpoint_service_name.is_some()
            || self.xks_proxy_vpc_endpoint_service_owner.is_some()
            || self.xks_proxy_authentication_credential.is_some()
            || self.xks_proxy_connectivity.is_some()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateCustomKeyStoreRequest {
    custom_key_store_name: String,
    cloud_hsm_cluster_id: Option<String>,
    trust_anchor_certificate: Option<String>,
    /// Checked by the model for form; never read, kept, or shown.
    key_store_password: Option<IgnoredAny>,
    custom_key_store_type: Option<CustomKeyStoreType>,
    #[serde(flatten)]
    xks: XksMembers,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateCustomKeyStoreResponse {
    custom_key_store_id: String,
}

fn required<T>(value: Option<T>, member: &str, kind: CustomKeyStoreType) -> Result<T> {
    value.ok_or_else(|| {
        KmsError::validation(format!(
            "{member} is required for a custom key store of type {kind}."
        ))
    })
}

fn not_for(present: bool, member: &str, kind: CustomKeyStoreType) -> Result<()> {
    if present {
        return Err(KmsError::validation(format!(
            "{member} is not valid for a custom key store of type {kind}."
        )));
    }
    Ok(())
}

/// The proxy configuration of an external key store: VPC connectivity needs an endpoint
/// service, a public endpoint must not name one.
fn xks_proxy(
    connectivity: XksProxyConnectivity,
    access_key_id: String,
    uri_endpoint: String,
    uri_path: String,
    vpc_endpoint_service_name: Option<String>,
    vpc_endpoint_service_owner: Option<String>,
    scope: &Scope,
) -> Result<XksProxy> {
    let vpc = connectivity == XksProxyConnectivity::VpcEndpointService;
    let kind = CustomKeyStoreType::ExternalKeyStore;
    match (vpc, vpc_endpoint_service_name.as_deref()) {
        (true, None) => {
            return Err(KmsError::validation(
                "XksProxyVpcEndpointServiceName is required when XksProxyConnectivity is VPC_ENDPOINT_SERVICE.",
            ));
        }
        (false, Some(_)) => not_for(true, "XksProxyVpcEndpointServiceName", kind)?,
        _ => {}
    }
    Ok(XksProxy {
        connectivity,
        access_key_id,
        uri_endpoint,
        uri_path,
        vpc_endpoint_service_owner: vpc
            .then(|| vpc_endpoint_service_owner.unwrap_or_else(|| scope.account.to_string())),
        vpc_endpoint_service_name,
    })
}

/// The rules that make each store's address unique in the account and Region.
fn check_unique(
    candidate: &CustomKeyStore,
    others: &[std::sync::Arc<CustomKeyStore>],
) -> Result<()> {
    for other in others.iter().filter(|o| o.id != candidate.id) {
        if other.name == candidate.name {
            return Err(error(ErrorCode::CustomKeyStoreNameInUse));
        }
        if candidate.cloud_hsm_cluster_id.is_some()
            && other.cloud_hsm_cluster_id == candidate.cloud_hsm_cluster_id
        {
            return Err(error(ErrorCode::CloudHsmClusterInUse));
        }
        if let (Some(a), Some(b)) = (&candidate.xks, &other.xks) {
            if a.uri_endpoint == b.uri_endpoint && a.uri_path == b.uri_path {
                return Err(error(ErrorCode::XksProxyUriInUse));
            }
            let vpc = |x: &XksProxy| x.connectivity == XksProxyConnectivity::VpcEndpointService;
            if a.uri_endpoint == b.uri_endpoint && (vpc(a) || vpc(b)) {
                return Err(error(ErrorCode::XksProxyUriEndpointInUse));
            }
            if a.vpc_endpoint_service_name.is_some()
                && a.vpc_endpoint_service_name == b.vpc_endpoint_service_name
            {
                return Err(error(ErrorCode::XksProxyVpcEndpointServiceInUse));
            }
        }
    }
    Ok(())
}

pub async fn create_custom_key_store(
    ctx: Ctx,
    req: CreateCustomKeyStoreRequest,
) -> Result<CreateCustomKeyStoreResponse> {
    let kind = req
        .custom_key_store_type
        .unwrap_or(CustomKeyStoreType::AwsCloudHsm);
    let xks = req.xks;
    let (cluster, anchor, xks) = match kind {
        CustomKeyStoreType::AwsCloudHsm => {
            not_for(xks.given(), "XksProxy configuration", kind)?;
            let cluster = required(req.cloud_hsm_cluster_id, "CloudHsmClusterId", kind)?;
            let anchor = required(req.trust_anchor_certificate, "TrustAnchorCertificate", kind)?;
            required(req.key_store_password, "KeyStorePassword", kind)?;
            (Some(cluster), Some(anchor), None)
        }
        CustomKeyStoreType::ExternalKeyStore => {
            not_for(
                req.cloud_hsm_cluster_id.is_some(),
                "CloudHsmClusterId",
                kind,
            )?;
            not_for(
                req.trust_anchor_certificate.is_some(),
                "TrustAnchorCertificate",
                kind,
            )?;
            not_for(req.key_store_password.is_some(), "KeyStorePassword", kind)?;
            let credential = required(
                xks.xks_proxy_authentication_credential,
                "XksProxyAuthenticationCredential",
                kind,
            )?;
            let proxy = xks_proxy(
                required(xks.xks_proxy_connectivity, "XksProxyConnectivity", kind)?,
                credential.access_key_id,
                required(xks.xks_proxy_uri_endpoint, "XksProxyUriEndpoint", kind)?,
                required(xks.xks_proxy_uri_path, "XksProxyUriPath", kind)?,
                xks.xks_proxy_vpc_endpoint_service_name,
                xks.xks_proxy_vpc_endpoint_service_owner,
                &ctx.scope,
            )?;
            (None, None, Some(proxy))
        }
    };
    let store = CustomKeyStore {
        id: format!("cks-{}", &hex(&random_array::<9>())[..17]),
        scope: ctx.scope.clone(),
        name: req.custom_key_store_name,
        kind,
        cloud_hsm_cluster_id: cluster,
        trust_anchor_certificate: anchor,
        xks,
        state: ConnectionState::Disconnected,
        settles: None,
        created_at: ctx.svc.now(),
        shared: Default::default(),
    };
    let mut txn = ctx.svc.store.begin().await?;
    let others = ctx.svc.store.custom_key_stores(&ctx.scope);
    check_unique(&store, &others)?;
    if others.len() >= MAX_STORES {
        return Err(KmsError::new(
            ErrorCode::LimitExceeded,
            format!("An account can have at most {MAX_STORES} custom key stores in a Region."),
        ));
    }
    let id = store.id.clone();
    txn.save_custom_key_store(store);
    txn.commit().await?;
    Ok(CreateCustomKeyStoreResponse {
        custom_key_store_id: id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCustomKeyStoresRequest {
    custom_key_store_id: Option<String>,
    custom_key_store_name: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksProxyConfiguration {
    connectivity: XksProxyConnectivity,
    access_key_id: String,
    uri_endpoint: String,
    uri_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_endpoint_service_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_endpoint_service_owner: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomKeyStoresListEntry {
    custom_key_store_id: String,
    custom_key_store_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_hsm_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_anchor_certificate: Option<String>,
    connection_state: ConnectionState,
    creation_date: Timestamp,
    custom_key_store_type: CustomKeyStoreType,
    #[serde(skip_serializing_if = "Option::is_none")]
    xks_proxy_configuration: Option<XksProxyConfiguration>,
}

impl CustomKeyStoresListEntry {
    fn of(store: &CustomKeyStore) -> Self {
        Self {
            custom_key_store_id: store.id.clone(),
            custom_key_store_name: store.name.clone(),
            cloud_hsm_cluster_id: store.cloud_hsm_cluster_id.clone(),
            trust_anchor_certificate: store.trust_anchor_certificate.clone(),
            connection_state: store.state,
            creation_date: store.created_at,
            custom_key_store_type: store.kind,
            xks_proxy_configuration: store.xks.as_ref().map(|x| XksProxyConfiguration {
                connectivity: x.connectivity,
                access_key_id: x.access_key_id.clone(),
                uri_endpoint: x.uri_endpoint.clone(),
                uri_path: x.uri_path.clone(),
                vpc_endpoint_service_name: x.vpc_endpoint_service_name.clone(),
                vpc_endpoint_service_owner: x.vpc_endpoint_service_owner.clone(),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCustomKeyStoresResponse {
    custom_key_stores: Vec<CustomKeyStoresListEntry>,
    #[serde(flatten)]
    page: PageInfo,
}

/// All stores in id order, or the one named by id or by name.
pub async fn describe_custom_key_stores(
    ctx: Ctx,
    req: DescribeCustomKeyStoresRequest,
) -> Result<DescribeCustomKeyStoresResponse> {
    if req.custom_key_store_id.is_some() && req.custom_key_store_name.is_some() {
        return Err(KmsError::validation(
            "Specify either a CustomKeyStoreId or a CustomKeyStoreName, but not both.",
        ));
    }
    let stores = ctx.svc.store.custom_key_stores(&ctx.scope);
    let wanted: Vec<_> = stores
        .iter()
        .filter(|s| {
            req.custom_key_store_id
                .as_ref()
                .is_none_or(|id| &s.id == id)
        })
        .filter(|s| {
            req.custom_key_store_name
                .as_ref()
                .is_none_or(|n| &s.name == n)
        })
        .collect();
    if wanted.is_empty()
        && (req.custom_key_store_id.is_some() || req.custom_key_store_name.is_some())
    {
        return Err(error(ErrorCode::CustomKeyStoreNotFound));
    }
    let from = paging::marker(req.marker.as_deref(), |m| stores.iter().any(|s| s.id == m))?;
    let limit = paging::page_size(req.limit, 100, 1000);
    let mut rest = wanted.into_iter().filter(|s| s.id.as_str() >= from);
    let page: Vec<_> = rest
        .by_ref()
        .take(limit)
        .map(|s| CustomKeyStoresListEntry::of(s))
        .collect();
    Ok(DescribeCustomKeyStoresResponse {
        custom_key_stores: page,
        page: PageInfo::new(rest.next().map(|s| s.id.clone())),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoreIdRequest {
    custom_key_store_id: String,
}

/// Starts connecting: CONNECTING, then CONNECTED a moment later on the schedule. A store
/// already connected or connecting stays so.
pub async fn connect_custom_key_store(ctx: Ctx, req: StoreIdRequest) -> Result<Empty> {
    let mut txn = ctx.svc.store.begin().await?;
    let store = store_by_id(&ctx, &req.custom_key_store_id)?;
    match store.state {
        ConnectionState::Connected | ConnectionState::Connecting => return Ok(Empty {}),
        ConnectionState::Failed | ConnectionState::Disconnecting => {
            return Err(invalid_state(&store, "disconnect it first"));
        }
        ConnectionState::Disconnected => {}
    }
    let mut store = (*store).clone();
    store.state = ConnectionState::Connecting;
    store.settles = Some((
        Timestamp(ctx.svc.now().millis() + CONNECT_MS),
        ConnectionState::Connected,
    ));
    txn.save_custom_key_store(store);
    txn.commit().await?;
    Ok(Empty {})
}

pub async fn disconnect_custom_key_store(ctx: Ctx, req: StoreIdRequest) -> Result<Empty> {
    let mut txn = ctx.svc.store.begin().await?;
    let store = store_by_id(&ctx, &req.custom_key_store_id)?;
    if matches!(
        store.state,
        ConnectionState::Disconnected | ConnectionState::Disconnecting
    ) {
        return Err(invalid_state(&store, "it is not connected"));
    }
    let mut store = (*store).clone();
    store.state = ConnectionState::Disconnected;
    store.settles = None;
    txn.save_custom_key_store(store);
    txn.commit().await?;
    Ok(Empty {})
}

/// Only a disconnected store without keys can go.
pub async fn delete_custom_key_store(ctx: Ctx, req: StoreIdRequest) -> Result<Empty> {
    let mut txn = ctx.svc.store.begin().await?;
    let store = store_by_id(&ctx, &req.custom_key_store_id)?;
    if store.state != ConnectionState::Disconnected {
        return Err(invalid_state(&store, "disconnect it first"));
    }
    if ctx.svc.store.keys_in_store(&ctx.scope, &store.id) > 0 {
        return Err(error(ErrorCode::CustomKeyStoreHasCmks));
    }
    txn.delete_custom_key_store(&store);
    txn.commit().await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateCustomKeyStoreRequest {
    custom_key_store_id: String,
    new_custom_key_store_name: Option<String>,
    key_store_password: Option<IgnoredAny>,
    cloud_hsm_cluster_id: Option<String>,
    #[serde(flatten)]
    xks: XksMembers,
}

/// A connected store may change only its name (and, for an external key store, its
/// proxy credential and path); everything else needs it disconnected.
pub async fn update_custom_key_store(ctx: Ctx, req: UpdateCustomKeyStoreRequest) -> Result<Empty> {
    let mut txn = ctx.svc.store.begin().await?;
    let current = store_by_id(&ctx, &req.custom_key_store_id)?;
    let kind = current.kind;
    let mut store = (*current).clone();
    if let Some(name) = req.new_custom_key_store_name {
        store.name = name;
    }
    let offline_change = match kind {
        CustomKeyStoreType::AwsCloudHsm => {
            not_for(req.xks.given(), "XksProxy configuration", kind)?;
            if let Some(cluster) = req.cloud_hsm_cluster_id {
                store.cloud_hsm_cluster_id = Some(cluster);
            }
            store.cloud_hsm_cluster_id != current.cloud_hsm_cluster_id
                || req.key_store_password.is_some()
        }
        CustomKeyStoreType::ExternalKeyStore => {
            not_for(
                req.cloud_hsm_cluster_id.is_some(),
                "CloudHsmClusterId",
                kind,
            )?;
            not_for(req.key_store_password.is_some(), "KeyStorePassword", kind)?;
            let old = current
                .xks
                .clone()
                .ok_or_else(|| KmsError::internal("an external key store without its proxy"))?;
            let xks = req.xks;
            let connectivity = xks.xks_proxy_connectivity.unwrap_or(old.connectivity);
            // A public endpoint names no endpoint service; a VPC one keeps its own.
            let vpc_endpoint_service_name = match connectivity {
                XksProxyConnectivity::VpcEndpointService => xks
                    .xks_proxy_vpc_endpoint_service_name
                    .or(old.vpc_endpoint_service_name.clone()),
                XksProxyConnectivity::PublicEndpoint => xks.xks_proxy_vpc_endpoint_service_name,
            };
            let proxy = xks_proxy(
                connectivity,
                xks.xks_proxy_authentication_credential
                    .map_or(old.access_key_id.clone(), |c| c.access_key_id),
                xks.xks_proxy_uri_endpoint
                    .unwrap_or(old.uri_endpoint.clone()),
                xks.xks_proxy_uri_path.unwrap_or(old.uri_path.clone()),
                vpc_endpoint_service_name,
                xks.xks_proxy_vpc_endpoint_service_owner
                    .or(old.vpc_endpoint_service_owner.clone()),
                &ctx.scope,
            )?;
            let offline = proxy.connectivity != old.connectivity
                || proxy.uri_endpoint != old.uri_endpoint
                || proxy.vpc_endpoint_service_name != old.vpc_endpoint_service_name
                || proxy.vpc_endpoint_service_owner != old.vpc_endpoint_service_owner;
            store.xks = Some(proxy);
            offline
        }
    };
    if offline_change && current.state != ConnectionState::Disconnected {
        return Err(invalid_state(
            &current,
            "disconnect it before changing this setting",
        ));
    }
    check_unique(&store, &ctx.svc.store.custom_key_stores(&ctx.scope))?;
    txn.save_custom_key_store(store);
    txn.commit().await?;
    Ok(Empty {})
}

/// The tie of a new key to the store CreateKey names: the store exists and is connected,
/// the key is a symmetric encryption key of the store's origin, and an external key store
/// key names its external key (not yet used by another key of the store).
pub fn link_new_key(
    ctx: &Ctx,
    store_id: &str,
    spec: KeySpec,
    usage: KeyUsage,
    origin: Option<Origin>,
    multi_region: bool,
    xks_key_id: Option<String>,
) -> Result<(StoreLink, Origin)> {
    let store = store_by_id(ctx, store_id)?;
    let store_origin = match store.kind {
        CustomKeyStoreType::AwsCloudHsm => Origin::AwsCloudHsm,
        CustomKeyStoreType::ExternalKeyStore => Origin::ExternalKeyStore,
    };
    if origin.is_some_and(|o| o != store_origin) {
        return Err(KmsError::unsupported(format!(
            "A key in custom key store {} must have Origin {store_origin}.",
            store.id
        )));
    }
    if spec != KeySpec::SymmetricDefault || usage != KeyUsage::EncryptDecrypt || multi_region {
        return Err(KmsError::unsupported(
            "A custom key store holds only single-Region symmetric encryption keys.",
        ));
    }
    let xks_key_id = match (store.kind, xks_key_id) {
        (CustomKeyStoreType::ExternalKeyStore, None) => {
            return Err(KmsError::validation(
                "XksKeyId is required for a key in an external key store.",
            ));
        }
        (CustomKeyStoreType::AwsCloudHsm, Some(_)) => {
            return Err(KmsError::unsupported(
                "XksKeyId is only valid for a key with Origin EXTERNAL_KEY_STORE.",
            ));
        }
        (_, xks) => xks,
    };
    if store.state != ConnectionState::Connected {
        return Err(invalid_state(
            &store,
            "keys can be created only in a connected store",
        ));
    }
    Ok((
        StoreLink {
            store_id: store.id.clone(),
            xks_key_id,
            shared: store.shared.clone(),
        },
        store_origin,
    ))
}

/// XksKeyAlreadyInUseException if another key of the store uses the external key.
pub fn check_xks_key_free(ctx: &Ctx, link: &StoreLink) -> Result<()> {
    let Some(xks) = &link.xks_key_id else {
        return Ok(());
    };
    if ctx
        .svc
        .store
        .xks_key_in_use(&ctx.scope, &link.store_id, xks)
    {
        return Err(error(ErrorCode::XksKeyAlreadyInUse));
    }
    Ok(())
}
