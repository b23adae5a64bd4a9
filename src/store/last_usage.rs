//! When each key was last used for a successful cryptographic operation
//! (GetKeyLastUsage). Recorded in memory on the request path, without waiting on disk,
//! and written to SQLite in batches by the background sweeper and at shutdown: a crash
//! loses at most the last few seconds of usage, never a key.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use sqlx::SqlitePool;

use super::db;
use crate::clock::Timestamp;
use crate::model::Scope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The operation's name, one of AWS's KeyLastUsageTrackingOperation values.
    pub operation: &'static str,
    pub at: Timestamp,
    pub request_id: String,
    pub event_id: String,
}

type KeyRef = (Scope, String);

#[derive(Debug, Default)]
struct State {
    last: HashMap<KeyRef, Usage>,
    /// Recorded since the last flush.
    dirty: HashSet<KeyRef>,
}

#[derive(Debug, Default)]
pub struct LastUsage {
    state: Mutex<State>,
}

impl LastUsage {
    pub fn new(loaded: Vec<(Scope, String, Usage)>) -> Self {
        let last = loaded
            .into_iter()
            .map(|(scope, id, usage)| ((scope, id), usage))
            .collect();
        Self {
            state: Mutex::new(State {
                last,
                dirty: HashSet::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Each change is one insert or remove: a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, scope: &Scope, key_id: &str, usage: Usage) {
        let key = (scope.clone(), key_id.to_owned());
        let mut state = self.lock();
        state.dirty.insert(key.clone());
        state.last.insert(key, usage);
    }

    pub fn get(&self, scope: &Scope, key_id: &str) -> Option<Usage> {
        self.lock()
            .last
            .get(&(scope.clone(), key_id.to_owned()))
            .cloned()
    }

    /// A deleted key's usage goes with it.
    pub fn forget(&self, scope: &Scope, key_id: &str) {
        let key = (scope.clone(), key_id.to_owned());
        let mut state = self.lock();
        state.last.remove(&key);
        state.dirty.remove(&key);
    }

    pub fn clear(&self) {
        let mut state = self.lock();
        state.last.clear();
        state.dirty.clear();
    }

    /// Writes what was recorded since the last flush, in one transaction; on failure it
    /// stays to be written next time.
    pub async fn flush(&self, pool: &SqlitePool) -> Result<(), sqlx::Error> {
        let batch: Vec<(Scope, String, Usage)> = {
            let mut state = self.lock();
            let dirty = std::mem::take(&mut state.dirty);
            dirty
                .into_iter()
                .filter_map(|k| state.last.get(&k).cloned().map(|u| (k.0, k.1, u)))
                .collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = db::write_last_usage(pool, &batch).await {
            let mut state = self.lock();
            state
                .dirty
                .extend(batch.into_iter().map(|(scope, id, _)| (scope, id)));
            return Err(e);
        }
        Ok(())
    }
}
