//! Starting a server on port 0 with a fresh database, and the clients that drive it.

use std::path::PathBuf;

use aws_sdk_kms::Client;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{IncludeKeyMaterial, KeyMetadata, RotationsListEntry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trent::{Config, Server};

/// A running server and its data directory, removed when the test is done with it.
pub struct TestServer {
    server: Option<Server>,
    pub data_dir: PathBuf,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.server.is_some() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// A fresh, empty data directory under the system temp dir.
pub fn fresh_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trent-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn spawn() -> TestServer {
    spawn_in(fresh_dir()).await
}

/// A server on a free port whose database lives in `data_dir`.
pub async fn spawn_in(data_dir: PathBuf) -> TestServer {
    start(config(&data_dir, &[]), data_dir).await
}

/// The configuration of a test server on a free port with its database in `data_dir`,
/// and `extra` flags. Its RSA key pool is off: dozens of servers filling pools at once
/// would starve the tests of CPU.
pub fn config(data_dir: &std::path::Path, extra: &[&str]) -> Config {
    let dir = data_dir.to_str().unwrap();
    let base = [
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--rsa-key-pool",
        "0",
    ];
    Config::from_args(base.iter().chain(extra)).unwrap()
}

/// A server with `config`, owning `data_dir` for cleanup.
pub async fn start(config: Config, data_dir: PathBuf) -> TestServer {
    let server = trent::start(config).await.unwrap();
    TestServer {
        server: Some(server),
        data_dir,
    }
}

impl TestServer {
    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("running")
    }

    /// Stops the server and hands over its data directory, which stays.
    pub async fn stop_keeping_data(mut self) -> PathBuf {
        self.server.take().expect("running").stop().await;
        self.data_dir.clone()
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(mut self) -> TestServer {
        let server = self.server.take().expect("running");
        server.stop().await;
        spawn_in(self.data_dir.clone()).await
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server().addr())
    }

    /// An SDK client for the default account in us-east-1.
    pub fn client(&self) -> Client {
        self.client_for("test", "us-east-1")
    }

    /// An SDK client signing with `access_key_id` in `region`.
    pub fn client_for(&self, access_key_id: &str, region: &str) -> Client {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new(
                access_key_id,
                "secret",
                None,
                None,
                "test",
            ))
            .retry_config(RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        Client::from_conf(config)
    }

    /// Moves the service clock forward through the test control.
    pub async fn advance_clock(&self, seconds: i64) {
        let body = format!(r#"{{"advanceSeconds": {seconds}}}"#);
        let response = raw(self, "POST", "/_trent/clock", &[], body.as_bytes()).await;
        assert_eq!(response.status, 200, "{}", response.text());
    }
}

/// The AWS exception name and message of a failed SDK call.
pub fn err<T, E: ProvideErrorMetadata + std::fmt::Debug>(result: Result<T, E>) -> (String, String) {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => (
            e.code()
                .unwrap_or_else(|| panic!("no error code in {e:?}"))
                .to_owned(),
            e.message().unwrap_or_default().to_owned(),
        ),
    }
}

pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
}

/// One HTTP/1.1 request over a fresh connection, for what no SDK would send.
pub async fn raw(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(server.server().addr())
        .await
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

/// A KMS request by hand: `X-Amz-Target: TrentService.<op>` and a JSON body.
pub async fn kms_raw(server: &TestServer, op: &str, body: &str) -> RawResponse {
    kms_raw_with(server, op, body, &[]).await
}

/// A KMS request by hand in the account and Region a SigV4 client would act in: those of
/// the credential in its Authorization header (a 12-digit access key id is the account).
pub async fn kms_raw_as(
    server: &TestServer,
    access_key_id: &str,
    region: &str,
    op: &str,
    body: &str,
) -> RawResponse {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/20260101/{region}/kms/aws4_request, SignedHeaders=host, Signature=0"
    );
    kms_raw_with(server, op, body, &[("Authorization", &authorization)]).await
}

async fn kms_raw_with(
    server: &TestServer,
    op: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> RawResponse {
    let target = format!("TrentService.{op}");
    let mut all = vec![
        ("X-Amz-Target", target.as_str()),
        ("Content-Type", "application/x-amz-json-1.1"),
    ];
    all.extend_from_slice(headers);
    raw(server, "POST", "/", &all, body.as_bytes()).await
}

/// Creates a symmetric key and returns its id.
pub async fn create_key(client: &Client) -> String {
    client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

/// Encrypts `plaintext` under `key_id` with an encryption context; the ciphertext blob.
pub async fn encrypt(
    kms: &Client,
    key_id: &str,
    plaintext: &str,
    context: &[(&str, &str)],
) -> Blob {
    let mut request = kms.encrypt().key_id(key_id).plaintext(Blob::new(plaintext));
    for (k, v) in context {
        request = request.encryption_context(*k, *v);
    }
    request.send().await.unwrap().ciphertext_blob.unwrap()
}

/// DescribeKey's metadata for a key that must exist.
pub async fn describe(kms: &Client, key_id: &str) -> KeyMetadata {
    kms.describe_key()
        .key_id(key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
}

/// GetPublicKey's DER SubjectPublicKeyInfo for a key that has one.
pub async fn public_key(kms: &Client, key_id: &str) -> Blob {
    kms.get_public_key()
        .key_id(key_id)
        .send()
        .await
        .unwrap()
        .public_key
        .unwrap()
}

/// Signs a RAW `message` with `algorithm`; the signature.
pub async fn sign(kms: &Client, key_id: &str, algorithm: &str, message: &str) -> Blob {
    kms.sign()
        .key_id(key_id)
        .message(Blob::new(message))
        .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::from(algorithm))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{algorithm}: {e:?}"))
        .signature
        .unwrap()
}

/// ListKeyRotations, one page of up to 100.
pub async fn list_rotations(
    kms: &Client,
    key: &str,
    include: Option<IncludeKeyMaterial>,
) -> Vec<RotationsListEntry> {
    kms.list_key_rotations()
        .key_id(key)
        .set_include_key_material(include)
        .send()
        .await
        .unwrap()
        .rotations
        .unwrap()
}
