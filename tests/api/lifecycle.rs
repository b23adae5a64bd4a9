use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::KeyState;

use crate::common::{create_key, describe, err, kms_raw, spawn};

const DAY: i64 = 86_400;

#[tokio::test]
async fn state_machine_walk_ends_in_deletion() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{id}");
    kms.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let state = |s: Option<KeyState>| s.unwrap();

    kms.disable_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        state(describe(&kms, &id).await.key_state),
        KeyState::Disabled
    );
    let (code, message) = err(kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message),
        ("DisabledException", format!("{arn} is disabled."))
    );

    kms.enable_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        state(describe(&kms, &id).await.key_state),
        KeyState::Enabled
    );

    let (code, message) = err(kms.cancel_key_deletion().key_id(&id).send().await);
    assert_eq!(
        (code.as_str(), message),
        (
            "KMSInvalidStateException",
            format!("{arn} is not pending deletion.")
        )
    );

    let scheduled = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.key_id(), Some(arn.as_str()));
    assert_eq!(scheduled.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(scheduled.pending_window_in_days(), Some(7));
    let m = describe(&kms, &id).await;
    assert_eq!(state(m.key_state), KeyState::PendingDeletion);
    assert_eq!(m.pending_deletion_window_in_days, Some(7));
    let deletion = m.deletion_date.unwrap().secs();
    let created = m.creation_date.unwrap().secs();
    assert!((deletion - created - 7 * DAY).abs() < 60);

    let (code, message) = err(kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message),
        (
            "KMSInvalidStateException",
            format!("{arn} is pending deletion.")
        )
    );
    let (code, _) = err(kms.enable_key().key_id(&id).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    let (code, _) = err(kms.schedule_key_deletion().key_id(&id).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    let (code, _) = err(kms
        .create_alias()
        .alias_name("alias/late")
        .target_key_id(&id)
        .send()
        .await);
    assert_eq!(code, "KMSInvalidStateException");

    // Cancelling leaves the key Disabled, as AWS does.
    let cancelled = kms.cancel_key_deletion().key_id(&id).send().await.unwrap();
    assert_eq!(cancelled.key_id(), Some(arn.as_str()));
    let m = describe(&kms, &id).await;
    assert_eq!(state(m.key_state), KeyState::Disabled);
    assert!(m.deletion_date.is_none());

    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    t.advance_clock(6 * DAY).await;
    assert_eq!(
        state(describe(&kms, &id).await.key_state),
        KeyState::PendingDeletion
    );
    t.advance_clock(DAY + 60).await;

    let (code, message) = err(kms.describe_key().key_id(&id).send().await);
    assert_eq!(
        (code.as_str(), message),
        ("NotFoundException", format!("Key '{arn}' does not exist"))
    );
    let (code, _) = err(kms.describe_key().key_id("alias/doomed").send().await);
    assert_eq!(code, "NotFoundException");
    let keys = kms.list_keys().send().await.unwrap();
    assert!(keys.keys().iter().all(|k| k.key_id() != Some(id.as_str())));
    let aliases = kms.list_aliases().send().await.unwrap();
    assert!(
        aliases
            .aliases()
            .iter()
            .all(|a| a.alias_name() != Some("alias/doomed"))
    );
    // The alias name is free again.
    let other = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&other)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn deletion_window_defaults_to_30_days_and_is_bounded() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    for days in [6, 31] {
        let (code, message) = err(kms
            .schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(days)
            .send()
            .await);
        assert_eq!(code, "ValidationException");
        assert_eq!(message, "PendingWindowInDays must be between 7 and 30");
    }
    let (code, message) = err(kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(366)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("Value '366' at 'pendingWindowInDays'"),
        "{message}"
    );
    let out = kms
        .schedule_key_deletion()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(out.pending_window_in_days(), Some(30));
    t.advance_clock(29 * DAY).await;
    kms.describe_key().key_id(&id).send().await.unwrap();
    t.advance_clock(DAY + 1).await;
    let (code, _) = err(kms.describe_key().key_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn clock_control_reports_and_can_be_turned_off() {
    let t = spawn().await;
    let before = crate::common::raw(&t, "GET", "/_trent/clock", &[], b"")
        .await
        .json();
    t.advance_clock(3600).await;
    let after = crate::common::raw(&t, "GET", "/_trent/clock", &[], b"")
        .await
        .json();
    assert_eq!(after["offsetSeconds"].as_f64(), Some(3600.0));
    assert!(after["now"].as_f64().unwrap() - before["now"].as_f64().unwrap() >= 3600.0);
    let bad = crate::common::raw(&t, "POST", "/_trent/clock", &[], b"{\"hours\": 1}").await;
    assert_eq!(bad.status, 400);

    let dir = crate::common::fresh_dir();
    let config = crate::common::config(&dir, &["--in-memory", "--test-controls", "false"]);
    let off = crate::common::start(config, dir).await;
    let response = crate::common::raw(
        &off,
        "POST",
        "/_trent/clock",
        &[],
        b"{\"advanceSeconds\": 1}",
    )
    .await;
    assert_eq!(response.status, 404);
    // The KMS API itself is unaffected.
    let response = kms_raw(&off, "ListKeys", "{}").await;
    assert_eq!(response.status, 200);
}
