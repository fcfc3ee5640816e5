//! The PostgreSQL store: production.
//!
//! Two connections: one writes job records as they change (autocommit, so a failed job's
//! record survives), the other holds the job's data transaction. In that transaction the
//! account is set (`ebay_import.account_id`, which the row-level security policies check) and
//! an advisory lock per account is taken, so two imports of one account never interleave
//! while imports of different accounts run side by side.
//!
//! Rows reach the server by binary COPY into a temporary staging table per data table (COPY
//! into a table with row-level security is not allowed, and staging keeps it set-based), then
//! one `INSERT … SELECT … ON CONFLICT (account_id, key) DO UPDATE … WHERE row_hash IS DISTINCT
//! FROM …` per batch upserts them (a trigger keeps the versions it replaces, for `rollback`). Its `RETURNING key, xmax = 0` tells inserted from updated
//! rows; the rows it does not return were unchanged. A batch whose rows repeat a key (possible
//! with `--on-duplicate last-wins`) is upserted in rounds without repeats, because one
//! `ON CONFLICT` statement may not touch a row twice.
//!
//! SQL text is built only from the static schema's column names; every value from a file
//! travels as COPY data or a bound parameter.

use crate::pg_tls::{self, Tls};
use crate::pgcopy::CopyWriter;
use crate::rollup;
use crate::{
    bind_job, check_rollable, find_or_create_account, job_from_row, later_jobs_refusal,
    rolled_back, AccountRef, AccountTable, JobControl, JobLog, JobRecord, JobStatus,
    RollbackSummary, Sink, StoreError, DATA_TABLES, INTERRUPTED,
};
use ebay_import_map::Rollup;
use ebay_import_model::Reject;
use ebay_import_resolve::{Outcome, ResolvedBatch, TableRows};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The job record columns as text, in the shape [`job_from_row`] reads.
const JOB_COLUMNS: &str = "id::text AS id, account_id::text AS account_id, import_type, \
    file_name, file_size, file_sha256, encoding, delimiter, site, status, rows_read, inserted, \
    updated, unchanged, rejected, skipped, errors_by_code::text AS errors_by_code, \
    tables::text AS tables, metadata::text AS metadata, error, created_by, \
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS created_at, \
    to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS started_at, \
    to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS finished_at, \
    resume_cursor::text AS resume_cursor";

pub struct PgStore {
    jobs: PgConnection,
    data: PgConnection,
    in_tx: bool,
    /// Temporary tables (staging, touched groups) created in the current transaction.
    staged: HashSet<String>,
    /// Jobs of this process that are processing (each holds its job lock).
    running: HashSet<Uuid>,
}

impl PgStore {
    /// Connects to a `postgres://` URL and applies the embedded migrations.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let (opts, tls) = pg_tls::options(url).map_err(StoreError::Connect)?;
        let target = describe(&opts);
        tls.check().map_err(|e| {
            StoreError::Connect(format!("cannot connect to PostgreSQL {target}: {e}"))
        })?;
        // Named connections show up as such in pg_stat_activity.
        let connect = |role: &str| {
            let opts = opts
                .clone()
                .application_name(&format!("ebay-import ({role})"));
            let (target, tls) = (target.clone(), tls.clone());
            async move {
                pg_tls::connect(&opts, &tls)
                    .await
                    .map_err(|e| StoreError::Connect(connect_message(&target, &tls, &e)))
            }
        };
        let mut jobs = connect("jobs").await?;
        MIGRATOR.run(&mut jobs).await?;
        reap_interrupted(&mut jobs).await?;
        let data = connect("data").await?;
        Ok(PgStore {
            jobs,
            data,
            in_tx: false,
            staged: HashSet::new(),
            running: HashSet::new(),
        })
    }

    async fn write_table(
        &mut self,
        table: &TableRows,
        account: Uuid,
        job: Uuid,
    ) -> Result<Vec<Outcome>, StoreError> {
        let stage = format!("stage_{}", table.table);
        if self.staged.insert(stage.clone()) {
            sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE TEMP TABLE {stage} (LIKE {t}) ON COMMIT DROP",
                t = table.table
            )))
            .execute(&mut self.data)
            .await?;
        }
        let mut outcomes = vec![Outcome::Unchanged; table.rows.len()];
        let mut start = 0;
        while start < table.rows.len() {
            // A round ends before the first key it has seen already.
            let mut keys = HashSet::new();
            let end = table.rows[start..]
                .iter()
                .position(|r| !keys.insert(r.key.as_str()))
                .map_or(table.rows.len(), |n| start + n);
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
                .execute(&mut self.data)
                .await?;
        }
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
        let mut names: Vec<&str> = vec!["account_id"];
        names.extend(table.columns.iter().map(|(n, _)| *n));
        names.extend(["row_hash", "job_id", "source_line"]);
        let cols = names.join(", ");

        let mut copy = CopyWriter::new();
        for r in &table.rows[rows.clone()] {
            copy.tuple(names.len() as u16);
            copy.uuid(&account);
            for (_, col) in &table.columns {
                copy.value(col, r.row as usize);
            }
            copy.int8(r.hash as i64);
            copy.uuid(&job);
            copy.int8(r.line as i64);
        }
        sqlx::raw_sql(AssertSqlSafe(format!("TRUNCATE {stage}")))
            .execute(&mut self.data)
            .await?;
        let mut sink = self
            .data
            .copy_in_raw(&format!("COPY {stage} ({cols}) FROM STDIN (FORMAT binary)"))
            .await?;
        sink.send(copy.finish()).await?;
        sink.finish().await?;

        let key = table.key_column;
        let sets = names
            .iter()
            .filter(|n| **n != "account_id" && **n != key)
            .map(|n| format!("{n} = EXCLUDED.{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let upsert = format!(
            "INSERT INTO {t} AS d ({cols}) SELECT {cols} FROM {stage} \
             ON CONFLICT (account_id, {key}) DO UPDATE SET {sets} \
             WHERE d.row_hash IS DISTINCT FROM EXCLUDED.row_hash \
             RETURNING d.{key}, d.xmax = 0",
            t = table.table
        );
        let returned = sqlx::query(AssertSqlSafe(upsert))
            .fetch_all(&mut self.data)
            .await?;
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

/// A summary refresh's queries on PostgreSQL: source rows are named by their natural key.
struct PgRefresh<'a> {
    store: &'a mut PgStore,
    rollup: &'static Rollup,
    account: Uuid,
    job: Uuid,
}

impl PgRefresh<'_> {
    /// The rows of a refresh query whose parameters are the account and a list.
    async fn of_account(
        &mut self,
        sql: String,
        list: &[String],
    ) -> Result<Vec<sqlx::postgres::PgRow>, StoreError> {
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(self.account.to_string())
            .bind(list)
            .fetch_all(&mut self.store.data)
            .await?)
    }
}

impl rollup::RefreshQueries for PgRefresh<'_> {
    type Ref = String;

    async fn next_keys(&mut self, after: &str) -> Result<Vec<String>, StoreError> {
        let d = &rollup::POSTGRES;
        Ok(
            sqlx::query_scalar(AssertSqlSafe(d.on_keys(d.page, self.rollup)))
                .bind(after)
                .bind(rollup::PAGE)
                .fetch_all(&mut self.store.data)
                .await?,
        )
    }

    async fn written_by_job(&mut self, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        let sql = rollup::written_by_job(self.rollup, &rollup::POSTGRES);
        let found: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(self.account.to_string())
            .bind(self.job.to_string())
            .bind(keys)
            .fetch_all(&mut self.store.data)
            .await?;
        Ok(found.into_iter().collect())
    }

    async fn scan(
        &mut self,
        keys: &[String],
    ) -> Result<Vec<rollup::SourceRow<String>>, StoreError> {
        let sql = rollup::scan(self.rollup, &rollup::POSTGRES);
        let found = self.of_account(sql, keys).await?;
        Ok(found
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    async fn latest(
        &mut self,
        refs: Vec<String>,
    ) -> Result<rollup::LatestValues<String>, StoreError> {
        let sql = rollup::latest(self.rollup, &rollup::POSTGRES);
        let width = self.rollup.latest.len();
        let found = self.of_account(sql, &refs).await?;
        Ok(found
            .iter()
            .map(|r| (r.get(0), (0..width).map(|i| r.get(1 + i)).collect()))
            .collect())
    }

    async fn write(&mut self, table: &TableRows) -> Result<Vec<Outcome>, StoreError> {
        self.store.write_table(table, self.account, self.job).await
    }
}

/// Marks `processing` jobs whose process is gone as `interrupted`: a running job's process
/// holds the job's advisory lock for as long as its connection lives.
async fn reap_interrupted(conn: &mut PgConnection) -> Result<(), StoreError> {
    let ids: Vec<String> =
        sqlx::query("SELECT id::text FROM import_jobs WHERE status = 'processing'")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    for id in ids {
        let free: bool = sqlx::query(
            "SELECT pg_try_advisory_lock(hashtextextended('ebay_import_job:' || $1, 0))",
        )
        .bind(&id)
        .fetch_one(&mut *conn)
        .await?
        .get(0);
        if free {
            sqlx::query(
                "UPDATE import_jobs SET status = 'interrupted', error = $2 \
                 WHERE id = $1::uuid AND status = 'processing'",
            )
            .bind(&id)
            .bind(INTERRUPTED)
            .execute(&mut *conn)
            .await?;
            sqlx::query("SELECT pg_advisory_unlock(hashtextextended('ebay_import_job:' || $1, 0))")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
        }
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
        .execute(&mut self.jobs)
        .await?;
        Ok(())
    }

    async fn account_id_of(&mut self, account: &AccountRef) -> Result<Option<Uuid>, StoreError> {
        Ok(match account {
            AccountRef::Id(id) => Some(*id),
            AccountRef::Slug(slug) => sqlx::query("SELECT id::text FROM accounts WHERE slug = $1")
                .bind(slug.clone())
                .fetch_optional(&mut self.jobs)
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

    async fn save_job(&mut self, job: &JobRecord) -> Result<(), StoreError> {
        // A running job holds its lock (on the jobs connection, so it goes with the process)
        // from before its record says `processing` until the record says how it ended.
        let running = job.status == JobStatus::Processing;
        if running && self.running.insert(job.id) {
            sqlx::query("SELECT pg_advisory_lock(hashtextextended('ebay_import_job:' || $1, 0))")
                .bind(job.id.to_string())
                .execute(&mut self.jobs)
                .await?;
        }
        bind_job(
            sqlx::query(
                "INSERT INTO import_jobs (id, account_id, import_type, file_name, file_size, \
             file_sha256, encoding, delimiter, site, status, rows_read, inserted, updated, \
             unchanged, rejected, skipped, errors_by_code, tables, metadata, error, created_by, \
             created_at, started_at, finished_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb, $18::jsonb, $19::jsonb, \
             $20, $21, $22::timestamptz, $23::timestamptz, $24::timestamptz) \
             ON CONFLICT (id) DO UPDATE SET import_type = EXCLUDED.import_type, \
             file_size = EXCLUDED.file_size, file_sha256 = EXCLUDED.file_sha256, \
             encoding = EXCLUDED.encoding, delimiter = EXCLUDED.delimiter, site = EXCLUDED.site, \
             status = EXCLUDED.status, rows_read = EXCLUDED.rows_read, \
             inserted = EXCLUDED.inserted, updated = EXCLUDED.updated, \
             unchanged = EXCLUDED.unchanged, rejected = EXCLUDED.rejected, \
             skipped = EXCLUDED.skipped, errors_by_code = EXCLUDED.errors_by_code, \
             tables = EXCLUDED.tables, metadata = EXCLUDED.metadata, error = EXCLUDED.error, \
             started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at",
            ),
            job,
        )
        .execute(&mut self.jobs)
        .await?;
        if !running && self.running.remove(&job.id) {
            sqlx::query("SELECT pg_advisory_unlock(hashtextextended('ebay_import_job:' || $1, 0))")
                .bind(job.id.to_string())
                .execute(&mut self.jobs)
                .await?;
        }
        Ok(())
    }

    async fn begin(&mut self, account: Uuid, _incoming: Option<u64>) -> Result<(), StoreError> {
        sqlx::raw_sql("BEGIN").execute(&mut self.data).await?;
        self.in_tx = true;
        self.staged.clear();
        sqlx::query("SELECT set_config('ebay_import.account_id', $1, true)")
            .bind(account.to_string())
            .execute(&mut self.data)
            .await?;
        // The key is computed by the server, so other tools can take the same lock.
        let got: bool = sqlx::query(
            "SELECT pg_try_advisory_xact_lock(hashtextextended('ebay_import:' || $1, 0))",
        )
        .bind(account.to_string())
        .fetch_one(&mut self.data)
        .await?
        .get(0);
        if !got {
            eprintln!(
                "waiting for another import of account {account} to finish (imports of one \
                 account run one at a time)"
            );
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('ebay_import:' || $1, 0))")
                .bind(account.to_string())
                .execute(&mut self.data)
                .await?;
        }
        Ok(())
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
            "INSERT INTO import_rejects (job_id, line, record, column_name, code, message, value, \
             raw_line) SELECT $1::uuid, * FROM UNNEST($2::int8[], $3::int8[], $4::text[], \
             $5::text[], $6::text[], $7::text[], $8::text[])",
        )
        .bind(job.to_string())
        .bind(rejects.iter().map(|r| r.line as i64).collect::<Vec<_>>())
        .bind(rejects.iter().map(|r| r.record as i64).collect::<Vec<_>>())
        .bind(col(|r| r.column.clone()))
        .bind(col(|r| Some(r.code.as_str().to_string())))
        .bind(col(|r| Some(r.message.clone())))
        .bind(col(|r| r.value.clone()))
        .bind(col(|r| r.raw.clone()))
        .execute(&mut self.data)
        .await?;
        Ok(())
    }

    async fn checkpoint(
        &mut self,
        job: Uuid,
        cursor: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE import_jobs SET resume_cursor = $1::jsonb WHERE id = $2::uuid")
            .bind(cursor.to_string())
            .bind(job.to_string())
            .execute(&mut self.data)
            .await?;
        Ok(())
    }

    async fn touch(&mut self, rollup: &'static Rollup, keys: &[String]) -> Result<(), StoreError> {
        let d = &rollup::POSTGRES;
        self.keys_table(rollup).await?;
        sqlx::query(AssertSqlSafe(d.on_keys(d.add_keys, rollup)))
            .bind(keys)
            .execute(&mut self.data)
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
        self.keys_table(rollup).await?;
        let counts = rollup::refresh(
            &mut PgRefresh {
                store: self,
                rollup,
                account,
                job,
            },
            rollup,
        )
        .await?;
        sqlx::raw_sql(AssertSqlSafe(d.on_keys(d.clear_keys, rollup)))
            .execute(&mut self.data)
            .await?;
        Ok(counts)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        sqlx::raw_sql("COMMIT").execute(&mut self.data).await?;
        self.in_tx = false;
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.in_tx {
            self.in_tx = false;
            // A lost connection has rolled the transaction back already.
            if sqlx::raw_sql("ROLLBACK")
                .execute(&mut self.data)
                .await
                .is_err()
            {
                let _ = self.data.ping().await;
            }
        }
        Ok(())
    }
}

impl JobControl for PgStore {
    async fn rollback_job(&mut self, job: &JobRecord) -> Result<RollbackSummary, StoreError> {
        check_rollable(job)?;
        // The account's transaction and lock, as for an import of it.
        self.begin(job.account_id, None).await?;
        let result = self.undo(job).await;
        match result {
            Ok(summary) => {
                self.commit().await?;
                self.save_job(&rolled_back(job, &summary)).await?;
                Ok(summary)
            }
            Err(e) => {
                self.rollback().await?;
                Err(e)
            }
        }
    }
}

impl PgStore {
    async fn undo(&mut self, job: &JobRecord) -> Result<RollbackSummary, StoreError> {
        let id = job.id.to_string();
        // Restores are not versions to keep.
        sqlx::raw_sql("SET LOCAL ebay_import.restoring = 'on'")
            .execute(&mut self.data)
            .await?;
        let mut later = Vec::new();
        for (t, _) in DATA_TABLES {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT DISTINCT replaced_by::text FROM {t}_history \
                 WHERE job_id = $1::uuid AND replaced_by <> $1::uuid"
            )))
            .bind(&id)
            .fetch_all(&mut self.data)
            .await?;
            later.extend(rows.iter().map(|r| r.get::<String, _>(0)));
        }
        if !later.is_empty() {
            return Err(later_jobs_refusal(job.id, later));
        }
        let mut summary = RollbackSummary::default();
        for (t, key) in DATA_TABLES {
            let cols: Vec<String> = sqlx::query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(*t)
            .fetch_all(&mut self.data)
            .await?
            .iter()
            .map(|r| r.get::<String, _>(0))
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
            .execute(&mut self.data)
            .await?
            .rows_affected();
            let deleted = sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {t} WHERE job_id = $1::uuid"
            )))
            .bind(&id)
            .execute(&mut self.data)
            .await?
            .rows_affected();
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {t}_history WHERE replaced_by = $1::uuid"
            )))
            .bind(&id)
            .execute(&mut self.data)
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
        let rows = match account {
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {JOB_COLUMNS} FROM import_jobs ORDER BY import_jobs.created_at, import_jobs.id"
                )))
                .fetch_all(&mut self.jobs)
                .await?
            }
            Some(a) => {
                let Some(id) = self.account_id_of(a).await? else {
                    return Ok(Vec::new());
                };
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {JOB_COLUMNS} FROM import_jobs WHERE import_jobs.account_id = $1::uuid \
                     ORDER BY import_jobs.created_at, import_jobs.id"
                )))
                .bind(id.to_string())
                .fetch_all(&mut self.jobs)
                .await?
            }
        };
        Ok(rows.iter().map(job_from_row).collect())
    }

    async fn job(&mut self, id: &str) -> Result<JobRecord, StoreError> {
        // A unique prefix of the id is enough, as with git commits.
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM import_jobs WHERE import_jobs.id::text LIKE $1 || '%' LIMIT 2"
        )))
        .bind(id.to_string())
        .fetch_all(&mut self.jobs)
        .await?;
        match rows.as_slice() {
            [one] if !id.is_empty() => Ok(job_from_row(one)),
            _ => Err(StoreError::NoSuchJob(id.to_string())),
        }
    }

    async fn rejects(&mut self, id: Uuid) -> Result<Vec<Reject>, StoreError> {
        let rows = sqlx::query(
            "SELECT line, record, column_name, code, message, value, raw_line FROM import_rejects \
             WHERE job_id = $1::uuid ORDER BY line, seq",
        )
        .bind(id.to_string())
        .fetch_all(&mut self.jobs)
        .await?;
        Ok(rows.iter().map(crate::reject_from_row).collect())
    }
}
