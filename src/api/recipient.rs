//! `Recipient` (AWS Nitro Enclaves, NitroTPM): an attested enclave that receives a secret
//! as `CiphertextForRecipient`, sealed to the public key in its attestation document,
//! instead of as `Plaintext`. Used by Decrypt, GenerateDataKey and GenerateRandom.

use serde::Deserialize;

use super::Base64;
use crate::crypto::cms::{self, Recipient};
use crate::crypto::{Secret, attestation};
use crate::error::{KmsError, Result};
use crate::model::enums::KeyEncryptionMechanism;

/// The request member.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipientInfo {
    /// Only RSAES_OAEP_SHA_256 exists; the model check rejects anything else.
    #[allow(dead_code)]
    key_encryption_algorithm: Option<KeyEncryptionMechanism>,
    attestation_document: Option<Secret>,
}

/// The enclave a request names, read from its attestation document.
pub fn recipient(info: &Option<RecipientInfo>) -> Result<Option<Recipient>> {
    let Some(info) = info else {
        return Ok(None);
    };
    let document = info
        .attestation_document
        .as_ref()
        .ok_or_else(|| KmsError::validation("Recipient must include an AttestationDocument."))?;
    attestation::recipient(document.expose())
        .map(Some)
        .map_err(|why| {
            KmsError::validation(format!("The attestation document is not valid: {why}."))
        })
}

/// A secret for the response: in the clear, or sealed for the recipient enclave.
pub fn deliver(secret: Secret, recipient: Option<&Recipient>) -> (Option<Secret>, Option<Base64>) {
    match recipient {
        Some(r) => (None, Some(Base64(cms::envelope(r, secret.expose())))),
        None => (Some(secret), None),
    }
}
