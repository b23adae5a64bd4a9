//! The one error type. Every failure a request can meet is a [`KmsError`]: an AWS
//! exception name (the `__type` of the error body), its HTTP status and a message.

use axum::http::StatusCode;

/// The AWS exception names trent can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    AccessDenied,
    AlreadyExists,
    CloudHsmClusterInUse,
    CustomKeyStoreHasCmks,
    CustomKeyStoreInvalidState,
    CustomKeyStoreNameInUse,
    CustomKeyStoreNotFound,
    Disabled,
    DryRunOperation,
    ExpiredImportToken,
    IncorrectKey,
    IncorrectKeyMaterial,
    InvalidAliasName,
    InvalidCiphertext,
    InvalidGrantId,
    InvalidGrantToken,
    InvalidImportToken,
    InvalidKeyUsage,
    InvalidMarker,
    KmsInternal,
    KmsInvalidMac,
    KmsInvalidSignature,
    KmsInvalidState,
    LimitExceeded,
    MalformedPolicyDocument,
    NotAuthorized,
    NotFound,
    Serialization,
    Tag,
    UnknownOperation,
    UnsupportedOperation,
    Validation,
    XksKeyAlreadyInUse,
    XksProxyUriEndpointInUse,
    XksProxyUriInUse,
    XksProxyVpcEndpointServiceInUse,
}

impl ErrorCode {
    /// The exception name as AWS writes it in `__type`.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::AccessDenied => "AccessDeniedException",
            Self::AlreadyExists => "AlreadyExistsException",
            Self::CloudHsmClusterInUse => "CloudHsmClusterInUseException",
            Self::CustomKeyStoreHasCmks => "CustomKeyStoreHasCMKsException",
            Self::CustomKeyStoreInvalidState => "CustomKeyStoreInvalidStateException",
            Self::CustomKeyStoreNameInUse => "CustomKeyStoreNameInUseException",
            Self::CustomKeyStoreNotFound => "CustomKeyStoreNotFoundException",
            Self::Disabled => "DisabledException",
            Self::DryRunOperation => "DryRunOperationException",
            Self::ExpiredImportToken => "ExpiredImportTokenException",
            Self::IncorrectKey => "IncorrectKeyException",
            Self::IncorrectKeyMaterial => "IncorrectKeyMaterialException",
            Self::InvalidAliasName => "InvalidAliasNameException",
            Self::InvalidCiphertext => "InvalidCiphertextException",
            Self::InvalidGrantId => "InvalidGrantIdException",
            Self::InvalidGrantToken => "InvalidGrantTokenException",
            Self::InvalidImportToken => "InvalidImportTokenException",
            Self::InvalidKeyUsage => "InvalidKeyUsageException",
            Self::InvalidMarker => "InvalidMarkerException",
            Self::KmsInternal => "KMSInternalException",
            Self::KmsInvalidMac => "KMSInvalidMacException",
            Self::KmsInvalidSignature => "KMSInvalidSignatureException",
            Self::KmsInvalidState => "KMSInvalidStateException",
            Self::LimitExceeded => "LimitExceededException",
            Self::MalformedPolicyDocument => "MalformedPolicyDocumentException",
            Self::NotAuthorized => "NotAuthorizedException",
            Self::NotFound => "NotFoundException",
            Self::Serialization => "SerializationException",
            Self::Tag => "TagException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::UnsupportedOperation => "UnsupportedOperationException",
            Self::Validation => "ValidationException",
            Self::XksKeyAlreadyInUse => "XksKeyAlreadyInUseException",
            Self::XksProxyUriEndpointInUse => "XksProxyUriEndpointInUseException",
            Self::XksProxyUriInUse => "XksProxyUriInUseException",
            Self::XksProxyVpcEndpointServiceInUse => "XksProxyVpcEndpointServiceInUseException",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::KmsInternal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A failed request: what AWS would answer. Messages never carry key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.aws_name())]
pub struct KmsError {
    pub code: ErrorCode,
    pub message: String,
}

impl KmsError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::KmsInvalidState, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedOperation, message)
    }

    /// AWS answers a bad ciphertext with no message at all.
    pub fn invalid_ciphertext() -> Self {
        Self::new(ErrorCode::InvalidCiphertext, "")
    }

    pub fn dry_run() -> Self {
        Self::new(
            ErrorCode::DryRunOperation,
            "The request would have succeeded, but the DryRun option is set.",
        )
    }

    /// A storage failure: logged with its cause, answered as AWS answers its own faults.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            ErrorCode::KmsInternal,
            "The request was rejected because an internal exception occurred. The request can be retried.",
        )
    }

    /// A panic while answering a request: an internal error, not a dropped connection.
    pub fn panicked() -> Self {
        Self::internal("the request panicked")
    }

    /// `Invalid keyId '<id>'`: the identifier is not of a form that names a key here.
    pub fn invalid_key_id(id: &str) -> Self {
        Self::not_found(format!("Invalid keyId '{id}'"))
    }
}

pub type Result<T, E = KmsError> = std::result::Result<T, E>;
