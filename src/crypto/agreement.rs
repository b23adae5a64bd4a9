//! ECDH for DeriveSharedSecret: the raw shared secret (the x-coordinate of the shared
//! point, as long as the curve's field), with no key derivation, as AWS returns it.

use p256::elliptic_curve::ecdh::diffie_hellman;
use p256::pkcs8::DecodePublicKey;

use super::Secret;
use super::secret_key::SecretKey;

macro_rules! ecdh {
    ($curve:ident, $scalar:expr, $peer:expr) => {{
        let peer = $curve::PublicKey::from_public_key_der($peer).ok()?;
        let shared = diffie_hellman($scalar, peer.as_affine());
        Some(Secret::new(shared.raw_secret_bytes().to_vec()))
    }};
}

impl SecretKey {
    /// The shared secret with the peer's DER SubjectPublicKeyInfo; `None` if the peer key
    /// does not parse or is not on this key's curve.
    pub fn derive_shared_secret(&self, peer_public_key: &[u8]) -> Option<Secret> {
        match self {
            SecretKey::P256(k) => ecdh!(p256, k.as_nonzero_scalar(), peer_public_key),
            SecretKey::P384(k) => ecdh!(p384, k.as_nonzero_scalar(), peer_public_key),
            SecretKey::P521(k) => ecdh!(p521, k.as_nonzero_scalar(), peer_public_key),
            SecretKey::Sm2(k) => ecdh!(sm2, k.secret.to_nonzero_scalar(), peer_public_key),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeySpec;

    #[test]
    fn both_sides_agree_and_curves_must_match() {
        for spec in [
            KeySpec::EccNistP256,
            KeySpec::EccNistP384,
            KeySpec::EccNistP521,
            KeySpec::Sm2,
        ] {
            let a = SecretKey::generate(spec);
            let b = SecretKey::generate(spec);
            let ab = a
                .derive_shared_secret(&b.public_key_der().unwrap())
                .unwrap();
            let ba = b
                .derive_shared_secret(&a.public_key_der().unwrap())
                .unwrap();
            assert_eq!(ab, ba, "{spec}");
        }
        let p256 = SecretKey::generate(KeySpec::EccNistP256);
        let p384 = SecretKey::generate(KeySpec::EccNistP384);
        assert!(
            p256.derive_shared_secret(&p384.public_key_der().unwrap())
                .is_none()
        );
        assert!(p256.derive_shared_secret(b"garbage").is_none());
    }
}
