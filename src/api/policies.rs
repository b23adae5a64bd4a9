//! Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. A key has exactly one
//! policy, named `default`; trent checks it as AWS does (`model::key_policy`) and stores
//! it, but does not evaluate it for requests.

use serde::{Deserialize, Serialize};

use super::paging::{self, PageInfo};
use super::{Ctx, Empty, change_key};
use crate::error::{KmsError, Result};
use crate::model::{Operation, Scope, key_policy};

const DEFAULT_POLICY_NAME: &str = "default";

/// The scope whose account the lockout safety check protects, unless the caller bypasses it.
pub fn lockout_check(scope: &Scope, bypass: Option<bool>) -> Option<&Scope> {
    (bypass != Some(true)).then_some(scope)
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
        policy: key.policy.to_string(),
        policy_name: DEFAULT_POLICY_NAME,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    key_id: String,
    policy_name: Option<String>,
    policy: String,
    bypass_policy_lockout_safety_check: Option<bool>,
}

pub async fn put_key_policy(ctx: Ctx, req: PutKeyPolicyRequest) -> Result<Empty> {
    let policy = req.policy;
    change_key(&ctx, &req.key_id, Operation::PutKeyPolicy, |key, _| {
        require_default_name(req.policy_name.as_deref())?;
        key_policy::check(
            &policy,
            lockout_check(&key.scope, req.bypass_policy_lockout_safety_check),
        )?;
        key.policy = policy.into();
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
