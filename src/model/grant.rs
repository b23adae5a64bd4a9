//! Grants: permissions on one key for one principal, kept apart from the key (their own
//! table and cache) and deleted with it. trent records them and checks their tokens for
//! form; enforcing them (with key policies) is for an opt-in mode that can build on this.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::enums::GrantOperation;
use super::ids::Scope;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantConstraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// 64 hex digits.
    pub id: String,
    pub scope: Scope,
    pub key_id: String,
    pub name: Option<String>,
    pub grantee: String,
    pub retiring: Option<String>,
    pub operations: Vec<GrantOperation>,
    pub constraints: Option<GrantConstraints>,
    pub created_at: Timestamp,
}

impl Grant {
    /// What names a grant across the service: its key and its id.
    pub fn token(&self) -> GrantToken {
        GrantToken {
            key_arn: self.scope.key_arn(&self.key_id),
            grant_id: self.id.clone(),
        }
    }

    /// The same grant asked for again (CreateGrant with the same Name is idempotent).
    pub fn same_terms(&self, other: &Grant) -> bool {
        self.grantee == other.grantee
            && self.retiring == other.retiring
            && self.operations == other.operations
            && self.constraints == other.constraints
    }
}

/// The contents of a grant token: the grant and its key. On the wire, URL-safe base64 of
/// `u8 version || 32-byte grant id || 16 random bytes || key ARN`, opaque to clients;
/// every CreateGrant returns a token of its own, and all of a grant's tokens work alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantToken {
    pub key_arn: String,
    pub grant_id: String,
}

const TOKEN_VERSION: u8 = 1;
const NONCE_LEN: usize = 16;

impl GrantToken {
    pub fn encode(&self) -> String {
        let mut bytes = vec![TOKEN_VERSION];
        bytes.extend(crate::crypto::unhex(&self.grant_id).unwrap_or_default());
        bytes.extend(crate::crypto::random_array::<NONCE_LEN>());
        bytes.extend_from_slice(self.key_arn.as_bytes());
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
    }

    /// `None` for anything that is not a token trent issued.
    pub fn decode(token: &str) -> Option<Self> {
        let bytes = base64_simd::URL_SAFE_NO_PAD.decode_to_vec(token).ok()?;
        let (&version, rest) = bytes.split_first()?;
        if version != TOKEN_VERSION || rest.len() <= 32 + NONCE_LEN {
            return None;
        }
        let (id, rest) = rest.split_at(32);
        let arn = &rest[NONCE_LEN..];
        let key_arn = String::from_utf8(arn.to_vec()).ok()?;
        key_arn.starts_with("arn:").then(|| Self {
            key_arn,
            grant_id: crate::crypto::hex(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_grant_and_key() {
        let token = GrantToken {
            key_arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
            grant_id: "ab".repeat(32),
        };
        let text = token.encode();
        assert_ne!(text, token.encode(), "each token is new");
        assert_eq!(GrantToken::decode(&text), Some(token));
        assert!(GrantToken::decode("").is_none());
        assert!(GrantToken::decode("not a token").is_none());
        assert!(GrantToken::decode(&text[..20]).is_none());
    }
}
