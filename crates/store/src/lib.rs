//! Storing: the sink that upserts resolved batches per account inside one transaction per job,
//! and the import job records (jobs, their counts and their rejects).
//!
//! [`Sink`] is the seam between the pipeline and a database: SQLite ([`SqliteStore`]) is the
//! zero-set-up default; PostgreSQL ([`PgStore`]) is production. [`Store`] picks one by URL.

mod jobs;
mod pg_tls;
mod pgcopy;
mod postgres;
mod rollup;
mod runlock;
mod sqlite;
mod wait;

pub use jobs::{interrupted, interrupted_reason, stored_part, without_process};

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
    #[error("{}", describe_sqlx(.0))]
    Database(sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("database migration failed: {}", describe_migrate(.0))]
    Migrate(sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    /// The database cannot be used as asked (missing, in memory, an older schema…): a
    /// set-up problem, said in one line.
    #[error("{0}")]
    Unusable(String),
    #[error("{0}")]
    Connect(String),
    #[error("no import job {0}")]
    NoSuchJob(String),
    #[error("no account {0:?}")]
    NoSuchAccount(String),
    #[error("{0}")]
    Refused(String),
    #[error("account {0:?} is neither a UUID nor a slug ([a-z0-9][a-z0-9_-]{{0,63}})")]
    BadAccount(String),
    /// `--lock-timeout` ran out while waiting for another writer or the account's lock.
    #[error("{0}")]
    LockTimeout(String),
    /// A stop was requested (SIGTERM, SIGINT) while waiting for a lock.
    #[error("stopped by {} while waiting for a lock", ebay_import_model::stop::signal_name(*.0))]
    Stopped(i32),
    /// Writing what was read (a report) failed.
    #[error("{0}")]
    Output(std::io::Error),
}

// The messages above already say what their cause says: the causes are not sources, so a
// caller printing the chain says it once.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Migrate(e)
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> StoreError {
        StoreError::Output(e)
    }
}

/// A database error in one line: what the server said and its code, without the server's
/// own source line, which reads like a line of the file.
fn describe_sqlx(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) if code.starts_with("57P") || code.starts_with("08") => format!(
                "the database server ended this command's connection: {} (SQLSTATE {code})",
                db.message()
            ),
            Some(code) => format!("the database said: {} (SQLSTATE {code})", db.message()),
            None => format!("the database said: {}", db.message()),
        },
        // The server's reason is lost when it closes the connection while a COPY is still
        // sending: the reset that answers the data drops it before it is read.
        sqlx::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            "lost the connection to the database: the server closed it without a reason that \
             reached this command (a restart, a crash, or an administrator ending it)"
                .to_string()
        }
        sqlx::Error::Io(io) => format!("lost the connection to the database: {io}"),
        e => format!("database error: {e}"),
    }
}

fn describe_migrate(e: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError;
    match e {
        MigrateError::Execute(e) => describe_sqlx(e),
        MigrateError::ExecuteMigration(e, version) => {
            format!("migration {version}: {}", describe_sqlx(e))
        }
        e => e.to_string(),
    }
}

/// What kind of failure a [`StoreError`] is, for callers that decide what to do about it
/// (retry, wait, give up) without reading its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The database cannot be reached, or the connection was lost or ended by the server.
    Connection,
    /// A row broke a constraint of the schema (key, not null, check).
    Constraint,
    /// The database (or the disk of an output) is full.
    DiskFull,
    /// Another writer held a lock too long, a deadlock, or a serialization conflict: the
    /// same work may succeed when tried again.
    Lock,
    /// Anything else: set-up, usage, a missing job, a bug.
    Other,
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Connect(_) => ErrorKind::Connection,
            StoreError::LockTimeout(_) => ErrorKind::Lock,
            StoreError::Database(e)
            | StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => sqlx_kind(e),
            StoreError::Sqlite(e) => sqlite_kind(e),
            StoreError::Output(io) if io.kind() == std::io::ErrorKind::StorageFull => {
                ErrorKind::DiskFull
            }
            _ => ErrorKind::Other,
        }
    }

    /// Whether the error means the connection itself is gone (terminated, lost).
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, StoreError::Database(_)) && self.kind() == ErrorKind::Connection
    }
}

fn sqlx_kind(e: &sqlx::Error) -> ErrorKind {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => {
            ErrorKind::Connection
        }
        sqlx::Error::Database(db) => match db.code().as_deref().unwrap_or("") {
            c if c.starts_with("08") || c.starts_with("57P") => ErrorKind::Connection,
            c if c.starts_with("23") => ErrorKind::Constraint,
            "53100" => ErrorKind::DiskFull,
            "40001" | "40P01" | "55P03" => ErrorKind::Lock,
            _ => ErrorKind::Other,
        },
        _ => ErrorKind::Other,
    }
}

fn sqlite_kind(e: &rusqlite::Error) -> ErrorKind {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::ConstraintViolation) => ErrorKind::Constraint,
        Some(C::DiskFull) => ErrorKind::DiskFull,
        Some(C::DatabaseBusy | C::DatabaseLocked) => ErrorKind::Lock,
        Some(C::CannotOpen) => ErrorKind::Connection,
        _ => ErrorKind::Other,
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// An account as `--account` names it: a UUID, or a slug recorded in the accounts table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    Id(Uuid),
    Slug(String),
}

impl std::fmt::Display for AccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccountRef::Id(id) => write!(f, "{id}"),
            AccountRef::Slug(slug) => f.write_str(slug),
        }
    }
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

/// What a command will do with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read only: never creates, migrates or writes anything (a missing database or an older
    /// schema is an [`StoreError::Unusable`]).
    Read,
    /// Import, resume, roll back: creates the database and applies the migrations as needed.
    Write,
}

/// How long a writer waits for another writer (SQLite) or for its account's lock
/// (PostgreSQL): `None` waits as long as it takes.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    pub lock_timeout: Option<std::time::Duration>,
}

/// The database side of an import: accounts, job records, and the job's data transaction.
///
/// Each store works through one connection. A job's data writes (rows and rejects) happen
/// between [`Sink::begin`] and [`Sink::commit`]: all of them land, or none. A job record
/// written inside that transaction ([`Sink::save_job`]) commits with the rows it describes, so
/// a job's final status, counts and resume cursor never disagree with what is stored; written
/// outside it (a job starting, a failed job's reason) it stands on its own.
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// Finds or creates the account; returns its id.
    async fn account(&mut self, account: &AccountRef) -> Result<Uuid, StoreError>;
    /// Takes the run lock of `job`, waiting while another process holds it (as long as the
    /// lock timeout allows). The lock lasts until [`Sink::release_job`] or the end of the
    /// process, so a `processing` job whose process died is recognised as such from any host
    /// ([`JobLog`] reads it as `interrupted`).
    async fn claim_job(&mut self, job: Uuid) -> Result<(), StoreError>;
    /// Gives the run lock of `job` back, once its record says how it ended.
    async fn release_job(&mut self, job: Uuid) -> Result<(), StoreError>;
    /// Inserts or replaces the job record; inside the data transaction, it commits with it.
    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError>;
    /// The input bytes per batch this sink works best with, when more than the reader's
    /// default: a batch costs it a fixed number of round trips and statements.
    fn batch_bytes(&self) -> Option<usize> {
        None
    }
    /// Starts the job's data transaction for `account`'s rows, waiting for the account's turn
    /// (and marking the account's jobs whose process died `interrupted`); `incoming`: about
    /// how many input bytes it will read, when known (a store may load a big part
    /// differently).
    async fn begin(&mut self, account: Uuid, incoming: Option<u64>) -> Result<(), StoreError>;
    /// Upserts the batch's rows; returns the outcome of each row of each table.
    async fn write(
        &mut self,
        account: Uuid,
        job: Uuid,
        batch: &ResolvedBatch,
    ) -> Result<Vec<Vec<Outcome>>, StoreError>;
    async fn write_rejects(&mut self, job: Uuid, rejects: &[Reject]) -> Result<(), StoreError>;
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
    /// Rolls the data transaction back, if one is open; afterwards the connection is usable
    /// again (a lost one is opened anew), so the job's record can still say how it ended.
    async fn rollback(&mut self) -> Result<(), StoreError>;
}

/// Reading job records back. A `processing` job whose process is gone (its run lock is free)
/// reads as `interrupted`, saying what of it is stored, even where nothing may be written.
#[allow(async_fn_in_trait)]
pub trait JobLog {
    async fn list_jobs(
        &mut self,
        account: Option<&AccountRef>,
    ) -> Result<Vec<JobRecord>, StoreError>;
    /// The id of an existing account (none is created), to whose jobs and rows the session is
    /// confined from now on: a PostgreSQL role under row-level security sees only them.
    async fn act_for(&mut self, account: &AccountRef) -> Result<Uuid, StoreError>;
    /// The job with this id, or this unique prefix of one.
    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError>;
    /// Hands the job's rejects, in line order, to `each` one at a time; returns how many.
    async fn rejects(
        &mut self,
        id: Uuid,
        each: &mut dyn FnMut(Reject) -> std::io::Result<()>,
    ) -> Result<u64, StoreError>;
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

/// The `accounts` table as each store writes it.
#[allow(async_fn_in_trait)]
pub(crate) trait AccountTable {
    /// The id of an account given by id, or by a slug already recorded.
    async fn account_id_of(&mut self, account: &AccountRef) -> Result<Option<Uuid>, StoreError>;
    /// Records the account unless it exists.
    async fn ensure_account(&mut self, id: Uuid, slug: Option<&str>) -> Result<(), StoreError>;
}

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

/// Undoing a job.
#[allow(async_fn_in_trait)]
pub trait JobControl {
    /// Deletes the rows job `id` inserted and restores the previous version of the rows it
    /// updated, in one transaction with its record becoming `rolled_back`. Works on completed
    /// and partially failed jobs, and on the committed parts of an interrupted or failed
    /// `--commit-every` job. Refuses (naming them) when later jobs changed the same rows, and,
    /// unless `force`, when later jobs found rows of its tables unchanged (their counts would
    /// then describe rows that are gone). Exactly one of several rollbacks of a job succeeds.
    async fn rollback_job(
        &mut self,
        id: Uuid,
        force: bool,
    ) -> Result<(JobRecord, RollbackSummary), StoreError>;
}

/// Whether a job in this state can be rolled back: it is finished and some of it is stored.
pub(crate) fn check_rollable(job: &JobRecord) -> Result<(), StoreError> {
    match job.status {
        JobStatus::Completed | JobStatus::PartiallyFailed => Ok(()),
        JobStatus::Interrupted | JobStatus::Failed if job.resume_cursor.is_some() => Ok(()),
        JobStatus::Interrupted | JobStatus::Failed => Err(StoreError::Refused(format!(
            "job {} is {} and nothing of it was stored: there is nothing to roll back",
            job.id,
            job.status.as_str()
        ))),
        other => Err(StoreError::Refused(format!(
            "job {} is {}; only completed or partially failed jobs, or the committed parts of \
             an interrupted or failed one, can be rolled back",
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

/// Other jobs of the account that found rows unchanged in a table where `job` stored rows, and
/// ran on after `job` began (a job resumed after it counts): rows they count may be rows the
/// rollback deletes or restores. The refusal names them.
pub(crate) fn unchanged_by_later(job: &JobRecord, others: &[JobRecord]) -> Option<StoreError> {
    let stored = |t: &str| {
        job.tables
            .get(t)
            .is_some_and(|c| c.inserted + c.updated > 0)
    };
    let ran_after = |o: &JobRecord| {
        o.finished_at
            .as_deref()
            .is_none_or(|end| Some(end) > job.started_at.as_deref())
    };
    let later: Vec<String> = others
        .iter()
        .filter(|o| o.account_id == job.account_id && o.id != job.id && ran_after(o))
        // A running job counts too: its committed parts' counts are in its record.
        .filter(|o| o.status != JobStatus::RolledBack)
        .filter(|o| o.tables.iter().any(|(t, c)| c.unchanged > 0 && stored(t)))
        .map(|o| o.id.to_string())
        .collect();
    (!later.is_empty()).then(|| {
        StoreError::Refused(format!(
            "job {} cannot be rolled back safely: later job(s) {} found rows of the same \
             tables unchanged, so their counts may include rows this rollback deletes or \
             restores; roll them back first, or pass --force",
            job.id,
            later.join(", ")
        ))
    })
}

/// The job record after a rollback: nothing of it is stored any more, so an interrupted or
/// failed job's account of its committed parts (and where to resume) goes.
pub(crate) fn rolled_back(job: &JobRecord, summary: &RollbackSummary) -> JobRecord {
    let mut job = job.clone();
    if job.resume_cursor.take().is_some() {
        job.error = Some(format!(
            "it was {} with its first {} record(s) committed; rolled back, so nothing of it is \
             stored",
            job.status.as_str(),
            job.rows_read
        ));
    }
    job.status = JobStatus::RolledBack;
    if let serde_json::Value::Object(m) = &mut job.metadata {
        m.insert(
            "rollback".into(),
            serde_json::json!({ "at": now(), "deleted": summary.deleted, "restored": summary.restored }),
        );
    }
    job
}

/// A job id, or a prefix of one: hex digits and dashes only, so it can be matched with `LIKE`.
pub(crate) fn check_id_prefix(id: &str) -> Result<(), StoreError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(StoreError::NoSuchJob(id.to_string()));
    }
    Ok(())
}

/// The queries of a rollback, as each store runs them inside the account's transaction.
#[allow(async_fn_in_trait)]
pub(crate) trait UndoQueries {
    /// The job's record as stored, read (and on PostgreSQL locked) inside the transaction.
    async fn job_for_update(&mut self, id: Uuid) -> Result<JobRecord, StoreError>;
    /// Later jobs that replaced versions of rows the job wrote.
    async fn changed_later(&mut self, job: Uuid) -> Result<Vec<String>, StoreError>;
    /// Deletes the rows the job inserted and restores the versions it replaced.
    async fn undo(&mut self, job: Uuid) -> Result<RollbackSummary, StoreError>;
}

/// [`JobControl::rollback_job`] over either store: the job's run lock keeps a resume (or
/// another rollback) of it out, the account's transaction keeps other writers out, and the
/// record is read again inside it, so of several rollbacks started together the first
/// succeeds and the others see it rolled back.
pub(crate) async fn roll_back<S: Sink + JobLog + UndoQueries>(
    s: &mut S,
    id: Uuid,
    force: bool,
) -> Result<(JobRecord, RollbackSummary), StoreError> {
    let seen = s.job(&id.to_string()).await?;
    if seen.status == JobStatus::Processing {
        return Err(StoreError::Refused(format!(
            "job {id} is still running: let it finish (or stop it) before rolling it back"
        )));
    }
    s.claim_job(id).await?;
    let result = roll_back_claimed(s, id, seen.account_id, force).await;
    if result.is_err() {
        s.rollback().await?;
    }
    s.release_job(id).await?;
    result
}

async fn roll_back_claimed<S: Sink + JobLog + UndoQueries>(
    s: &mut S,
    id: Uuid,
    account: Uuid,
    force: bool,
) -> Result<(JobRecord, RollbackSummary), StoreError> {
    s.begin(account, None).await?;
    // This process holds the job's run lock: a job still recorded as processing is one whose
    // process died.
    let job = without_process(s.job_for_update(id).await?);
    check_rollable(&job)?;
    let later = s.changed_later(job.id).await?;
    if !later.is_empty() {
        return Err(later_jobs_refusal(job.id, later));
    }
    if !force {
        let others = s.list_jobs(Some(&AccountRef::Id(job.account_id))).await?;
        if let Some(refusal) = unchanged_by_later(&job, &others) {
            return Err(refusal);
        }
    }
    let summary = s.undo(job.id).await?;
    ebay_import_model::crash::point("undone");
    let done = rolled_back(&job, &summary);
    s.save_job(&done).await?;
    s.commit().await?;
    Ok((done, summary))
}

/// A reject from its stored columns.
pub(crate) fn reject_from_parts(
    line: i64,
    record: i64,
    column: Option<String>,
    code: &str,
    message: String,
    value: Option<String>,
    raw: Option<String>,
) -> Reject {
    Reject {
        line: line as u64,
        record: record as u64,
        column,
        code: ErrorCode::parse(code).unwrap_or(ErrorCode::InvalidFormat),
        message,
        value,
        raw,
    }
}

/// The store a database URL names: `sqlite:` or `postgres:`/`postgresql:`.
// One per command: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    pub async fn open(url: &str, access: Access, opts: StoreOptions) -> Result<Store, StoreError> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Store::Postgres(PgStore::open(url, access, opts).await?))
        } else if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(SqliteStore::open(url, access, opts).await?))
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }
}

/// The local files of the database a URL names (none for a server), which no output may
/// overwrite; they need not exist yet.
pub fn database_files(url: &str) -> Vec<std::path::PathBuf> {
    if url.starts_with("sqlite:") {
        sqlite::database_files(url)
    } else {
        Vec::new()
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
    async fn claim_job(&mut self, job: Uuid) -> Result<(), StoreError> {
        each_store!(self, s => s.claim_job(job).await)
    }
    async fn release_job(&mut self, job: Uuid) -> Result<(), StoreError> {
        each_store!(self, s => s.release_job(job).await)
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
    async fn rollback_job(
        &mut self,
        id: Uuid,
        force: bool,
    ) -> Result<(JobRecord, RollbackSummary), StoreError> {
        each_store!(self, s => s.rollback_job(id, force).await)
    }
}

impl JobLog for Store {
    async fn list_jobs(
        &mut self,
        account: Option<&AccountRef>,
    ) -> Result<Vec<JobRecord>, StoreError> {
        each_store!(self, s => s.list_jobs(account).await)
    }
    async fn act_for(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        each_store!(self, s => s.act_for(account).await)
    }
    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError> {
        each_store!(self, s => s.job(id).await)
    }
    async fn rejects(
        &mut self,
        id: Uuid,
        each: &mut dyn FnMut(Reject) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        each_store!(self, s => s.rejects(id, each).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_failures_have_their_kind() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY NOT NULL)")
            .expect("create");
        conn.execute("INSERT INTO t VALUES ('a')", [])
            .expect("insert");
        let dup = conn.execute("INSERT INTO t VALUES ('a')", []).unwrap_err();
        assert_eq!(StoreError::Sqlite(dup).kind(), ErrorKind::Constraint);

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("locked.db");
        let holder = rusqlite::Connection::open(&path).expect("open");
        holder
            .execute_batch("CREATE TABLE t (k); BEGIN EXCLUSIVE")
            .expect("lock");
        let other = rusqlite::Connection::open(&path).expect("open");
        other
            .busy_timeout(std::time::Duration::ZERO)
            .expect("no wait");
        let busy = other.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
        assert_eq!(StoreError::Sqlite(busy).kind(), ErrorKind::Lock);

        let missing = rusqlite::Connection::open_with_flags(
            dir.path().join("no/such/dir.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
        )
        .unwrap_err();
        assert_eq!(StoreError::Sqlite(missing).kind(), ErrorKind::Connection);
    }

    #[test]
    fn other_failures_have_their_kind() {
        let io = |k| std::io::Error::new(k, "x");
        let cases = [
            (
                StoreError::Database(sqlx::Error::Io(io(std::io::ErrorKind::ConnectionReset))),
                ErrorKind::Connection,
            ),
            (StoreError::Connect("refused".into()), ErrorKind::Connection),
            (StoreError::LockTimeout("waited".into()), ErrorKind::Lock),
            (
                StoreError::Output(io(std::io::ErrorKind::StorageFull)),
                ErrorKind::DiskFull,
            ),
            (
                StoreError::Output(io(std::io::ErrorKind::BrokenPipe)),
                ErrorKind::Other,
            ),
            (StoreError::NoSuchJob("01ab".into()), ErrorKind::Other),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e}");
        }
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }

    #[tokio::test]
    async fn an_unsupported_url_is_named_without_its_password() {
        let e = Store::open(
            "mysql://root:hunter2@h/x",
            Access::Read,
            StoreOptions::default(),
        )
        .await
        .err()
        .expect("refused")
        .to_string();
        assert!(
            e.contains("mysql://root:***@h/x") && !e.contains("hunter2"),
            "{e}"
        );
    }
}
