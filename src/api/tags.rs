//! Tags: TagResource, UntagResource, ListResourceTags, and AWS's tag rules (at most 50
//! per key, keys of 1–128 and values of 0–256 characters, `aws:` reserved in any case, no
//! duplicates).

use serde::{Deserialize, Serialize};

use super::paging::{self, PageInfo};
use super::{Ctx, Empty, change_key};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::{Operation, Tag};

pub const MAX_TAGS: usize = 50;

/// A tag as it arrives.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    pub tag_key: String,
    pub tag_value: String,
}

/// `existing` with `added` applied: new keys appended, existing keys given new values.
pub fn merge_tags(mut existing: Vec<Tag>, added: Vec<TagInput>) -> Result<Vec<Tag>> {
    let mut seen = std::collections::HashSet::new();
    for tag in added {
        let (key, value) = (tag.tag_key, tag.tag_value);
        if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(KmsError::new(
                ErrorCode::Tag,
                "Tags beginning with aws: are reserved",
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(KmsError::new(ErrorCode::Tag, "Duplicate tag keys"));
        }
        match existing.iter_mut().find(|t| t.tag_key == key) {
            Some(t) => t.tag_value = value,
            None => existing.push(Tag {
                tag_key: key,
                tag_value: value,
            }),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(KmsError::new(
            ErrorCode::LimitExceeded,
            format!("The request was rejected because a KMS key can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(existing)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    key_id: String,
    tags: Vec<TagInput>,
}

pub async fn tag_resource(ctx: Ctx, req: TagResourceRequest) -> Result<Empty> {
    let added = req.tags;
    change_key(&ctx, &req.key_id, Operation::TagResource, |key, _| {
        key.tags = merge_tags(std::mem::take(&mut key.tags), added)?;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    key_id: String,
    tag_keys: Vec<String>,
}

pub async fn untag_resource(ctx: Ctx, req: UntagResourceRequest) -> Result<Empty> {
    let removed = req.tag_keys;
    change_key(&ctx, &req.key_id, Operation::UntagResource, |key, _| {
        key.tags.retain(|t| !removed.contains(&t.tag_key));
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsRequest {
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    tags: Vec<Tag>,
    #[serde(flatten)]
    page: PageInfo,
}

pub async fn list_resource_tags(
    ctx: Ctx,
    req: ListResourceTagsRequest,
) -> Result<ListResourceTagsResponse> {
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    // The marker is the position of the next tag, in the order tags were added: one this
    // key could have issued (a forged one would page forever or skip tags).
    let issued = |m: &str| {
        m.parse::<usize>()
            .is_ok_and(|n| n > 0 && n < key.tags.len())
    };
    let from = paging::marker(req.marker.as_deref(), issued)?;
    let start: usize = from.parse().unwrap_or(0);
    let limit = paging::page_size(req.limit, MAX_TAGS, MAX_TAGS);
    let tags: Vec<Tag> = key.tags.iter().skip(start).take(limit).cloned().collect();
    let end = start.saturating_add(limit);
    let next = (end < key.tags.len()).then(|| end.to_string());
    Ok(ListResourceTagsResponse {
        tags,
        page: PageInfo::new(next),
    })
}
