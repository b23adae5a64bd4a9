//! Imported key material through the AWS SDK for Rust: import parameters, every wrapping
//! algorithm trent accepts, re-import, deletion, expiry on the clock (and across a
//! restart), on-demand rotation of imported keys, and AWS's errors. The client tier
//! (`tests/clients/test_import.py`) wraps material with Python's `cryptography` instead.

use aes_kw::KwpAes256;
use aes_kw::cipher::KeyInit;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::operation::import_key_material::builders::ImportKeyMaterialFluentBuilder;
use aws_sdk_kms::operation::import_key_material::{
    ImportKeyMaterialError, ImportKeyMaterialOutput,
};
use aws_sdk_kms::primitives::{Blob, DateTime};
use aws_sdk_kms::types::{
    AlgorithmSpec, ExpirationModelType, ImportType, IncludeKeyMaterial, KeySpec, KeyState,
    KeyUsageType, MacAlgorithmSpec, OriginType, WrappingKeySpec,
};
use p256::pkcs8::EncodePrivateKey;
use rsa::pkcs8::DecodePublicKey;

use crate::common::{describe, encrypt, err, list_rotations, public_key, spawn, spawn_in};

const DAY: i64 = 86_400;

/// The parameters of one GetParametersForImport call.
pub(crate) struct Parameters {
    token: Blob,
    public_key: Vec<u8>,
    algorithm: AlgorithmSpec,
}

pub(crate) async fn parameters(
    kms: &Client,
    key: &str,
    algorithm: AlgorithmSpec,
    spec: WrappingKeySpec,
) -> Parameters {
    let out = kms
        .get_parameters_for_import()
        .key_id(key)
        .wrapping_algorithm(algorithm.clone())
        .wrapping_key_spec(spec)
        .send()
        .await
        .unwrap();
    Parameters {
        token: out.import_token.unwrap(),
        public_key: out.public_key.unwrap().into_inner(),
        algorithm,
    }
}

/// Wraps `material` as a client does for the parameters' algorithm.
fn wrap(p: &Parameters, material: &[u8]) -> Blob {
    let mut rng = rand::rng();
    let wrapped = match p.algorithm {
        AlgorithmSpec::Sm2Pke => sm2::pke::EncryptingKey::new(
            sm2::PublicKey::from_public_key_der(&p.public_key).unwrap(),
        )
        .encrypt_der(&mut rng, material)
        .unwrap(),
        _ => {
            let rsa = rsa::PublicKey::from_public_key_der(&p.public_key).unwrap();
            let oaep = |data: &[u8]| match p.algorithm {
                AlgorithmSpec::RsaesOaepSha1 | AlgorithmSpec::RsaAesKeyWrapSha1 => rsa
                    .encrypt(&mut rand::rng(), rsa::Oaep::<sha1::Sha1>::new(), data)
                    .unwrap(),
                _ => rsa
                    .encrypt(&mut rand::rng(), rsa::Oaep::<sha2::Sha256>::new(), data)
                    .unwrap(),
            };
            match p.algorithm {
                AlgorithmSpec::RsaAesKeyWrapSha1 | AlgorithmSpec::RsaAesKeyWrapSha256 => {
                    let aes_key = [7u8; 32];
                    let mut out = oaep(&aes_key);
                    let mut buf = vec![0u8; material.len() + 16];
                    let kwp = KwpAes256::new_from_slice(&aes_key).unwrap();
                    out.extend_from_slice(kwp.wrap_key(material, &mut buf).unwrap());
                    out
                }
                _ => oaep(material),
            }
        }
    };
    Blob::new(wrapped)
}

async fn external_key(kms: &Client, spec: KeySpec, usage: KeyUsageType) -> (String, String) {
    let key = kms
        .create_key()
        .origin(OriginType::External)
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    (key.key_id, key.arn.unwrap())
}

/// An ImportKeyMaterial request for `material`, wrapped for the parameters.
fn import_request(
    kms: &Client,
    key: &str,
    p: &Parameters,
    material: &[u8],
) -> ImportKeyMaterialFluentBuilder {
    kms.import_key_material()
        .key_id(key)
        .import_token(p.token.clone())
        .encrypted_key_material(wrap(p, material))
}

/// A symmetric key waiting for material, and import parameters for it (RSA_2048 with
/// RSAES_OAEP_SHA_256).
async fn symmetric_external_key(kms: &Client) -> (String, String, Parameters) {
    let (key, arn) =
        external_key(kms, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let p = parameters(
        kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    (key, arn, p)
}

/// Imports `material` for good (no expiry).
async fn try_import(
    kms: &Client,
    key: &str,
    p: &Parameters,
    material: &[u8],
) -> Result<ImportKeyMaterialOutput, SdkError<ImportKeyMaterialError>> {
    import_request(kms, key, p, material)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
}

/// Imports `material` for good; the KeyMaterialId, if reported.
pub(crate) async fn import(
    kms: &Client,
    key: &str,
    p: &Parameters,
    material: &[u8],
) -> Option<String> {
    try_import(kms, key, p, material)
        .await
        .unwrap()
        .key_material_id
}

#[tokio::test]
async fn symmetric_material_imports_deletes_and_imports_again() {
    let t = spawn().await;
    let kms = t.client();
    let (key, arn) = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let before = describe(&kms, &key).await;
    assert_eq!(before.key_state, Some(KeyState::PendingImport));
    assert!(!before.enabled && before.current_key_material_id.is_none());
    let (code, message) = err(kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("x"))
        .send()
        .await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{arn} is pending import."));

    let out = kms
        .get_parameters_for_import()
        .key_id(&key)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_id.as_deref(), Some(arn.as_str()));
    let valid_to = out.parameters_valid_to.unwrap().secs();
    let now = DateTime::from(std::time::SystemTime::now()).secs();
    assert!((valid_to - now - DAY).abs() < 60);
    let p = Parameters {
        token: out.import_token.unwrap(),
        public_key: out.public_key.unwrap().into_inner(),
        algorithm: AlgorithmSpec::RsaesOaepSha256,
    };
    let material = [0x5a; 32];

    // The default expiration model needs a date; a failed request leaves the token usable.
    let (code, message) = err(import_request(&kms, &key, &p, &material).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"
    );

    let id = import(&kms, &arn, &p, &material).await.unwrap();
    assert_eq!(id.len(), 64);
    let after = describe(&kms, &key).await;
    assert_eq!(after.key_state, Some(KeyState::Enabled));
    assert_eq!(after.current_key_material_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        after.expiration_model,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire)
    );
    let ciphertext = encrypt(&kms, &key, "imported", &[]).await;

    // Deleted: pending import, the material id kept, the expiration model gone.
    let deleted = kms
        .delete_imported_key_material()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.key_material_id.as_deref(), Some(id.as_str()));
    let gone = describe(&kms, &key).await;
    assert_eq!(gone.key_state, Some(KeyState::PendingImport));
    assert!(!gone.enabled && gone.expiration_model.is_none());
    assert_eq!(gone.current_key_material_id.as_deref(), Some(id.as_str()));
    let (code, message) = err(kms
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .send()
        .await);
    assert_eq!(
        (code.as_str(), message),
        (
            "KMSInvalidStateException",
            format!("{arn} is pending import.")
        )
    );

    // Other material is refused; the same material (through new parameters) comes back
    // with the same id, and the old ciphertext decrypts again.
    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        WrappingKeySpec::Rsa4096,
    )
    .await;
    let (code, _) = err(try_import(&kms, &key, &p, &[0x11; 32]).await);
    assert_eq!(code, "IncorrectKeyMaterialException");
    assert_eq!(import(&kms, &key, &p, &material).await, Some(id.clone()));
    let out = kms
        .decrypt()
        .ciphertext_blob(ciphertext)
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"imported");
    assert_eq!(out.key_material_id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn import_errors_in_aws_words() {
    let t = spawn().await;
    let kms = t.client();
    let (key, _) = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let (other, _) = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let generated = kms.create_key().send().await.unwrap().key_metadata.unwrap();

    // Keys whose material AWS generated take no imports.
    let aws_arn = generated.arn.unwrap();
    let (code, message) = err(kms
        .get_parameters_for_import()
        .key_id(&generated.key_id)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
    assert_eq!(
        message,
        format!("{aws_arn} origin is AWS_KMS which is not valid for this operation.")
    );
    let (code, message) = err(kms
        .delete_imported_key_material()
        .key_id(&generated.key_id)
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
    assert_eq!(
        message,
        format!("{aws_arn} origin is AWS_KMS which is not valid for this operation.")
    );

    // Wrapping choices AWS no longer offers, or offers only in China.
    let (code, _) = err(kms
        .get_parameters_for_import()
        .key_id(&key)
        .wrapping_algorithm(AlgorithmSpec::RsaesPkcs1V15)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    let (code, message) = err(kms
        .get_parameters_for_import()
        .key_id(&key)
        .wrapping_algorithm(AlgorithmSpec::Sm2Pke)
        .wrapping_key_spec(WrappingKeySpec::Sm2)
        .send()
        .await);
    assert_eq!(code, "UnsupportedOperationException");
    assert_eq!(
        message,
        "WrappingKeySpec SM2 is not supported in this Region"
    );

    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha1,
        WrappingKeySpec::Rsa3072,
    )
    .await;
    let material = [3u8; 32];
    let attempt = |token: Blob, wrapped: Blob, target: String| {
        let kms = kms.clone();
        async move {
            err(kms
                .import_key_material()
                .key_id(target)
                .import_token(token)
                .encrypted_key_material(wrapped)
                .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
                .send()
                .await)
        }
    };
    let invalid_token = (
        "InvalidImportTokenException".to_owned(),
        "The provided import token is invalid or is associated with a different KMS key."
            .to_owned(),
    );
    // Another key's token, a forged token.
    assert_eq!(
        attempt(p.token.clone(), wrap(&p, &material), other.clone()).await,
        invalid_token
    );
    assert_eq!(
        attempt(Blob::new("not a token"), wrap(&p, &material), key.clone()).await,
        invalid_token
    );
    // Material that does not open, or is not a key of the spec.
    let (code, _) = attempt(p.token.clone(), Blob::new(vec![1u8; 384]), key.clone()).await;
    assert_eq!(code, "InvalidCiphertextException");
    let (code, message) = attempt(p.token.clone(), wrap(&p, &[1u8; 16]), key.clone()).await;
    assert_eq!(code, "IncorrectKeyMaterialException");
    assert_eq!(
        message,
        "The key material in the request is invalid: SYMMETRIC_DEFAULT key material is 256 bits (32 bytes)."
    );
    // Dates the expiration model does not allow.
    let (code, _) = err(import_request(&kms, &key, &p, &material)
        .valid_to(DateTime::from_secs(
            DateTime::from(std::time::SystemTime::now()).secs() + 400 * DAY,
        ))
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    // An expired token.
    t.advance_clock(DAY + 1).await;
    let (code, message) = attempt(p.token.clone(), wrap(&p, &material), key.clone()).await;
    assert_eq!(code, "ExpiredImportTokenException");
    assert!(
        message.starts_with("The specified import token is expired."),
        "{message}"
    );
}

#[tokio::test]
async fn material_expires_on_the_clock_even_across_a_restart() {
    let t = spawn().await;
    let kms = t.client();
    let (key, arn, p) = symmetric_external_key(&kms).await;
    let material = [9u8; 32];
    let valid_to = DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs() + DAY);
    import_request(&kms, &key, &p, &material)
        .valid_to(valid_to)
        .send()
        .await
        .unwrap();
    let before = describe(&kms, &key).await;
    assert_eq!(
        before.expiration_model,
        Some(ExpirationModelType::KeyMaterialExpires)
    );
    assert_eq!(before.valid_to.unwrap().secs(), valid_to.secs());

    let t = t.restart().await;
    let kms = t.client();
    t.advance_clock(DAY + 1).await;
    let after = describe(&kms, &key).await;
    assert_eq!(after.key_state, Some(KeyState::PendingImport));
    assert!(after.valid_to.is_none() && after.expiration_model.is_none());
    let (_, message) = err(kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("x"))
        .send()
        .await);
    assert_eq!(message, format!("{arn} is pending import."));
    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    import(&kms, &key, &p, &material).await;
    assert_eq!(
        describe(&kms, &key).await.key_state,
        Some(KeyState::Enabled)
    );
}

#[tokio::test]
async fn imported_symmetric_keys_rotate_to_new_material_on_demand() {
    let t = spawn().await;
    let kms = t.client();
    let (key, arn, p) = symmetric_external_key(&kms).await;
    let m1 = import(&kms, &key, &p, &[1; 32]).await.unwrap();
    let c1 = encrypt(&kms, &key, "first", &[]).await;
    let (code, message) = err(kms.rotate_key_on_demand().key_id(&key).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(
        message,
        format!("No available key material pending rotation for the key: {arn}.")
    );

    let new = |material: [u8; 32]| {
        let kms = kms.clone();
        let key = key.clone();
        async move {
            let p = parameters(
                &kms,
                &key,
                AlgorithmSpec::RsaesOaepSha256,
                WrappingKeySpec::Rsa2048,
            )
            .await;
            import_request(&kms, &key, &p, &material)
                .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
                .import_type(ImportType::NewKeyMaterial)
                .key_material_description("second generation")
                .send()
                .await
        }
    };
    let m2 = new([2; 32]).await.unwrap().key_material_id.unwrap();
    // Waiting for rotation: listed with everything, not yet current.
    assert_eq!(
        describe(&kms, &key)
            .await
            .current_key_material_id
            .as_deref(),
        Some(m1.as_str())
    );
    let all = list_rotations(&kms, &key, Some(IncludeKeyMaterial::AllKeyMaterial)).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].key_material_id.as_deref(), Some(m2.as_str()));
    assert_eq!(
        all[1].key_material_state.as_ref().unwrap().as_str(),
        "PENDING_ROTATION"
    );
    assert_eq!(all[1].import_state.as_ref().unwrap().as_str(), "IMPORTED");
    assert_eq!(
        all[1].key_material_description.as_deref(),
        Some("second generation")
    );
    assert!(all[1].rotation_date.is_none());

    // One pending at a time, in AWS's words.
    let (code, message) = err(new([3; 32]).await);
    assert_eq!(code, "KMSInvalidStateException");
    assert!(message.starts_with("New key material (id: "), "{message}");
    assert!(
        message.ends_with(&format!(
            ") cannot be imported into KMS key {arn}, because another key material (id: {m2}) is pending rotation."
        )),
        "{message}"
    );

    // Pending material deleted is gone for good, also after a restart; imported again, it
    // waits again.
    kms.delete_imported_key_material()
        .key_id(&key)
        .key_material_id(&m2)
        .send()
        .await
        .unwrap();
    let t = t.restart().await;
    let kms = t.client();
    let all = list_rotations(&kms, &key, Some(IncludeKeyMaterial::AllKeyMaterial)).await;
    assert_eq!(all.len(), 1);
    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let again = import_request(&kms, &key, &p, &[2; 32])
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .import_type(ImportType::NewKeyMaterial)
        .send()
        .await
        .unwrap();
    assert_eq!(again.key_material_id.as_deref(), Some(m2.as_str()));

    kms.rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        describe(&kms, &key)
            .await
            .current_key_material_id
            .as_deref(),
        Some(m2.as_str())
    );
    let c2 = encrypt(&kms, &key, "second", &[]).await;
    for (blob, text, id) in [(c1, "first", &m1), (c2, "second", &m2)] {
        let out = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
        assert_eq!(out.plaintext.unwrap().as_ref(), text.as_bytes());
        assert_eq!(out.key_material_id.as_deref(), Some(id.as_str()));
    }
    // Deleting any material for good sends the key back to PendingImport.
    kms.delete_imported_key_material()
        .key_id(&key)
        .key_material_id(&m1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        describe(&kms, &key).await.key_state,
        Some(KeyState::PendingImport)
    );
}

#[tokio::test]
async fn asymmetric_and_hmac_material_and_sm2_wrapping() {
    let t = spawn().await;
    let kms = t.client();

    // A P-256 signing key made here: its public key comes back, and it signs.
    let (key, _) = external_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let secret = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let der = secret.to_pkcs8_der().unwrap();
    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha1,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    assert_eq!(import(&kms, &key, &p, der.as_bytes()).await, None);
    use p256::pkcs8::EncodePublicKey;
    let offline = secret.verifying_key().to_public_key_der().unwrap();
    assert_eq!(public_key(&kms, &key).await.as_ref(), offline.as_bytes());
    // Its material can't change.
    let other = p256::ecdsa::SigningKey::from_slice(&[0x43; 32])
        .unwrap()
        .to_pkcs8_der()
        .unwrap();
    let (code, _) = err(try_import(&kms, &key, &p, other.as_bytes()).await);
    assert_eq!(code, "IncorrectKeyMaterialException");

    // HMAC material of a length other than the digest's.
    let (key, _) = external_key(&kms, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let (code, message) = err(try_import(&kms, &key, &p, &[1; 20]).await);
    assert_eq!(code, "IncorrectKeyMaterialException");
    assert_eq!(
        message,
        "The key material in the request is invalid: HMAC_256 key material is 32 to 64 bytes."
    );
    import(&kms, &key, &p, &[0x61; 40]).await;
    let mac = kms
        .generate_mac()
        .key_id(&key)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new("message"))
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    use hmac::Mac;
    let mut expected =
        <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(&[0x61; 40]).unwrap();
    expected.update(b"message");
    assert_eq!(mac.as_ref(), expected.finalize().into_bytes().as_slice());

    // SM2 wrapping, in a China region.
    let kms = t.client_for("test", "cn-north-1");
    let (key, _) = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let (code, _) = err(kms
        .get_parameters_for_import()
        .key_id(&key)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Sm2)
        .send()
        .await);
    assert_eq!(code, "ValidationException");
    let p = parameters(&kms, &key, AlgorithmSpec::Sm2Pke, WrappingKeySpec::Sm2).await;
    assert!(import(&kms, &key, &p, &[8; 32]).await.is_some());
    let blob = encrypt(&kms, &key, "sm2-wrapped", &[]).await;
    let out = kms.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref(), b"sm2-wrapped");
}

#[tokio::test]
async fn an_import_token_survives_a_restart_and_expires_on_the_clock() {
    let t = spawn().await;
    let kms = t.client();
    let (key, _) = external_key(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaAesKeyWrapSha1,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let t = t.restart().await;
    let kms = t.client();
    // The wrapping key behind the token was stored: the token still works.
    import(&kms, &key, &p, &[4; 32]).await.unwrap();
    t.advance_clock(DAY + 1).await;
    let (code, _) = err(try_import(&kms, &key, &p, &[4; 32]).await);
    assert_eq!(code, "ExpiredImportTokenException");
}

/// Material imported into a database written before databases had their own secret for
/// material ids keeps the id it was given then: importing it again (to renew it) still
/// finds it, and importing it as new material is still refused as a duplicate.
#[tokio::test]
async fn material_imported_by_an_earlier_trent_keeps_its_id() {
    use hmac::{KeyInit, Mac};
    let t = spawn().await;
    let kms = t.client();
    let (key, _, p) = symmetric_external_key(&kms).await;
    let material = [7u8; 32];
    import(&kms, &key, &p, &material).await;
    // The id as an earlier trent derived it: HMAC-SHA256 keyed with the key id.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(&material);
    let earlier = mac.finalize().into_bytes();
    let earlier_hex: String = earlier.iter().map(|b| format!("{b:02x}")).collect();
    let dir = t.stop_keeping_data().await;
    let url = format!("sqlite://{}", dir.join("trent.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "UPDATE keys SET record = jsonb_set(record, '$.materials[0].id', ?) WHERE key_id = ?",
    )
    .bind(&earlier_hex)
    .bind(&key)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let t = spawn_in(dir).await;
    let kms = t.client();
    let current = describe(&kms, &key).await.current_key_material_id;
    assert_eq!(current.as_deref(), Some(earlier_hex.as_str()));
    let p = parameters(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let renewed = import(&kms, &key, &p, &material).await;
    assert_eq!(renewed.as_deref(), Some(earlier_hex.as_str()));
    let (code, _) = err(import_request(&kms, &key, &p, &material)
        .import_type(ImportType::NewKeyMaterial)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await);
    assert_eq!(code, "IncorrectKeyMaterialException");
}
