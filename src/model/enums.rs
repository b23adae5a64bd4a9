//! The API's string enumerations, spelled as in the AWS model. Requests carry them as
//! [`Wire`] values so that an unknown name becomes a `ValidationException` listing the
//! allowed set, as AWS answers, instead of a deserialisation failure.

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
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl AwsEnum for $name {
            fn as_str(self) -> &'static str { $name::as_str(self) }
            fn parse(s: &str) -> Option<Self> { $name::parse(s) }
            fn all() -> &'static [Self] { Self::ALL }
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
    };
}

/// What every generated enumeration offers, for the generic [`Wire`] and the validator.
pub trait AwsEnum: Copy + 'static {
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self>;
    fn all() -> &'static [Self];
}

/// An enumeration member as it arrived: a known value, or the unknown text to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire<T> {
    Known(T),
    Unknown(String),
}

impl<T: AwsEnum> Wire<T> {
    pub fn known(&self) -> Option<T> {
        match self {
            Wire::Known(v) => Some(*v),
            Wire::Unknown(_) => None,
        }
    }
}

impl<'de, T: AwsEnum> Deserialize<'de> for Wire<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match T::parse(&s) {
            Some(v) => Wire::Known(v),
            None => Wire::Unknown(s),
        })
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
    fn every_key_spec_has_a_usage() {
        for spec in KeySpec::ALL {
            assert!(!spec.usages().is_empty(), "{spec}");
        }
        assert!(
            !KeySpec::SymmetricDefault
                .usages()
                .contains(&KeyUsage::SignVerify)
        );
        assert!(KeySpec::Rsa2048.usages().contains(&KeyUsage::SignVerify));
    }

    #[test]
    fn unknown_wire_value_is_kept_for_the_error_message() {
        let w: Wire<DataKeySpec> = serde_json::from_str("\"AES_512\"").unwrap();
        assert_eq!(w, Wire::Unknown("AES_512".into()));
        let w: Wire<DataKeySpec> = serde_json::from_str("\"AES_128\"").unwrap();
        assert_eq!(w.known(), Some(DataKeySpec::Aes128));
    }
}
