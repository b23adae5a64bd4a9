//! Every request member of all 54 operations is checked against the AWS model through the
//! server, before any handler runs: each required member, left out, is reported in AWS's
//! words, and so is each enumeration member given a value outside its set.

use serde_json::{Map, Value, json};

use crate::common::{kms_raw, spawn};

fn model() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/protocol/service-2.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// A value of `shape` that satisfies its constraints (required members only).
fn valid(shapes: &Value, shape: &str) -> Value {
    let s = &shapes[shape];
    match s["type"].as_str().unwrap() {
        "string" => {
            if let Some(values) = s["enum"].as_array() {
                return values[0].clone();
            }
            let sample = match s["pattern"].as_str() {
                Some("^[a-zA-Z0-9:/_-]+$") => "alias/x".to_owned(),
                Some("[0-9]{12}") => "111122223333".to_owned(),
                Some("^[a-f0-9]+$") => "a".repeat(64),
                Some(p) if p.starts_with("cluster-") => "cluster-234567abcdefg".to_owned(),
                Some("^([a-z]+-){2,3}\\d+$") => "us-west-2".to_owned(),
                Some(p) if p.starts_with("^https://") => "https://example.com".to_owned(),
                Some(p) if p.contains("kms/xks") => "/kms/xks/v1".to_owned(),
                Some(p) if p.starts_with("^(com|eu)") => {
                    "com.amazonaws.vpce.us-east-1.vpce-svc-abc".to_owned()
                }
                Some("^[A-Z2-7]+$") => "A".repeat(20),
                Some(p) if p.contains("\\/+=") => "a".repeat(43),
                _ => "k".repeat(s["min"].as_u64().unwrap_or(1).max(1) as usize),
            };
            Value::String(sample)
        }
        "blob" => Value::String("AAAA".into()),
        "integer" => json!(s["min"].as_i64().unwrap_or(1)),
        "boolean" => json!(false),
        "timestamp" => json!(1_700_000_000),
        "list" => json!([valid(shapes, s["member"]["shape"].as_str().unwrap())]),
        "map" => json!({}),
        _ => {
            let mut out = Map::new();
            for name in s["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                let member = s["members"][name]["shape"].as_str().unwrap();
                out.insert(name.to_owned(), valid(shapes, member));
            }
            Value::Object(out)
        }
    }
}

#[tokio::test]
async fn every_operation_checks_its_members_against_the_model() {
    let model = model();
    let shapes = &model["shapes"];
    let t = spawn().await;
    let mut checked = 0;
    for (op, def) in model["operations"].as_object().unwrap() {
        let Some(input) = def["input"]["shape"].as_str() else {
            continue;
        };
        let base = valid(shapes, input);
        let input = &shapes[input];
        for name in input["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            let mut body = base.clone();
            body.as_object_mut().unwrap().remove(name);
            let r = kms_raw(&t, op, &body.to_string()).await;
            assert_eq!(
                r.json()["__type"],
                "ValidationException",
                "{op} without {name}"
            );
            assert_eq!(
                r.json()["message"],
                format!(
                    "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                    lower_first(name)
                ),
                "{op} without {name}"
            );
            checked += 1;
        }
        for (name, member) in input["members"].as_object().unwrap() {
            let shape = &shapes[member["shape"].as_str().unwrap()];
            let Some(values) = shape["enum"].as_array() else {
                continue;
            };
            let mut body = base.clone();
            body[name] = json!("NOT_A_VALUE");
            let r = kms_raw(&t, op, &body.to_string()).await;
            let message = r.json()["message"].as_str().unwrap_or_default().to_owned();
            assert_eq!(r.json()["__type"], "ValidationException", "{op}.{name}");
            assert!(
                message.starts_with(&format!(
                    "1 validation error detected: Value 'NOT_A_VALUE' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [",
                    lower_first(name)
                )),
                "{op}.{name}: {message}"
            );
            for v in values {
                assert!(
                    message.contains(v.as_str().unwrap()),
                    "{op}.{name}: {message}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(model["operations"].as_object().unwrap().len(), 54);
    assert!(checked > 100, "{checked}");
}
