//! Keys and aliases: an in-memory cache in front of SQLite.
//!
//! Reads (every cryptographic operation) touch only the cache, behind a short read lock.
//! Writes go through a [`Txn`]: one writer at a time, each change committed to SQLite
//! before the cache is updated and the request acknowledged.

mod db;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use sqlx::SqlitePool;
use tokio::sync::{Mutex, MutexGuard};

use crate::BoxError;
use crate::clock::{Clock, Timestamp};
use crate::error::{KmsError, Result};
use crate::model::{Key, Scope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// With its `alias/` prefix.
    pub name: String,
    pub target_key_id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What one account in one region holds, sorted for stable paging.
#[derive(Debug, Default)]
pub struct Partition {
    pub keys: BTreeMap<String, Arc<Key>>,
    pub aliases: BTreeMap<String, Alias>,
}

impl Partition {
    /// An alias lives as long as its target key: deleting the key takes its aliases.
    fn is_live(&self, alias: &Alias, now: Timestamp) -> bool {
        self.keys
            .get(&alias.target_key_id)
            .is_some_and(|k| !k.is_deleted(now))
    }
}

/// One account and region's keys and aliases at one moment.
#[derive(Debug)]
pub struct Snapshot {
    pub scope: Scope,
    pub keys: Vec<Arc<Key>>,
    pub aliases: Vec<Alias>,
}

/// Up to `limit` items, and the marker (sort key) of the one after them.
fn page<'a, T: Clone + 'a>(
    mut items: impl Iterator<Item = &'a T>,
    limit: usize,
    marker: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let page: Vec<T> = items.by_ref().take(limit).cloned().collect();
    (page, items.next().map(marker))
}

pub struct Store {
    db: SqlitePool,
    clock: Arc<Clock>,
    cache: RwLock<HashMap<Scope, Partition>>,
    writer: Mutex<()>,
}

impl Store {
    /// Opens the database (`None`: in memory only) and loads it into the cache.
    pub async fn open(data_dir: Option<&Path>, clock: Arc<Clock>) -> Result<Self, BoxError> {
        let db = db::open(data_dir).await?;
        let (keys, aliases) = db::load(&db).await?;
        let mut cache: HashMap<Scope, Partition> = HashMap::new();
        for key in keys {
            let partition = cache.entry(key.scope.clone()).or_default();
            partition.keys.insert(key.id.clone(), Arc::new(key));
        }
        for (scope, alias) in aliases {
            let partition = cache.entry(scope).or_default();
            partition.aliases.insert(alias.name.clone(), alias);
        }
        Ok(Self {
            db,
            clock,
            cache: RwLock::new(cache),
            writer: Mutex::new(()),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<Scope, Partition>> {
        // A panic while holding the lock cannot leave the map half-written: every
        // mutation is a single insert or remove. So a poisoned lock is still sound.
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A live key (one whose deletion date has not passed).
    pub fn key(&self, scope: &Scope, id: &str) -> Option<Arc<Key>> {
        let now = self.clock.now();
        self.read()
            .get(scope)?
            .keys
            .get(id)
            .filter(|k| !k.is_deleted(now))
            .cloned()
    }

    /// A live alias: one whose target key still exists.
    pub fn alias(&self, scope: &Scope, name: &str) -> Option<Alias> {
        let now = self.clock.now();
        let cache = self.read();
        let partition = cache.get(scope)?;
        partition
            .aliases
            .get(name)
            .filter(|a| partition.is_live(a, now))
            .cloned()
    }

    /// Live keys with id `>= from`, in id order, at most `limit`, and the id that follows.
    pub fn keys_from(
        &self,
        scope: &Scope,
        from: &str,
        limit: usize,
    ) -> (Vec<Arc<Key>>, Option<String>) {
        let now = self.clock.now();
        let cache = self.read();
        let Some(partition) = cache.get(scope) else {
            return (Vec::new(), None);
        };
        let live = partition
            .keys
            .range(from.to_owned()..)
            .map(|(_, k)| k)
            .filter(|k| !k.is_deleted(now));
        page(live, limit, |k| k.id.clone())
    }

    /// Live aliases with name `>= from`, optionally only those of one key, at most
    /// `limit`, and the name that follows.
    pub fn aliases_from(
        &self,
        scope: &Scope,
        from: &str,
        target: Option<&str>,
        limit: usize,
    ) -> (Vec<Alias>, Option<String>) {
        let now = self.clock.now();
        let cache = self.read();
        let Some(partition) = cache.get(scope) else {
            return (Vec::new(), None);
        };
        let live = partition
            .aliases
            .range(from.to_owned()..)
            .map(|(_, a)| a)
            .filter(|a| target.is_none_or(|t| a.target_key_id == t))
            .filter(|a| partition.is_live(a, now));
        page(live, limit, |a| a.name.clone())
    }

    /// Starts a write: waits for the single writer slot, then removes keys whose
    /// deletion date has passed so the change sees the world as it is now.
    pub async fn begin(&self) -> Result<Txn<'_>> {
        let guard = self.writer.lock().await;
        let txn = Txn {
            store: self,
            _guard: guard,
        };
        txn.purge_deleted().await?;
        Ok(txn)
    }

    /// Every live key and alias of every account and region, for the seed export.
    pub fn snapshot(&self) -> Vec<Snapshot> {
        let now = self.clock.now();
        let cache = self.read();
        let mut all: Vec<_> = cache
            .iter()
            .map(|(scope, p)| {
                let keys = p
                    .keys
                    .values()
                    .filter(|k| !k.is_deleted(now))
                    .cloned()
                    .collect();
                let aliases = p
                    .aliases
                    .values()
                    .filter(|a| p.is_live(a, now))
                    .cloned()
                    .collect();
                Snapshot {
                    scope: scope.clone(),
                    keys,
                    aliases,
                }
            })
            .collect();
        all.sort_by(|a, b| a.scope.cmp(&b.scope));
        all
    }

    /// Deletes everything, for test isolation: committed, then the cache emptied.
    pub async fn reset(&self) -> Result<()> {
        let _writer = self.writer.lock().await;
        db::wipe(&self.db).await.map_err(KmsError::internal)?;
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    /// Deletes keys whose deletion date has passed (called by the background sweeper).
    pub async fn sweep(&self) -> Result<()> {
        self.begin().await.map(drop)
    }
}

/// The single writer. Reads through it see the cache; every `save_*` / `delete_*`
/// commits to SQLite first and then updates the cache.
pub struct Txn<'a> {
    store: &'a Store,
    _guard: MutexGuard<'a, ()>,
}

impl Txn<'_> {
    pub fn key(&self, scope: &Scope, id: &str) -> Option<Arc<Key>> {
        self.store.key(scope, id)
    }

    pub fn alias(&self, scope: &Scope, name: &str) -> Option<Alias> {
        self.store.alias(scope, name)
    }

    fn write_cache(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Scope, Partition>> {
        self.store.cache.write().unwrap_or_else(|e| e.into_inner())
    }

    pub async fn save_key(&mut self, key: Key) -> Result<Arc<Key>> {
        db::save_key(&self.store.db, &key)
            .await
            .map_err(KmsError::internal)?;
        let key = Arc::new(key);
        self.write_cache()
            .entry(key.scope.clone())
            .or_default()
            .keys
            .insert(key.id.clone(), key.clone());
        Ok(key)
    }

    pub async fn save_alias(&mut self, scope: &Scope, alias: Alias) -> Result<()> {
        db::save_alias(&self.store.db, scope, &alias)
            .await
            .map_err(KmsError::internal)?;
        self.write_cache()
            .entry(scope.clone())
            .or_default()
            .aliases
            .insert(alias.name.clone(), alias);
        Ok(())
    }

    pub async fn delete_alias(&mut self, scope: &Scope, name: &str) -> Result<()> {
        db::delete_alias(&self.store.db, scope, name)
            .await
            .map_err(KmsError::internal)?;
        if let Some(partition) = self.write_cache().get_mut(scope) {
            partition.aliases.remove(name);
        }
        Ok(())
    }

    async fn purge_deleted(&self) -> Result<()> {
        let now = self.store.clock.now();
        let expired: Vec<(Scope, String)> = self
            .store
            .read()
            .iter()
            .flat_map(|(scope, p)| {
                p.keys
                    .values()
                    .filter(|k| k.is_deleted(now))
                    .map(|k| (scope.clone(), k.id.clone()))
            })
            .collect();
        if expired.is_empty() {
            return Ok(());
        }
        db::delete_keys(&self.store.db, &expired)
            .await
            .map_err(KmsError::internal)?;
        let mut cache = self.write_cache();
        for (scope, id) in &expired {
            if let Some(p) = cache.get_mut(scope) {
                p.keys.remove(id);
                p.aliases.retain(|_, a| &a.target_key_id != id);
            }
        }
        tracing::info!(
            count = expired.len(),
            "deleted keys whose deletion date passed"
        );
        Ok(())
    }
}

impl Store {
    /// Closes the database once the server has stopped. A request runs to completion
    /// even if its client went away, so writes still queued for the writer finish first.
    pub async fn close(&self) {
        let _writer = self.writer.lock().await;
        self.db.close().await;
    }
}
