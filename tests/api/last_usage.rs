//! GetKeyLastUsage through the AWS SDK for Rust: what counts as use (successful
//! cryptographic operations, both keys of a ReEncrypt), what does not (failures, DryRun,
//! management), and that it is written to disk in batches that survive a restart.

use aws_sdk_kms::primitives::Blob;

use crate::common::{create_key, describe, encrypt, err, spawn};

#[tokio::test]
async fn the_last_successful_cryptographic_operation_is_reported() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;
    let meta = describe(&kms, &key).await;

    let fresh = kms.get_key_last_usage().key_id(&key).send().await.unwrap();
    assert_eq!(fresh.key_id.as_deref(), meta.arn.as_deref());
    let none = fresh.key_last_usage.unwrap();
    assert!(none.operation.is_none() && none.timestamp.is_none() && none.kms_request_id.is_none());
    assert_eq!(fresh.key_creation_date, meta.creation_date);
    assert!(fresh.tracking_start_date.unwrap().secs() <= meta.creation_date.unwrap().secs() + 1);

    // Management and failures are not use; a DryRun is not either.
    kms.update_key_description()
        .key_id(&key)
        .description("x")
        .send()
        .await
        .unwrap();
    let _ = err(kms
        .decrypt()
        .ciphertext_blob(Blob::new(vec![1; 64]))
        .key_id(&key)
        .send()
        .await);
    let _ = err(kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("x"))
        .dry_run(true)
        .send()
        .await);
    let still = kms.get_key_last_usage().key_id(&key).send().await.unwrap();
    assert!(still.key_last_usage.unwrap().operation.is_none());

    let blob = encrypt(&kms, &key, "used", &[]).await;
    kms.decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap();
    let usage = kms
        .get_key_last_usage()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_last_usage
        .unwrap();
    assert_eq!(usage.operation.unwrap().as_str(), "Decrypt");
    assert!(usage.timestamp.is_some() && usage.cloud_trail_event_id.is_some());
    assert_eq!(usage.kms_request_id.as_ref().unwrap().len(), 36);

    // ReEncrypt uses both keys.
    let other = create_key(&kms).await;
    kms.re_encrypt()
        .ciphertext_blob(blob)
        .destination_key_id(&other)
        .send()
        .await
        .unwrap();
    for id in [&key, &other] {
        let usage = kms
            .get_key_last_usage()
            .key_id(id)
            .send()
            .await
            .unwrap()
            .key_last_usage
            .unwrap();
        assert_eq!(usage.operation.unwrap().as_str(), "ReEncrypt");
    }
    let (code, _) = err(kms
        .get_key_last_usage()
        .key_id("alias/anything")
        .send()
        .await);
    assert_eq!(code, "NotFoundException");

    // Written before a graceful stop: the next start reports it.
    let t = t.restart().await;
    let kms = t.client();
    let usage = kms
        .get_key_last_usage()
        .key_id(&other)
        .send()
        .await
        .unwrap()
        .key_last_usage
        .unwrap();
    assert_eq!(usage.operation.unwrap().as_str(), "ReEncrypt");
}
