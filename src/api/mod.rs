//! Operation handlers, one file per family. Each handler takes the request context and
//! a validated request and returns its response; [`prepare`] checks and decodes a
//! request, and its dispatch table (`route`) is the one place that maps an [`Operation`]
//! to its handler.

mod agreement;
mod aliases;
mod custom_key_stores;
mod encryption;
mod grants;
mod import;
mod key_pairs;
mod keys;
mod mac;
mod multi_region;
mod paging;
mod policies;
mod recipient;
mod rotation;
mod signing;
mod tags;
mod usage;

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Timestamp;
use crate::error::{KmsError, Result};
use crate::model::{Key, Operation, Scope, state};
use crate::protocol::{self, Json, Run};

use crate::service::Service;
use crate::store::last_usage::Usage;

/// What every handler gets: the service, the account/region and the id of the request.
#[derive(Clone)]
pub struct Ctx {
    pub svc: Arc<Service>,
    pub scope: Scope,
    pub request_id: uuid::Uuid,
}

impl Ctx {
    /// Records a successful cryptographic operation with `key`, for GetKeyLastUsage.
    pub fn used(&self, key: &Key, op: Operation) {
        self.svc.store.record_use(
            &key.scope,
            &key.id,
            Usage {
                operation: op.name(),
                at: self.svc.now(),
                request_id: self.request_id,
                event_id: uuid::Uuid::from_bytes(crate::crypto::random_array()),
            },
        );
    }
}

/// Bytes that are not secret (ciphertexts, signatures, MACs, public keys): base64 on the
/// wire, as [`to_json`](crate::crypto::json_out::to_json) writes bytes. Their buffer is
/// kept for reuse once the answer is written ([`buffers`](crate::crypto::buffers)).
#[derive(Debug)]
pub struct Base64(pub Vec<u8>);

impl Drop for Base64 {
    fn drop(&mut self) {
        crate::crypto::buffers::give(std::mem::take(&mut self.0));
    }
}

impl Serialize for Base64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Base64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        crate::crypto::secret::deserialize_base64(d).map(Base64)
    }
}

/// An empty response body, for operations that return nothing.
#[derive(Debug, Serialize)]
pub struct Empty {}

/// Changes one key under the writer: resolve its id or ARN, check the state table for
/// `op`, move to the state `op` leads to, apply `change`, commit.
pub async fn change_key(
    ctx: &Ctx,
    key_id: &str,
    op: Operation,
    change: impl FnOnce(&mut Key, Timestamp) -> Result<()>,
) -> Result<Arc<Key>> {
    let mut txn = ctx.svc.store.begin().await?;
    let current = ctx.svc.resolve_key_only(&ctx.scope, key_id)?;
    state::check(op, &current)?;
    let mut key = (*current).clone();
    key.state = state::next_state(op, &key);
    change(&mut key, ctx.svc.now())?;
    let key = txn.save_key(key);
    txn.commit().await?;
    Ok(key)
}

/// A handler behind the dispatch table: the request's body in, the run to its encoded
/// response out.
type Route = fn(Ctx, Body<'_>) -> Result<Run>;

/// A request's body on its way to the operation's request type.
pub struct Body<'b> {
    op: Operation,
    bytes: &'b [u8],
    /// Where the body's `KeyId` goes when the request line is logged.
    key_id: Option<&'b mut Option<String>>,
}

impl<'b> Body<'b> {
    /// The full path: the body's tree, checked against the model (every violation in
    /// AWS's words) and against AWS's rules for grant tokens.
    fn checked(self) -> Result<Json<'b>> {
        let mut json = protocol::parse(self.bytes)?;
        if let Some(key_id) = self.key_id {
            *key_id = json.get("KeyId").and_then(Json::as_str).map(str::to_owned);
        }
        if self.op == Operation::CreateKey {
            keys::lift_localstack_tags(&mut json);
        }
        protocol::model::check(self.op.name(), &json)?;
        grants::check_grant_tokens(&json)?;
        Ok(json)
    }

    /// The flat path ([`protocol::flat`]) for a body in the plain form SDKs send, which
    /// it takes only when the full path would decode the same request from it. A request
    /// whose line is logged takes the full path, which finds its `KeyId`.
    fn flat<Req: DeserializeOwned>(&self) -> Option<Req> {
        if self.key_id.is_some() {
            return None;
        }
        protocol::flat::decode(self.op, self.bytes)
    }
}

/// Decodes the body into the handler's request, then runs it and encodes its response.
/// The model check has already vouched for every member, so decoding fails only on a
/// shape the model allows but the request type does not: a SerializationException.
fn call<Req, Resp, Fut>(ctx: Ctx, body: Body<'_>, handler: fn(Ctx, Req) -> Fut) -> Result<Run>
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
{
    let request: Req = protocol::decode(&body.checked()?)?;
    run(ctx, request, handler)
}

/// [`call`] for the operations called once per message or data key (Encrypt, Decrypt,
/// Sign, ...): the flat path first. The other 44 take the full path only, which keeps the
/// flat reader out of their request types' code.
fn call_flat<Req, Resp, Fut>(ctx: Ctx, body: Body<'_>, handler: fn(Ctx, Req) -> Fut) -> Result<Run>
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
{
    match body.flat() {
        Some(request) => run(ctx, request, handler),
        None => call(ctx, body, handler),
    }
}

fn run<Req, Resp, Fut>(ctx: Ctx, request: Req, handler: fn(Ctx, Req) -> Fut) -> Result<Run>
where
    Req: Send + 'static,
    Resp: Serialize,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
{
    Ok(Box::pin(async move {
        let response = handler(ctx, request).await?;
        crate::crypto::json_out::to_json(&response).map_err(KmsError::internal)
    }))
}

macro_rules! route {
    ($handler:path) => {
        |ctx, body| call(ctx, body, $handler)
    };
    (flat $handler:path) => {
        |ctx, body| call_flat(ctx, body, $handler)
    };
}

/// The dispatch table: the handler of each of the 54 operations. Exhaustive, so a new
/// operation must be placed here on purpose.
fn route(op: Operation) -> Route {
    use Operation as Op;
    match op {
        Op::CreateKey => route!(keys::create_key),
        Op::DescribeKey => route!(keys::describe_key),
        Op::ListKeys => route!(keys::list_keys),
        Op::EnableKey => route!(keys::enable_key),
        Op::DisableKey => route!(keys::disable_key),
        Op::UpdateKeyDescription => route!(keys::update_key_description),
        Op::ScheduleKeyDeletion => route!(keys::schedule_key_deletion),
        Op::CancelKeyDeletion => route!(keys::cancel_key_deletion),
        Op::Encrypt => route!(flat encryption::encrypt),
        Op::Decrypt => route!(flat encryption::decrypt),
        Op::ReEncrypt => route!(flat encryption::re_encrypt),
        Op::GenerateDataKey => route!(flat encryption::generate_data_key),
        Op::GenerateDataKeyWithoutPlaintext => {
            route!(flat encryption::generate_data_key_without_plaintext)
        }
        Op::GenerateRandom => route!(flat encryption::generate_random),
        Op::GenerateDataKeyPair => route!(key_pairs::generate_data_key_pair),
        Op::GenerateDataKeyPairWithoutPlaintext => {
            route!(key_pairs::generate_data_key_pair_without_plaintext)
        }
        Op::Sign => route!(flat signing::sign),
        Op::Verify => route!(flat signing::verify),
        Op::GetPublicKey => route!(signing::get_public_key),
        Op::GenerateMac => route!(flat mac::generate_mac),
        Op::VerifyMac => route!(flat mac::verify_mac),
        Op::DeriveSharedSecret => route!(agreement::derive_shared_secret),
        Op::CreateAlias => route!(aliases::create_alias),
        Op::UpdateAlias => route!(aliases::update_alias),
        Op::DeleteAlias => route!(aliases::delete_alias),
        Op::ListAliases => route!(aliases::list_aliases),
        Op::TagResource => route!(tags::tag_resource),
        Op::UntagResource => route!(tags::untag_resource),
        Op::ListResourceTags => route!(tags::list_resource_tags),
        Op::GetKeyPolicy => route!(policies::get_key_policy),
        Op::PutKeyPolicy => route!(policies::put_key_policy),
        Op::ListKeyPolicies => route!(policies::list_key_policies),
        Op::EnableKeyRotation => route!(rotation::enable_key_rotation),
        Op::DisableKeyRotation => route!(rotation::disable_key_rotation),
        Op::GetKeyRotationStatus => route!(rotation::get_key_rotation_status),
        Op::RotateKeyOnDemand => route!(rotation::rotate_key_on_demand),
        Op::ListKeyRotations => route!(rotation::list_key_rotations),
        Op::GetParametersForImport => route!(import::get_parameters_for_import),
        Op::ImportKeyMaterial => route!(import::import_key_material),
        Op::DeleteImportedKeyMaterial => route!(import::delete_imported_key_material),
        Op::CreateGrant => route!(grants::create_grant),
        Op::ListGrants => route!(grants::list_grants),
        Op::ListRetirableGrants => route!(grants::list_retirable_grants),
        Op::RetireGrant => route!(grants::retire_grant),
        Op::RevokeGrant => route!(grants::revoke_grant),
        Op::ReplicateKey => route!(multi_region::replicate_key),
        Op::UpdatePrimaryRegion => route!(multi_region::update_primary_region),
        Op::CreateCustomKeyStore => route!(custom_key_stores::create_custom_key_store),
        Op::DescribeCustomKeyStores => route!(custom_key_stores::describe_custom_key_stores),
        Op::UpdateCustomKeyStore => route!(custom_key_stores::update_custom_key_store),
        Op::ConnectCustomKeyStore => route!(custom_key_stores::connect_custom_key_store),
        Op::DisconnectCustomKeyStore => route!(custom_key_stores::disconnect_custom_key_store),
        Op::DeleteCustomKeyStore => route!(custom_key_stores::delete_custom_key_store),
        Op::GetKeyLastUsage => route!(keys::get_key_last_usage),
    }
}

/// The run of the request's handler, its body decoded (and no longer needed).
/// `key_id` is given when the request line is logged, to be set to the body's `KeyId`.
pub fn prepare(
    svc: Arc<Service>,
    scope: Scope,
    request_id: uuid::Uuid,
    op: Operation,
    body: &[u8],
    key_id: Option<&mut Option<String>>,
) -> Result<Run> {
    let ctx = Ctx {
        svc,
        scope,
        request_id,
    };
    let body = Body {
        op,
        bytes: body,
        key_id,
    };
    route(op)(ctx, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request types of the operations routed `flat` read the plain bodies SDKs send
    /// by the flat path, and read the same request from them as the full path does. (If a
    /// type stopped taking the flat path, nothing else would fail: it would only be slower.)
    #[test]
    fn data_requests_take_the_flat_path() {
        fn same<Req: DeserializeOwned + std::fmt::Debug>(op: Operation, text: &str) {
            let body = Body {
                op,
                bytes: text.as_bytes(),
                key_id: None,
            };
            let flat: Req = body
                .flat()
                .unwrap_or_else(|| panic!("{op:?} {text}: declined"));
            let full: Req = protocol::decode(&body.checked().expect("checked")).expect("read");
            assert_eq!(format!("{flat:?}"), format!("{full:?}"), "{op:?} {text}");
        }
        let key = r#""KeyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab""#;
        let context =
            r#""EncryptionContext":{"aws-crypto-public-key":"AqZ+/w==","purpose":"test"}"#;
        same::<encryption::EncryptRequest>(
            Operation::Encrypt,
            &format!(r#"{{{key},"Plaintext":"aGVsbG8=",{context},"DryRun":false}}"#),
        );
        same::<encryption::DecryptRequest>(
            Operation::Decrypt,
            &format!(r#"{{"CiphertextBlob":"AQIDBA==",{context},{key}}}"#),
        );
        same::<encryption::ReEncryptRequest>(
            Operation::ReEncrypt,
            r#"{"CiphertextBlob":"AQID","DestinationKeyId":"alias/x","DestinationEncryptionAlgorithm":"RSAES_OAEP_SHA_256"}"#,
        );
        same::<encryption::GenerateDataKeyRequest>(
            Operation::GenerateDataKey,
            &format!(r#"{{{key},"KeySpec":"AES_256",{context}}}"#),
        );
        same::<encryption::GenerateDataKeyWithoutPlaintextRequest>(
            Operation::GenerateDataKeyWithoutPlaintext,
            &format!(r#"{{{key},"NumberOfBytes":64}}"#),
        );
        same::<encryption::GenerateRandomRequest>(
            Operation::GenerateRandom,
            r#"{"NumberOfBytes":32}"#,
        );
        same::<signing::SignRequest>(
            Operation::Sign,
            &format!(
                r#"{{{key},"Message":"aGk=","MessageType":"RAW","SigningAlgorithm":"ECDSA_SHA_256"}}"#
            ),
        );
        same::<signing::VerifyRequest>(
            Operation::Verify,
            &format!(
                r#"{{{key},"Message":"aGk=","Signature":"c2ln","SigningAlgorithm":"ECDSA_SHA_256"}}"#
            ),
        );
        same::<mac::GenerateMacRequest>(
            Operation::GenerateMac,
            &format!(r#"{{{key},"Message":"aGk=","MacAlgorithm":"HMAC_SHA_256"}}"#),
        );
        same::<mac::VerifyMacRequest>(
            Operation::VerifyMac,
            &format!(r#"{{{key},"Message":"aGk=","Mac":"bWFj","MacAlgorithm":"HMAC_SHA_256"}}"#),
        );
    }
}
