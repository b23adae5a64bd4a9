//! `CiphertextForRecipient`: a CMS EnvelopedData (RFC 5652), DER-encoded, as AWS KMS
//! returns it to an attested enclave. The content is encrypted with AES-256-CBC under a
//! fresh key, and that key with RSAES-OAEP-SHA-256 under the enclave's public key.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeEncrypt, KeyIvInit};
use rsa::{Oaep, PublicKey};
use sha2::{Digest, Sha256};

use super::{random_array, random_bytes};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const CONTEXT_0: u8 = 0xa0;
const CONTEXT_1: u8 = 0xa1;
const IMPLICIT_0: u8 = 0x80;

const ID_ENVELOPED_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03,
];
const ID_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];
const ID_RSAES_OAEP: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07,
];
const ID_MGF1: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
];
const ID_SHA256: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const ID_AES256_CBC: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a,
];
const NULL: &[u8] = &[0x05, 0x00];

/// One DER element: tag, definite length, content.
fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// An attested enclave's RSA public key, and its DER form (which names it in the envelope).
#[derive(Debug)]
pub struct Recipient {
    pub key: PublicKey,
    pub spki_der: Vec<u8>,
}

/// Encrypts `plaintext` to the holder of the recipient's private key.
pub fn envelope(recipient: &Recipient, plaintext: &[u8]) -> Vec<u8> {
    let content_key = random_bytes(32);
    let iv: [u8; 16] = random_array();
    let encrypted_content =
        cbc::Encryptor::<aes::Aes256>::new_from_slices(content_key.expose(), &iv)
            .expect("AES-256 key and IV lengths")
            .encrypt_padded_vec::<Pkcs7>(plaintext);
    let encrypted_key = recipient
        .key
        .encrypt(
            &mut rand::rng(),
            Oaep::<Sha256>::new(),
            content_key.expose(),
        )
        .expect("a 32-byte key fits RSA-OAEP for keys of 2048 bits or more");

    let sha256 = tlv(SEQUENCE, &[ID_SHA256, NULL]);
    let oaep_params = tlv(
        SEQUENCE,
        &[
            &tlv(CONTEXT_0, &[&sha256]),
            &tlv(CONTEXT_1, &[&tlv(SEQUENCE, &[ID_MGF1, &sha256])]),
        ],
    );
    // The recipient is named by a key identifier: SHA-256 of its public key, 20 bytes.
    let key_id = &Sha256::digest(&recipient.spki_der)[..20];
    let version_2 = tlv(INTEGER, &[&[2]]);
    let recipient_info = tlv(
        SEQUENCE,
        &[
            &version_2,
            &tlv(IMPLICIT_0, &[key_id]),
            &tlv(SEQUENCE, &[ID_RSAES_OAEP, &oaep_params]),
            &tlv(OCTET_STRING, &[&encrypted_key]),
        ],
    );
    let content_info = tlv(
        SEQUENCE,
        &[
            ID_DATA,
            &tlv(SEQUENCE, &[ID_AES256_CBC, &tlv(OCTET_STRING, &[&iv])]),
            &tlv(IMPLICIT_0, &[&encrypted_content]),
        ],
    );
    let enveloped = tlv(
        SEQUENCE,
        &[&version_2, &tlv(SET, &[&recipient_info]), &content_info],
    );
    tlv(
        SEQUENCE,
        &[ID_ENVELOPED_DATA, &tlv(CONTEXT_0, &[&enveloped])],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::attestation::tests::rsa_key;
    use aes::cipher::BlockModeDecrypt;
    use rsa::pkcs8::EncodePublicKey;

    #[test]
    fn lengths_use_der_long_form() {
        assert_eq!(tlv(OCTET_STRING, &[&[7; 3]])[..2], [0x04, 3]);
        assert_eq!(tlv(OCTET_STRING, &[&[7; 200]])[..3], [0x04, 0x81, 200]);
        assert_eq!(
            tlv(OCTET_STRING, &[&[7; 300]])[..4],
            [0x04, 0x82, 0x01, 0x2c]
        );
    }

    #[test]
    fn the_recipient_can_open_the_envelope() {
        let private = rsa_key();
        let public = PublicKey::from(&private);
        let der = public.to_public_key_der().unwrap();
        let recipient = Recipient {
            key: public,
            spki_der: der.as_bytes().to_vec(),
        };
        let message = envelope(&recipient, b"for the enclave only");
        // The encrypted key and content sit at the end of fixed-shape DER: find them by
        // their lengths (256-byte RSA block, 32-byte padded content).
        let key_at = message
            .windows(4)
            .position(|w| w == [0x04, 0x82, 0x01, 0x00])
            .unwrap();
        let encrypted_key = &message[key_at + 4..key_at + 4 + 256];
        let content_key = private
            .decrypt(Oaep::<Sha256>::new(), encrypted_key)
            .unwrap();
        let iv_at = message.windows(2).position(|w| w == [0x04, 0x10]).unwrap();
        let iv = &message[iv_at + 2..iv_at + 18];
        let content = &message[message.len() - 32..];
        let plain = cbc::Decryptor::<aes::Aes256>::new_from_slices(&content_key, iv)
            .unwrap()
            .decrypt_padded_vec::<Pkcs7>(content)
            .unwrap();
        assert_eq!(plain, b"for the enclave only");
    }
}
