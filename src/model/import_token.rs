//! The parameters GetParametersForImport hands out: a wrapping key pair and the import
//! token that names it. The token is opaque to clients; inside it carries its id, its key
//! and its expiry, so that ImportKeyMaterial can say that a token expired even after its
//! stored parameters are gone. The token is not signed: the stored parameters are the
//! authority, and a token that names none (or another key) is invalid.

use std::sync::Arc;

use super::enums::{WrappingAlgorithm, WrappingKeySpec};
use super::ids::Scope;
use crate::clock::Timestamp;
use crate::crypto::SecretKey;

/// How long a public key and its import token can be used: 24 hours, as on AWS.
pub const VALID_FOR_MS: i64 = 24 * 3_600_000;

const VERSION: u8 = 1;

#[derive(Debug)]
pub struct ImportToken {
    pub id: [u8; 32],
    pub scope: Scope,
    pub key_id: String,
    pub algorithm: WrappingAlgorithm,
    pub spec: WrappingKeySpec,
    /// The private half of the wrapping key; its public half went to the client.
    pub wrapping_key: Arc<SecretKey>,
    pub expires_at: Timestamp,
}

/// What a token says about itself, before the stored parameters are looked up.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenClaims {
    pub id: [u8; 32],
    pub expires_at: Timestamp,
    pub key_arn: String,
}

impl ImportToken {
    /// `u8 version || i64 expiry (ms, big-endian) || 32-byte id || key ARN`.
    pub fn encode(&self) -> Vec<u8> {
        let arn = self.scope.key_arn(&self.key_id);
        let mut out = Vec::with_capacity(1 + 8 + 32 + arn.len());
        out.push(VERSION);
        out.extend_from_slice(&self.expires_at.millis().to_be_bytes());
        out.extend_from_slice(&self.id);
        out.extend_from_slice(arn.as_bytes());
        out
    }
}

impl TokenClaims {
    /// `None` for anything that is not a token trent made.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&version, rest) = bytes.split_first()?;
        if version != VERSION || rest.len() < 8 + 32 {
            return None;
        }
        let (expiry, rest) = rest.split_at(8);
        let (id, arn) = rest.split_at(32);
        Some(Self {
            id: id.try_into().ok()?,
            expires_at: Timestamp(i64::from_be_bytes(expiry.try_into().ok()?)),
            key_arn: String::from_utf8(arn.to_vec()).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeySpec;

    #[test]
    fn a_token_names_its_key_and_expiry() {
        let token = ImportToken {
            id: [7; 32],
            scope: Scope::new("111122223333", "eu-west-1"),
            key_id: "k".into(),
            algorithm: WrappingAlgorithm::RsaesOaepSha256,
            spec: WrappingKeySpec::Sm2,
            wrapping_key: Arc::new(SecretKey::generate(KeySpec::Sm2)),
            expires_at: Timestamp(1_700_000_000_000),
        };
        let claims = TokenClaims::decode(&token.encode()).unwrap();
        assert_eq!(claims.id, [7; 32]);
        assert_eq!(claims.expires_at, token.expires_at);
        assert_eq!(claims.key_arn, "arn:aws:kms:eu-west-1:111122223333:key/k");
        assert!(TokenClaims::decode(b"").is_none());
        assert!(TokenClaims::decode(&[2; 60]).is_none());
        assert!(TokenClaims::decode(&[1; 20]).is_none());
    }
}
