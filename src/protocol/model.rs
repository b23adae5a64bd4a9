//! Request checks driven by the AWS model (`service-2.json`, embedded): every member of
//! every operation's input is checked for its JSON type (a `SerializationException`, as
//! AWS's deserializer answers) and for its constraints (required, length, range, enum,
//! pattern), which are all reported at once as one `ValidationException` in AWS's words:
//!
//! `2 validation errors detected: Value null at 'keyId' failed to satisfy constraint:
//! Member must not be null; Value 'x y' at 'aliasName' failed to satisfy constraint: ...`
//!
//! The model is compiled once into flat per-shape constraint structs, so a request costs a
//! walk over its own members only and allocates nothing unless something is wrong.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::marker::PhantomData;
use std::sync::LazyLock;

use base64_simd::STANDARD;

use super::json::Json;
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::Operation;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

const MODEL_JSON: &str = include_str!("service-2.json");

/// Enum value sets in the order AWS prints them, as recorded from real AWS (the model's
/// order differs: AWS prints its own set's iteration order). Values the recording lacks
/// follow in model order.
const AWS_ENUM_ORDER: &[(&str, &[&str])] = &[
    (
        "MacAlgorithmSpec",
        &[
            "HMAC_SHA_384",
            "HMAC_SHA_256",
            "HMAC_SHA_224",
            "HMAC_SHA_512",
        ],
    ),
    (
        "KeyUsageType",
        &["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"],
    ),
    (
        "KeySpec",
        &[
            "RSA_2048",
            "ECC_NIST_P384",
            "ECC_NIST_P256",
            "ECC_NIST_P521",
            "HMAC_384",
            "RSA_3072",
            "ECC_SECG_P256K1",
            "RSA_4096",
            "SYMMETRIC_DEFAULT",
            "HMAC_256",
            "HMAC_224",
            "HMAC_512",
        ],
    ),
];

/// Checks a decoded JSON request body against the input shape of `operation` (its name as
/// in `X-Amz-Target`, e.g. `"Encrypt"`). A wrong JSON type anywhere is a
/// `SerializationException` (AWS fails deserializing before it validates); otherwise every
/// violated constraint is listed in one `ValidationException`. Unknown members are ignored
/// and a JSON `null` counts as absent, as in AWS. An operation the model does not name is
/// an `UnknownOperationException`.
pub fn check(operation: &str, body: &Json<'_>) -> Result<()> {
    let model = &*MODEL;
    let Some(operation) = Operation::from_name(operation) else {
        return Err(KmsError::new(ErrorCode::UnknownOperation, ""));
    };
    if !body.is_object() {
        return Err(mismatch(body, "a Structure"));
    }
    let Some(input) = model.inputs[operation as usize] else {
        return Ok(());
    };
    let mut checker = Checker {
        shapes: &model.shapes,
        violations: Vec::new(),
    };
    checker.value(input, body, &Path::Root)?;
    match checker.violations.as_slice() {
        [] => Ok(()),
        [one] => Err(KmsError::validation(format!(
            "1 validation error detected: {one}"
        ))),
        many => Err(KmsError::validation(format!(
            "{} validation errors detected: {}",
            many.len(),
            many.join("; ")
        ))),
    }
}

/// The names of all operations in the model (54), in model order. (The model is compiled
/// on first use: the first request that reaches a check or the flat path.)
pub fn operations() -> impl Iterator<Item = &'static str> {
    MODEL.operations.iter().map(|name| &**name)
}

/// The compiled shapes and the input shape of `operation`, for the flat path
/// ([`super::flat`]); `None` for an operation without input.
pub(super) fn input(operation: Operation) -> Option<(&'static [Shape], Id)> {
    let model = &*MODEL;
    Some((&model.shapes, model.inputs[operation as usize]?))
}

/// A shape as the flat path reads it.
pub(super) enum Form<'m> {
    Text,
    Base64,
    Integer,
    Boolean,
    Structure(&'m [Member]),
    Map {
        key: Id,
        value: Id,
    },
    /// Lists, timestamps: left to the full path.
    Other,
}

pub(super) fn form(shapes: &[Shape], id: Id) -> Form<'_> {
    match &shapes[id].kind {
        Kind::String { .. } => Form::Text,
        Kind::Blob(_) => Form::Base64,
        Kind::Integer(_) => Form::Integer,
        Kind::Boolean => Form::Boolean,
        Kind::Structure(members) => Form::Structure(members),
        &Kind::Map { key, value } => Form::Map { key, value },
        Kind::Timestamp | Kind::List { .. } | Kind::Unchecked => Form::Other,
    }
}

/// A scalar as the flat path reads it.
pub(super) enum Scalar<'a> {
    Text(&'a str),
    /// A blob's text, which the request type's decoder refuses if it is not base64
    /// (`deserialize_base64`): only its decoded length is checked here, so that a
    /// kilobyte is checked once, by the decoder.
    Base64(&'a [u8]),
    Integer(u64),
    Boolean(bool),
}

/// Whether `value` passes every constraint of shape `id`, by the same checks as
/// [`check`]: the flat path takes only what the full check would let through unchanged.
pub(super) fn accepts(shapes: &[Shape], id: Id, value: Scalar<'_>) -> bool {
    let mut checker = Checker {
        shapes,
        violations: Vec::new(),
    };
    let checked = match (value, &shapes[id].kind) {
        (Scalar::Base64(text), Kind::Blob(len)) => match STANDARD.decoded_length(text) {
            Ok(n) => {
                checker.bounds(*len, n as i64, "length", Shown::Hidden, &Path::Root);
                Ok(())
            }
            Err(_) => return false,
        },
        (Scalar::Base64(_), _) => return false,
        (Scalar::Text(s), _) => checker.value(id, &Json::String(s.into()), &Path::Root),
        (Scalar::Integer(i), _) => checker.value(id, &Json::Number(i.into()), &Path::Root),
        (Scalar::Boolean(b), _) => checker.value(id, &Json::Bool(b), &Path::Root),
    };
    checked.is_ok() && checker.violations.is_empty()
}

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    let raw: RawModel = serde_json::from_str(MODEL_JSON).expect("the embedded model parses");
    Model::compile(&raw)
});

pub(super) type Id = usize;

/// The compiled model: only the shapes reachable from some operation's input.
struct Model {
    operations: Vec<Box<str>>,
    /// Each [`Operation`]'s input shape, by its place in [`Operation::ALL`]: a lookup
    /// without hashing a name.
    inputs: Vec<Option<Id>>,
    shapes: Vec<Shape>,
}

pub(super) struct Shape {
    kind: Kind,
    /// Marked `sensitive` in the model: its value is never echoed in a message.
    secret: bool,
}

enum Kind {
    String {
        len: Bounds,
        pattern: Option<Pattern>,
        values: Option<EnumSet>,
    },
    Blob(Bounds),
    Integer(Bounds),
    Boolean,
    Timestamp,
    List {
        member: Id,
        len: Bounds,
    },
    Map {
        key: Id,
        value: Id,
    },
    Structure(Box<[Member]>),
    /// A shape type this module does not know: accepted as is. A test keeps the model free
    /// of them.
    Unchecked,
}

impl Kind {
    /// The Java type AWS's deserializer names when a JSON value cannot become this shape.
    fn java_name(&self) -> &'static str {
        match self {
            Kind::String { .. } => "a String",
            Kind::Blob(_) => "a Blob",
            Kind::Integer(_) => "an Integer",
            Kind::Boolean => "a Boolean",
            Kind::Timestamp => "a Timestamp",
            Kind::List { .. } => "a List",
            Kind::Map { .. } => "a Map",
            Kind::Structure(_) | Kind::Unchecked => "a Structure",
        }
    }
}

/// Inclusive bounds on a length or a value; absent bounds are the extremes.
#[derive(Clone, Copy)]
struct Bounds {
    min: i64,
    max: i64,
}

impl Bounds {
    fn new(min: Option<i64>, max: Option<i64>) -> Self {
        Self {
            min: min.unwrap_or(i64::MIN),
            max: max.unwrap_or(i64::MAX),
        }
    }
}

struct Pattern {
    /// As written in the model: AWS prints it verbatim.
    text: Box<str>,
    /// `None` for a pattern [`matcher`] does not know; a test keeps the model free of them.
    matches: Option<fn(&str) -> bool>,
}

struct EnumSet {
    values: Box<[Box<str>]>,
    /// `satisfy enum value set: [A, B]`, built once.
    constraint: Box<str>,
}

pub(super) struct Member {
    /// The JSON member name, as in the model (`KeyId`).
    pub(super) name: Box<str>,
    /// The name in messages: first letter lower-cased (`keyId`).
    path: Box<str>,
    pub(super) shape: Id,
    pub(super) required: bool,
}

impl Model {
    fn compile(raw: &RawModel) -> Self {
        let mut builder = Builder {
            raw: &raw.shapes,
            ids: HashMap::new(),
            shapes: Vec::new(),
        };
        let mut operations = Vec::with_capacity(raw.operations.0.len());
        let mut inputs = vec![None; Operation::ALL.len()];
        for (name, op) in &raw.operations.0 {
            let input = op.input.as_ref().map(|r| builder.shape(&r.shape));
            operations.push(name.as_str().into());
            if let Some(known) = Operation::from_name(name) {
                inputs[known as usize] = input;
            }
        }
        Self {
            operations,
            inputs,
            shapes: builder.shapes,
        }
    }
}

struct Builder<'r> {
    raw: &'r HashMap<String, RawShape>,
    ids: HashMap<&'r str, Id>,
    shapes: Vec<Shape>,
}

impl<'r> Builder<'r> {
    fn shape(&mut self, name: &'r str) -> Id {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let raw = self
            .raw
            .get(name)
            .unwrap_or_else(|| panic!("the model names shape {name} but does not define it"));
        // Reserve the id first so that a recursive shape refers to itself.
        let id = self.shapes.len();
        self.ids.insert(name, id);
        self.shapes.push(Shape {
            kind: Kind::Unchecked,
            secret: raw.sensitive,
        });
        let len = Bounds::new(raw.min, raw.max);
        let kind = match raw.kind.as_str() {
            "string" => Kind::String {
                len,
                pattern: raw.pattern.as_deref().map(|text| Pattern {
                    text: text.into(),
                    matches: matcher(text),
                }),
                values: raw.values.as_deref().map(|values| enum_set(name, values)),
            },
            "blob" => Kind::Blob(len),
            "integer" => Kind::Integer(len),
            "boolean" => Kind::Boolean,
            "timestamp" => Kind::Timestamp,
            "list" => Kind::List {
                member: self.target(name, &raw.member),
                len,
            },
            "map" => Kind::Map {
                key: self.target(name, &raw.key),
                value: self.target(name, &raw.value),
            },
            "structure" => Kind::Structure(
                raw.members
                    .0
                    .iter()
                    .map(|(member, r)| Member {
                        name: member.as_str().into(),
                        path: lower_first(member).into(),
                        shape: self.shape(&r.shape),
                        required: raw.required.iter().any(|m| m == member),
                    })
                    .collect(),
            ),
            _ => Kind::Unchecked,
        };
        self.shapes[id].kind = kind;
        id
    }

    fn target(&mut self, name: &str, r: &'r Option<RawRef>) -> Id {
        let r = r
            .as_ref()
            .unwrap_or_else(|| panic!("the model's shape {name} lacks a member shape"));
        self.shape(&r.shape)
    }
}

fn enum_set(shape: &str, model_order: &[String]) -> EnumSet {
    let recorded = AWS_ENUM_ORDER
        .iter()
        .find(|(name, _)| *name == shape)
        .map_or(&[][..], |(_, order)| order);
    let ordered: Vec<&str> = recorded
        .iter()
        .copied()
        .filter(|v| model_order.iter().any(|m| m == v))
        .chain(
            model_order
                .iter()
                .map(String::as_str)
                .filter(|v| !recorded.contains(v)),
        )
        .collect();
    EnumSet {
        values: model_order.iter().map(|v| v.as_str().into()).collect(),
        constraint: format!("satisfy enum value set: [{}]", ordered.join(", ")).into(),
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// Where a value sits in the request, rendered only when a violation is reported.
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Element(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Member(Path::Root, name) | Path::Key(Path::Root, name) => f.write_str(name),
            Path::Member(parent, name) | Path::Key(parent, name) => write!(f, "{parent}.{name}"),
            Path::Element(parent, i) => write!(f, "{parent}.{}.member", i + 1),
        }
    }
}

/// How a violation shows the offending value.
enum Shown<'a> {
    /// `Value null at ...`: the member is missing.
    Null,
    /// `Value at ...`: blobs and sensitive shapes are never echoed.
    Hidden,
    /// `Value '...' at ...`.
    Text(&'a dyn fmt::Display),
}

struct Checker<'m> {
    shapes: &'m [Shape],
    violations: Vec<String>,
}

impl Checker<'_> {
    fn value(&mut self, id: Id, value: &Json<'_>, path: &Path<'_>) -> Result<()> {
        let shape = &self.shapes[id];
        match (&shape.kind, value) {
            (Kind::Structure(members), Json::Object(_)) => {
                for m in members {
                    let path = Path::Member(path, &m.path);
                    match value.get(&m.name) {
                        None | Some(Json::Null) if m.required => {
                            self.violate(Shown::Null, &path, format_args!("not be null"));
                        }
                        None | Some(Json::Null) => {}
                        Some(v) => self.value(m.shape, v, &path)?,
                    }
                }
            }
            (Kind::Map { key, value }, Json::Object(fields)) => {
                for (k, v) in fields {
                    let path = Path::Key(path, k);
                    self.string(*key, k, &path);
                    if !v.is_null() {
                        self.value(*value, v, &path)?;
                    }
                }
            }
            (Kind::List { member, len }, Json::Array(items)) => {
                let hidden = shape.secret || self.shapes[*member].hidden();
                let text = JavaList(items);
                let shown = if hidden {
                    Shown::Hidden
                } else {
                    Shown::Text(&text)
                };
                self.bounds(*len, items.len() as i64, "length", shown, path);
                for (i, v) in items.iter().enumerate() {
                    if !v.is_null() {
                        self.value(*member, v, &Path::Element(path, i))?;
                    }
                }
            }
            (Kind::String { .. }, Json::String(s)) => self.string(id, s, path),
            (Kind::Blob(len), Json::String(s)) => {
                let n = decoded_len(s.as_bytes()).ok_or_else(|| {
                    KmsError::new(
                        ErrorCode::Serialization,
                        "Could not parse the request body: a blob member is not valid base64",
                    )
                })?;
                self.bounds(*len, n as i64, "length", Shown::Hidden, path);
            }
            (Kind::Integer(range), Json::Number(n)) => {
                let i = n
                    .as_i64()
                    .filter(|i| i32::try_from(*i).is_ok())
                    .ok_or_else(|| mismatch(value, "an Integer"))?;
                let shown = if shape.secret {
                    Shown::Hidden
                } else {
                    Shown::Text(&i)
                };
                self.bounds(*range, i, "value", shown, path);
            }
            (Kind::Boolean, Json::Bool(_))
            | (Kind::Timestamp, Json::Number(_))
            | (Kind::Unchecked, _) => {}
            (kind, other) => return Err(mismatch(other, kind.java_name())),
        }
        Ok(())
    }

    /// Length, then pattern, then enum: each violated one is reported.
    fn string(&mut self, id: Id, s: &str, path: &Path<'_>) {
        let shape = &self.shapes[id];
        let Kind::String {
            len,
            pattern,
            values,
        } = &shape.kind
        else {
            return;
        };
        let shown = || {
            if shape.secret {
                Shown::Hidden
            } else {
                Shown::Text(&s)
            }
        };
        // A string has between len/4 and len characters: count them only when that range
        // is not already inside the bounds.
        let bytes = s.len();
        if (bytes.div_ceil(4) as i64) < len.min || bytes as i64 > len.max {
            self.bounds(*len, s.chars().count() as i64, "length", shown(), path);
        }
        if let Some(p) = pattern
            && let Some(matches) = p.matches
            && !matches(s)
        {
            self.violate(
                shown(),
                path,
                format_args!("satisfy regular expression pattern: {}", p.text),
            );
        }
        if let Some(set) = values
            && !set.values.iter().any(|v| **v == *s)
        {
            self.violate(shown(), path, format_args!("{}", set.constraint));
        }
    }

    fn bounds(&mut self, b: Bounds, n: i64, what: &str, shown: Shown<'_>, path: &Path<'_>) {
        if n < b.min {
            self.violate(
                shown,
                path,
                format_args!("have {what} greater than or equal to {}", b.min),
            );
        } else if n > b.max {
            self.violate(
                shown,
                path,
                format_args!("have {what} less than or equal to {}", b.max),
            );
        }
    }

    fn violate(&mut self, shown: Shown<'_>, path: &Path<'_>, constraint: fmt::Arguments<'_>) {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = match shown {
            Shown::Null => write!(text, "Value null"),
            Shown::Hidden => write!(text, "Value"),
            Shown::Text(v) => write!(text, "Value '{v}'"),
        };
        let _ = write!(
            text,
            " at '{path}' failed to satisfy constraint: Member must {constraint}"
        );
        self.violations.push(text);
    }
}

impl Shape {
    fn hidden(&self) -> bool {
        self.secret || matches!(self.kind, Kind::Blob(_))
    }
}

/// A JSON value as Java's `toString` shows the deserialized value: lists as `[a, b]`.
struct JavaText<'a>(&'a Json<'a>);
struct JavaList<'a>(&'a [Json<'a>]);

impl fmt::Display for JavaText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Json::String(s) => f.write_str(s),
            Json::Array(items) => JavaList(items).fmt(f),
            Json::Object(fields) => {
                f.write_str("{")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={}", JavaText(v))?;
                }
                f.write_str("}")
            }
            Json::Number(n) => write!(f, "{n}"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for JavaList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            JavaText(v).fmt(f)?;
        }
        f.write_str("]")
    }
}

/// The `SerializationException` for a JSON value that cannot become `target`, worded as
/// AWS's (Coral's) deserializer words it: the JSON token, then the Java type.
fn mismatch(value: &Json<'_>, target: &str) -> KmsError {
    let message = match value {
        Json::Array(_) => "Start of list found where not expected".to_owned(),
        Json::Object(_) => "Start of structure or map found where not expected".to_owned(),
        other => {
            let token = match other {
                Json::String(_) => "STRING_VALUE",
                Json::Number(n) if n.is_f64() => "DECIMAL_VALUE",
                Json::Number(_) => "NUMBER_VALUE",
                Json::Bool(true) => "TRUE_VALUE",
                Json::Bool(false) => "FALSE_VALUE",
                _ => "NULL_VALUE",
            };
            format!("{token} can not be converted to {target}")
        }
    };
    KmsError::new(ErrorCode::Serialization, message)
}

/// The decoded length of standard, padded base64 (what the blob decoder accepts:
/// canonical padding, no stray bits), or `None` if it is not such base64. The decoder's
/// own SIMD check: allocates nothing, and a kilobyte takes a few hundred instructions.
fn decoded_len(b: &[u8]) -> Option<usize> {
    STANDARD.check(b).ok()?;
    STANDARD.decoded_length(b).ok()
}

/// The full-match test (Java `String.matches`, as AWS applies them) for each pattern in the
/// model, by hand so no regex engine is needed. Java's `\w` is `[a-zA-Z0-9_]`, `\s` is
/// `[ \t\n\x0B\f\r]` and `\d` is `[0-9]`. `None` for a pattern not listed here.
fn matcher(pattern: &str) -> Option<fn(&str) -> bool> {
    Some(match pattern {
        "[0-9]{12}" => |s| s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit()),
        r"[\u0009\u000A\u000D\u0020-\u00FF]+" => |s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
        },
        r"[\u0020-\u00FF]*" => |s| s.chars().all(|c| matches!(c, '\u{20}'..='\u{ff}')),
        r"[\w]+" => |s| some_of(s, is_word),
        r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$" => xks_proxy_path,
        r"^([a-z]+-){2,3}\d+$" => is_region,
        r"^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$" => {
            vpc_endpoint_service
        }
        "^[A-Z2-7]+$" => |s| some_of(s, |c| matches!(c, b'A'..=b'Z' | b'2'..=b'7')),
        r"^[\w+=,.@:/-]+$" => |s| {
            some_of(s, |c| {
                is_word(c) || matches!(c, b'+' | b'=' | b',' | b'.' | b'@' | b':' | b'/' | b'-')
            })
        },
        "^[a-f0-9]+$" => |s| some_of(s, |c| matches!(c, b'a'..=b'f' | b'0'..=b'9')),
        // Java reads the `-` after the range `0-9` as a literal.
        "^[a-zA-Z0-9-_.]+$" => |s| {
            some_of(s, |c| {
                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')
            })
        },
        "^[a-zA-Z0-9:/_-]+$" => |s| {
            some_of(s, |c| {
                c.is_ascii_alphanumeric() || matches!(c, b':' | b'/' | b'_' | b'-')
            })
        },
        r"^[a-zA-Z0-9:/_\s.-]+$" => |s| {
            some_of(s, |c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        b':' | b'/'
                            | b'_'
                            | b'.'
                            | b'-'
                            | b' '
                            | b'\t'
                            | b'\n'
                            | 0x0b
                            | 0x0c
                            | b'\r'
                    )
            })
        },
        r"^[a-zA-Z0-9\/+=]+$" => |s| {
            some_of(s, |c| {
                c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b'=')
            })
        },
        "^https://[a-zA-Z0-9.-]+$" => |s| {
            s.strip_prefix("https://").is_some_and(|host| {
                some_of(host, |c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
                })
            })
        },
        "cluster-[2-7a-zA-Z]{11,16}" => |s| {
            s.strip_prefix("cluster-").is_some_and(|id| {
                (11..=16).contains(&id.len())
                    && id
                        .bytes()
                        .all(|c| c.is_ascii_alphabetic() || matches!(c, b'2'..=b'7'))
            })
        },
        _ => return None,
    })
}

/// One or more bytes, all in an ASCII class (a non-ASCII character's bytes are in none).
fn some_of(s: &str, class: fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(class)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `^([a-z]+-){2,3}\d+$`: letters, digits and `-` are disjoint, so no backtracking is needed.
fn is_region(s: &str) -> bool {
    let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
    let Some(groups) = s[..s.len() - digits].strip_suffix('-') else {
        return false;
    };
    let mut count = 0;
    for group in groups.split('-') {
        if group.is_empty() || !group.bytes().all(|c| c.is_ascii_lowercase()) {
            return false;
        }
        count += 1;
    }
    digits > 0 && (2..=3).contains(&count)
}

/// `^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$`: the region part
/// holds no `.`, so it ends at the first one.
fn vpc_endpoint_service(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("com.amazonaws.vpce.")
        .or_else(|| s.strip_prefix("eu.amazonaws.vpce."))
    else {
        return false;
    };
    let Some((region, service)) = rest.split_once('.') else {
        return false;
    };
    is_region(region)
        && service
            .strip_prefix("vpce-svc-")
            .is_some_and(|id| some_of(id, |c| c.is_ascii_digit() || c.is_ascii_lowercase()))
}

/// `^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$`: the string ends in
/// `/kms/xks/v` and one or two digits, after nothing or after `/` and one or more of the class.
fn xks_proxy_path(s: &str) -> bool {
    (1..=2).any(|digits| {
        let Some(head) = s.len().checked_sub(digits).and_then(|at| {
            let (head, tail) = s.split_at_checked(at)?;
            tail.bytes().all(|c| c.is_ascii_digit()).then_some(head)
        }) else {
            return false;
        };
        let Some(prefix) = head.strip_suffix("/kms/xks/v") else {
            return false;
        };
        prefix.is_empty()
            || prefix.strip_prefix('/').is_some_and(|rest| {
                some_of(rest, |c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'-')
                })
            })
    })
}

// The parts of `service-2.json` the checks use; everything else (documentation, outputs,
// errors) is skipped while parsing.

#[derive(Deserialize)]
struct RawModel {
    operations: Ordered<RawOperation>,
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<RawRef>,
}

#[derive(Deserialize)]
struct RawRef {
    shape: String,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: Ordered<RawRef>,
    #[serde(default)]
    required: Vec<String>,
    member: Option<RawRef>,
    key: Option<RawRef>,
    value: Option<RawRef>,
    min: Option<i64>,
    max: Option<i64>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    values: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
}

/// A JSON object's entries in document order: violations are reported in model member
/// order, which serde_json's own map (sorted by key) would lose.
struct Ordered<T>(Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = Ordered<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }

        d.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    /// The check, given a body written with `json!`.
    fn check(operation: &str, body: &Value) -> Result<()> {
        super::check(operation, &tree(body))
    }

    fn tree(value: &Value) -> Json<'static> {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(s.clone().into()),
            Value::Array(items) => Json::Array(items.iter().map(tree).collect()),
            // serde_json's map is sorted by key, as the tree's objects are.
            Value::Object(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone().into(), tree(v)))
                    .collect(),
            ),
        }
    }

    fn validation(operation: &str, body: Value) -> String {
        let err = check(operation, &body).expect_err("a validation error");
        assert_eq!(err.code, ErrorCode::Validation, "{}", err.message);
        err.message
    }

    fn serialization(operation: &str, body: Value) -> String {
        let err = check(operation, &body).expect_err("a serialization error");
        assert_eq!(err.code, ErrorCode::Serialization, "{}", err.message);
        err.message
    }

    fn one(violation: &str) -> String {
        format!("1 validation error detected: {violation}")
    }

    fn b64(n: usize) -> String {
        STANDARD.encode_to_string(vec![0u8; n])
    }

    #[test]
    fn all_operations_are_known() {
        assert_eq!(operations().count(), 54);
        assert!(operations().any(|op| op == "Encrypt"));
        let err = check("NoSuchOperation", &json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownOperation);
    }

    #[test]
    fn valid_requests_pass() {
        check(
            "Encrypt",
            &json!({
                "KeyId": "alias/a", "Plaintext": b64(4096),
                "EncryptionContext": {"k": "v"}, "GrantTokens": ["t"],
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT", "DryRun": false,
                "Unknown": [1, {"x": null}]
            }),
        )
        .unwrap();
        check(
            "ImportKeyMaterial",
            &json!({"KeyId": "k", "ImportToken": "AA==", "EncryptedKeyMaterial": "AA==",
                    "ValidTo": 1.7e9, "ExpirationModel": "KEY_MATERIAL_EXPIRES"}),
        )
        .unwrap();
        check("ListKeys", &json!({})).unwrap();
    }

    #[test]
    fn required_member() {
        assert_eq!(
            validation("CancelKeyDeletion", json!({})),
            one("Value null at 'keyId' failed to satisfy constraint: Member must not be null")
        );
        // null is absent
        assert_eq!(
            validation("CancelKeyDeletion", json!({"KeyId": null})),
            one("Value null at 'keyId' failed to satisfy constraint: Member must not be null")
        );
    }

    #[test]
    fn string_length_in_characters() {
        let long = "é".repeat(8193);
        assert_eq!(
            validation(
                "UpdateKeyDescription",
                json!({"KeyId": "k", "Description": long})
            ),
            one(&format!(
                "Value '{long}' at 'description' failed to satisfy constraint: \
                 Member must have length less than or equal to 8192"
            ))
        );
        // 8192 two-byte characters are within the bound although 16384 bytes long.
        check(
            "UpdateKeyDescription",
            &json!({"KeyId": "k", "Description": "é".repeat(8192)}),
        )
        .unwrap();
        assert_eq!(
            validation("DescribeKey", json!({"KeyId": ""})),
            one("Value '' at 'keyId' failed to satisfy constraint: \
                 Member must have length greater than or equal to 1")
        );
    }

    #[test]
    fn recorded_aws_messages() {
        let tag_key = "a".repeat(129);
        assert_eq!(
            validation(
                "CreateKey",
                json!({"Tags": [{"TagKey": tag_key, "TagValue": "v"}]})
            ),
            one(&format!(
                "Value '{tag_key}' at 'tags.1.member.tagKey' failed to satisfy constraint: \
                 Member must have length less than or equal to 128"
            ))
        );
        let tag_value = "v".repeat(257);
        assert_eq!(
            validation(
                "TagResource",
                json!({"KeyId": "k", "Tags": [{"TagKey": "k", "TagValue": tag_value}]})
            ),
            one(&format!(
                "Value '{tag_value}' at 'tags.1.member.tagValue' failed to satisfy constraint: \
                 Member must have length less than or equal to 256"
            ))
        );
        assert_eq!(
            validation("Encrypt", json!({"KeyId": "k", "Plaintext": b64(4097)})),
            one("Value at 'plaintext' failed to satisfy constraint: \
                 Member must have length less than or equal to 4096")
        );
        assert_eq!(
            validation("GenerateRandom", json!({"NumberOfBytes": 0})),
            one(
                "Value '0' at 'numberOfBytes' failed to satisfy constraint: \
                 Member must have value greater than or equal to 1"
            )
        );
        assert_eq!(
            validation("GenerateRandom", json!({"NumberOfBytes": 1025})),
            one(
                "Value '1025' at 'numberOfBytes' failed to satisfy constraint: \
                 Member must have value less than or equal to 1024"
            )
        );
        assert_eq!(
            validation(
                "DeriveSharedSecret",
                json!({"KeyId": "k", "KeyAgreementAlgorithm": "INVALID", "PublicKey": "AA=="})
            ),
            one(
                "Value 'INVALID' at 'keyAgreementAlgorithm' failed to satisfy constraint: \
                 Member must satisfy enum value set: [ECDH]"
            )
        );
        assert_eq!(
            validation(
                "GenerateMac",
                json!({"KeyId": "k", "Message": "AA==", "MacAlgorithm": "INVALID"})
            ),
            one(
                "Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint: \
                 Member must satisfy enum value set: \
                 [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]"
            )
        );
        // AWS's recording predates KEY_AGREEMENT and the newer key specs: they follow.
        assert_eq!(
            validation("CreateKey", json!({"KeyUsage": "RANDOM"})),
            one(
                "Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: \
                 Member must satisfy enum value set: \
                 [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT]"
            )
        );
        assert_eq!(
            validation("CreateKey", json!({"KeySpec": "HMAC_random"})),
            one(
                "Value 'HMAC_random' at 'keySpec' failed to satisfy constraint: \
                 Member must satisfy enum value set: [RSA_2048, ECC_NIST_P384, ECC_NIST_P256, \
                 ECC_NIST_P521, HMAC_384, RSA_3072, ECC_SECG_P256K1, RSA_4096, SYMMETRIC_DEFAULT, \
                 HMAC_256, HMAC_224, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, \
                 ECC_NIST_EDWARDS25519]"
            )
        );
    }

    #[test]
    fn enum_in_model_order() {
        assert_eq!(
            validation(
                "GenerateDataKey",
                json!({"KeyId": "k", "KeySpec": "AES_512"})
            ),
            one(
                "Value 'AES_512' at 'keySpec' failed to satisfy constraint: \
                 Member must satisfy enum value set: [AES_256, AES_128]"
            )
        );
        assert_eq!(
            validation(
                "Decrypt",
                json!({"CiphertextBlob": "AA==", "DryRunModifiers": ["IGNORE_CIPHERTEXT", "X"]})
            ),
            one(
                "Value 'X' at 'dryRunModifiers.2.member' failed to satisfy constraint: \
                 Member must satisfy enum value set: [IGNORE_CIPHERTEXT]"
            )
        );
    }

    #[test]
    fn pattern_and_length_both_reported() {
        assert_eq!(
            validation(
                "CreateAlias",
                json!({"AliasName": "x y", "TargetKeyId": "k"})
            ),
            one("Value 'x y' at 'aliasName' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
        );
        assert_eq!(
            validation("CreateAlias", json!({"AliasName": "", "TargetKeyId": "k"})),
            "2 validation errors detected: \
             Value '' at 'aliasName' failed to satisfy constraint: \
             Member must have length greater than or equal to 1; \
             Value '' at 'aliasName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        );
    }

    #[test]
    fn several_violations_in_model_order() {
        assert_eq!(
            validation("CreateAlias", json!({})),
            "2 validation errors detected: \
             Value null at 'aliasName' failed to satisfy constraint: Member must not be null; \
             Value null at 'targetKeyId' failed to satisfy constraint: Member must not be null"
        );
        // Model order is Message, KeyId, MacAlgorithm, Mac: not alphabetical.
        assert_eq!(
            validation("VerifyMac", json!({"MacAlgorithm": "X", "KeyId": ""})),
            "4 validation errors detected: \
             Value null at 'message' failed to satisfy constraint: Member must not be null; \
             Value '' at 'keyId' failed to satisfy constraint: \
             Member must have length greater than or equal to 1; \
             Value 'X' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy \
             enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]; \
             Value null at 'mac' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn list_length_shows_the_list() {
        let tokens: Vec<String> = (1..=11).map(|i| format!("t{i}")).collect();
        assert_eq!(
            validation(
                "Encrypt",
                json!({"KeyId": "k", "Plaintext": "AA==", "GrantTokens": tokens})
            ),
            one(
                "Value '[t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11]' at 'grantTokens' \
                 failed to satisfy constraint: Member must have length less than or equal to 10"
            )
        );
        assert_eq!(
            validation(
                "Encrypt",
                json!({"KeyId": "k", "Plaintext": "AA==", "GrantTokens": ["a", "", "c"]})
            ),
            one(
                "Value '' at 'grantTokens.2.member' failed to satisfy constraint: \
                 Member must have length greater than or equal to 1"
            )
        );
    }

    #[test]
    fn nested_structures_and_secrets() {
        assert_eq!(
            validation(
                "CreateCustomKeyStore",
                json!({
                    "CustomKeyStoreName": "s", "KeyStorePassword": "short",
                    "XksProxyAuthenticationCredential": {"AccessKeyId": "lower"}
                })
            ),
            "4 validation errors detected: \
             Value at 'keyStorePassword' failed to satisfy constraint: \
             Member must have length greater than or equal to 7; \
             Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy \
             constraint: Member must have length greater than or equal to 20; \
             Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: ^[A-Z2-7]+$; \
             Value null at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to \
             satisfy constraint: Member must not be null"
        );
        assert_eq!(
            validation(
                "TagResource",
                json!({"KeyId": "k", "Tags": [{"TagKey": "a"}]})
            ),
            one(
                "Value null at 'tags.1.member.tagValue' failed to satisfy constraint: \
                 Member must not be null"
            )
        );
    }

    #[test]
    fn body_must_be_an_object() {
        assert_eq!(
            serialization("ListKeys", json!([])),
            "Start of list found where not expected"
        );
        assert_eq!(
            serialization("ListKeys", json!("x")),
            "STRING_VALUE can not be converted to a Structure"
        );
        serialization("ListKeys", Value::Null);
        serialization("ListKeys", json!(1));
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let cases = [
            (
                "DescribeKey",
                json!({"KeyId": 5}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                "DescribeKey",
                json!({"KeyId": 5.5}),
                "DECIMAL_VALUE can not be converted to a String",
            ),
            (
                "DescribeKey",
                json!({"KeyId": true}),
                "TRUE_VALUE can not be converted to a String",
            ),
            (
                "DescribeKey",
                json!({"KeyId": ["k"]}),
                "Start of list found where not expected",
            ),
            (
                "DescribeKey",
                json!({"KeyId": {}}),
                "Start of structure or map found where not expected",
            ),
            (
                "DescribeKey",
                json!({"KeyId": "k", "GrantTokens": {}}),
                "Start of structure or map found where not expected",
            ),
            (
                "DescribeKey",
                json!({"KeyId": "k", "GrantTokens": "t"}),
                "STRING_VALUE can not be converted to a List",
            ),
            (
                "DescribeKey",
                json!({"KeyId": "k", "GrantTokens": [1]}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                "GenerateRandom",
                json!({"NumberOfBytes": "5"}),
                "STRING_VALUE can not be converted to an Integer",
            ),
            (
                "GenerateRandom",
                json!({"NumberOfBytes": 1.5}),
                "DECIMAL_VALUE can not be converted to an Integer",
            ),
            (
                "GenerateRandom",
                json!({"NumberOfBytes": 2_147_483_648_i64}),
                "NUMBER_VALUE can not be converted to an Integer",
            ),
            (
                "GenerateRandom",
                json!({"NumberOfBytes": false}),
                "FALSE_VALUE can not be converted to an Integer",
            ),
            (
                "GenerateRandom",
                json!({"Recipient": "r"}),
                "STRING_VALUE can not be converted to a Structure",
            ),
            (
                "GenerateRandom",
                json!({"Recipient": []}),
                "Start of list found where not expected",
            ),
            (
                "Encrypt",
                json!({"KeyId": "k", "Plaintext": "AA==", "DryRun": "true"}),
                "STRING_VALUE can not be converted to a Boolean",
            ),
            (
                "Encrypt",
                json!({"KeyId": "k", "Plaintext": 1}),
                "NUMBER_VALUE can not be converted to a Blob",
            ),
            (
                "Encrypt",
                json!({"KeyId": "k", "Plaintext": "AA==", "EncryptionContext": {"a": 1}}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                "Encrypt",
                json!({"KeyId": "k", "Plaintext": "AA==", "EncryptionContext": ["a"]}),
                "Start of list found where not expected",
            ),
            (
                "Encrypt",
                json!({"KeyId": "k", "Plaintext": "AA==", "EncryptionContext": "a"}),
                "STRING_VALUE can not be converted to a Map",
            ),
            (
                "ImportKeyMaterial",
                json!({"KeyId": "k", "ImportToken": "AA==", "EncryptedKeyMaterial": "AA==",
                       "ValidTo": "2030-01-01T00:00:00Z"}),
                "STRING_VALUE can not be converted to a Timestamp",
            ),
            // A type error wins over the validation errors found before it.
            (
                "CreateAlias",
                json!({"AliasName": "", "TargetKeyId": 1}),
                "NUMBER_VALUE can not be converted to a String",
            ),
        ];
        for (operation, body, message) in cases {
            assert_eq!(serialization(operation, body.clone()), message, "{body}");
        }
    }

    #[test]
    fn blobs_must_be_base64() {
        for bad in [
            "not base64!",
            "AAA",
            "AA=A",
            "A===",
            "====",
            "AB==",
            "AAB=",
            "AA AA==",
        ] {
            assert_eq!(
                serialization("Encrypt", json!({"KeyId": "k", "Plaintext": bad})),
                "Could not parse the request body: a blob member is not valid base64",
                "{bad}"
            );
        }
        assert_eq!(
            validation("Encrypt", json!({"KeyId": "k", "Plaintext": ""})),
            one("Value at 'plaintext' failed to satisfy constraint: \
                 Member must have length greater than or equal to 1")
        );
    }

    /// The allocation-free length agrees with the decoder the handlers use, on every
    /// string of up to 4 characters over a small alphabet and on pseudo-random longer ones.
    #[test]
    fn decoded_len_agrees_with_the_decoder() {
        let alphabet = b"AQgw/+=a9 -";
        let mut inputs: Vec<Vec<u8>> = vec![vec![]];
        for len in 1..=4 {
            let mut idx = vec![0usize; len];
            loop {
                inputs.push(idx.iter().map(|&i| alphabet[i]).collect());
                let mut k = 0;
                while k < len {
                    idx[k] += 1;
                    if idx[k] < alphabet.len() {
                        break;
                    }
                    idx[k] = 0;
                    k += 1;
                }
                if k == len {
                    break;
                }
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 13) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (i * 4)) % alphabet.len() as u64) as usize])
                .collect();
            inputs.push(bytes);
        }
        // Long enough for the SIMD paths: valid base64, then one byte changed.
        for len in 0..300 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let data: Vec<u8> = (0..len).map(|i| (seed >> (i % 57)) as u8).collect();
            let valid = STANDARD.encode_to_string(&data).into_bytes();
            inputs.push(valid.clone());
            if !valid.is_empty() {
                let mut changed = valid;
                let at = (seed % changed.len() as u64) as usize;
                changed[at] = alphabet[(seed >> 32) as usize % alphabet.len()];
                inputs.push(changed);
            }
        }
        for input in inputs {
            let text = std::str::from_utf8(&input).unwrap();
            let expected = STANDARD.decode_to_vec(text).ok().map(|d| d.len());
            assert_eq!(decoded_len(text.as_bytes()), expected, "{text:?}");
        }
    }

    #[test]
    fn patterns_match_and_refuse() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "[0-9]{12}",
                &["111122223333"],
                &["11112222333", "1111222233334", "11112222333a"],
            ),
            (
                r"[\u0009\u000A\u000D\u0020-\u00FF]+",
                &["{\"a\": 1}\t\r\nÿ"],
                &["", "a\u{100}", "a\u{b}"],
            ),
            (r"[\u0020-\u00FF]*", &["", "a b~ÿ"], &["a\n", "€"]),
            (r"[\w]+", &["default_1"], &["", "a-b", "é"]),
            (
                r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$",
                &[
                    "/kms/xks/v1",
                    "/kms/xks/v12",
                    "/a/b_c-d/kms/xks/v3",
                    "//kms/kms/xks/v1",
                ],
                &[
                    "/kms/xks/v",
                    "/kms/xks/v123",
                    "kms/xks/v1",
                    "//kms/xks/v1",
                    "/a/kms/xks/v1/",
                ],
            ),
            (
                r"^([a-z]+-){2,3}\d+$",
                &["us-east-1", "us-gov-west-1", "eu-central-12"],
                &[
                    "us-1",
                    "a-b-c-d-1",
                    "us-east-",
                    "US-east-1",
                    "us--east-1",
                    "-us-east-1",
                ],
            ),
            (
                r"^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$",
                &[
                    "com.amazonaws.vpce.us-east-1.vpce-svc-0123abc",
                    "eu.amazonaws.vpce.eu-west-1.vpce-svc-1",
                ],
                &[
                    "org.amazonaws.vpce.us-east-1.vpce-svc-1",
                    "com.amazonaws.vpce.us-east-1.vpce-svc-",
                    "com.amazonaws.vpce.us-1.vpce-svc-1",
                    "com.amazonaws.vpce.us-east-1.vpce-svc-1A",
                ],
            ),
            (
                "^[A-Z2-7]+$",
                &["ABCXYZ234567"],
                &["", "ABC1", "abc", "AB8"],
            ),
            (
                r"^[\w+=,.@:/-]+$",
                &["arn:aws:iam::1:role/a_b+c=d,e.f@g-h"],
                &["", "a b", "a*"],
            ),
            ("^[a-f0-9]+$", &["0123456789abcdef"], &["", "abcg", "ABC"]),
            ("^[a-zA-Z0-9-_.]+$", &["a-b_c.D9"], &["", "a/b", "a b"]),
            (
                "^[a-zA-Z0-9:/_-]+$",
                &["alias/my_key-1:x"],
                &["", "x y", "a.b"],
            ),
            (
                r"^[a-zA-Z0-9:/_\s.-]+$",
                &["Material 1: a/b_c.d-e\t\n\u{b}\u{c}\r"],
                &["", "a,b", "a\u{a0}"],
            ),
            (
                r"^[a-zA-Z0-9\/+=]+$",
                &["abcXYZ019/+="],
                &["", "a-b", "a b"],
            ),
            (
                "^https://[a-zA-Z0-9.-]+$",
                &["https://xks.example-1.com"],
                &["https://", "http://a", "https://a/b"],
            ),
            (
                "cluster-[2-7a-zA-Z]{11,16}",
                &["cluster-234567abcdE", "cluster-abcdefghijklmnop"],
                &[
                    "cluster-abcdefghij",
                    "cluster-abcdefghijklmnopq",
                    "cluster-abcdefghij1",
                    "xcluster-abcdefghijk",
                ],
            ),
        ];
        for (pattern, good, bad) in cases {
            let matches = matcher(pattern).unwrap_or_else(|| panic!("no matcher for {pattern}"));
            for s in *good {
                assert!(matches(s), "{pattern} should match {s:?}");
            }
            for s in *bad {
                assert!(!matches(s), "{pattern} should not match {s:?}");
            }
        }
        assert!(matcher("^[a-z]$").is_none());
    }

    // The walk over the whole model reads service-2.json as plain JSON, independently of
    // the compiled form, and derives each expected message from it.

    struct Raw {
        shapes: Map<String, Value>,
    }

    /// A string of `n` characters for `pattern`, and whether it matches: each pattern's
    /// prefix, filler character, suffix and matching lengths, worked out by hand.
    fn sized(pattern: &str, n: usize) -> (String, bool) {
        const ANY: usize = usize::MAX;
        let (prefix, fill, suffix, lo, hi) = match pattern {
            "[0-9]{12}" => ("", '1', "", 12, 12),
            r"[\u0020-\u00FF]*" => ("", 'a', "", 0, ANY),
            r"[\u0009\u000A\u000D\u0020-\u00FF]+"
            | r"[\w]+"
            | r"^[\w+=,.@:/-]+$"
            | "^[a-f0-9]+$"
            | "^[a-zA-Z0-9-_.]+$"
            | "^[a-zA-Z0-9:/_-]+$"
            | r"^[a-zA-Z0-9:/_\s.-]+$"
            | r"^[a-zA-Z0-9\/+=]+$" => ("", 'a', "", 1, ANY),
            "^[A-Z2-7]+$" => ("", 'A', "", 1, ANY),
            r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$" => {
                ("/a", '/', "/kms/xks/v1", 13, ANY)
            }
            r"^([a-z]+-){2,3}\d+$" => ("us-east-", '1', "", 9, ANY),
            r"^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$" => {
                ("com.amazonaws.vpce.us-east-1.vpce-svc-", '0', "", 39, ANY)
            }
            "^https://[a-zA-Z0-9.-]+$" => ("https://", 'a', "", 9, ANY),
            "cluster-[2-7a-zA-Z]{11,16}" => ("cluster-", 'a', "", 19, 24),
            other => panic!("no sample for pattern {other}: add one"),
        };
        let fixed = prefix.len() + suffix.len();
        let text = if n >= fixed {
            format!("{prefix}{}{suffix}", fill.to_string().repeat(n - fixed))
        } else {
            format!("{prefix}{suffix}")[..n].to_owned()
        };
        (text, (lo..=hi).contains(&n))
    }

    impl Raw {
        fn load() -> Self {
            let model: Value = serde_json::from_str(MODEL_JSON).unwrap();
            Raw {
                shapes: model["shapes"].as_object().unwrap().clone(),
            }
        }

        fn shape(&self, name: &str) -> &Value {
            &self.shapes[name]
        }

        fn bound(shape: &Value, key: &str) -> Option<usize> {
            shape.get(key).and_then(Value::as_u64).map(|n| n as usize)
        }

        /// A valid value for the shape: required members only, minimal lengths.
        fn filler(&self, name: &str) -> Value {
            let shape = self.shape(name);
            let min = Self::bound(shape, "min").unwrap_or(0);
            match shape["type"].as_str().unwrap() {
                "string" => {
                    if let Some(values) = shape.get("enum") {
                        return values[0].clone();
                    }
                    let max = Self::bound(shape, "max").unwrap_or(usize::MAX);
                    let text = match shape.get("pattern").and_then(Value::as_str) {
                        Some(p) => {
                            (min.max(1)..=max)
                                .map(|n| sized(p, n))
                                .find(|(_, ok)| *ok)
                                .unwrap()
                                .0
                        }
                        None => "a".repeat(min.max(1)),
                    };
                    Value::String(text)
                }
                "blob" => Value::String(b64(min.max(1))),
                "integer" => json!(min.max(1)),
                "boolean" => json!(true),
                "timestamp" => json!(0),
                "list" => {
                    let member = self.filler(shape["member"]["shape"].as_str().unwrap());
                    Value::Array(vec![member; min])
                }
                "map" => json!({}),
                "structure" => {
                    let mut fields = Map::new();
                    for required in shape
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let member = required.as_str().unwrap();
                        let target = shape["members"][member]["shape"].as_str().unwrap();
                        fields.insert(member.to_owned(), self.filler(target));
                    }
                    Value::Object(fields)
                }
                other => panic!("shape type {other} in {name}"),
            }
        }

        /// Each way to break one value of this shape at `path`: the bad value
        /// and the messages it must produce.
        fn variants(&self, name: &str, path: &str) -> Vec<(Value, Vec<String>)> {
            let shape = self.shape(name);
            let secret = shape.get("sensitive") == Some(&json!(true));
            let min = Self::bound(shape, "min");
            let max = Self::bound(shape, "max");
            let msg = |shown: Option<&str>, constraint: String| {
                let value = match shown {
                    Some(v) if !secret => format!("Value '{v}'"),
                    _ => "Value".to_owned(),
                };
                format!(
                    "{value} at '{path}' failed to satisfy constraint: Member must {constraint}"
                )
            };
            let mut out = Vec::new();
            match shape["type"].as_str().unwrap() {
                "string" => {
                    if let Some(values) = shape.get("enum").and_then(Value::as_array) {
                        let model: Vec<&str> = values.iter().map(|v| v.as_str().unwrap()).collect();
                        let recorded = AWS_ENUM_ORDER
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map_or(&[][..], |(_, o)| o);
                        let mut order: Vec<&str> = recorded.to_vec();
                        order.extend(model.iter().filter(|v| !recorded.contains(v)));
                        out.push((
                            json!("NOT_A_VALUE"),
                            vec![msg(
                                Some("NOT_A_VALUE"),
                                format!("satisfy enum value set: [{}]", order.join(", ")),
                            )],
                        ));
                    }
                    let pattern = shape.get("pattern").and_then(Value::as_str);
                    let sample = |n: usize| match pattern {
                        Some(p) => sized(p, n),
                        None => ("a".repeat(n), true),
                    };
                    let mut length = |n: usize, constraint: String| {
                        let (text, ok) = sample(n);
                        let mut msgs = vec![msg(Some(&text), constraint)];
                        if !ok {
                            msgs.push(msg(
                                Some(&text),
                                format!("satisfy regular expression pattern: {}", pattern.unwrap()),
                            ));
                        }
                        out.push((Value::String(text), msgs));
                    };
                    if let Some(max) = max {
                        length(max + 1, format!("have length less than or equal to {max}"));
                    }
                    if let Some(min) = min.filter(|&m| m > 0) {
                        length(
                            min - 1,
                            format!("have length greater than or equal to {min}"),
                        );
                    }
                    if let Some(p) = pattern {
                        // A character outside every pattern's class, at a valid length.
                        let valid = self.filler(name);
                        let text: String = std::iter::once('\u{100}')
                            .chain(valid.as_str().unwrap().chars().skip(1))
                            .collect();
                        let constraint = format!("satisfy regular expression pattern: {p}");
                        out.push((json!(text), vec![msg(Some(&text), constraint)]));
                    }
                }
                "blob" => {
                    if let Some(max) = max {
                        out.push((
                            json!(b64(max + 1)),
                            vec![msg(
                                None,
                                format!("have length less than or equal to {max}"),
                            )],
                        ));
                    }
                    if let Some(min) = min.filter(|&m| m > 0) {
                        out.push((
                            json!(b64(min - 1)),
                            vec![msg(
                                None,
                                format!("have length greater than or equal to {min}"),
                            )],
                        ));
                    }
                }
                "integer" => {
                    for (n, constraint) in [
                        min.map(|m| {
                            (
                                m as i64 - 1,
                                format!("have value greater than or equal to {m}"),
                            )
                        }),
                        max.map(|m| {
                            (
                                m as i64 + 1,
                                format!("have value less than or equal to {m}"),
                            )
                        }),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        out.push((json!(n), vec![msg(Some(&n.to_string()), constraint)]));
                    }
                }
                "list" => {
                    let member = shape["member"]["shape"].as_str().unwrap();
                    let element = self.filler(member);
                    let shown = |items: &[Value]| {
                        let texts: Vec<String> = items
                            .iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .collect();
                        format!("[{}]", texts.join(", "))
                    };
                    if let Some(max) = max {
                        let items = vec![element.clone(); max + 1];
                        out.push((
                            json!(items),
                            vec![msg(
                                Some(&shown(&items)),
                                format!("have length less than or equal to {max}"),
                            )],
                        ));
                    }
                    if let Some(min) = min.filter(|&m| m > 0) {
                        let items = vec![element.clone(); min - 1];
                        out.push((
                            json!(items),
                            vec![msg(
                                Some(&shown(&items)),
                                format!("have length greater than or equal to {min}"),
                            )],
                        ));
                    }
                    // Violations of an element, as the first of a list of valid ones.
                    let count = min.unwrap_or(0).max(1);
                    for (bad, msgs) in self.variants(member, &format!("{path}.1.member")) {
                        let mut items = vec![element.clone(); count];
                        items[0] = bad;
                        out.push((json!(items), msgs));
                    }
                }
                "structure" => {
                    let base = self.filler(name);
                    let required: Vec<&str> = shape
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    for (member, target) in shape["members"].as_object().unwrap() {
                        let mut chars = member.chars();
                        let lower: String =
                            chars.next().unwrap().to_lowercase().chain(chars).collect();
                        let at = if path.is_empty() {
                            lower
                        } else {
                            format!("{path}.{lower}")
                        };
                        if required.contains(&member.as_str()) {
                            let mut value = base.clone();
                            value.as_object_mut().unwrap().remove(member);
                            out.push((
                                value,
                                vec![format!(
                                    "Value null at '{at}' failed to satisfy constraint: \
                                     Member must not be null"
                                )],
                            ));
                        }
                        let target = target["shape"].as_str().unwrap();
                        for (bad, msgs) in self.variants(target, &at) {
                            let mut value = base.clone();
                            value.as_object_mut().unwrap().insert(member.clone(), bad);
                            out.push((value, msgs));
                        }
                    }
                }
                _ => {}
            }
            out
        }
    }

    #[test]
    fn every_member_of_every_operation() {
        let raw = Raw::load();
        let model: Value = serde_json::from_str(MODEL_JSON).unwrap();
        let ops = model["operations"].as_object().unwrap();
        assert_eq!(ops.len(), 54);
        let mut checked = 0;
        for (operation, op) in ops {
            let input = op["input"]["shape"].as_str().unwrap();
            let valid = raw.filler(input);
            assert_eq!(check(operation, &valid), Ok(()), "{operation} {valid}");
            for (body, msgs) in raw.variants(input, "") {
                let expected = match msgs.len() {
                    1 => format!("1 validation error detected: {}", msgs[0]),
                    n => format!("{n} validation errors detected: {}", msgs.join("; ")),
                };
                let err = check(operation, &body).expect_err(&format!("{operation} {body}"));
                assert_eq!(
                    err.code,
                    ErrorCode::Validation,
                    "{operation}: {}",
                    err.message
                );
                assert_eq!(err.message, expected, "{operation}");
                checked += 1;
            }
        }
        assert!(checked > 400, "only {checked} cases");
    }

    /// Every pattern and shape type in the model is handled: a new model cannot skip one.
    #[test]
    fn model_has_nothing_unhandled() {
        let raw = Raw::load();
        for (name, shape) in &raw.shapes {
            if let Some(p) = shape.get("pattern").and_then(Value::as_str) {
                assert!(matcher(p).is_some(), "no matcher for {p} ({name})");
                sized(p, 1);
            }
        }
        for shape in &MODEL.shapes {
            assert!(
                !matches!(shape.kind, Kind::Unchecked),
                "a shape type is not handled"
            );
            if let Kind::String {
                pattern: Some(p), ..
            } = &shape.kind
            {
                assert!(p.matches.is_some(), "no matcher for {}", p.text);
            }
        }
    }
}
