//! Configuration: every flag also reads an environment variable (`--listen` /
//! `TRENT_LISTEN`, ...), so compose files and scripts can use either. local-kms's
//! variables (`PORT`, `KMS_ACCOUNT_ID`, `KMS_REGION`, `KMS_SEED_PATH`, `KMS_DATA_PATH`) are
//! read too, where trent's own are not set, so its users switch by changing the image.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// The command line: the server's configuration and what to do with it.
#[derive(Debug, Parser)]
#[command(
    name = "trent",
    version,
    about = "A local, AWS-compatible Key Management Service",
    long_about = "trent speaks the AWS KMS API (AWS JSON 1.1) so that the AWS CLI, the AWS SDKs and \
the tools built on them work against it with an endpoint override. State persists in SQLite."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the AWS KMS API (what `trent` does with no command).
    Serve,
    /// Exit 0 if the trent at --listen answers its health check, 1 if not: a container
    /// HEALTHCHECK that needs no shell or curl.
    Healthcheck,
    /// Check a seed file and exit: every broken entry is reported with its line.
    Seed {
        /// The seed file to check.
        #[arg(long, value_name = "FILE")]
        check: PathBuf,
    },
}

impl Cli {
    /// Parses the process's arguments and environment, local-kms's variables included.
    pub fn from_env() -> Self {
        let matches = Self::command().get_matches();
        Self::from_matches(&matches, |name| std::env::var(name).ok()).unwrap_or_else(|e| e.exit())
    }

    fn from_matches(
        matches: &ArgMatches,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, clap::Error> {
        let mut cli = Self::from_arg_matches(matches)?;
        cli.config.apply_local_kms_env(matches, env)?;
        Ok(cli)
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, and a line per request at info.
    Json,
}

#[derive(Debug, Clone, Args)]
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

    /// Log filter, as a tracing EnvFilter directive (e.g. `info`, `trent=debug`). Logs
    /// never hold key material or plaintext.
    #[arg(long, env = "TRENT_LOG", default_value = "info")]
    pub log: String,

    /// Log format.
    #[arg(long, env = "TRENT_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,

    /// A seed file (YAML: trent's own format or local-kms's) loaded at start: keys with
    /// fixed ids and material, aliases. Loading it again changes nothing.
    #[arg(long, env = "TRENT_SEED", value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// A seed file loaded only if it exists (the Docker image's /init/seed.yaml, through
    /// local-kms's KMS_SEED_PATH); --seed, when given, is used instead.
    #[arg(long, env = "TRENT_DEFAULT_SEED", value_name = "FILE")]
    pub default_seed: Option<PathBuf>,

    /// RSA keys kept pre-generated for each size (2048, 3072, 4096), so that CreateKey and
    /// GenerateDataKeyPair answer in milliseconds. One background thread fills the pool
    /// after start-up: about N x 1 s of one core (4096-bit keys take the most). When a
    /// size runs dry, requests generate their own key (up to seconds). 0 turns it off.
    #[arg(long, env = "TRENT_RSA_KEY_POOL", default_value_t = 4)]
    pub rsa_key_pool: usize,

    /// Serve the test controls under /_trent/ (reset, clock, seed export) and moto's
    /// /moto-api/reset. On by default; /_trent/health is always served.
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
    /// The seed file to load: --seed, else the default seed if that file exists. Only
    /// "not found" means no seed: any other failure to look (permissions) is an error.
    pub fn seed_file(&self) -> std::io::Result<Option<&std::path::Path>> {
        if let Some(seed) = &self.seed {
            return Ok(Some(seed));
        }
        let Some(default) = &self.default_seed else {
            return Ok(None);
        };
        match std::fs::metadata(default) {
            Ok(_) => Ok(Some(default)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(
                    path = %default.display(),
                    "no default seed file (TRENT_DEFAULT_SEED); starting without one"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The account and region of requests (and seed entries) that name none.
    pub fn default_scope(&self) -> crate::model::Scope {
        crate::model::Scope::new(self.account_id.as_str(), self.region.as_str())
    }

    /// The defaults with the given flags, as the command line would parse them.
    pub fn from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(std::iter::once("trent".into()).chain(args.into_iter().map(Into::into)))
            .map(|cli| cli.config)
    }

    /// local-kms's variables, for the settings that neither a flag nor trent's own
    /// variable gave: `PORT` (on all interfaces, as local-kms listens), `KMS_ACCOUNT_ID`,
    /// `KMS_REGION`, `KMS_SEED_PATH`, `KMS_DATA_PATH`.
    fn apply_local_kms_env(
        &mut self,
        matches: &ArgMatches,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), clap::Error> {
        let defaulted = |id: &str| {
            matches!(
                matches.value_source(id),
                None | Some(clap::parser::ValueSource::DefaultValue)
            )
        };
        let invalid = |name: &str, why: String| {
            Cli::command().error(
                clap::error::ErrorKind::InvalidValue,
                format!("{name}: {why}"),
            )
        };
        if let Some(port) = env("PORT").filter(|_| defaulted("listen")) {
            let port: u16 = port.parse().map_err(|e| invalid("PORT", format!("{e}")))?;
            self.listen = SocketAddr::from(([0, 0, 0, 0], port));
        }
        if let Some(account) = env("KMS_ACCOUNT_ID").filter(|_| defaulted("account_id")) {
            self.account_id = account_id(&account).map_err(|e| invalid("KMS_ACCOUNT_ID", e))?;
        }
        if let Some(region) = env("KMS_REGION").filter(|_| defaulted("region")) {
            self.region = region;
        }
        // local-kms loads its seed only if the file exists.
        if let Some(seed) = env("KMS_SEED_PATH").filter(|_| defaulted("default_seed")) {
            self.default_seed = Some(seed.into());
        }
        if let Some(dir) = env("KMS_DATA_PATH").filter(|_| defaulted("data_dir")) {
            self.data_dir = dir.into();
        }
        Ok(())
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

    #[test]
    fn local_kms_variables_fill_what_is_not_set() {
        let env = |name: &str| match name {
            "PORT" => Some("9090".to_owned()),
            "KMS_ACCOUNT_ID" => Some("123456789012".to_owned()),
            "KMS_REGION" => Some("eu-west-2".to_owned()),
            "KMS_SEED_PATH" => Some("/init/seed.yaml".to_owned()),
            "KMS_DATA_PATH" => Some("/data".to_owned()),
            _ => None,
        };
        let parse = |args: &[&str]| {
            let matches = Cli::command()
                .try_get_matches_from(std::iter::once("trent").chain(args.iter().copied()))
                .unwrap();
            Cli::from_matches(&matches, env).unwrap().config
        };
        let c = parse(&[]);
        assert_eq!(c.listen.to_string(), "0.0.0.0:9090");
        assert_eq!(
            (c.account_id.as_str(), c.region.as_str()),
            ("123456789012", "eu-west-2")
        );
        assert_eq!(c.default_seed, Some(PathBuf::from("/init/seed.yaml")));
        assert_eq!(c.data_dir, PathBuf::from("/data"));
        // trent's own flags win.
        let c = parse(&["--listen", "127.0.0.1:1", "--region", "us-west-1"]);
        assert_eq!(c.listen.to_string(), "127.0.0.1:1");
        assert_eq!(c.region, "us-west-1");
    }
}
