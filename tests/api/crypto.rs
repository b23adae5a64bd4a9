use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, EncryptionAlgorithmSpec, KeyManagerType};

use crate::common::{create_key, describe, encrypt, err, spawn};

#[tokio::test]
async fn encrypt_decrypt_binds_the_encryption_context() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{id}");
    let out = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("attack at dawn"))
        .encryption_context("app", "web")
        .encryption_context("env", "prod")
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_id(), Some(arn.as_str()));
    assert_eq!(
        out.encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let blob = out.ciphertext_blob.unwrap();

    let plain = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("env", "prod")
        .encryption_context("app", "web")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.key_id(), Some(arn.as_str()));
    assert_eq!(plain.key_material_id().map(str::len), Some(64));
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"attack at dawn");

    for context in [
        vec![("app", "web")],
        vec![],
        vec![("app", "web"), ("env", "dev")],
    ] {
        let mut req = kms.decrypt().ciphertext_blob(blob.clone());
        for (k, v) in context {
            req = req.encryption_context(k, v);
        }
        let (code, _) = err(req.send().await);
        assert_eq!(code, "InvalidCiphertextException");
    }
    // Concatenating keys and values must not make {"ab":"c"} match {"a":"bc"}.
    let ab = encrypt(&kms, &id, "x", &[("ab", "c")]).await;
    let (code, _) = err(kms
        .decrypt()
        .ciphertext_blob(ab)
        .encryption_context("a", "bc")
        .send()
        .await);
    assert_eq!(code, "InvalidCiphertextException");
}

#[tokio::test]
async fn decrypt_rejects_wrong_keys_and_damaged_blobs() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let other = create_key(&kms).await;
    let blob = encrypt(&kms, &id, "x", &[]).await;
    let (code, message) = err(kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .key_id(&other)
        .send()
        .await);
    assert_eq!(code, "IncorrectKeyException");
    assert_eq!(
        message,
        "The key ID in the request does not identify a CMK that can perform this operation."
    );
    // Naming the right key, by alias, works.
    kms.create_alias()
        .alias_name("alias/right")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    kms.decrypt()
        .ciphertext_blob(blob.clone())
        .key_id("alias/right")
        .send()
        .await
        .unwrap();

    let mut damaged = blob.into_inner();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x01;
    let (code, _) = err(kms
        .decrypt()
        .ciphertext_blob(Blob::new(damaged))
        .send()
        .await);
    assert_eq!(code, "InvalidCiphertextException");
    let (code, _) = err(kms
        .decrypt()
        .ciphertext_blob(Blob::new(vec![7u8; 80]))
        .send()
        .await);
    assert_eq!(code, "InvalidCiphertextException");
}

#[tokio::test]
async fn plaintext_limits_and_dry_run() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let (code, message) = err(kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![0u8; 4097]))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
    );
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![0u8; 4096]))
        .send()
        .await
        .unwrap();

    let (code, _) = err(kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    kms.disable_key().key_id(&id).send().await.unwrap();
    // DryRun still reports the error the real call would meet.
    let (code, _) = err(kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DisabledException");
}

#[tokio::test]
async fn re_encrypt_moves_a_ciphertext_to_another_key_and_context() {
    let t = spawn().await;
    let kms = t.client();
    let source = create_key(&kms).await;
    let destination = create_key(&kms).await;
    let blob = encrypt(&kms, &source, "moving", &[("stage", "one")]).await;
    let out = kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("stage", "one")
        .destination_key_id(&destination)
        .destination_encryption_context("stage", "two")
        .send()
        .await
        .unwrap();
    assert!(out.source_key_id().unwrap().ends_with(&source));
    assert!(out.key_id().unwrap().ends_with(&destination));
    let moved = out.ciphertext_blob.unwrap();
    let plain = kms
        .decrypt()
        .ciphertext_blob(moved.clone())
        .encryption_context("stage", "two")
        .send()
        .await
        .unwrap();
    assert!(plain.key_id().unwrap().ends_with(&destination));
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"moving");

    let (code, _) = err(kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .destination_key_id(&destination)
        .send()
        .await);
    assert_eq!(code, "InvalidCiphertextException");
    let (code, _) = err(kms
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_key_id(&destination)
        .source_encryption_context("stage", "one")
        .destination_key_id(&destination)
        .send()
        .await);
    assert_eq!(code, "IncorrectKeyException");
}

#[tokio::test]
async fn generate_data_key_returns_a_key_its_ciphertext_decrypts_to() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    for (spec, len) in [(DataKeySpec::Aes256, 32), (DataKeySpec::Aes128, 16)] {
        let out = kms
            .generate_data_key()
            .key_id(&id)
            .key_spec(spec)
            .encryption_context("purpose", "test")
            .send()
            .await
            .unwrap();
        assert_eq!(out.key_material_id().map(str::len), Some(64));
        let plaintext = out.plaintext.unwrap();
        assert_eq!(plaintext.as_ref().len(), len);
        let decrypted = kms
            .decrypt()
            .ciphertext_blob(out.ciphertext_blob.unwrap())
            .encryption_context("purpose", "test")
            .send()
            .await
            .unwrap();
        assert_eq!(decrypted.plaintext.unwrap(), plaintext);
    }
    let out = kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(7)
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref().len(), 7);

    let out = kms
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    let decrypted = kms
        .decrypt()
        .ciphertext_blob(out.ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(decrypted.plaintext.unwrap().as_ref().len(), 32);

    for req in [
        kms.generate_data_key().key_id(&id),
        kms.generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .number_of_bytes(32),
    ] {
        let (code, message) = err(req.send().await);
        assert_eq!(code, "ValidationException");
        assert_eq!(
            message,
            "Please specify either number of bytes or key spec."
        );
    }
    let (code, message) = err(kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(1025)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
    );
}

#[tokio::test]
async fn generate_random_lengths() {
    let t = spawn().await;
    let kms = t.client();
    let a = kms
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    let b = kms
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(a.as_ref().len(), 1024);
    assert_ne!(a, b);
    for (n, bound) in [
        (0, "greater than or equal to 1"),
        (1025, "less than or equal to 1024"),
    ] {
        let (code, message) = err(kms.generate_random().number_of_bytes(n).send().await);
        assert_eq!(code, "ValidationException");
        assert_eq!(
            message,
            format!(
                "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value {bound}"
            )
        );
    }
    let (code, message) = err(kms.generate_random().send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "NumberOfBytes is required.")
    );
    let (code, _) = err(kms
        .generate_random()
        .number_of_bytes(16)
        .custom_key_store_id("cks-1")
        .send()
        .await);
    assert_eq!(code, "CustomKeyStoreNotFoundException");
}

#[tokio::test]
async fn aws_managed_keys_appear_on_first_use() {
    let t = spawn().await;
    let kms = t.client();
    let blob = encrypt(&kms, "alias/aws/ebs", "volume key", &[]).await;
    let m = describe(&kms, "alias/aws/ebs").await;
    assert_eq!(m.key_manager, Some(KeyManagerType::Aws));
    let plain = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert!(plain.key_id().unwrap().ends_with(&m.key_id));
    // The same alias keeps naming the same key.
    let again = describe(&kms, "alias/aws/ebs").await;
    assert_eq!(again.key_id, m.key_id);
    // Customers cannot manage it.
    let (code, _) = err(kms.disable_key().key_id(&m.key_id).send().await);
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = err(kms.schedule_key_deletion().key_id(&m.key_id).send().await);
    assert_eq!(code, "AccessDeniedException");
}

#[tokio::test]
async fn ciphertexts_of_missing_keys_are_access_denied_as_on_aws() {
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let blob = encrypt(&kms, &id, "x", &[]).await;
    let denied = "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.";
    let west = t.client_for("test", "us-west-2");
    let (code, message) = err(west.decrypt().ciphertext_blob(blob.clone()).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("AccessDeniedException", denied)
    );

    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let (code, _) = err(kms.decrypt().ciphertext_blob(blob.clone()).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    t.advance_clock(8 * 86_400).await;
    let (code, message) = err(kms.decrypt().ciphertext_blob(blob).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("AccessDeniedException", denied)
    );
}

#[tokio::test]
async fn recipients_need_a_usable_attestation_document() {
    use aws_sdk_kms::types::{KeyEncryptionMechanism, RecipientInfo};
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let blob = encrypt(&kms, &id, "x", &[]).await;
    let garbage = RecipientInfo::builder()
        .key_encryption_algorithm(KeyEncryptionMechanism::RsaesOaepSha256)
        .attestation_document(Blob::new(b"not an attestation document".to_vec()))
        .build();
    let (code, message) = err(kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .recipient(garbage.clone())
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("The attestation document is not valid"),
        "{message}"
    );
    let (code, _) = err(kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(8)
        .recipient(garbage.clone())
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    let (code, _) = err(kms
        .generate_random()
        .number_of_bytes(8)
        .recipient(garbage)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    let empty = RecipientInfo::builder().build();
    let (code, message) = err(kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .recipient(empty)
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Recipient must include an AttestationDocument."
        )
    );
    let wrong_algorithm = RecipientInfo::builder()
        .key_encryption_algorithm(KeyEncryptionMechanism::from("RSAES_PKCS1_V1_5"))
        .attestation_document(Blob::new(b"x".to_vec()))
        .build();
    let (code, message) = err(kms
        .decrypt()
        .ciphertext_blob(blob)
        .recipient(wrong_algorithm)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("'recipient.keyEncryptionAlgorithm'"),
        "{message}"
    );
}

#[tokio::test]
async fn dry_runs_of_decrypt_and_re_encrypt() {
    use aws_sdk_kms::types::DryRunModifierType;
    let t = spawn().await;
    let kms = t.client();
    let id = create_key(&kms).await;
    let blob = encrypt(&kms, &id, "x", &[]).await;
    let (code, _) = err(kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    let (code, _) = err(kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .destination_key_id(&id)
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    // IGNORE_CIPHERTEXT: the ciphertext is not read, only the named key is checked.
    let ignoring = || {
        kms.decrypt()
            .ciphertext_blob(Blob::new(b"not a ciphertext".to_vec()))
            .key_id(&id)
            .dry_run(true)
            .dry_run_modifiers(DryRunModifierType::IgnoreCiphertext)
    };
    let (code, _) = err(ignoring().send().await);
    assert_eq!(code, "DryRunOperationException");
    kms.disable_key().key_id(&id).send().await.unwrap();
    let (code, _) = err(ignoring().send().await);
    assert_eq!(code, "DisabledException");
    // Without DryRun, a missing ciphertext is a validation error.
    let (code, message) = err(kms.decrypt().key_id(&id).send().await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("Value null at 'ciphertextBlob'"),
        "{message}"
    );
}
