//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. Names under `alias/aws/`
//! belong to AWS managed keys: customers cannot create, retarget or delete them.

use serde::{Deserialize, Serialize};

use super::paging::{self, PageInfo};
use super::{Ctx, Empty};
use crate::clock::Timestamp;
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::ids::{PREDEFINED_AWS_ALIASES, is_alias_name, is_aws_managed_alias};
use crate::model::state;
use crate::model::{Operation, Scope};
use crate::service::alias_not_found;
use crate::store::Alias;

/// The checks AWS makes on an alias name a customer wants to create, move or delete.
fn check_customer_alias_name(name: &str) -> Result<()> {
    if !name.starts_with("alias/") {
        return Err(KmsError::validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if is_aws_managed_alias(name) {
        return Err(KmsError::new(
            ErrorCode::NotAuthorized,
            "The alias/aws/ prefix is reserved for AWS managed keys.",
        ));
    }
    if !is_alias_name(name) {
        return Err(KmsError::new(
            ErrorCode::InvalidAliasName,
            format!("Alias name {name} is not valid."),
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTargetRequest {
    alias_name: String,
    target_key_id: String,
}

pub async fn create_alias(ctx: Ctx, req: AliasTargetRequest) -> Result<Empty> {
    let name = req.alias_name;
    check_customer_alias_name(&name)?;
    let mut txn = ctx.svc.store.begin().await?;
    let target = ctx.svc.resolve_key_only(&ctx.scope, &req.target_key_id)?;
    state::check(Operation::CreateAlias, &target)?;
    if txn.alias(&ctx.scope, &name).is_some() {
        return Err(KmsError::new(
            ErrorCode::AlreadyExists,
            format!(
                "An alias with the name {} already exists",
                ctx.scope.alias_arn(&name)
            ),
        ));
    }
    let now = ctx.svc.now();
    txn.save_alias(
        &ctx.scope,
        Alias {
            name,
            target_key_id: target.id.clone(),
            created_at: now,
            updated_at: now,
        },
    );
    txn.commit().await?;
    Ok(Empty {})
}

pub async fn update_alias(ctx: Ctx, req: AliasTargetRequest) -> Result<Empty> {
    let name = req.alias_name;
    check_customer_alias_name(&name)?;
    let mut txn = ctx.svc.store.begin().await?;
    let alias = txn
        .alias(&ctx.scope, &name)
        .ok_or_else(|| alias_not_found(&ctx.scope, &name))?;
    let target = ctx.svc.resolve_key_only(&ctx.scope, &req.target_key_id)?;
    state::check(Operation::UpdateAlias, &target)?;
    txn.save_alias(
        &ctx.scope,
        Alias {
            target_key_id: target.id.clone(),
            updated_at: ctx.svc.now(),
            ..alias
        },
    );
    txn.commit().await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAliasRequest {
    alias_name: String,
}

pub async fn delete_alias(ctx: Ctx, req: DeleteAliasRequest) -> Result<Empty> {
    let name = req.alias_name;
    check_customer_alias_name(&name)?;
    let mut txn = ctx.svc.store.begin().await?;
    if txn.alias(&ctx.scope, &name).is_none() {
        return Err(alias_not_found(&ctx.scope, &name));
    }
    txn.delete_alias(&ctx.scope, &name);
    txn.commit().await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesRequest {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    alias_name: String,
    alias_arn: String,
    /// The rest is absent for a predefined AWS alias whose key does not exist yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_updated_date: Option<Timestamp>,
}

impl AliasListEntry {
    fn new(scope: &Scope, alias: Alias) -> Self {
        Self {
            alias_arn: scope.alias_arn(&alias.name),
            alias_name: alias.name,
            target_key_id: Some(alias.target_key_id),
            creation_date: Some(alias.created_at),
            last_updated_date: Some(alias.updated_at),
        }
    }

    fn predefined(scope: &Scope, name: &str) -> Self {
        Self {
            alias_name: name.to_owned(),
            alias_arn: scope.alias_arn(name),
            target_key_id: None,
            creation_date: None,
            last_updated_date: None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    aliases: Vec<AliasListEntry>,
    #[serde(flatten)]
    page: PageInfo,
}

pub async fn list_aliases(ctx: Ctx, req: ListAliasesRequest) -> Result<ListAliasesResponse> {
    let target = match &req.key_id {
        Some(id) => Some(ctx.svc.resolve_key_only(&ctx.scope, id)?),
        None => None,
    };
    let from = paging::marker(req.marker.as_deref(), is_alias_name)?;
    let limit = paging::page_size(req.limit, 50, 100);
    let store = &ctx.svc.store;
    let Some(target) = target else {
        return Ok(with_predefined(&ctx.scope, store, from, limit));
    };
    let (aliases, next) = store.aliases_from(&ctx.scope, from, Some(&target.id), limit);
    Ok(ListAliasesResponse {
        aliases: aliases
            .into_iter()
            .map(|a| AliasListEntry::new(&ctx.scope, a))
            .collect(),
        page: PageInfo::new(next),
    })
}

/// A page of every alias, with AWS's predefined `alias/aws/*` names among them (in name
/// order) while their keys do not exist. The stored aliases read ahead by as many as
/// there are predefined names, so the page's first `limit` names are among those read.
fn with_predefined(
    scope: &Scope,
    store: &crate::store::Store,
    from: &str,
    limit: usize,
) -> ListAliasesResponse {
    let (stored, _) = store.aliases_from(scope, from, None, limit + PREDEFINED_AWS_ALIASES.len());
    let mut entries: Vec<AliasListEntry> = stored
        .into_iter()
        .map(|a| AliasListEntry::new(scope, a))
        .chain(
            PREDEFINED_AWS_ALIASES
                .iter()
                .filter(|name| **name >= from && store.alias(scope, name).is_none())
                .map(|name| AliasListEntry::predefined(scope, name)),
        )
        .collect();
    entries.sort_by(|a, b| a.alias_name.cmp(&b.alias_name));
    let next = entries.get(limit).map(|e| e.alias_name.clone());
    entries.truncate(limit);
    ListAliasesResponse {
        aliases: entries,
        page: PageInfo::new(next),
    }
}
