//! When each key was last used for a successful cryptographic operation
//! (GetKeyLastUsage). Recorded in memory on the request path, without waiting on disk,
//! and written to SQLite in batches by the background sweeper and at shutdown: a crash
//! loses at most the last few seconds of usage, never a key.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::SqlitePool;

use super::{Fast, db};
use crate::clock::Timestamp;
use crate::model::Scope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The operation's name, one of AWS's KeyLastUsageTrackingOperation values.
    pub operation: &'static str,
    pub at: Timestamp,
    pub request_id: uuid::Uuid,
    /// Random (trent has no CloudTrail, but the id is unique per use).
    pub event_id: uuid::Uuid,
}

#[derive(Debug)]
struct Entry {
    usage: Usage,
    /// Recorded since the last flush.
    dirty: bool,
}

/// By scope, then key id: a use of a key seen before allocates nothing. Every
/// cryptographic operation records here, so it hashes as the store's partitions do.
type Map = HashMap<Scope, HashMap<String, Entry, Fast>, Fast>;

#[derive(Debug, Default)]
pub struct LastUsage {
    map: Mutex<Map>,
}

impl LastUsage {
    pub fn new(loaded: Vec<(Scope, String, Usage)>) -> Self {
        let mut map = Map::default();
        for (scope, id, usage) in loaded {
            let entry = Entry {
                usage,
                dirty: false,
            };
            map.entry(scope).or_default().insert(id, entry);
        }
        Self {
            map: Mutex::new(map),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        // Each change is one insert, update or remove: a poisoned lock is still sound.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, scope: &Scope, key_id: &str, usage: Usage) {
        let mut map = self.lock();
        let keys = match map.get_mut(scope) {
            Some(keys) => keys,
            None => map.entry(scope.clone()).or_default(),
        };
        match keys.get_mut(key_id) {
            Some(entry) => {
                entry.usage = usage;
                entry.dirty = true;
            }
            None => {
                keys.insert(key_id.to_owned(), Entry { usage, dirty: true });
            }
        }
    }

    pub fn get(&self, scope: &Scope, key_id: &str) -> Option<Usage> {
        Some(self.lock().get(scope)?.get(key_id)?.usage.clone())
    }

    /// A deleted key's usage goes with it.
    pub fn forget(&self, scope: &Scope, key_id: &str) {
        if let Some(keys) = self.lock().get_mut(scope) {
            keys.remove(key_id);
        }
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Writes what was recorded since the last flush, in one transaction; on failure it
    /// is written next time.
    pub async fn flush(&self, pool: &SqlitePool) -> Result<(), sqlx::Error> {
        let batch: Vec<(Scope, String, Usage)> = {
            let mut map = self.lock();
            let mut batch = Vec::new();
            for (scope, keys) in map.iter_mut() {
                for (id, entry) in keys.iter_mut().filter(|(_, e)| e.dirty) {
                    entry.dirty = false;
                    batch.push((scope.clone(), id.clone(), entry.usage.clone()));
                }
            }
            batch
        };
        if batch.is_empty() {
            return Ok(());
        }
        let written = db::write_last_usage(pool, &batch).await;
        if written.is_err() {
            let mut map = self.lock();
            for (scope, id, usage) in &batch {
                if let Some(entry) = map.get_mut(scope).and_then(|k| k.get_mut(id)) {
                    // Unless a newer use replaced it meanwhile, it is still to be written.
                    entry.dirty |= entry.usage == *usage;
                }
            }
        }
        written
    }
}
