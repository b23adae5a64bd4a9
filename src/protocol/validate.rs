//! Constraint checks from the AWS model (length, range, enum, pattern, required),
//! reported all at once in AWS's wording:
//! `2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: ...; ...`

use crate::error::{KmsError, Result};
use crate::model::enums::{AwsEnum, Wire};

/// Implemented by every request: records each violated constraint of the model.
pub trait Validate {
    fn validate(&self, v: &mut Violations);
}

#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    fn push(&mut self, value: Option<&str>, field: &str, constraint: impl std::fmt::Display) {
        let value = match value {
            Some(v) => format!("Value '{v}' at"),
            None => "Value at".to_owned(),
        };
        self.0.push(format!(
            "{value} '{field}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// A required member that is missing: `Value null at 'keyId' ...`.
    pub fn required<T>(&mut self, field: &str, value: &Option<T>) {
        if value.is_none() {
            self.0.push(format!(
                "Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ));
        }
    }

    /// A string's length, counted in characters as AWS counts them.
    pub fn length(&mut self, field: &str, value: Option<&str>, min: usize, max: usize) {
        if let Some(s) = value {
            let len = s.chars().count();
            self.bounds(Some(s), field, len as i64, min as i64, max as i64, "length");
        }
    }

    /// A blob's or a list's length. The value is never echoed: blobs may be plaintext.
    pub fn size(&mut self, field: &str, len: Option<usize>, min: usize, max: usize) {
        if let Some(len) = len {
            self.bounds(None, field, len as i64, min as i64, max as i64, "length");
        }
    }

    /// A number's range.
    pub fn range(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(n) = value {
            self.bounds(Some(&n.to_string()), field, n, min, max, "value");
        }
    }

    /// `Member must have <what> greater than or equal to <min>` (or less than or equal to max).
    fn bounds(&mut self, shown: Option<&str>, field: &str, n: i64, min: i64, max: i64, what: &str) {
        if n < min {
            self.push(
                shown,
                field,
                format!("have {what} greater than or equal to {min}"),
            );
        } else if n > max {
            self.push(
                shown,
                field,
                format!("have {what} less than or equal to {max}"),
            );
        }
    }

    /// An enumeration member that is not one of the model's values.
    pub fn member_of<T: AwsEnum>(&mut self, field: &str, value: &Option<Wire<T>>) {
        if let Some(Wire::Unknown(s)) = value {
            let set: Vec<&str> = T::all().iter().map(|v| v.as_str()).collect();
            self.push(
                Some(s),
                field,
                format!("satisfy enum value set: [{}]", set.join(", ")),
            );
        }
    }

    /// A string that does not match the model's pattern (`ok` is the caller's test).
    pub fn pattern(
        &mut self,
        field: &str,
        value: Option<&str>,
        pattern: &str,
        ok: fn(&str) -> bool,
    ) {
        if let Some(s) = value.filter(|s| !ok(s)) {
            self.push(
                Some(s),
                field,
                format!("satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// GrantTokens: at most 10, each 1 to 8192 characters.
    pub fn grant_tokens(&mut self, tokens: &Option<Vec<String>>) {
        if let Some(tokens) = tokens {
            self.size("grantTokens", Some(tokens.len()), 0, 10);
            for (i, t) in tokens.iter().enumerate() {
                self.length(&format!("grantTokens.{}.member", i + 1), Some(t), 1, 8192);
            }
        }
    }

    pub fn into_result(self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(KmsError::validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(KmsError::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

/// Runs a request's checks.
pub fn check(request: &impl Validate) -> Result<()> {
    let mut v = Violations::default();
    request.validate(&mut v);
    v.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::enums::DataKeySpec;

    #[test]
    fn messages_match_aws_wording() {
        let mut v = Violations::default();
        v.size("plaintext", Some(4097), 1, 4096);
        assert_eq!(
            v.into_result().unwrap_err().message,
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
        );
        let mut v = Violations::default();
        v.range("numberOfBytes", Some(0), 1, 1024);
        v.required::<String>("keyId", &None);
        v.member_of::<DataKeySpec>("keySpec", &Some(Wire::Unknown("AES_512".into())));
        assert_eq!(
            v.into_result().unwrap_err().message,
            "3 validation errors detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1; Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
        );
    }

    #[test]
    fn no_violation_is_ok() {
        let mut v = Violations::default();
        v.length("description", Some(""), 0, 8192);
        v.range("limit", Some(1000), 1, 1000);
        assert!(v.into_result().is_ok());
    }
}
