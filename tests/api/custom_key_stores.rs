//! Custom key stores through the AWS SDK for Rust: both kinds created with AWS's rules,
//! connected on the clock, keys that work while connected and are Unavailable while not
//! (back to their own state after), updates, deletion, and all of it across a restart.

use aws_sdk_kms::Client;
use aws_sdk_kms::types::{
    ConnectionStateType, CustomKeyStoreType, KeyState, OriginType,
    XksProxyAuthenticationCredentialType, XksProxyConnectivityType,
};

use crate::common::{describe, encrypt, err, spawn};

const CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";

async fn cloud_hsm_store(kms: &Client, name: &str, cluster: &str) -> String {
    kms.create_custom_key_store()
        .custom_key_store_name(name)
        .cloud_hsm_cluster_id(cluster)
        .trust_anchor_certificate(CERTIFICATE)
        .key_store_password("kmsuser-password")
        .send()
        .await
        .unwrap()
        .custom_key_store_id
        .unwrap()
}

fn credential() -> XksProxyAuthenticationCredentialType {
    XksProxyAuthenticationCredentialType::builder()
        .access_key_id("ABCDEFGHIJKLMNOPQRST")
        .raw_secret_access_key("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ")
        .build()
        .unwrap()
}

async fn connection(kms: &Client, id: &str) -> ConnectionStateType {
    kms.describe_custom_key_stores()
        .custom_key_store_id(id)
        .send()
        .await
        .unwrap()
        .custom_key_stores
        .unwrap()
        .remove(0)
        .connection_state
        .unwrap()
}

#[tokio::test]
async fn a_cloud_hsm_store_connects_holds_keys_and_goes_unavailable_when_disconnected() {
    let t = spawn().await;
    let kms = t.client();
    let store = cloud_hsm_store(&kms, "hsm", "cluster-2a23b4cdefg").await;
    assert!(store.starts_with("cks-") && store.len() == 21, "{store}");
    let listed = kms
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap()
        .custom_key_stores
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].custom_key_store_type,
        Some(CustomKeyStoreType::AwsCloudhsm)
    );
    assert_eq!(
        listed[0].cloud_hsm_cluster_id.as_deref(),
        Some("cluster-2a23b4cdefg")
    );
    assert_eq!(
        listed[0].connection_state,
        Some(ConnectionStateType::Disconnected)
    );

    // No keys until connected; connecting takes a moment.
    let create = || {
        kms.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::AwsCloudhsm)
            .send()
    };
    let (code, _) = err(create().await);
    assert_eq!(code, "CustomKeyStoreInvalidStateException");
    kms.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .unwrap();
    assert_eq!(
        connection(&kms, &store).await,
        ConnectionStateType::Connecting
    );
    t.advance_clock(2).await;
    assert_eq!(
        connection(&kms, &store).await,
        ConnectionStateType::Connected
    );

    let key = create().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.custom_key_store_id.as_deref(), Some(store.as_str()));
    assert_eq!(
        key.cloud_hsm_cluster_id.as_deref(),
        Some("cluster-2a23b4cdefg")
    );
    assert_eq!(key.origin, Some(OriginType::AwsCloudhsm));
    assert!(key.current_key_material_id.is_none());
    let blob = encrypt(&kms, &key.key_id, "in the hsm", &[]).await;
    // Only symmetric encryption keys, and no rotation.
    let (code, _) = err(kms
        .create_key()
        .custom_key_store_id(&store)
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
    let (code, _) = err(kms.enable_key_rotation().key_id(&key.key_id).send().await);
    assert_eq!(code, "UnsupportedOperationException");

    // Disconnected: Unavailable, and used keys fail; disabling still takes (on return).
    kms.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .unwrap();
    let arn = key.arn.unwrap();
    assert_eq!(
        describe(&kms, &key.key_id).await.key_state,
        Some(KeyState::Unavailable)
    );
    let (code, message) = err(kms.decrypt().ciphertext_blob(blob.clone()).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{arn} is unavailable."));
    kms.disable_key().key_id(&key.key_id).send().await.unwrap();
    assert_eq!(
        describe(&kms, &key.key_id).await.key_state,
        Some(KeyState::Unavailable)
    );
    let (code, _) = err(kms
        .delete_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreHasCMKsException");

    // Across a restart, connected again: the key's own state comes back.
    let t = t.restart().await;
    let kms = t.client();
    assert_eq!(
        describe(&kms, &key.key_id).await.key_state,
        Some(KeyState::Unavailable)
    );
    kms.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .unwrap();
    let t = t.restart().await;
    let kms = t.client();
    t.advance_clock(2).await;
    assert_eq!(
        describe(&kms, &key.key_id).await.key_state,
        Some(KeyState::Disabled)
    );
    kms.enable_key().key_id(&key.key_id).send().await.unwrap();
    let out = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"in the hsm");

    // A store with a key can't go; once the key is deleted and the store disconnected, it can.
    kms.schedule_key_deletion()
        .key_id(&key.key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let (code, _) = err(kms
        .delete_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreInvalidStateException");
    kms.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .unwrap();
    assert_eq!(
        describe(&kms, &key.key_id).await.key_state,
        Some(KeyState::PendingDeletion)
    );
    t.advance_clock(8 * 86_400).await;
    kms.delete_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .unwrap();
    let (code, message) = err(kms
        .describe_custom_key_stores()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreNotFoundException");
    assert!(
        message.starts_with("The request was rejected because KMS cannot find"),
        "{message}"
    );
}

#[tokio::test]
async fn store_rules_names_clusters_and_proxies_are_unique() {
    let t = spawn().await;
    let kms = t.client();
    let first = cloud_hsm_store(&kms, "one", "cluster-2a23b4cdefg").await;
    let (code, _) = err(kms
        .create_custom_key_store()
        .custom_key_store_name("one")
        .cloud_hsm_cluster_id("cluster-3a23b4cdefg")
        .trust_anchor_certificate(CERTIFICATE)
        .key_store_password("kmsuser-password")
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreNameInUseException");
    let (code, _) = err(kms
        .create_custom_key_store()
        .custom_key_store_name("two")
        .cloud_hsm_cluster_id("cluster-2a23b4cdefg")
        .trust_anchor_certificate(CERTIFICATE)
        .key_store_password("kmsuser-password")
        .send()
        .await);
    assert_eq!(code, "CloudHsmClusterInUseException");
    // The members of one kind are required; the other kind's are refused.
    let (code, _) = err(kms
        .create_custom_key_store()
        .custom_key_store_name("three")
        .send()
        .await);
    assert_eq!(code, "ValidationException");

    let xks = |name: &str, path: &str| {
        kms.create_custom_key_store()
            .custom_key_store_name(name)
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .xks_proxy_connectivity(XksProxyConnectivityType::PublicEndpoint)
            .xks_proxy_uri_endpoint("https://xks.example.com")
            .xks_proxy_uri_path(path)
            .xks_proxy_authentication_credential(credential())
            .send()
    };
    let external = xks("external", "/kms/xks/v1")
        .await
        .unwrap()
        .custom_key_store_id
        .unwrap();
    let (code, _) = err(xks("external-2", "/kms/xks/v1").await);
    assert_eq!(code, "XksProxyUriInUseException");
    xks("external-3", "/tenant/kms/xks/v1").await.unwrap();

    let described = kms
        .describe_custom_key_stores()
        .custom_key_store_name("external")
        .send()
        .await
        .unwrap()
        .custom_key_stores
        .unwrap();
    let proxy = described[0].xks_proxy_configuration.as_ref().unwrap();
    assert_eq!(proxy.access_key_id.as_deref(), Some("ABCDEFGHIJKLMNOPQRST"));
    assert_eq!(proxy.uri_path.as_deref(), Some("/kms/xks/v1"));
    assert!(described[0].cloud_hsm_cluster_id.is_none());

    // Keys in an external key store name their external key, once each.
    kms.connect_custom_key_store()
        .custom_key_store_id(&external)
        .send()
        .await
        .unwrap();
    t.advance_clock(2).await;
    let create = |xks_key: Option<&str>| {
        kms.create_key()
            .custom_key_store_id(&external)
            .origin(OriginType::ExternalKeyStore)
            .set_xks_key_id(xks_key.map(str::to_owned))
            .send()
    };
    let (code, _) = err(create(None).await);
    assert_eq!(code, "ValidationException");
    let key = create(Some("external-key-1"))
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        key.xks_key_configuration.unwrap().id.as_deref(),
        Some("external-key-1")
    );
    let (code, _) = err(create(Some("external-key-1")).await);
    assert_eq!(code, "XksKeyAlreadyInUseException");

    // Renaming works while connected; moving the proxy needs a disconnected store.
    kms.update_custom_key_store()
        .custom_key_store_id(&external)
        .new_custom_key_store_name("renamed")
        .send()
        .await
        .unwrap();
    let (code, _) = err(kms
        .update_custom_key_store()
        .custom_key_store_id(&external)
        .xks_proxy_uri_endpoint("https://elsewhere.example.com")
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreInvalidStateException");
    kms.disconnect_custom_key_store()
        .custom_key_store_id(&external)
        .send()
        .await
        .unwrap();
    kms.update_custom_key_store()
        .custom_key_store_id(&external)
        .xks_proxy_uri_endpoint("https://elsewhere.example.com")
        .send()
        .await
        .unwrap();
    let (code, _) = err(kms
        .disconnect_custom_key_store()
        .custom_key_store_id(&external)
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreInvalidStateException");
    kms.delete_custom_key_store()
        .custom_key_store_id(&first)
        .send()
        .await
        .unwrap();
}
