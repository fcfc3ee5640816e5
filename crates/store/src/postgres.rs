//! The PostgreSQL store: production.
//!
//! One connection per store. A job's record is written on it outside the data transaction
//! while the job starts and when it fails (so a failed job's reason survives its rollback),
//! and inside the transaction with its last rows (so its final status, counts and cursor
//! commit with them). A running job holds a session-level advisory lock on the same
//! connection: if the process or its connection dies, the server lets go of the lock and
//! rolls the transaction back together, so the job's record and its rows can never disagree.
//! In the data transaction the account is set (`ebay_import.account_id`, which the
//! row-level security policies check) and an advisory lock per account is taken, so two
//! imports of one account never interleave while imports of different accounts run side by
//! side.
//!
//! Rows reach the server by binary COPY into a temporary staging table per data table (COPY
//! into a table with row-level security is not allowed, and staging keeps it set-based), then
//! one `INSERT … SELECT … ON CONFLICT (account_id, key) DO UPDATE … WHERE row_hash IS DISTINCT
//! FROM …` per batch upserts them (a `WITH` clause of the same statement keeps the versions it
//! replaces, for `rollback`). Its `RETURNING key, xmax = 0` tells inserted from updated
//! rows; the rows it does not return were unchanged. A batch whose rows repeat a key (possible
//! with `--on-duplicate last-wins`) is upserted in rounds without repeats, because one
//! `ON CONFLICT` statement may not touch a row twice.
//!
//! SQL text is built only from the static schema's column names; every value from a file
//! travels as COPY data or a bound parameter.

use crate::jobs::{select_list, upsert_sql, ColumnType, JobValue};
use crate::pg_tls::{self, Tls};
use crate::pgcopy::CopyWriter;
use crate::rollup;
use crate::wait::Wait;
use crate::{
    find_or_create_account, reject_from_parts, without_process, Access, AccountRef, AccountTable,
    JobControl, JobLog, JobRecord, JobStatus, RollbackSummary, Sink, StoreError, StoreOptions,
    DATA_TABLES,
};
use ebay_import_map::Rollup;
use ebay_import_model::{crash, Reject};
use ebay_import_resolve::{Outcome, ResolvedBatch, RowWrite, TableRows};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The key of a job's run lock, computed by the server so other tools can take the same one.
const JOB_LOCK: &str = "hashtextextended('ebay_import_job:' || $1, 0)";
/// The key of an account's import lock.
const ACCOUNT_LOCK: &str = "hashtextextended('ebay_import:' || $1, 0)";

pub struct PgStore {
    conn: PgConnection,
    opts: PgConnectOptions,
    tls: Tls,
    target: String,
    lock_timeout: Option<std::time::Duration>,
    /// The account set on the session (for row-level security).
    account: Option<Uuid>,
    in_tx: bool,
    /// Temporary tables (staging, touched groups) created in the current transaction.
    staged: HashSet<String>,
    /// Jobs whose run lock this connection holds.
    running: HashSet<Uuid>,
    /// The columns of each data table, as the database has them (read once).
    columns: HashMap<String, Vec<String>>,
    /// Whether the account has other jobs, asked once per transaction ([`Self::holds_others`]).
    others: Option<bool>,
    /// The tables whose last upsert round in this transaction updated rows.
    updating: HashSet<String>,
    /// The account's partition of each data table the transaction wrote.
    partitions: HashMap<&'static str, Partition>,
}

/// The account's partition of a data table, as the current transaction found or made it.
/// The account's rows are written to it directly, not through the parent table: routing
/// costs a lookup per row, and a partitioned table cannot return a row's `xmax` (which tells
/// an inserted row from an updated one).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Partition {
    /// Its name, quoted.
    name: String,
    state: PartitionState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartitionState {
    /// It was there: rows are upserted.
    Found,
    /// Made by this transaction as a standalone table, without indexes, attached at the
    /// commit: rows are copied straight in.
    Loading,
    /// Made by this transaction and attached: every row in it is the transaction's.
    Attached,
}

impl Partition {
    /// Whether every row in it is the transaction's.
    fn made_here(&self) -> bool {
        self.state != PartitionState::Found
    }
}

/// Opens the connection, named so it shows up as such in `pg_stat_activity`.
async fn connect(
    opts: &PgConnectOptions,
    tls: &Tls,
    target: &str,
) -> Result<PgConnection, StoreError> {
    let opts = opts.clone().application_name("ebay-import");
    let conn = pg_tls::connect(&opts, tls)
        .await
        .map_err(|e| StoreError::Connect(connect_message(target, tls, &e)))?;
    tcp_no_delay();
    Ok(conn)
}

/// Sets TCP_NODELAY, as libpq does, on the process's TCP sockets, which are its database
/// connections. sqlx sets none and writes each TLS record with a write of its own, so Nagle's
/// algorithm held every record after a message's first until the server acknowledged the one
/// before: an import over TLS took a quarter longer than in plaintext (see the README).
#[cfg(target_os = "linux")]
fn tcp_no_delay() {
    use std::os::fd::{BorrowedFd, RawFd};
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in fds.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok())
        else {
            continue;
        };
        let socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !socket {
            continue;
        }
        // SAFETY: the descriptor is open (just listed, and this process opens no sockets on
        // other threads) and is a socket; it is only borrowed for these calls.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&fd);
        let tcp = sock.r#type().is_ok_and(|t| t == socket2::Type::STREAM)
            && sock.local_addr().is_ok_and(|a| a.is_ipv4() || a.is_ipv6());
        if tcp {
            let _ = sock.set_tcp_nodelay(true);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn tcp_no_delay() {}

impl PgStore {
    /// Connects to a `postgres://` URL. To write, the embedded migrations are applied when the
    /// schema is not this build's yet (sqlx takes an advisory lock around them, so concurrent
    /// imports wait their turn); to read, the schema must be this build's, and nothing is written.
    pub async fn open(
        url: &str,
        access: Access,
        opts: StoreOptions,
    ) -> Result<PgStore, StoreError> {
        let (pg, tls) = pg_tls::options(url).map_err(StoreError::Connect)?;
        let target = describe(&pg);
        tls.check().map_err(|e| {
            StoreError::Connect(format!("cannot connect to PostgreSQL {target}: {e}"))
        })?;
        let mut conn = connect(&pg, &tls, &target).await?;
        match access {
            // A schema that is this build's is not migrated again, so a role that may write
            // rows but create nothing (a loader) imports into it.
            Access::Write => {
                if check_schema(&mut conn, &target).await.is_err() {
                    MIGRATOR.run(&mut conn).await?
                }
            }
            Access::Read => check_schema(&mut conn, &target).await?,
        }
        Ok(PgStore {
            conn,
            opts: pg,
            tls,
            target,
            lock_timeout: opts.lock_timeout,
            account: None,
            in_tx: false,
            staged: HashSet::new(),
            running: HashSet::new(),
            columns: HashMap::new(),
            others: None,
            updating: HashSet::new(),
            partitions: HashMap::new(),
        })
    }

    /// Sets the account the session's statements are confined to (row-level security).
    async fn set_account(&mut self, account: Uuid) -> Result<(), StoreError> {
        if self.account != Some(account) {
            sqlx::query("SELECT set_config('ebay_import.account_id', $1, false)")
                .bind(account.to_string())
                .execute(&mut self.conn)
                .await?;
            self.account = Some(account);
        }
        Ok(())
    }

    /// A fresh connection after the old one was lost; its locks and settings went with it.
    async fn reconnect(&mut self) -> Result<(), StoreError> {
        self.conn = connect(&self.opts, &self.tls, &self.target).await?;
        self.running.clear();
        self.account = None;
        Ok(())
    }

    /// Whether the session's role is bound by row-level security (neither superuser nor
    /// BYPASSRLS).
    async fn under_row_security(&mut self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT NOT (rolsuper OR rolbypassrls) FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&mut self.conn)
        .await?)
    }

    /// Whether some session (this one included) holds `job`'s run lock.
    async fn job_lock_held(&mut self, job: Uuid) -> Result<bool, StoreError> {
        if self.running.contains(&job) {
            return Ok(true);
        }
        let free: bool = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT pg_try_advisory_lock({JOB_LOCK})"
        )))
        .bind(job.to_string())
        .fetch_one(&mut self.conn)
        .await?;
        if free {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT pg_advisory_unlock({JOB_LOCK})"
            )))
            .bind(job.to_string())
            .execute(&mut self.conn)
            .await?;
        }
        Ok(!free)
    }

    /// Jobs by a `WHERE` condition on `import_jobs` whose only parameter is `param`.
    async fn jobs_where(
        &mut self,
        condition: &str,
        param: Option<String>,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM import_jobs WHERE {condition} ORDER BY created_at, id",
            select_list(read_job_column)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(param)
            .fetch_all(&mut self.conn)
            .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in &rows {
            let job = job_from_row(row)?;
            jobs.push(self.as_seen(job).await?);
        }
        Ok(jobs)
    }

    /// A `processing` job whose run lock is free reads as interrupted: its process is gone
    /// (it lets go of the lock only after its record says how it ended).
    async fn as_seen(&mut self, job: JobRecord) -> Result<JobRecord, StoreError> {
        if job.status != JobStatus::Processing || self.job_lock_held(job.id).await? {
            return Ok(job);
        }
        Ok(without_process(self.stored_job(job.id).await?))
    }

    /// One job's record as stored; inside a transaction, locked against other writers.
    async fn stored_job(&mut self, id: Uuid) -> Result<JobRecord, StoreError> {
        let lock = if self.in_tx { " FOR UPDATE" } else { "" };
        let sql = format!(
            "SELECT {} FROM import_jobs WHERE id = $1::uuid{lock}",
            select_list(read_job_column)
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&mut self.conn)
            .await?
            .ok_or_else(|| StoreError::NoSuchJob(id.to_string()))?;
        job_from_row(&row)
    }

    /// Marks the account's jobs whose process is gone `interrupted`.
    async fn reap_interrupted(&mut self, account: Uuid) -> Result<(), StoreError> {
        let seen = self
            .jobs_where(
                "status = 'processing' AND account_id = $1::uuid",
                Some(account.to_string()),
            )
            .await?;
        for job in seen.iter().filter(|j| j.status == JobStatus::Interrupted) {
            self.save_job(job).await?;
        }
        Ok(())
    }

    /// Waits for the advisory lock `lock(key)` (a `pg_try_advisory_*` call), trying again
    /// every [`crate::wait::POLL`] so the wait can end at `--lock-timeout` or a requested stop.
    async fn take_lock(
        &mut self,
        lock: &str,
        key: Uuid,
        what: &dyn Fn() -> String,
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT {lock}");
        let (conn, key) = (&mut self.conn, key.to_string());
        Wait::new(self.lock_timeout)
            .until(what, async || {
                Ok(sqlx::query_scalar(AssertSqlSafe(sql.clone()))
                    .bind(&key)
                    .fetch_one(&mut *conn)
                    .await?)
            })
            .await
    }

    /// Waits for the account's import lock inside the transaction.
    async fn lock_account(&mut self, account: Uuid) -> Result<(), StoreError> {
        let what = || {
            format!(
                "another import of account {account} to finish (imports of one account run one \
                 at a time)"
            )
        };
        let lock = format!("pg_try_advisory_xact_lock({ACCOUNT_LOCK})");
        self.take_lock(&lock, account, &what).await
    }

    /// The columns of a table, in order, as the database has them.
    async fn stored_columns(&mut self, table: &str) -> Result<Vec<String>, StoreError> {
        if let Some(c) = self.columns.get(table) {
            return Ok(c.clone());
        }
        let cols: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut self.conn)
        .await?;
        self.columns.insert(table.to_string(), cols.clone());
        Ok(cols)
    }

    /// Whether rows of the account may have been written by other jobs: only such rows have
    /// versions to keep when replaced. A row's job is one of its account's jobs, so an account
    /// with no other job (a backfill into a new account) holds none. Asked once per
    /// transaction (another job may run between two `--commit-every` parts), by the jobs'
    /// index: whatever the account already stores, it costs one lookup.
    async fn holds_others(&mut self, account: Uuid, job: Uuid) -> Result<bool, StoreError> {
        if let Some(held) = self.others {
            return Ok(held);
        }
        let held: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM import_jobs WHERE account_id = $1::uuid AND id <> $2::uuid)",
        )
        .bind(account.to_string())
        .bind(job.to_string())
        .fetch_one(&mut self.conn)
        .await?;
        self.others = Some(held);
        Ok(held)
    }

    /// A `WITH` clause that keeps, for `rollback`, the version of each row the upsert after
    /// it replaces (parameter 1: the job). Every part of a statement reads the same snapshot,
    /// so it sees the rows as they were before the upsert, which a round changes once at
    /// most. A version the job itself wrote (an earlier batch or part) is never restored, so
    /// it is not kept.
    async fn keep_replaced(
        &mut self,
        table: &str,
        target: &str,
        key: &str,
        stage: &str,
    ) -> Result<String, StoreError> {
        let cols = self.stored_columns(table).await?;
        let list = cols.join(", ");
        let from_d = cols
            .iter()
            .map(|c| format!("d.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(format!(
            "WITH kept AS (INSERT INTO {table}_history ({list}, replaced_by) \
             SELECT {from_d}, $1::uuid FROM {stage} s JOIN {target} d \
             ON d.account_id = s.account_id AND d.{key} = s.{key} \
             WHERE d.row_hash IS DISTINCT FROM s.row_hash AND d.job_id <> $1::uuid) "
        ))
    }

    /// Runs `upsert` with the `keep` clause in front of it (parameter 1: the job), which costs a
    /// second index probe per staged row. A round of a table whose last round updated nothing
    /// (a re-import, mostly unchanged) runs the upsert alone first, under a savepoint, and
    /// again with the clause only if it did update a row.
    async fn upsert_keeping(
        &mut self,
        table: &str,
        upsert: &str,
        keep: &str,
        job: Uuid,
    ) -> Result<Vec<sqlx::postgres::PgRow>, StoreError> {
        let updated = |rows: &[sqlx::postgres::PgRow]| rows.iter().any(|r| !r.get::<bool, _>(1));
        if !self.updating.contains(table) {
            sqlx::raw_sql("SAVEPOINT upsert_round")
                .execute(&mut self.conn)
                .await?;
            let returned = sqlx::query(AssertSqlSafe(upsert.to_string()))
                .fetch_all(&mut self.conn)
                .await?;
            if !updated(&returned) {
                sqlx::raw_sql("RELEASE SAVEPOINT upsert_round")
                    .execute(&mut self.conn)
                    .await?;
                return Ok(returned);
            }
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT upsert_round")
                .execute(&mut self.conn)
                .await?;
        }
        let returned = sqlx::query(AssertSqlSafe(format!("{keep}{upsert}")))
            .bind(job.to_string())
            .fetch_all(&mut self.conn)
            .await?;
        match updated(&returned) {
            true => self.updating.insert(table.to_string()),
            false => self.updating.remove(table),
        };
        Ok(returned)
    }

    /// The account's partition of `table`. The transaction's first write of a table finds
    /// it, or makes it: as a standalone table to load and attach when this role owns the
    /// tables, else empty and attached by `ebay_import_add_partition` (which runs as their
    /// owner).
    async fn partition(
        &mut self,
        table: &'static str,
        account: Uuid,
    ) -> Result<Partition, StoreError> {
        if let Some(p) = self.partitions.get(table) {
            return Ok(p.clone());
        }
        let (name, found, may_load): (String, bool, bool) = sqlx::query_as(
            "SELECT ebay_import_partition($1, $2::uuid), \
             to_regclass(quote_ident(ebay_import_partition($1, $2::uuid))) IS NOT NULL, \
             has_schema_privilege(current_schema(), 'CREATE') AND pg_has_role(c.relowner, 'USAGE') \
             FROM pg_class c WHERE c.oid = $1::regclass",
        )
        .bind(table)
        .bind(account.to_string())
        .fetch_one(&mut self.conn)
        .await?;
        let state = if found {
            PartitionState::Found
        } else {
            let (make, state) = match may_load {
                true => (
                    "SELECT ebay_import_new_partition($1, $2::uuid)",
                    PartitionState::Loading,
                ),
                false => (
                    "SELECT ebay_import_add_partition($1, $2::uuid)",
                    PartitionState::Attached,
                ),
            };
            sqlx::query(make)
                .bind(table)
                .bind(account.to_string())
                .execute(&mut self.conn)
                .await?;
            state
        };
        let made = Partition {
            name: format!("\"{name}\""),
            state,
        };
        self.partitions.insert(table, made.clone());
        Ok(made)
    }

    /// Whether the transaction made the account's partition of `table` (every row in it is
    /// the transaction's).
    fn made_here(&self, table: &str) -> bool {
        self.partitions.get(table).is_some_and(Partition::made_here)
    }

    /// Attaches the account's partition of `table`, which builds its indexes.
    async fn attach(&mut self, table: &'static str, account: Uuid) -> Result<(), StoreError> {
        sqlx::query("SELECT ebay_import_attach($1, $2::uuid)")
            .bind(table)
            .bind(account.to_string())
            .execute(&mut self.conn)
            .await?;
        if let Some(p) = self.partitions.get_mut(table) {
            p.state = PartitionState::Attached;
        }
        Ok(())
    }

    /// Attaches every partition still loading, in the order of their tables' names.
    async fn attach_loaded(&mut self) -> Result<(), StoreError> {
        let Some(account) = self.account else {
            return Ok(());
        };
        let mut loading: Vec<&'static str> = self
            .partitions
            .iter()
            .filter(|(_, p)| p.state == PartitionState::Loading)
            .map(|(t, _)| *t)
            .collect();
        loading.sort_unstable();
        for table in loading {
            self.attach(table, account).await?;
        }
        Ok(())
    }

    async fn write_table(
        &mut self,
        table: &TableRows,
        account: Uuid,
        job: Uuid,
    ) -> Result<Vec<Outcome>, StoreError> {
        let partition = self.partition(table.table, account).await?;
        if partition.state == PartitionState::Loading {
            let repeats = round_end(&table.rows, 0) < table.rows.len();
            if !table.rewrites && !repeats {
                let all = 0..table.rows.len();
                self.copy_rows(&partition.name, table, all, account, job)
                    .await?;
                return Ok(vec![Outcome::Inserted; table.rows.len()]);
            }
            // A key written before is upserted, through the unique index the attach builds.
            self.attach(table.table, account).await?;
        }
        let stage = format!("stage_{}", table.table);
        if self.staged.insert(stage.clone()) {
            sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE TEMP TABLE {stage} (LIKE {t}) ON COMMIT DROP",
                t = table.table
            )))
            .execute(&mut self.conn)
            .await?;
        }
        let mut outcomes = vec![Outcome::Unchanged; table.rows.len()];
        let mut start = 0;
        while start < table.rows.len() {
            let end = round_end(&table.rows, start);
            self.upsert_round(table, &stage, start..end, account, job, &mut outcomes)
                .await?;
            start = end;
        }
        Ok(outcomes)
    }

    /// Makes the rollup's temporary table of touched groups, once per transaction (it is
    /// dropped at commit, like the staging tables).
    async fn keys_table(&mut self, rollup: &'static Rollup) -> Result<(), StoreError> {
        let d = &rollup::POSTGRES;
        if self.staged.insert(d.on_keys("{keys}", rollup)) {
            sqlx::raw_sql(AssertSqlSafe(d.on_keys(d.keys_table, rollup)))
                .execute(&mut self.conn)
                .await?;
        }
        Ok(())
    }

    /// Copies the rows (binary COPY) into `target`: the table's staging table, or the
    /// account's partition while it loads.
    async fn copy_rows(
        &mut self,
        target: &str,
        table: &TableRows,
        rows: std::ops::Range<usize>,
        account: Uuid,
        job: Uuid,
    ) -> Result<(), StoreError> {
        let names = stored_names(table);
        let mut copy = CopyWriter::new();
        for r in &table.rows[rows] {
            copy.tuple(names.len() as u16);
            copy.uuid(&account);
            for (_, col) in &table.columns {
                copy.value(col, r.row as usize);
            }
            copy.int8(r.hash as i64);
            copy.uuid(&job);
            copy.int8(r.line as i64);
        }
        let cols = names.join(", ");
        let mut sink = self
            .conn
            .copy_in_raw(&format!(
                "COPY {target} ({cols}) FROM STDIN (FORMAT binary)"
            ))
            .await?;
        sink.send(copy.finish()).await?;
        sink.finish().await?;
        Ok(())
    }

    async fn upsert_round(
        &mut self,
        table: &TableRows,
        stage: &str,
        rows: std::ops::Range<usize>,
        account: Uuid,
        job: Uuid,
        outcomes: &mut [Outcome],
    ) -> Result<(), StoreError> {
        sqlx::raw_sql(AssertSqlSafe(format!("TRUNCATE {stage}")))
            .execute(&mut self.conn)
            .await?;
        self.copy_rows(stage, table, rows.clone(), account, job)
            .await?;
        let names = stored_names(table);
        let cols = names.join(", ");
        let key = table.key_column;
        let target = match self.partitions.get(table.table) {
            Some(p) => p.name.clone(),
            None => table.table.to_string(),
        };
        let sets = names
            .iter()
            .filter(|n| **n != "account_id" && **n != key)
            .map(|n| format!("{n} = EXCLUDED.{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let upsert = format!(
            "INSERT INTO {target} AS d ({cols}) SELECT {cols} FROM {stage} \
             ON CONFLICT (account_id, {key}) DO UPDATE SET {sets} \
             WHERE d.row_hash IS DISTINCT FROM EXCLUDED.row_hash \
             RETURNING d.{key}, d.xmax = 0"
        );
        let returned = if self.holds_others(account, job).await? {
            let keep = self.keep_replaced(table.table, &target, key, stage).await?;
            self.upsert_keeping(table.table, &upsert, &keep, job)
                .await?
        } else {
            sqlx::query(AssertSqlSafe(upsert))
                .fetch_all(&mut self.conn)
                .await?
        };
        let at: HashMap<&str, usize> = table.rows[rows.clone()]
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key.as_str(), rows.start + i))
            .collect();
        for row in returned {
            let key: String = row.get(0);
            let inserted: bool = row.get(1);
            if let Some(&i) = at.get(key.as_str()) {
                outcomes[i] = if inserted {
                    Outcome::Inserted
                } else {
                    Outcome::Updated
                };
            }
        }
        Ok(())
    }
}

/// Where the round of rows from `start` ends: before the first key it has seen already (one
/// `ON CONFLICT` statement may not touch a row twice).
fn round_end(rows: &[RowWrite], start: usize) -> usize {
    let mut keys = HashSet::new();
    rows[start..]
        .iter()
        .position(|r| !keys.insert(r.key.as_str()))
        .map_or(rows.len(), |n| start + n)
}

/// The columns a table's rows are stored in: the account, the row's columns, then the
/// row's hash, job and line.
fn stored_names(table: &TableRows) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = vec!["account_id"];
    names.extend(table.columns.iter().map(|(n, _)| *n));
    names.extend(["row_hash", "job_id", "source_line"]);
    names
}

/// A summary refresh's queries on PostgreSQL: source rows are named by their natural key.
struct PgRefresh<'a> {
    store: &'a mut PgStore,
    rollup: &'static Rollup,
    account: Uuid,
    job: Uuid,
    /// The source's partition is the transaction's: its groups are all touched, paged from
    /// it by range instead of from a table of touched keys.
    whole: bool,
    /// The summary table's partition is the transaction's, so no earlier part of the job
    /// wrote in it.
    fresh: bool,
    /// Whether the cursor over every group (when `whole`) is open.
    declared: bool,
}

impl PgRefresh<'_> {
    /// The summary rows of [`rollup::summaries`].
    fn rollup_rows(
        &self,
        found: &[sqlx::postgres::PgRow],
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        let width = self.rollup.latest.len();
        let rows = found
            .iter()
            .map(|r| {
                Ok(rollup::RollupRow {
                    key: r.try_get(0)?,
                    latest: (0..width)
                        .map(|i| r.try_get(1 + i))
                        .collect::<Result<_, _>>()?,
                    first: r.try_get(1 + width)?,
                    last: r.try_get(2 + width)?,
                    count: r.try_get(3 + width)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(rows)
    }

    /// The rows of a refresh query whose parameters are the account, the job when `of_job`,
    /// and a list.
    async fn rows(
        &mut self,
        sql: String,
        of_job: bool,
        list: &[String],
    ) -> Result<Vec<sqlx::postgres::PgRow>, StoreError> {
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(self.account.to_string());
        if of_job {
            q = q.bind(self.job.to_string());
        }
        Ok(q.bind(list).fetch_all(&mut self.store.conn).await?)
    }
}

impl rollup::RefreshQueries for PgRefresh<'_> {
    /// Touched groups page by page; or, when `whole`, every group of the account from one
    /// statement (one scan and sort of the source instead of a lookup per group), fetched
    /// through a cursor a page at a time.
    async fn next_page(&mut self, after: &str) -> Result<rollup::Page, StoreError> {
        if !self.whole {
            return rollup::page_by_keys(self, after).await;
        }
        if !std::mem::replace(&mut self.declared, true) {
            // Every row is fetched: a plan for the first rows only (a cursor's default) may
            // look the summary table up once per group.
            sqlx::raw_sql("SET LOCAL cursor_tuple_fraction = 1")
                .execute(&mut self.store.conn)
                .await?;
            let sql = rollup::summaries(self.rollup, &rollup::POSTGRES, true);
            sqlx::query(AssertSqlSafe(format!(
                "DECLARE rollup_groups NO SCROLL CURSOR FOR {sql}"
            )))
            .bind(self.account.to_string())
            .bind(self.job.to_string())
            .execute(&mut self.store.conn)
            .await?;
        }
        let found = sqlx::query(AssertSqlSafe(format!(
            "FETCH {} FROM rollup_groups",
            rollup::PAGE
        )))
        .fetch_all(&mut self.store.conn)
        .await?;
        let rows = self.rollup_rows(&found)?;
        let Some(last) = rows.last().map(|r| r.key.clone()) else {
            sqlx::raw_sql("CLOSE rollup_groups")
                .execute(&mut self.store.conn)
                .await?;
            return Ok((rows, None));
        };
        Ok((rows, Some(last)))
    }

    async fn next_keys(&mut self, after: &str) -> Result<Vec<String>, StoreError> {
        let d = &rollup::POSTGRES;
        Ok(
            sqlx::query_scalar(AssertSqlSafe(d.on_keys(d.page, self.rollup)))
                .bind(after)
                .bind(rollup::PAGE)
                .fetch_all(&mut self.store.conn)
                .await?,
        )
    }

    async fn written_by_job(&mut self, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        if self.fresh {
            return Ok(HashSet::new());
        }
        let sql = rollup::written_by_job(self.rollup, &rollup::POSTGRES);
        let found = self.rows(sql, true, keys).await?;
        Ok(found.iter().map(|r| r.get(0)).collect())
    }

    async fn summaries(&mut self, keys: &[String]) -> Result<Vec<rollup::RollupRow>, StoreError> {
        let sql = rollup::summaries(self.rollup, &rollup::POSTGRES, false);
        let found = self.rows(sql, true, keys).await?;
        let mut rows = self.rollup_rows(&found)?;
        // In the engine's order of keys (bytes), as a refresh by scan gives them.
        rows.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        Ok(rows)
    }

    async fn write(&mut self, table: &TableRows) -> Result<Vec<Outcome>, StoreError> {
        self.store.write_table(table, self.account, self.job).await
    }
}

/// Reads a job column as text or an integer.
fn read_job_column(name: &str, t: ColumnType) -> String {
    match t {
        ColumnType::Text | ColumnType::Int => name.to_string(),
        ColumnType::Uuid | ColumnType::Json => format!("{name}::text AS {name}"),
        ColumnType::Time => format!(
            "to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS {name}"
        ),
    }
}

/// Binds a job column as the server's type.
fn job_param(i: usize, t: ColumnType) -> String {
    match t {
        ColumnType::Text | ColumnType::Int => format!("${i}"),
        ColumnType::Uuid => format!("${i}::uuid"),
        ColumnType::Json => format!("${i}::jsonb"),
        ColumnType::Time => format!("${i}::timestamptz"),
    }
}

fn job_from_row(row: &sqlx::postgres::PgRow) -> Result<JobRecord, StoreError> {
    Ok(JobRecord::from_row(|i| row.try_get(i), |i| row.try_get(i))?)
}

/// Refuses to read a database whose schema is not this build's (reading never migrates).
async fn check_schema(conn: &mut PgConnection, target: &str) -> Result<(), StoreError> {
    let applied: Result<Vec<i64>, sqlx::Error> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *conn)
            .await;
    let applied: HashSet<i64> = match applied {
        Ok(v) => v.into_iter().collect(),
        // A role that may read the jobs but not the migration log reads as it is.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42501") => return Ok(()),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => {
            return Err(StoreError::Unusable(format!(
                "PostgreSQL {target} holds no ebay-import data (no schema): check the URL, or \
                 run `ebay-import migrate` with a role that may create tables"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let known: HashSet<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    if !applied.is_subset(&known) {
        return Err(StoreError::Unusable(format!(
            "PostgreSQL {target} has a newer ebay-import schema than this build knows: upgrade \
             ebay-import"
        )));
    }
    if applied.len() < known.len() {
        return Err(StoreError::Unusable(format!(
            "PostgreSQL {target} has an older schema ({} of {} migrations): run `ebay-import \
             migrate` (or any import) to bring it up to date",
            applied.len(),
            known.len()
        )));
    }
    Ok(())
}

/// `user@host:port/database`, for messages.
fn describe(opts: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        opts.get_username(),
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or(opts.get_username())
    )
}

/// One line that says what went wrong and what to do.
fn connect_message(target: &str, tls: &Tls, e: &sqlx::Error) -> String {
    if let Some(tls) = tls.explain(e) {
        return format!("cannot connect to PostgreSQL {target}: {tls}");
    }
    if let sqlx::Error::Database(db) = e {
        match db.code().as_deref() {
            Some("3D000") => {
                return format!(
                    "cannot connect to PostgreSQL {target}: the database does not exist; \
                     create it (createdb) or fix the URL"
                )
            }
            Some("28P01" | "28000") => {
                return format!(
                    "cannot connect to PostgreSQL {target}: authentication failed ({}); check \
                     the user and password in the URL",
                    db.message()
                )
            }
            _ => {}
        }
    }
    if let sqlx::Error::Io(io) = e {
        if io.kind() == std::io::ErrorKind::ConnectionRefused {
            return format!(
                "cannot connect to PostgreSQL {target}: connection refused; is the server \
                 running and listening there?"
            );
        }
    }
    format!("cannot connect to PostgreSQL {target}: {e}")
}

/// About 7,000 records of an 82-column report per COPY and upsert: 1.7x the rows/s of the
/// reader's 768 KiB chunks (measured), at about 210 MiB peak.
const BATCH_BYTES: usize = 3 << 20;

impl AccountTable for PgStore {
    async fn ensure_account(&mut self, id: Uuid, slug: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO accounts (id, slug, created_at) VALUES ($1::uuid, $2, now()) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(slug.map(str::to_string))
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn account_id_of(&mut self, account: &AccountRef) -> Result<Option<Uuid>, StoreError> {
        Ok(match account {
            AccountRef::Id(id) => Some(*id),
            AccountRef::Slug(slug) => sqlx::query("SELECT id::text FROM accounts WHERE slug = $1")
                .bind(slug.clone())
                .fetch_optional(&mut self.conn)
                .await?
                .and_then(|row| Uuid::parse_str(&row.get::<String, _>(0)).ok()),
        })
    }
}

impl Sink for PgStore {
    fn batch_bytes(&self) -> Option<usize> {
        Some(BATCH_BYTES)
    }

    async fn account(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        find_or_create_account(self, account).await
    }

    async fn claim_job(&mut self, job: Uuid) -> Result<(), StoreError> {
        if self.running.contains(&job) {
            return Ok(());
        }
        let what = || format!("another process to let go of job {job}");
        let lock = format!("pg_try_advisory_lock({JOB_LOCK})");
        self.take_lock(&lock, job, &what).await?;
        self.running.insert(job);
        Ok(())
    }

    async fn release_job(&mut self, job: Uuid) -> Result<(), StoreError> {
        if self.running.remove(&job) {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT pg_advisory_unlock({JOB_LOCK})"
            )))
            .bind(job.to_string())
            .execute(&mut self.conn)
            .await?;
        }
        Ok(())
    }

    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        self.set_account(job.account_id).await?;
        let mut q = sqlx::query(AssertSqlSafe(upsert_sql(job_param)));
        for v in job.values() {
            q = match v {
                JobValue::Text(t) => q.bind(t),
                JobValue::Int(i) => q.bind(i),
            };
        }
        q.execute(&mut self.conn).await?;
        Ok(())
    }

    async fn begin(&mut self, account: Uuid, _incoming: Option<u64>) -> Result<(), StoreError> {
        self.set_account(account).await?;
        sqlx::raw_sql("BEGIN").execute(&mut self.conn).await?;
        self.in_tx = true;
        self.staged.clear();
        self.others = None;
        self.updating.clear();
        self.partitions.clear();
        self.lock_account(account).await?;
        self.reap_interrupted(account).await
    }

    async fn write(
        &mut self,
        account: Uuid,
        job: Uuid,
        batch: &ResolvedBatch,
    ) -> Result<Vec<Vec<Outcome>>, StoreError> {
        let mut all = Vec::with_capacity(batch.tables.len());
        for t in &batch.tables {
            all.push(self.write_table(t, account, job).await?);
        }
        Ok(all)
    }

    async fn write_rejects(&mut self, job: Uuid, rejects: &[Reject]) -> Result<(), StoreError> {
        if rejects.is_empty() {
            return Ok(());
        }
        let col = |f: fn(&Reject) -> Option<String>| rejects.iter().map(f).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO import_rejects (job_id, account_id, line, record, column_name, code, \
             message, value, raw_line) SELECT $1::uuid, $2::uuid, * FROM UNNEST($3::int8[], \
             $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])",
        )
        .bind(job.to_string())
        .bind(self.account.map(|a| a.to_string()))
        .bind(rejects.iter().map(|r| r.line as i64).collect::<Vec<_>>())
        .bind(rejects.iter().map(|r| r.record as i64).collect::<Vec<_>>())
        .bind(col(|r| r.column.clone()))
        .bind(col(|r| Some(r.code.as_str().to_string())))
        .bind(col(|r| Some(r.message.clone())))
        .bind(col(|r| r.value.clone()))
        .bind(col(|r| r.raw.clone()))
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn touch(&mut self, rollup: &'static Rollup, keys: &[String]) -> Result<(), StoreError> {
        if self.made_here(rollup.source) {
            // The refresh takes every group of a partition this transaction made.
            return Ok(());
        }
        let d = &rollup::POSTGRES;
        self.keys_table(rollup).await?;
        sqlx::query(AssertSqlSafe(d.on_keys(d.add_keys, rollup)))
            .bind(keys)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn refresh(
        &mut self,
        account: Uuid,
        job: Uuid,
        rollup: &'static Rollup,
    ) -> Result<[u64; 3], StoreError> {
        let d = &rollup::POSTGRES;
        // The source's rows are read through its parent, by its indexes.
        if self
            .partitions
            .get(rollup.source)
            .is_some_and(|p| p.state == PartitionState::Loading)
        {
            self.attach(rollup.source, account).await?;
        }
        let whole = self.made_here(rollup.source);
        let fresh = self.partition(rollup.table, account).await?.made_here();
        if !whole {
            self.keys_table(rollup).await?;
        }
        let counts = rollup::refresh(
            &mut PgRefresh {
                store: self,
                rollup,
                account,
                job,
                whole,
                fresh,
                declared: false,
            },
            rollup,
        )
        .await?;
        if !whole {
            sqlx::raw_sql(AssertSqlSafe(d.on_keys(d.clear_keys, rollup)))
                .execute(&mut self.conn)
                .await?;
        }
        Ok(counts)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.attach_loaded().await?;
        crash::point("commit");
        sqlx::raw_sql("COMMIT").execute(&mut self.conn).await?;
        crash::point("committed");
        self.in_tx = false;
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if !self.in_tx {
            return Ok(());
        }
        self.in_tx = false;
        self.partitions.clear();
        // A session setting made inside the transaction goes with it.
        self.account = None;
        // A lost connection has rolled the transaction back already; a new one lets the
        // job's record still say how it ended.
        if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await {
            let e = StoreError::from(e);
            if e.is_connection_lost() || self.conn.ping().await.is_err() {
                self.reconnect().await?;
            }
        }
        Ok(())
    }
}

impl JobControl for PgStore {
    async fn rollback_job(
        &mut self,
        id: Uuid,
        force: bool,
    ) -> Result<(JobRecord, RollbackSummary), StoreError> {
        crate::roll_back(self, id, force).await
    }
}

impl crate::UndoQueries for PgStore {
    async fn job_for_update(&mut self, id: Uuid) -> Result<JobRecord, StoreError> {
        self.stored_job(id).await
    }

    async fn changed_later(&mut self, job: Uuid) -> Result<Vec<String>, StoreError> {
        let mut later = Vec::new();
        for (t, _) in DATA_TABLES {
            let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT DISTINCT replaced_by::text FROM {t}_history \
                 WHERE job_id = $1::uuid AND replaced_by <> $1::uuid"
            )))
            .bind(job.to_string())
            .fetch_all(&mut self.conn)
            .await?;
            later.extend(rows);
        }
        Ok(later)
    }

    async fn undo(&mut self, job: Uuid) -> Result<RollbackSummary, StoreError> {
        let id = job.to_string();
        let mut summary = RollbackSummary::default();
        for (t, key) in DATA_TABLES {
            let cols: Vec<String> = self
                .stored_columns(t)
                .await?
                .into_iter()
                .filter(|c| c != "account_id" && c != key)
                .collect();
            let restored = sqlx::query(AssertSqlSafe(format!(
                "UPDATE {t} d SET ({cols}) = ROW({h_cols}) FROM {t}_history h \
                 WHERE h.replaced_by = $1::uuid AND h.job_id <> $1::uuid \
                 AND h.account_id = d.account_id AND h.{key} = d.{key} AND d.job_id = $1::uuid",
                cols = cols.join(", "),
                h_cols = cols
                    .iter()
                    .map(|c| format!("h.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )))
            .bind(&id)
            .execute(&mut self.conn)
            .await?
            .rows_affected();
            let deleted = sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {t} WHERE job_id = $1::uuid"
            )))
            .bind(&id)
            .execute(&mut self.conn)
            .await?
            .rows_affected();
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {t}_history WHERE replaced_by = $1::uuid"
            )))
            .bind(&id)
            .execute(&mut self.conn)
            .await?;
            summary.restored.insert(t.to_string(), restored);
            summary.deleted.insert(t.to_string(), deleted);
        }
        Ok(summary)
    }
}

impl JobLog for PgStore {
    async fn list_jobs(
        &mut self,
        account: Option<&AccountRef>,
    ) -> Result<Vec<JobRecord>, StoreError> {
        match account {
            None => self.jobs_where("TRUE", None).await,
            Some(a) => match self.account_id_of(a).await? {
                Some(id) => {
                    self.set_account(id).await?;
                    self.jobs_where("account_id = $1::uuid", Some(id.to_string()))
                        .await
                }
                None => Ok(Vec::new()),
            },
        }
    }

    async fn act_for(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        let id = self
            .account_id_of(account)
            .await?
            .ok_or_else(|| StoreError::NoSuchAccount(account.to_string()))?;
        self.set_account(id).await?;
        Ok(id)
    }

    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError> {
        // A unique prefix of the id is enough, as with git commits.
        crate::check_id_prefix(id)?;
        let found = self
            .jobs_where("id::text LIKE $1 || '%' AND $1 <> ''", Some(id.to_string()))
            .await?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ if self.account.is_none() && self.under_row_security().await? => {
                Err(StoreError::NoSuchJob(format!(
                    "{id} (a role under row-level security sees only the jobs of the account \
                     given with --account)"
                )))
            }
            _ => Err(StoreError::NoSuchJob(id.to_string())),
        }
    }

    async fn rejects(
        &mut self,
        id: Uuid,
        each: &mut dyn FnMut(Reject) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        let mut rows = sqlx::query(
            "SELECT line, record, column_name, code, message, value, raw_line FROM import_rejects \
             WHERE job_id = $1::uuid ORDER BY line, seq",
        )
        .bind(id.to_string())
        .fetch(&mut self.conn);
        let mut n = 0;
        while let Some(r) = rows.try_next().await? {
            each(reject_from_parts(
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                &r.try_get::<String, _>(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
                r.try_get(6)?,
            ))?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_tcp_sockets_get_no_delay() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let stream =
            std::net::TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
        assert!(!stream.nodelay().expect("read TCP_NODELAY"));
        tcp_no_delay();
        assert!(stream.nodelay().expect("read TCP_NODELAY"));
    }
}
