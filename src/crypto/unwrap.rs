//! Opening key material wrapped for ImportKeyMaterial with a wrapping key from
//! GetParametersForImport, by each of AWS's wrapping algorithms:
//!
//! - RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256: the material encrypted with the RSA public key
//!   (OAEP with the same hash for MGF1, empty label). RSAES_PKCS1_V1_5, which AWS no
//!   longer accepts, opens nothing.
//! - RSA_AES_KEY_WRAP_SHA_1/256: an ephemeral AES-256 key encrypted with RSA-OAEP, followed
//!   by the material wrapped under that key with AES Key Wrap with Padding (RFC 5649),
//!   as `openssl pkeyutl` and `openssl enc -id-aes256-wrap-pad` produce them.
//! - SM2PKE: SM2 public-key encryption, DER-encoded C1C3C2.

use aes_kw::KwpAes256;
use aes_kw::cipher::KeyInit;
use rsa::Oaep;
use rsa::traits::PublicKeyParts;
use sha1::Sha1;
use sha2::Sha256;

use super::Secret;
use super::secret_key::SecretKey;
use crate::model::enums::WrappingAlgorithm;

/// The material inside `wrapped`; `None` if it does not open with this key and algorithm.
pub fn unwrap(key: &SecretKey, algorithm: WrappingAlgorithm, wrapped: &[u8]) -> Option<Secret> {
    use WrappingAlgorithm::*;
    match (key, algorithm) {
        (SecretKey::Rsa(k), RsaesOaepSha1) => k.private.decrypt(Oaep::<Sha1>::new(), wrapped).ok(),
        (SecretKey::Rsa(k), RsaesOaepSha256) => {
            k.private.decrypt(Oaep::<Sha256>::new(), wrapped).ok()
        }
        (SecretKey::Rsa(k), RsaAesKeyWrapSha1 | RsaAesKeyWrapSha256) => {
            let (head, body) = wrapped.split_at_checked(k.public.size())?;
            let aes_key = Secret::new(match algorithm {
                RsaAesKeyWrapSha1 => k.private.decrypt(Oaep::<Sha1>::new(), head).ok()?,
                _ => k.private.decrypt(Oaep::<Sha256>::new(), head).ok()?,
            });
            let kwp = KwpAes256::new_from_slice(aes_key.expose()).ok()?;
            // Zeroed when dropped, also when the unwrap fails halfway.
            let mut out = zeroize::Zeroizing::new(vec![0u8; body.len()]);
            let len = kwp.unwrap_key(body, &mut out).ok()?.len();
            out.truncate(len);
            Some(std::mem::take(&mut *out))
        }
        (SecretKey::Sm2(k), Sm2Pke) => k.decrypting.decrypt_der(wrapped).ok(),
        _ => None,
    }
    .map(Secret::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeySpec;

    /// Wraps as a client would: RSA-OAEP-SHA-256 of a fresh AES key, then RFC 5649.
    fn rsa_aes_wrap(key: &SecretKey, material: &[u8]) -> Vec<u8> {
        let SecretKey::Rsa(k) = key else { panic!() };
        let aes_key = [9u8; 32];
        let mut out = k
            .public
            .encrypt(&mut rand::rng(), Oaep::<Sha256>::new(), &aes_key)
            .unwrap();
        let kwp = KwpAes256::new_from_slice(&aes_key).unwrap();
        let mut buf = vec![0u8; material.len() + 16];
        out.extend_from_slice(kwp.wrap_key(material, &mut buf).unwrap());
        out
    }

    #[test]
    fn opens_each_algorithm() {
        let rsa = SecretKey::generate(KeySpec::Rsa2048);
        let material = [42u8; 45];
        let wrapped = rsa_aes_wrap(&rsa, &material);
        let opened = unwrap(&rsa, WrappingAlgorithm::RsaAesKeyWrapSha256, &wrapped).unwrap();
        assert_eq!(opened.expose(), &material);
        // The wrong hash, a cut body, a different algorithm: nothing.
        assert!(unwrap(&rsa, WrappingAlgorithm::RsaAesKeyWrapSha1, &wrapped).is_none());
        assert!(
            unwrap(
                &rsa,
                WrappingAlgorithm::RsaAesKeyWrapSha256,
                &wrapped[..300]
            )
            .is_none()
        );
        assert!(unwrap(&rsa, WrappingAlgorithm::Sm2Pke, &wrapped).is_none());

        let SecretKey::Rsa(k) = &rsa else { panic!() };
        let oaep = k
            .public
            .encrypt(&mut rand::rng(), Oaep::<Sha1>::new(), &[1; 32])
            .unwrap();
        let opened = unwrap(&rsa, WrappingAlgorithm::RsaesOaepSha1, &oaep).unwrap();
        assert_eq!(opened.expose(), &[1; 32]);
        assert!(unwrap(&rsa, WrappingAlgorithm::RsaesPkcs1V15, &oaep).is_none());

        let sm2 = SecretKey::generate(KeySpec::Sm2);
        let SecretKey::Sm2(s) = &sm2 else { panic!() };
        let ct = s
            .decrypting
            .encrypting_key()
            .encrypt_der(&mut rand::rng(), &[3; 32])
            .unwrap();
        let opened = unwrap(&sm2, WrappingAlgorithm::Sm2Pke, &ct).unwrap();
        assert_eq!(opened.expose(), &[3; 32]);
    }
}
