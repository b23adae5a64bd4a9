use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState, KeyUsageType, OriginType, Tag};

use crate::common::{create_key, describe, err, spawn};

#[tokio::test]
async fn create_key_reports_full_metadata_and_default_policy() {
    let t = spawn().await;
    let kms = t.client();
    let out = kms
        .create_key()
        .description("demo")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let m = out.key_metadata.unwrap();
    assert_eq!(m.aws_account_id.as_deref(), Some("111122223333"));
    assert_eq!(
        m.arn.as_deref(),
        Some(format!("arn:aws:kms:us-east-1:111122223333:key/{}", m.key_id).as_str())
    );
    assert_eq!(m.description.as_deref(), Some("demo"));
    assert!(m.enabled);
    assert_eq!(m.key_state, Some(KeyState::Enabled));
    assert_eq!(m.key_usage, Some(KeyUsageType::EncryptDecrypt));
    assert_eq!(m.key_spec, Some(KeySpec::SymmetricDefault));
    assert_eq!(m.origin, Some(OriginType::AwsKms));
    assert_eq!(m.key_manager, Some(KeyManagerType::Customer));
    assert_eq!(m.multi_region, Some(false));
    assert_eq!(m.encryption_algorithms().len(), 1);
    assert_eq!(
        m.current_key_material_id.as_ref().map(String::len),
        Some(64)
    );
    assert!(m.creation_date.is_some());

    let policy = kms.get_key_policy().key_id(&m.key_id).send().await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    assert_eq!(
        doc["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    assert_eq!(doc["Statement"][0]["Action"], "kms:*");
    let tags = kms
        .list_resource_tags()
        .key_id(&m.key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].tag_key(), "team");
}

#[tokio::test]
async fn multi_region_and_imported_keys() {
    let t = spawn().await;
    let kms = t.client();
    let m = kms
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(m.key_id.starts_with("mrk-") && m.key_id.len() == 36);
    let mr = m.multi_region_configuration.unwrap();
    assert_eq!(mr.primary_key.unwrap().region.as_deref(), Some("us-east-1"));

    let m = kms
        .create_key()
        .origin(OriginType::External)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state, Some(KeyState::PendingImport));
    assert!(!m.enabled);
    let (code, message) = err(kms
        .encrypt()
        .key_id(&m.key_id)
        .plaintext(aws_sdk_kms::primitives::Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{} is pending import.", m.arn.unwrap()));
}

#[tokio::test]
#[allow(deprecated)]
async fn create_key_rejections() {
    let t = spawn().await;
    let kms = t.client();
    let (code, _) = err(kms.create_key().policy("{not json").send().await);
    assert_eq!(code, "MalformedPolicyDocumentException");
    let (code, _) = err(kms
        .create_key()
        .custom_key_store_id("cks-1234567890abcdef0")
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreNotFoundException");
    let (code, message) = err(kms
        .create_key()
        .key_spec(KeySpec::SymmetricDefault)
        .customer_master_key_spec(aws_sdk_kms::types::CustomerMasterKeySpec::SymmetricDefault)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("KeySpec and CustomerMasterKeySpec"));
    let (code, _) = err(kms
        .create_key()
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    let (code, message) = err(kms.create_key().description("x".repeat(8193)).send().await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.ends_with("Member must have length less than or equal to 8192"),
        "{message}"
    );
}

#[tokio::test]
async fn describe_key_by_every_identifier_form() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{id}");
    kms.create_alias()
        .alias_name("alias/named")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    for form in [
        id.clone(),
        arn.clone(),
        "alias/named".to_owned(),
        "arn:aws:kms:us-east-1:111122223333:alias/named".to_owned(),
    ] {
        let m = describe(&kms, &form).await;
        assert_eq!(m.key_id, id, "{form}");
    }

    let (code, message) = err(kms.describe_key().key_id("not-a-key").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotFoundException", "Invalid keyId 'not-a-key'")
    );
    let missing = "11111111-2222-3333-4444-555555555555";
    let (code, message) = err(kms.describe_key().key_id(missing).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        format!("Key 'arn:aws:kms:us-east-1:111122223333:key/{missing}' does not exist")
    );
    let (code, message) = err(kms.describe_key().key_id("alias/nope").send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        "Alias arn:aws:kms:us-east-1:111122223333:alias/nope is not found."
    );
    // An ARN naming another region does not find the key here, in AWS's words.
    let (code, message) = err(kms
        .describe_key()
        .key_id(arn.replace("us-east-1", "eu-west-1"))
        .send()
        .await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, "Invalid arn eu-west-1");
    // Operations that take only a key id or ARN refuse an alias.
    let (code, message) = err(kms.disable_key().key_id("alias/named").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotFoundException", "Invalid keyId 'alias/named'")
    );
}

#[tokio::test]
async fn list_keys_pages_with_markers() {
    let t = spawn().await;
    let kms = t.client();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(create_key(&kms).await);
    }
    created.sort();
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_keys()
            .limit(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        assert!(page.keys().len() <= 2);
        for k in page.keys() {
            assert_eq!(
                k.key_arn(),
                Some(
                    format!(
                        "arn:aws:kms:us-east-1:111122223333:key/{}",
                        k.key_id().unwrap()
                    )
                    .as_str()
                )
            );
            seen.push(k.key_id().unwrap().to_owned());
        }
        if !page.truncated {
            assert!(page.next_marker.is_none());
            break;
        }
        marker = page.next_marker;
    }
    assert_eq!(seen, created);
    let (code, _) = err(kms.list_keys().marker("garbage").send().await);
    assert_eq!(code, "InvalidMarkerException");
    let (code, message) = err(kms.list_keys().limit(0).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
}

#[tokio::test]
async fn enable_disable_and_describe_changes() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    kms.disable_key().key_id(&id).send().await.unwrap();
    let m = describe(&kms, &id).await;
    assert_eq!(m.key_state, Some(KeyState::Disabled));
    assert!(!m.enabled);
    // Disabling twice is allowed, as on AWS.
    kms.disable_key().key_id(&id).send().await.unwrap();
    kms.enable_key().key_id(&id).send().await.unwrap();
    kms.update_key_description()
        .key_id(&id)
        .description("renamed")
        .send()
        .await
        .unwrap();
    let m = describe(&kms, &id).await;
    assert_eq!(m.key_state, Some(KeyState::Enabled));
    assert_eq!(m.description.as_deref(), Some("renamed"));
    let (code, _) = err(kms
        .enable_key()
        .key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await);
    assert_eq!(code, "NotFoundException");
}
