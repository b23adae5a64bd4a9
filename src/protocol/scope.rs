//! Which account and region a request acts in, read from its SigV4 credential scope:
//! `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, ...`.
//! A 12-digit access key id is taken as the account id; otherwise the configured default.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::model::Scope;

/// `default` itself (shared) when the request names no other account or region.
pub fn from_headers(headers: &HeaderMap, default: &Scope) -> Scope {
    let credential = headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(credential_scope);
    let (akid, region) = credential.unwrap_or_default();
    let account = if akid.len() == 12 && akid.bytes().all(|b| b.is_ascii_digit()) {
        akid
    } else {
        &default.account
    };
    let region = if region.is_empty() {
        &default.region
    } else {
        region
    };
    if account == &*default.account && region == &*default.region {
        return default.clone();
    }
    Scope::new(account, region)
}

/// The access key id and region of a SigV4 `Credential=` component.
fn credential_scope(authorization: &str) -> Option<(&str, &str)> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let credential = authorization[start..]
        .split([',', ' '])
        .next()
        .unwrap_or_default();
    let mut parts = credential.split('/');
    let akid = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    Some((akid, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(auth: Option<&str>) -> Scope {
        let mut headers = HeaderMap::new();
        if let Some(a) = auth {
            headers.insert(AUTHORIZATION, a.parse().unwrap());
        }
        from_headers(&headers, &Scope::new("111122223333", "us-east-1"))
    }

    #[test]
    fn region_and_account_come_from_the_credential() {
        let auth = "AWS4-HMAC-SHA256 Credential=444455556666/20260101/eu-west-2/kms/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(scope(Some(auth)), Scope::new("444455556666", "eu-west-2"));
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/ap-south-1/kms/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(scope(Some(auth)), Scope::new("111122223333", "ap-south-1"));
    }

    #[test]
    fn requests_in_the_default_scope_share_its_strings() {
        let default = Scope::new("111122223333", "us-east-1");
        let mut headers = HeaderMap::new();
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request";
        headers.insert(AUTHORIZATION, auth.parse().unwrap());
        let scope = from_headers(&headers, &default);
        assert!(std::sync::Arc::ptr_eq(&scope.account, &default.account));
        assert!(std::sync::Arc::ptr_eq(&scope.region, &default.region));
    }

    #[test]
    fn defaults_without_a_credential() {
        assert_eq!(scope(None), Scope::new("111122223333", "us-east-1"));
        assert_eq!(
            scope(Some("Bearer x")),
            Scope::new("111122223333", "us-east-1")
        );
    }
}
