//! The secret part of a key's material, for every key spec: parsed once when loaded or
//! generated into ready-to-use keys (RSA CRT values, HMAC state, curve points), so no
//! request re-parses anything. AES keys keep only their bytes (see `symmetric`).
//!
//! Stored as the key spec plus a standard encoding: the raw bytes for AES and HMAC keys,
//! PKCS#8 DER for private keys (also what GenerateDataKeyPair returns).

use std::fmt;

use ml_dsa::Generate;
use ml_dsa::{MlDsa44, MlDsa65, MlDsa87};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};

use super::Secret;
use super::mac::HmacKey;
use super::symmetric::AesKey;
use crate::model::KeySpec;

/// An RSA private key with its public half, both ready for use.
pub struct RsaKey {
    pub private: RsaPrivateKey,
    pub public: RsaPublicKey,
}

impl RsaKey {
    pub fn new(private: RsaPrivateKey) -> Self {
        Self {
            public: private.to_public_key(),
            private,
        }
    }
}

/// An SM2 key: one scalar that signs (SM2DSA, with AWS's default distinguishing id),
/// decrypts (SM2PKE) and agrees (ECDH).
pub struct Sm2Key {
    pub secret: sm2::SecretKey,
    pub signing: sm2::dsa::SigningKey,
    pub decrypting: sm2::pke::DecryptingKey,
}

/// The distinguishing id SM2DSA uses when none is given (GB/T 32918), as AWS does.
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

impl Sm2Key {
    fn new(secret: sm2::SecretKey) -> Result<Self, &'static str> {
        let signing =
            sm2::dsa::SigningKey::new(SM2_DEFAULT_ID, &secret).map_err(|_| "invalid SM2 key")?;
        let decrypting = sm2::pke::DecryptingKey::new(secret.clone());
        Ok(Self {
            secret,
            signing,
            decrypting,
        })
    }
}

pub enum SecretKey {
    /// Only the key bytes: the schedule is expanded per operation (see `AesKey`).
    Aes(AesKey),
    Hmac(Box<HmacKey>),
    Rsa(Box<RsaKey>),
    P256(Box<p256::ecdsa::SigningKey>),
    P384(Box<p384::ecdsa::SigningKey>),
    P521(Box<p521::ecdsa::SigningKey>),
    K256(Box<k256::ecdsa::SigningKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    MlDsa44(Box<ml_dsa::SigningKey<MlDsa44>>),
    MlDsa65(Box<ml_dsa::SigningKey<MlDsa65>>),
    MlDsa87(Box<ml_dsa::SigningKey<MlDsa87>>),
    Sm2(Box<Sm2Key>),
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({} [REDACTED])", self.spec())
    }
}

impl SecretKey {
    /// A new random key of `spec`. RSA generation takes from tens of milliseconds to
    /// seconds: callers run it off the async runtime (see [`super::pool`]).
    pub fn generate(spec: KeySpec) -> Self {
        let mut rng = rand::rng();
        match spec {
            KeySpec::SymmetricDefault => SecretKey::Aes(AesKey::generate()),
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                SecretKey::Hmac(Box::new(HmacKey::generate(spec)))
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let bits = spec.rsa_bits().unwrap_or(2048);
                SecretKey::Rsa(Box::new(RsaKey::new(generate_rsa(bits))))
            }
            KeySpec::EccNistP256 => SecretKey::P256(Box::new(
                p256::ecdsa::SigningKey::generate_from_rng(&mut rng),
            )),
            KeySpec::EccNistP384 => SecretKey::P384(Box::new(
                p384::ecdsa::SigningKey::generate_from_rng(&mut rng),
            )),
            KeySpec::EccNistP521 => SecretKey::P521(Box::new(
                p521::ecdsa::SigningKey::generate_from_rng(&mut rng),
            )),
            KeySpec::EccSecgP256k1 => SecretKey::K256(Box::new(
                k256::ecdsa::SigningKey::generate_from_rng(&mut rng),
            )),
            KeySpec::EccNistEdwards25519 => {
                SecretKey::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut rng)))
            }
            KeySpec::MlDsa44 => SecretKey::MlDsa44(Box::new(ml_dsa_key(&mut rng))),
            KeySpec::MlDsa65 => SecretKey::MlDsa65(Box::new(ml_dsa_key(&mut rng))),
            KeySpec::MlDsa87 => SecretKey::MlDsa87(Box::new(ml_dsa_key(&mut rng))),
            KeySpec::Sm2 => SecretKey::Sm2(Box::new(
                Sm2Key::new(sm2::SecretKey::generate_from_rng(&mut rng))
                    .expect("a random scalar is a valid SM2 key"),
            )),
        }
    }

    /// Rebuilds a key from its stored encoding.
    pub fn from_storage(spec: KeySpec, bytes: &[u8]) -> Result<Self, &'static str> {
        const BAD: &str = "stored key material does not match its key spec";
        Ok(match spec {
            KeySpec::SymmetricDefault => SecretKey::Aes(AesKey::from_bytes(bytes).ok_or(BAD)?),
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                SecretKey::Hmac(Box::new(
                    HmacKey::new(spec, Secret::new(bytes.to_vec())).ok_or(BAD)?,
                ))
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let key = RsaPrivateKey::from_pkcs8_der(bytes).map_err(|_| BAD)?;
                // Only the sizes AWS offers, exactly: limits and specs follow from it.
                if spec.rsa_bits() != Some(rsa::traits::PublicKeyParts::size(&key) * 8) {
                    return Err("an RSA key of another size than its key spec");
                }
                SecretKey::Rsa(Box::new(RsaKey::new(key)))
            }
            KeySpec::EccNistP256 => SecretKey::P256(Box::new(
                p256::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::EccNistP384 => SecretKey::P384(Box::new(
                p384::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::EccNistP521 => SecretKey::P521(Box::new(
                p521::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::EccSecgP256k1 => SecretKey::K256(Box::new(
                k256::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::EccNistEdwards25519 => SecretKey::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::MlDsa44 => SecretKey::MlDsa44(Box::new(
                ml_dsa::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::MlDsa65 => SecretKey::MlDsa65(Box::new(
                ml_dsa::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::MlDsa87 => SecretKey::MlDsa87(Box::new(
                ml_dsa::SigningKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )),
            KeySpec::Sm2 => SecretKey::Sm2(Box::new(Sm2Key::new(
                sm2::SecretKey::from_pkcs8_der(bytes).map_err(|_| BAD)?,
            )?)),
        })
    }

    pub fn spec(&self) -> KeySpec {
        match self {
            SecretKey::Aes(_) => KeySpec::SymmetricDefault,
            SecretKey::Hmac(k) => k.spec(),
            // Loading admits only 2048, 3072 and 4096 bits.
            SecretKey::Rsa(k) => match rsa::traits::PublicKeyParts::size(&k.public) * 8 {
                4096 => KeySpec::Rsa4096,
                3072 => KeySpec::Rsa3072,
                _ => KeySpec::Rsa2048,
            },
            SecretKey::P256(_) => KeySpec::EccNistP256,
            SecretKey::P384(_) => KeySpec::EccNistP384,
            SecretKey::P521(_) => KeySpec::EccNistP521,
            SecretKey::K256(_) => KeySpec::EccSecgP256k1,
            SecretKey::Ed25519(_) => KeySpec::EccNistEdwards25519,
            SecretKey::MlDsa44(_) => KeySpec::MlDsa44,
            SecretKey::MlDsa65(_) => KeySpec::MlDsa65,
            SecretKey::MlDsa87(_) => KeySpec::MlDsa87,
            SecretKey::Sm2(_) => KeySpec::Sm2,
        }
    }

    /// The stored encoding: raw bytes for AES and HMAC, PKCS#8 DER for private keys.
    pub fn to_storage(&self) -> Secret {
        fn der(doc: Result<rsa::pkcs8::SecretDocument, rsa::pkcs8::Error>) -> Secret {
            Secret::new(
                doc.expect("a valid private key always encodes as PKCS#8")
                    .as_bytes()
                    .to_vec(),
            )
        }
        match self {
            SecretKey::Aes(k) => k.bytes(),
            SecretKey::Hmac(k) => k.bytes().clone(),
            SecretKey::Rsa(k) => der(k.private.to_pkcs8_der()),
            SecretKey::P256(k) => der(k.to_pkcs8_der()),
            SecretKey::P384(k) => der(k.to_pkcs8_der()),
            SecretKey::P521(k) => der(k.to_pkcs8_der()),
            SecretKey::K256(k) => der(k.to_pkcs8_der()),
            SecretKey::Ed25519(k) => ed25519_pkcs8(k),
            SecretKey::MlDsa44(k) => der(k.to_pkcs8_der()),
            SecretKey::MlDsa65(k) => der(k.to_pkcs8_der()),
            SecretKey::MlDsa87(k) => der(k.to_pkcs8_der()),
            SecretKey::Sm2(k) => der(k.secret.to_pkcs8_der()),
        }
    }

    /// The public key as DER SubjectPublicKeyInfo; `None` for symmetric and HMAC keys.
    pub fn public_key_der(&self) -> Option<Vec<u8>> {
        let doc = match self {
            SecretKey::Aes(_) | SecretKey::Hmac(_) => return None,
            SecretKey::Rsa(k) => k.public.to_public_key_der(),
            SecretKey::P256(k) => k.verifying_key().to_public_key_der(),
            SecretKey::P384(k) => k.verifying_key().to_public_key_der(),
            SecretKey::P521(k) => k.verifying_key().to_public_key_der(),
            SecretKey::K256(k) => k.verifying_key().to_public_key_der(),
            SecretKey::Ed25519(k) => k.verifying_key().to_public_key_der(),
            SecretKey::MlDsa44(k) => ml_dsa::Keypair::verifying_key(k.as_ref()).to_public_key_der(),
            SecretKey::MlDsa65(k) => ml_dsa::Keypair::verifying_key(k.as_ref()).to_public_key_der(),
            SecretKey::MlDsa87(k) => ml_dsa::Keypair::verifying_key(k.as_ref()).to_public_key_der(),
            SecretKey::Sm2(k) => k.secret.public_key().to_public_key_der(),
        };
        Some(
            doc.expect("a valid public key always encodes as SPKI")
                .into_vec(),
        )
    }
}

/// Ed25519's plain PKCS#8 (RFC 8410 section 7: version 0, no public key), the form that
/// OpenSSL and Python's `cryptography` load; the crate writes the newer form with the
/// public key inside, which they refuse.
fn ed25519_pkcs8(key: &ed25519_dalek::SigningKey) -> Secret {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = Vec::with_capacity(48);
    der.extend_from_slice(&PREFIX);
    der.extend_from_slice(key.as_bytes());
    Secret::new(der)
}

/// A new RSA key with exponent 65537 (slow: see [`SecretKey::generate`]).
pub fn generate_rsa(bits: usize) -> RsaPrivateKey {
    let mut key =
        RsaPrivateKey::new(&mut rand::rng(), bits).expect("RSA key generation with e = 65537");
    // CRT values once per key, not per signature.
    let _ = key.precompute();
    key
}

fn ml_dsa_key<P: ml_dsa::MlDsaParams>(rng: &mut impl rand::Rng) -> ml_dsa::SigningKey<P> {
    let mut seed = ml_dsa::Seed::default();
    rng.fill_bytes(&mut seed);
    let key = ml_dsa::SigningKey::from_seed(&seed);
    zeroize::Zeroize::zeroize(seed.as_mut_slice());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_round_trips_through_storage() {
        for spec in KeySpec::ALL {
            if spec.rsa_bits().is_some_and(|b| b > 2048) {
                continue;
            }
            let key = SecretKey::generate(*spec);
            assert_eq!(key.spec(), *spec);
            let stored = key.to_storage();
            let loaded = SecretKey::from_storage(*spec, stored.expose()).unwrap();
            assert_eq!(loaded.to_storage(), stored, "{spec}");
            assert_eq!(loaded.public_key_der(), key.public_key_der(), "{spec}");
            assert_eq!(key.public_key_der().is_some(), spec.is_asymmetric());
        }
    }

    #[test]
    fn ed25519_private_keys_are_plain_pkcs8() {
        let key = SecretKey::generate(KeySpec::EccNistEdwards25519);
        let der = key.to_storage();
        assert_eq!(der.len(), 48);
        assert_eq!(&der.expose()[..4], &[0x30, 0x2e, 0x02, 0x01]);
    }

    #[test]
    fn debug_never_shows_material() {
        let key = SecretKey::generate(KeySpec::EccNistP256);
        assert_eq!(format!("{key:?}"), "SecretKey(ECC_NIST_P256 [REDACTED])");
    }

    #[test]
    fn wrong_bytes_for_a_spec_are_refused() {
        let ec = SecretKey::generate(KeySpec::EccNistP256).to_storage();
        assert!(SecretKey::from_storage(KeySpec::Rsa2048, ec.expose()).is_err());
        let small = RsaKey::new(generate_rsa(1024))
            .private
            .to_pkcs8_der()
            .unwrap();
        assert!(SecretKey::from_storage(KeySpec::Rsa2048, small.as_bytes()).is_err());
        assert!(SecretKey::from_storage(KeySpec::SymmetricDefault, &[0; 5]).is_err());
    }
}
