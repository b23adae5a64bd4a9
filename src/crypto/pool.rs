//! Pre-generated RSA keys. Generating an RSA key takes 25–80 ms (2048 bits) to over a
//! second (4096 bits) of one core, so CreateKey and GenerateDataKeyPair take keys from a
//! pool that one background thread keeps full. When a size runs dry, the request
//! generates its own key on a blocking thread: slower, but never stalling the runtime.

use std::sync::{Arc, Mutex};

use rsa::PrivateKey as RsaPrivateKey;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::secret_key::generate_rsa;

/// The RSA sizes AWS KMS offers.
pub const RSA_SIZES: [usize; 3] = [2048, 3072, 4096];

pub struct RsaPool {
    /// Keys kept ready for each size; 0 turns the pool off.
    target: usize,
    ready: [Mutex<Vec<RsaPrivateKey>>; 3],
    wake: Notify,
}

impl RsaPool {
    pub fn new(target: usize) -> Arc<Self> {
        Arc::new(Self {
            target,
            ready: Default::default(),
            wake: Notify::new(),
        })
    }

    fn slot(&self, bits: usize) -> &Mutex<Vec<RsaPrivateKey>> {
        let i = RSA_SIZES.iter().position(|b| *b == bits).unwrap_or(0);
        &self.ready[i]
    }

    /// How many keys of `bits` are ready now.
    pub fn ready(&self, bits: usize) -> usize {
        self.slot(bits).lock().map(|v| v.len()).unwrap_or(0)
    }

    /// A fresh key of `bits`: from the pool if it has one, else generated now.
    pub async fn take(&self, bits: usize) -> RsaPrivateKey {
        let pooled = self.slot(bits).lock().ok().and_then(|mut v| v.pop());
        self.wake.notify_one();
        match pooled {
            Some(key) => key,
            // A panic while generating is a bug: it goes on to the request's task,
            // which answers KMSInternalException.
            None => tokio::task::spawn_blocking(move || generate_rsa(bits))
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
        }
    }

    /// Keeps every size at its target, one key at a time on one blocking thread, the
    /// sizes taking turns so that each has keys early.
    pub fn start(self: &Arc<Self>) -> Option<JoinHandle<()>> {
        if self.target == 0 {
            return None;
        }
        let pool = self.clone();
        Some(tokio::spawn(async move {
            let mut announced = false;
            loop {
                let short: Vec<usize> = RSA_SIZES
                    .into_iter()
                    .filter(|b| pool.ready(*b) < pool.target)
                    .collect();
                if short.is_empty() {
                    if !announced {
                        tracing::info!(keys_per_size = pool.target, "RSA key pool full");
                        announced = true;
                    }
                    pool.wake.notified().await;
                    continue;
                }
                for bits in short {
                    let Ok(key) = tokio::task::spawn_blocking(move || generate_rsa(bits)).await
                    else {
                        return;
                    };
                    if let Ok(mut ready) = pool.slot(bits).lock() {
                        ready.push(key);
                    }
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::PublicKeyParts;

    #[tokio::test]
    async fn fills_in_the_background_and_serves_from_stock() {
        let pool = RsaPool::new(1);
        let task = pool.start().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while RSA_SIZES.iter().any(|b| pool.ready(*b) < 1) {
            assert!(std::time::Instant::now() < deadline, "pool did not fill");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let key = pool.take(3072).await;
        assert_eq!(key.size() * 8, 3072);
        task.abort();
    }

    #[tokio::test]
    async fn an_empty_pool_still_answers() {
        let pool = RsaPool::new(0);
        assert!(pool.start().is_none());
        assert_eq!(pool.take(2048).await.size() * 8, 2048);
    }
}
