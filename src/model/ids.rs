//! Identifiers: the account/region a request acts in, and the four ways a request can
//! name a key (key id, key ARN, alias name, alias ARN).

use std::sync::Arc;

use crate::error::{KmsError, Result};

/// The account and region a request acts in. Every key and alias lives in exactly one.
/// Shared text: every key holds its scope, and the keys of one scope share its strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub account: Arc<str>,
    pub region: Arc<str>,
}

impl Scope {
    pub fn new(account: impl Into<Arc<str>>, region: impl Into<Arc<str>>) -> Self {
        Self {
            account: account.into(),
            region: region.into(),
        }
    }

    /// The ARN partition of the region: `aws-cn` in China, `aws-us-gov` in GovCloud.
    pub fn partition(&self) -> &'static str {
        if self.is_china() {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// The China Regions, the only ones that offer SM2 keys.
    pub fn is_china(&self) -> bool {
        self.region.starts_with("cn-")
    }

    pub fn key_arn(&self, key_id: &str) -> String {
        self.arn("key/", key_id)
    }

    /// `alias_name` includes its `alias/` prefix.
    pub fn alias_arn(&self, alias_name: &str) -> String {
        self.arn("", alias_name)
    }

    /// Built by hand rather than with `format!`: most answers carry one.
    fn arn(&self, kind: &str, name: &str) -> String {
        [
            "arn:",
            self.partition(),
            ":kms:",
            &self.region,
            ":",
            &self.account,
            ":",
            kind,
            name,
        ]
        .concat()
    }
}

/// Which identifier forms an operation accepts for its KeyId member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// Key id or key ARN only (EnableKey, TagResource, CreateAlias's target, ...).
    KeyOnly,
    /// Also an alias name or alias ARN (DescribeKey, Encrypt, GenerateDataKey, ...).
    KeyOrAlias,
}

/// A parsed key identifier, borrowing its id or name from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef<'a> {
    Key { scope: Option<Scope>, id: &'a str },
    Alias { scope: Option<Scope>, name: &'a str },
}

impl<'a> KeyRef<'a> {
    /// Parses `input` as the forms `accepts` allows; anything else is
    /// `NotFoundException: Invalid keyId '<input>'`, as AWS answers.
    pub fn parse(input: &'a str, accepts: Accepts) -> Result<Self> {
        let invalid = || KmsError::invalid_key_id(input);
        let parsed = if let Some(rest) = input.strip_prefix("arn:") {
            let mut parts = rest.splitn(5, ':');
            let (partition, service, region, account, resource) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().ok_or_else(invalid)?,
            );
            if !partition.starts_with("aws") || service != "kms" || region.is_empty() {
                return Err(invalid());
            }
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            let scope = Scope::new(account, region);
            // The partition must be the region's own (`arn:aws-cn:kms:us-east-1:...`
            // names nothing).
            if scope.partition() != partition {
                return Err(invalid());
            }
            let scope = Some(scope);
            if let Some(id) = resource.strip_prefix("key/") {
                if !is_key_id(id) {
                    return Err(invalid());
                }
                KeyRef::Key { scope, id }
            } else if resource.starts_with("alias/") && is_alias_name(resource) {
                KeyRef::Alias {
                    scope,
                    name: resource,
                }
            } else {
                return Err(invalid());
            }
        } else if input.starts_with("alias/") {
            if !is_alias_name(input) {
                return Err(invalid());
            }
            KeyRef::Alias {
                scope: None,
                name: input,
            }
        } else if is_key_id(input) {
            KeyRef::Key {
                scope: None,
                id: input,
            }
        } else {
            return Err(invalid());
        };
        if accepts == Accepts::KeyOnly && matches!(parsed, KeyRef::Alias { .. }) {
            return Err(invalid());
        }
        Ok(parsed)
    }
}

/// A key id: a lowercase UUID, or `mrk-` and 32 hex digits for a multi-Region key.
/// Every request that names a key by id checks one, so it is a table lookup per digit.
pub fn is_key_id(s: &str) -> bool {
    match s.as_bytes() {
        [b'm', b'r', b'k', b'-', hex @ ..] => hex.len() == 32 && all_hex(hex),
        b => {
            b.len() == 36
                && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
                && all_hex(&b[..8])
                && all_hex(&b[9..13])
                && all_hex(&b[14..18])
                && all_hex(&b[19..23])
                && all_hex(&b[24..])
        }
    }
}

/// Whether every byte is a hex digit (either case), without a branch per byte.
fn all_hex(bytes: &[u8]) -> bool {
    const HEX: [bool; 256] = {
        let mut table = [false; 256];
        let mut c = 0;
        while c < 256 {
            table[c] = (c as u8).is_ascii_hexdigit();
            c += 1;
        }
        table
    };
    bytes.iter().fold(true, |all, &c| all & HEX[usize::from(c)])
}

/// The characters the model allows in an alias name (`^[a-zA-Z0-9:/_-]+$`).
pub fn is_alias_charset(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'))
}

/// A usable alias name: `alias/` followed by at least one allowed character, no `:`.
pub fn is_alias_name(s: &str) -> bool {
    s.strip_prefix("alias/")
        .is_some_and(|rest| !rest.is_empty() && is_alias_charset(rest) && !rest.contains(':'))
}

/// Names under `alias/aws/` belong to AWS managed keys: customers cannot create, move
/// or delete them.
pub fn is_aws_managed_alias(name: &str) -> bool {
    name.starts_with("alias/aws/")
}

/// The AWS managed aliases ListAliases shows in every Region before their keys exist
/// (with no TargetKeyId), sorted.
pub const PREDEFINED_AWS_ALIASES: [&str; 14] = [
    "alias/aws/acm",
    "alias/aws/dynamodb",
    "alias/aws/ebs",
    "alias/aws/elasticfilesystem",
    "alias/aws/es",
    "alias/aws/glue",
    "alias/aws/kinesisvideo",
    "alias/aws/lambda",
    "alias/aws/rds",
    "alias/aws/redshift",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/ssm",
    "alias/aws/xray",
];

/// Other AWS services whose AWS managed key appears when they are first used.
const OTHER_SERVICE_ALIASES: [&str; 17] = [
    "alias/aws/backup",
    "alias/aws/cloud9",
    "alias/aws/codeartifact",
    "alias/aws/codecommit",
    "alias/aws/connect",
    "alias/aws/dax",
    "alias/aws/dms",
    "alias/aws/ecr",
    "alias/aws/fsx",
    "alias/aws/kafka",
    "alias/aws/kinesis",
    "alias/aws/lightsail",
    "alias/aws/mq",
    "alias/aws/sns",
    "alias/aws/sqs",
    "alias/aws/timestream",
    "alias/aws/workspaces",
];

/// Whether `name` is an AWS service's alias, whose AWS managed key its first use makes.
/// Any other `alias/aws/` name names nothing.
pub fn is_aws_service_alias(name: &str) -> bool {
    PREDEFINED_AWS_ALIASES.contains(&name) || OTHER_SERVICE_ALIASES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn parses_every_identifier_form() {
        assert_eq!(
            KeyRef::parse(ID, Accepts::KeyOnly).unwrap(),
            KeyRef::Key {
                scope: None,
                id: ID
            }
        );
        let arn = format!("arn:aws:kms:eu-west-1:111122223333:key/{ID}");
        assert_eq!(
            KeyRef::parse(&arn, Accepts::KeyOnly).unwrap(),
            KeyRef::Key {
                scope: Some(Scope::new("111122223333", "eu-west-1")),
                id: ID
            }
        );
        assert!(matches!(
            KeyRef::parse("alias/demo", Accepts::KeyOrAlias).unwrap(),
            KeyRef::Alias { scope: None, .. }
        ));
        assert!(matches!(
            KeyRef::parse(
                "arn:aws:kms:us-east-1:111122223333:alias/demo",
                Accepts::KeyOrAlias
            )
            .unwrap(),
            KeyRef::Alias { scope: Some(_), .. }
        ));
        assert!(KeyRef::parse("mrk-1234abcd12ab34cd56ef1234567890ab", Accepts::KeyOnly).is_ok());
    }

    #[test]
    fn rejects_malformed_and_misplaced_identifiers() {
        for bad in [
            "foo",
            "1234",
            "arn:aws:kms:us-east-1:1:key/x",
            "alias/",
            "alias/a:b",
        ] {
            let err = KeyRef::parse(bad, Accepts::KeyOrAlias).unwrap_err();
            assert_eq!(err.message, format!("Invalid keyId '{bad}'"));
        }
        assert!(KeyRef::parse("alias/demo", Accepts::KeyOnly).is_err());
    }

    /// The table-driven check is the plain definition: each byte of a key id, and of
    /// `mrk-` ids, replaced by every byte value in turn, and every length around 36.
    #[test]
    fn key_ids_are_exactly_hex_and_dashes() {
        fn plain(s: &str) -> bool {
            if let Some(hex) = s.strip_prefix("mrk-") {
                return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
            }
            s.len() == 36
                && s.bytes().enumerate().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => c == b'-',
                    _ => c.is_ascii_hexdigit(),
                })
        }
        for id in [ID, "mrk-1234abcd12ab34cd56ef1234567890ab"] {
            assert!(is_key_id(id));
            for at in 0..id.len() {
                for c in 0..=127u8 {
                    let mut bytes = id.as_bytes().to_vec();
                    bytes[at] = c;
                    let s = String::from_utf8(bytes).unwrap();
                    assert_eq!(is_key_id(&s), plain(&s), "{s:?}");
                }
            }
            for len in 0..48 {
                let s: String = id.chars().cycle().take(len).collect();
                assert_eq!(is_key_id(&s), plain(&s), "{s:?}");
            }
        }
        assert!(!is_key_id("1234abcd-12ab-34cd-56ef-1234567890a\u{e9}"));
    }
}
