//! Storing: the sink that upserts resolved batches per account inside one transaction per job,
//! and the import job records (jobs, their counts and their rejects).
//!
//! [`Sink`] is the seam between the pipeline and a database: SQLite ([`SqliteStore`]) is the
//! zero-set-up default; PostgreSQL is a second implementation of the same trait.

mod sqlite;

pub use sqlite::SqliteStore;

use ebay_import_model::Reject;
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
    #[error("unsupported database URL {0:?}: use sqlite://PATH")]
    UnsupportedUrl(String),
    #[error("no import job {0}")]
    NoSuchJob(String),
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
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::PartiallyFailed => "partially_failed",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Pending,
            JobStatus::Processing,
            JobStatus::Completed,
            JobStatus::PartiallyFailed,
            JobStatus::Failed,
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
    async fn begin(&mut self) -> Result<(), StoreError>;
    /// Upserts the batch's rows; returns the outcome of each row of each table.
    async fn write(
        &mut self,
        account: Uuid,
        job: Uuid,
        batch: &ResolvedBatch,
    ) -> Result<Vec<Vec<Outcome>>, StoreError>;
    async fn write_rejects(&mut self, job: Uuid, rejects: &[Reject]) -> Result<(), StoreError>;
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
