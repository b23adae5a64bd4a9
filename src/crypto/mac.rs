//! HMAC keys (HMAC_224 to HMAC_512). The keyed state is computed once per key, so a
//! GenerateMac only clones it and hashes the message; VerifyMac compares in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};

use super::{Secret, random_bytes};
use crate::model::KeySpec;

enum State {
    Sha224(Hmac<Sha224>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

pub struct HmacKey {
    spec: KeySpec,
    bytes: Secret,
    state: State,
}

impl HmacKey {
    /// A random key as long as the spec's digest (28, 32, 48 or 64 bytes).
    pub fn generate(spec: KeySpec) -> Self {
        let len = match spec {
            KeySpec::Hmac224 => 28,
            KeySpec::Hmac384 => 48,
            KeySpec::Hmac512 => 64,
            _ => 32,
        };
        Self::new(spec, random_bytes(len)).expect("an HMAC spec")
    }

    /// `None` if `spec` is not an HMAC spec.
    pub fn new(spec: KeySpec, bytes: Secret) -> Option<Self> {
        let key = bytes.expose();
        let state = match spec {
            KeySpec::Hmac224 => State::Sha224(Hmac::new_from_slice(key).ok()?),
            KeySpec::Hmac256 => State::Sha256(Hmac::new_from_slice(key).ok()?),
            KeySpec::Hmac384 => State::Sha384(Hmac::new_from_slice(key).ok()?),
            KeySpec::Hmac512 => State::Sha512(Hmac::new_from_slice(key).ok()?),
            _ => return None,
        };
        Some(Self { spec, bytes, state })
    }

    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    pub fn bytes(&self) -> &Secret {
        &self.bytes
    }

    pub fn mac(&self, message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + Clone>(state: &M, message: &[u8]) -> Vec<u8> {
            let mut m = state.clone();
            m.update(message);
            m.finalize().into_bytes().to_vec()
        }
        match &self.state {
            State::Sha224(s) => run(s, message),
            State::Sha256(s) => run(s, message),
            State::Sha384(s) => run(s, message),
            State::Sha512(s) => run(s, message),
        }
    }

    /// Constant-time comparison of `tag` with the MAC of `message`.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        fn run<M: Mac + Clone>(state: &M, message: &[u8], tag: &[u8]) -> bool {
            let mut m = state.clone();
            m.update(message);
            m.verify_slice(tag).is_ok()
        }
        match &self.state {
            State::Sha224(s) => run(s, message, tag),
            State::Sha256(s) => run(s, message, tag),
            State::Sha384(s) => run(s, message, tag),
            State::Sha512(s) => run(s, message, tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        // Key "Jefe", data "what do ya want for nothing?".
        let key = HmacKey::new(KeySpec::Hmac256, Secret::new(b"Jefe".to_vec())).unwrap();
        let mac = key.mac(b"what do ya want for nothing?");
        assert_eq!(
            super::super::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(key.verify(b"what do ya want for nothing?", &mac));
        assert!(!key.verify(b"what do ya want for nothing!", &mac));
        assert!(!key.verify(b"what do ya want for nothing?", &mac[..31]));
    }

    #[test]
    fn lengths_follow_the_spec() {
        for (spec, len) in [
            (KeySpec::Hmac224, 28),
            (KeySpec::Hmac256, 32),
            (KeySpec::Hmac384, 48),
            (KeySpec::Hmac512, 64),
        ] {
            let k = HmacKey::generate(spec);
            assert_eq!(k.bytes().len(), len);
            assert_eq!(k.mac(b"m").len(), len);
        }
    }
}
