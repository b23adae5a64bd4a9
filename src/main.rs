//! The `trent` binary: parse configuration, set up logging, serve until Ctrl-C / SIGTERM.

use clap::Parser;
use trent::Config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Config::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trent: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), trent::BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log)?)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let storage = if config.in_memory {
        "in memory".to_owned()
    } else {
        config.data_dir.join("trent.db").display().to_string()
    };
    let server = trent::start(config).await?;
    // Scripts read the address from this line when they start trent on port 0.
    tracing::info!(
        "serving the AWS KMS API on http://{} ({storage})",
        server.addr()
    );
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down"),
    }
    server.stop().await;
    Ok(())
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
