//! Grants through the AWS SDK for Rust: create (with constraints and name idempotency),
//! list with filters and paging, retire by token or by id, revoke, grant tokens on other
//! operations, DryRun, and grants going with their key.

use aws_sdk_kms::Client;
use aws_sdk_kms::operation::create_grant::CreateGrantOutput;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{GrantConstraints, GrantListEntry, GrantOperation, KeySpec, KeyUsageType};

use crate::common::{create_key, describe, err, spawn};

const GRANTEE: &str = "arn:aws:iam::111122223333:role/app";
const RETIRER: &str = "arn:aws:iam::111122223333:role/ops";

async fn grant(kms: &Client, key: &str, name: Option<&str>) -> (String, String) {
    let out = kms
        .create_grant()
        .key_id(key)
        .grantee_principal(GRANTEE)
        .retiring_principal(RETIRER)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .set_name(name.map(str::to_owned))
        .send()
        .await
        .unwrap();
    (out.grant_id.unwrap(), out.grant_token.unwrap())
}

/// A key's grants, one page.
async fn grants_of(kms: &Client, key: &str) -> Vec<GrantListEntry> {
    kms.list_grants()
        .key_id(key)
        .send()
        .await
        .unwrap()
        .grants
        .unwrap()
}

/// The grants RETIRER may retire, one page.
async fn retirable_grants(kms: &Client) -> Vec<GrantListEntry> {
    kms.list_retirable_grants()
        .retiring_principal(RETIRER)
        .send()
        .await
        .unwrap()
        .grants
        .unwrap()
}

/// A named grant with an encryption context constraint.
async fn blue_grant(kms: &Client, key: &str) -> CreateGrantOutput {
    kms.create_grant()
        .key_id(key)
        .grantee_principal(GRANTEE)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::GenerateDataKey)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("tenant", "blue")
                .build(),
        )
        .name("blue-tenant")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn grants_are_created_listed_retired_and_revoked() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;
    let arn = describe(&kms, &key).await.arn.unwrap();

    let created = blue_grant(&kms, &arn).await;
    let id = created.grant_id.unwrap();
    assert_eq!(id.len(), 64);
    let token = created.grant_token.unwrap();

    // The same name and terms: the same grant, a new token; both tokens work.
    let again = blue_grant(&kms, &key).await;
    assert_eq!(again.grant_id.as_deref(), Some(id.as_str()));
    let second_token = again.grant_token.unwrap();
    assert_ne!(second_token, token);
    for token in [&token, &second_token] {
        kms.encrypt()
            .key_id(&key)
            .plaintext(Blob::new("x"))
            .grant_tokens(token)
            .encryption_context("tenant", "blue")
            .send()
            .await
            .unwrap();
    }

    let (other, other_token) = grant(&kms, &key, None).await;
    let listed = kms.list_grants().key_id(&key).send().await.unwrap();
    let grants = listed.grants.unwrap();
    assert_eq!(grants.len(), 2);
    let blue = grants
        .iter()
        .find(|g| g.grant_id.as_deref() == Some(&id))
        .unwrap();
    assert_eq!(blue.key_id.as_deref(), Some(arn.as_str()));
    assert_eq!(blue.name.as_deref(), Some("blue-tenant"));
    assert_eq!(blue.grantee_principal.as_deref(), Some(GRANTEE));
    assert_eq!(
        blue.issuing_account.as_deref(),
        Some("arn:aws:iam::111122223333:root")
    );
    assert_eq!(
        blue.operations(),
        &[GrantOperation::Encrypt, GrantOperation::GenerateDataKey]
    );
    let subset = blue
        .constraints
        .as_ref()
        .unwrap()
        .encryption_context_subset
        .as_ref()
        .unwrap();
    assert_eq!(subset.get("tenant").map(String::as_str), Some("blue"));
    assert!(blue.creation_date.is_some());

    // Filters and pages.
    let by_id = kms
        .list_grants()
        .key_id(&key)
        .grant_id(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.grants.unwrap().len(), 1);
    let page = kms
        .list_grants()
        .key_id(&key)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(page.truncated);
    let rest = kms
        .list_grants()
        .key_id(&key)
        .marker(page.next_marker.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.grants.unwrap().len(), 1);
    assert!(!rest.truncated);
    let retirable = retirable_grants(&kms).await;
    assert_eq!(retirable.len(), 1);
    assert_eq!(retirable[0].grant_id.as_deref(), Some(other.as_str()));

    // Retired by token, revoked by id; then gone.
    kms.retire_grant()
        .grant_token(&other_token)
        .send()
        .await
        .unwrap();
    kms.revoke_grant()
        .key_id(&key)
        .grant_id(&id)
        .send()
        .await
        .unwrap();
    assert!(grants_of(&kms, &key).await.is_empty());
    let (code, message) = err(kms.revoke_grant().key_id(&key).grant_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Grant ID {id} not found"));
}

#[tokio::test]
async fn grant_errors_and_dry_run() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;

    // An operation the key does not have.
    let (code, _) = err(kms
        .create_grant()
        .key_id(&key)
        .grantee_principal(GRANTEE)
        .operations(GrantOperation::Sign)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    // Constraints on an asymmetric key's cryptographic operations.
    let signing = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let (code, _) = err(kms
        .create_grant()
        .key_id(&signing)
        .grantee_principal(GRANTEE)
        .operations(GrantOperation::Sign)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_equals("a", "b")
                .build(),
        )
        .send()
        .await);
    assert_eq!(code, "ValidationException");

    // Malformed grant tokens and ids.
    let (code, message) = err(kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("x"))
        .grant_tokens("not-a-grant-token")
        .send()
        .await);
    assert_eq!(code, "InvalidGrantTokenException");
    assert_eq!(
        message,
        "The request was rejected because the specified grant token is not valid."
    );
    let (code, _) = err(kms.retire_grant().grant_token("garbage").send().await);
    assert_eq!(code, "InvalidGrantTokenException");
    let (code, _) = err(kms
        .revoke_grant()
        .key_id(&key)
        .grant_id("short")
        .send()
        .await);
    assert_eq!(code, "InvalidGrantIdException");
    let (code, _) = err(kms.retire_grant().key_id(&key).send().await);
    assert_eq!(code, "ValidationException");

    // DryRun: checked, answered, nothing made or removed.
    let (code, _) = err(kms
        .create_grant()
        .key_id(&key)
        .grantee_principal(GRANTEE)
        .operations(GrantOperation::Decrypt)
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    assert!(grants_of(&kms, &key).await.is_empty());
    let (id, _) = grant(&kms, &key, None).await;
    let (code, _) = err(kms
        .revoke_grant()
        .key_id(&key)
        .grant_id(&id)
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    let (code, _) = err(kms
        .retire_grant()
        .key_id(&key)
        .grant_id(&id)
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    assert_eq!(grants_of(&kms, &key).await.len(), 1);
}

#[tokio::test]
async fn grants_survive_a_restart_and_go_with_their_key() {
    let t = spawn().await;
    let kms = t.client();
    let key = create_key(&kms).await;
    let (id, token) = grant(&kms, &key, Some("kept")).await;
    let t = t.restart().await;
    let kms = t.client();
    let grants = kms
        .list_grants()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .grants
        .unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].grant_id.as_deref(), Some(id.as_str()));
    // The token issued before the restart still names the grant.
    kms.decrypt()
        .ciphertext_blob(crate::common::encrypt(&kms, &key, "x", &[]).await)
        .grant_tokens(&token)
        .send()
        .await
        .unwrap();

    kms.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    t.advance_clock(8 * 86_400).await;
    let retirable = retirable_grants(&kms).await;
    assert!(retirable.is_empty());
    let t = t.restart().await;
    let kms = t.client();
    let retirable = retirable_grants(&kms).await;
    assert!(retirable.is_empty());
}
