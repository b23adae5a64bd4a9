//! trent: a local, AWS-compatible Key Management Service.
//!
//! A request flows through four layers, each in its own module:
//!
//! 1. [`protocol`]: `POST /` with `X-Amz-Target: TrentService.<Op>` becomes an
//!    [`model::Operation`], a [`model::Scope`] (account, region) and a body.
//! 2. [`api`]: one handler per operation, grouped by family; each request is checked
//!    against the AWS model ([`protocol::model`]) before it reaches its handler.
//! 3. [`model`]: identifiers, enumerations, keys and the key state machine
//!    ([`model::state`]); [`crypto`]: the ciphertext format and algorithms.
//! 4. [`store`]: an in-memory cache in front of SQLite; every write commits first.
//!
//! [`start`] builds all of it and serves on a listener; tests use it in-process.

pub mod api;
pub mod clock;
pub mod config;
pub mod control;
pub mod crypto;
pub mod error;
pub mod model;
pub mod protocol;
pub mod seed;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::Config;
pub use service::Service;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest the background sweeper sleeps between looks at the schedule of timed
/// events (lookups hide keys past their deletion date at once).
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// A running server.
pub struct Server {
    addr: SocketAddr,
    service: Arc<Service>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// The deletion sweeper and the RSA pool's filler: stopped with the server.
    background: Vec<JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// Stops accepting, finishes in-flight requests and closes the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        for task in &self.background {
            task.abort();
        }
        self.service.store.close().await;
    }

    /// Runs until the server task ends (it ends only when stopped).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// The HTTP routes: the KMS API, a health check, and the test controls if enabled.
pub fn router(service: Arc<Service>) -> Router {
    let mut router = Router::new()
        .route("/", post(protocol::handle))
        .route("/_trent/health", get(control::health));
    if service.config.test_controls {
        router = router
            .route(
                "/_trent/clock",
                get(control::get_clock).post(control::set_clock),
            )
            .route("/_trent/reset", post(control::reset))
            .route("/moto-api/reset", post(control::reset))
            .route("/_trent/seed", get(control::export_seed));
    }
    router
        .method_not_allowed_fallback(control::method_not_allowed)
        .fallback(control::not_found)
        .with_state(service)
}

/// Opens the store, binds the listener and serves in the background.
pub async fn start(config: Config) -> Result<Server, BoxError> {
    let clock = Arc::new(clock::Clock::default());
    let data_dir = (!config.in_memory).then_some(config.data_dir.as_path());
    let store = store::Store::open(data_dir, clock.clone()).await?;
    // A broken seed stops the start, before anything of it is loaded.
    let seed = match config.seed_file()? {
        Some(path) => Some(seed::Seed::read(path, &config.default_scope())?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let rsa_pool = crypto::pool::RsaPool::new(config.rsa_key_pool);
    let pool_filler = rsa_pool.start();
    let service = Arc::new(Service {
        default_scope: config.default_scope(),
        config,
        clock,
        store,
        rsa_pool,
        seed,
    });
    if let Some(seed) = &service.seed {
        seed.apply(&service).await?;
    }
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(service.clone());
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    let sweeper = tokio::spawn({
        let service = service.clone();
        async move {
            loop {
                // Wake when the next event is due (a replica settling in a second), and
                // at least every few seconds (events added meanwhile, a moved clock).
                let now = service.clock.now();
                let wait =
                    service
                        .store
                        .next_due()
                        .map_or(SWEEP_EVERY, |at| {
                            Duration::from_millis(
                                at.millis().saturating_sub(now.millis()).max(0) as u64
                            )
                        })
                        .clamp(Duration::from_millis(10), SWEEP_EVERY);
                tokio::time::sleep(wait).await;
                if let Err(e) = service.store.sweep().await {
                    tracing::warn!(error = %e, "sweep failed");
                }
            }
        }
    });
    Ok(Server {
        addr,
        service,
        shutdown: Some(tx),
        task,
        background: [Some(sweeper), pool_filler].into_iter().flatten().collect(),
    })
}
