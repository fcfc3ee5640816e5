//! The SQLite store: the embedded default.
//!
//! sqlx owns the schema (embedded migrations, applied one process at a time). Everything else
//! goes through one rusqlite connection (sharing sqlx's bundled libsqlite3): a job's rows,
//! rejects and the record that says how it ended commit in one transaction, and rusqlite's
//! cached prepared statements bind values straight from the Arrow columns, several times
//! faster than sqlx's boxed arguments. Each row is looked up by
//! its key (through the index of key hashes, see [`key_hash`]); a new key is inserted, a known
//! one is rewritten only if its content hash changed, so the counts are exact and unchanged
//! rows are never rewritten.
//!
//! SQL text is built only from the static schema's column names; every value from a file is a
//! bound parameter.

use crate::jobs::{select_list, upsert_sql};
use crate::rollup;
use crate::runlock::RunLocks;
use crate::wait::Wait;
use crate::{
    find_or_create_account, reject_from_parts, without_process, Access, AccountRef, AccountTable,
    JobControl, JobLog, JobRecord, JobStatus, RollbackSummary, Sink, StoreError, StoreOptions,
    DATA_TABLES,
};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use ebay_import_map::Rollup;
use ebay_import_model::{crash, Reject};
use ebay_import_resolve::{value_text, Outcome, ResolvedBatch, TableRows};
use rusqlite::OpenFlags;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
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

/// The database a process waits on and how long it may wait, for [`wait_for_writer`].
static WAITED_ON: std::sync::OnceLock<(String, Option<std::time::Duration>)> =
    std::sync::OnceLock::new();

thread_local! {
    /// The current wait for another writer, and why the last one ended early.
    static WAIT: RefCell<(Option<Wait>, Option<StoreError>)> = const { RefCell::new((None, None)) };
}

/// SQLite's busy handler: while another process writes (SQLite takes one writer at a time,
/// and a scheduler may start several imports together), wait as long as it takes, as an
/// import waits for PostgreSQL's account lock, unless `--lock-timeout` runs out or a stop is
/// requested. A wait of over a second is announced once on stderr.
fn wait_for_writer(retries: i32) -> bool {
    let (db, timeout) = WAITED_ON.get().cloned().unwrap_or_default();
    let what =
        || format!("another process to finish writing to {db} (SQLite takes one writer at a time)");
    let keep_waiting = WAIT.with_borrow_mut(|(wait, gave_up)| {
        if retries == 0 {
            *wait = Some(Wait::new(timeout));
        }
        match wait.get_or_insert_with(|| Wait::new(timeout)).again(&what) {
            Ok(()) => true,
            Err(e) => {
                *gave_up = Some(e);
                false
            }
        }
    });
    if keep_waiting {
        // 1, 2, 4 … 64 ms, then 100 ms each.
        let ms = if retries < 7 { 1 << retries } else { 100 };
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    keep_waiting
}

impl From<rusqlite::Error> for StoreError {
    /// A busy database whose wait ended early says why (`--lock-timeout`, a stop).
    fn from(e: rusqlite::Error) -> StoreError {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
            if let Some(why) = WAIT.with_borrow_mut(|(_, gave_up)| gave_up.take()) {
                return why;
            }
        }
        StoreError::Sqlite(e)
    }
}

pub struct SqliteStore {
    conn: rusqlite::Connection,
    locks: RunLocks,
    lock_timeout: Option<std::time::Duration>,
    in_tx: bool,
    /// The current transaction's expected input bytes, and the tables it has written.
    incoming: Option<u64>,
    written: HashSet<&'static str>,
    /// The definitions of the indexes dropped in the current transaction, to build before
    /// anything reads them.
    deferred: Vec<String>,
}

/// Where the schema of a database file stands against this build's migrations.
#[derive(Debug, PartialEq, Eq)]
enum Schema {
    Current,
    /// No tables at all: a new file.
    Empty,
    /// Made by an older build: `applied` of `known` migrations.
    Older {
        applied: usize,
        known: usize,
    },
    /// Made by a newer build, or not by ebay-import.
    Foreign,
}

fn schema_of(conn: &rusqlite::Connection) -> Result<Schema, StoreError> {
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    let has_log: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations'",
        [],
        |r| r.get(0),
    )?;
    if has_log == 0 {
        return Ok(if tables == 0 {
            Schema::Empty
        } else {
            Schema::Foreign
        });
    }
    let mut stmt = conn.prepare("SELECT version FROM _sqlx_migrations WHERE success")?;
    let applied: HashSet<i64> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let known: HashSet<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    Ok(if !applied.is_subset(&known) {
        Schema::Foreign
    } else if applied.len() < known.len() {
        Schema::Older {
            applied: applied.len(),
            known: known.len(),
        }
    } else {
        Schema::Current
    })
}

/// The database file a `sqlite:` URL names; an in-memory or unnamed database is refused, since
/// nothing imported there would outlive the command.
fn database_file(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unusable(format!("invalid SQLite URL {url:?}: {e}")))?;
    let name = opts.get_filename().to_string_lossy();
    if name.is_empty() || name.starts_with("file:sqlx-in-memory") || url.contains("mode=memory") {
        return Err(StoreError::Unusable(format!(
            "{url:?} names no database file (an in-memory database would be gone when the \
             command ends): use sqlite://PATH"
        )));
    }
    // SQLite (built with SQLITE_USE_URI) takes a name starting `file:` as a URI of its own,
    // naming another file than this path: the outputs' protection and the run locks would
    // then guard the wrong file.
    if name.starts_with("file:") {
        return Err(StoreError::Unusable(format!(
            "{url:?}: SQLite would read {name:?} as a URI of its own; name the file as a \
             path: sqlite://PATH (or sqlite://./{name} for a file of that name)"
        )));
    }
    if opts.get_filename().is_dir() {
        return Err(StoreError::Unusable(format!(
            "{url:?} names a directory, not a database file"
        )));
    }
    Ok(opts)
}

/// A URL's options that leave nothing to write with: refused for writing commands rather than
/// ignored.
fn read_only_options(url: &str) -> Option<&'static str> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| match kv {
        "mode=ro" => Some("mode=ro"),
        "immutable=1" | "immutable=true" => Some("immutable"),
        _ => None,
    })
}

/// The database file a URL names, the files SQLite keeps beside it, and the run locks'
/// directory.
pub(crate) fn database_files(url: &str) -> Vec<PathBuf> {
    let Ok(opts) = database_file(url) else {
        return Vec::new();
    };
    let path = opts.get_filename();
    let mut files: Vec<PathBuf> = ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .collect();
    files.push(RunLocks::new(path).dir().to_path_buf());
    files
}

impl SqliteStore {
    /// Opens the database file at a `sqlite://PATH` URL. To write, it is created when missing
    /// and migrated (one process at a time); to read, it must exist with this build's schema,
    /// and nothing is written.
    pub async fn open(
        url: &str,
        access: Access,
        opts: StoreOptions,
    ) -> Result<SqliteStore, StoreError> {
        let file = database_file(url)?;
        let path = file.get_filename().to_path_buf();
        let conn = match access {
            Access::Read => open_for_reading(&path)?,
            Access::Write => {
                if let Some(option) = read_only_options(url) {
                    return Err(StoreError::Unusable(format!(
                        "{url:?} opens the database read-only ({option}): this command writes; \
                         drop the option"
                    )));
                }
                let _ = WAITED_ON.set((path.display().to_string(), opts.lock_timeout));
                migrate(file, &RunLocks::new(&path), opts.lock_timeout).await?;
                open_for_writing(&path)?
            }
        };
        Ok(SqliteStore {
            conn,
            // Now that the file exists: beside it, whatever link named it.
            locks: RunLocks::new(&path),
            lock_timeout: opts.lock_timeout,
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
        let max: i64 = self.conn.query_row(
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
            let create: String = self.conn.query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )?;
            self.conn.execute_batch(&format!("DROP INDEX {name}"))?;
            self.deferred.push(create);
        }
        Ok(())
    }

    /// Builds the indexes this transaction deferred.
    fn build_deferred(&mut self) -> Result<(), StoreError> {
        for create in std::mem::take(&mut self.deferred) {
            self.conn.execute_batch(&create)?;
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
        let stored = columns_of(&self.conn, t)?.join(", ");
        let keep = format!(
            "INSERT INTO {t}_history ({stored}, replaced_by) SELECT {stored}, ?2 FROM {t} WHERE rowid = ?1"
        );
        let hash_param = 3 + table.columns.len();
        let mut keep = self.conn.prepare_cached(&keep)?;
        let mut find = self.conn.prepare_cached(&find)?;
        let mut ins = self.conn.prepare_cached(&insert)?;
        let mut upd = self.conn.prepare_cached(&update)?;
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
        self.conn.execute(
            "INSERT INTO accounts (id, slug, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            rusqlite::params![id.to_string(), slug, crate::now()],
        )?;
        Ok(())
    }

    async fn account_id_of(&mut self, account: &AccountRef) -> Result<Option<Uuid>, StoreError> {
        Ok(match account {
            AccountRef::Id(id) => Some(*id),
            AccountRef::Slug(slug) => {
                let mut stmt = self
                    .conn
                    .prepare_cached("SELECT id FROM accounts WHERE slug = ?1")?;
                let mut rows = stmt.query([slug])?;
                match rows.next()? {
                    Some(row) => Uuid::parse_str(&row.get::<_, String>(0)?).ok(),
                    None => None,
                }
            }
        })
    }
}

/// Applies the migrations the database lacks, creating it when missing; one process at a
/// time (several imports started together on a new database take turns here, waiting as for
/// another writer: as long as `lock_timeout` allows, and until a stop is requested).
async fn migrate(
    file: SqliteConnectOptions,
    locks: &RunLocks,
    lock_timeout: Option<std::time::Duration>,
) -> Result<(), StoreError> {
    let path = file.get_filename().to_path_buf();
    let unusable = |e: std::io::Error| {
        StoreError::Unusable(format!("cannot open the database {}: {e}", path.display()))
    };
    let what = || format!("another process to finish migrating {}", path.display());
    let mut lock = None;
    Wait::new(lock_timeout)
        .until(&what, async || {
            lock = locks.try_migration_lock().map_err(unusable)?;
            Ok(lock.is_some())
        })
        .await?;
    if path.exists() && schema_of(&open_for_reading_any(&path)?)? == Schema::Current {
        return Ok(());
    }
    let mut conn = file
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        // Wide rows: 16 KiB pages split less often (takes effect when the file is created).
        .page_size(16384)
        .connect()
        .await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// The connection of a writing command: waits for other writers ([`wait_for_writer`]).
fn open_for_writing(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_handler(Some(wait_for_writer))?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A read-only connection to an existing file, whatever its schema.
fn open_for_reading_any(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    Ok(rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// A read-only connection that takes the file as unchanging: no `-shm` or `-wal` is needed or
/// made.
fn open_immutable(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    Ok(rusqlite::Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// The connection of a reading command: the database must exist and have this build's schema.
fn open_for_reading(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let shown = path.display();
    if !path.exists() {
        return Err(StoreError::Unusable(format!(
            "no database at {shown}: nothing was imported there (check --database or \
             DATABASE_URL)"
        )));
    }
    let mut conn = open_for_reading_any(path)?;
    let mut schema = schema_of(&conn);
    if let Err(StoreError::Sqlite(e)) = &schema {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) {
            // A WAL database needs its `-shm` file, which a reader creates when it is missing:
            // in a directory it may not write (a mounted backup), it reads the file as it is.
            conn = open_immutable(path)?;
            schema = schema_of(&conn);
        }
    }
    match schema? {
        Schema::Current => Ok(conn),
        Schema::Empty | Schema::Foreign => Err(StoreError::Unusable(format!(
            "{shown} is not an ebay-import database of this version (made by another program, \
             or by a newer ebay-import)"
        ))),
        Schema::Older { applied, known } => Err(StoreError::Unusable(format!(
            "{shown} has an older schema ({applied} of {known} migrations): run `ebay-import \
             migrate` (or any import) to bring it up to date"
        ))),
    }
}

impl SqliteStore {
    /// Reads jobs by a `WHERE` condition on `import_jobs` with its parameters.
    fn jobs_where(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let columns = select_list(|name, _| name.to_string());
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {columns} FROM import_jobs WHERE {condition} ORDER BY created_at, id"
        ))?;
        let jobs = stmt.query_map(params, job_from_row)?;
        let jobs: Vec<JobRecord> = jobs.collect::<Result<_, _>>()?;
        jobs.into_iter().map(|j| self.as_seen(j)).collect()
    }

    /// A `processing` job whose run lock is free reads as interrupted: its process is gone
    /// (it lets go of the lock only after its record says how it ended).
    fn as_seen(&self, job: JobRecord) -> Result<JobRecord, StoreError> {
        if job.status != JobStatus::Processing || self.locks.is_held(job.id) {
            return Ok(job);
        }
        Ok(self.stored_job(job.id)?.map_or(job, without_process))
    }

    /// One job's record as stored, read again.
    fn stored_job(&self, id: Uuid) -> Result<Option<JobRecord>, StoreError> {
        let columns = select_list(|name, _| name.to_string());
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {columns} FROM import_jobs WHERE id = ?1"))?;
        let mut rows = stmt.query_map([id.to_string()], job_from_row)?;
        Ok(rows.next().transpose()?)
    }

    /// Marks the jobs whose process is gone `interrupted`, inside the write transaction.
    fn reap_interrupted(&mut self) -> Result<(), StoreError> {
        let gone: Vec<JobRecord> = self
            .jobs_where("status = 'processing'", [])?
            .into_iter()
            .filter(|j| j.status == JobStatus::Interrupted)
            .collect();
        for job in gone {
            self.write_job(&job)?;
            // Its process left its lock file behind.
            self.locks.remove_stale(job.id);
        }
        Ok(())
    }

    fn write_job(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        let sql = upsert_sql(|i, _| format!("?{i}"));
        let values: Vec<rusqlite::types::Value> = job
            .values()
            .into_iter()
            .map(|v| match v {
                crate::jobs::JobValue::Text(t) => t.into(),
                crate::jobs::JobValue::Int(i) => i.into(),
            })
            .collect();
        self.conn
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
        Ok(())
    }
}

/// A job record from a row of its columns: integers and text as SQLite holds them.
fn job_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    JobRecord::from_row(|i| row.get(i), |i| row.get(i))
}

impl Sink for SqliteStore {
    async fn account(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        find_or_create_account(self, account).await
    }

    async fn claim_job(&mut self, job: Uuid) -> Result<(), StoreError> {
        let what = || format!("another process to let go of job {job}");
        let locks = &mut self.locks;
        Wait::new(self.lock_timeout)
            .until(&what, async || {
                locks.try_claim(job).map_err(|e| locks.unusable(e))
            })
            .await
    }

    async fn release_job(&mut self, job: Uuid) -> Result<(), StoreError> {
        self.locks.release(job);
        Ok(())
    }

    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        self.write_job(job)
    }

    async fn begin(&mut self, _account: Uuid, incoming: Option<u64>) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.in_tx = true;
        self.incoming = incoming;
        self.reap_interrupted()
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
        let mut stmt = self.conn.prepare_cached(
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

    async fn touch(&mut self, rollup: &'static Rollup, keys: &[String]) -> Result<(), StoreError> {
        let d = &rollup::SQLITE;
        self.conn
            .prepare_cached(&d.on_keys(d.keys_table, rollup))?
            .execute([])?;
        let keys = serde_json::to_string(keys).expect("strings serialize");
        self.conn
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
        self.conn.execute(&d.on_keys(d.keys_table, rollup), [])?;
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
        self.conn.execute(&d.on_keys(d.clear_keys, rollup), [])?;
        Ok(counts)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.build_deferred()?;
        crash::point("commit");
        self.conn.execute_batch("COMMIT")?;
        crash::point("committed");
        self.end_transaction();
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.in_tx {
            self.end_transaction();
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }
}

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
    async fn next_page(&mut self, after: &str) -> Result<rollup::Page, StoreError> {
        rollup::page_by_keys(self, after).await
    }

    async fn next_keys(&mut self, after: &str) -> Result<Vec<String>, StoreError> {
        let d = &rollup::SQLITE;
        let mut page = self
            .store
            .conn
            .prepare_cached(&d.on_keys(d.page, self.rollup))?;
        let keys = page.query_map(rusqlite::params![after, rollup::PAGE], |r| r.get(0))?;
        Ok(keys.collect::<Result<_, _>>()?)
    }

    async fn written_by_job(&mut self, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        let sql = rollup::written_by_job(self.rollup, &rollup::SQLITE);
        let mut stmt = self.store.conn.prepare_cached(&sql)?;
        let params = rusqlite::params![self.account, self.job, Self::json(&keys)];
        let found = stmt.query_map(params, |r| r.get(0))?;
        Ok(found.collect::<Result<_, _>>()?)
    }

    async fn summaries(&mut self, keys: &[String]) -> Result<Vec<rollup::RollupRow>, StoreError> {
        rollup::by_scan(self, keys).await
    }

    async fn write(&mut self, table: &TableRows) -> Result<Vec<Outcome>, StoreError> {
        self.store.write_table(table, &self.account, &self.job)
    }
}

impl rollup::ScanQueries for SqliteRefresh<'_> {
    type Ref = i64;

    async fn scan(&mut self, keys: &[String]) -> Result<Vec<rollup::SourceRow<i64>>, StoreError> {
        let sql = rollup::scan(self.rollup, &rollup::SQLITE);
        let mut stmt = self.store.conn.prepare_cached(&sql)?;
        let params = rusqlite::params![self.account, Self::json(&keys)];
        let found = stmt.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(found.collect::<Result<_, _>>()?)
    }

    async fn latest(&mut self, refs: Vec<i64>) -> Result<rollup::LatestValues<i64>, StoreError> {
        let sql = rollup::latest(self.rollup, &rollup::SQLITE);
        let width = self.rollup.latest.len();
        let mut stmt = self.store.conn.prepare_cached(&sql)?;
        let params = rusqlite::params![self.account, self.job, Self::json(&refs)];
        let found = stmt.query_map(params, |r| {
            let values = (0..width)
                .map(|i| r.get::<_, Option<String>>(1 + i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((r.get::<_, i64>(0)?, values))
        })?;
        Ok(found.collect::<Result<_, _>>()?)
    }
}

impl crate::UndoQueries for SqliteStore {
    async fn job_for_update(&mut self, id: Uuid) -> Result<JobRecord, StoreError> {
        self.stored_job(id)?
            .ok_or_else(|| StoreError::NoSuchJob(id.to_string()))
    }

    async fn changed_later(&mut self, job: Uuid) -> Result<Vec<String>, StoreError> {
        let mut later = Vec::new();
        for (t, _) in DATA_TABLES {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT DISTINCT replaced_by FROM {t}_history WHERE job_id = ?1 AND replaced_by <> ?1"
            ))?;
            let jobs = stmt.query_map([job.to_string()], |r| r.get::<_, String>(0))?;
            for j in jobs {
                later.push(j?);
            }
        }
        Ok(later)
    }

    async fn undo(&mut self, job: Uuid) -> Result<RollbackSummary, StoreError> {
        let id = job.to_string();
        let mut summary = RollbackSummary::default();
        for (t, key) in DATA_TABLES {
            let cols = columns_of(&self.conn, t)?;
            let cols: Vec<&str> = cols
                .iter()
                .map(String::as_str)
                .filter(|c| *c != "account_id" && c != key)
                .collect();
            let before = format!(
                "FROM {t}_history h WHERE h.replaced_by = ?1 AND h.job_id <> ?1 \
                 AND h.account_id = {t}.account_id AND h.{key} = {t}.{key}"
            );
            let restored = self.conn.execute(
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
            let deleted = self
                .conn
                .execute(&format!("DELETE FROM {t} WHERE job_id = ?1"), [&id])?;
            self.conn.execute(
                &format!("DELETE FROM {t}_history WHERE replaced_by = ?1"),
                [&id],
            )?;
            summary.restored.insert(t.to_string(), restored as u64);
            summary.deleted.insert(t.to_string(), deleted as u64);
        }
        Ok(summary)
    }
}

impl JobControl for SqliteStore {
    async fn rollback_job(
        &mut self,
        id: Uuid,
        force: bool,
    ) -> Result<(JobRecord, RollbackSummary), StoreError> {
        crate::roll_back(self, id, force).await
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
        match account {
            None => self.jobs_where("1", []),
            Some(a) => match self.account_id_of(a).await? {
                Some(id) => self.jobs_where("account_id = ?1", [id.to_string()]),
                None => Ok(Vec::new()),
            },
        }
    }

    async fn act_for(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        self.account_id_of(account)
            .await?
            .ok_or_else(|| StoreError::NoSuchAccount(account.to_string()))
    }

    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError> {
        // A unique prefix of the id is enough, as with git commits.
        crate::check_id_prefix(id)?;
        let found = self.jobs_where("id LIKE ?1 || '%' AND ?1 <> ''", [id])?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(StoreError::NoSuchJob(id.to_string())),
        }
    }

    async fn rejects(
        &mut self,
        id: Uuid,
        each: &mut dyn FnMut(Reject) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT line, record, column_name, code, message, value, raw_line FROM import_rejects \
             WHERE job_id = ?1 ORDER BY line, rowid",
        )?;
        let mut rows = stmt.query([id.to_string()])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            each(reject_from_parts(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                &r.get::<_, String>(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))?;
            n += 1;
        }
        Ok(n)
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
        let mut store = SqliteStore::open(&url, Access::Write, StoreOptions::default())
            .await
            .expect("open");
        let definition = |store: &SqliteStore, name: &str| -> Option<String> {
            store
                .conn
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
