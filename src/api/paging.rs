//! Limit / Marker / NextMarker / Truncated, shared by every List operation. A marker is
//! the sort key of the first item of the next page.

use serde::Serialize;

use crate::error::{ErrorCode, KmsError, Result};

/// The page size: the request's Limit, capped at what the operation returns at most.
pub fn page_size(limit: Option<i64>, default: usize, max: usize) -> usize {
    limit.map_or(default, |l| usize::try_from(l).unwrap_or(default).min(max))
}

/// A marker this service could have issued, or InvalidMarkerException.
pub fn marker(marker: Option<&str>, ours: impl Fn(&str) -> bool) -> Result<&str> {
    match marker {
        None => Ok(""),
        Some(m) if ours(m) => Ok(m),
        Some(_) => Err(KmsError::new(
            ErrorCode::InvalidMarker,
            "The request was rejected because the marker that specifies where pagination should next begin is not valid.",
        )),
    }
}

/// The paging members of a List response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

impl PageInfo {
    pub fn new(next_marker: Option<String>) -> Self {
        Self {
            truncated: next_marker.is_some(),
            next_marker,
        }
    }
}
