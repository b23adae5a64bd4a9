//! Configuration: every flag also reads an environment variable (`--listen` /
//! `TRENT_LISTEN`, ...), so compose files and scripts can use either.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "trent",
    version,
    about = "A local, AWS-compatible Key Management Service",
    long_about = "trent speaks the AWS KMS API (AWS JSON 1.1) so that the AWS CLI, the AWS SDKs and \
the tools built on them work against it with an endpoint override. State persists in SQLite."
)]
pub struct Config {
    /// Address to serve on. Port 0 picks a free port.
    #[arg(long, env = "TRENT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory holding the SQLite database (created if missing).
    #[arg(long, env = "TRENT_DATA_DIR", default_value = "./trent-data")]
    pub data_dir: PathBuf,

    /// Keep everything in memory; nothing is written to disk.
    #[arg(long, env = "TRENT_IN_MEMORY", default_value_t = false)]
    pub in_memory: bool,

    /// Account for requests whose access key id is not a 12-digit account id.
    #[arg(long, env = "TRENT_ACCOUNT_ID", default_value = "111122223333", value_parser = account_id)]
    pub account_id: String,

    /// Region for requests that carry no SigV4 credential scope.
    #[arg(long, env = "TRENT_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Log filter, as a tracing EnvFilter directive (e.g. `info`, `trent=debug`).
    #[arg(long, env = "TRENT_LOG", default_value = "info")]
    pub log: String,

    /// RSA keys kept pre-generated for each size (2048, 3072, 4096), so that CreateKey and
    /// GenerateDataKeyPair answer in milliseconds. One background thread fills the pool
    /// after start-up: about N x 1 s of one core (4096-bit keys take the most). When a
    /// size runs dry, requests generate their own key (up to seconds). 0 turns it off.
    #[arg(long, env = "TRENT_RSA_KEY_POOL", default_value_t = 4)]
    pub rsa_key_pool: usize,

    /// Serve the test controls under /_trent/ (moving the clock). On by default.
    #[arg(long, env = "TRENT_TEST_CONTROLS", default_value_t = true, action = clap::ArgAction::Set)]
    pub test_controls: bool,
}

/// An AWS account id is exactly 12 digits; ARNs are built from it.
fn account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("an account id is 12 digits".to_owned())
    }
}

impl Config {
    /// The defaults with the given flags, as the command line would parse them.
    pub fn from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(
            std::iter::once("trent".into()).chain(args.into_iter().map(Into::into)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_account_check() {
        let c = Config::from_args::<[&str; 0], &str>([]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./trent-data"));
        assert!(!c.in_memory && c.test_controls);
        assert_eq!(
            (c.account_id.as_str(), c.region.as_str()),
            ("111122223333", "us-east-1")
        );
        assert!(Config::from_args(["--account-id", "12345"]).is_err());
        assert!(Config::from_args(["--test-controls", "false"]).is_ok_and(|c| !c.test_controls));
    }
}
