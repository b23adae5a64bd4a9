//! The 54 operations of the KMS API, named as in `X-Amz-Target: TrentService.<Name>`.

macro_rules! operations {
    ($($op:ident),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $($op),+ }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$op),+];

            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op)),+ }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name { $(stringify!($op) => Some(Operation::$op),)+ _ => None }
            }
        }
    };
}

operations!(
    CancelKeyDeletion,
    ConnectCustomKeyStore,
    CreateAlias,
    CreateCustomKeyStore,
    CreateGrant,
    CreateKey,
    Decrypt,
    DeleteAlias,
    DeleteCustomKeyStore,
    DeleteImportedKeyMaterial,
    DeriveSharedSecret,
    DescribeCustomKeyStores,
    DescribeKey,
    DisableKey,
    DisableKeyRotation,
    DisconnectCustomKeyStore,
    EnableKey,
    EnableKeyRotation,
    Encrypt,
    GenerateDataKey,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    GenerateDataKeyWithoutPlaintext,
    GenerateMac,
    GenerateRandom,
    GetKeyLastUsage,
    GetKeyPolicy,
    GetKeyRotationStatus,
    GetParametersForImport,
    GetPublicKey,
    ImportKeyMaterial,
    ListAliases,
    ListGrants,
    ListKeyPolicies,
    ListKeyRotations,
    ListKeys,
    ListResourceTags,
    ListRetirableGrants,
    PutKeyPolicy,
    ReEncrypt,
    ReplicateKey,
    RetireGrant,
    RevokeGrant,
    RotateKeyOnDemand,
    ScheduleKeyDeletion,
    Sign,
    TagResource,
    UntagResource,
    UpdateAlias,
    UpdateCustomKeyStore,
    UpdateKeyDescription,
    UpdatePrimaryRegion,
    Verify,
    VerifyMac,
);

impl Operation {
    /// Operations whose handlers never open a write (the AWS managed key that naming an
    /// `alias/aws/*` may create is written on a task of its own): they may run on the
    /// request's own task, since a client hanging up cannot cut a write short. Every other
    /// operation runs on a task of its own.
    pub fn never_writes(self) -> bool {
        use Operation::*;
        matches!(
            self,
            Encrypt
                | Decrypt
                | ReEncrypt
                | GenerateDataKey
                | GenerateDataKeyWithoutPlaintext
                | GenerateDataKeyPair
                | GenerateDataKeyPairWithoutPlaintext
                | GenerateRandom
                | Sign
                | Verify
                | GenerateMac
                | VerifyMac
                | DeriveSharedSecret
                | GetPublicKey
                | DescribeKey
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_54_operations_round_trip() {
        assert_eq!(Operation::ALL.len(), 54);
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
        assert_eq!(Operation::from_name("encrypt"), None);
    }
}
