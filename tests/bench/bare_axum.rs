//! The baseline for the scale run: an axum server on the same runtime as trent whose one
//! handler reads the request body and answers a fixed JSON body the size of an Encrypt
//! answer for 1 KiB, with no KMS work in between. trent's Encrypt rate is measured against
//! this one's in the same run, on the same core.
//!
//!     cargo build --release --example bare_axum
//!     target/release/examples/bare_axum 127.0.0.1:9000

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;

/// `{"CiphertextBlob": "<1,452 base64 characters>", ...}`: about what Encrypt returns for
/// 1 KiB of plaintext.
fn answer() -> String {
    format!(
        r#"{{"CiphertextBlob":"{}","KeyId":"arn:aws:kms:us-east-1:111122223333:key/{}","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#,
        "A".repeat(1452),
        uuid::Uuid::nil()
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let body: &'static str = answer().leak();
    let app = axum::Router::new().route(
        "/",
        post(move |request: Bytes| async move {
            std::hint::black_box(request);
            ([(header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
