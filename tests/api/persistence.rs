use aws_sdk_kms::types::Tag;

use crate::common::{create_key, describe, encrypt, list_rotations, spawn};

#[tokio::test]
async fn restart_keeps_keys_aliases_tags_policies_and_old_ciphertexts() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let disabled = create_key(&kms).await;
    kms.disable_key().key_id(&disabled).send().await.unwrap();
    kms.create_alias()
        .alias_name("alias/kept")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    kms.tag_resource()
        .key_id(&id)
        .tags(Tag::builder().tag_key("a").tag_value("1").build().unwrap())
        .tags(Tag::builder().tag_key("b").tag_value("2").build().unwrap())
        .send()
        .await
        .unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}"#;
    kms.put_key_policy()
        .key_id(&id)
        .policy(policy)
        .send()
        .await
        .unwrap();
    kms.schedule_key_deletion()
        .key_id(&disabled)
        .send()
        .await
        .unwrap();
    let blob = encrypt(&kms, "alias/kept", "survives", &[("k", "v")]).await;
    let managed = describe(&kms, "alias/aws/s3").await;

    let t = t.restart().await;
    let kms = t.client();

    let plain = kms
        .decrypt()
        .ciphertext_blob(blob)
        .encryption_context("k", "v")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"survives");
    let m = describe(&kms, "alias/kept").await;
    assert_eq!(m.key_id, id);
    let tags = kms.list_resource_tags().key_id(&id).send().await.unwrap();
    let tags: Vec<_> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(tags, [("a", "1"), ("b", "2")]);
    let got = kms.get_key_policy().key_id(&id).send().await.unwrap();
    assert_eq!(got.policy(), Some(policy));
    let d = describe(&kms, &disabled).await;
    assert_eq!(
        d.key_state,
        Some(aws_sdk_kms::types::KeyState::PendingDeletion)
    );
    assert_eq!(d.pending_deletion_window_in_days, Some(30));
    let again = describe(&kms, "alias/aws/s3").await;
    assert_eq!(again.key_id, managed.key_id);
}

/// A key's material and tags are rewritten whole when it changes, so a key edited after
/// others were created has its rows after theirs: start-up must still give every key its
/// own rows, in their own order.
#[tokio::test]
async fn rows_written_after_other_keys_still_reach_their_key() {
    let t = spawn().await;
    let kms = t.client();
    let first = create_key(&kms).await;
    let before = encrypt(&kms, &first, "before rotation", &[]).await;
    let others = [create_key(&kms).await, create_key(&kms).await];
    kms.rotate_key_on_demand()
        .key_id(&first)
        .send()
        .await
        .unwrap();
    let after = encrypt(&kms, &first, "after rotation", &[]).await;
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    for (key, value) in [(&first, "1"), (&others[1], "2"), (&others[0], "3")] {
        kms.tag_resource()
            .key_id(key)
            .tags(tag("k", value))
            .tags(tag("j", value))
            .send()
            .await
            .unwrap();
    }

    let t = t.restart().await;
    let kms = t.client();

    let arn = describe(&kms, &first).await.arn;
    for (blob, plaintext) in [(before, "before rotation"), (after, "after rotation")] {
        let plain = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
        assert_eq!(plain.plaintext.unwrap().as_ref(), plaintext.as_bytes());
        assert_eq!(plain.key_id, arn);
    }
    assert_eq!(list_rotations(&kms, &first, None).await.len(), 1);
    for (key, value) in [(&first, "1"), (&others[1], "2"), (&others[0], "3")] {
        let tags = kms.list_resource_tags().key_id(key).send().await.unwrap();
        let tags: Vec<_> = tags
            .tags()
            .iter()
            .map(|t| (t.tag_key(), t.tag_value()))
            .collect();
        assert_eq!(tags, [("k", value), ("j", value)]);
    }
    for key in &others {
        assert!(list_rotations(&kms, key, None).await.is_empty());
        encrypt(&kms, key, "usable", &[]).await;
    }
}

/// A key that keeps its account's default policy stores it as "" and reads back the
/// default of its own account, also when rows of two accounts and two partitions
/// alternate; a key whose policy was changed keeps its text.
#[tokio::test]
async fn default_policies_read_back_as_their_own_accounts() {
    let t = spawn().await;
    let scopes = [
        ("111122223333", "us-east-1", "arn:aws:"),
        ("444455556666", "us-east-1", "arn:aws:"),
        ("444455556666", "cn-north-1", "arn:aws-cn:"),
    ];
    let mut keys = Vec::new();
    for _ in 0..2 {
        for (account, region, partition) in scopes {
            let kms = t.client_for(account, region);
            let id = create_key(&kms).await;
            let policy = kms.get_key_policy().key_id(&id).send().await.unwrap();
            let policy = policy.policy.unwrap();
            assert!(
                policy.contains(&format!("{partition}iam::{account}:root")),
                "{policy}"
            );
            keys.push((account, region, id, policy));
        }
    }
    let custom = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}"#;
    let (account, region, changed, _) = &mut keys[1];
    t.client_for(account, region)
        .put_key_policy()
        .key_id(changed.as_str())
        .policy(custom)
        .send()
        .await
        .unwrap();
    keys[1].3 = custom.to_owned();

    let dir = t.stop_keeping_data().await;
    let url = format!("sqlite://{}", dir.join("trent.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let blank: i64 = sqlx::query_scalar("SELECT count(*) FROM keys WHERE policy = ''")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(blank, 5);

    let t = crate::common::spawn_in(dir).await;
    for (account, region, id, policy) in &keys {
        let kms = t.client_for(account, region);
        let got = kms.get_key_policy().key_id(id).send().await.unwrap();
        assert_eq!(
            got.policy.as_deref(),
            Some(policy.as_str()),
            "{account} {region}"
        );
    }
}

#[tokio::test]
async fn a_second_server_cannot_open_a_database_in_use() {
    let t = spawn().await;
    let Err(e) = trent::start(crate::common::config(&t.data_dir, &[])).await else {
        panic!("two servers share one database");
    };
    assert!(e.to_string().contains("is another trent using it?"), "{e}");
    // The first one is unaffected.
    create_key(&t.client()).await;
}

/// A data directory written by trent 0.1 (before key material of every kind) opens in
/// this trent with every key, alias and tag, and its ciphertexts still decrypt.
#[tokio::test]
async fn a_data_directory_from_trent_0_1_opens_with_everything_intact() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/data-v0.1");
    let dir = crate::common::fresh_dir();
    std::fs::copy(format!("{fixture}/trent.db"), dir.join("trent.db")).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{fixture}/fixture.json")).unwrap())
            .unwrap();
    let t = crate::common::spawn_in(dir).await;
    let keys = &expected["keys"];
    let kms = t.client();
    let aliased = describe(&kms, "alias/fixture").await;
    assert_eq!(aliased.key_id, keys["aliased"].as_str().unwrap());
    assert_eq!(aliased.description(), Some("fixture key one"));
    assert!(aliased.current_key_material_id().is_some());
    let tags = kms
        .list_resource_tags()
        .key_id(&aliased.key_id)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!((tags[0].tag_key(), tags[0].tag_value()), ("team", "core"));
    let state = |m: aws_sdk_kms::types::KeyMetadata| m.key_state.unwrap().as_str().to_owned();
    assert_eq!(
        state(describe(&kms, keys["disabled"].as_str().unwrap()).await),
        "Disabled"
    );
    assert_eq!(
        state(describe(&kms, keys["external"].as_str().unwrap()).await),
        "PendingImport"
    );
    let mrk = describe(&kms, keys["multi_region"].as_str().unwrap()).await;
    assert!(mrk.key_id.starts_with("mrk-") && mrk.multi_region == Some(true));
    // The disabled key's ciphertext opens once it is enabled again.
    kms.enable_key()
        .key_id(keys["disabled"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    for c in expected["ciphertexts"].as_array().unwrap() {
        let kms = t.client_for("test", c["region"].as_str().unwrap());
        let blob = base64_simd::STANDARD
            .decode_to_vec(c["ciphertext"].as_str().unwrap())
            .unwrap();
        let mut request = kms
            .decrypt()
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob));
        for (k, v) in c["context"].as_object().unwrap() {
            request = request.encryption_context(k, v.as_str().unwrap());
        }
        let out = request.send().await.unwrap();
        assert_eq!(
            out.plaintext.unwrap().as_ref(),
            c["plaintext"].as_str().unwrap().as_bytes()
        );
        assert_eq!(out.key_material_id.map(|m| m.len()), Some(64));
    }
    // And the upgraded keys keep working.
    let blob = encrypt(&kms, "alias/fixture", "after the upgrade", &[]).await;
    let out = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"after the upgrade");
}

/// Deletions scheduled before a restart happen after it, when their date passes, and
/// stay done; a cancelled one never happens.
#[tokio::test]
async fn scheduled_deletions_survive_a_restart_and_happen_once() {
    let t = spawn().await;
    let kms = t.client();
    let doomed = create_key(&kms).await;
    let spared = create_key(&kms).await;
    let kept = create_key(&kms).await;
    for id in [&doomed, &spared] {
        kms.schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(7)
            .send()
            .await
            .unwrap();
    }
    kms.cancel_key_deletion()
        .key_id(&spared)
        .send()
        .await
        .unwrap();
    let t = t.restart().await;
    t.advance_clock(8 * 86_400).await;
    let kms = t.client();
    let (code, _) = crate::common::err(kms.describe_key().key_id(&doomed).send().await);
    assert_eq!(code, "NotFoundException");
    let t = t.restart().await;
    let kms = t.client();
    let (code, _) = crate::common::err(kms.describe_key().key_id(&doomed).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        describe(&kms, &spared).await.key_state.unwrap().as_str(),
        "Disabled"
    );
    describe(&kms, &kept).await;
}

/// A data directory written by trent 0.2 (migrations 0001–0008: a key's metadata in
/// columns, its material and tags in tables of their own) answers every read as trent 0.2
/// answered it once migration 0009 has made each key one row:
/// keys of every spec and origin, imported, rotated (on demand and automatically) and
/// deleted material, multi-Region keys, custom key stores, grants, tags, policies and
/// aliases, in two accounts and three Regions. `tests/fixtures/data-v0.2/make.py` built
/// the database with trent 0.2 and recorded its answers in `calls.json`, each checked to
/// be one that trent gives again until 2050.
#[tokio::test]
async fn a_data_directory_from_trent_0_2_answers_every_read_as_before() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/data-v0.2");
    let dir = crate::common::fresh_dir();
    std::fs::copy(format!("{fixture}/trent.db"), dir.join("trent.db")).unwrap();
    let calls: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{fixture}/calls.json")).unwrap())
            .unwrap();
    let t = crate::common::spawn_in(dir).await;
    for (i, call) in calls.iter().enumerate() {
        let text = |field: &str| call[field].as_str().unwrap();
        let (op, access_key, region) = (text("op"), text("access_key"), text("region"));
        let body = call["body"].to_string();
        let got = crate::common::kms_raw_as(&t, access_key, region, op, &body).await;
        let name = format!("call {i}: {op} as {access_key} in {region} with {body}");
        assert_eq!(
            Some(u64::from(got.status)),
            call["status"].as_u64(),
            "{name}: {}",
            got.text()
        );
        assert_eq!(got.json(), call["response"], "{name}");
    }

    // The upgraded keys keep working, and what is written to them now stays.
    let kms = t.client();
    let key = describe(&kms, "alias/fixture/plain").await.key_id;
    let blob = encrypt(&kms, &key, "after the upgrade", &[("k", "v")]).await;
    kms.tag_resource()
        .key_id(&key)
        .tags(
            Tag::builder()
                .tag_key("upgraded")
                .tag_value("yes")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let t = t.restart().await;
    let kms = t.client();
    let out = kms
        .decrypt()
        .ciphertext_blob(blob)
        .encryption_context("k", "v")
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"after the upgrade");
    let tags = kms.list_resource_tags().key_id(&key).send().await.unwrap();
    let tags: Vec<_> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(
        tags,
        [
            ("zeta", "first added"),
            ("alpha", "changed in place"),
            ("Mid Key", "spaces, ünïcode and 🔒"),
            ("added", "last"),
            ("upgraded", "yes"),
        ]
    );
}
