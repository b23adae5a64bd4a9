//! Seed files (trent's format and local-kms's), LocalStack's custom-key tags, and the
//! test controls: health, reset (and moto's), the seed export and the clock's guards.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    EncryptionAlgorithmSpec, KeySpec, KeyUsageType, MacAlgorithmSpec, SigningAlgorithmSpec, Tag,
};
use base64_simd::STANDARD;

use crate::common::{TestServer, config, describe, err, fresh_dir, public_key, raw, sign, start};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed");
const ORDERS: &str = "5a5e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/// A server loading `seed`, on a fresh data directory (or `dir`).
async fn seeded(seed: &str, dir: Option<std::path::PathBuf>) -> TestServer {
    let dir = dir.unwrap_or_else(fresh_dir);
    start(config(&dir, &["--seed", seed]), dir).await
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn blob(file: &str) -> Blob {
    let text = std::fs::read_to_string(fixture(file)).unwrap();
    Blob::new(STANDARD.decode_to_vec(text.trim()).unwrap())
}

#[tokio::test]
async fn a_seed_loads_keys_aliases_and_material_that_decrypts_committed_ciphertexts() {
    let t = seeded(&fixture("trent.yaml"), None).await;
    let kms = t.client();
    // A ciphertext made once from this seed, on another machine, decrypts here.
    let out = kms
        .decrypt()
        .ciphertext_blob(blob("orders.ciphertext"))
        .encryption_context("tenant", "acme")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.key_id(),
        Some(format!("arn:aws:kms:us-east-1:111122223333:key/{ORDERS}").as_str())
    );
    assert_eq!(out.plaintext.unwrap().as_ref(), b"order #1001");
    let orders = describe(&kms, "alias/orders-v2").await;
    assert_eq!(orders.key_id, ORDERS);
    assert_eq!(orders.description(), Some("orders"));
    let tags = kms
        .list_resource_tags()
        .key_id(ORDERS)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!((tags[0].tag_key(), tags[0].tag_value()), ("team", "orders"));
    let retired = describe(&kms, "6b6f2b3c-4d5e-4f60-9bac-1d2e3f4a5b6c").await;
    assert_eq!(retired.key_state.unwrap().as_str(), "Disabled");
    let mrk = describe(
        &t.client_for("test", "eu-west-1"),
        "mrk-0123456789abcdef0123456789abcdef",
    )
    .await;
    assert_eq!(mrk.multi_region, Some(true));
    // HMAC material as given: the MAC equals HMAC-SHA-256 under those bytes.
    let mac = kms
        .generate_mac()
        .key_id("7c7a3c4d-5e6f-4071-8cbd-2e3f4a5b6c7d")
        .message(Blob::new("seeded"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    use hmac::{KeyInit, Mac};
    let material: Vec<u8> = (0..32)
        .map(|i| {
            u8::from_str_radix(
                &"465ecf424e4262e760dcf2d816225d27110973cc586c7e047cc0978177dff9a9"
                    [2 * i..2 * i + 2],
                16,
            )
            .unwrap()
        })
        .collect();
    let mut expected = hmac::Hmac::<sha2::Sha256>::new_from_slice(&material).unwrap();
    expected.update(b"seeded");
    assert_eq!(mac.as_ref(), expected.finalize().into_bytes().as_slice());
    // The seeded private keys sign.
    for (key, algorithm) in [
        ("alias/signer", SigningAlgorithmSpec::EcdsaSha256),
        (
            "9e9c5e6f-7081-4293-aedf-4a5b6c7d8e9f",
            SigningAlgorithmSpec::Ed25519Sha512,
        ),
    ] {
        let sig = sign(&kms, key, algorithm.as_str(), "m").await;
        kms.verify()
            .key_id(key)
            .message(Blob::new("m"))
            .signature(sig)
            .signing_algorithm(algorithm)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn loading_a_seed_again_changes_nothing() {
    let seed = fixture("trent.yaml");
    let t = seeded(&seed, None).await;
    let kms = t.client();
    kms.update_key_description()
        .key_id(ORDERS)
        .description("changed by a test")
        .send()
        .await
        .unwrap();
    let before = kms.list_keys().send().await.unwrap().keys.unwrap().len();
    let dir = t.stop_keeping_data().await;
    let t = seeded(&seed, Some(dir)).await;
    let kms = t.client();
    assert_eq!(
        kms.list_keys().send().await.unwrap().keys.unwrap().len(),
        before
    );
    assert_eq!(
        describe(&kms, ORDERS).await.description(),
        Some("changed by a test")
    );
}

#[test]
fn a_broken_entry_is_reported_with_its_line_and_key_and_nothing_loads() {
    let scope = trent::model::Scope::new("111122223333", "us-east-1");
    let broken = "keys:\n  - id: 5a5e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n    material: 77207f6b\n  - id: 11111111-2222-4333-8444-555555555555\n    spec: RSA_2048\n";
    let e = trent::seed::Seed::parse(broken, &scope).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2, key 5a5e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b: SYMMETRIC_DEFAULT material must be 32 bytes, not 4"
    );
    let e = trent::seed::Seed::parse(
        "keys:\n  - id: 5a5e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n  - id: 11111111-2222-4333-8444-555555555555\n    spec: RSA_2048\n",
        &scope,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3, key 11111111-2222-4333-8444-555555555555: a RSA_2048 key needs a usage"
    );
    let e = trent::seed::Seed::parse("keys:\n  - id: 1\n    colour: blue\n", &scope).unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
    // An alias must name a key of the seed, or loading would stop halfway.
    let e = trent::seed::Seed::parse(
        "Aliases:\n  - AliasName: alias/orphan\n    TargetKeyId: 11111111-2222-4333-8444-555555555555\n",
        &scope,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "alias alias/orphan: its key 11111111-2222-4333-8444-555555555555 is not in the seed"
    );
}

#[tokio::test]
async fn a_server_with_a_broken_seed_does_not_start_and_loads_nothing() {
    let dir = fresh_dir();
    let seed = dir.join("seed.yaml");
    std::fs::write(
        &seed,
        "keys:\n  - id: 5a5e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n  - id: not-an-id\n",
    )
    .unwrap();
    let config = config(&dir, &["--seed", seed.to_str().unwrap()]);
    let e = trent::start(config).await.err().expect("a start failure");
    assert!(e.to_string().contains("line 3, key not-an-id"), "{e}");
    // The good first entry was not loaded either.
    let t = crate::common::spawn_in(dir).await;
    let keys = t.client().list_keys().send().await.unwrap().keys.unwrap();
    assert!(keys.is_empty());
}

#[tokio::test]
async fn local_kms_seeds_load_unchanged() {
    let t = seeded(&fixture("local-kms.yaml"), None).await;
    let kms = t.client();
    let aes = describe(&kms, "alias/local-kms").await;
    assert_eq!(aes.key_id, "bc436485-5092-42b8-92a3-0aa8b93536dc");
    let rsa = describe(&kms, "cd547596-6103-43c9-a3b1-1bb9ca4647ed").await;
    assert_eq!(rsa.key_spec().map(|s| s.as_str()), Some("RSA_2048"));
    // Encrypted offline with openssl under the seeded RSA key's public key.
    let out = kms
        .decrypt()
        .key_id(&rsa.key_id)
        .ciphertext_blob(blob("local-kms-rsa.ciphertext"))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"sealed offline");
    let ecc = describe(&kms, "de658607-7214-44da-b4c2-2cca0b5758fe").await;
    assert_eq!(ecc.key_spec().map(|s| s.as_str()), Some("ECC_NIST_P384"));
    assert_eq!(ecc.key_usage().map(|u| u.as_str()), Some("SIGN_VERIFY"));
}

#[tokio::test]
async fn localstack_custom_id_and_material_tags() {
    let t = crate::common::spawn().await;
    let kms = t.client();
    let material = [9u8; 32];
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    let create = || {
        kms.create_key()
            .tags(tag("_custom_id_", "00000000-1111-4222-8333-444444444444"))
            .tags(tag(
                "_custom_key_material_",
                &STANDARD.encode_to_string(material),
            ))
            .tags(tag("team", "payments"))
            .send()
    };
    let m = create().await.unwrap().key_metadata.unwrap();
    assert_eq!(m.key_id, "00000000-1111-4222-8333-444444444444");
    // The instructions are not kept as tags: the material never shows.
    let tags = kms
        .list_resource_tags()
        .key_id(&m.key_id)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].tag_key(), "team");
    let (code, _) = err(create().await);
    assert_eq!(code, "AlreadyExistsException");
    // The same material under the same id in another trent opens the ciphertext.
    let blob = kms
        .encrypt()
        .key_id(&m.key_id)
        .plaintext(Blob::new("portable"))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let other = crate::common::spawn().await;
    let kms2 = other.client();
    kms2.create_key()
        .tags(tag("_custom_id_", "00000000-1111-4222-8333-444444444444"))
        .tags(tag(
            "_custom_key_material_",
            &STANDARD.encode_to_string(material),
        ))
        .send()
        .await
        .unwrap();
    let out = kms2.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"portable");
    let (code, _) = err(kms
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .tags(tag(
            "_custom_key_material_",
            &STANDARD.encode_to_string([1u8; 8]),
        ))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    // A private key is longer than a tag value may be: it still works, and an error
    // never quotes it.
    let private = trent::crypto::SecretKey::generate(trent::model::KeySpec::EccNistP521);
    let encoded = STANDARD.encode_to_string(private.to_storage().expose());
    assert!(encoded.len() > 256);
    let m = kms
        .create_key()
        .key_spec(KeySpec::EccNistP521)
        .key_usage(KeyUsageType::SignVerify)
        .tags(tag("_custom_key_material_", &encoded))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        public_key(&kms, &m.key_id).await.into_inner(),
        private.public_key_der().unwrap()
    );
    let (code, message) = err(kms
        .create_key()
        .key_spec(KeySpec::EccNistP384)
        .key_usage(KeyUsageType::SignVerify)
        .tags(tag("_custom_key_material_", &encoded))
        .description("d".repeat(9000))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert!(!message.contains(&encoded[..40]), "{message}");
}

#[tokio::test]
async fn reset_export_and_reload() {
    let t = seeded(&fixture("trent.yaml"), None).await;
    let kms = t.client();
    let mine = crate::common::create_key(&kms).await;
    let blob = crate::common::encrypt(&kms, &mine, "frozen", &[]).await;

    // The export holds every key, with material, as a seed.
    let r = raw(&t, "GET", "/_trent/seed", &[], b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/yaml"));
    let export = fresh_dir().join("export.yaml");
    std::fs::write(&export, r.body).unwrap();
    let frozen = seeded(export.to_str().unwrap(), None).await;
    let out = frozen
        .client()
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"frozen");
    assert_eq!(
        describe(&frozen.client(), "alias/signer").await.key_id,
        "8d8b4d5e-6f70-4182-9dce-3f4a5b6c7d8e"
    );

    // Reset: everything goes, then the seed comes back, on real time.
    t.advance_clock(3600).await;
    for path in ["/_trent/reset", "/moto-api/reset"] {
        let r = raw(&t, "POST", path, &[], b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["status"], "reset");
        let (code, _) = err(kms.describe_key().key_id(&mine).send().await);
        assert_eq!(code, "NotFoundException");
        assert_eq!(describe(&kms, "alias/orders").await.key_id, ORDERS);
    }
    let clock = raw(&t, "GET", "/_trent/clock", &[], b"").await.json();
    assert_eq!(clock["offsetSeconds"], 0.0);
}

#[tokio::test]
async fn controls_answer_json_and_guard_the_clock() {
    let t = crate::common::spawn().await;
    let health = raw(&t, "GET", "/_trent/health", &[], b"").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    for (body, why) in [
        (r#"{"advanceSeconds": -1}"#, "time only moves forward"),
        (
            r#"{"advanceSeconds": 9223372036854775}"#,
            "at most 1000 years",
        ),
        (
            r#"{"offsetSeconds": 9223372036854775807}"#,
            "seconds out of range",
        ),
        (r#"{"advance": 1}"#, "unknown field"),
    ] {
        let r = raw(&t, "POST", "/_trent/clock", &[], body.as_bytes()).await;
        assert_eq!(r.status, 400, "{body}");
        let error = r.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(why), "{body}: {error}");
    }
    t.advance_clock(86_400).await;
    let r = raw(&t, "POST", "/_trent/clock", &[], br#"{"offsetSeconds": 0}"#).await;
    assert_eq!(r.status, 400);
    // Off: the controls are gone, health stays.
    let dir = fresh_dir();
    let off = start(config(&dir, &["--test-controls", "false"]), dir).await;
    assert_eq!(
        raw(&off, "POST", "/_trent/reset", &[], b"").await.status,
        404
    );
    assert_eq!(raw(&off, "GET", "/_trent/seed", &[], b"").await.status, 404);
    assert_eq!(
        raw(&off, "GET", "/_trent/health", &[], b"").await.status,
        200
    );
}

#[tokio::test]
async fn a_default_seed_loads_only_when_its_file_exists() {
    let dir = fresh_dir();
    let missing = dir.join("absent.yaml");
    let t = start(
        config(&dir, &["--default-seed", missing.to_str().unwrap()]),
        dir,
    )
    .await;
    assert!(
        t.client()
            .list_keys()
            .send()
            .await
            .unwrap()
            .keys
            .unwrap()
            .is_empty()
    );
    let dir = fresh_dir();
    let present = fixture("trent.yaml");
    let t = start(config(&dir, &["--default-seed", &present]), dir).await;
    assert_eq!(describe(&t.client(), "alias/orders").await.key_id, ORDERS);
}
