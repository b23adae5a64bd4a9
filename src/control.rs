//! Test controls outside the AWS API. Health is always served; the rest is on by default
//! and off with `TRENT_TEST_CONTROLS=false`. Every answer is JSON but the seed export.
//!
//! - `GET /_trent/health`: `{"status": "ok"}` once the server answers.
//! - `POST /_trent/reset` (and moto's `POST /moto-api/reset`): deletes every key and alias,
//!   sets the clock back to real time, and loads the seed file again, for test isolation.
//! - `GET /_trent/clock`: `{"now": <epoch seconds>, "offsetSeconds": <n>}`.
//! - `POST /_trent/clock` with `{"advanceSeconds": n}` or `{"offsetSeconds": n}`: moves
//!   time forward (deletion windows then pass at once); backwards or out of range is a 400.
//! - `GET /_trent/seed`: the whole state as a seed file (YAML, with key material).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::protocol::{BodyError, read_limited};
use crate::service::Service;

/// A control's failure: its status and a JSON `{"error": ...}` body.
pub struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(json!({ "error": self.1 }))).into_response();
        // A body refused as too large was not read to its end: the connection can't be
        // used again, and the answer says so.
        if self.0 == StatusCode::PAYLOAD_TOO_LARGE {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

fn bad_request(why: impl std::fmt::Display) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, why.to_string())
}

fn internal(why: impl std::fmt::Display) -> ControlError {
    ControlError(StatusCode::INTERNAL_SERVER_ERROR, why.to_string())
}

/// A known path asked with another method: JSON, like every answer.
pub async fn method_not_allowed() -> ControlError {
    ControlError(StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into())
}

/// A path trent does not serve: JSON too.
pub async fn not_found() -> ControlError {
    ControlError(StatusCode::NOT_FOUND, "no such path".into())
}

pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClockChange {
    advance_seconds: Option<i64>,
    offset_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockState {
    now: f64,
    offset_seconds: f64,
}

fn state(svc: &Service) -> ClockState {
    ClockState {
        now: svc.clock.now().epoch_seconds(),
        offset_seconds: svc.clock.offset_millis() as f64 / 1000.0,
    }
}

pub async fn get_clock(State(svc): State<Arc<Service>>) -> Json<ClockState> {
    Json(state(&svc))
}

/// The largest body a control takes: every answer stays JSON, even to a huge body.
const MAX_CONTROL_BODY: usize = 64 * 1024;

pub async fn set_clock(
    State(svc): State<Arc<Service>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Json<ClockState>, ControlError> {
    let body = read_limited(&headers, body, MAX_CONTROL_BODY)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => ControlError(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {MAX_CONTROL_BODY} bytes"),
            ),
            BodyError::CutShort => bad_request("the body ended before its announced length"),
        })?;
    let change: ClockChange = serde_json::from_slice(&body).map_err(bad_request)?;
    let to_ms = |s: i64| {
        s.checked_mul(1000)
            .ok_or_else(|| bad_request("seconds out of range"))
    };
    match (change.advance_seconds, change.offset_seconds) {
        (Some(s), None) => svc.clock.advance(to_ms(s)?),
        (None, Some(s)) => svc.clock.set_offset(to_ms(s)?),
        _ => {
            return Err(bad_request(
                "give exactly one of advanceSeconds, offsetSeconds",
            ));
        }
    }
    .map_err(bad_request)?;
    tracing::info!(
        offset_ms = svc.clock.offset_millis(),
        "test control moved the clock"
    );
    svc.store.sweep().await.map_err(|e| internal(e.message))?;
    Ok(Json(state(&svc)))
}

pub async fn reset(
    State(svc): State<Arc<Service>>,
) -> Result<Json<serde_json::Value>, ControlError> {
    svc.store.reset().await.map_err(|e| internal(e.message))?;
    svc.clock.reset();
    if let Some(seed) = &svc.seed {
        seed.apply(&svc).await.map_err(|e| internal(e.message))?;
    }
    tracing::info!("test control reset all state");
    Ok(Json(json!({ "status": "reset" })))
}

pub async fn export_seed(State(svc): State<Arc<Service>>) -> Response {
    let yaml = crate::seed::trent_format::export(&svc.store.snapshot());
    ([(header::CONTENT_TYPE, "application/yaml")], yaml).into_response()
}
