//! Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. A key has exactly one
//! policy, named `default`; trent stores it and checks that it is a JSON document, but
//! does not evaluate it.

use serde::{Deserialize, Serialize};

use super::keys::validate_key_id;
use super::paging::{self, PageInfo};
use super::{Ctx, Empty, change_key};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::Operation;
use crate::protocol::validate::{Validate, Violations};

const DEFAULT_POLICY_NAME: &str = "default";

/// The model's constraints on a Policy member: 1–131072 characters of tab, newline,
/// carriage return or U+0020–U+00FF.
pub fn validate_policy_member(v: &mut Violations, policy: Option<&str>) {
    v.length("policy", policy, 1, 131_072);
    v.pattern(
        "policy",
        policy,
        "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        |s| {
            s.chars()
                .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
        },
    );
}

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

fn validate_policy_name(v: &mut Violations, name: Option<&str>) {
    v.length("policyName", name, 1, 128);
    v.pattern("policyName", name, "[\\w]+", |s| {
        s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
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
    key_id: Option<String>,
    policy_name: Option<String>,
}

impl Validate for GetKeyPolicyRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        validate_policy_name(v, self.policy_name.as_deref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    policy: String,
    policy_name: &'static str,
}

pub async fn get_key_policy(ctx: Ctx, req: GetKeyPolicyRequest) -> Result<GetKeyPolicyResponse> {
    let key = ctx
        .svc
        .resolve_key_only(&ctx.scope, &req.key_id.unwrap_or_default())?;
    require_default_name(req.policy_name.as_deref())?;
    Ok(GetKeyPolicyResponse {
        policy: key.policy.clone(),
        policy_name: DEFAULT_POLICY_NAME,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    key_id: Option<String>,
    policy_name: Option<String>,
    policy: Option<String>,
    /// Accepted; policies are stored, not evaluated, so there is no lockout to bypass.
    #[allow(dead_code)]
    bypass_policy_lockout_safety_check: Option<bool>,
}

impl Validate for PutKeyPolicyRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        validate_policy_name(v, self.policy_name.as_deref());
        v.required("policy", &self.policy);
        validate_policy_member(v, self.policy.as_deref());
    }
}

pub async fn put_key_policy(ctx: Ctx, req: PutKeyPolicyRequest) -> Result<Empty> {
    let policy = req.policy.unwrap_or_default();
    let key_id = req.key_id.unwrap_or_default();
    change_key(&ctx, &key_id, Operation::PutKeyPolicy, |key, _| {
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
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

impl Validate for ListKeyPoliciesRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        paging::validate(v, self.limit, self.marker.as_deref());
    }
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
    ctx.svc
        .resolve_key_only(&ctx.scope, &req.key_id.unwrap_or_default())?;
    // One name fits on any page, so no marker is ever issued and none is valid.
    paging::marker(req.marker.as_deref(), |_| false)?;
    Ok(ListKeyPoliciesResponse {
        policy_names: vec![DEFAULT_POLICY_NAME],
        page: PageInfo::new(None),
    })
}
