//! Every key spec, usage, algorithm and message type through the AWS SDK for Rust, with the
//! main error paths and AWS's exact messages. Independent verification of the outputs
//! (signatures, ciphertexts, key pairs, shared secrets) lives in the client tier.

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeyPairSpec, EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec, KeySpec, KeyUsageType,
    MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::common::{create_key, err, kms_raw, public_key, sign, spawn};

/// Creates a key of `spec` and `usage`; its metadata.
async fn key(kms: &Client, spec: &str, usage: &str) -> aws_sdk_kms::types::KeyMetadata {
    kms.create_key()
        .key_spec(KeySpec::from(spec))
        .key_usage(KeyUsageType::from(usage))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{spec} {usage}: {e:?}"))
        .key_metadata
        .unwrap()
}

fn names<T: AsRef<str>>(values: &[T]) -> Vec<&str> {
    values.iter().map(AsRef::as_ref).collect()
}

/// AWS's algorithms per spec and usage (developer guide, and DescribeKey as recorded).
const SPECS: &[(&str, &str, &[&str])] = &[
    (
        "RSA_2048",
        "ENCRYPT_DECRYPT",
        &["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
    ),
    (
        "RSA_2048",
        "SIGN_VERIFY",
        &[
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
        ],
    ),
    ("ECC_NIST_P256", "SIGN_VERIFY", &["ECDSA_SHA_256"]),
    ("ECC_NIST_P384", "SIGN_VERIFY", &["ECDSA_SHA_384"]),
    ("ECC_NIST_P521", "SIGN_VERIFY", &["ECDSA_SHA_512"]),
    ("ECC_SECG_P256K1", "SIGN_VERIFY", &["ECDSA_SHA_256"]),
    ("ECC_NIST_P256", "KEY_AGREEMENT", &["ECDH"]),
    ("ECC_NIST_P384", "KEY_AGREEMENT", &["ECDH"]),
    ("ECC_NIST_P521", "KEY_AGREEMENT", &["ECDH"]),
    (
        "ECC_NIST_EDWARDS25519",
        "SIGN_VERIFY",
        &["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    ),
    ("ML_DSA_44", "SIGN_VERIFY", &["ML_DSA_SHAKE_256"]),
    ("ML_DSA_65", "SIGN_VERIFY", &["ML_DSA_SHAKE_256"]),
    ("ML_DSA_87", "SIGN_VERIFY", &["ML_DSA_SHAKE_256"]),
    ("HMAC_224", "GENERATE_VERIFY_MAC", &["HMAC_SHA_224"]),
    ("HMAC_256", "GENERATE_VERIFY_MAC", &["HMAC_SHA_256"]),
    ("HMAC_384", "GENERATE_VERIFY_MAC", &["HMAC_SHA_384"]),
    ("HMAC_512", "GENERATE_VERIFY_MAC", &["HMAC_SHA_512"]),
];

#[tokio::test]
async fn describe_key_lists_each_specs_algorithms_as_aws_does() {
    let t = spawn().await;
    let kms = t.client();
    for (spec, usage, algorithms) in SPECS {
        let m = key(&kms, spec, usage).await;
        assert_eq!(m.key_spec().unwrap().as_str(), *spec);
        // The deprecated twin exists only for the specs it had before ML-DSA and Ed25519.
        #[allow(deprecated)]
        let twin = m.customer_master_key_spec().map(|s| s.as_str().to_owned());
        let newer = spec.starts_with("ML_DSA") || *spec == "ECC_NIST_EDWARDS25519";
        assert_eq!(twin.as_deref(), (!newer).then_some(*spec), "{spec}");
        assert_eq!(m.key_usage().unwrap().as_str(), *usage);
        let listed = [
            names(m.encryption_algorithms()),
            names(m.signing_algorithms()),
            names(m.mac_algorithms()),
            names(m.key_agreement_algorithms()),
        ];
        // Exactly one list, the one of the key's usage.
        assert_eq!(listed.iter().filter(|l| !l.is_empty()).count(), 1, "{spec}");
        assert!(
            listed.contains(&algorithms.to_vec()),
            "{spec} {usage}: {listed:?}"
        );
        // AWS reports material ids only for symmetric encryption keys.
        assert_eq!(m.current_key_material_id(), None, "{spec}");
    }
    // The members of a recorded HMAC_256 DescribeKey, and no others.
    let id = key(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await.key_id;
    let r = kms_raw(&t, "DescribeKey", &format!(r#"{{"KeyId": "{id}"}}"#)).await;
    let mut members: Vec<String> = r.json()["KeyMetadata"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    members.sort();
    assert_eq!(
        members,
        [
            "AWSAccountId",
            "Arn",
            "CreationDate",
            "CustomerMasterKeySpec",
            "Description",
            "Enabled",
            "KeyId",
            "KeyManager",
            "KeySpec",
            "KeyState",
            "KeyUsage",
            "MacAlgorithms",
            "MultiRegion",
            "Origin"
        ]
    );
}

#[tokio::test]
async fn create_key_refuses_what_aws_refuses() {
    let t = spawn().await;
    let kms = t.client();
    let cases = [
        (
            "HMAC_256",
            None,
            "ValidationException",
            "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
        ),
        (
            "RSA_2048",
            Some("KEY_AGREEMENT"),
            "ValidationException",
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048",
        ),
        (
            "ECC_SECG_P256K1",
            Some("KEY_AGREEMENT"),
            "ValidationException",
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1",
        ),
        (
            "SM2",
            Some("SIGN_VERIFY"),
            "UnsupportedOperationException",
            "KeySpec SM2 is not supported in this Region",
        ),
    ];
    for (spec, usage, code, message) in cases {
        let result = kms
            .create_key()
            .key_spec(KeySpec::from(spec))
            .set_key_usage(usage.map(KeyUsageType::from))
            .send()
            .await;
        assert_eq!(err(result), (code.to_owned(), message.to_owned()), "{spec}");
    }
    let r = kms_raw(
        &t,
        "CreateKey",
        r#"{"KeySpec": "HMAC_256", "KeyUsage": "RANDOM"}"#,
    )
    .await;
    assert_eq!(
        r.json()["message"],
        "1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT]"
    );
}

/// A message of the algorithm's message type: raw bytes, or a digest of them.
fn message_for(algorithm: &str, message_type: &str, raw: &[u8]) -> Vec<u8> {
    match message_type {
        "RAW" => raw.to_vec(),
        // An ML-DSA μ is 64 bytes; its value is checked by the independent tier.
        "EXTERNAL_MU" => vec![0x5a; 64],
        _ if algorithm.ends_with("SHA_384") => Sha384::digest(raw).to_vec(),
        _ if algorithm.ends_with("SHA_512") => Sha512::digest(raw).to_vec(),
        _ => Sha256::digest(raw).to_vec(),
    }
}

fn message_types(algorithm: &str) -> &'static [&'static str] {
    match algorithm {
        "ED25519_SHA_512" => &["RAW"],
        "ED25519_PH_SHA_512" => &["DIGEST"],
        "ML_DSA_SHAKE_256" => &["RAW", "EXTERNAL_MU"],
        _ => &["RAW", "DIGEST"],
    }
}

#[tokio::test]
async fn every_signing_algorithm_and_message_type_signs_and_verifies() {
    let t = spawn().await;
    let kms = t.client();
    for (spec, usage, algorithms) in SPECS.iter().filter(|s| s.1 == "SIGN_VERIFY") {
        let m = key(&kms, spec, usage).await;
        for algorithm in *algorithms {
            for message_type in message_types(algorithm) {
                let message = message_for(algorithm, message_type, b"signed by trent");
                let signed = kms
                    .sign()
                    .key_id(&m.key_id)
                    .message(Blob::new(message.clone()))
                    .message_type(MessageType::from(*message_type))
                    .signing_algorithm(SigningAlgorithmSpec::from(*algorithm))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{spec} {algorithm} {message_type}: {e:?}"));
                assert_eq!(signed.key_id(), Some(m.arn.as_deref().unwrap()));
                assert_eq!(signed.signing_algorithm().unwrap().as_str(), *algorithm);
                let signature = signed.signature.unwrap();
                let verify = |sig: Blob| {
                    kms.verify()
                        .key_id(&m.key_id)
                        .message(Blob::new(message.clone()))
                        .message_type(MessageType::from(*message_type))
                        .signature(sig)
                        .signing_algorithm(SigningAlgorithmSpec::from(*algorithm))
                        .send()
                };
                let ok = verify(signature.clone()).await.unwrap();
                assert!(ok.signature_valid, "{spec} {algorithm}");
                let mut bad = signature.into_inner();
                bad[10] ^= 1;
                let (code, message) = err(verify(Blob::new(bad)).await);
                assert_eq!(code, "KMSInvalidSignatureException", "{spec} {algorithm}");
                assert_eq!(message, "");
            }
        }
    }
}

#[tokio::test]
async fn raw_and_digest_signatures_verify_either_way() {
    let t = spawn().await;
    let kms = t.client();
    let id = key(&kms, "ECC_NIST_P384", "SIGN_VERIFY").await.key_id;
    let sig = sign(&kms, &id, "ECDSA_SHA_384", "hello").await;
    kms.verify()
        .key_id(&id)
        .message(Blob::new(Sha384::digest(b"hello").to_vec()))
        .message_type(MessageType::Digest)
        .signature(sig)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha384)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn signing_errors_use_aws_words() {
    let t = spawn().await;
    let kms = t.client();
    let p256 = key(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let rsa = key(&kms, "RSA_2048", "SIGN_VERIFY").await.key_id;
    let ed = key(&kms, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
        .await
        .key_id;
    let ml = key(&kms, "ML_DSA_44", "SIGN_VERIFY").await.key_id;
    let invalid = "InvalidKeyUsageException";
    let validation = "ValidationException";
    // Key, algorithm, message type, message; the exception and its message.
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [u8], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &p256.key_id,
            "ECDSA_SHA_256",
            "DIGEST",
            &[0; 28],
            validation,
            "Digest is invalid length for algorithm ECDSA_SHA_256.",
        ),
        (
            &p256.key_id,
            "ECDSA_SHA_384",
            "RAW",
            b"m",
            invalid,
            "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.",
        ),
        (
            &rsa,
            "RSASSA_PSS_SHA_256",
            "DIGEST",
            &[0; 28],
            validation,
            "Digest is invalid length for algorithm RSASSA_PSS_SHA_256.",
        ),
        (
            &rsa,
            "RSASSA_PSS_SHA_512",
            "DIGEST",
            &[0; 28],
            validation,
            "Digest is invalid length for algorithm RSASSA_PSS_SHA_512.",
        ),
        (
            &rsa,
            "RSASSA_PKCS1_V1_5_SHA_256",
            "DIGEST",
            &[0; 28],
            validation,
            "Digest is invalid length for algorithm RSASSA_PKCS1_V1_5_SHA_256.",
        ),
        (
            &ed,
            "ED25519_SHA_512",
            "DIGEST",
            &[0; 64],
            validation,
            "Message type DIGEST is incompatible with algorithm ED25519_SHA_512.",
        ),
        (
            &ed,
            "ED25519_PH_SHA_512",
            "RAW",
            b"m",
            validation,
            "Message type RAW is incompatible with algorithm ED25519_PH_SHA_512.",
        ),
        (
            &ml,
            "ML_DSA_SHAKE_256",
            "DIGEST",
            &[0; 64],
            validation,
            "Message type DIGEST is incompatible with key spec ML_DSA_44.",
        ),
        (
            &ml,
            "ML_DSA_SHAKE_256",
            "EXTERNAL_MU",
            &[0; 32],
            validation,
            "Digest is invalid length for algorithm ML_DSA_SHAKE_256.",
        ),
        (
            &p256.key_id,
            "ECDSA_SHA_256",
            "EXTERNAL_MU",
            &[0; 64],
            validation,
            "Message type EXTERNAL_MU is incompatible with key spec ECC_NIST_P256.",
        ),
        (
            &p256.key_id,
            "ECDSA_SHA_256",
            "RAW",
            &[0; 4097],
            validation,
            "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
        ),
    ];
    for (key_id, algorithm, message_type, message, code, text) in cases {
        let result = kms
            .sign()
            .key_id(*key_id)
            .message(Blob::new(message.to_vec()))
            .message_type(MessageType::from(*message_type))
            .signing_algorithm(SigningAlgorithmSpec::from(*algorithm))
            .send()
            .await;
        assert_eq!(err(result), (code.to_string(), text.to_string()));
    }
    // DryRun: every check, then DryRunOperationException.
    let (code, message) = err(kms
        .sign()
        .key_id(&p256.key_id)
        .message(Blob::new("m"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    assert_eq!(
        message,
        "The request would have succeeded, but the DryRun option is set."
    );
    kms.disable_key().key_id(&p256.key_id).send().await.unwrap();
    let (code, message) = err(kms
        .sign()
        .key_id(&p256.key_id)
        .message(Blob::new("m"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await);
    assert_eq!(code, "DisabledException");
    assert_eq!(message, format!("{} is disabled.", p256.arn.unwrap()));
}

#[tokio::test]
async fn wrong_key_usage_is_named_as_aws_names_it() {
    let t = spawn().await;
    let kms = t.client();
    let symmetric = create_key(&kms).await;
    let symmetric_arn = format!("arn:aws:kms:us-east-1:111122223333:key/{symmetric}");
    let signing = key(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let signing_arn = signing.arn.unwrap();
    let hmac = key(&kms, "HMAC_256", "GENERATE_VERIFY_MAC").await;

    let (code, message) = err(kms
        .encrypt()
        .key_id(&signing.key_id)
        .plaintext(Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "InvalidKeyUsageException");
    assert_eq!(
        message,
        format!("{signing_arn} key usage is SIGN_VERIFY which is not valid for Encrypt.")
    );
    let (_, message) = err(kms
        .sign()
        .key_id(&hmac.key_id)
        .message(Blob::new("x"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await);
    assert_eq!(
        message,
        format!(
            "{} key usage is GENERATE_VERIFY_MAC which is not valid for Sign.",
            hmac.arn.as_deref().unwrap()
        )
    );
    let (_, message) = err(kms
        .verify()
        .key_id(&symmetric)
        .message(Blob::new("x"))
        .signature(Blob::new("x"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await);
    assert_eq!(
        message,
        format!("{symmetric_arn} key usage is ENCRYPT_DECRYPT which is not valid for Verify.")
    );
    let (_, message) = err(kms
        .generate_mac()
        .key_id(&symmetric)
        .message(Blob::new("x"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await);
    assert_eq!(
        message,
        format!("{symmetric_arn} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.")
    );
    for key_id in [&symmetric, &signing.key_id] {
        let (code, message) = err(kms
            .derive_shared_secret()
            .key_id(key_id)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new("x"))
            .send()
            .await);
        assert_eq!(code, "InvalidKeyUsageException");
        assert!(
            message.ends_with("which is not valid for DeriveSharedSecret."),
            "{message}"
        );
    }
    // Data keys and data key pairs need a symmetric encryption key.
    let rsa = key(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let (code, message) = err(kms
        .generate_data_key()
        .key_id(&rsa.key_id)
        .number_of_bytes(32)
        .send()
        .await);
    assert_eq!(code, "InvalidKeyUsageException");
    assert_eq!(
        message,
        format!(
            "{} key KeySpec is RSA_2048 which is not valid for GenerateDataKey.",
            rsa.arn.as_deref().unwrap()
        )
    );
    let (code, _) = err(kms.get_public_key().key_id(&symmetric).send().await);
    assert_eq!(code, "UnsupportedOperationException");
}

#[tokio::test]
async fn get_public_key_answers_with_the_keys_metadata() {
    let t = spawn().await;
    let kms = t.client();
    for (spec, usage, algorithms) in SPECS.iter().filter(|s| !s.0.starts_with("HMAC")) {
        let m = key(&kms, spec, usage).await;
        let out = kms.get_public_key().key_id(&m.key_id).send().await.unwrap();
        assert_eq!(out.key_id(), m.arn.as_deref());
        assert_eq!(out.key_spec().unwrap().as_str(), *spec);
        assert_eq!(out.key_usage().unwrap().as_str(), *usage);
        let listed = [
            names(out.encryption_algorithms()),
            names(out.signing_algorithms()),
            names(out.key_agreement_algorithms()),
        ];
        assert!(listed.contains(&algorithms.to_vec()), "{spec}: {listed:?}");
        let der = out.public_key.unwrap().into_inner();
        // DER SubjectPublicKeyInfo: a SEQUENCE.
        assert_eq!(der[0], 0x30, "{spec}");
        let expected_len = match *spec {
            "ECC_NIST_P256" | "ECC_SECG_P256K1" => {
                Some(if *spec == "ECC_NIST_P256" { 91 } else { 88 })
            }
            "ECC_NIST_EDWARDS25519" => Some(44),
            "ML_DSA_44" => Some(1334),
            _ => None,
        };
        if let Some(len) = expected_len {
            assert_eq!(der.len(), len, "{spec}");
        }
    }
}

#[tokio::test]
async fn rsa_encryption_round_trips_with_aws_limits() {
    let t = spawn().await;
    let kms = t.client();
    for (spec, limits) in [
        ("RSA_2048", [214, 190]),
        ("RSA_3072", [342, 318]),
        ("RSA_4096", [470, 446]),
    ] {
        let m = key(&kms, spec, "ENCRYPT_DECRYPT").await;
        for (algorithm, limit) in [
            (EncryptionAlgorithmSpec::RsaesOaepSha1, limits[0]),
            (EncryptionAlgorithmSpec::RsaesOaepSha256, limits[1]),
        ] {
            let plaintext = vec![7u8; limit];
            let out = kms
                .encrypt()
                .key_id(&m.key_id)
                .plaintext(Blob::new(plaintext.clone()))
                .encryption_algorithm(algorithm.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(out.encryption_algorithm(), Some(&algorithm));
            let blob = out.ciphertext_blob.unwrap();
            assert_eq!(blob.as_ref().len() * 8, spec[4..].parse::<usize>().unwrap());
            let back = kms
                .decrypt()
                .key_id(&m.key_id)
                .ciphertext_blob(blob)
                .encryption_algorithm(algorithm.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(back.key_material_id(), None);
            assert_eq!(back.plaintext.unwrap().into_inner(), plaintext);
            let (code, message) = err(kms
                .encrypt()
                .key_id(&m.key_id)
                .plaintext(Blob::new(vec![7u8; limit + 1]))
                .encryption_algorithm(algorithm.clone())
                .send()
                .await);
            assert_eq!(code, "ValidationException");
            assert_eq!(
                message,
                format!(
                    "Algorithm {} and key spec {spec} cannot encrypt data larger than {limit} bytes.",
                    algorithm.as_str()
                )
            );
        }
    }
}

#[tokio::test]
async fn asymmetric_decrypt_needs_its_key_and_algorithm() {
    let t = spawn().await;
    let kms = t.client();
    let m = key(&kms, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let blob = kms
        .encrypt()
        .key_id(&m.key_id)
        .plaintext(Blob::new("secret"))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    // No KeyId: the ciphertext names no key.
    let (code, message) = err(kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidCiphertextException", "")
    );
    // No algorithm: SYMMETRIC_DEFAULT, which an RSA key does not have.
    let (code, message) = err(kms
        .decrypt()
        .key_id(&m.key_id)
        .ciphertext_blob(blob.clone())
        .send()
        .await);
    assert_eq!(code, "InvalidKeyUsageException");
    assert_eq!(
        message,
        "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
    );
    // The other OAEP hash does not open it.
    let (code, _) = err(kms
        .decrypt()
        .key_id(&m.key_id)
        .ciphertext_blob(blob.clone())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .send()
        .await);
    assert_eq!(code, "InvalidCiphertextException");
    let (code, message) = err(kms
        .encrypt()
        .key_id(&m.key_id)
        .plaintext(Blob::new("x"))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .encryption_context("a", "b")
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs."
    );
}

#[tokio::test]
async fn re_encrypt_moves_between_symmetric_and_asymmetric_keys() {
    let t = spawn().await;
    let kms = t.client();
    let symmetric = create_key(&kms).await;
    let rsa = key(&kms, "RSA_3072", "ENCRYPT_DECRYPT").await;
    let blob = kms
        .encrypt()
        .key_id(&symmetric)
        .plaintext(Blob::new("moving"))
        .encryption_context("k", "v")
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let to_rsa = kms
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_encryption_context("k", "v")
        .destination_key_id(&rsa.key_id)
        .destination_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .send()
        .await
        .unwrap();
    assert!(to_rsa.source_key_material_id().is_some());
    assert_eq!(to_rsa.destination_key_material_id(), None);
    assert_eq!(
        to_rsa.destination_encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::RsaesOaepSha1)
    );
    let back = kms
        .re_encrypt()
        .ciphertext_blob(to_rsa.ciphertext_blob.unwrap())
        .source_key_id(&rsa.key_id)
        .source_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .destination_key_id(&symmetric)
        .send()
        .await
        .unwrap();
    assert_eq!(back.source_key_id(), rsa.arn.as_deref());
    assert!(back.destination_key_material_id().is_some());
    let plain = kms
        .decrypt()
        .ciphertext_blob(back.ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"moving");
}

#[tokio::test]
async fn data_key_pairs_of_every_spec() {
    let t = spawn().await;
    let kms = t.client();
    let wrapping = create_key(&kms).await;
    for spec in [
        "RSA_2048",
        "ECC_NIST_P256",
        "ECC_NIST_P384",
        "ECC_NIST_P521",
        "ECC_SECG_P256K1",
        "ECC_NIST_EDWARDS25519",
    ] {
        let pair = kms
            .generate_data_key_pair()
            .key_id(&wrapping)
            .key_pair_spec(DataKeyPairSpec::from(spec))
            .encryption_context("pair", spec)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{spec}: {e:?}"));
        assert_eq!(pair.key_pair_spec().unwrap().as_str(), spec);
        assert_eq!(pair.key_material_id().map(str::len), Some(64));
        let private = pair.private_key_plaintext.unwrap().into_inner();
        assert_eq!(private[0], 0x30, "{spec}: PKCS#8 DER");
        assert_eq!(
            pair.public_key.unwrap().as_ref()[0],
            0x30,
            "{spec}: SPKI DER"
        );
        let opened = kms
            .decrypt()
            .ciphertext_blob(pair.private_key_ciphertext_blob.unwrap())
            .encryption_context("pair", spec)
            .send()
            .await
            .unwrap();
        assert_eq!(opened.plaintext.unwrap().into_inner(), private, "{spec}");
    }
    let without = kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&wrapping)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    assert!(without.public_key.is_some());
    kms.decrypt()
        .ciphertext_blob(without.private_key_ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap();
    let (code, message) = err(kms
        .generate_data_key_pair()
        .key_id(&wrapping)
        .key_pair_spec(DataKeyPairSpec::Sm2)
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
    assert_eq!(message, "KeyPairSpec SM2 is not supported in this Region");
    let (code, message) = err(kms
        .generate_data_key_pair()
        .key_id(&wrapping)
        .key_pair_spec(DataKeyPairSpec::Rsa2048)
        .dry_run(true)
        .send()
        .await);
    assert_eq!(code, "DryRunOperationException");
    assert_eq!(
        message,
        "The request would have succeeded, but the DryRun option is set."
    );
    let signing = key(&kms, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let (code, message) = err(kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&signing.key_id)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await);
    assert_eq!(code, "InvalidKeyUsageException");
    assert_eq!(
        message,
        format!(
            "{} key usage is SIGN_VERIFY which is not valid for GenerateDataKeyPairWithoutPlaintext.",
            signing.arn.unwrap()
        )
    );
}

#[tokio::test]
async fn hmac_keys_generate_and_verify_macs() {
    let t = spawn().await;
    let kms = t.client();
    for (spec, algorithm, len) in [
        ("HMAC_224", MacAlgorithmSpec::HmacSha224, 28),
        ("HMAC_256", MacAlgorithmSpec::HmacSha256, 32),
        ("HMAC_384", MacAlgorithmSpec::HmacSha384, 48),
        ("HMAC_512", MacAlgorithmSpec::HmacSha512, 64),
    ] {
        let m = key(&kms, spec, "GENERATE_VERIFY_MAC").await;
        let out = kms
            .generate_mac()
            .key_id(&m.key_id)
            .message(Blob::new("message"))
            .mac_algorithm(algorithm.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(out.key_id(), m.arn.as_deref());
        let mac = out.mac.unwrap();
        assert_eq!(mac.as_ref().len(), len);
        let verify = |message: &'static str, mac: Blob| {
            kms.verify_mac()
                .key_id(&m.key_id)
                .message(Blob::new(message))
                .mac_algorithm(algorithm.clone())
                .mac(mac)
                .send()
        };
        assert!(verify("message", mac.clone()).await.unwrap().mac_valid);
        let (code, message) = err(verify("massage", mac.clone()).await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("KMSInvalidMacException", "")
        );
        let mut bad = mac.into_inner();
        bad[0] ^= 1;
        let (code, _) = err(verify("message", Blob::new(bad)).await);
        assert_eq!(code, "KMSInvalidMacException");
    }
    let m = key(&kms, "HMAC_224", "GENERATE_VERIFY_MAC").await;
    let (code, message) = err(kms
        .generate_mac()
        .key_id(&m.key_id)
        .message(Blob::new("m"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await);
    assert_eq!(code, "InvalidKeyUsageException");
    assert_eq!(
        message,
        "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."
    );
    let r = kms_raw(
        &t,
        "GenerateMac",
        &format!(
            r#"{{"KeyId": "{}", "Message": "bQ==", "MacAlgorithm": "INVALID"}}"#,
            m.key_id
        ),
    )
    .await;
    assert_eq!(
        r.json()["message"],
        "1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]"
    );
    let r = kms_raw(
        &t,
        "GenerateMac",
        r#"{"KeyId": "key_id", "Message": "bQ==", "MacAlgorithm": "HMAC_SHA_224"}"#,
    )
    .await;
    assert_eq!(r.json()["__type"], "NotFoundException");
    assert_eq!(r.json()["message"], "Invalid keyId 'key_id'");
}

#[tokio::test]
async fn two_keys_derive_the_same_shared_secret() {
    let t = spawn().await;
    let kms = t.client();
    for (spec, len) in [
        ("ECC_NIST_P256", 32),
        ("ECC_NIST_P384", 48),
        ("ECC_NIST_P521", 66),
    ] {
        let a = key(&kms, spec, "KEY_AGREEMENT").await;
        let b = key(&kms, spec, "KEY_AGREEMENT").await;

        let derive = |id: &str, peer: Blob| {
            kms.derive_shared_secret()
                .key_id(id)
                .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
                .public_key(peer)
                .send()
        };
        let ab = derive(&a.key_id, public_key(&kms, &b.key_id).await)
            .await
            .unwrap();
        let ba = derive(&b.key_id, public_key(&kms, &a.key_id).await)
            .await
            .unwrap();
        assert_eq!(ab.key_id(), a.arn.as_deref());
        assert_eq!(ab.key_origin().map(|o| o.as_str()), Some("AWS_KMS"));
        let secret = ab.shared_secret.unwrap();
        assert_eq!(secret.as_ref().len(), len, "{spec}");
        assert_eq!(secret, ba.shared_secret.unwrap(), "{spec}");
        let (code, message) = err(derive(&a.key_id, Blob::new("not a key")).await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ValidationException", "")
        );
    }
    let a = key(&kms, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let r = kms_raw(
        &t,
        "DeriveSharedSecret",
        &format!(
            r#"{{"KeyId": "{}", "KeyAgreementAlgorithm": "INVALID", "PublicKey": "AA=="}}"#,
            a.key_id
        ),
    )
    .await;
    assert_eq!(
        r.json()["message"],
        "1 validation error detected: Value 'INVALID' at 'keyAgreementAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ECDH]"
    );
}

#[tokio::test]
async fn sm2_keys_live_in_the_china_regions() {
    let t = spawn().await;
    let kms = t.client_for("test", "cn-north-1");
    let signing = key(&kms, "SM2", "SIGN_VERIFY").await;
    assert!(
        signing
            .arn
            .as_deref()
            .unwrap()
            .starts_with("arn:aws-cn:kms:cn-north-1:111122223333:key/")
    );
    assert_eq!(names(signing.signing_algorithms()), ["SM2DSA"]);
    for (message_type, message) in [
        (MessageType::Raw, b"sm2 message".to_vec()),
        (MessageType::Digest, vec![3u8; 32]),
    ] {
        let sig = kms
            .sign()
            .key_id(&signing.key_id)
            .message(Blob::new(message.clone()))
            .message_type(message_type.clone())
            .signing_algorithm(SigningAlgorithmSpec::Sm2Dsa)
            .send()
            .await
            .unwrap()
            .signature
            .unwrap();
        kms.verify()
            .key_id(&signing.key_id)
            .message(Blob::new(message))
            .message_type(message_type)
            .signature(sig)
            .signing_algorithm(SigningAlgorithmSpec::Sm2Dsa)
            .send()
            .await
            .unwrap();
    }
    let encrypting = key(&kms, "SM2", "ENCRYPT_DECRYPT").await;
    let blob = kms
        .encrypt()
        .key_id(&encrypting.key_id)
        .plaintext(Blob::new("sm2 plaintext"))
        .encryption_algorithm(EncryptionAlgorithmSpec::Sm2Pke)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let back = kms
        .decrypt()
        .key_id(&encrypting.key_id)
        .ciphertext_blob(blob)
        .encryption_algorithm(EncryptionAlgorithmSpec::Sm2Pke)
        .send()
        .await
        .unwrap();
    assert_eq!(back.plaintext.unwrap().as_ref(), b"sm2 plaintext");
    let (_, message) = err(kms
        .encrypt()
        .key_id(&encrypting.key_id)
        .plaintext(Blob::new(vec![0; 1025]))
        .encryption_algorithm(EncryptionAlgorithmSpec::Sm2Pke)
        .send()
        .await);
    assert_eq!(
        message,
        "Algorithm SM2PKE and key spec SM2 cannot encrypt data larger than 1024 bytes."
    );
    let a = key(&kms, "SM2", "KEY_AGREEMENT").await;
    let b = key(&kms, "SM2", "KEY_AGREEMENT").await;
    let b_public = public_key(&kms, &b.key_id).await;
    let secret = kms
        .derive_shared_secret()
        .key_id(&a.key_id)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(b_public)
        .send()
        .await
        .unwrap()
        .shared_secret
        .unwrap();
    assert_eq!(secret.as_ref().len(), 32);
    let pair = kms
        .generate_data_key_pair()
        .key_id(create_key(&kms).await)
        .key_pair_spec(DataKeyPairSpec::Sm2)
        .send()
        .await
        .unwrap();
    assert_eq!(pair.key_pair_spec(), Some(&DataKeyPairSpec::Sm2));
}

#[tokio::test]
async fn asymmetric_keys_survive_a_restart() {
    let t = spawn().await;
    let kms = t.client();
    let mut signed = Vec::new();
    for (spec, algorithm) in [
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("ECC_NIST_P521", "ECDSA_SHA_512"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
        ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
        ("ML_DSA_65", "ML_DSA_SHAKE_256"),
    ] {
        let id = key(&kms, spec, "SIGN_VERIFY").await.key_id;
        let public = public_key(&kms, &id).await;
        let sig = sign(&kms, &id, algorithm, "before").await;
        signed.push((id, algorithm, public, sig));
    }
    let hmac = key(&kms, "HMAC_384", "GENERATE_VERIFY_MAC").await.key_id;
    let mac = kms
        .generate_mac()
        .key_id(&hmac)
        .message(Blob::new("before"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha384)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();

    let t = t.restart().await;
    let kms = t.client();
    for (id, algorithm, public, sig) in signed {
        assert_eq!(public_key(&kms, &id).await, public, "{algorithm}");
        kms.verify()
            .key_id(&id)
            .message(Blob::new("before"))
            .signature(sig)
            .signing_algorithm(SigningAlgorithmSpec::from(algorithm))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{algorithm}: {e:?}"));
    }
    kms.verify_mac()
        .key_id(&hmac)
        .message(Blob::new("before"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha384)
        .mac(mac)
        .send()
        .await
        .unwrap();
}
