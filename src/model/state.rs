//! The key state machine: for each operation and key state, success or the exception AWS
//! raises ("Key states of AWS KMS keys" in the AWS KMS developer guide). Handlers call
//! [`check`] and never test states themselves.

use super::enums::{KeyManager, KeyState};
use super::key::Key;
use super::operation::Operation;
use crate::error::{ErrorCode, KmsError, Result};

/// How an operation reacts to key states: one column of the AWS table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Works in every state (describe, list, read policy, delete alias, ...).
    Any,
    /// Cryptographic use: only an enabled key.
    Use,
    /// CreateGrant: an enabled key, or one whose custom key store is disconnected, or one
    /// whose primary Region is changing.
    Grant,
    /// ReplicateKey: only an enabled primary (not one whose primary Region is changing).
    Replicate,
    /// EnableKey / DisableKey.
    Toggle,
    ScheduleDeletion,
    CancelDeletion,
    /// Metadata changes (aliases, tags, description): anything but a key on its way out.
    Manage,
    /// Turning automatic rotation on or off. A key waiting for imported material passes
    /// here: the handler refuses it for its origin, as AWS does.
    RotationSettings,
    /// On-demand rotation.
    Rotation,
    /// GetParametersForImport, ImportKeyMaterial.
    Import,
    /// DeleteImportedKeyMaterial: any state but a key still being created or updated
    /// (a key pending deletion keeps its state).
    DeleteMaterial,
    /// Operations that name no key (CreateKey, ListKeys, custom key stores, ...).
    NoKey,
}

fn rule(op: Operation) -> Rule {
    use Operation::*;
    match op {
        Encrypt
        | Decrypt
        | ReEncrypt
        | GenerateDataKey
        | GenerateDataKeyWithoutPlaintext
        | GenerateDataKeyPair
        | GenerateDataKeyPairWithoutPlaintext
        | Sign
        | Verify
        | GenerateMac
        | VerifyMac
        | DeriveSharedSecret
        | GetPublicKey
        | UpdatePrimaryRegion => Rule::Use,
        ReplicateKey => Rule::Replicate,
        CreateGrant => Rule::Grant,
        EnableKey | DisableKey => Rule::Toggle,
        ScheduleKeyDeletion => Rule::ScheduleDeletion,
        CancelKeyDeletion => Rule::CancelDeletion,
        CreateAlias | UpdateAlias | TagResource | UntagResource | UpdateKeyDescription => {
            Rule::Manage
        }
        GetParametersForImport | ImportKeyMaterial => Rule::Import,
        EnableKeyRotation | DisableKeyRotation => Rule::RotationSettings,
        RotateKeyOnDemand => Rule::Rotation,
        DescribeKey | GetKeyPolicy | PutKeyPolicy | ListKeyPolicies | ListResourceTags
        | ListAliases | DeleteAlias | GetKeyRotationStatus | ListKeyRotations | ListGrants
        | RetireGrant | RevokeGrant | GetKeyLastUsage => Rule::Any,
        DeleteImportedKeyMaterial => Rule::DeleteMaterial,
        CreateKey
        | ListKeys
        | GenerateRandom
        | ListRetirableGrants
        | CreateCustomKeyStore
        | ConnectCustomKeyStore
        | DeleteCustomKeyStore
        | DescribeCustomKeyStores
        | DisconnectCustomKeyStore
        | UpdateCustomKeyStore => Rule::NoKey,
    }
}

/// Operations a customer may not perform on an AWS managed key: its key policy allows
/// only use through AWS services, so AWS answers AccessDeniedException.
fn denied_on_aws_managed(op: Operation) -> bool {
    use Operation::*;
    matches!(
        op,
        EnableKey
            | DisableKey
            | ScheduleKeyDeletion
            | CancelKeyDeletion
            | CreateAlias
            | UpdateAlias
            | TagResource
            | UntagResource
            | UpdateKeyDescription
            | PutKeyPolicy
            | EnableKeyRotation
            | DisableKeyRotation
            | RotateKeyOnDemand
            | ReplicateKey
            | UpdatePrimaryRegion
            | CreateGrant
    )
}

/// Succeeds if `op` may act on `key` in its current state, else the AWS exception.
pub fn check(op: Operation, key: &Key) -> Result<()> {
    use KeyState::*;
    if key.manager == KeyManager::Aws && denied_on_aws_managed(op) {
        return Err(KmsError::new(
            ErrorCode::AccessDenied,
            format!(
                "User: arn:{}:iam::{}:root is not authorized to perform: kms:{} on resource: {} because no resource-based policy allows the kms:{} action",
                key.scope.partition(),
                key.scope.account,
                op.name(),
                key.arn(),
                op.name()
            ),
        ));
    }
    let state = key.status();
    let invalid = || KmsError::invalid_state(format!("{} is {}.", key.arn(), state.phrase()));
    match (rule(op), state) {
        (Rule::Any | Rule::NoKey, _) => Ok(()),
        (Rule::Use, Enabled | Updating) | (Rule::Replicate, Enabled) => Ok(()),
        (Rule::Grant, Enabled | Unavailable | Updating) => Ok(()),
        (
            Rule::Use | Rule::Grant | Rule::Replicate | Rule::Rotation | Rule::RotationSettings,
            Disabled,
        ) => Err(KmsError::new(
            ErrorCode::Disabled,
            format!("{} is disabled.", key.arn()),
        )),
        // A key in a disconnected custom key store: enabling or disabling it succeeds and
        // takes effect when the store is connected again.
        (Rule::Toggle, Enabled | Disabled | Unavailable) => Ok(()),
        (Rule::ScheduleDeletion, Enabled | Disabled | PendingImport | Unavailable | Creating) => {
            Ok(())
        }
        (Rule::CancelDeletion, PendingDeletion | PendingReplicaDeletion) => Ok(()),
        (Rule::CancelDeletion, _) => Err(KmsError::invalid_state(format!(
            "{} is not pending deletion.",
            key.arn()
        ))),
        (Rule::Manage, Enabled | Disabled | PendingImport | Unavailable | Creating | Updating) => {
            Ok(())
        }
        (Rule::Import, Enabled | Disabled | PendingImport) => Ok(()),
        (Rule::DeleteMaterial, Creating | Updating) => Err(invalid()),
        (Rule::DeleteMaterial, _) => Ok(()),
        (Rule::Rotation, Enabled | Unavailable | Updating) => Ok(()),
        (Rule::RotationSettings, Enabled | PendingImport | Unavailable | Updating) => Ok(()),
        _ => Err(invalid()),
    }
}

/// The state `key` moves to for a lifecycle operation (after [`check`] passed).
pub fn next_state(op: Operation, key: &Key) -> KeyState {
    match op {
        Operation::EnableKey => KeyState::Enabled,
        Operation::DisableKey => KeyState::Disabled,
        // A primary key waits for its replicas to be deleted first.
        Operation::ScheduleKeyDeletion if !key.replica_regions().is_empty() => {
            KeyState::PendingReplicaDeletion
        }
        Operation::ScheduleKeyDeletion => KeyState::PendingDeletion,
        // A key still waiting for imported material goes back to waiting.
        Operation::CancelKeyDeletion if !key.has_material() => KeyState::PendingImport,
        // AWS returns a key whose deletion was cancelled as Disabled, never Enabled.
        Operation::CancelKeyDeletion => KeyState::Disabled,
        _ => key.state,
    }
}

/// Moves a key to the state its material implies: without usable material an enabled or
/// disabled key is PendingImport (deleted or expired imported material); with material
/// imported again, a PendingImport key is Enabled. Other states (pending deletion) keep.
pub fn settle(key: &mut Key) {
    use KeyState::*;
    key.state = match (key.state, key.has_material()) {
        (Enabled | Disabled, false) => PendingImport,
        (PendingImport, true) => Enabled,
        (state, _) => state,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::model::enums::KeySpec;
    use crate::model::ids::Scope;

    fn key(state: KeyState) -> Key {
        Key::for_test(&Scope::new("111122223333", "us-east-1"), "k", state)
    }

    fn code(op: Operation, state: KeyState) -> Option<ErrorCode> {
        check(op, &key(state)).err().map(|e| e.code)
    }

    #[test]
    fn follows_the_aws_key_state_table() {
        use ErrorCode::KmsInvalidState;
        use KeyState::{Disabled, Enabled, PendingDeletion, PendingImport, Unavailable};
        use Operation as Op;
        let rows = [
            (Op::Encrypt, Enabled, None),
            (Op::Encrypt, Disabled, Some(ErrorCode::Disabled)),
            (Op::Decrypt, PendingDeletion, Some(KmsInvalidState)),
            (Op::GenerateDataKey, PendingImport, Some(KmsInvalidState)),
            // A disconnected custom key store: the key is unavailable ("is unavailable.").
            (Op::Encrypt, Unavailable, Some(KmsInvalidState)),
            (Op::EnableKey, Unavailable, None),
            (Op::CreateGrant, Unavailable, None),
            (Op::Encrypt, KeyState::Creating, Some(KmsInvalidState)),
            (Op::TagResource, KeyState::Creating, None),
            (Op::Encrypt, KeyState::Updating, None),
            (Op::EnableKey, KeyState::Updating, Some(KmsInvalidState)),
            (
                Op::CancelKeyDeletion,
                KeyState::PendingReplicaDeletion,
                None,
            ),
            (Op::DeleteImportedKeyMaterial, PendingDeletion, None),
            (Op::DescribeKey, PendingDeletion, None),
            (Op::GetKeyPolicy, PendingDeletion, None),
            (Op::DeleteAlias, PendingDeletion, None),
            (Op::EnableKey, Disabled, None),
            (Op::EnableKey, PendingDeletion, Some(KmsInvalidState)),
            (Op::DisableKey, PendingImport, Some(KmsInvalidState)),
            (Op::ScheduleKeyDeletion, PendingImport, None),
            (
                Op::ScheduleKeyDeletion,
                PendingDeletion,
                Some(KmsInvalidState),
            ),
            (Op::CancelKeyDeletion, PendingDeletion, None),
            (Op::CancelKeyDeletion, Enabled, Some(KmsInvalidState)),
            (Op::CreateAlias, Disabled, None),
            (Op::CreateAlias, PendingDeletion, Some(KmsInvalidState)),
            (Op::TagResource, PendingDeletion, Some(KmsInvalidState)),
            (Op::UpdateKeyDescription, PendingImport, None),
        ];
        for (op, state, expected) in rows {
            assert_eq!(code(op, state), expected, "{op:?} in {state:?}");
        }
    }

    #[test]
    fn messages_name_the_key_arn() {
        let arn = key(KeyState::Disabled).arn();
        let err = check(Operation::Encrypt, &key(KeyState::Disabled)).unwrap_err();
        assert_eq!(err.message, format!("{arn} is disabled."));
        let err = check(Operation::Encrypt, &key(KeyState::PendingDeletion)).unwrap_err();
        assert_eq!(err.message, format!("{arn} is pending deletion."));
        let err = check(Operation::CancelKeyDeletion, &key(KeyState::Enabled)).unwrap_err();
        assert_eq!(err.message, format!("{arn} is not pending deletion."));
    }

    #[test]
    fn lifecycle_transitions() {
        let mut pending = key(KeyState::PendingDeletion);
        // No material: back to waiting for an import.
        assert_eq!(
            next_state(Operation::CancelKeyDeletion, &pending),
            KeyState::PendingImport
        );
        // Current material whose bytes were deleted: still nothing to use.
        pending.materials.push(crate::crypto::Material::from_parts(
            [1; 32],
            Timestamp(0),
            crate::model::MaterialState::Current,
            None,
        ));
        assert_eq!(
            next_state(Operation::CancelKeyDeletion, &pending),
            KeyState::PendingImport
        );
        pending.materials.clear();
        pending.materials.push(crate::crypto::Material::new(
            crate::crypto::SecretKey::generate(KeySpec::SymmetricDefault),
            Timestamp(0),
            crate::model::MaterialState::Current,
        ));
        assert_eq!(
            next_state(Operation::CancelKeyDeletion, &pending),
            KeyState::Disabled
        );
        assert_eq!(
            next_state(Operation::DisableKey, &key(KeyState::Enabled)),
            KeyState::Disabled
        );
    }

    #[test]
    fn every_operation_has_a_column() {
        // `rule` is an exhaustive match; this pins the columns of a few on purpose.
        assert_eq!(rule(Operation::Sign), Rule::Use);
        assert_eq!(rule(Operation::GetPublicKey), Rule::Use);
        assert_eq!(rule(Operation::DeriveSharedSecret), Rule::Use);
        assert_eq!(rule(Operation::ListKeys), Rule::NoKey);
        assert_eq!(rule(Operation::GetKeyRotationStatus), Rule::Any);
        for op in Operation::ALL {
            let _ = rule(*op);
        }
    }
}
