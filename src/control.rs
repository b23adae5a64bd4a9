//! Test controls outside the AWS API, under `/_trent/`. On by default; off with
//! `TRENT_TEST_CONTROLS=false`.
//!
//! - `GET /_trent/clock`: `{"now": <epoch seconds>, "offsetSeconds": <n>}`
//! - `POST /_trent/clock` with `{"advanceSeconds": n}` or `{"offsetSeconds": n}`: moves
//!   the service clock (deletion windows then pass at once) and answers as GET does.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::service::Service;

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

pub async fn set_clock(
    State(svc): State<Arc<Service>>,
    body: axum::body::Bytes,
) -> Result<Json<ClockState>, (StatusCode, String)> {
    let bad = |m: String| (StatusCode::BAD_REQUEST, m);
    let change: ClockChange = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    let to_ms = |s: i64| {
        s.checked_mul(1000)
            .ok_or_else(|| bad("seconds out of range".into()))
    };
    match (change.advance_seconds, change.offset_seconds) {
        (Some(s), None) => {
            svc.clock.advance(to_ms(s)?);
        }
        (None, Some(s)) => svc.clock.set_offset(to_ms(s)?),
        _ => {
            return Err(bad(
                "give exactly one of advanceSeconds, offsetSeconds".into()
            ));
        }
    }
    tracing::info!(
        offset_ms = svc.clock.offset_millis(),
        "test control moved the clock"
    );
    svc.store
        .sweep()
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.message))?;
    Ok(Json(state(&svc)))
}
