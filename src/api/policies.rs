//! Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. A key has exactly one
//! policy, named `default`; trent stores it and checks that it is a JSON document, but
//! does not evaluate it.

use serde::{Deserialize, Serialize};

use super::paging::{self, PageInfo};
use super::{Ctx, Empty, change_key};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::Operation;

const DEFAULT_POLICY_NAME: &str = "default";

/// A key policy must be a JSON object with a Statement.
pub fn check_policy_document(policy: &str) -> Result<()> {
    let malformed = |m: &str| KmsError::new(ErrorCode::MalformedPolicyDocument, m);
    let doc: serde_json::Value = serde_json::from_str(policy)
        .map_err(|_| malformed("The policy document is not valid JSON."))?;
    let statement = doc
        .as_object()
        .ok_or_else(|| malformed("The policy document must be a JSON object."))?
        .get("Statement")
        .ok_or_else(|| malformed("The policy document must contain a Statement."))?;
    if !(statement.is_object() || statement.is_array()) {
        return Err(malformed(
            "The policy Statement must be an object or a list.",
        ));
    }
    Ok(())
}

fn require_default_name(name: Option<&str>) -> Result<()> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(_) => Err(KmsError::not_found("No such policy exists")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyRequest {
    key_id: String,
    policy_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    policy: String,
    policy_name: &'static str,
}

pub async fn get_key_policy(ctx: Ctx, req: GetKeyPolicyRequest) -> Result<GetKeyPolicyResponse> {
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    require_default_name(req.policy_name.as_deref())?;
    Ok(GetKeyPolicyResponse {
        policy: key.policy.clone(),
        policy_name: DEFAULT_POLICY_NAME,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    key_id: String,
    policy_name: Option<String>,
    policy: String,
    /// Accepted; policies are stored, not evaluated, so there is no lockout to bypass.
    #[allow(dead_code)]
    bypass_policy_lockout_safety_check: Option<bool>,
}

pub async fn put_key_policy(ctx: Ctx, req: PutKeyPolicyRequest) -> Result<Empty> {
    let policy = req.policy;
    change_key(&ctx, &req.key_id, Operation::PutKeyPolicy, |key, _| {
        require_default_name(req.policy_name.as_deref())?;
        check_policy_document(&policy)?;
        key.policy = policy;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesRequest {
    key_id: String,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    policy_names: Vec<&'static str>,
    #[serde(flatten)]
    page: PageInfo,
}

pub async fn list_key_policies(
    ctx: Ctx,
    req: ListKeyPoliciesRequest,
) -> Result<ListKeyPoliciesResponse> {
    ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    // One name fits on any page, so no marker is ever issued and none is valid.
    paging::marker(req.marker.as_deref(), |_| false)?;
    Ok(ListKeyPoliciesResponse {
        policy_names: vec![DEFAULT_POLICY_NAME],
        page: PageInfo::new(None),
    })
}
