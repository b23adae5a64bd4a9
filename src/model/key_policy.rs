//! The checks AWS makes of a key policy document before it accepts it (CreateKey,
//! PutKeyPolicy, ReplicateKey). trent stores policies without evaluating them for
//! requests; these checks are about the document alone.

use serde_json::Value;

use super::ids::Scope;
use crate::error::{ErrorCode, KmsError, Result};

/// The key policy document size quota.
pub const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The key policy AWS gives a key created without one: the account may do everything.
pub fn default(scope: &Scope) -> String {
    let (partition, account) = (scope.partition(), &scope.account);
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:{partition}:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

fn malformed(message: &str) -> KmsError {
    KmsError::new(ErrorCode::MalformedPolicyDocument, message)
}

/// A policy AWS would accept: a document (see [`check_document`]) whose statements all
/// name valid principals, and (unless the caller bypasses the check: `lockout_for` is
/// `None`) with a statement that lets the account change the policy again.
pub fn check(policy: &str, lockout_for: Option<&Scope>) -> Result<()> {
    let statements = check_document(policy)?;
    for statement in &statements {
        let principals = principals(statement);
        if principals.is_empty() || !principals.iter().all(|p| valid_principal(p)) {
            return Err(malformed(
                "Policy contains a statement with one or more invalid principals.",
            ));
        }
    }
    if let Some(scope) = lockout_for
        && !statements.iter().any(|s| lets_account_put_policy(s, scope))
    {
        return Err(malformed(
            "The new key policy will not allow you to update the key policy in the future.",
        ));
    }
    Ok(())
}

/// A policy document: JSON within the size quota, with a Statement (an object or a
/// list); its statements. Seed files are held to this much.
pub fn check_document(policy: &str) -> Result<Vec<Value>> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(KmsError::new(
            ErrorCode::LimitExceeded,
            format!("The key policy is larger than the {MAX_POLICY_BYTES}-byte quota."),
        ));
    }
    let doc: Value = serde_json::from_str(policy)
        .map_err(|_| malformed("The policy document is not valid JSON."))?;
    match doc.as_object().and_then(|d| d.get("Statement")) {
        Some(Value::Array(list)) => Ok(list.clone()),
        Some(one @ Value::Object(_)) => Ok(vec![one.clone()]),
        Some(_) => Err(malformed(
            "The policy Statement must be an object or a list.",
        )),
        None => Err(malformed("The policy document must contain a Statement.")),
    }
}

/// The principals a statement names: `"*"`, or the values under `AWS`, `Service` and
/// `Federated`.
fn principals(statement: &Value) -> Vec<&str> {
    match statement.get("Principal") {
        Some(Value::String(all)) => vec![all.as_str()],
        Some(Value::Object(kinds)) => kinds
            .values()
            .flat_map(|v| match v {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => vec![""],
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `*`, an account id, an IAM or STS principal ARN, or a service principal.
fn valid_principal(principal: &str) -> bool {
    let account = |a: &str| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    if principal == "*" || account(principal) {
        return true;
    }
    if let Some(rest) = principal.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        return matches!(parts.as_slice(), [_, "iam" | "sts", "", a, resource]
            if account(a) && !resource.is_empty());
    }
    principal.ends_with(".amazonaws.com") || principal.ends_with(".amazonaws.com.cn")
}

/// An Allow statement whose actions include kms:PutKeyPolicy and whose principals include
/// the account (or everyone).
fn lets_account_put_policy(statement: &Value, scope: &Scope) -> bool {
    if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return false;
    }
    let actions: Vec<&str> = match statement.get("Action") {
        Some(Value::String(one)) => vec![one],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let allows = actions
        .iter()
        .any(|a| glob(&a.to_ascii_lowercase(), "kms:putkeypolicy"));
    let account = &*scope.account;
    let ours =
        |p: &&str| *p == "*" || *p == account || p.split(':').nth(4).is_some_and(|a| a == account);
    allows && principals(statement).iter().any(ours)
}

/// IAM's wildcards: `*` any run of characters, `?` any one. Linear in the pattern with one
/// backtrack point, so a pattern of many stars costs no more than a long one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // The last star seen, and the text position it has matched up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope::new("111122223333", "us-east-1")
    }

    fn policy(principal: &str, action: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"*"}}]}}"#
        )
    }

    fn message(policy: &str, lockout: bool) -> Option<String> {
        check(policy, lockout.then(scope).as_ref())
            .err()
            .map(|e| e.message)
    }

    #[test]
    fn follows_aws_rules() {
        let default = super::default(&scope());
        assert_eq!(message(&default, true), None);
        assert_eq!(
            message(
                &policy("arn:aws:iam::111122223333:role/admin", "kms:Put*"),
                true
            ),
            None
        );
        assert_eq!(message(&policy("*", "*"), true), None);
        let lockout =
            "The new key policy will not allow you to update the key policy in the future.";
        assert_eq!(
            message(
                &policy("arn:aws:iam::111122223333:root", "kms:Encrypt"),
                true
            )
            .as_deref(),
            Some(lockout)
        );
        assert_eq!(
            message(&policy("arn:aws:iam::999999999999:root", "kms:*"), true).as_deref(),
            Some(lockout)
        );
        // The bypass skips only the lockout check.
        assert_eq!(
            message(
                &policy("arn:aws:iam::111122223333:root", "kms:Encrypt"),
                false
            ),
            None
        );
        let invalid = "Policy contains a statement with one or more invalid principals.";
        assert_eq!(
            message(&policy("not-a-principal", "kms:*"), false).as_deref(),
            Some(invalid)
        );
        assert_eq!(
            message(
                r#"{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}"#,
                false
            )
            .as_deref(),
            Some(invalid)
        );
        assert!(message("not json", false).is_some());
        assert_eq!(
            check(&"x".repeat(MAX_POLICY_BYTES + 1), None)
                .unwrap_err()
                .code,
            ErrorCode::LimitExceeded
        );
        assert!(glob("kms:*", "kms:putkeypolicy") && glob("kms:put?eypolicy", "kms:putkeypolicy"));
        assert!(!glob("kms:get*", "kms:putkeypolicy"));
        assert!(glob("*", "") && !glob("?", "") && glob("k*y*y", "kms:putkeypolicy"));
        // Many stars cost no more than a long pattern.
        assert!(!glob(&format!("{}z", "*".repeat(1000)), "kms:putkeypolicy"));
    }
}
