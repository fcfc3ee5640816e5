//! The SQLite store: the embedded default. One connection; a job's rows and rejects are written
//! in one transaction; rows are upserted in multi-row statements, and a pre-read of the stored
//! row hashes decides which rows are new, changed or unchanged, so unchanged rows are never
//! rewritten and the counts are exact.
//!
//! SQL text is built only from the static schema's column names; every value from a file is a
//! bound parameter.

use crate::{AccountRef, JobLog, JobRecord, JobStatus, Sink, StoreError, TableCounts};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use ebay_import_model::{ErrorCode, Reject};
use ebay_import_resolve::{value_text, Outcome, ResolvedBatch, RowWrite, TableRows};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Arguments, AssertSqlSafe, ConnectOptions, Row, SqliteConnection};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use uuid::Uuid;

/// SQLite allows 32766 bound parameters per statement.
const MAX_PARAMS: usize = 32_000;
const MAX_ROWS_PER_STATEMENT: usize = 256;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    conn: SqliteConnection,
    in_tx: bool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at a `sqlite://PATH` URL and applies the
    /// embedded migrations.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(30));
        let mut conn = opts.connect().await?;
        MIGRATOR.run(&mut conn).await?;
        Ok(SqliteStore { conn, in_tx: false })
    }

    pub fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    async fn exec(&mut self, sql: &'static str) -> Result<(), StoreError> {
        sqlx::query(sql).execute(&mut self.conn).await?;
        Ok(())
    }

    /// The stored hashes of the given keys.
    async fn stored_hashes(
        &mut self,
        table: &TableRows,
        account: &str,
        rows: &[RowWrite],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let placeholders = vec!["?"; rows.len()].join(",");
        let sql = format!(
            "SELECT {key}, row_hash FROM {t} WHERE account_id = ? AND {key} IN ({placeholders})",
            key = table.key_column,
            t = table.table
        );
        let mut args = SqliteArguments::default();
        add(&mut args, account.to_string());
        for r in rows {
            add(&mut args, r.key.clone());
        }
        let found = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&mut self.conn)
            .await?;
        Ok(found
            .into_iter()
            .map(|row| (row.get::<String, _>(0), row.get::<i64, _>(1)))
            .collect())
    }

    async fn upsert(
        &mut self,
        table: &TableRows,
        account: &str,
        job: &str,
        rows: &[&RowWrite],
    ) -> Result<(), StoreError> {
        let mut names: Vec<&str> = vec!["account_id"];
        names.extend(table.columns.iter().map(|(n, _)| *n));
        names.extend(["row_hash", "job_id", "source_line"]);
        let one = format!("({})", vec!["?"; names.len()].join(","));
        let values = vec![one.as_str(); rows.len()].join(",");
        let updates = names
            .iter()
            .filter(|n| !matches!(**n, "account_id") && **n != table.key_column)
            .map(|n| format!("{n} = excluded.{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {t} ({cols}) VALUES {values} ON CONFLICT (account_id, {key}) DO UPDATE SET {updates}",
            t = table.table,
            cols = names.join(", "),
            key = table.key_column,
        );
        let mut args = SqliteArguments::default();
        for r in rows {
            add(&mut args, account.to_string());
            for (_, col) in &table.columns {
                bind_value(&mut args, col, r.row as usize);
            }
            add(&mut args, r.hash as i64);
            add(&mut args, job.to_string());
            add(&mut args, r.line as i64);
        }
        sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn write_table(
        &mut self,
        table: &TableRows,
        account: &str,
        job: &str,
    ) -> Result<Vec<Outcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(table.rows.len());
        let width = table.columns.len() + 4;
        let per_stmt = (MAX_PARAMS / width).clamp(1, MAX_ROWS_PER_STATEMENT);
        let mut start = 0;
        while start < table.rows.len() {
            // A statement must not touch one key twice: cut the slice before a repeated key.
            let mut keys = HashSet::new();
            let mut end = start;
            while end < table.rows.len()
                && end - start < per_stmt
                && keys.insert(table.rows[end].key.as_str())
            {
                end += 1;
            }
            let slice = &table.rows[start..end];
            let stored = self.stored_hashes(table, account, slice).await?;
            let mut to_write = Vec::new();
            for r in slice {
                let outcome = match stored.get(&r.key) {
                    None => Outcome::Inserted,
                    Some(&h) if h == r.hash as i64 => Outcome::Unchanged,
                    Some(_) => Outcome::Updated,
                };
                if outcome != Outcome::Unchanged {
                    to_write.push(r);
                }
                outcomes.push(outcome);
            }
            if !to_write.is_empty() {
                self.upsert(table, account, job, &to_write).await?;
            }
            start = end;
        }
        Ok(outcomes)
    }

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

fn add<'q, T: sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    args: &mut SqliteArguments,
    v: T,
) {
    // Encoding an owned String or integer into SQLite arguments cannot fail.
    args.add(v).expect("SQLite encodes strings and integers");
}

/// Binds one typed value: text and decimal/date text as TEXT, integers and booleans as INTEGER.
fn bind_value(args: &mut SqliteArguments, col: &ArrayRef, row: usize) {
    if col.is_null(row) {
        add(args, None::<String>);
        return;
    }
    match col.data_type() {
        DataType::Int64 => add(args, col.as_primitive::<Int64Type>().value(row)),
        DataType::Boolean => add(args, i64::from(col.as_boolean().value(row))),
        DataType::Utf8 => add(args, col.as_string::<i32>().value(row).to_string()),
        _ => {
            let mut s = String::new();
            value_text(col.as_ref(), row, &mut s);
            add(args, s);
        }
    }
}

impl Sink for SqliteStore {
    async fn account(&mut self, account: &AccountRef) -> Result<Uuid, StoreError> {
        if let Some(id) = self.account_id_of(account).await? {
            self.ensure_account(id, None).await?;
            return Ok(id);
        }
        let AccountRef::Slug(slug) = account else {
            unreachable!("ids always resolve")
        };
        let id = Uuid::now_v7();
        self.ensure_account(id, Some(slug)).await?;
        Ok(id)
    }

    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR REPLACE INTO import_jobs (id, account_id, import_type, file_name, file_size, \
             file_sha256, encoding, delimiter, site, status, rows_read, inserted, updated, unchanged, \
             rejected, skipped, errors_by_code, tables, metadata, error, created_by, created_at, \
             started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(job.id.to_string())
        .bind(job.account_id.to_string())
        .bind(job.import_type.clone())
        .bind(job.file_name.clone())
        .bind(job.file_size.map(|s| s as i64))
        .bind(job.file_sha256.clone())
        .bind(job.encoding.clone())
        .bind(job.delimiter.clone())
        .bind(job.site.clone())
        .bind(job.status.as_str())
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
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn begin(&mut self) -> Result<(), StoreError> {
        self.exec("BEGIN IMMEDIATE").await?;
        self.in_tx = true;
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
        let mut out = Vec::with_capacity(batch.tables.len());
        for table in &batch.tables {
            out.push(self.write_table(table, &account, &job).await?);
        }
        Ok(out)
    }

    async fn write_rejects(&mut self, job: Uuid, rejects: &[Reject]) -> Result<(), StoreError> {
        let job = job.to_string();
        for chunk in rejects.chunks(MAX_PARAMS / 8) {
            let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(",");
            let sql = format!(
                "INSERT INTO import_rejects (job_id, line, record, column_name, code, message, value, raw_line) VALUES {values}"
            );
            let mut args = SqliteArguments::default();
            for r in chunk {
                add(&mut args, job.clone());
                add(&mut args, r.line as i64);
                add(&mut args, r.record as i64);
                add(&mut args, r.column.clone());
                add(&mut args, r.code.as_str());
                add(&mut args, r.message.clone());
                add(&mut args, r.value.clone());
                add(&mut args, r.raw.clone());
            }
            sqlx::query_with(AssertSqlSafe(sql), args)
                .execute(&mut self.conn)
                .await?;
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.exec("COMMIT").await?;
        self.in_tx = false;
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.in_tx {
            self.in_tx = false;
            self.exec("ROLLBACK").await?;
        }
        Ok(())
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
        Ok(rows
            .iter()
            .map(|r| Reject {
                line: r.get::<i64, _>(0) as u64,
                record: r.get::<i64, _>(1) as u64,
                column: r.get(2),
                code: ErrorCode::parse(&r.get::<String, _>(3)).unwrap_or(ErrorCode::InvalidFormat),
                message: r.get(4),
                value: r.get(5),
                raw: r.get(6),
            })
            .collect())
    }
}

fn job_from_row(r: &sqlx::sqlite::SqliteRow) -> JobRecord {
    let json = |col: &str| -> serde_json::Value {
        serde_json::from_str(&r.get::<String, _>(col)).unwrap_or(serde_json::Value::Null)
    };
    let u = |col: &str| r.get::<i64, _>(col) as u64;
    JobRecord {
        id: Uuid::parse_str(&r.get::<String, _>("id")).unwrap_or_default(),
        account_id: Uuid::parse_str(&r.get::<String, _>("account_id")).unwrap_or_default(),
        import_type: r.get("import_type"),
        file_name: r.get("file_name"),
        file_size: r.get::<Option<i64>, _>("file_size").map(|s| s as u64),
        file_sha256: r.get("file_sha256"),
        encoding: r.get("encoding"),
        delimiter: r.get("delimiter"),
        site: r.get("site"),
        status: JobStatus::parse(&r.get::<String, _>("status")).unwrap_or(JobStatus::Failed),
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
        created_at: r.get("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
    }
}
