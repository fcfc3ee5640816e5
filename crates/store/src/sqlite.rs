//! The SQLite store: the embedded default.
//!
//! sqlx owns the schema (embedded migrations) and the job records. The data path, a job's rows
//! and rejects in one transaction, goes through a second connection with rusqlite's cached
//! prepared statements (sharing the same bundled libsqlite3): binding values straight from the
//! Arrow columns is several times faster than sqlx's boxed arguments. Each row is looked up by
//! its key (through the index of key hashes, see [`key_hash`]); a new key is inserted, a known
//! one is rewritten only if its content hash changed, so the counts are exact and unchanged
//! rows are never rewritten.
//!
//! SQL text is built only from the static schema's column names; every value from a file is a
//! bound parameter.

use crate::rollup;
use crate::{
    bind_job, check_rollable, find_or_create_account, job_from_row, later_jobs_refusal,
    rolled_back, AccountRef, AccountTable, JobControl, JobLog, JobOwner, JobRecord, JobStatus,
    RollbackSummary, Sink, StoreError, DATA_TABLES, INTERRUPTED,
};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use ebay_import_map::Rollup;
use ebay_import_model::Reject;
use ebay_import_resolve::{value_text, Outcome, ResolvedBatch, TableRows};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Row, SqliteConnection};
use std::collections::HashSet;
use std::str::FromStr;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite's page cache for the data connection, in KiB. A million-record import runs as fast
/// with 32 MiB as with 112 MiB now that its indexes hold key hashes (measured); at 10M records
/// they outgrow any cache of this order, and 32 MiB keeps the whole process at 220 MiB there
/// (48 MiB: 243 MiB, 10 % faster).
const CACHE_KIB: u64 = 32 << 10;

/// Secondary indexes that a big load builds once, after writing its rows, instead of entry by
/// entry: entries in random order cost about a page write each once the index outgrows the page
/// cache, while building it sorts them once (1M Orders records: 4.4 s of inserts against 0.9 s
/// to build). Table and index name; the index is built again from its own stored definition.
pub(crate) const DEFERRED_INDEXES: &[(&str, &str)] = &[("orders", "orders_buyer")];

/// Input bytes per stored row assumed when weighing a load against a table: fewer than an eBay
/// export has, so a load's rows are underestimated rather than over.
const BYTES_PER_ROW: u64 = 500;

/// Whether a load of about `incoming` input bytes into a table of at most `existing` rows
/// builds the table's deferred indexes afresh: when it brings at least as many rows as are
/// there, rebuilding costs less than adding its entries one by one.
fn defers_indexes(incoming: u64, existing: u64) -> bool {
    incoming > 0 && incoming / BYTES_PER_ROW >= existing
}

/// The database a process waits on, for [`wait_for_writer`]'s message.
static WAITED_ON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static SAID_WAITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// SQLite's busy handler on both connections: while another process writes (SQLite takes one
/// writer at a time, and a scheduler may start several imports together), wait as long as it
/// takes, as an import waits for PostgreSQL's account lock, rather than fail after a timeout.
/// A wait of over a second is announced once on stderr.
fn wait_for_writer(retries: i32) -> bool {
    // 1, 2, 4 … 64 ms, then 100 ms each: about a second by the 16th retry.
    if retries == 16 && !SAID_WAITING.swap(true, std::sync::atomic::Ordering::Relaxed) {
        eprintln!(
            "waiting for another process to finish writing to {} (SQLite takes one writer at \
             a time)",
            WAITED_ON.get().map_or("the database", |p| p.as_str())
        );
    }
    let ms = if retries < 7 { 1 << retries } else { 100 };
    std::thread::sleep(std::time::Duration::from_millis(ms));
    true
}

unsafe extern "C" fn wait_for_writer_ffi(
    _: *mut std::ffi::c_void,
    retries: std::ffi::c_int,
) -> std::ffi::c_int {
    std::ffi::c_int::from(wait_for_writer(retries))
}

pub struct SqliteStore {
    conn: SqliteConnection,
    data: rusqlite::Connection,
    in_tx: bool,
    /// The current transaction's expected input bytes, and the tables it has written.
    incoming: Option<u64>,
    written: HashSet<&'static str>,
    /// The definitions of the indexes dropped in the current transaction, to build before
    /// anything reads them.
    deferred: Vec<String>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at a `sqlite://PATH` URL and applies
    /// the embedded migrations.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Wide rows: 16 KiB pages split less often (takes effect when the file is created).
            .page_size(16384)
            // Replaced by `wait_for_writer` once connected.
            .busy_timeout(std::time::Duration::from_secs(30));
        let path = opts.get_filename().to_path_buf();
        let _ = WAITED_ON.set(path.display().to_string());
        let mut conn = opts.connect().await?;
        {
            let mut handle = conn.lock_handle().await?;
            // SAFETY: the handle is locked, so no other call uses the connection meanwhile;
            // sqlx and rusqlite link the same libsqlite3 (libsqlite3-sys), and the callback
            // keeps no pointer.
            unsafe {
                rusqlite::ffi::sqlite3_busy_handler(
                    handle.as_raw_handle().as_ptr(),
                    Some(wait_for_writer_ffi),
                    std::ptr::null_mut(),
                );
            }
        }
        MIGRATOR.run(&mut conn).await?;
        reap_interrupted(&mut conn).await?;
        let data = rusqlite::Connection::open(&path)?;
        data.busy_handler(Some(wait_for_writer))?;
        data.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CACHE_KIB};"
        ))?;
        data.set_prepared_statement_cache_capacity(64);
        Ok(SqliteStore {
            conn,
            data,
            in_tx: false,
            incoming: None,
            written: HashSet::new(),
            deferred: Vec::new(),
        })
    }

    /// On the transaction's first write to `table` in a load of known size, the most rows
    /// the table holds (rowids are not reused below the largest, so it bounds the count).
    fn first_write(&mut self, table: &'static str) -> Result<Option<u64>, StoreError> {
        if self.incoming.is_none() || !self.written.insert(table) {
            return Ok(None);
        }
        let max: i64 = self.data.query_row(
            &format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}"),
            [],
            |r| r.get(0),
        )?;
        Ok(Some(max.max(0) as u64))
    }

    /// After the transaction's first write to `table`, drops the table's deferred indexes if
    /// the load is big next to the `existing` rows (see [`defers_indexes`]), counting only the
    /// share of its rows that this first write inserted (a re-import inserts none). The drop
    /// is part of the transaction: a rollback restores the index, and other connections never
    /// see it gone.
    fn defer_indexes(
        &mut self,
        table: &'static str,
        existing: u64,
        first: &[Outcome],
    ) -> Result<(), StoreError> {
        let inserted = first.iter().filter(|&&o| o == Outcome::Inserted).count() as u64;
        let incoming = self.incoming.unwrap_or(0) * inserted / (first.len() as u64).max(1);
        if !defers_indexes(incoming, existing) {
            return Ok(());
        }
        for &(_, name) in DEFERRED_INDEXES.iter().filter(|(t, _)| *t == table) {
            let create: String = self.data.query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )?;
            self.data.execute_batch(&format!("DROP INDEX {name}"))?;
            self.deferred.push(create);
        }
        Ok(())
    }

    /// Builds the indexes this transaction deferred.
    fn build_deferred(&mut self) -> Result<(), StoreError> {
        for create in std::mem::take(&mut self.deferred) {
            self.data.execute_batch(&create)?;
        }
        Ok(())
    }

    fn end_transaction(&mut self) {
        self.in_tx = false;
        self.incoming = None;
        self.written.clear();
        self.deferred.clear();
    }

    fn write_table(
        &mut self,
        table: &TableRows,
        account: &str,
        job: &str,
    ) -> Result<Vec<Outcome>, StoreError> {
        // Parameters: ?1 account, ?2 key hash, then the stored columns, the row hash, the job
        // and the line; the update names its row as the one after those.
        let mut names: Vec<&str> = vec!["account_id", "key_hash"];
        names.extend(table.columns.iter().map(|(n, _)| *n));
        names.extend(["row_hash", "job_id", "source_line"]);
        let t = table.table;
        let key = table.key_column;
        let insert = format!(
            "INSERT INTO {t} ({cols}) VALUES ({params})",
            cols = names.join(", "),
            params = (1..=names.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        let update = format!(
            "UPDATE {t} SET {sets} WHERE rowid = ?{rowid}",
            sets = names
                .iter()
                .enumerate()
                .filter(|(_, n)| !matches!(**n, "account_id" | "key_hash") && **n != key)
                .map(|(i, n)| format!("{n} = ?{}", i + 1))
                .collect::<Vec<_>>()
                .join(", "),
            rowid = names.len() + 1,
        );
        let find = format!(
            "SELECT rowid, row_hash FROM {t} WHERE key_hash = ?1 AND account_id = ?2 AND {key} = ?3"
        );
        // By column name: a history table's columns need not be in its table's order.
        let stored = columns_of(&self.data, t)?.join(", ");
        let keep = format!(
            "INSERT INTO {t}_history ({stored}, replaced_by) SELECT {stored}, ?2 FROM {t} WHERE rowid = ?1"
        );
        let hash_param = 3 + table.columns.len();
        let mut keep = self.data.prepare_cached(&keep)?;
        let mut find = self.data.prepare_cached(&find)?;
        let mut ins = self.data.prepare_cached(&insert)?;
        let mut upd = self.data.prepare_cached(&update)?;
        let cols: Vec<Bind> = table.columns.iter().map(|(_, c)| Bind::of(c)).collect();
        let mut text = String::new();
        let mut key_buf = Vec::new();
        let mut outcomes = Vec::with_capacity(table.rows.len());
        for r in &table.rows {
            let row = r.row as usize;
            let key_hash = key_hash(account, &r.key, &mut key_buf);
            find.raw_bind_parameter(1, key_hash)?;
            find.raw_bind_parameter(2, account)?;
            find.raw_bind_parameter(3, r.key.as_str())?;
            let stored: Option<(i64, i64)> = match find.raw_query().next()? {
                Some(found) => Some((found.get(0)?, found.get(1)?)),
                None => None,
            };
            let bind_all = |stmt: &mut rusqlite::CachedStatement<'_>,
                            text: &mut String|
             -> rusqlite::Result<()> {
                stmt.raw_bind_parameter(1, account)?;
                stmt.raw_bind_parameter(2, key_hash)?;
                for (i, c) in cols.iter().enumerate() {
                    c.bind(stmt, i + 3, row, text)?;
                }
                stmt.raw_bind_parameter(hash_param, r.hash as i64)?;
                stmt.raw_bind_parameter(hash_param + 1, job)?;
                stmt.raw_bind_parameter(hash_param + 2, r.line as i64)
            };
            outcomes.push(match stored {
                None => {
                    bind_all(&mut ins, &mut text)?;
                    ins.raw_execute()?;
                    Outcome::Inserted
                }
                Some((_, hash)) if hash == r.hash as i64 => Outcome::Unchanged,
                Some((rowid, _)) => {
                    // The version this job replaces, for `rollback`.
                    keep.raw_bind_parameter(1, rowid)?;
                    keep.raw_bind_parameter(2, job)?;
                    keep.raw_execute()?;
                    bind_all(&mut upd, &mut text)?;
                    upd.raw_bind_parameter(hash_param + 3, rowid)?;
                    upd.raw_execute()?;
                    Outcome::Updated
                }
            });
        }
        Ok(outcomes)
    }
}

/// The columns of a table, in order.
fn columns_of(conn: &rusqlite::Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map([table], |r| r.get::<_, String>(0))?;
    names.collect()
}

impl AccountTable for SqliteStore {
    async fn ensure_account(&mut self, id: Uuid, slug: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO accounts (id, slug, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(slug.map(str::to_string))
        .bind(crate::now())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn account_id_of(&mut self, account: &AccountRef) -> Result<Option<Uuid>, StoreError> {
        Ok(match account {
            AccountRef::Id(id) => Some(*id),
            AccountRef::Slug(slug) => sqlx::query("SELECT id FROM accounts WHERE slug = ?")
                .bind(slug.clone())
                .fetch_optional(&mut self.conn)
                .await?
                .and_then(|row| Uuid::parse_str(&row.get::<String, _>(0)).ok()),
        })
    }
}

impl Sink for SqliteStore {
    async fn account(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        find_or_create_account(self, account).await
    }

    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        bind_job(sqlx::query(
            "INSERT INTO import_jobs (id, account_id, import_type, file_name, file_size, \
             file_sha256, encoding, delimiter, site, status, rows_read, inserted, updated, unchanged, \
             rejected, skipped, errors_by_code, tables, metadata, error, created_by, created_at, \
             started_at, finished_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
             ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET import_type = excluded.import_type, \
             file_size = excluded.file_size, file_sha256 = excluded.file_sha256, \
             encoding = excluded.encoding, delimiter = excluded.delimiter, site = excluded.site, \
             status = excluded.status, rows_read = excluded.rows_read, \
             inserted = excluded.inserted, updated = excluded.updated, \
             unchanged = excluded.unchanged, rejected = excluded.rejected, \
             skipped = excluded.skipped, errors_by_code = excluded.errors_by_code, \
             tables = excluded.tables, metadata = excluded.metadata, error = excluded.error, \
             started_at = excluded.started_at, finished_at = excluded.finished_at, \
             owner = excluded.owner",), job)
        .bind(owner_of(job))
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn begin(&mut self, _account: Uuid, incoming: Option<u64>) -> Result<(), StoreError> {
        self.data.execute_batch("BEGIN IMMEDIATE")?;
        self.in_tx = true;
        self.incoming = incoming;
        Ok(())
    }

    async fn write(
        &mut self,
        account: Uuid,
        job: Uuid,
        batch: &ResolvedBatch,
    ) -> Result<Vec<Vec<Outcome>>, StoreError> {
        let account = account.to_string();
        let job = job.to_string();
        batch
            .tables
            .iter()
            .map(|t| {
                let first = self.first_write(t.table)?;
                let outcomes = self.write_table(t, &account, &job)?;
                if let Some(existing) = first {
                    self.defer_indexes(t.table, existing, &outcomes)?;
                }
                Ok(outcomes)
            })
            .collect()
    }

    async fn write_rejects(&mut self, job: Uuid, rejects: &[Reject]) -> Result<(), StoreError> {
        let job = job.to_string();
        let mut stmt = self.data.prepare_cached(
            "INSERT INTO import_rejects (job_id, line, record, column_name, code, message, value, raw_line) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for r in rejects {
            stmt.execute(rusqlite::params![
                job,
                r.line as i64,
                r.record as i64,
                r.column,
                r.code.as_str(),
                r.message,
                r.value,
                r.raw
            ])?;
        }
        Ok(())
    }

    async fn checkpoint(
        &mut self,
        job: Uuid,
        cursor: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.data.execute(
            "UPDATE import_jobs SET resume_cursor = ?1 WHERE id = ?2",
            rusqlite::params![cursor.to_string(), job.to_string()],
        )?;
        Ok(())
    }

    async fn touch(&mut self, rollup: &'static Rollup, keys: &[String]) -> Result<(), StoreError> {
        let d = &rollup::SQLITE;
        self.data
            .prepare_cached(&d.on_keys(d.keys_table, rollup))?
            .execute([])?;
        let keys = serde_json::to_string(keys).expect("strings serialize");
        self.data
            .prepare_cached(&d.on_keys(d.add_keys, rollup))?
            .execute([keys])?;
        Ok(())
    }

    async fn refresh(
        &mut self,
        account: Uuid,
        job: Uuid,
        rollup: &'static Rollup,
    ) -> Result<[u64; 3], StoreError> {
        let d = &rollup::SQLITE;
        // The refresh reads its source through the index.
        self.build_deferred()?;
        self.data.execute(&d.on_keys(d.keys_table, rollup), [])?;
        let counts = rollup::refresh(
            &mut SqliteRefresh {
                store: self,
                rollup,
                account: account.to_string(),
                job: job.to_string(),
            },
            rollup,
        )
        .await?;
        self.data.execute(&d.on_keys(d.clear_keys, rollup), [])?;
        Ok(counts)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.build_deferred()?;
        self.data.execute_batch("COMMIT")?;
        self.end_transaction();
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.in_tx {
            self.end_transaction();
            self.data.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }
}

/// The owner column of a job record: set while it is processing.
/// A summary refresh's queries on SQLite: source rows are named by rowid.
struct SqliteRefresh<'a> {
    store: &'a mut SqliteStore,
    rollup: &'static Rollup,
    account: String,
    job: String,
}

impl SqliteRefresh<'_> {
    fn json(values: &impl serde::Serialize) -> String {
        serde_json::to_string(values).expect("keys serialize")
    }
}

impl rollup::RefreshQueries for SqliteRefresh<'_> {
    type Ref = i64;

    async fn next_keys(&mut self, after: &str) -> Result<Vec<String>, StoreError> {
        let d = &rollup::SQLITE;
        let mut page = self
            .store
            .data
            .prepare_cached(&d.on_keys(d.page, self.rollup))?;
        let keys = page.query_map(rusqlite::params![after, rollup::PAGE], |r| r.get(0))?;
        Ok(keys.collect::<Result<_, _>>()?)
    }

    async fn written_by_job(&mut self, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        let sql = rollup::written_by_job(self.rollup, &rollup::SQLITE);
        let mut stmt = self.store.data.prepare_cached(&sql)?;
        let params = rusqlite::params![self.account, self.job, Self::json(&keys)];
        let found = stmt.query_map(params, |r| r.get(0))?;
        Ok(found.collect::<Result<_, _>>()?)
    }

    async fn scan(&mut self, keys: &[String]) -> Result<Vec<rollup::SourceRow<i64>>, StoreError> {
        let sql = rollup::scan(self.rollup, &rollup::SQLITE);
        let mut stmt = self.store.data.prepare_cached(&sql)?;
        let params = rusqlite::params![self.account, Self::json(&keys)];
        let found = stmt.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(found.collect::<Result<_, _>>()?)
    }

    async fn latest(&mut self, refs: Vec<i64>) -> Result<rollup::LatestValues<i64>, StoreError> {
        let sql = rollup::latest(self.rollup, &rollup::SQLITE);
        let width = self.rollup.latest.len();
        let mut stmt = self.store.data.prepare_cached(&sql)?;
        let params = rusqlite::params![self.account, Self::json(&refs)];
        let found = stmt.query_map(params, |r| {
            let values = (0..width)
                .map(|i| r.get::<_, Option<String>>(1 + i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((r.get::<_, i64>(0)?, values))
        })?;
        Ok(found.collect::<Result<_, _>>()?)
    }

    async fn write(&mut self, table: &TableRows) -> Result<Vec<Outcome>, StoreError> {
        self.store.write_table(table, &self.account, &self.job)
    }
}

fn owner_of(job: &JobRecord) -> Option<String> {
    (job.status == JobStatus::Processing)
        .then(|| serde_json::to_string(&JobOwner::current()).expect("owner serializes"))
}

/// Marks `processing` jobs whose process is gone as `interrupted`.
async fn reap_interrupted(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT id, owner FROM import_jobs WHERE status = 'processing'")
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        let owner: Option<String> = row.get(1);
        let owner: Option<JobOwner> = owner.and_then(|o| serde_json::from_str(&o).ok());
        if owner.is_some_and(|o| o.alive() == Some(false)) {
            sqlx::query(
                "UPDATE import_jobs SET status = 'interrupted', error = ?, owner = NULL \
                 WHERE id = ? AND status = 'processing'",
            )
            .bind(INTERRUPTED)
            .bind(row.get::<String, _>(0))
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

impl JobControl for SqliteStore {
    async fn rollback_job(&mut self, job: &JobRecord) -> Result<RollbackSummary, StoreError> {
        check_rollable(job)?;
        let id = job.id.to_string();
        let tx = self
            .data
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut later = Vec::new();
        for (t, _) in DATA_TABLES {
            let mut stmt = tx.prepare(&format!(
                "SELECT DISTINCT replaced_by FROM {t}_history WHERE job_id = ?1 AND replaced_by <> ?1"
            ))?;
            let jobs = stmt.query_map([&id], |r| r.get::<_, String>(0))?;
            for j in jobs {
                later.push(j?);
            }
        }
        if !later.is_empty() {
            return Err(later_jobs_refusal(job.id, later));
        }
        let mut summary = RollbackSummary::default();
        for (t, key) in DATA_TABLES {
            let cols = columns_of(&tx, t)?;
            let cols: Vec<&str> = cols
                .iter()
                .map(String::as_str)
                .filter(|c| *c != "account_id" && c != key)
                .collect();
            let before = format!(
                "FROM {t}_history h WHERE h.replaced_by = ?1 AND h.job_id <> ?1 \
                 AND h.account_id = {t}.account_id AND h.{key} = {t}.{key}"
            );
            let restored = tx.execute(
                &format!(
                    "UPDATE {t} SET ({cols}) = (SELECT {h_cols} {before}) \
                     WHERE job_id = ?1 AND EXISTS (SELECT 1 {before})",
                    cols = cols.join(", "),
                    h_cols = cols
                        .iter()
                        .map(|c| format!("h.{c}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                [&id],
            )?;
            let deleted = tx.execute(&format!("DELETE FROM {t} WHERE job_id = ?1"), [&id])?;
            tx.execute(
                &format!("DELETE FROM {t}_history WHERE replaced_by = ?1"),
                [&id],
            )?;
            summary.restored.insert(t.to_string(), restored as u64);
            summary.deleted.insert(t.to_string(), deleted as u64);
        }
        tx.commit()?;
        self.save_job(&rolled_back(job, &summary)).await?;
        Ok(summary)
    }
}

/// The indexed stand-in for a row's natural key within its account: a 64-bit hash is a fifth
/// of the size of the key text plus the account id, so a page cache of a few dozen MiB holds
/// the index of a million-record import. Lookups compare the account and the key text too,
/// so two keys that share a hash stay two rows. The layout is fixed: stored hashes must stay
/// valid across releases.
fn key_hash(account: &str, key: &str, buf: &mut Vec<u8>) -> i64 {
    buf.clear();
    buf.extend_from_slice(account.as_bytes());
    buf.push(0x1f);
    buf.extend_from_slice(key.as_bytes());
    xxhash_rust::xxh3::xxh3_64(buf) as i64
}

/// A column downcast once; binds its value of a row as SQLite stores it: text, decimal and
/// date text, integers, booleans as 0/1, NULL.
enum Bind<'a> {
    Utf8(&'a arrow_array::StringArray),
    Int(&'a arrow_array::Int64Array),
    Bool(&'a arrow_array::BooleanArray),
    Text(&'a ArrayRef),
}

impl<'a> Bind<'a> {
    fn of(col: &'a ArrayRef) -> Bind<'a> {
        match col.data_type() {
            DataType::Utf8 => Bind::Utf8(col.as_string()),
            DataType::Int64 => Bind::Int(col.as_primitive::<Int64Type>()),
            DataType::Boolean => Bind::Bool(col.as_boolean()),
            _ => Bind::Text(col),
        }
    }

    fn bind(
        &self,
        stmt: &mut rusqlite::CachedStatement<'_>,
        i: usize,
        row: usize,
        text: &mut String,
    ) -> rusqlite::Result<()> {
        let null = match self {
            Bind::Utf8(a) => a.is_null(row),
            Bind::Int(a) => a.is_null(row),
            Bind::Bool(a) => a.is_null(row),
            Bind::Text(a) => a.is_null(row),
        };
        if null {
            return stmt.raw_bind_parameter(i, rusqlite::types::Null);
        }
        match self {
            Bind::Utf8(a) => stmt.raw_bind_parameter(i, a.value(row)),
            Bind::Int(a) => stmt.raw_bind_parameter(i, a.value(row)),
            Bind::Bool(a) => stmt.raw_bind_parameter(i, i64::from(a.value(row))),
            Bind::Text(a) => {
                text.clear();
                value_text(a.as_ref(), row, text);
                stmt.raw_bind_parameter(i, text.as_str())
            }
        }
    }
}

impl JobLog for SqliteStore {
    async fn list_jobs(
        &mut self,
        account: Option<&AccountRef>,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let rows = match account {
            None => {
                sqlx::query("SELECT * FROM import_jobs ORDER BY created_at, id")
                    .fetch_all(&mut self.conn)
                    .await?
            }
            Some(a) => {
                let Some(id) = self.account_id_of(a).await? else {
                    return Ok(Vec::new());
                };
                sqlx::query(
                    "SELECT * FROM import_jobs WHERE account_id = ? ORDER BY created_at, id",
                )
                .bind(id.to_string())
                .fetch_all(&mut self.conn)
                .await?
            }
        };
        Ok(rows.iter().map(job_from_row).collect())
    }

    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError> {
        // A unique prefix of the id is enough, as with git commits.
        let rows = sqlx::query("SELECT * FROM import_jobs WHERE id LIKE ? || '%' LIMIT 2")
            .bind(id.to_string())
            .fetch_all(&mut self.conn)
            .await?;
        match rows.as_slice() {
            [one] if !id.is_empty() => Ok(job_from_row(one)),
            _ => Err(StoreError::NoSuchJob(id.to_string())),
        }
    }

    async fn rejects(&mut self, id: Uuid) -> Result<Vec<Reject>, StoreError> {
        let rows = sqlx::query(
            "SELECT line, record, column_name, code, message, value, raw_line FROM import_rejects \
             WHERE job_id = ? ORDER BY line, rowid",
        )
        .bind(id.to_string())
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows.iter().map(crate::reject_from_row).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_are_pinned_and_separate_accounts() {
        let mut buf = Vec::new();
        let h = key_hash("a", "12-34567-89012", &mut buf);
        // Pinned: stored hashes must not change between releases.
        assert_eq!(h, xxhash_rust::xxh3::xxh3_64(b"a\x1f12-34567-89012") as i64);
        assert_ne!(h, key_hash("b", "12-34567-89012", &mut buf));
        // The separator keeps (account, key) pairs from running into each other.
        assert_ne!(key_hash("ab", "c", &mut buf), key_hash("a", "bc", &mut buf));
    }

    #[test]
    fn a_writer_is_waited_for_without_a_limit() {
        // The handler never gives up, however often SQLite asks (busy for hours).
        assert!(wait_for_writer(1_000_000));
        assert!(wait_for_writer(i32::MAX));
    }

    #[test]
    fn a_load_defers_indexes_when_it_brings_as_many_rows_as_the_table_holds() {
        assert!(defers_indexes(3_000, 0));
        assert!(defers_indexes(500 * 1000, 1000));
        assert!(!defers_indexes(500 * 1000 - 1, 1000));
        assert!(!defers_indexes(450_000_000, 10_000_000));
        // A load that inserts nothing (a re-import) rebuilds nothing.
        assert!(!defers_indexes(0, 0));
    }

    #[tokio::test]
    async fn deferred_indexes_are_built_as_the_migrations_define_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let mut store = SqliteStore::connect(&url).await.expect("open");
        let definition = |store: &SqliteStore, name: &str| -> Option<String> {
            store
                .data
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .ok()
        };
        let migrated: Vec<_> = DEFERRED_INDEXES
            .iter()
            .map(|&(table, name)| {
                let sql = definition(&store, name).expect("the index exists");
                assert!(sql.contains(&format!(" ON {table} (")), "{sql}");
                sql
            })
            .collect();
        store
            .begin(Uuid::nil(), Some(1 << 20))
            .await
            .expect("begin");
        for &(table, _) in DEFERRED_INDEXES {
            store
                .defer_indexes(table, 0, &[Outcome::Inserted])
                .expect("defer");
        }
        for &(_, name) in DEFERRED_INDEXES {
            assert_eq!(definition(&store, name), None, "{name} is dropped");
        }
        store.commit().await.expect("commit");
        for (&(_, name), sql) in DEFERRED_INDEXES.iter().zip(&migrated) {
            assert_eq!(definition(&store, name).as_ref(), Some(sql));
        }
    }
}
