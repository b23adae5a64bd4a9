//! The `trent` binary: parse configuration, set up logging, then serve until Ctrl-C /
//! SIGTERM, answer a container health check, or check a seed file.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use trent::config::{Cli, Command, LogFormat};
use trent::{Config, seed};

fn main() -> ExitCode {
    let cli = Cli::from_env();
    let result = match cli.command {
        None | Some(Command::Serve) => run(serve(cli.config)),
        Some(Command::Healthcheck) => return healthcheck(cli.config.listen),
        Some(Command::Seed { check }) => seed::Seed::read(&check, &cli.config.default_scope())
            .map(|seed| println!("{}: {}", check.display(), seed.summary()))
            .map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trent: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the server on a multi-threaded runtime. Shutting down does not wait for an RSA
/// key the pool may still be generating on a blocking thread (up to seconds): the server
/// has already finished its requests and closed its database by then.
fn run(serve: impl Future<Output = Result<(), trent::BoxError>>) -> Result<(), trent::BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve);
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn serve(config: Config) -> Result<(), trent::BoxError> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Pretty => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let storage = if config.in_memory {
        "in memory".to_owned()
    } else {
        config.data_dir.join("trent.db").display().to_string()
    };
    let warn_controls = config.test_controls && !config.listen.ip().is_loopback();
    let server = trent::start(config).await?;
    // Scripts read the address from this line when they start trent on port 0.
    tracing::info!(
        "serving the AWS KMS API on http://{} ({storage})",
        server.addr()
    );
    if warn_controls {
        tracing::warn!(
            "the test controls under /_trent/ (reset, clock, seed export) are on and reachable \
             from other hosts; TRENT_TEST_CONTROLS=false turns them off"
        );
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await;
    Ok(())
}

/// `GET /_trent/health` on the serving address (loopback when it listens on all).
fn healthcheck(listen: SocketAddr) -> ExitCode {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let healthy = (|| -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"GET /_trent/health HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        Ok(response.starts_with(b"HTTP/1.0 200") || response.starts_with(b"HTTP/1.1 200"))
    })();
    match healthy {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) | Err(_) => {
            eprintln!("trent: no healthy trent at {addr}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
