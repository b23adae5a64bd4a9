//! Signatures for every signing key spec, in the formats AWS produces: DER-encoded ECDSA
//! and SM2DSA, RSASSA-PSS with a salt as long as the digest, PKCS #1 v1.5, 64-byte
//! Ed25519, and raw FIPS 204 ML-DSA (empty context).
//!
//! The caller has already checked that the algorithm belongs to the key's spec, that the
//! message type suits the algorithm, and that a digest has the algorithm's length.

use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use ecdsa::signature::{Signer, Verifier};
use ml_dsa::{MlDsa44, MlDsa65, MlDsa87, MlDsaParams};
use rsa::{Pkcs1v15Sign, Pss};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::secret_key::SecretKey;
use crate::model::SigningAlgorithm;

/// What Sign and Verify act on, by MessageType.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// A message trent hashes (or signs whole, for Ed25519, ML-DSA and SM2DSA).
    Raw(&'a [u8]),
    /// A digest the caller computed with the algorithm's hash.
    Digest(&'a [u8]),
    /// ML-DSA's μ (FIPS 204), computed by the caller.
    ExternalMu(&'a [u8]),
}

impl Message<'_> {
    /// The digest the algorithm signs: the caller's, or the hash of a raw message.
    fn digest(self, algorithm: SigningAlgorithm) -> Vec<u8> {
        use SigningAlgorithm::*;
        match self {
            Message::Digest(d) | Message::ExternalMu(d) => d.to_vec(),
            Message::Raw(m) => match algorithm {
                RsassaPssSha384 | RsassaPkcs1V15Sha384 | EcdsaSha384 => Sha384::digest(m).to_vec(),
                RsassaPssSha512 | RsassaPkcs1V15Sha512 | EcdsaSha512 | Ed25519PhSha512 => {
                    Sha512::digest(m).to_vec()
                }
                _ => Sha256::digest(m).to_vec(),
            },
        }
    }
}

/// PSS with a salt as long as the digest, and without RSA blinding: the modular
/// exponentiation of `crypto-bigint` is already constant-time, and blinding (a larger
/// exponent and modulus) costs trent a third of its RSA signing throughput.
fn pss<D: Digest + sha2::digest::FixedOutputReset>() -> Pss<D> {
    Pss {
        blinded: false,
        ..Pss::new()
    }
}

fn pkcs1(algorithm: SigningAlgorithm) -> Option<Pkcs1v15Sign> {
    match algorithm {
        SigningAlgorithm::RsassaPkcs1V15Sha256 => Some(Pkcs1v15Sign::new::<Sha256>()),
        SigningAlgorithm::RsassaPkcs1V15Sha384 => Some(Pkcs1v15Sign::new::<Sha384>()),
        SigningAlgorithm::RsassaPkcs1V15Sha512 => Some(Pkcs1v15Sign::new::<Sha512>()),
        _ => None,
    }
}

macro_rules! ecdsa_sign {
    ($curve:ident, $key:expr, $digest:expr) => {{
        let sig: $curve::ecdsa::Signature = $key.sign_prehash($digest).ok()?;
        Some(sig.to_der().as_bytes().to_vec())
    }};
}

macro_rules! ecdsa_verify {
    ($curve:ident, $key:expr, $digest:expr, $sig:expr) => {{
        let Ok(sig) = $curve::ecdsa::Signature::from_der($sig) else {
            return false;
        };
        // Accept both s and n - s, as verifiers of other libraries' signatures must.
        let sig = sig.normalize_s();
        $key.verifying_key().verify_prehash($digest, &sig).is_ok()
    }};
}

impl SecretKey {
    /// Signs `message`; `None` only if the key cannot sign with `algorithm`.
    pub fn sign(&self, algorithm: SigningAlgorithm, message: Message<'_>) -> Option<Vec<u8>> {
        let digest = || message.digest(algorithm);
        match self {
            SecretKey::Rsa(k) => {
                let mut rng = rand::rng();
                let d = digest();
                match algorithm {
                    SigningAlgorithm::RsassaPssSha256 => {
                        k.private.sign_with_rng(&mut rng, pss::<Sha256>(), &d)
                    }
                    SigningAlgorithm::RsassaPssSha384 => {
                        k.private.sign_with_rng(&mut rng, pss::<Sha384>(), &d)
                    }
                    SigningAlgorithm::RsassaPssSha512 => {
                        k.private.sign_with_rng(&mut rng, pss::<Sha512>(), &d)
                    }
                    // PKCS #1 v1.5 is deterministic: no random salt, and no blinding.
                    _ => k.private.sign(pkcs1(algorithm)?, &d),
                }
                .ok()
            }
            SecretKey::P256(k) => ecdsa_sign!(p256, k, &digest()),
            SecretKey::P384(k) => ecdsa_sign!(p384, k, &digest()),
            SecretKey::P521(k) => ecdsa_sign!(p521, k, &digest()),
            SecretKey::K256(k) => ecdsa_sign!(k256, k, &digest()),
            SecretKey::Ed25519(k) => match (algorithm, message) {
                (SigningAlgorithm::Ed25519Sha512, Message::Raw(m)) => {
                    Some(k.sign(m).to_bytes().to_vec())
                }
                // AWS hashes the 64-byte digest once more: the signature is Ed25519ph
                // over the caller's bytes.
                (SigningAlgorithm::Ed25519PhSha512, Message::Digest(d)) => k
                    .sign_prehashed(Sha512::new().chain_update(d), None)
                    .ok()
                    .map(|s| s.to_bytes().to_vec()),
                _ => None,
            },
            SecretKey::MlDsa44(k) => ml_dsa_sign::<MlDsa44>(k, message),
            SecretKey::MlDsa65(k) => ml_dsa_sign::<MlDsa65>(k, message),
            SecretKey::MlDsa87(k) => ml_dsa_sign::<MlDsa87>(k, message),
            SecretKey::Sm2(k) => {
                let sig: sm2::dsa::Signature = match message {
                    Message::Raw(m) => k.signing.try_sign(m).ok()?,
                    Message::Digest(d) => k.signing.sign_prehash(d).ok()?,
                    Message::ExternalMu(_) => return None,
                };
                Some(sig.to_der().to_vec())
            }
            SecretKey::Aes(_) | SecretKey::Hmac(_) => None,
        }
    }

    /// Whether `signature` is a valid signature of `message` by this key.
    pub fn verify(
        &self,
        algorithm: SigningAlgorithm,
        message: Message<'_>,
        signature: &[u8],
    ) -> bool {
        let digest = || message.digest(algorithm);
        match self {
            SecretKey::Rsa(k) => {
                let d = digest();
                match algorithm {
                    SigningAlgorithm::RsassaPssSha256 => {
                        k.public.verify(Pss::<Sha256>::new(), &d, signature)
                    }
                    SigningAlgorithm::RsassaPssSha384 => {
                        k.public.verify(Pss::<Sha384>::new(), &d, signature)
                    }
                    SigningAlgorithm::RsassaPssSha512 => {
                        k.public.verify(Pss::<Sha512>::new(), &d, signature)
                    }
                    _ => match pkcs1(algorithm) {
                        Some(scheme) => k.public.verify(scheme, &d, signature),
                        None => return false,
                    },
                }
                .is_ok()
            }
            SecretKey::P256(k) => ecdsa_verify!(p256, k, &digest(), signature),
            SecretKey::P384(k) => ecdsa_verify!(p384, k, &digest(), signature),
            SecretKey::P521(k) => ecdsa_verify!(p521, k, &digest(), signature),
            SecretKey::K256(k) => ecdsa_verify!(k256, k, &digest(), signature),
            SecretKey::Ed25519(k) => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                    return false;
                };
                let vk = k.verifying_key();
                match (algorithm, message) {
                    (SigningAlgorithm::Ed25519Sha512, Message::Raw(m)) => {
                        vk.verify(m, &sig).is_ok()
                    }
                    (SigningAlgorithm::Ed25519PhSha512, Message::Digest(d)) => vk
                        .verify_prehashed(Sha512::new().chain_update(d), None, &sig)
                        .is_ok(),
                    _ => false,
                }
            }
            SecretKey::MlDsa44(k) => ml_dsa_verify::<MlDsa44>(k, message, signature),
            SecretKey::MlDsa65(k) => ml_dsa_verify::<MlDsa65>(k, message, signature),
            SecretKey::MlDsa87(k) => ml_dsa_verify::<MlDsa87>(k, message, signature),
            SecretKey::Sm2(k) => {
                let Ok(sig) = sm2::dsa::Signature::from_der(signature) else {
                    return false;
                };
                let vk = k.signing.verifying_key();
                match message {
                    Message::Raw(m) => vk.verify(m, &sig).is_ok(),
                    Message::Digest(d) => vk.verify_prehash(d, &sig).is_ok(),
                    Message::ExternalMu(_) => false,
                }
            }
            SecretKey::Aes(_) | SecretKey::Hmac(_) => false,
        }
    }
}

fn ml_dsa_sign<P: MlDsaParams>(
    key: &ml_dsa::SigningKey<P>,
    message: Message<'_>,
) -> Option<Vec<u8>> {
    let mut rng = rand::rng();
    let expanded = key.expanded_key();
    let sig = match message {
        Message::Raw(m) => expanded.sign_randomized(m, &[], &mut rng).ok()?,
        Message::ExternalMu(mu) => expanded
            .sign_mu_randomized(&mu.try_into().ok()?, &mut rng)
            .ok()?,
        Message::Digest(_) => return None,
    };
    Some(sig.encode().to_vec())
}

fn ml_dsa_verify<P: MlDsaParams>(
    key: &ml_dsa::SigningKey<P>,
    message: Message<'_>,
    signature: &[u8],
) -> bool {
    let Ok(sig) = ml_dsa::Signature::<P>::try_from(signature) else {
        return false;
    };
    let vk = ml_dsa::Keypair::verifying_key(key);
    match message {
        Message::Raw(m) => vk.verify_with_context(m, &[], &sig),
        Message::ExternalMu(mu) => match mu.try_into() {
            Ok(mu) => vk.verify_mu(&mu, &sig),
            Err(_) => false,
        },
        Message::Digest(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeySpec;

    #[test]
    fn every_signing_spec_signs_and_verifies_its_algorithms() {
        for spec in KeySpec::ALL {
            if spec.rsa_bits().is_some_and(|b| b > 2048) {
                continue;
            }
            let key = SecretKey::generate(*spec);
            for alg in spec.signing_algorithms() {
                for mt in alg.message_types() {
                    let digest = vec![7u8; alg.digest_len()];
                    let message = match mt {
                        crate::model::MessageType::Raw => Message::Raw(b"hello"),
                        crate::model::MessageType::Digest => Message::Digest(&digest),
                        crate::model::MessageType::ExternalMu => Message::ExternalMu(&digest),
                    };
                    let sig = key
                        .sign(*alg, message)
                        .unwrap_or_else(|| panic!("{spec} {alg}"));
                    assert!(key.verify(*alg, message, &sig), "{spec} {alg} {mt}");
                    let mut bad = sig.clone();
                    let last = bad.len() - 1;
                    bad[last] ^= 1;
                    assert!(!key.verify(*alg, message, &bad), "{spec} {alg} tampered");
                }
            }
        }
    }

    #[test]
    fn raw_and_digest_signatures_are_interchangeable() {
        let key = SecretKey::generate(KeySpec::EccNistP256);
        let alg = SigningAlgorithm::EcdsaSha256;
        let sig = key.sign(alg, Message::Raw(b"msg")).unwrap();
        let digest = Sha256::digest(b"msg");
        assert!(key.verify(alg, Message::Digest(&digest), &sig));
    }
}
