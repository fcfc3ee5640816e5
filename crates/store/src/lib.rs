//! Storing: the sink that upserts resolved batches per account inside one transaction per job,
//! and the import job records (jobs, their counts and their rejects).
//!
//! [`Sink`] is the seam between the pipeline and a database: SQLite ([`SqliteStore`]) is the
//! zero-set-up default; PostgreSQL ([`PgStore`]) is production. [`Store`] picks one by URL.

mod pg_tls;
mod pgcopy;
mod postgres;
mod rollup;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use ebay_import_map::Rollup;
use ebay_import_model::{ErrorCode, Reject};
use ebay_import_resolve::{Outcome, ResolvedBatch};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("{0}")]
    Connect(String),
    #[error("no import job {0}")]
    NoSuchJob(String),
    #[error("{0}")]
    Refused(String),
    #[error("account {0:?} is neither a UUID nor a slug ([a-z0-9][a-z0-9_-]{{0,63}})")]
    BadAccount(String),
}

/// An account as `--account` names it: a UUID, or a slug recorded in the accounts table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    Id(Uuid),
    Slug(String),
}

impl AccountRef {
    pub fn parse(s: &str) -> Result<AccountRef, StoreError> {
        if let Ok(id) = Uuid::parse_str(s) {
            return Ok(AccountRef::Id(id));
        }
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 64
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b[1..]
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if ok {
            Ok(AccountRef::Slug(s.to_string()))
        } else {
            Err(StoreError::BadAccount(s.to_string()))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Processing,
    Completed,
    PartiallyFailed,
    Failed,
    /// Undone by `rollback`: its inserted rows are gone, its updated rows restored.
    RolledBack,
    /// Its process ended without finishing it (killed, crashed, lost its machine).
    Interrupted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::PartiallyFailed => "partially_failed",
            JobStatus::Failed => "failed",
            JobStatus::RolledBack => "rolled_back",
            JobStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Pending,
            JobStatus::Processing,
            JobStatus::Completed,
            JobStatus::PartiallyFailed,
            JobStatus::Failed,
            JobStatus::RolledBack,
            JobStatus::Interrupted,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

/// Counts of stored rows of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TableCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// An import job as recorded in `import_jobs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub import_type: Option<String>,
    pub file_name: String,
    pub file_size: Option<u64>,
    pub file_sha256: Option<String>,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub site: Option<String>,
    pub status: JobStatus,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub errors_by_code: BTreeMap<String, u64>,
    pub tables: BTreeMap<String, TableCounts>,
    pub metadata: serde_json::Value,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The last commit of a `--commit-every` job: where `resume` continues.
    pub resume_cursor: Option<serde_json::Value>,
}

impl JobRecord {
    pub fn new(account_id: Uuid, file_name: String, created_by: String) -> Self {
        JobRecord {
            id: Uuid::now_v7(),
            account_id,
            import_type: None,
            file_name,
            file_size: None,
            file_sha256: None,
            encoding: None,
            delimiter: None,
            site: None,
            status: JobStatus::Pending,
            rows_read: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            skipped: 0,
            errors_by_code: BTreeMap::new(),
            tables: BTreeMap::new(),
            metadata: serde_json::json!({}),
            error: None,
            created_by,
            created_at: now(),
            started_at: None,
            finished_at: None,
            resume_cursor: None,
        }
    }
}

/// The current UTC time as ISO 8601 text.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The database side of an import: accounts, job records, and the job's data transaction.
///
/// A job's data writes (rows and rejects) happen between [`Sink::begin`] and [`Sink::commit`]:
/// all of them land, or none. Job records are written outside that transaction, so a failed
/// job's record survives with its reason.
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// Finds or creates the account; returns its id.
    async fn account(&mut self, account: &AccountRef) -> Result<Uuid, StoreError>;
    /// Inserts or replaces the job record.
    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError>;
    /// The input bytes per batch this sink works best with, when more than the reader's
    /// default: a batch costs it a fixed number of round trips and statements.
    fn batch_bytes(&self) -> Option<usize> {
        None
    }
    /// Starts the job's data transaction for `account`'s rows; `incoming`: about how many
    /// input bytes it will read, when known (a store may load a big part differently).
    async fn begin(&mut self, account: Uuid, incoming: Option<u64>) -> Result<(), StoreError>;
    /// Upserts the batch's rows; returns the outcome of each row of each table.
    async fn write(
        &mut self,
        account: Uuid,
        job: Uuid,
        batch: &ResolvedBatch,
    ) -> Result<Vec<Vec<Outcome>>, StoreError>;
    async fn write_rejects(&mut self, job: Uuid, rejects: &[Reject]) -> Result<(), StoreError>;
    /// Records where `job` can resume, inside the data transaction (so it commits with the
    /// rows it describes).
    async fn checkpoint(&mut self, job: Uuid, cursor: &serde_json::Value)
        -> Result<(), StoreError>;
    /// Records groups of a summary table (buyer usernames, say) whose source rows this part
    /// of the job wrote, for the next [`Sink::refresh`].
    async fn touch(&mut self, rollup: &'static Rollup, keys: &[String]) -> Result<(), StoreError>;
    /// Refreshes the summary table's rows of the groups touched since the last refresh,
    /// inside the data transaction; returns the rows inserted, updated and unchanged.
    async fn refresh(
        &mut self,
        account: Uuid,
        job: Uuid,
        rollup: &'static Rollup,
    ) -> Result<[u64; 3], StoreError>;
    async fn commit(&mut self) -> Result<(), StoreError>;
    async fn rollback(&mut self) -> Result<(), StoreError>;
}

/// Reading job records back.
#[allow(async_fn_in_trait)]
pub trait JobLog {
    async fn list_jobs(
        &mut self,
        account: Option<&AccountRef>,
    ) -> Result<Vec<JobRecord>, StoreError>;
    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError>;
    async fn rejects(&mut self, id: Uuid) -> Result<Vec<Reject>, StoreError>;
}

/// The `accounts` table as each store writes it.
#[allow(async_fn_in_trait)]
pub(crate) trait AccountTable {
    /// The id of an account given by id, or by a slug already recorded.
    async fn account_id_of(&mut self, account: &AccountRef) -> Result<Option<Uuid>, StoreError>;
    /// Records the account unless it exists.
    async fn ensure_account(&mut self, id: Uuid, slug: Option<&str>) -> Result<(), StoreError>;
}

/// Finds or creates the account. A slug another process recorded first wins: the id is read
/// back after the insert.
pub(crate) async fn find_or_create_account<T: AccountTable>(
    table: &mut T,
    account: &AccountRef,
) -> Result<Uuid, StoreError> {
    if let Some(id) = table.account_id_of(account).await? {
        table.ensure_account(id, None).await?;
        return Ok(id);
    }
    let AccountRef::Slug(slug) = account else {
        unreachable!("ids always resolve")
    };
    table.ensure_account(Uuid::now_v7(), Some(slug)).await?;
    table
        .account_id_of(account)
        .await?
        .ok_or_else(|| StoreError::BadAccount(slug.clone()))
}

/// The process that runs a job: recorded while the job is `processing`, so that a later process
/// can tell a job whose process died (and mark it `interrupted`) from one still running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct JobOwner {
    host: String,
    pid: u32,
    /// The process's start time in clock ticks since boot (Linux), telling a reused pid apart.
    started: Option<u64>,
}

impl JobOwner {
    pub(crate) fn current() -> JobOwner {
        let pid = std::process::id();
        JobOwner {
            host: host_name(),
            pid,
            started: process_start(pid),
        }
    }

    /// `Some(false)` when the process is known to be gone; `None` when this host cannot tell
    /// (another host, or no `/proc`).
    pub(crate) fn alive(&self) -> Option<bool> {
        if self.host != host_name() || !std::path::Path::new("/proc/self/stat").exists() {
            return None;
        }
        Some(process_start(self.pid).is_some_and(|s| Some(s) == self.started))
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Field 22 of `/proc/PID/stat`.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// What an interrupted job's record says.
pub(crate) const INTERRUPTED: &str =
    "the process running this job ended before finishing it (killed, crashed or its machine \
     stopped); nothing of it was committed: import the file again";

/// The data tables and their natural-key columns: what `rollback` undoes.
pub const DATA_TABLES: &[(&str, &str)] = &[
    ("orders", "order_key"),
    ("order_items", "item_key"),
    ("listings", "listing_key"),
    ("products", "sku"),
    ("customers", "username"),
];

/// What a rollback did, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RollbackSummary {
    /// Rows the job had inserted, now deleted.
    pub deleted: BTreeMap<String, u64>,
    /// Rows the job had updated, now back at the version before it.
    pub restored: BTreeMap<String, u64>,
}

/// Undoing a completed job.
#[allow(async_fn_in_trait)]
pub trait JobControl {
    /// Deletes the rows `job` inserted and restores the previous version of the rows it
    /// updated, in one transaction, and marks it `rolled_back`. Refuses (naming them) when
    /// later jobs changed the same rows: those must be rolled back first.
    async fn rollback_job(&mut self, job: &JobRecord) -> Result<RollbackSummary, StoreError>;
}

/// Whether a job in this state can be rolled back.
pub(crate) fn check_rollable(job: &JobRecord) -> Result<(), StoreError> {
    match job.status {
        JobStatus::Completed | JobStatus::PartiallyFailed => Ok(()),
        other => Err(StoreError::Refused(format!(
            "job {} is {}; only completed or partially failed jobs can be rolled back",
            job.id,
            other.as_str()
        ))),
    }
}

/// The refusal when later jobs changed a job's rows.
pub(crate) fn later_jobs_refusal(job: Uuid, mut later: Vec<String>) -> StoreError {
    later.sort();
    later.dedup();
    StoreError::Refused(format!(
        "job {job} cannot be rolled back: later job(s) {} changed the same rows; roll them \
         back first",
        later.join(", ")
    ))
}

/// The job record after a rollback.
pub(crate) fn rolled_back(job: &JobRecord, summary: &RollbackSummary) -> JobRecord {
    let mut job = job.clone();
    job.status = JobStatus::RolledBack;
    if let serde_json::Value::Object(m) = &mut job.metadata {
        m.insert(
            "rollback".into(),
            serde_json::json!({ "at": now(), "deleted": summary.deleted, "restored": summary.restored }),
        );
    }
    job
}

/// The 24 values of an `import_jobs` row, bound in column order (id, account_id, import_type,
/// file_name, file_size, file_sha256, encoding, delimiter, site, status, the six counts,
/// errors_by_code, tables, metadata, error, created_by, created_at, started_at, finished_at)
/// as text and numbers that either store casts to its column types.
pub(crate) fn bind_job<'q, DB: sqlx::Database>(
    q: sqlx::query::Query<'q, DB, DB::Arguments>,
    job: &JobRecord,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<String>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.bind(job.id.to_string())
        .bind(job.account_id.to_string())
        .bind(job.import_type.clone())
        .bind(job.file_name.clone())
        .bind(job.file_size.map(|s| s as i64))
        .bind(job.file_sha256.clone())
        .bind(job.encoding.clone())
        .bind(job.delimiter.clone())
        .bind(job.site.clone())
        .bind(job.status.as_str().to_string())
        .bind(job.rows_read as i64)
        .bind(job.inserted as i64)
        .bind(job.updated as i64)
        .bind(job.unchanged as i64)
        .bind(job.rejected as i64)
        .bind(job.skipped as i64)
        .bind(serde_json::to_string(&job.errors_by_code).expect("map serializes"))
        .bind(serde_json::to_string(&job.tables).expect("map serializes"))
        .bind(job.metadata.to_string())
        .bind(job.error.clone())
        .bind(job.created_by.clone())
        .bind(job.created_at.clone())
        .bind(job.started_at.clone())
        .bind(job.finished_at.clone())
}

/// A job record from a row of `import_jobs` whose uuid, time and JSON columns are read as
/// text (SQLite stores them so; the PostgreSQL store casts them).
pub(crate) fn job_from_row<R: sqlx::Row>(r: &R) -> JobRecord
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let text = |col: &str| r.get::<String, _>(col);
    let json = |col: &str| -> serde_json::Value {
        serde_json::from_str(&text(col)).unwrap_or(serde_json::Value::Null)
    };
    let u = |col: &str| r.get::<i64, _>(col) as u64;
    JobRecord {
        id: Uuid::parse_str(&text("id")).unwrap_or_default(),
        account_id: Uuid::parse_str(&text("account_id")).unwrap_or_default(),
        import_type: r.get("import_type"),
        file_name: r.get("file_name"),
        file_size: r.get::<Option<i64>, _>("file_size").map(|s| s as u64),
        file_sha256: r.get("file_sha256"),
        encoding: r.get("encoding"),
        delimiter: r.get("delimiter"),
        site: r.get("site"),
        status: JobStatus::parse(&text("status")).unwrap_or(JobStatus::Failed),
        rows_read: u("rows_read"),
        inserted: u("inserted"),
        updated: u("updated"),
        unchanged: u("unchanged"),
        rejected: u("rejected"),
        skipped: u("skipped"),
        errors_by_code: serde_json::from_value::<BTreeMap<String, u64>>(json("errors_by_code"))
            .unwrap_or_default(),
        tables: serde_json::from_value::<BTreeMap<String, TableCounts>>(json("tables"))
            .unwrap_or_default(),
        metadata: json("metadata"),
        error: r.get("error"),
        created_by: r.get("created_by"),
        created_at: text("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        resume_cursor: r
            .get::<Option<String>, _>("resume_cursor")
            .and_then(|c| serde_json::from_str(&c).ok()),
    }
}

/// A reject from `line, record, column_name, code, message, value, raw_line`.
pub(crate) fn reject_from_row<R: sqlx::Row>(r: &R) -> Reject
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Reject {
        line: r.get::<i64, _>(0) as u64,
        record: r.get::<i64, _>(1) as u64,
        column: r.get(2),
        code: ErrorCode::parse(&r.get::<String, _>(3)).unwrap_or(ErrorCode::InvalidFormat),
        message: r.get(4),
        value: r.get(5),
        raw: r.get(6),
    }
}

/// The store a database URL names: `sqlite:` or `postgres:`/`postgresql:`.
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Store::Postgres(PgStore::connect(url).await?))
        } else if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(SqliteStore::connect(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }
}

/// Calls the same method on whichever store it is.
macro_rules! each_store {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        }
    };
}

impl Sink for Store {
    fn batch_bytes(&self) -> Option<usize> {
        each_store!(self, s => s.batch_bytes())
    }
    async fn account(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        each_store!(self, s => s.account(account).await)
    }
    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        each_store!(self, s => s.save_job(job).await)
    }
    async fn begin(&mut self, account: Uuid, incoming: Option<u64>) -> Result<(), StoreError> {
        each_store!(self, s => s.begin(account, incoming).await)
    }
    async fn write(
        &mut self,
        account: Uuid,
        job: Uuid,
        batch: &ResolvedBatch,
    ) -> Result<Vec<Vec<Outcome>>, StoreError> {
        each_store!(self, s => s.write(account, job, batch).await)
    }
    async fn write_rejects(&mut self, job: Uuid, rejects: &[Reject]) -> Result<(), StoreError> {
        each_store!(self, s => s.write_rejects(job, rejects).await)
    }
    async fn checkpoint(
        &mut self,
        job: Uuid,
        cursor: &serde_json::Value,
    ) -> Result<(), StoreError> {
        each_store!(self, s => s.checkpoint(job, cursor).await)
    }
    async fn refresh(
        &mut self,
        account: Uuid,
        job: Uuid,
        rollup: &'static Rollup,
    ) -> Result<[u64; 3], StoreError> {
        each_store!(self, s => s.refresh(account, job, rollup).await)
    }
    async fn touch(&mut self, rollup: &'static Rollup, keys: &[String]) -> Result<(), StoreError> {
        each_store!(self, s => s.touch(rollup, keys).await)
    }
    async fn commit(&mut self) -> Result<(), StoreError> {
        each_store!(self, s => s.commit().await)
    }
    async fn rollback(&mut self) -> Result<(), StoreError> {
        each_store!(self, s => s.rollback().await)
    }
}

impl JobControl for Store {
    async fn rollback_job(&mut self, job: &JobRecord) -> Result<RollbackSummary, StoreError> {
        each_store!(self, s => s.rollback_job(job).await)
    }
}

impl JobLog for Store {
    async fn list_jobs(
        &mut self,
        account: Option<&AccountRef>,
    ) -> Result<Vec<JobRecord>, StoreError> {
        each_store!(self, s => s.list_jobs(account).await)
    }
    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError> {
        each_store!(self, s => s.job(id).await)
    }
    async fn rejects(&mut self, id: Uuid) -> Result<Vec<Reject>, StoreError> {
        each_store!(self, s => s.rejects(id).await)
    }
}
