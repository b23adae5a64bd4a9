//! What each key spec can do: its key usages and, per usage, its algorithms, as AWS
//! lists them in DescribeKey and GetPublicKey. The one table handlers ask before they
//! use a key, so that a spec, usage or algorithm is never compared by hand elsewhere.

use super::Scope;
use super::enums::{
    CustomerMasterKeySpec, EncryptionAlgorithm, KeyAgreementAlgorithm, KeySpec, KeyUsage,
    MacAlgorithm, MessageType, SigningAlgorithm,
};

impl KeySpec {
    /// The key usages AWS allows for keys of this spec (CreateKey's KeyUsage).
    pub fn usages(self) -> &'static [KeyUsage] {
        use KeyUsage::*;
        match self {
            KeySpec::SymmetricDefault => &[EncryptDecrypt],
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                &[GenerateVerifyMac]
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[EncryptDecrypt, SignVerify],
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => {
                &[SignVerify, KeyAgreement]
            }
            KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519
            | KeySpec::MlDsa44
            | KeySpec::MlDsa65
            | KeySpec::MlDsa87 => &[SignVerify],
            KeySpec::Sm2 => &[EncryptDecrypt, SignVerify, KeyAgreement],
        }
    }

    /// The deprecated CustomerMasterKeySpec AWS still reports, where one exists.
    pub fn customer_master_key_spec(self) -> Option<CustomerMasterKeySpec> {
        CustomerMasterKeySpec::parse(self.as_str())
    }

    /// Keys of every spec but SYMMETRIC_DEFAULT and HMAC have a public key.
    pub fn is_asymmetric(self) -> bool {
        !matches!(
            self,
            KeySpec::SymmetricDefault
                | KeySpec::Hmac224
                | KeySpec::Hmac256
                | KeySpec::Hmac384
                | KeySpec::Hmac512
        )
    }

    /// Whether the key spec exists in `scope`'s region: SM2 only in the China Regions,
    /// as on AWS.
    pub fn offered_in(self, scope: &Scope) -> bool {
        self != KeySpec::Sm2 || scope.is_china()
    }

    pub fn encryption_algorithms(self) -> &'static [EncryptionAlgorithm] {
        use EncryptionAlgorithm::*;
        match self {
            KeySpec::SymmetricDefault => &[SymmetricDefault],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                &[RsaesOaepSha1, RsaesOaepSha256]
            }
            KeySpec::Sm2 => &[Sm2Pke],
            _ => &[],
        }
    }

    pub fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        use SigningAlgorithm::*;
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
                RsassaPkcs1V15Sha256,
                RsassaPkcs1V15Sha384,
                RsassaPkcs1V15Sha512,
                RsassaPssSha256,
                RsassaPssSha384,
                RsassaPssSha512,
            ],
            KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &[EcdsaSha256],
            KeySpec::EccNistP384 => &[EcdsaSha384],
            KeySpec::EccNistP521 => &[EcdsaSha512],
            KeySpec::EccNistEdwards25519 => &[Ed25519Sha512, Ed25519PhSha512],
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[MlDsaShake256],
            KeySpec::Sm2 => &[Sm2Dsa],
            _ => &[],
        }
    }

    pub fn mac_algorithms(self) -> &'static [MacAlgorithm] {
        match self {
            KeySpec::Hmac224 => &[MacAlgorithm::HmacSha224],
            KeySpec::Hmac256 => &[MacAlgorithm::HmacSha256],
            KeySpec::Hmac384 => &[MacAlgorithm::HmacSha384],
            KeySpec::Hmac512 => &[MacAlgorithm::HmacSha512],
            _ => &[],
        }
    }

    pub fn key_agreement_algorithms(self) -> &'static [KeyAgreementAlgorithm] {
        match self {
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 | KeySpec::Sm2 => {
                &[KeyAgreementAlgorithm::Ecdh]
            }
            _ => &[],
        }
    }

    /// The RSA modulus size in bits, for RSA specs.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            KeySpec::Rsa2048 => Some(2048),
            KeySpec::Rsa3072 => Some(3072),
            KeySpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }
}

/// The algorithms a key supports for its usage (empty lists are left out of KeyMetadata).
#[derive(Debug, Clone, Copy)]
pub struct Algorithms {
    pub encryption: &'static [EncryptionAlgorithm],
    pub signing: &'static [SigningAlgorithm],
    pub mac: &'static [MacAlgorithm],
    pub key_agreement: &'static [KeyAgreementAlgorithm],
}

impl Algorithms {
    pub fn of(spec: KeySpec, usage: KeyUsage) -> Self {
        /// The list if the key has `wanted` usage, else none.
        fn when<T>(usage: KeyUsage, wanted: KeyUsage, list: &'static [T]) -> &'static [T] {
            if usage == wanted { list } else { &[] }
        }
        Self {
            encryption: when(
                usage,
                KeyUsage::EncryptDecrypt,
                spec.encryption_algorithms(),
            ),
            signing: when(usage, KeyUsage::SignVerify, spec.signing_algorithms()),
            mac: when(usage, KeyUsage::GenerateVerifyMac, spec.mac_algorithms()),
            key_agreement: when(
                usage,
                KeyUsage::KeyAgreement,
                spec.key_agreement_algorithms(),
            ),
        }
    }
}

impl SigningAlgorithm {
    /// The message types the algorithm signs: a raw message (hashed by trent), a digest
    /// the caller computed, or an ML-DSA external μ. Ed25519 keeps its two algorithms
    /// apart: pure Ed25519 signs only RAW messages, Ed25519ph only 64-byte digests.
    pub fn message_types(self) -> &'static [MessageType] {
        match self {
            SigningAlgorithm::Ed25519Sha512 => &[MessageType::Raw],
            SigningAlgorithm::Ed25519PhSha512 => &[MessageType::Digest],
            SigningAlgorithm::MlDsaShake256 => &[MessageType::Raw, MessageType::ExternalMu],
            _ => &[MessageType::Raw, MessageType::Digest],
        }
    }

    /// The length of a DIGEST (or EXTERNAL_MU) message for this algorithm.
    pub fn digest_len(self) -> usize {
        use SigningAlgorithm::*;
        match self {
            RsassaPssSha256 | RsassaPkcs1V15Sha256 | EcdsaSha256 | Sm2Dsa => 32,
            RsassaPssSha384 | RsassaPkcs1V15Sha384 | EcdsaSha384 => 48,
            RsassaPssSha512 | RsassaPkcs1V15Sha512 | EcdsaSha512 | Ed25519PhSha512
            | MlDsaShake256 | Ed25519Sha512 => 64,
        }
    }
}

impl MacAlgorithm {
    /// The MAC length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            MacAlgorithm::HmacSha224 => 28,
            MacAlgorithm::HmacSha256 => 32,
            MacAlgorithm::HmacSha384 => 48,
            MacAlgorithm::HmacSha512 => 64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_and_usage_has_algorithms() {
        for spec in KeySpec::ALL {
            assert!(!spec.usages().is_empty(), "{spec}");
            for usage in spec.usages() {
                let a = Algorithms::of(*spec, *usage);
                let n = a.encryption.len() + a.signing.len() + a.mac.len() + a.key_agreement.len();
                assert!(n > 0, "{spec} {usage}");
            }
        }
        assert!(
            !KeySpec::SymmetricDefault
                .usages()
                .contains(&KeyUsage::SignVerify)
        );
    }

    #[test]
    fn message_types_and_digest_lengths() {
        assert_eq!(SigningAlgorithm::EcdsaSha384.digest_len(), 48);
        assert!(
            !SigningAlgorithm::Ed25519Sha512
                .message_types()
                .contains(&MessageType::Digest)
        );
        assert!(
            SigningAlgorithm::MlDsaShake256
                .message_types()
                .contains(&MessageType::ExternalMu)
        );
    }
}
