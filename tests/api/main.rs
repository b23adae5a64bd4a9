//! Integration tests: each starts trent in-process on port 0 with a fresh database and
//! drives it with the AWS SDK for Rust (and, where no SDK would send the request, raw HTTP).

mod asymmetric;
mod common;
mod crypto;
mod custom_key_stores;
mod grants;
mod import;
mod keys;
mod last_usage;
mod lifecycle;
mod model;
mod multi_region;
mod persistence;
mod protocol;
mod readme;
mod rotation;
mod seed;
mod tags_policies;
