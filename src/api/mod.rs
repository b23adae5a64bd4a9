//! Operation handlers, one file per family. Each handler takes the request context and
//! a validated request and returns its response; [`dispatch`] is the one place that maps
//! an [`Operation`] to its handler.

mod aliases;
mod encryption;
mod keys;
mod paging;
mod policies;
mod recipient;
mod tags;

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Timestamp;
use crate::error::{KmsError, Result};
use crate::model::{Key, Operation, Scope, state};
use crate::protocol::{self, validate::Validate};
use crate::service::Service;

/// What every handler gets: the service and the account/region of the request.
#[derive(Clone)]
pub struct Ctx {
    pub svc: Arc<Service>,
    pub scope: Scope,
}

/// Bytes that are not secret (ciphertexts): plain base64 on the wire.
#[derive(Debug)]
pub struct Base64(pub Vec<u8>);

impl Serialize for Base64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
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
    key.state = state::next_state(op, key.state);
    change(&mut key, ctx.svc.now())?;
    txn.save_key(key).await
}

/// Decodes and validates the body, runs the handler, encodes its response.
async fn call<Req, Resp, Fut>(
    ctx: Ctx,
    body: &[u8],
    handler: fn(Ctx, Req) -> Fut,
) -> Result<Vec<u8>>
where
    Req: DeserializeOwned + Validate,
    Resp: Serialize,
    Fut: Future<Output = Result<Resp>>,
{
    let request: Req = protocol::parse(body)?;
    protocol::validate::check(&request)?;
    let response = handler(ctx, request).await?;
    serde_json::to_vec(&response).map_err(KmsError::internal)
}

pub async fn dispatch(
    svc: Arc<Service>,
    scope: Scope,
    op: Operation,
    body: Bytes,
) -> Result<Vec<u8>> {
    use Operation as Op;
    let ctx = Ctx { svc, scope };
    let body = body.as_ref();
    match op {
        Op::CreateKey => call(ctx, body, keys::create_key).await,
        Op::DescribeKey => call(ctx, body, keys::describe_key).await,
        Op::ListKeys => call(ctx, body, keys::list_keys).await,
        Op::EnableKey => call(ctx, body, keys::enable_key).await,
        Op::DisableKey => call(ctx, body, keys::disable_key).await,
        Op::UpdateKeyDescription => call(ctx, body, keys::update_key_description).await,
        Op::ScheduleKeyDeletion => call(ctx, body, keys::schedule_key_deletion).await,
        Op::CancelKeyDeletion => call(ctx, body, keys::cancel_key_deletion).await,
        Op::Encrypt => call(ctx, body, encryption::encrypt).await,
        Op::Decrypt => call(ctx, body, encryption::decrypt).await,
        Op::ReEncrypt => call(ctx, body, encryption::re_encrypt).await,
        Op::GenerateDataKey => call(ctx, body, encryption::generate_data_key).await,
        Op::GenerateDataKeyWithoutPlaintext => {
            call(ctx, body, encryption::generate_data_key_without_plaintext).await
        }
        Op::GenerateRandom => call(ctx, body, encryption::generate_random).await,
        Op::CreateAlias => call(ctx, body, aliases::create_alias).await,
        Op::UpdateAlias => call(ctx, body, aliases::update_alias).await,
        Op::DeleteAlias => call(ctx, body, aliases::delete_alias).await,
        Op::ListAliases => call(ctx, body, aliases::list_aliases).await,
        Op::TagResource => call(ctx, body, tags::tag_resource).await,
        Op::UntagResource => call(ctx, body, tags::untag_resource).await,
        Op::ListResourceTags => call(ctx, body, tags::list_resource_tags).await,
        Op::GetKeyPolicy => call(ctx, body, policies::get_key_policy).await,
        Op::PutKeyPolicy => call(ctx, body, policies::put_key_policy).await,
        Op::ListKeyPolicies => call(ctx, body, policies::list_key_policies).await,
        other => Err(KmsError::unsupported(format!(
            "{} is not supported by trent yet.",
            other.name()
        ))),
    }
}

/// The operations [`dispatch`] serves, for the compatibility table and its test.
pub const SUPPORTED: &[Operation] = &[
    Operation::CreateKey,
    Operation::DescribeKey,
    Operation::ListKeys,
    Operation::EnableKey,
    Operation::DisableKey,
    Operation::UpdateKeyDescription,
    Operation::ScheduleKeyDeletion,
    Operation::CancelKeyDeletion,
    Operation::Encrypt,
    Operation::Decrypt,
    Operation::ReEncrypt,
    Operation::GenerateDataKey,
    Operation::GenerateDataKeyWithoutPlaintext,
    Operation::GenerateRandom,
    Operation::CreateAlias,
    Operation::UpdateAlias,
    Operation::DeleteAlias,
    Operation::ListAliases,
    Operation::TagResource,
    Operation::UntagResource,
    Operation::ListResourceTags,
    Operation::GetKeyPolicy,
    Operation::PutKeyPolicy,
    Operation::ListKeyPolicies,
];
