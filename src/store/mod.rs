//! Keys, aliases, grants, custom key stores and import parameters: an in-memory cache in
//! front of SQLite.
//!
//! Reads (every cryptographic operation) touch only the cache, behind a short read lock.
//! Writes go through a [`Txn`]: one writer at a time, each change committed to SQLite
//! before the cache is updated and the request acknowledged.
//!
//! The store also keeps the one schedule of timed events (deletions, automatic rotations,
//! expiring imported material and import tokens, keys and custom key stores settling),
//! ordered by due date and derived from what is stored: every commit updates it, start-up
//! rebuilds it, and each write first applies whatever has fallen due ([`Txn`] sees the
//! world as it is now).

mod bulk;
mod db;
mod jsonb;
pub mod last_usage;
mod record;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use sqlx::SqlitePool;
use tokio::sync::{Mutex, MutexGuard};

use crate::BoxError;
use crate::clock::{Clock, Timestamp};
use crate::error::{KmsError, Result};
use crate::model::custom_key_store::CustomKeyStore;
use crate::model::grant::Grant;
use crate::model::import_token::ImportToken;
use crate::model::multi_region;
use crate::model::timed::{self, Event, Outcome};
use crate::model::{Key, Scope};
use last_usage::{LastUsage, Usage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// With its `alias/` prefix.
    pub name: String,
    pub target_key_id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The hasher of the maps every request looks up (the partitions, last usage): foldhash
/// hashes a scope in a few nanoseconds, where SipHash takes ten times as long.
type Fast = foldhash::fast::RandomState;

/// Every account and region's partition.
type Partitions = HashMap<Scope, Partition, Fast>;

/// What one account in one region holds, sorted for stable paging.
#[derive(Debug, Default)]
pub struct Partition {
    pub keys: BTreeMap<String, Arc<Key>>,
    pub aliases: BTreeMap<String, Alias>,
    /// By key id, then grant id: a key's grants are one range.
    pub grants: BTreeMap<(String, String), Arc<Grant>>,
    pub stores: BTreeMap<String, Arc<CustomKeyStore>>,
    /// The keys each custom key store holds, by store id.
    pub store_keys: HashMap<String, StoreKeys>,
}

/// The keys of one custom key store, including keys pending deletion: how many (a store
/// with keys can't be deleted) and the external key ids they use (one key each).
#[derive(Debug, Default)]
pub struct StoreKeys {
    count: usize,
    xks_key_ids: HashSet<String>,
}

impl Partition {
    /// Keeps each custom key store's keys up to date as `old` becomes `new`.
    fn track_store_keys(&mut self, old: Option<&Key>, new: Option<&Key>) {
        if let Some(old) = old.and_then(|k| k.custom_key_store.as_deref())
            && let Some(keys) = self.store_keys.get_mut(&old.store_id)
        {
            keys.count = keys.count.saturating_sub(1);
            if let Some(xks) = &old.xks_key_id {
                keys.xks_key_ids.remove(xks);
            }
        }
        if let Some(new) = new.and_then(|k| k.custom_key_store.as_deref()) {
            let keys = self.store_keys.entry(new.store_id.clone()).or_default();
            keys.count += 1;
            keys.xks_key_ids.extend(new.xks_key_id.clone());
        }
    }
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
fn page<'a, T: Clone + 'a, M>(
    mut items: impl Iterator<Item = &'a T>,
    limit: usize,
    marker: impl Fn(&T) -> M,
) -> (Vec<T>, Option<M>) {
    let page: Vec<T> = items.by_ref().take(limit).cloned().collect();
    (page, items.next().map(marker))
}

pub struct Store {
    db: SqlitePool,
    clock: Arc<Clock>,
    cache: RwLock<Partitions>,
    /// Import parameters by token id; used only under the writer.
    tokens: std::sync::Mutex<HashMap<[u8; 32], Arc<ImportToken>>>,
    writer: Mutex<()>,
    /// Every timed event by due date, so a write handles only what is due instead of
    /// scanning every key (which made bulk writes quadratic).
    schedule: std::sync::Mutex<BTreeSet<(Timestamp, Due)>>,
    last_usage: LastUsage,
    /// When this database began tracking key usage.
    tracking_start: Timestamp,
    /// Keys the ids of imported material, so that an id reveals nothing of the bytes.
    material_id_key: [u8; 32],
    /// Every distinct policy document the keys hold (see `share_policy`).
    policies: std::sync::Mutex<HashSet<Arc<str>>>,
}

/// The one allocation of `text` in `shared`, added if it is new.
fn share(shared: &mut HashSet<Arc<str>>, text: &str) -> Arc<str> {
    match shared.get(text) {
        Some(one) => Arc::clone(one),
        None => {
            let one: Arc<str> = Arc::from(text);
            shared.insert(Arc::clone(&one));
            one
        }
    }
}

/// One entry of the schedule: an event of a key, the expiry of an import token, or a
/// custom key store's connection settling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Key(Scope, String, Event),
    Token([u8; 32]),
    Store(Scope, String),
}

/// A key on its way into its partition's map: the first 16 bytes of its id (see
/// [`id_prefix`]), its id (the map's key) and the key.
type Loading = (u128, String, Arc<Key>);

/// Where `scope` is in `scopes`, looked for from the end.
fn latest<T>(scopes: &[(Scope, T)], scope: &Scope) -> Option<usize> {
    scopes.iter().rposition(|(s, _)| s == scope)
}

/// An id's first 16 bytes as one number: sorting compares these before whole ids.
fn id_prefix(id: &str) -> u128 {
    let mut prefix = [0; 16];
    let n = id.len().min(16);
    prefix[..n].copy_from_slice(&id.as_bytes()[..n]);
    u128::from_be_bytes(prefix)
}

fn key_events(key: &Key) -> impl Iterator<Item = (Timestamp, Due)> + '_ {
    timed::due_dates(key)
        .map(|(at, event)| (at, Due::Key(key.scope.clone(), key.id.clone(), event)))
}

fn token_event(token: &ImportToken) -> (Timestamp, Due) {
    (token.expires_at, Due::Token(token.id))
}

fn store_event(store: &CustomKeyStore) -> Option<(Timestamp, Due)> {
    store
        .settles
        .map(|(at, _)| (at, Due::Store(store.scope.clone(), store.id.clone())))
}

impl Store {
    /// Opens the database (`None`: in memory only) and loads it into the cache.
    pub async fn open(data_dir: Option<&Path>, clock: Arc<Clock>) -> Result<Self, BoxError> {
        let started = std::time::Instant::now();
        let db = db::open(data_dir).await?;
        let db::Loaded {
            keys,
            aliases,
            policies,
        } = db::load(&db).await?;
        let tokens = db::load_tokens(&db).await?;
        let grants = db::load_grants(&db).await?;
        let stores = db::load_stores(&db).await?;
        let last_usage = LastUsage::new(db::load_last_usage(&db).await?);
        let tracking_start = db::tracking_start(&db, clock.now()).await?;
        let material_id_key = db::material_id_key(&db).await?;
        let mut cache = Partitions::default();
        for store in stores {
            store.publish();
            let partition = cache.entry(store.scope.clone()).or_default();
            partition.stores.insert(store.id.clone(), Arc::new(store));
        }
        let mut schedule: BTreeSet<(Timestamp, Due)> = BTreeSet::new();
        // One pass in the rows' order (the keys' order in memory), then each scope's keys
        // sorted by id so that its map is built in one pass rather than by a search per key.
        // Rows come in runs of one scope: the latest scope is tried first. Each scope's run
        // is counted first, so that it is allocated once at its size (a vector grown by
        // doubling leaves its earlier buffers in the heap).
        let mut sizes: Vec<(Scope, usize)> = Vec::new();
        for key in &keys {
            match latest(&sizes, &key.scope) {
                Some(at) => sizes[at].1 += 1,
                None => sizes.push((key.scope.clone(), 1)),
            }
        }
        let mut runs: Vec<(Scope, Vec<Loading>)> = sizes
            .into_iter()
            .map(|(scope, size)| (scope, Vec::with_capacity(size)))
            .collect();
        for mut key in keys {
            schedule.extend(key_events(&key));
            if key.custom_key_store.is_some() {
                let partition = cache.entry(key.scope.clone()).or_default();
                // A key in a custom key store follows its store's connection.
                if let Some(link) = Arc::get_mut(&mut key).and_then(|k| k.custom_key_store.as_mut())
                    && let Some(store) = partition.stores.get(&link.store_id)
                {
                    link.shared = store.shared.clone();
                }
                partition.track_store_keys(None, Some(&key));
            }
            let run = latest(&runs, &key.scope).ok_or("a key's scope was not counted")?;
            runs[run].1.push((id_prefix(&key.id), key.id.clone(), key));
        }
        for (scope, mut run) in runs {
            run.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            cache.entry(scope).or_default().keys =
                BTreeMap::from_iter(run.into_iter().map(|(_, id, key)| (id, key)));
        }
        for (scope, alias) in aliases {
            let partition = cache.entry(scope).or_default();
            partition.aliases.insert(alias.name.clone(), alias);
        }
        for grant in grants {
            let partition = cache.entry(grant.scope.clone()).or_default();
            let at = (grant.key_id.clone(), grant.id.clone());
            partition.grants.insert(at, Arc::new(grant));
        }
        schedule.extend(tokens.iter().map(token_event));
        schedule.extend(
            cache
                .values()
                .flat_map(|p| p.stores.values())
                .filter_map(|s| store_event(s)),
        );
        let tokens = tokens.into_iter().map(|t| (t.id, Arc::new(t))).collect();
        let keys: usize = cache.values().map(|p| p.keys.len()).sum();
        tracing::info!(keys, elapsed = ?started.elapsed(), "loaded the store");
        Ok(Self {
            db,
            clock,
            cache: RwLock::new(cache),
            tokens: std::sync::Mutex::new(tokens),
            writer: Mutex::new(()),
            schedule: std::sync::Mutex::new(schedule),
            last_usage,
            tracking_start,
            material_id_key,
            policies: std::sync::Mutex::new(policies),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Partitions> {
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

    /// The latest version of a key: staged in `pending`, else as stored.
    /// `None` if staged for deletion or not stored.
    fn latest(&self, pending: &[Change], scope: &Scope, id: &str) -> Option<Arc<Key>> {
        let staged = pending.iter().rev().find_map(|c| match c {
            Change::Key(k) if k.scope == *scope && k.id == id => Some(Some(k.clone())),
            Change::DeleteKey(s, i) if s == scope && i == id => Some(None),
            _ => None,
        });
        staged.unwrap_or_else(|| self.key_any(scope, id))
    }

    /// Stages `key`; for multi-Region keys, with what the set shares taken from the
    /// primary (a replica staged) or given to the replicas (a primary staged).
    fn stage_key(&self, pending: &mut Vec<Change>, mut key: Key) -> Arc<Key> {
        key.policy = self.share_policy(&key.policy);
        let account = key.scope.account.clone();
        let member = |region: &str| Scope::new(account.clone(), region);
        let key = match &key.multi_region {
            Some(set) if key.is_replica() => {
                match self.latest(pending, &member(&set.primary), &key.id) {
                    Some(primary) => multi_region::share(&primary, &key),
                    None => key,
                }
            }
            _ => key,
        };
        let key = Arc::new(key);
        pending.push(Change::Key(key.clone()));
        for region in key.replica_regions() {
            if let Some(replica) = self.latest(pending, &member(region), &key.id) {
                pending.push(Change::Key(Arc::new(multi_region::share(&key, &replica))));
            }
        }
        key
    }

    /// The one allocation of this policy document that every key with it shares (most
    /// keys keep their account's default policy).
    fn share_policy(&self, policy: &Arc<str>) -> Arc<str> {
        share(
            &mut self.policies.lock().unwrap_or_else(|e| e.into_inner()),
            policy,
        )
    }

    /// Stages the deletion of `key` at `at`; a deleted replica leaves its set.
    fn stage_deletion(&self, pending: &mut Vec<Change>, key: &Key, at: Timestamp) {
        pending.push(Change::DeleteKey(key.scope.clone(), key.id.clone()));
        let Some(set) = key.multi_region.as_ref().filter(|_| key.is_replica()) else {
            return;
        };
        let primary = Scope::new(key.scope.account.clone(), set.primary.as_str());
        if let Some(primary) = self.latest(pending, &primary, &key.id) {
            // The primary's window starts when the replica was deleted, even if the
            // sweep comes later.
            let deleted_at = key.deletion_date.unwrap_or(at);
            self.stage_key(
                pending,
                multi_region::drop_replica(&primary, &key.scope.region, deleted_at),
            );
        }
    }

    /// Import parameters by token id, unless they expired and were removed.
    pub fn token(&self, id: &[u8; 32]) -> Option<Arc<ImportToken>> {
        self.tokens().get(id).cloned()
    }

    /// A key as stored, even past its deletion date (for the schedule).
    fn key_any(&self, scope: &Scope, id: &str) -> Option<Arc<Key>> {
        self.read().get(scope)?.keys.get(id).cloned()
    }

    pub fn custom_key_store(&self, scope: &Scope, id: &str) -> Option<Arc<CustomKeyStore>> {
        self.read().get(scope)?.stores.get(id).cloned()
    }

    /// Every custom key store of the account in the Region, in id order.
    pub fn custom_key_stores(&self, scope: &Scope) -> Vec<Arc<CustomKeyStore>> {
        self.read()
            .get(scope)
            .map(|p| p.stores.values().cloned().collect())
            .unwrap_or_default()
    }

    /// How many keys a custom key store holds, including keys pending deletion.
    pub fn keys_in_store(&self, scope: &Scope, id: &str) -> usize {
        self.read()
            .get(scope)
            .and_then(|p| p.store_keys.get(id))
            .map_or(0, |keys| keys.count)
    }

    /// Whether a key of the custom key store (even one pending deletion) uses the
    /// external key `xks_key_id`.
    pub fn xks_key_in_use(&self, scope: &Scope, store_id: &str, xks_key_id: &str) -> bool {
        self.read()
            .get(scope)
            .and_then(|p| p.store_keys.get(store_id))
            .is_some_and(|keys| keys.xks_key_ids.contains(xks_key_id))
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

    /// A grant of a live key.
    pub fn grant(&self, scope: &Scope, key_id: &str, grant_id: &str) -> Option<Arc<Grant>> {
        self.key(scope, key_id)?;
        self.read()
            .get(scope)?
            .grants
            .get(&(key_id.to_owned(), grant_id.to_owned()))
            .cloned()
    }

    /// The grants of one key with grant id `>= from` that pass `filter`, at most `limit`,
    /// and the grant id that follows.
    pub fn grants_of(
        &self,
        scope: &Scope,
        key_id: &str,
        from: &str,
        limit: usize,
        filter: impl Fn(&Grant) -> bool,
    ) -> (Vec<Arc<Grant>>, Option<String>) {
        let cache = self.read();
        let Some(partition) = cache.get(scope) else {
            return (Vec::new(), None);
        };
        let grants = partition
            .grants
            .range((key_id.to_owned(), from.to_owned())..)
            .take_while(|((k, _), _)| k == key_id)
            .map(|(_, g)| g)
            .filter(|g| filter(g));
        page(grants, limit, |g| g.id.clone())
    }

    /// The grants of live keys in `scope` that pass `filter`, in (key id, grant id) order
    /// from `from`, at most `limit`, and the position that follows.
    pub fn grants_where(
        &self,
        scope: &Scope,
        from: &(String, String),
        limit: usize,
        filter: impl Fn(&Grant) -> bool,
    ) -> (Vec<Arc<Grant>>, Option<(String, String)>) {
        let now = self.clock.now();
        let cache = self.read();
        let Some(partition) = cache.get(scope) else {
            return (Vec::new(), None);
        };
        let grants = partition
            .grants
            .range(from.clone()..)
            .map(|(_, g)| g)
            .filter(|g| {
                partition
                    .keys
                    .get(&g.key_id)
                    .is_some_and(|k| !k.is_deleted(now))
            })
            .filter(|g| filter(g));
        page(grants, limit, |g| (g.key_id.clone(), g.id.clone()))
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

    /// Starts a write: waits for the single writer slot, then applies every timed event
    /// that has fallen due, so the change sees the world as it is now.
    pub async fn begin(&self) -> Result<Txn<'_>> {
        let guard = self.writer.lock().await;
        let txn = Txn {
            store: self,
            _guard: guard,
            pending: Vec::new(),
        };
        txn.run_due().await?;
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
        self.schedule().clear();
        self.tokens().clear();
        self.last_usage.clear();
        Ok(())
    }

    /// Records a successful cryptographic operation with a key; in memory only, written
    /// with the next flush.
    pub fn record_use(&self, scope: &Scope, key_id: &str, usage: Usage) {
        self.last_usage.record(scope, key_id, usage);
    }

    /// The database's key for imported material ids.
    pub fn material_id_key(&self) -> &[u8; 32] {
        &self.material_id_key
    }

    /// The last use of a key, and when tracking began.
    pub fn last_use(&self, scope: &Scope, key_id: &str) -> (Option<Usage>, Timestamp) {
        (self.last_usage.get(scope, key_id), self.tracking_start)
    }

    fn schedule(&self) -> std::sync::MutexGuard<'_, BTreeSet<(Timestamp, Due)>> {
        // Every change to the set is a single insert or remove: a poisoned lock is sound.
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<ImportToken>>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the earliest timed event falls due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.schedule().first().map(|(at, _)| *at)
    }

    /// Applies the timed events that are due (called by the background sweeper and
    /// after the clock control moves time).
    pub async fn sweep(&self) -> Result<()> {
        self.begin().await?.commit().await?;
        // Policies no key holds any more.
        self.policies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|policy| Arc::strong_count(policy) > 1);
        self.last_usage
            .flush(&self.db)
            .await
            .map_err(KmsError::internal)
    }
}

/// One change a write stages, for [`Txn::commit`].
#[derive(Debug)]
pub enum Change {
    Key(Arc<Key>),
    /// Deleted for good, with its aliases and import tokens.
    DeleteKey(Scope, String),
    Alias(Scope, Alias),
    DeleteAlias(Scope, String),
    Token(Arc<ImportToken>),
    DeleteToken([u8; 32]),
    Grant(Arc<Grant>),
    /// Scope, key id, grant id.
    DeleteGrant(Scope, String, String),
    CustomKeyStore(Arc<CustomKeyStore>),
    DeleteCustomKeyStore(Scope, String),
}

/// The single writer. A request stages its changes (`save_*`, `delete_*`) and commits
/// them once: all rows in one SQLite transaction, then the cache. A crash, a failed
/// commit, or a request that never commits leaves both as they were.
#[must_use = "a write is lost unless committed"]
pub struct Txn<'a> {
    store: &'a Store,
    _guard: MutexGuard<'a, ()>,
    pending: Vec<Change>,
}

impl Txn<'_> {
    /// A key as the cache has it (staged changes are not visible before the commit).
    pub fn key(&self, scope: &Scope, id: &str) -> Option<Arc<Key>> {
        self.store.key(scope, id)
    }

    pub fn alias(&self, scope: &Scope, name: &str) -> Option<Alias> {
        self.store.alias(scope, name)
    }

    fn write_cache(&self) -> std::sync::RwLockWriteGuard<'_, Partitions> {
        self.store.cache.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Stages a key, written whole (with a multi-Region key's set kept in step); the key
    /// as it will be once committed.
    pub fn save_key(&mut self, key: Key) -> Arc<Key> {
        self.store.stage_key(&mut self.pending, key)
    }

    pub fn save_alias(&mut self, scope: &Scope, alias: Alias) {
        self.pending.push(Change::Alias(scope.clone(), alias));
    }

    pub fn delete_alias(&mut self, scope: &Scope, name: &str) {
        self.pending
            .push(Change::DeleteAlias(scope.clone(), name.to_owned()));
    }

    pub fn save_token(&mut self, token: ImportToken) {
        self.pending.push(Change::Token(Arc::new(token)));
    }

    pub fn save_grant(&mut self, grant: Grant) {
        self.pending.push(Change::Grant(Arc::new(grant)));
    }

    pub fn save_custom_key_store(&mut self, store: CustomKeyStore) {
        self.pending.push(Change::CustomKeyStore(Arc::new(store)));
    }

    pub fn delete_custom_key_store(&mut self, store: &CustomKeyStore) {
        self.pending.push(Change::DeleteCustomKeyStore(
            store.scope.clone(),
            store.id.clone(),
        ));
    }

    pub fn delete_grant(&mut self, grant: &Grant) {
        self.pending.push(Change::DeleteGrant(
            grant.scope.clone(),
            grant.key_id.clone(),
            grant.id.clone(),
        ));
    }

    /// Writes every staged change in one transaction, then updates the cache.
    pub async fn commit(mut self) -> Result<()> {
        let changes = std::mem::take(&mut self.pending);
        self.apply(changes).await
    }

    async fn apply(&self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        db::apply(&self.store.db, &changes)
            .await
            .map_err(KmsError::internal)?;
        let mut cache = self.write_cache();
        let mut schedule = self.store.schedule();
        let mut tokens = self.store.tokens();
        for change in changes {
            match change {
                Change::Key(key) => {
                    let partition = cache.entry(key.scope.clone()).or_default();
                    let old = partition.keys.insert(key.id.clone(), key.clone());
                    for due in old.iter().flat_map(|k| key_events(k)) {
                        schedule.remove(&due);
                    }
                    schedule.extend(key_events(&key));
                    partition.track_store_keys(old.as_deref(), Some(&key));
                }
                Change::DeleteKey(scope, id) => {
                    if let Some(p) = cache.get_mut(&scope) {
                        if let Some(old) = p.keys.remove(&id) {
                            for due in key_events(&old) {
                                schedule.remove(&due);
                            }
                            p.track_store_keys(Some(&old), None);
                        }
                        self.store.last_usage.forget(&scope, &id);
                        p.aliases.retain(|_, a| a.target_key_id != id);
                        let grants: Vec<_> = p
                            .grants
                            .range((id.clone(), String::new())..)
                            .take_while(|((k, _), _)| *k == id)
                            .map(|(at, _)| at.clone())
                            .collect();
                        for at in grants {
                            p.grants.remove(&at);
                        }
                    }
                    tokens.retain(|_, t| {
                        let theirs = t.scope == scope && t.key_id == id;
                        if theirs {
                            schedule.remove(&token_event(t));
                        }
                        !theirs
                    });
                }
                Change::Alias(scope, alias) => {
                    cache
                        .entry(scope)
                        .or_default()
                        .aliases
                        .insert(alias.name.clone(), alias);
                }
                Change::DeleteAlias(scope, name) => {
                    if let Some(partition) = cache.get_mut(&scope) {
                        partition.aliases.remove(&name);
                    }
                }
                Change::Token(token) => {
                    schedule.insert(token_event(&token));
                    tokens.insert(token.id, token);
                }
                Change::DeleteToken(id) => {
                    if let Some(token) = tokens.remove(&id) {
                        schedule.remove(&token_event(&token));
                    }
                }
                Change::Grant(grant) => {
                    let at = (grant.key_id.clone(), grant.id.clone());
                    cache
                        .entry(grant.scope.clone())
                        .or_default()
                        .grants
                        .insert(at, grant);
                }
                Change::DeleteGrant(scope, key_id, grant_id) => {
                    if let Some(p) = cache.get_mut(&scope) {
                        p.grants.remove(&(key_id, grant_id));
                    }
                }
                Change::CustomKeyStore(store) => {
                    let partition = cache.entry(store.scope.clone()).or_default();
                    let old = partition.stores.insert(store.id.clone(), store.clone());
                    if let Some(due) = old.as_deref().and_then(store_event) {
                        schedule.remove(&due);
                    }
                    schedule.extend(store_event(&store));
                    store.publish();
                }
                Change::DeleteCustomKeyStore(scope, id) => {
                    if let Some(p) = cache.get_mut(&scope) {
                        if let Some(due) = p.stores.remove(&id).as_deref().and_then(store_event) {
                            schedule.remove(&due);
                        }
                        p.store_keys.remove(&id);
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies every event due by now, all in one transaction: the deletions, rotations
    /// and expiries of the keys at the front of the schedule, and expired import tokens.
    /// The cost follows the events due, not the keys stored.
    async fn run_due(&self) -> Result<()> {
        let now = self.store.clock.now();
        let due: Vec<Due> = self
            .store
            .schedule()
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, due)| due.clone())
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let mut changes = Vec::new();
        let mut seen = HashSet::new();
        for entry in due {
            match entry {
                Due::Key(scope, id, _) => {
                    if !seen.insert((scope.clone(), id.clone())) {
                        continue;
                    }
                    // As changed by the events applied before it in this batch.
                    let Some(key) = self.store.latest(&changes, &scope, &id) else {
                        continue;
                    };
                    match timed::catch_up(&key, now) {
                        Outcome::Unchanged => {}
                        Outcome::Changed(key) => {
                            self.store.stage_key(&mut changes, *key);
                        }
                        Outcome::Deleted => {
                            self.store.stage_deletion(&mut changes, &key, now);
                        }
                    }
                }
                Due::Token(id) => changes.push(Change::DeleteToken(id)),
                Due::Store(scope, id) => {
                    if let Some(store) = self.store.custom_key_store(&scope, &id) {
                        let mut store = (*store).clone();
                        if let Some((_, state)) = store.settles.take() {
                            store.state = state;
                        }
                        changes.push(Change::CustomKeyStore(Arc::new(store)));
                    }
                }
            }
        }
        let deleted = changes
            .iter()
            .filter(|c| matches!(c, Change::DeleteKey(..)))
            .count();
        self.apply(changes).await?;
        if deleted > 0 {
            tracing::info!(count = deleted, "deleted keys whose deletion date passed");
        }
        Ok(())
    }
}

impl Store {
    /// Closes the database once the server has stopped. A request runs to completion
    /// even if its client went away, so writes still queued for the writer finish first.
    pub async fn close(&self) {
        let _writer = self.writer.lock().await;
        if let Err(e) = self.last_usage.flush(&self.db).await {
            tracing::warn!(error = %e, "could not write the last usage of keys");
        }
        self.db.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(scope: &Scope, id: &str) -> Key {
        Key::for_test(scope, id, crate::model::KeyState::Enabled)
    }

    fn alias(name: &str, target: &str) -> Alias {
        Alias {
            name: name.to_owned(),
            target_key_id: target.to_owned(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[tokio::test]
    async fn a_write_commits_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("trent-store-{}", uuid::Uuid::new_v4()));
        let scope = Scope::new("111122223333", "us-east-1");
        let store = Store::open(Some(&dir), Arc::default()).await.unwrap();
        // The second change breaks a constraint (an alias of a key that does not exist):
        // the first must not be written either, nor appear in the cache.
        let mut txn = store.begin().await.unwrap();
        txn.save_key(key(&scope, "k1"));
        txn.save_alias(&scope, alias("alias/dangling", "missing"));
        assert!(txn.commit().await.is_err());
        assert!(store.key(&scope, "k1").is_none());
        // Staged but never committed: nothing.
        let mut txn = store.begin().await.unwrap();
        txn.save_key(key(&scope, "k2"));
        drop(txn);
        // A whole write: both.
        let mut txn = store.begin().await.unwrap();
        txn.save_key(key(&scope, "k3"));
        txn.save_alias(&scope, alias("alias/k3", "k3"));
        txn.commit().await.unwrap();
        assert!(store.alias(&scope, "alias/k3").is_some());
        store.close().await;
        let store = Store::open(Some(&dir), Arc::default()).await.unwrap();
        assert!(store.key(&scope, "k1").is_none() && store.key(&scope, "k2").is_none());
        assert!(store.key(&scope, "k3").is_some());
        assert!(store.alias(&scope, "alias/k3").is_some());
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn an_expired_import_token_is_removed_for_good() {
        use crate::crypto::SecretKey;
        use crate::model::KeySpec;
        use crate::model::enums::{WrappingAlgorithm, WrappingKeySpec};
        let dir = std::env::temp_dir().join(format!("trent-store-{}", uuid::Uuid::new_v4()));
        let scope = Scope::new("111122223333", "us-east-1");
        let clock = Arc::new(Clock::default());
        let store = Store::open(Some(&dir), clock.clone()).await.unwrap();
        let mut txn = store.begin().await.unwrap();
        txn.save_key(key(&scope, "k1"));
        txn.save_token(ImportToken {
            id: [1; 32],
            scope: scope.clone(),
            key_id: "k1".into(),
            algorithm: WrappingAlgorithm::Sm2Pke,
            spec: WrappingKeySpec::Sm2,
            wrapping_key: Arc::new(SecretKey::generate(KeySpec::Sm2)),
            expires_at: Timestamp(clock.now().millis() + 1_000),
        });
        txn.commit().await.unwrap();
        store.close().await;
        // Loaded again at start-up, then due once the clock passes its expiry.
        let store = Store::open(Some(&dir), clock.clone()).await.unwrap();
        assert!(store.token(&[1; 32]).is_some());
        clock.advance(2_000).unwrap();
        store.sweep().await.unwrap();
        assert!(store.token(&[1; 32]).is_none());
        assert!(store.schedule().is_empty());
        store.close().await;
        let store = Store::open(Some(&dir), Arc::default()).await.unwrap();
        assert!(store.tokens().is_empty());
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
