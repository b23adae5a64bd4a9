//! Public-key encryption with RSA (RSAES-OAEP with SHA-1 or SHA-256 for both the hash and
//! MGF1, empty label) and SM2 (SM2PKE, DER-encoded C1C3C2). Ciphertexts are the raw
//! algorithm output, as AWS returns them, so data encrypted offline with the public key
//! decrypts here.

use rsa::Oaep;
use rsa::traits::PublicKeyParts;
use sha1::Sha1;
use sha2::Sha256;

use super::Secret;
use super::secret_key::SecretKey;
use crate::model::EncryptionAlgorithm;

/// The largest plaintext SM2PKE takes in AWS KMS.
pub const SM2_MAX_PLAINTEXT: usize = 1024;

impl SecretKey {
    /// The largest plaintext `algorithm` encrypts with this key: for OAEP, the modulus
    /// length less two digests and two bytes.
    pub fn max_plaintext(&self, algorithm: EncryptionAlgorithm) -> usize {
        match (self, algorithm) {
            (SecretKey::Rsa(k), EncryptionAlgorithm::RsaesOaepSha1) => {
                k.public.size().saturating_sub(2 * 20 + 2)
            }
            (SecretKey::Rsa(k), EncryptionAlgorithm::RsaesOaepSha256) => {
                k.public.size().saturating_sub(2 * 32 + 2)
            }
            (SecretKey::Sm2(_), EncryptionAlgorithm::Sm2Pke) => SM2_MAX_PLAINTEXT,
            _ => 0,
        }
    }

    /// Encrypts with the public key; `None` if the key and algorithm don't go together.
    pub fn encrypt(&self, algorithm: EncryptionAlgorithm, plaintext: &[u8]) -> Option<Vec<u8>> {
        let mut rng = rand::rng();
        match (self, algorithm) {
            (SecretKey::Rsa(k), EncryptionAlgorithm::RsaesOaepSha1) => k
                .public
                .encrypt(&mut rng, Oaep::<Sha1>::new(), plaintext)
                .ok(),
            (SecretKey::Rsa(k), EncryptionAlgorithm::RsaesOaepSha256) => k
                .public
                .encrypt(&mut rng, Oaep::<Sha256>::new(), plaintext)
                .ok(),
            (SecretKey::Sm2(k), EncryptionAlgorithm::Sm2Pke) => k
                .decrypting
                .encrypting_key()
                .encrypt_der(&mut rng, plaintext)
                .ok(),
            _ => None,
        }
    }

    /// Decrypts with the private key; `None` for a ciphertext that does not open.
    pub fn decrypt(&self, algorithm: EncryptionAlgorithm, ciphertext: &[u8]) -> Option<Secret> {
        match (self, algorithm) {
            (SecretKey::Rsa(k), EncryptionAlgorithm::RsaesOaepSha1) => {
                k.private.decrypt(Oaep::<Sha1>::new(), ciphertext).ok()
            }
            (SecretKey::Rsa(k), EncryptionAlgorithm::RsaesOaepSha256) => {
                k.private.decrypt(Oaep::<Sha256>::new(), ciphertext).ok()
            }
            (SecretKey::Sm2(k), EncryptionAlgorithm::Sm2Pke) => {
                k.decrypting.decrypt_der(ciphertext).ok()
            }
            _ => None,
        }
        .map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeySpec;

    #[test]
    fn round_trips_and_limits() {
        let rsa = SecretKey::generate(KeySpec::Rsa2048);
        assert_eq!(rsa.max_plaintext(EncryptionAlgorithm::RsaesOaepSha1), 214);
        assert_eq!(rsa.max_plaintext(EncryptionAlgorithm::RsaesOaepSha256), 190);
        for alg in [
            EncryptionAlgorithm::RsaesOaepSha1,
            EncryptionAlgorithm::RsaesOaepSha256,
        ] {
            let ct = rsa.encrypt(alg, &[5; 190]).unwrap();
            assert_eq!(ct.len(), 256);
            assert_eq!(rsa.decrypt(alg, &ct).unwrap().expose(), &[5; 190]);
        }
        let ct = rsa
            .encrypt(EncryptionAlgorithm::RsaesOaepSha256, b"x")
            .unwrap();
        assert!(
            rsa.decrypt(EncryptionAlgorithm::RsaesOaepSha1, &ct)
                .is_none()
        );

        let sm2 = SecretKey::generate(KeySpec::Sm2);
        let ct = sm2
            .encrypt(EncryptionAlgorithm::Sm2Pke, b"sm2 data")
            .unwrap();
        assert_eq!(
            sm2.decrypt(EncryptionAlgorithm::Sm2Pke, &ct)
                .unwrap()
                .expose(),
            b"sm2 data"
        );
    }
}
