use aws_sdk_kms::types::Tag;

use crate::common::{create_key, describe, encrypt, spawn};

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

#[tokio::test]
async fn a_second_server_cannot_open_a_database_in_use() {
    let t = spawn().await;
    let config = trent::Config::from_args([
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        t.data_dir.to_str().unwrap(),
    ])
    .unwrap();
    let Err(e) = trent::start(config).await else {
        panic!("two servers share one database");
    };
    assert!(e.to_string().contains("is another trent using it?"), "{e}");
    // The first one is unaffected.
    create_key(&t.client()).await;
}
