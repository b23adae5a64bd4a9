//! Key rotation through the AWS SDK for Rust: settings, on-demand rotation and its limit,
//! the rotation history, automatic rotation on the clock (and across a restart), and
//! AWS's refusals.

use aws_sdk_kms::Client;
use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{IncludeKeyMaterial, KeySpec, KeyUsageType, RotationType};

use crate::common::{create_key, describe, encrypt, err, list_rotations, spawn};

const DAY: i64 = 86_400;

async fn rotation_status(kms: &Client, key: &str) -> GetKeyRotationStatusOutput {
    kms.get_key_rotation_status()
        .key_id(key)
        .send()
        .await
        .unwrap()
}

/// A new symmetric key rotating every 90 days.
async fn quarterly_key(kms: &Client) -> String {
    let key = create_key(kms).await;
    kms.enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    key
}

#[tokio::test]
async fn rotation_settings_and_status() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;
    let arn = describe(&kms, &key).await.arn.unwrap();

    let status = rotation_status(&kms, &key).await;
    assert!(!status.key_rotation_enabled);
    assert_eq!(status.key_id.as_deref(), Some(arn.as_str()));
    assert!(status.rotation_period_in_days.is_none() && status.next_rotation_date.is_none());

    // Default period: 365 days from now.
    kms.enable_key_rotation().key_id(&key).send().await.unwrap();
    let status = rotation_status(&kms, &key).await;
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(365));
    let next = status.next_rotation_date.unwrap().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (next - now - 365 * DAY).abs() < 60,
        "next {next}, now {now}"
    );

    // A new period counts from the same start.
    kms.enable_key_rotation()
        .key_id(&arn)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let status = rotation_status(&kms, &key).await;
    assert_eq!(status.rotation_period_in_days, Some(90));
    assert_eq!(status.next_rotation_date.unwrap().secs(), next - 275 * DAY);

    // The model's range, in AWS's words.
    let (code, message) = err(kms
        .enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(89)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value greater than or equal to 90"
    );

    // Pending deletion reports rotation off; cancelling brings it back.
    kms.schedule_key_deletion()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let status = rotation_status(&kms, &key).await;
    assert!(!status.key_rotation_enabled);
    let (code, message) = err(kms.enable_key_rotation().key_id(&key).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{arn} is pending deletion."));
    kms.cancel_key_deletion().key_id(&key).send().await.unwrap();
    let status = rotation_status(&kms, &key).await;
    assert!(status.key_rotation_enabled);

    // Disabled (cancelling left it so): no changes to the setting.
    let (code, message) = err(kms.disable_key_rotation().key_id(&key).send().await);
    assert_eq!(code, "DisabledException");
    assert_eq!(message, format!("{arn} is disabled."));
    kms.enable_key().key_id(&key).send().await.unwrap();
    kms.disable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let status = rotation_status(&kms, &key).await;
    assert!(!status.key_rotation_enabled && status.rotation_period_in_days.is_none());
}

#[tokio::test]
async fn keys_that_cannot_rotate_are_refused_as_aws_refuses_them() {
    let t = spawn().await;
    let kms = t.client();
    let signing = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let hmac = kms
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    for key in [&signing.key_id, &hmac.key_id] {
        // Reported as off (Terraform reads this for every key it manages).
        let status = rotation_status(&kms, key).await;
        assert!(!status.key_rotation_enabled);
        for (code, message) in [
            err(kms.enable_key_rotation().key_id(key).send().await),
            err(kms.rotate_key_on_demand().key_id(key).send().await),
            err(kms.list_key_rotations().key_id(key).send().await),
        ] {
            assert_eq!(
                (code.as_str(), message.as_str()),
                ("UnsupportedOperationException", "")
            );
        }
    }

    // A disabled key answers with its state before its spec.
    kms.disable_key()
        .key_id(&signing.key_id)
        .send()
        .await
        .unwrap();
    let (code, message) = err(kms
        .rotate_key_on_demand()
        .key_id(&signing.key_id)
        .send()
        .await);
    assert_eq!(code, "DisabledException");
    assert_eq!(message, format!("{} is disabled.", signing.arn.unwrap()));

    let external = kms
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let arn = external.arn.unwrap();
    let (code, message) = err(kms
        .enable_key_rotation()
        .key_id(&external.key_id)
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
    assert_eq!(
        message,
        format!("{arn} origin is EXTERNAL which is not valid for this operation.")
    );
    let (code, message) = err(kms
        .rotate_key_on_demand()
        .key_id(&external.key_id)
        .send()
        .await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{arn} is pending import."));

    let missing = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555";
    let (code, message) = err(kms.rotate_key_on_demand().key_id(missing).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Key '{missing}' does not exist"));
}

#[tokio::test]
async fn on_demand_rotation_keeps_old_ciphertexts_and_has_a_limit() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;
    let first = describe(&kms, &key).await;
    let arn = first.arn.clone().unwrap();
    let m1 = first.current_key_material_id.unwrap();
    let before = encrypt(&kms, &key, "before rotation", &[]).await;

    let rotated = kms
        .rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.key_id.as_deref(), Some(arn.as_str()));
    let m2 = describe(&kms, &key).await.current_key_material_id.unwrap();
    assert_ne!(m1, m2);
    assert_eq!(m2.len(), 64);

    // New ciphertexts use the new material; old ones still decrypt, each reporting its own.
    let after = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("after rotation"))
        .send()
        .await
        .unwrap();
    for (blob, plaintext, material) in [
        (before, "before rotation", &m1),
        (after.ciphertext_blob.unwrap(), "after rotation", &m2),
    ] {
        let out = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
        assert_eq!(out.plaintext.unwrap().as_ref(), plaintext.as_bytes());
        assert_eq!(out.key_material_id.as_deref(), Some(material.as_str()));
    }

    // The history: rotations only by default; the first material with ALL_KEY_MATERIAL.
    let listed = list_rotations(&kms, &key, None).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key_material_id.as_deref(), Some(m2.as_str()));
    assert_eq!(listed[0].rotation_type, Some(RotationType::OnDemand));
    assert!(listed[0].rotation_date.is_some());
    assert_eq!(listed[0].key_id.as_deref(), Some(key.as_str()));
    assert_eq!(
        listed[0].key_material_state.as_ref().unwrap().as_str(),
        "CURRENT"
    );
    let all = list_rotations(&kms, &key, Some(IncludeKeyMaterial::AllKeyMaterial)).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].key_material_id.as_deref(), Some(m1.as_str()));
    assert_eq!(
        all[0].key_material_state.as_ref().unwrap().as_str(),
        "NON_CURRENT"
    );
    assert!(all[0].rotation_type.is_none() && all[0].rotation_date.is_none());
    assert!(all[0].import_state.is_none() && all[0].expiration_model.is_none());

    // 25 on-demand rotations per key, then AWS's words.
    for _ in 1..25 {
        kms.rotate_key_on_demand()
            .key_id(&key)
            .send()
            .await
            .unwrap();
    }
    let (code, message) = err(kms.rotate_key_on_demand().key_id(&key).send().await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        format!(
            "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {arn}"
        )
    );

    // Pages of two, by marker, end to end.
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_key_rotations()
            .key_id(&key)
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        seen.extend(
            page.rotations
                .unwrap()
                .into_iter()
                .map(|r| r.key_material_id.unwrap()),
        );
        if !page.truncated {
            break;
        }
        marker = page.next_marker;
    }
    assert_eq!(seen.len(), 25);
    let (code, _) = err(kms
        .list_key_rotations()
        .key_id(&key)
        .marker("forged")
        .send()
        .await);
    assert_eq!(code, "InvalidMarkerException");
}

#[tokio::test]
async fn automatic_rotation_happens_on_the_clock_once_per_period() {
    let t = spawn().await;
    let kms = t.client();
    let key = quarterly_key(&kms).await;
    let first = describe(&kms, &key).await.current_key_material_id.unwrap();
    let old = encrypt(&kms, &key, "quarterly", &[]).await;
    let next = rotation_status(&kms, &key)
        .await
        .next_rotation_date
        .unwrap()
        .secs();

    t.advance_clock(89 * DAY).await;
    assert_eq!(
        describe(&kms, &key).await.current_key_material_id.unwrap(),
        first
    );

    // Days 90 and 180 pass: two automatic rotations, dated when they fell due.
    t.advance_clock(92 * DAY).await;
    let rotations = list_rotations(&kms, &key, None).await;
    assert_eq!(rotations.len(), 2);
    assert!(
        rotations
            .iter()
            .all(|r| r.rotation_type == Some(RotationType::Automatic))
    );
    assert_eq!(rotations[0].rotation_date.unwrap().secs(), next);
    assert_eq!(rotations[1].rotation_date.unwrap().secs(), next + 90 * DAY);
    let status = rotation_status(&kms, &key).await;
    assert_eq!(status.next_rotation_date.unwrap().secs(), next + 180 * DAY);
    assert_ne!(
        describe(&kms, &key).await.current_key_material_id.unwrap(),
        first
    );
    let out = kms.decrypt().ciphertext_blob(old).send().await.unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"quarterly");
    assert_eq!(out.key_material_id.as_deref(), Some(first.as_str()));

    // On-demand rotation does not move the automatic schedule.
    kms.rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let status = rotation_status(&kms, &key).await;
    assert_eq!(status.next_rotation_date.unwrap().secs(), next + 180 * DAY);

    // A disabled key does not rotate; enabled again after its date, it rotates at once.
    kms.disable_key().key_id(&key).send().await.unwrap();
    t.advance_clock(100 * DAY).await;
    let count = |t: &crate::common::TestServer| {
        let kms = t.client();
        let key = key.clone();
        async move { list_rotations(&kms, &key, None).await.len() }
    };
    assert_eq!(count(&t).await, 3);
    kms.enable_key().key_id(&key).send().await.unwrap();
    t.advance_clock(1).await;
    assert_eq!(count(&t).await, 4);
}

#[tokio::test]
async fn a_rotation_due_after_a_restart_still_happens_once() {
    let t = spawn().await;
    let kms = t.client();
    let key = quarterly_key(&kms).await;
    let t = t.restart().await;
    let kms = t.client();
    t.advance_clock(91 * DAY).await;
    let rotations = list_rotations(&kms, &key, None).await;
    assert_eq!(rotations.len(), 1);
    // Written before it was acknowledged: the next start (real time again) sees it too,
    // and does not rotate again.
    let t = t.restart().await;
    let kms = t.client();
    let rotations = list_rotations(&kms, &key, None).await;
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].rotation_type, Some(RotationType::Automatic));
}

#[tokio::test]
async fn aws_managed_keys_rotate_every_year_and_their_settings_are_not_the_customers() {
    let t = spawn().await;
    let kms = t.client();
    let key = describe(&kms, "alias/aws/s3").await;
    let status = rotation_status(&kms, &key.key_id).await;
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(365));
    let (code, _) = err(kms.disable_key_rotation().key_id(&key.key_id).send().await);
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = err(kms.rotate_key_on_demand().key_id(&key.key_id).send().await);
    assert_eq!(code, "AccessDeniedException");
    t.advance_clock(366 * DAY).await;
    let rotations = list_rotations(&kms, &key.key_id, None).await;
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].rotation_type, Some(RotationType::Automatic));
}
