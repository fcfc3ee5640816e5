//! Job records as rows of `import_jobs`, declared once for both stores, and what a job's
//! record says about the part of it that is stored when it ends early.

use crate::{JobRecord, JobStatus, TableCounts};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How a column of `import_jobs` is typed; both stores read and write every column as text or
/// an integer, PostgreSQL casting to its own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Text,
    Int,
    Uuid,
    Json,
    Time,
}

use ColumnType::*;

/// The columns a job record is written to and read from, in this order.
pub(crate) const JOB_COLUMNS: &[(&str, ColumnType)] = &[
    ("id", Uuid),
    ("account_id", Uuid),
    ("import_type", Text),
    ("file_name", Text),
    ("file_size", Int),
    ("file_sha256", Text),
    ("encoding", Text),
    ("delimiter", Text),
    ("site", Text),
    ("status", Text),
    ("rows_read", Int),
    ("inserted", Int),
    ("updated", Int),
    ("unchanged", Int),
    ("rejected", Int),
    ("skipped", Int),
    ("errors_by_code", Json),
    ("tables", Json),
    ("metadata", Json),
    ("error", Text),
    ("created_by", Text),
    ("created_at", Time),
    ("started_at", Time),
    ("finished_at", Time),
    ("resume_cursor", Json),
];

/// Columns that keep their first value when the record is written again.
const FIXED: &[&str] = &["id", "account_id", "file_name", "created_by", "created_at"];

/// A value of a job column as bound or read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JobValue {
    Text(Option<String>),
    Int(Option<i64>),
}

impl JobValue {
    fn text(self) -> Option<String> {
        match self {
            JobValue::Text(t) => t,
            JobValue::Int(i) => i.map(|i| i.to_string()),
        }
    }

    fn int(self) -> i64 {
        match self {
            JobValue::Int(i) => i.unwrap_or(0),
            JobValue::Text(t) => t.and_then(|t| t.parse().ok()).unwrap_or(0),
        }
    }
}

/// The insert-or-update of a whole job record; `param(i, type)` spells parameter `i` (from 1)
/// as the store binds it.
pub(crate) fn upsert_sql(param: impl Fn(usize, ColumnType) -> String) -> String {
    let names: Vec<&str> = JOB_COLUMNS.iter().map(|(n, _)| *n).collect();
    let params: Vec<String> = JOB_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, t))| param(i + 1, *t))
        .collect();
    let sets: Vec<String> = names
        .iter()
        .filter(|n| !FIXED.contains(n))
        .map(|n| format!("{n} = EXCLUDED.{n}"))
        .collect();
    format!(
        "INSERT INTO import_jobs ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        names.join(", "),
        params.join(", "),
        sets.join(", ")
    )
}

/// The select list that reads the job columns in order; `read(name, type)` gives the
/// expression that reads one as text or an integer.
pub(crate) fn select_list(read: impl Fn(&str, ColumnType) -> String) -> String {
    JOB_COLUMNS
        .iter()
        .map(|(n, t)| read(n, *t))
        .collect::<Vec<_>>()
        .join(", ")
}

fn json_text<T: serde::Serialize>(v: &T) -> Option<String> {
    Some(serde_json::to_string(v).expect("job fields serialize"))
}

impl JobRecord {
    /// The record's values in [`JOB_COLUMNS`] order.
    pub(crate) fn values(&self) -> Vec<JobValue> {
        let text = |s: &Option<String>| JobValue::Text(s.clone());
        let count = |n: u64| JobValue::Int(Some(n as i64));
        vec![
            JobValue::Text(Some(self.id.to_string())),
            JobValue::Text(Some(self.account_id.to_string())),
            text(&self.import_type),
            JobValue::Text(Some(self.file_name.clone())),
            JobValue::Int(self.file_size.map(|s| s as i64)),
            text(&self.file_sha256),
            text(&self.encoding),
            text(&self.delimiter),
            text(&self.site),
            JobValue::Text(Some(self.status.as_str().to_string())),
            count(self.rows_read),
            count(self.inserted),
            count(self.updated),
            count(self.unchanged),
            count(self.rejected),
            count(self.skipped),
            JobValue::Text(json_text(&self.errors_by_code)),
            JobValue::Text(json_text(&self.tables)),
            JobValue::Text(Some(self.metadata.to_string())),
            text(&self.error),
            JobValue::Text(Some(self.created_by.clone())),
            JobValue::Text(Some(self.created_at.clone())),
            text(&self.started_at),
            text(&self.finished_at),
            JobValue::Text(self.resume_cursor.as_ref().map(|c| c.to_string())),
        ]
    }

    /// A record from a row of [`JOB_COLUMNS`], each column read as an integer or as text by
    /// the store's accessors (`int(i)`, `text(i)`).
    pub(crate) fn from_row<E>(
        mut int: impl FnMut(usize) -> Result<Option<i64>, E>,
        mut text: impl FnMut(usize) -> Result<Option<String>, E>,
    ) -> Result<JobRecord, E> {
        let values = JOB_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, (_, t))| {
                Ok(match t {
                    ColumnType::Int => JobValue::Int(int(i)?),
                    _ => JobValue::Text(text(i)?),
                })
            })
            .collect::<Result<Vec<_>, E>>()?;
        Ok(JobRecord::from_values(values))
    }

    /// A record from its values in [`JOB_COLUMNS`] order.
    pub(crate) fn from_values(values: Vec<JobValue>) -> JobRecord {
        let mut v = values.into_iter();
        let mut next = || v.next().unwrap_or(JobValue::Text(None));
        let uuid = |t: Option<String>| t.and_then(|t| Uuid::parse_str(&t).ok()).unwrap_or_default();
        let json = |t: Option<String>| -> serde_json::Value {
            t.and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(serde_json::Value::Null)
        };
        let u = |v: JobValue| v.int().max(0) as u64;
        JobRecord {
            id: uuid(next().text()),
            account_id: uuid(next().text()),
            import_type: next().text(),
            file_name: next().text().unwrap_or_default(),
            file_size: match next() {
                JobValue::Int(None) | JobValue::Text(None) => None,
                v => Some(u(v)),
            },
            file_sha256: next().text(),
            encoding: next().text(),
            delimiter: next().text(),
            site: next().text(),
            status: next()
                .text()
                .and_then(|s| JobStatus::parse(&s))
                .unwrap_or(JobStatus::Failed),
            rows_read: u(next()),
            inserted: u(next()),
            updated: u(next()),
            unchanged: u(next()),
            rejected: u(next()),
            skipped: u(next()),
            errors_by_code: serde_json::from_value::<BTreeMap<String, u64>>(json(next().text()))
                .unwrap_or_default(),
            tables: serde_json::from_value::<BTreeMap<String, TableCounts>>(json(next().text()))
                .unwrap_or_default(),
            metadata: json(next().text()),
            error: next().text(),
            created_by: next().text().unwrap_or_default(),
            created_at: next().text().unwrap_or_default(),
            started_at: next().text(),
            finished_at: next().text(),
            resume_cursor: next().text().and_then(|c| serde_json::from_str(&c).ok()),
        }
    }

    /// The line where the uncommitted part of a `--commit-every` job starts: its resume
    /// cursor's `next.line`.
    pub fn committed_until(&self) -> Option<u64> {
        self.resume_cursor
            .as_ref()?
            .get("next")?
            .get("line")?
            .as_u64()
    }
}

/// What of a job that ended early is stored: nothing, or the parts its commits recorded.
pub fn stored_part(job: &JobRecord) -> String {
    match job.committed_until() {
        None => "nothing of it was stored".to_string(),
        Some(line) => format!(
            "its first {} record(s), before line {line}, were committed by its earlier parts: \
             `resume {id}` continues from there, `rollback {id}` undoes them",
            job.rows_read,
            id = job.id
        ),
    }
}

/// Why an interrupted job ended (`why`), and what of it is stored.
pub fn interrupted_reason(job: &JobRecord, why: &str) -> String {
    match job.committed_until() {
        None => format!("{why}; nothing of it was stored: import the file again"),
        Some(_) => format!("{why}; {}", stored_part(job)),
    }
}

/// The record of a job known to have no process (its run lock was free, or is held by the
/// caller): one still `processing` reads `interrupted`; any other is as it is.
pub fn without_process(job: JobRecord) -> JobRecord {
    if job.status == JobStatus::Processing {
        interrupted(&job)
    } else {
        job
    }
}

/// The record of a job whose process is gone: `interrupted`, saying what of it is stored.
pub fn interrupted(job: &JobRecord) -> JobRecord {
    let mut job = job.clone();
    job.status = JobStatus::Interrupted;
    job.error = Some(interrupted_reason(
        &job,
        "the process running this job ended before finishing it (killed, crashed or its \
         machine stopped)",
    ));
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let mut job = JobRecord::new(Uuid::now_v7(), "a.csv".into(), "me".into());
        job.file_size = Some(12);
        job.errors_by_code.insert("invalid_money".into(), 2);
        job.tables.insert(
            "orders".into(),
            TableCounts {
                inserted: 1,
                updated: 2,
                unchanged: 3,
            },
        );
        job.resume_cursor = Some(serde_json::json!({"next": {"line": 7}}));
        job.rows_read = 5;
        let back = JobRecord::from_values(job.values());
        assert_eq!(back, job);
        assert_eq!(back.committed_until(), Some(7));
        assert_eq!(JOB_COLUMNS.len(), job.values().len());
    }

    #[test]
    fn an_interrupted_job_says_what_is_stored() {
        let mut job = JobRecord::new(Uuid::now_v7(), "a.csv".into(), "me".into());
        assert!(interrupted(&job)
            .error
            .unwrap()
            .ends_with("nothing of it was stored: import the file again"));
        job.rows_read = 2000;
        job.resume_cursor = Some(serde_json::json!({"next": {"line": 2003}}));
        let said = interrupted(&job).error.unwrap();
        assert!(
            said.contains("first 2000 record(s), before line 2003"),
            "{said}"
        );
        assert!(said.contains(&format!("`resume {}`", job.id)), "{said}");
    }

    #[test]
    fn a_rewrite_keeps_the_identity_columns() {
        let sql = upsert_sql(|i, _| format!("?{i}"));
        assert!(sql.contains("status = EXCLUDED.status"));
        assert!(!sql.contains("created_at = EXCLUDED"));
        assert!(sql.contains("?25"));
    }
}
