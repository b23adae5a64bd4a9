//! The wire: AWS JSON 1.1 over `POST /`. Decodes `X-Amz-Target` into an [`Operation`],
//! reads the SigV4 scope, bounds the body, and writes every answer with an
//! `x-amzn-RequestId` and, for errors, the `{"__type", "message"}` body AWS sends.

pub mod flat;
pub mod json;
pub mod model;
pub mod scope;

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::crypto::secret::Wiped;
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::Operation;
use crate::service::Service;

pub use json::Json;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "TrentService.";
/// Header names made once, not parsed (or allocated) for each request.
static TARGET: HeaderName = HeaderName::from_static("x-amz-target");
static REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
/// Above the largest valid request (a 256 KiB attestation document, base64-encoded).
pub const MAX_BODY: usize = 1024 * 1024;

/// `POST /`: one KMS request. What the answer needs of the headers is read here, before
/// the body arrives, and the headers are dropped: held across the wait, they (and the
/// request they came in) would make the answer's future, which axum boxes for every
/// request, too large for malloc's per-thread cache.
pub fn handle(State(svc): State<Arc<Service>>, request: Request) -> impl Future<Output = Response> {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let head = Head {
        // From the thread's CSPRNG, not a getrandom system call per request.
        request_id: uuid::Builder::from_random_bytes(crate::crypto::random_array()).into_uuid(),
        op: operation(headers),
        scope: scope::from_headers(headers, &svc.default_scope),
        announced: announced_length(headers),
    };
    answer(svc, head, body)
}

/// What [`answer`] needs of a request's headers.
struct Head {
    request_id: uuid::Uuid,
    op: Result<Operation>,
    scope: crate::model::Scope,
    /// Its Content-Length.
    announced: Option<u64>,
}

async fn answer(svc: Arc<Service>, head: Head, body: Body) -> Response {
    let (request_id, op) = (head.request_id, &head.op);
    // The request line's level: info in JSON mode, else debug; skipped when filtered out,
    // so the hot path keeps no copy of the key id for nothing.
    let json_logs = svc.config.log_format == crate::config::LogFormat::Json;
    let logged = if json_logs {
        tracing::enabled!(tracing::Level::INFO)
    } else {
        tracing::enabled!(tracing::Level::DEBUG)
    };
    // Timed only when the request line is written.
    let started = logged.then(std::time::Instant::now);
    let mut key_id = None;
    // A body trent did not read to its end leaves the connection unusable: the answer
    // says so (`Connection: close`) rather than the connection just ending.
    let mut close = false;
    let result = async {
        // Read (or refuse) the body first: an answer sent before it is read would leave
        // the rest of it in the connection.
        let body = collect(head.announced, body, MAX_BODY)
            .await
            .map_err(body_error)
            .inspect_err(|_| close = true)?;
        let op = op.clone()?;
        // The body is checked and decoded into the operation's request here, then wiped
        // (it may hold a plaintext); a panic on the way is an internal error.
        let prepared = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let key_id = logged.then_some(&mut key_id);
            crate::api::prepare(svc.clone(), head.scope, request_id, op, &body, key_id)
        }))
        .unwrap_or_else(|_| Err(KmsError::panicked()));
        wipe(body);
        let run = prepared?;
        // A panic becomes KMSInternalException instead of a dropped connection. An
        // operation that writes runs as a task of its own, so that a client that hangs up
        // cannot cancel a write between its database commit and its cache update; the
        // others are spared the task (a twentieth of an Encrypt's cost).
        if op.never_writes() {
            CatchPanic(run).await
        } else {
            crate::service::on_own_task(run).await
        }
    }
    .await;
    let code = result.as_ref().err().map(|e| e.code.aws_name());
    let mut response = respond(request_id, result);
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if !logged {
        return response;
    }
    log_request(
        json_logs,
        op.as_ref().ok().map(|op| op.name()),
        key_id.as_deref(),
        response.status().as_u16(),
        code,
        started.map(|s| s.elapsed()).unwrap_or_default(),
        request_id,
    );
    response
}

/// A request's future, answering KMSInternalException if it panics.
struct CatchPanic<F>(F);

/// A decoded request on its way to its answer.
pub type Run = Pin<Box<dyn Future<Output = Result<Wiped>> + Send>>;

impl<F: Future<Output = Result<Wiped>> + Unpin> Future for CatchPanic<F> {
    type Output = Result<Wiped>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let run = &mut self.0;
        std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(run).poll(cx)))
            .unwrap_or_else(|_| Poll::Ready(Err(KmsError::panicked())))
    }
}

/// One line per request: at info in JSON mode (for log pipelines), at debug otherwise.
/// Never the body: it may hold plaintext.
fn log_request(
    json: bool,
    operation: Option<&str>,
    key_id: Option<&str>,
    status: u16,
    error: Option<&str>,
    duration: std::time::Duration,
    request_id: uuid::Uuid,
) {
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                operation = operation.unwrap_or("unknown"),
                key_id,
                status,
                error,
                duration_ms = duration.as_secs_f64() * 1000.0,
                %request_id,
                "request"
            )
        };
    }
    if json {
        line!(info);
    } else {
        line!(debug);
    }
}

/// The operation `X-Amz-Target` names. Its bytes are compared with the names as they
/// are: only a name's exact ASCII can match one, so they need no check for visible text.
fn operation(headers: &HeaderMap) -> Result<Operation> {
    headers
        .get(&TARGET)
        .and_then(|h| h.as_bytes().strip_prefix(TARGET_PREFIX.as_bytes()))
        .and_then(|name| std::str::from_utf8(name).ok())
        .and_then(Operation::from_name)
        .ok_or_else(|| KmsError::new(ErrorCode::UnknownOperation, ""))
}

/// Reads a request body as JSON; an empty body is an empty request, as SDKs send for no
/// members. Whether it is an object of the right shape is the model check's concern.
pub fn parse(body: &[u8]) -> Result<Json<'_>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Json::empty_object());
    }
    Json::parse(body).map_err(serialization)
}

/// Turns a checked body into a request type.
pub fn decode<T: DeserializeOwned>(body: &Json<'_>) -> Result<T> {
    T::deserialize(body).map_err(serialization)
}

fn serialization(e: impl std::fmt::Display) -> KmsError {
    KmsError::new(
        ErrorCode::Serialization,
        format!("Could not parse the request body: {e}"),
    )
}

/// Why a request body of at most [`MAX_BODY`] bytes could not be read, in AWS's words.
fn body_error(e: BodyError) -> KmsError {
    match e {
        BodyError::TooLarge => KmsError::validation(format!(
            "Request body is larger than the limit of {MAX_BODY} bytes"
        )),
        BodyError::CutShort => KmsError::new(
            ErrorCode::Serialization,
            "The request body ended before its announced length.",
        ),
    }
}

/// Why a request body could not be read.
pub enum BodyError {
    TooLarge,
    CutShort,
}

/// The Content-Length a request announces, if it is a number.
fn announced_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The whole body, at most `limit` bytes (the API's and the test controls'). A larger one
/// is refused from its Content-Length before any of it is read (a client announcing one
/// need not send it).
pub fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> impl Future<Output = std::result::Result<Bytes, BodyError>> + use<> {
    collect(announced_length(headers), body, limit)
}

/// The body's frames, joined: a body that came with its head is one frame, taken as it
/// is. Polled by hand rather than through `http_body_util`'s collector, whose future is
/// several times the size of this one.
fn collect(
    announced: Option<u64>,
    mut body: Body,
    limit: usize,
) -> impl Future<Output = std::result::Result<Bytes, BodyError>> {
    let too_large = announced.is_some_and(|n| n > limit as u64);
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    std::future::poll_fn(move |cx| {
        if too_large {
            return Poll::Ready(Err(BodyError::TooLarge));
        }
        loop {
            let frame = match Pin::new(&mut body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => break,
                Poll::Ready(Some(Err(_))) => return Poll::Ready(Err(BodyError::CutShort)),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            // Trailers carry nothing KMS reads.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let held = first.as_ref().map_or(joined.len(), Bytes::len);
            if held + data.len() > limit {
                return Poll::Ready(Err(BodyError::TooLarge));
            }
            match first.take() {
                None if joined.is_empty() => first = Some(data),
                taken => {
                    if let Some(taken) = taken {
                        // Sized for the whole announced body at once, so that growing
                        // leaves no copy of it behind (it may hold a plaintext); a body
                        // without a length (chunked) grows as it comes.
                        let whole = announced.map_or(0, |n| n as usize);
                        joined.reserve_exact(whole.max(held + data.len()));
                        joined.extend_from_slice(&taken);
                    }
                    joined.extend_from_slice(&data);
                }
            }
        }
        Poll::Ready(Ok(first
            .take()
            .unwrap_or_else(|| Bytes::from(std::mem::take(&mut joined)))))
    })
}

/// Wipes a request body once parsed (it may hold a plaintext), when trent holds its only
/// reference; a body that shares hyper's read buffer is hyper's to reuse.
fn wipe(body: Bytes) {
    if let Ok(mut bytes) = body.try_into_mut() {
        zeroize::Zeroize::zeroize(&mut bytes[..]);
    }
}

/// The answer: a response body (wiped once sent: it may hold a plaintext) or the error's.
fn respond(request_id: uuid::Uuid, result: Result<Wiped>) -> Response {
    let (status, body) = match result {
        Ok(body) => (axum::http::StatusCode::OK, Bytes::from_owner(body)),
        Err(e) => (e.code.status(), Bytes::from(error_body(&e))),
    };
    // Made directly: a body's own `into_response` would first set a content type of its
    // own, to be replaced.
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    let mut id = [0; uuid::fmt::Hyphenated::LENGTH];
    let id = request_id.hyphenated().encode_lower(&mut id);
    if let Ok(id) = HeaderValue::from_str(id) {
        h.insert(REQUEST_ID.clone(), id);
    }
    response
}

fn error_body(e: &KmsError) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), e.code.aws_name().into());
    if !e.message.is_empty() {
        body.insert("message".into(), e.message.clone().into());
    }
    serde_json::to_vec(&body).unwrap_or_default()
}
