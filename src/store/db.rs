//! SQLite persistence: the only module that speaks SQL. Each public function is one
//! committed transaction (all of a request's changes, in [`apply`]), so a write the
//! caller acknowledges survives `kill -9`, and a crash never leaves half of it.

use std::collections::HashSet;
use std::ffi::{CStr, c_int};
use std::path::Path;
use std::sync::Arc;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Row as _, SqliteConnection};

use super::Alias;
use super::bulk::{Db, Row, Rows};
use super::record::{self, Identity};
use crate::BoxError;
use crate::clock::Timestamp;
use crate::crypto::SecretKey;
use crate::model::custom_key_store::{CustomKeyStore, XksProxy};
use crate::model::enums::{ConnectionState, CustomKeyStoreType, XksProxyConnectivity};
use crate::model::enums::{WrappingAlgorithm, WrappingKeySpec};
use crate::model::grant::{Grant, GrantConstraints};
use crate::model::import_token::ImportToken;
use crate::model::{Key, Scope, key_policy};

/// Opens (creating if needed) `trent.db` in `data_dir`, or a private in-memory database,
/// and applies the migrations.
pub async fn open(data_dir: Option<&Path>) -> Result<SqlitePool, BoxError> {
    let options = match data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            SqliteConnectOptions::new()
                .filename(dir.join("trent.db"))
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                // The cache is the truth for reads: a second trent on the same
                // database would serve stale keys, so it is refused at start-up.
                .locking_mode(SqliteLockingMode::Exclusive)
        }
        None => SqliteConnectOptions::new().in_memory(true),
    }
    .foreign_keys(true)
    .busy_timeout(std::time::Duration::from_secs(1));
    // One connection: writes are serialised by the store anyway, and an in-memory
    // database lives exactly as long as its connection.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(|e| match data_dir {
            Some(dir) => format!(
                "cannot open the database in {} (is another trent using it?): {e}",
                dir.display()
            ),
            None => format!("cannot open an in-memory database: {e}"),
        })?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// What start-up reads of each table, in storage order (an ORDER BY would walk an index
/// and look every row up).
const KEYS: &CStr = c"SELECT account, region, key_id, policy, record FROM keys";
const ALIASES: &CStr =
    c"SELECT account, region, alias_name, target_key_id, created_at, updated_at FROM aliases";

/// Every key (with its material and tags, see `record`) and alias, for filling the cache at
/// start-up: one scan over each table, straight from SQLite (see `bulk`).
pub async fn load(pool: &SqlitePool) -> Result<Loaded, BoxError> {
    let mut connection = pool.acquire().await?;
    let mut handle = connection.lock_handle().await?;
    let db = handle.as_raw_handle();
    let mut shared = Shared::default();
    // Sized once: a growing vector would leave its earlier buffers in the heap.
    let mut keys = Vec::with_capacity(rows_at_most(db, c"SELECT max(rowid) FROM keys")?);
    let mut rows = Rows::prepare(db, KEYS)?;
    while let Some(row) = rows.next()? {
        let (scope, id) = (shared.scope(row.bytes(0)?, row.bytes(1)?)?, row.str(2)?);
        let identity = Identity {
            policy: shared.policy(&scope, row.bytes(3)?)?,
            scope,
            id: id.to_owned(),
        };
        let key = record::from_jsonb(row.bytes(4)?, identity)
            .map_err(|e| format!("the record of key {id}: {e}"))?;
        keys.push(Arc::new(key));
    }
    let mut aliases = Vec::new();
    let mut rows = Rows::prepare(db, ALIASES)?;
    while let Some(row) = rows.next()? {
        aliases.push((
            shared.scope(row.bytes(0)?, row.bytes(1)?)?,
            Alias {
                name: row.str(2)?.to_owned(),
                target_key_id: row.str(3)?.to_owned(),
                created_at: Timestamp(int(&row, 4)?),
                updated_at: Timestamp(int(&row, 5)?),
            },
        ));
    }
    Ok(Loaded {
        keys,
        aliases,
        policies: shared.policies,
    })
}

/// What rows share, as read so far: policy documents (most keys keep the default, stored
/// as "") and scopes. Rows come in runs of the same ones: the last one is compared byte for
/// byte before the set is asked (which hashes and checks the whole text), or a new one is
/// made.
#[derive(Default)]
struct Shared {
    policies: HashSet<Arc<str>>,
    last_policy: Option<Arc<str>>,
    /// The default policy of the last scope that had one.
    last_default: Option<(Scope, Arc<str>)>,
    last_scope: Option<Scope>,
}

impl Shared {
    fn policy(&mut self, scope: &Scope, text: &[u8]) -> Result<Arc<str>, BoxError> {
        if text.is_empty() {
            return Ok(match &self.last_default {
                Some((of, policy)) if of == scope => Arc::clone(policy),
                _ => {
                    let policy = super::share(&mut self.policies, &key_policy::default(scope));
                    self.last_default = Some((scope.clone(), Arc::clone(&policy)));
                    policy
                }
            });
        }
        if let Some(last) = &self.last_policy
            && last.as_bytes() == text
        {
            return Ok(Arc::clone(last));
        }
        let shared = super::share(&mut self.policies, std::str::from_utf8(text)?);
        self.last_policy = Some(Arc::clone(&shared));
        Ok(shared)
    }

    fn scope(&mut self, account: &[u8], region: &[u8]) -> Result<Scope, BoxError> {
        if let Some(last) = &self.last_scope
            && last.account.as_bytes() == account
            && last.region.as_bytes() == region
        {
            return Ok(last.clone());
        }
        let scope = Scope::new(std::str::from_utf8(account)?, std::str::from_utf8(region)?);
        self.last_scope = Some(scope.clone());
        Ok(scope)
    }
}

/// What [`load`] reads.
pub struct Loaded {
    /// In the order of their rows, each in its own `Arc`, not yet shared.
    pub keys: Vec<Arc<Key>>,
    pub aliases: Vec<(Scope, Alias)>,
    /// The distinct policy documents, each shared by the keys that hold it.
    pub policies: HashSet<Arc<str>>,
}

/// A table's largest rowid: at least its number of rows (rowids are distinct and
/// positive), read from the end of the table, where `count(*)` walks a whole index. Room a
/// vector reserves beyond its rows is never touched, so costs no memory.
fn rows_at_most(db: Db, sql: &CStr) -> Result<usize, BoxError> {
    let mut rows = Rows::prepare(db, sql)?;
    let max = rows.next()?.and_then(|row| row.int(0)).unwrap_or_default();
    Ok(usize::try_from(max)?.min(1 << 24))
}

fn int(row: &Row, column: c_int) -> Result<i64, BoxError> {
    row.int(column)
        .ok_or_else(|| format!("column {column} is NULL").into())
}

fn parse<T>(value: &str, f: fn(&str) -> Option<T>) -> Result<T, BoxError> {
    f(value).ok_or_else(|| format!("unknown stored value {value:?}").into())
}

/// Import parameters that have not expired yet (expired ones go with the schedule).
pub async fn load_tokens(pool: &SqlitePool) -> Result<Vec<ImportToken>, BoxError> {
    let mut tokens = Vec::new();
    for row in sqlx::query("SELECT * FROM import_tokens")
        .fetch_all(pool)
        .await?
    {
        let id: Vec<u8> = row.try_get("token_id")?;
        let spec = parse(row.try_get("wrapping_key_spec")?, WrappingKeySpec::parse)?;
        let der = zeroize::Zeroizing::new(row.try_get::<Vec<u8>, _>("wrapping_key")?);
        tokens.push(ImportToken {
            id: id.try_into().map_err(|_| "bad token id")?,
            scope: Scope::new(
                row.try_get::<String, _>("account")?,
                row.try_get::<String, _>("region")?,
            ),
            key_id: row.try_get("key_id")?,
            algorithm: parse(row.try_get("wrapping_algorithm")?, WrappingAlgorithm::parse)?,
            spec,
            wrapping_key: std::sync::Arc::new(SecretKey::from_storage(spec.key_spec(), &der)?),
            expires_at: Timestamp(row.try_get("expires_at")?),
        });
    }
    Ok(tokens)
}

/// Runs `body` in one transaction that ends in COMMIT, or in ROLLBACK if anything failed.
/// trent begins and ends it itself: sqlx's transactions keep their own count of open
/// transactions, and after a commit failed on a full disk that count and SQLite disagreed:
/// the next answered write was not in the database after a restart
/// (`test_a_failed_commit_changes_nothing_and_answers_500`). A transaction left open by a
/// caller that was cancelled is rolled back by the next one.
async fn transaction(
    pool: &SqlitePool,
    body: impl AsyncFnOnce(&mut SqliteConnection) -> Result<(), sqlx::Error>,
) -> Result<(), sqlx::Error> {
    let mut connection = pool.acquire().await?;
    let begin = "BEGIN IMMEDIATE";
    if sqlx::query(begin).execute(&mut *connection).await.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
        sqlx::query(begin).execute(&mut *connection).await?;
    }
    let mut result = body(&mut connection).await;
    if result.is_ok() {
        result = sqlx::query("COMMIT")
            .execute(&mut *connection)
            .await
            .map(drop);
    }
    if result.is_err() {
        // Nothing to roll back if SQLite did already; that error says nothing new.
        let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
    }
    result
}

/// The changes of one request, committed together or not at all.
pub async fn apply(pool: &SqlitePool, changes: &[super::Change]) -> Result<(), sqlx::Error> {
    transaction(pool, async |tx| {
        for change in changes {
            match change {
                super::Change::Key(key) => write_key(tx, key).await?,
                super::Change::DeleteKey(scope, id) => remove_key(tx, scope, id).await?,
                super::Change::Alias(scope, alias) => write_alias(tx, scope, alias).await?,
                super::Change::DeleteAlias(scope, name) => remove_alias(tx, scope, name).await?,
                super::Change::Token(token) => write_token(tx, token).await?,
                super::Change::DeleteToken(id) => remove_token(tx, id).await?,
                super::Change::Grant(grant) => write_grant(tx, grant).await?,
                super::Change::DeleteGrant(scope, key_id, grant_id) => {
                    remove_grant(tx, scope, key_id, grant_id).await?
                }
                super::Change::CustomKeyStore(store) => write_store(tx, store).await?,
                super::Change::DeleteCustomKeyStore(scope, id) => {
                    remove_store(tx, scope, id).await?
                }
            }
        }
        Ok(())
    })
    .await
}

/// Writes a key whole: identity, policy ("" for its scope's default, which most keys keep)
/// and its document (see `record`).
async fn write_key(tx: &mut SqliteConnection, key: &Key) -> Result<(), sqlx::Error> {
    let record = record::to_text(key).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let policy = match *key.policy == key_policy::default(&key.scope) {
        true => "",
        false => &*key.policy,
    };
    sqlx::query(
        "INSERT INTO keys (account, region, key_id, policy, record) VALUES (?, ?, ?, ?, jsonb(?))
         ON CONFLICT (account, region, key_id) DO UPDATE SET
             policy = excluded.policy, record = excluded.record",
    )
    .bind(&key.scope.account)
    .bind(&key.scope.region)
    .bind(&key.id)
    .bind(policy)
    .bind(std::str::from_utf8(&record).map_err(|e| sqlx::Error::Encode(e.into()))?)
    .execute(&mut *tx)
    .await
    .map(drop)
}

async fn write_alias(
    tx: &mut SqliteConnection,
    scope: &Scope,
    alias: &Alias,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO aliases (account, region, alias_name, target_key_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, region, alias_name) DO UPDATE SET
             target_key_id = excluded.target_key_id, updated_at = excluded.updated_at",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(&alias.name)
    .bind(&alias.target_key_id)
    .bind(alias.created_at.millis())
    .bind(alias.updated_at.millis())
    .execute(&mut *tx)
    .await
    .map(drop)
}

async fn remove_alias(
    tx: &mut SqliteConnection,
    scope: &Scope,
    name: &str,
) -> Result<(), sqlx::Error> {
    delete_scoped(tx, "aliases", "alias_name", scope, name).await
}

/// Deletes a key for good; its aliases, grants, import tokens and last usage go with it
/// (cascade).
async fn remove_key(tx: &mut SqliteConnection, scope: &Scope, id: &str) -> Result<(), sqlx::Error> {
    delete_scoped(tx, "keys", "key_id", scope, id).await
}

/// Deletes the rows of `table` in `scope` whose `column` is `value` (names are this
/// module's constants, never request values).
async fn delete_scoped(
    tx: &mut SqliteConnection,
    table: &'static str,
    column: &'static str,
    scope: &Scope,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE account = ? AND region = ? AND {column} = ?"
    )))
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(value)
    .execute(&mut *tx)
    .await
    .map(drop)
}

async fn write_token(tx: &mut SqliteConnection, token: &ImportToken) -> Result<(), sqlx::Error> {
    let der = token.wrapping_key.to_storage();
    sqlx::query(
        "INSERT INTO import_tokens (token_id, account, region, key_id, wrapping_algorithm,
             wrapping_key_spec, wrapping_key, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(token.id.as_slice())
    .bind(&token.scope.account)
    .bind(&token.scope.region)
    .bind(&token.key_id)
    .bind(token.algorithm.as_str())
    .bind(token.spec.as_str())
    .bind(der.expose())
    .bind(token.expires_at.millis())
    .execute(&mut *tx)
    .await
    .map(drop)
}

async fn remove_token(tx: &mut SqliteConnection, id: &[u8; 32]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM import_tokens WHERE token_id = ?")
        .bind(id.as_slice())
        .execute(&mut *tx)
        .await
        .map(drop)
}

/// Every grant, in one query.
pub async fn load_grants(pool: &SqlitePool) -> Result<Vec<Grant>, BoxError> {
    let mut grants = Vec::new();
    for row in sqlx::query("SELECT * FROM grants").fetch_all(pool).await? {
        let operations: String = row.try_get("operations")?;
        let constraints: Option<String> = row.try_get("constraints")?;
        grants.push(Grant {
            id: row.try_get("grant_id")?,
            scope: Scope::new(
                row.try_get::<String, _>("account")?,
                row.try_get::<String, _>("region")?,
            ),
            key_id: row.try_get("key_id")?,
            name: row.try_get("name")?,
            grantee: row.try_get("grantee_principal")?,
            retiring: row.try_get("retiring_principal")?,
            operations: serde_json::from_str(&operations)?,
            constraints: constraints
                .map(|c| serde_json::from_str::<GrantConstraints>(&c))
                .transpose()?,
            created_at: Timestamp(row.try_get("created_at")?),
        });
    }
    Ok(grants)
}

async fn write_grant(tx: &mut SqliteConnection, grant: &Grant) -> Result<(), sqlx::Error> {
    let operations =
        serde_json::to_string(&grant.operations).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let constraints = grant
        .constraints
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO grants (account, region, key_id, grant_id, name, grantee_principal,
             retiring_principal, operations, constraints, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, region, key_id, grant_id) DO UPDATE SET
             name = excluded.name, grantee_principal = excluded.grantee_principal,
             retiring_principal = excluded.retiring_principal,
             operations = excluded.operations, constraints = excluded.constraints",
    )
    .bind(&grant.scope.account)
    .bind(&grant.scope.region)
    .bind(&grant.key_id)
    .bind(&grant.id)
    .bind(grant.name.as_deref())
    .bind(&grant.grantee)
    .bind(grant.retiring.as_deref())
    .bind(operations)
    .bind(constraints)
    .bind(grant.created_at.millis())
    .execute(&mut *tx)
    .await
    .map(drop)
}

async fn remove_grant(
    tx: &mut SqliteConnection,
    scope: &Scope,
    key_id: &str,
    grant_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM grants WHERE account = ? AND region = ? AND key_id = ? AND grant_id = ?",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(key_id)
    .bind(grant_id)
    .execute(&mut *tx)
    .await
    .map(drop)
}

/// Every custom key store, in one query.
pub async fn load_stores(pool: &SqlitePool) -> Result<Vec<CustomKeyStore>, BoxError> {
    let mut stores = Vec::new();
    for row in sqlx::query("SELECT * FROM custom_key_stores")
        .fetch_all(pool)
        .await?
    {
        let xks = match row.try_get::<Option<String>, _>("xks_connectivity")? {
            Some(connectivity) => Some(XksProxy {
                connectivity: parse(&connectivity, XksProxyConnectivity::parse)?,
                access_key_id: row.try_get("xks_access_key_id")?,
                uri_endpoint: row.try_get("xks_uri_endpoint")?,
                uri_path: row.try_get("xks_uri_path")?,
                vpc_endpoint_service_name: row.try_get("xks_vpc_endpoint_service_name")?,
                vpc_endpoint_service_owner: row.try_get("xks_vpc_endpoint_service_owner")?,
            }),
            None => None,
        };
        stores.push(CustomKeyStore {
            id: row.try_get("store_id")?,
            scope: Scope::new(
                row.try_get::<String, _>("account")?,
                row.try_get::<String, _>("region")?,
            ),
            name: row.try_get("name")?,
            kind: parse(row.try_get("store_type")?, CustomKeyStoreType::parse)?,
            cloud_hsm_cluster_id: row.try_get("cloud_hsm_cluster_id")?,
            trust_anchor_certificate: row.try_get("trust_anchor_certificate")?,
            xks,
            state: parse(row.try_get("connection_state")?, ConnectionState::parse)?,
            settles: match (
                row.try_get::<Option<i64>, _>("settles_at")?,
                row.try_get::<Option<String>, _>("settles_to")?,
            ) {
                (Some(at), Some(to)) => Some((Timestamp(at), parse(&to, ConnectionState::parse)?)),
                _ => None,
            },
            created_at: Timestamp(row.try_get("created_at")?),
            shared: Default::default(),
        });
    }
    Ok(stores)
}

async fn write_store(tx: &mut SqliteConnection, store: &CustomKeyStore) -> Result<(), sqlx::Error> {
    let xks = store.xks.as_ref();
    sqlx::query(
        "INSERT INTO custom_key_stores (account, region, store_id, name, store_type,
             cloud_hsm_cluster_id, trust_anchor_certificate, xks_connectivity, xks_access_key_id,
             xks_uri_endpoint, xks_uri_path, xks_vpc_endpoint_service_name,
             xks_vpc_endpoint_service_owner, connection_state, settles_at, settles_to, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, region, store_id) DO UPDATE SET
             name = excluded.name, cloud_hsm_cluster_id = excluded.cloud_hsm_cluster_id,
             trust_anchor_certificate = excluded.trust_anchor_certificate,
             xks_connectivity = excluded.xks_connectivity,
             xks_access_key_id = excluded.xks_access_key_id,
             xks_uri_endpoint = excluded.xks_uri_endpoint, xks_uri_path = excluded.xks_uri_path,
             xks_vpc_endpoint_service_name = excluded.xks_vpc_endpoint_service_name,
             xks_vpc_endpoint_service_owner = excluded.xks_vpc_endpoint_service_owner,
             connection_state = excluded.connection_state, settles_at = excluded.settles_at,
             settles_to = excluded.settles_to",
    )
    .bind(&store.scope.account)
    .bind(&store.scope.region)
    .bind(&store.id)
    .bind(&store.name)
    .bind(store.kind.as_str())
    .bind(store.cloud_hsm_cluster_id.as_deref())
    .bind(store.trust_anchor_certificate.as_deref())
    .bind(xks.map(|x| x.connectivity.as_str()))
    .bind(xks.map(|x| x.access_key_id.as_str()))
    .bind(xks.map(|x| x.uri_endpoint.as_str()))
    .bind(xks.map(|x| x.uri_path.as_str()))
    .bind(xks.and_then(|x| x.vpc_endpoint_service_name.as_deref()))
    .bind(xks.and_then(|x| x.vpc_endpoint_service_owner.as_deref()))
    .bind(store.state.as_str())
    .bind(store.settles.map(|(at, _)| at.millis()))
    .bind(store.settles.map(|(_, to)| to.as_str()))
    .bind(store.created_at.millis())
    .execute(&mut *tx)
    .await
    .map(drop)
}

async fn remove_store(
    tx: &mut SqliteConnection,
    scope: &Scope,
    id: &str,
) -> Result<(), sqlx::Error> {
    delete_scoped(tx, "custom_key_stores", "store_id", scope, id).await
}

/// The last usage of every key.
pub async fn load_last_usage(
    pool: &SqlitePool,
) -> Result<Vec<(Scope, String, super::last_usage::Usage)>, BoxError> {
    let mut usage = Vec::new();
    for row in sqlx::query("SELECT * FROM key_last_usage")
        .fetch_all(pool)
        .await?
    {
        let operation: String = row.try_get("operation")?;
        usage.push((
            Scope::new(
                row.try_get::<String, _>("account")?,
                row.try_get::<String, _>("region")?,
            ),
            row.try_get("key_id")?,
            super::last_usage::Usage {
                operation: crate::model::Operation::from_name(&operation)
                    .ok_or_else(|| format!("unknown stored operation {operation:?}"))?
                    .name(),
                at: Timestamp(row.try_get("used_at")?),
                request_id: uuid::Uuid::parse_str(&row.try_get::<String, _>("request_id")?)?,
                event_id: uuid::Uuid::parse_str(&row.try_get::<String, _>("event_id")?)?,
            },
        ));
    }
    Ok(usage)
}

/// Writes last usage in one transaction; rows of keys deleted meanwhile are skipped.
pub async fn write_last_usage(
    pool: &SqlitePool,
    batch: &[(Scope, String, super::last_usage::Usage)],
) -> Result<(), sqlx::Error> {
    transaction(pool, async |tx| {
        for (scope, id, usage) in batch {
            sqlx::query(
            "INSERT INTO key_last_usage (account, region, key_id, operation, used_at, request_id,
                 event_id)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS
                 (SELECT 1 FROM keys WHERE account = ?1 AND region = ?2 AND key_id = ?3)
             ON CONFLICT (account, region, key_id) DO UPDATE SET
                 operation = excluded.operation, used_at = excluded.used_at,
                 request_id = excluded.request_id, event_id = excluded.event_id",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(id)
        .bind(usage.operation)
        .bind(usage.at.millis())
        .bind(usage.request_id.to_string())
        .bind(usage.event_id.to_string())
        .execute(&mut *tx)
        .await?;
        }
        Ok(())
    })
    .await
}

/// The database's own secret for deriving imported material ids, made at its first start
/// with imports.
pub async fn material_id_key(pool: &SqlitePool) -> Result<[u8; 32], BoxError> {
    let fresh = crate::crypto::hex(&crate::crypto::random_array::<32>());
    sqlx::query("INSERT OR IGNORE INTO meta (name, value) VALUES ('material_id_key', ?)")
        .bind(fresh)
        .execute(pool)
        .await?;
    let value: String = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'material_id_key'")
        .fetch_one(pool)
        .await?;
    let bytes = crate::crypto::unhex(&value).ok_or("the material id key is not hex")?;
    Ok(bytes
        .try_into()
        .map_err(|_| "a material id key of the wrong length")?)
}

/// When this database began tracking key usage: its first start with tracking.
pub async fn tracking_start(pool: &SqlitePool, now: Timestamp) -> Result<Timestamp, BoxError> {
    sqlx::query("INSERT OR IGNORE INTO meta (name, value) VALUES ('tracking_start', ?)")
        .bind(now.millis().to_string())
        .execute(pool)
        .await?;
    let value: String = sqlx::query_scalar("SELECT value FROM meta WHERE name = 'tracking_start'")
        .fetch_one(pool)
        .await?;
    Ok(Timestamp(value.parse()?))
}

/// Deletes every key and everything that belongs to one.
pub async fn wipe(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    transaction(pool, async |tx| {
        for statement in [
            "DELETE FROM aliases",
            "DELETE FROM import_tokens",
            "DELETE FROM grants",
            "DELETE FROM custom_key_stores",
            "DELETE FROM key_last_usage",
            "DELETE FROM keys",
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        Ok(())
    })
    .await
}
