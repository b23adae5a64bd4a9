//! The API's string enumerations, spelled as in the AWS model. An unknown name never
//! reaches deserialisation: the model check answers it first with AWS's
//! `ValidationException` listing the allowed set.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares an AWS enumeration: `as_str`, `parse`, the full value set `ALL`, and serde.
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::parse_bytes(s.as_bytes())
            }

            /// The value named by `name`'s bytes, without checking their UTF-8 first
            /// (start-up reads a few names a key).
            pub fn parse_bytes(name: &[u8]) -> Option<Self> {
                $(if name == $text.as_bytes() { return Some($name::$variant) })+
                None
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl Named for $name {
            const NAME: &'static str = stringify!($name);
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(Name(std::marker::PhantomData))
            }
        }
    };
}

/// Reads an enumeration's name where it lies (a borrowed or transient string), without
/// copying it first.
struct Name<T>(std::marker::PhantomData<T>);

/// The enumerations [`aws_enum!`] declares, as their names.
trait Named: Sized {
    const NAME: &'static str;
    fn parse(s: &str) -> Option<Self>;
}

impl<T: Named> serde::de::Visitor<'_> for Name<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a {} name", T::NAME)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
        T::parse(s).ok_or_else(|| E::custom(format!("unknown {} {s:?}", T::NAME)))
    }
}

aws_enum!(KeySpec {
    Rsa2048 = "RSA_2048",
    Rsa3072 = "RSA_3072",
    Rsa4096 = "RSA_4096",
    EccNistP256 = "ECC_NIST_P256",
    EccNistP384 = "ECC_NIST_P384",
    EccNistP521 = "ECC_NIST_P521",
    EccSecgP256k1 = "ECC_SECG_P256K1",
    SymmetricDefault = "SYMMETRIC_DEFAULT",
    Hmac224 = "HMAC_224",
    Hmac256 = "HMAC_256",
    Hmac384 = "HMAC_384",
    Hmac512 = "HMAC_512",
    Sm2 = "SM2",
    MlDsa44 = "ML_DSA_44",
    MlDsa65 = "ML_DSA_65",
    MlDsa87 = "ML_DSA_87",
    EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
});

aws_enum!(
    /// The deprecated twin of [`KeySpec`], still accepted by CreateKey and still returned.
    CustomerMasterKeySpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        Hmac224 = "HMAC_224",
        Hmac256 = "HMAC_256",
        Hmac384 = "HMAC_384",
        Hmac512 = "HMAC_512",
        Sm2 = "SM2",
    }
);

impl CustomerMasterKeySpec {
    pub fn key_spec(self) -> KeySpec {
        KeySpec::parse(self.as_str()).unwrap_or(KeySpec::SymmetricDefault)
    }
}

aws_enum!(KeyUsage {
    SignVerify = "SIGN_VERIFY",
    EncryptDecrypt = "ENCRYPT_DECRYPT",
    GenerateVerifyMac = "GENERATE_VERIFY_MAC",
    KeyAgreement = "KEY_AGREEMENT",
});

aws_enum!(KeyState {
    Creating = "Creating",
    Enabled = "Enabled",
    Disabled = "Disabled",
    PendingDeletion = "PendingDeletion",
    PendingImport = "PendingImport",
    PendingReplicaDeletion = "PendingReplicaDeletion",
    Unavailable = "Unavailable",
    Updating = "Updating",
});

impl KeyState {
    /// How AWS words the state in its error messages: `<arn> is pending deletion.`
    pub fn phrase(self) -> &'static str {
        match self {
            KeyState::Creating => "creating",
            KeyState::Enabled => "enabled",
            KeyState::Disabled => "disabled",
            KeyState::PendingDeletion => "pending deletion",
            KeyState::PendingImport => "pending import",
            KeyState::PendingReplicaDeletion => "pending replica deletion",
            KeyState::Unavailable => "unavailable",
            KeyState::Updating => "updating",
        }
    }
}

aws_enum!(Origin {
    AwsKms = "AWS_KMS",
    External = "EXTERNAL",
    AwsCloudHsm = "AWS_CLOUDHSM",
    ExternalKeyStore = "EXTERNAL_KEY_STORE",
});

aws_enum!(KeyManager {
    Aws = "AWS",
    Customer = "CUSTOMER",
});

aws_enum!(EncryptionAlgorithm {
    SymmetricDefault = "SYMMETRIC_DEFAULT",
    RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
    RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
    Sm2Pke = "SM2PKE",
});

aws_enum!(SigningAlgorithm {
    RsassaPssSha256 = "RSASSA_PSS_SHA_256",
    RsassaPssSha384 = "RSASSA_PSS_SHA_384",
    RsassaPssSha512 = "RSASSA_PSS_SHA_512",
    RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
    RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
    RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
    EcdsaSha256 = "ECDSA_SHA_256",
    EcdsaSha384 = "ECDSA_SHA_384",
    EcdsaSha512 = "ECDSA_SHA_512",
    Sm2Dsa = "SM2DSA",
    MlDsaShake256 = "ML_DSA_SHAKE_256",
    Ed25519Sha512 = "ED25519_SHA_512",
    Ed25519PhSha512 = "ED25519_PH_SHA_512",
});

aws_enum!(MacAlgorithm {
    HmacSha224 = "HMAC_SHA_224",
    HmacSha256 = "HMAC_SHA_256",
    HmacSha384 = "HMAC_SHA_384",
    HmacSha512 = "HMAC_SHA_512",
});

aws_enum!(KeyAgreementAlgorithm { Ecdh = "ECDH" });

aws_enum!(MessageType {
    Raw = "RAW",
    Digest = "DIGEST",
    ExternalMu = "EXTERNAL_MU",
});

aws_enum!(
    /// The key pairs GenerateDataKeyPair makes: a subset of [`KeySpec`].
    DataKeyPairSpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        Sm2 = "SM2",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
    }
);

impl DataKeyPairSpec {
    pub fn key_spec(self) -> KeySpec {
        KeySpec::parse(self.as_str()).expect("every key pair spec is a key spec")
    }
}

aws_enum!(
    /// Where one material entry of a key stands in its rotation history.
    MaterialState {
        NonCurrent = "NON_CURRENT",
        Current = "CURRENT",
        PendingRotation = "PENDING_ROTATION",
    }
);

aws_enum!(RotationType {
    Automatic = "AUTOMATIC",
    OnDemand = "ON_DEMAND",
});

aws_enum!(ExpirationModel {
    KeyMaterialExpires = "KEY_MATERIAL_EXPIRES",
    KeyMaterialDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE",
});

impl ExpirationModel {
    /// The model of imported material that expires at `valid_to`, if ever.
    pub fn of(valid_to: Option<crate::clock::Timestamp>) -> Self {
        match valid_to {
            Some(_) => ExpirationModel::KeyMaterialExpires,
            None => ExpirationModel::KeyMaterialDoesNotExpire,
        }
    }
}

aws_enum!(ImportType {
    NewKeyMaterial = "NEW_KEY_MATERIAL",
    ExistingKeyMaterial = "EXISTING_KEY_MATERIAL",
});

aws_enum!(ImportState {
    Imported = "IMPORTED",
    PendingImport = "PENDING_IMPORT",
});

aws_enum!(IncludeKeyMaterial {
    AllKeyMaterial = "ALL_KEY_MATERIAL",
    RotationsOnly = "ROTATIONS_ONLY",
});

aws_enum!(
    /// How key material is wrapped for ImportKeyMaterial (the model's `AlgorithmSpec`).
    WrappingAlgorithm {
        RsaesPkcs1V15 = "RSAES_PKCS1_V1_5",
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        RsaAesKeyWrapSha1 = "RSA_AES_KEY_WRAP_SHA_1",
        RsaAesKeyWrapSha256 = "RSA_AES_KEY_WRAP_SHA_256",
        Sm2Pke = "SM2PKE",
    }
);

aws_enum!(WrappingKeySpec {
    Rsa2048 = "RSA_2048",
    Rsa3072 = "RSA_3072",
    Rsa4096 = "RSA_4096",
    Sm2 = "SM2",
});

impl WrappingKeySpec {
    pub fn key_spec(self) -> KeySpec {
        KeySpec::parse(self.as_str()).expect("every wrapping key spec is a key spec")
    }
}

aws_enum!(GrantOperation {
    Decrypt = "Decrypt",
    Encrypt = "Encrypt",
    GenerateDataKey = "GenerateDataKey",
    GenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext",
    ReEncryptFrom = "ReEncryptFrom",
    ReEncryptTo = "ReEncryptTo",
    Sign = "Sign",
    Verify = "Verify",
    GetPublicKey = "GetPublicKey",
    CreateGrant = "CreateGrant",
    RetireGrant = "RetireGrant",
    DescribeKey = "DescribeKey",
    GenerateDataKeyPair = "GenerateDataKeyPair",
    GenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext",
    GenerateMac = "GenerateMac",
    VerifyMac = "VerifyMac",
    DeriveSharedSecret = "DeriveSharedSecret",
});

aws_enum!(CustomKeyStoreType {
    AwsCloudHsm = "AWS_CLOUDHSM",
    ExternalKeyStore = "EXTERNAL_KEY_STORE",
});

aws_enum!(ConnectionState {
    Connected = "CONNECTED",
    Connecting = "CONNECTING",
    Failed = "FAILED",
    Disconnected = "DISCONNECTED",
    Disconnecting = "DISCONNECTING",
});

aws_enum!(XksProxyConnectivity {
    PublicEndpoint = "PUBLIC_ENDPOINT",
    VpcEndpointService = "VPC_ENDPOINT_SERVICE",
});

aws_enum!(DataKeySpec {
    Aes256 = "AES_256",
    Aes128 = "AES_128",
});

impl DataKeySpec {
    pub fn byte_len(self) -> usize {
        match self {
            DataKeySpec::Aes256 => 32,
            DataKeySpec::Aes128 => 16,
        }
    }
}

aws_enum!(KeyEncryptionMechanism {
    RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
});

aws_enum!(DryRunModifier {
    IgnoreCiphertext = "IGNORE_CIPHERTEXT",
});

aws_enum!(MultiRegionKeyType {
    Primary = "PRIMARY",
    Replica = "REPLICA",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for spec in KeySpec::ALL {
            assert_eq!(KeySpec::parse(spec.as_str()), Some(*spec));
        }
        assert_eq!(KeySpec::parse("symmetric_default"), None);
    }

    #[test]
    fn deserialises_known_names_only() {
        let v: DataKeySpec = serde_json::from_str("\"AES_128\"").unwrap();
        assert_eq!(v, DataKeySpec::Aes128);
        assert!(serde_json::from_str::<DataKeySpec>("\"AES_512\"").is_err());
    }
}
