//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and the
//! form check of the grant tokens that any request may carry. Grants are recorded, listed
//! and retired as on AWS; like key policies they are not enforced.

use crate::protocol::Json;
use serde::{Deserialize, Serialize};

use super::paging::{self, PageInfo};
use super::usage;
use super::{Ctx, Empty};
use crate::clock::Timestamp;
use crate::crypto::{hex, random_array};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::GrantOperation;
use crate::model::grant::{Grant, GrantConstraints, GrantToken};
use crate::model::{Key, KeySpec, KeyUsage, Operation, state};

fn invalid_token() -> KmsError {
    KmsError::new(
        ErrorCode::InvalidGrantToken,
        "The request was rejected because the specified grant token is not valid.",
    )
}

fn invalid_grant_id() -> KmsError {
    KmsError::new(
        ErrorCode::InvalidGrantId,
        "The request was rejected because the specified GrantId is not valid.",
    )
}

/// Grant ids are 64 hex digits.
fn check_grant_id(id: &str) -> Result<()> {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(invalid_grant_id())
    }
}

/// Every `GrantTokens` entry of a request must be a token trent issued. Called for every
/// operation before its handler.
pub fn check_grant_tokens(body: &Json<'_>) -> Result<()> {
    let Some(tokens) = body.get("GrantTokens").and_then(Json::as_array) else {
        return Ok(());
    };
    for token in tokens {
        if token.as_str().and_then(GrantToken::decode).is_none() {
            return Err(invalid_token());
        }
    }
    Ok(())
}

/// Whether `key` supports `op` at all (AWS refuses grants for operations it does not).
fn supports(key: &Key, op: GrantOperation) -> bool {
    use GrantOperation::*;
    match op {
        CreateGrant | RetireGrant | DescribeKey => true,
        Encrypt | Decrypt | ReEncryptFrom | ReEncryptTo => key.usage == KeyUsage::EncryptDecrypt,
        GenerateDataKey
        | GenerateDataKeyWithoutPlaintext
        | GenerateDataKeyPair
        | GenerateDataKeyPairWithoutPlaintext => key.spec == KeySpec::SymmetricDefault,
        Sign | Verify => key.usage == KeyUsage::SignVerify,
        GetPublicKey => key.spec.is_asymmetric(),
        GenerateMac | VerifyMac => key.usage == KeyUsage::GenerateVerifyMac,
        DeriveSharedSecret => key.usage == KeyUsage::KeyAgreement,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantRequest {
    key_id: String,
    grantee_principal: String,
    retiring_principal: Option<String>,
    operations: Vec<GrantOperation>,
    constraints: Option<GrantConstraints>,
    name: Option<String>,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantResponse {
    grant_token: String,
    grant_id: String,
}

pub async fn create_grant(ctx: Ctx, req: CreateGrantRequest) -> Result<CreateGrantResponse> {
    let mut txn = ctx.svc.store.begin().await?;
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    state::check(Operation::CreateGrant, &key)?;
    if req
        .operations
        .iter()
        .all(|op| *op == GrantOperation::CreateGrant)
    {
        return Err(KmsError::validation(
            "Grants must not contain only the CreateGrant operation.",
        ));
    }
    if let Some(op) = req.operations.iter().find(|op| !supports(&key, **op)) {
        return Err(KmsError::validation(format!(
            "{op} is not a valid grant operation for a key with KeySpec {} and KeyUsage {}",
            key.spec, key.usage
        )));
    }
    let constrained_crypto = req.operations.iter().any(|op| {
        !matches!(
            op,
            GrantOperation::CreateGrant | GrantOperation::RetireGrant | GrantOperation::DescribeKey
        )
    });
    if req.constraints.is_some() && key.spec != KeySpec::SymmetricDefault && constrained_crypto {
        return Err(KmsError::validation(format!(
            "Grant constraints are not supported for operations on keys with KeySpec {}",
            key.spec
        )));
    }
    usage::dry_run(req.dry_run)?;
    let grant = Grant {
        id: hex(&random_array::<32>()),
        scope: key.scope.clone(),
        key_id: key.id.clone(),
        name: req.name,
        grantee: req.grantee_principal,
        retiring: req.retiring_principal,
        operations: req.operations,
        constraints: req.constraints,
        created_at: ctx.svc.now(),
    };
    // A named grant asked for again with the same terms is the same grant.
    if let Some(name) = &grant.name {
        let (existing, _) = ctx
            .svc
            .store
            .grants_of(&key.scope, &key.id, "", usize::MAX, |g| {
                g.name.as_ref() == Some(name) && g.same_terms(&grant)
            });
        if let Some(existing) = existing.first() {
            return Ok(CreateGrantResponse {
                grant_token: existing.token().encode(),
                grant_id: existing.id.clone(),
            });
        }
    }
    let response = CreateGrantResponse {
        grant_token: grant.token().encode(),
        grant_id: grant.id.clone(),
    };
    txn.save_grant(grant);
    txn.commit().await?;
    Ok(response)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantListEntry {
    key_id: String,
    grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    creation_date: Timestamp,
    grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retiring_principal: Option<String>,
    issuing_account: String,
    operations: Vec<GrantOperation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constraints: Option<GrantConstraints>,
}

impl GrantListEntry {
    fn of(grant: &Grant) -> Self {
        Self {
            key_id: grant.scope.key_arn(&grant.key_id),
            grant_id: grant.id.clone(),
            name: grant.name.clone(),
            creation_date: grant.created_at,
            grantee_principal: grant.grantee.clone(),
            retiring_principal: grant.retiring.clone(),
            issuing_account: format!(
                "arn:{}:iam::{}:root",
                grant.scope.partition(),
                grant.scope.account
            ),
            operations: grant.operations.clone(),
            constraints: grant.constraints.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsResponse {
    grants: Vec<GrantListEntry>,
    #[serde(flatten)]
    page: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsRequest {
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
    grant_id: Option<String>,
    grantee_principal: Option<String>,
}

/// A key's grants in grant id order; the marker is the id of the next grant.
pub async fn list_grants(ctx: Ctx, req: ListGrantsRequest) -> Result<ListGrantsResponse> {
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    state::check(Operation::ListGrants, &key)?;
    if let Some(id) = &req.grant_id {
        check_grant_id(id)?;
    }
    let from = paging::marker(req.marker.as_deref(), |m| check_grant_id(m).is_ok())?;
    let limit = paging::page_size(req.limit, 50, 100);
    let (grants, next) = ctx
        .svc
        .store
        .grants_of(&key.scope, &key.id, from, limit, |g| {
            req.grant_id.as_ref().is_none_or(|id| &g.id == id)
                && req
                    .grantee_principal
                    .as_ref()
                    .is_none_or(|p| &g.grantee == p)
        });
    Ok(ListGrantsResponse {
        grants: grants.iter().map(|g| GrantListEntry::of(g)).collect(),
        page: PageInfo::new(next),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRetirableGrantsRequest {
    retiring_principal: String,
    limit: Option<i64>,
    marker: Option<String>,
}

/// The grants in the account and Region that `RetiringPrincipal` may retire. The marker
/// is `<key id>/<grant id>` of the next grant.
pub async fn list_retirable_grants(
    ctx: Ctx,
    req: ListRetirableGrantsRequest,
) -> Result<ListGrantsResponse> {
    let from = paging::marker(req.marker.as_deref(), |m| {
        m.split_once('/')
            .is_some_and(|(_, g)| check_grant_id(g).is_ok())
    })?;
    let from = from
        .split_once('/')
        .map(|(k, g)| (k.to_owned(), g.to_owned()))
        .unwrap_or_default();
    let limit = paging::page_size(req.limit, 50, 100);
    let (grants, next) = ctx.svc.store.grants_where(&ctx.scope, &from, limit, |g| {
        g.retiring.as_deref() == Some(req.retiring_principal.as_str())
    });
    Ok(ListGrantsResponse {
        grants: grants.iter().map(|g| GrantListEntry::of(g)).collect(),
        page: PageInfo::new(next.map(|(k, g)| format!("{k}/{g}"))),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetireGrantRequest {
    grant_token: Option<String>,
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: Option<bool>,
}

/// Retires a grant named by its token, or by its key and id.
pub async fn retire_grant(ctx: Ctx, req: RetireGrantRequest) -> Result<Empty> {
    let (key_id, grant_id) = match (req.grant_token, req.key_id, req.grant_id) {
        (Some(token), _, _) => {
            let token = GrantToken::decode(&token).ok_or_else(invalid_token)?;
            (token.key_arn, token.grant_id)
        }
        (None, Some(key_id), Some(grant_id)) => (key_id, grant_id),
        _ => {
            return Err(KmsError::validation(
                "Either a grant token or both a key ID and a grant ID must be specified.",
            ));
        }
    };
    remove_grant(
        &ctx,
        &key_id,
        &grant_id,
        Operation::RetireGrant,
        req.dry_run,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeGrantRequest {
    key_id: String,
    grant_id: String,
    dry_run: Option<bool>,
}

pub async fn revoke_grant(ctx: Ctx, req: RevokeGrantRequest) -> Result<Empty> {
    remove_grant(
        &ctx,
        &req.key_id,
        &req.grant_id,
        Operation::RevokeGrant,
        req.dry_run,
    )
    .await
}

async fn remove_grant(
    ctx: &Ctx,
    key_id: &str,
    grant_id: &str,
    op: Operation,
    dry_run: Option<bool>,
) -> Result<Empty> {
    check_grant_id(grant_id)?;
    let mut txn = ctx.svc.store.begin().await?;
    let key = ctx.svc.resolve_key_only(&ctx.scope, key_id)?;
    state::check(op, &key)?;
    let grant = ctx
        .svc
        .store
        .grant(&key.scope, &key.id, grant_id)
        .ok_or_else(|| KmsError::not_found(format!("Grant ID {grant_id} not found")))?;
    usage::dry_run(dry_run)?;
    txn.delete_grant(&grant);
    txn.commit().await?;
    Ok(Empty {})
}
