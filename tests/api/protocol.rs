use crate::common::{create_key, err, kms_raw, raw, spawn};

#[tokio::test]
async fn unknown_targets_and_bad_bodies() {
    let t = spawn().await;
    let r = kms_raw(&t, "MakeCoffee", "{}").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "UnknownOperationException");
    let r = raw(&t, "POST", "/", &[("X-Amz-Target", "Other.Encrypt")], b"{}").await;
    assert_eq!(r.json()["__type"], "UnknownOperationException");
    let r = raw(&t, "POST", "/", &[], b"{}").await;
    assert_eq!(r.json()["__type"], "UnknownOperationException");

    for body in [
        "{not json",
        "[]",
        "\"text\"",
        r#"{"KeyId": 5}"#,
        r#"{"Limit": "ten"}"#,
        r#"{"Plaintext": "***"}"#,
    ] {
        let op = if body.contains("Plaintext") {
            "Encrypt"
        } else {
            "ListKeys"
        };
        let op = if body.contains("KeyId") {
            "DescribeKey"
        } else {
            op
        };
        let r = kms_raw(&t, op, body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(
            r.json()["__type"],
            "SerializationException",
            "{body}: {}",
            r.text()
        );
    }
    // An empty body is an empty request.
    let r = kms_raw(&t, "ListKeys", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_the_json_content_type() {
    let t = spawn().await;
    for (op, status) in [("ListKeys", 200), ("DescribeKey", 400)] {
        let r = kms_raw(&t, op, "{}").await;
        assert_eq!(r.status, status);
        let id = r.header("x-amzn-RequestId").expect("request id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    }
}

#[tokio::test]
async fn validation_reports_every_violation_in_aws_wording() {
    let t = spawn().await;
    let r = kms_raw(
        &t,
        "GenerateDataKey",
        r#"{"NumberOfBytes": 0, "KeySpec": "AES_512"}"#,
    )
    .await;
    assert_eq!(r.json()["__type"], "ValidationException");
    assert_eq!(
        r.json()["message"],
        "3 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; \
Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1; \
Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
    );
    let r = kms_raw(
        &t,
        "CreateAlias",
        r#"{"AliasName": "alias/has space", "TargetKeyId": ""}"#,
    )
    .await;
    assert_eq!(
        r.json()["message"],
        "2 validation errors detected: Value 'alias/has space' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$; \
Value '' at 'targetKeyId' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[tokio::test]
async fn oversized_requests_are_refused_with_an_answer() {
    let t = spawn().await;
    let body = format!(r#"{{"Description": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let r = kms_raw(&t, "CreateKey", &body).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "ValidationException");
}

#[tokio::test]
async fn keys_are_isolated_by_region_and_account() {
    let t = spawn().await;
    let east = t.client();
    let id = create_key(&east).await;
    let west = t.client_for("test", "us-west-2");
    let (code, message) = err(west.describe_key().key_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        format!("Key 'arn:aws:kms:us-west-2:111122223333:key/{id}' does not exist")
    );
    assert!(west.list_keys().send().await.unwrap().keys().is_empty());
    let west_key = west
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(
        west_key
            .arn
            .unwrap()
            .starts_with("arn:aws:kms:us-west-2:111122223333:key/")
    );

    // A 12-digit access key id is the account.
    let other = t.client_for("444455556666", "us-east-1");
    let (code, _) = err(other.describe_key().key_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    let m = other
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.aws_account_id.as_deref(), Some("444455556666"));
    assert_eq!(east.list_keys().send().await.unwrap().keys().len(), 1);
}

#[tokio::test]
async fn no_input_to_any_operation_gets_a_500_or_a_dropped_connection() {
    let t = spawn().await;
    let key = create_key(&t.client()).await;
    let bodies = [
        "{}".to_owned(),
        "null".to_owned(),
        "[]".to_owned(),
        "{\"KeyId\": null}".to_owned(),
        format!("{{\"KeyId\": \"{}\"}}", "k".repeat(3000)),
        format!(
            "{{\"KeyId\": \"{key}\", \"Plaintext\": \"AA==\", \"NumberOfBytes\": 99999999999}}"
        ),
        format!("{{\"KeyId\": \"{key}\", \"CiphertextBlob\": \"AQE=\", \"Limit\": -1}}"),
        "{\"KeyId\": \"alias/aws/x\", \"KeySpec\": \"AES_256\", \"Marker\": \"\\u0000\"}"
            .to_owned(),
        "{\"AliasName\": \"alias/\", \"TargetKeyId\": \"arn:aws:kms:::key/\", \"Tags\": [{}]}"
            .to_owned(),
        "{\"Policy\": \"{}\", \"Description\": 7, \"EncryptionContext\": {\"a\": 1}}".to_owned(),
    ];
    for op in trent::model::Operation::ALL {
        for body in &bodies {
            let r = kms_raw(&t, op.name(), body).await;
            assert!(
                r.status == 200 || r.status == 400,
                "{} {body}: {}",
                op.name(),
                r.status
            );
            if r.status == 400 {
                let json = r.json();
                assert!(
                    json["__type"].is_string(),
                    "{} {body}: {}",
                    op.name(),
                    r.text()
                );
            }
        }
    }
}

#[tokio::test]
async fn a_body_announced_too_large_is_refused_without_waiting_for_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = spawn().await;
    let mut stream = tokio::net::TcpStream::connect(t.server().addr())
        .await
        .unwrap();
    // The header alone: the body never comes.
    stream
        .write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 2000000\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("an answer before the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 400"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.contains("validationexception"), "{answer}");

    // Paths and methods trent does not serve still answer JSON.
    let r = raw(&t, "GET", "/nowhere", &[], b"").await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (404, Some("no such path"))
    );
    let r = raw(&t, "GET", "/_trent/reset", &[], b"").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error"], "method not allowed");
}

/// A body in chunks is read whole, the limit holds for one without a length, and a body
/// that ends before its announced length is answered, in AWS's words for each.
#[tokio::test]
async fn bodies_in_pieces_are_joined_and_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = spawn().await;
    let key = create_key(&t.client()).await;
    let head = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.Encrypt\r\nContent-Type: application/x-amz-json-1.1\r\n";
    let send = |parts: Vec<Vec<u8>>, close_write: bool| {
        let addr = t.server().addr();
        async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            for part in parts {
                stream.write_all(&part).await.unwrap();
                stream.flush().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            if close_write {
                stream.shutdown().await.unwrap();
            }
            let mut answer = Vec::new();
            let mut buf = vec![0u8; 65536];
            loop {
                let n =
                    tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf))
                        .await
                        .expect("an answer")
                        .unwrap_or(0);
                answer.extend_from_slice(&buf[..n]);
                if n == 0 || answer.ends_with(b"}") {
                    return String::from_utf8_lossy(&answer).into_owned();
                }
            }
        }
    };
    let chunk = |text: &str| format!("{:x}\r\n{text}\r\n", text.len()).into_bytes();

    // Three chunks, each sent on its own: one request.
    let body = format!(r#"{{"KeyId": "{key}", "Plaintext": "aGVsbG8="}}"#);
    let (a, rest) = body.split_at(10);
    let (b, c) = rest.split_at(15);
    let answer = send(
        vec![
            format!("{head}Transfer-Encoding: chunked\r\n\r\n").into_bytes(),
            chunk(a),
            chunk(b),
            [chunk(c), b"0\r\n\r\n".to_vec()].concat(),
        ],
        false,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"CiphertextBlob\""), "{answer}");

    // Chunks past the limit, no length announced: refused once the limit is passed.
    let big = "x".repeat(300 * 1024);
    let answer = send(
        vec![
            format!("{head}Transfer-Encoding: chunked\r\n\r\n").into_bytes(),
            chunk(&big),
            chunk(&big),
            chunk(&big),
            chunk(&big),
        ],
        false,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        answer.ends_with(
            r#"{"__type":"ValidationException","message":"Request body is larger than the limit of 1048576 bytes"}"#
        ),
        "{answer}"
    );

    // Half of an announced body, then the client stops sending.
    let answer = send(
        vec![format!("{head}Content-Length: {}\r\n\r\n{a}", body.len()).into_bytes()],
        true,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.ends_with(
            r#"{"__type":"SerializationException","message":"The request body ended before its announced length."}"#
        ),
        "{answer}"
    );
}
