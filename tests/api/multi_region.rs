//! Multi-Region keys through the AWS SDK for Rust: replicas (Creating, then Enabled; the
//! same material in each Region), the configuration DescribeKey shows, shared rotation,
//! UpdatePrimaryRegion, PendingReplicaDeletion, imported material per Region, and the
//! errors AWS recorded.

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    AlgorithmSpec, KeyState, MultiRegionKeyType, OriginType, Tag, WrappingKeySpec,
};

use crate::common::{TestServer, describe, encrypt, err, list_rotations, spawn};
use crate::import::{import, parameters};

const DAY: i64 = 86_400;
const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

async fn multi_region_key(kms: &Client) -> (String, String) {
    let key = kms
        .create_key()
        .multi_region(true)
        .description("shared")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    (key.key_id, key.arn.unwrap())
}

/// A replica of `id` in WEST, settled (Creating lasts a moment of trent's clock).
async fn replicate_to_west(t: &TestServer, east: &Client, id: &str) {
    east.replicate_key()
        .key_id(id)
        .replica_region(WEST)
        .send()
        .await
        .unwrap();
    t.advance_clock(2).await;
}

#[tokio::test]
async fn a_replica_shares_id_and_material_and_decrypts_the_primarys_ciphertexts() {
    let t = spawn().await;
    let east = t.client_for("test", EAST);
    let west = t.client_for("test", WEST);
    let (id, arn) = multi_region_key(&east).await;
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    let created = describe(&east, &id).await;
    let config = created.multi_region_configuration.unwrap();
    assert_eq!(
        config.multi_region_key_type,
        Some(MultiRegionKeyType::Primary)
    );
    assert_eq!(
        config.primary_key.unwrap().arn.as_deref(),
        Some(arn.as_str())
    );
    assert!(config.replica_keys.unwrap().is_empty());
    let ciphertext = encrypt(&east, &id, "across regions", &[("app", "x")]).await;

    // Not there before replication: the caller's Region in the ARN.
    let (code, message) = err(west.describe_key().key_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        format!("Key 'arn:aws:kms:{WEST}:111122223333:key/{id}' does not exist")
    );

    let replicated = east
        .replicate_key()
        .key_id(&arn)
        .replica_region(WEST)
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("blue")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let replica = replicated.replica_key_metadata.unwrap();
    let replica_arn = format!("arn:aws:kms:{WEST}:111122223333:key/{id}");
    assert_eq!(replica.key_id, id);
    assert_eq!(replica.arn.as_deref(), Some(replica_arn.as_str()));
    assert_eq!(replica.key_state, Some(KeyState::Creating));
    assert!(!replica.enabled && replica.current_key_material_id.is_none());
    assert_eq!(replica.description.as_deref(), Some(""));
    assert!(replicated.replica_policy.unwrap().contains("key-default-1"));
    assert_eq!(replicated.replica_tags.unwrap()[0].tag_key, "team");
    let (code, message) = err(west
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{replica_arn} is creating."));

    // The primary lists its replica at once; the replica settles a moment later.
    let primary = describe(&east, &id)
        .await
        .multi_region_configuration
        .unwrap();
    assert_eq!(
        primary.replica_keys.unwrap()[0].region.as_deref(),
        Some(WEST)
    );
    t.advance_clock(2).await;
    let replica = describe(&west, &id).await;
    assert_eq!(replica.key_state, Some(KeyState::Enabled));
    let config = replica.multi_region_configuration.unwrap();
    assert_eq!(
        config.multi_region_key_type,
        Some(MultiRegionKeyType::Replica)
    );
    assert_eq!(config.primary_key.unwrap().region.as_deref(), Some(EAST));
    assert_eq!(
        replica.current_key_material_id,
        describe(&east, &id).await.current_key_material_id
    );

    // A ciphertext from one Region decrypts in the other.
    let out = west
        .decrypt()
        .ciphertext_blob(ciphertext)
        .encryption_context("app", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"across regions");
    assert_eq!(out.key_id.as_deref(), Some(replica_arn.as_str()));

    // A replica can't be replicated; a Region holds one replica.
    let (code, message) = err(west
        .replicate_key()
        .key_id(&id)
        .replica_region("ap-south-1")
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
    assert_eq!(
        message,
        format!("{replica_arn} is not a multi-region primary key.")
    );
    let (code, _) = err(east
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .send()
        .await);
    assert_eq!(code, "AlreadyExistsException");
    let single = crate::common::create_key(&east).await;
    let (code, _) = err(east
        .replicate_key()
        .key_id(&single)
        .replica_region(WEST)
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
}

#[tokio::test]
async fn rotation_of_the_primary_reaches_its_replicas() {
    let t = spawn().await;
    let east = t.client_for("test", EAST);
    let west = t.client_for("test", WEST);
    let (id, _) = multi_region_key(&east).await;
    replicate_to_west(&t, &east, &id).await;

    east.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    let rotated = describe(&east, &id).await.current_key_material_id;
    assert_eq!(describe(&west, &id).await.current_key_material_id, rotated);
    // A ciphertext under the new material, made in the replica's Region, opens in the
    // primary's.
    let blob = encrypt(&west, &id, "rotated", &[]).await;
    let out = east.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(out.key_material_id, rotated);

    // Rotation settings belong to the primary; the replica reports them.
    east.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let status = west
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(90));
    let replica_arn = describe(&west, &id).await.arn.unwrap();
    for (code, message) in [
        err(west.enable_key_rotation().key_id(&id).send().await),
        err(west.rotate_key_on_demand().key_id(&id).send().await),
    ] {
        assert_eq!(code, "UnsupportedOperationException");
        assert_eq!(
            message,
            format!("{replica_arn} is not a multi-region primary key.")
        );
    }

    // An automatic rotation of the primary happens once, and the replica has it too.
    t.advance_clock(91 * DAY).await;
    let automatic = describe(&east, &id).await.current_key_material_id;
    assert_ne!(automatic, rotated);
    assert_eq!(
        describe(&west, &id).await.current_key_material_id,
        automatic
    );
    assert_eq!(list_rotations(&west, &id, None).await.len(), 2);
}

#[tokio::test]
async fn the_primary_region_moves() {
    let t = spawn().await;
    let east = t.client_for("test", EAST);
    let west = t.client_for("test", WEST);
    let (id, arn) = multi_region_key(&east).await;
    east.replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .send()
        .await
        .unwrap();
    let (code, _) = err(east
        .update_primary_region()
        .key_id(&id)
        .primary_region(WEST)
        .send()
        .await);
    assert_eq!(
        code, "KMSInvalidStateException",
        "the replica is still being created"
    );
    t.advance_clock(2).await;
    let (code, _) = err(east
        .update_primary_region()
        .key_id(&id)
        .primary_region("ap-south-1")
        .send()
        .await);
    assert_eq!(code, "NotFoundException");

    east.update_primary_region()
        .key_id(&id)
        .primary_region(WEST)
        .send()
        .await
        .unwrap();
    assert_eq!(
        describe(&east, &id).await.key_state,
        Some(KeyState::Updating)
    );
    assert_eq!(
        describe(&west, &id).await.key_state,
        Some(KeyState::Updating)
    );
    t.advance_clock(2).await;
    let new_primary = describe(&west, &id).await;
    assert_eq!(new_primary.key_state, Some(KeyState::Enabled));
    let config = new_primary.multi_region_configuration.unwrap();
    assert_eq!(
        config.multi_region_key_type,
        Some(MultiRegionKeyType::Primary)
    );
    assert_eq!(
        config.replica_keys.unwrap()[0].arn.as_deref(),
        Some(arn.as_str())
    );
    let old = describe(&east, &id)
        .await
        .multi_region_configuration
        .unwrap();
    assert_eq!(old.multi_region_key_type, Some(MultiRegionKeyType::Replica));
    assert_eq!(old.primary_key.unwrap().region.as_deref(), Some(WEST));
    // Rotation is now the new primary's to run.
    west.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    let (code, _) = err(east.rotate_key_on_demand().key_id(&id).send().await);
    assert_eq!(code, "UnsupportedOperationException");
}

#[tokio::test]
async fn a_primary_with_replicas_is_deleted_after_them_even_across_a_restart() {
    let t = spawn().await;
    let east = t.client_for("test", EAST);
    let west = t.client_for("test", WEST);
    let (id, arn) = multi_region_key(&east).await;
    replicate_to_west(&t, &east, &id).await;

    let scheduled = east
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.key_state, Some(KeyState::PendingReplicaDeletion));
    assert!(scheduled.deletion_date.is_none());
    let (code, message) = err(east
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{arn} is pending replica deletion."));
    t.advance_clock(30 * DAY).await;
    assert_eq!(
        describe(&east, &id).await.key_state,
        Some(KeyState::PendingReplicaDeletion)
    );

    west.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let t = t.restart().await;
    let east = t.client_for("test", EAST);
    let west = t.client_for("test", WEST);
    // The clock starts from real time again: the replica's date is 37 days ahead.
    t.advance_clock(37 * DAY + 60).await;
    let (code, _) = err(west.describe_key().key_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    // The replica is gone: the primary's own window starts.
    let primary = describe(&east, &id).await;
    assert_eq!(primary.key_state, Some(KeyState::PendingDeletion));
    assert!(primary.deletion_date.is_some());
    assert!(
        primary
            .multi_region_configuration
            .unwrap()
            .replica_keys
            .unwrap()
            .is_empty()
    );
    t.advance_clock(7 * DAY + 60).await;
    let (code, _) = err(east.describe_key().key_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn imported_material_is_imported_into_each_region() {
    let t = spawn().await;
    let east = t.client_for("test", EAST);
    let west = t.client_for("test", WEST);
    let key = east
        .create_key()
        .multi_region(true)
        .origin(OriginType::External)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let (code, _) = err(east
        .replicate_key()
        .key_id(&key.key_id)
        .replica_region(WEST)
        .send()
        .await);
    assert_eq!(
        code, "KMSInvalidStateException",
        "nothing to replicate while pending import"
    );

    let material = [0x33; 32];
    let import = |kms: Client| {
        let id = key.key_id.clone();
        async move {
            let p = parameters(
                &kms,
                &id,
                AlgorithmSpec::RsaesOaepSha256,
                WrappingKeySpec::Rsa2048,
            )
            .await;
            import(&kms, &id, &p, &material).await.unwrap()
        }
    };
    let in_east = import(east.clone()).await;
    replicate_to_west(&t, &east, &key.key_id).await;
    assert_eq!(
        describe(&west, &key.key_id).await.key_state,
        Some(KeyState::PendingImport)
    );
    // The same bytes, imported in the other Region: the same material id.
    assert_eq!(import(west.clone()).await, in_east);
    let blob = encrypt(&east, &key.key_id, "imported twice", &[]).await;
    let out = west.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"imported twice");
}
