//! Tags: TagResource, UntagResource, ListResourceTags, and AWS's tag rules (at most 50
//! per key, keys of 1–128 and values of 0–256 characters, `aws:` reserved in any case, no
//! duplicates).

use serde::{Deserialize, Serialize};

use super::keys::validate_key_id;
use super::paging::{self, PageInfo};
use super::{Ctx, Empty, change_key};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::{Operation, Tag};
use crate::protocol::validate::{Validate, Violations};

const MAX_TAGS: usize = 50;

/// A tag as it arrives: both members are required, so both may be missing.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    tag_key: Option<String>,
    tag_value: Option<String>,
}

pub fn validate_tags(v: &mut Violations, tags: &Option<Vec<TagInput>>) {
    for (i, tag) in tags.iter().flatten().enumerate() {
        let field = |m: &str| format!("tags.{}.member.{m}", i + 1);
        v.required(&field("tagKey"), &tag.tag_key);
        v.length(&field("tagKey"), tag.tag_key.as_deref(), 1, 128);
        v.required(&field("tagValue"), &tag.tag_value);
        v.length(&field("tagValue"), tag.tag_value.as_deref(), 0, 256);
    }
}

/// `existing` with `added` applied: new keys appended, existing keys given new values.
pub fn merge_tags(mut existing: Vec<Tag>, added: Vec<TagInput>) -> Result<Vec<Tag>> {
    let mut seen = std::collections::HashSet::new();
    for tag in added {
        let key = tag.tag_key.unwrap_or_default();
        let value = tag.tag_value.unwrap_or_default();
        if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(KmsError::new(
                ErrorCode::Tag,
                format!(
                    "Tag key '{key}' is reserved: tag keys that begin with 'aws:' are for AWS use."
                ),
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(KmsError::new(
                ErrorCode::Tag,
                format!("Duplicate tag key '{key}' in the request."),
            ));
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
    key_id: Option<String>,
    tags: Option<Vec<TagInput>>,
}

impl Validate for TagResourceRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.required("tags", &self.tags);
        validate_tags(v, &self.tags);
    }
}

pub async fn tag_resource(ctx: Ctx, req: TagResourceRequest) -> Result<Empty> {
    let added = req.tags.unwrap_or_default();
    let key_id = req.key_id.unwrap_or_default();
    change_key(&ctx, &key_id, Operation::TagResource, |key, _| {
        key.tags = merge_tags(std::mem::take(&mut key.tags), added)?;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    key_id: Option<String>,
    tag_keys: Option<Vec<String>>,
}

impl Validate for UntagResourceRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.required("tagKeys", &self.tag_keys);
        for (i, k) in self.tag_keys.iter().flatten().enumerate() {
            v.length(&format!("tagKeys.{}.member", i + 1), Some(k), 1, 128);
        }
    }
}

pub async fn untag_resource(ctx: Ctx, req: UntagResourceRequest) -> Result<Empty> {
    let removed = req.tag_keys.unwrap_or_default();
    let key_id = req.key_id.unwrap_or_default();
    change_key(&ctx, &key_id, Operation::UntagResource, |key, _| {
        key.tags.retain(|t| !removed.contains(&t.tag_key));
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsRequest {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

impl Validate for ListResourceTagsRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        paging::validate(v, self.limit, self.marker.as_deref());
    }
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
    let key = ctx
        .svc
        .resolve_key_only(&ctx.scope, &req.key_id.unwrap_or_default())?;
    // The marker is the position of the next tag, in the order tags were added.
    let from = paging::marker(req.marker.as_deref(), |m| m.parse::<usize>().is_ok())?;
    let start: usize = from.parse().unwrap_or(0);
    let limit = paging::page_size(req.limit, MAX_TAGS, MAX_TAGS);
    let tags: Vec<Tag> = key.tags.iter().skip(start).take(limit).cloned().collect();
    let next = (start + limit < key.tags.len()).then(|| (start + limit).to_string());
    Ok(ListResourceTagsResponse {
        tags,
        page: PageInfo::new(next),
    })
}
