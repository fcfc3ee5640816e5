//! Helpers for the end-to-end tests of the `ebay-import` binary: a temporary working directory
//! with its own SQLite database (or a fresh PostgreSQL database), running the binary, parsing
//! its JSON and the rejects CSV, and reading the database back with sqlx (no `sqlite3` or
//! `psql` needed).

// Shared by test files that each use a different subset of the helpers.
#![allow(dead_code)]

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row, SqliteConnection};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// The eBay US Orders report sample shipped with the repository.
pub const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/orders-report-us.csv");
/// The seed's one-row-per-order CSV.
pub const CANONICAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/orders-canonical.csv");
/// Where the sample is copied inside each test's directory (relative to it).
pub const SAMPLE_REL: &str = "data/orders-report-us.csv";

/// A small Orders header: the four required columns plus a few line-level ones.
pub const MINI_HEADER: &str = "Sales Record Number,Order Number,Buyer Name,Buyer Email,Item Number,Quantity,Sold For,Total Price,Sale Date";

/// The header of the rejects CSV.
pub const REJECTS_HEADER: &str = "line,record,column,code,message,value";

/// One test's working directory and database: `<dir>/t.db`, or a fresh PostgreSQL database.
pub struct Env {
    pub dir: TempDir,
    pg: Option<PgDatabase>,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("create a temporary directory"),
            pg: None,
        }
    }

    /// An environment whose database is a fresh PostgreSQL database, or `None` (after a
    /// visible SKIPPED line) when no server is reachable and `EBAY_IMPORT_REQUIRE_PG` is not 1.
    pub fn postgres(test: &str) -> Option<Env> {
        let pg = PgDatabase::create(test)?;
        Some(Env {
            dir: tempfile::tempdir().expect("create a temporary directory"),
            pg: Some(pg),
        })
    }

    /// The SQLite environment, then the PostgreSQL one when a server is reachable: the same
    /// behaviour test runs against both stores.
    pub fn each_store(test: &str) -> Vec<Env> {
        let mut envs = vec![Env::new()];
        envs.extend(Env::postgres(test));
        envs
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// `sqlite` or `postgres`, for assertion messages.
    pub fn store_name(&self) -> &'static str {
        if self.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn db_path(&self) -> PathBuf {
        self.path("t.db")
    }

    pub fn db_url(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", self.db_path().display()),
        }
    }

    /// Writes a file (creating its directories) and returns its path relative to the dir.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> String {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create fixture directory");
        }
        std::fs::write(&p, bytes).expect("write fixture");
        rel.to_string()
    }

    /// Writes a generated Orders report to `rel` and returns what it holds.
    pub fn generate_orders(
        &self,
        rel: &str,
        opts: &ebay_import_generate::OrdersReportOptions,
    ) -> ebay_import_generate::GeneratedReport {
        let file = std::fs::File::create(self.path(rel)).expect("create the report");
        ebay_import_generate::write_orders_report(file, opts).expect("generate the report")
    }

    /// Copies the sample to `data/orders-report-us.csv` in the test's directory.
    pub fn copy_sample(&self) -> &'static str {
        self.write(SAMPLE_REL, sample_bytes());
        SAMPLE_REL
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ebay-import"));
        cmd.arg("--database")
            .arg(self.db_url())
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("EBAY_IMPORT_LOG");
        cmd
    }

    /// Runs `ebay-import --database sqlite://<dir>/t.db <args>` in the test's directory.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run ebay-import");
        Run::from(out, args)
    }

    /// Starts the binary without waiting for it (outputs piped).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ebay-import")
    }

    /// Like [`Env::run`], with extra environment variables (a crash point, say). A run that
    /// ended by a signal or an abort has the code -1.
    pub fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run ebay-import");
        Run::from(out, args)
    }

    /// Like [`Env::run`], with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ebay-import");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait for ebay-import");
        writer.join().expect("stdin writer");
        Run::from(out, args)
    }

    /// `import --account <account> --json <extra...>`, expecting one JSON line per file.
    pub fn import(&self, account: &str, extra: &[&str]) -> Run {
        let mut args = vec!["import", "--account", account, "--json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Rows of a query whose selected columns are all TEXT or NULL (CAST the others).
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        db_rows(&self.db_url(), sql)
    }

    pub fn count(&self, sql: &str) -> i64 {
        db_count(&self.db_url(), sql)
    }

    /// Like [`Env::count`], but `None` while the database or the table does not exist yet.
    pub fn try_count(&self, sql: &str) -> Option<i64> {
        if !self.is_postgres() && !self.db_path().exists() {
            return None;
        }
        let url = self.db_url();
        let sql = sql.to_string();
        std::thread::spawn(move || std::panic::catch_unwind(|| db_count(&url, &sql)).ok())
            .join()
            .ok()
            .flatten()
    }

    pub fn exec(&self, statements: &[&str]) {
        db_exec(&self.db_url(), statements)
    }
}

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: std::process::Output, args: &[&str]) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with the run's output unless it exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "ebay-import {:?} exited with {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Every stdout line parsed as one JSON value.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
            })
            .collect()
    }

    /// The single JSON line on stdout.
    pub fn json(&self) -> Value {
        let lines = self.json_lines();
        assert_eq!(
            lines.len(),
            1,
            "expected exactly one JSON line on stdout, got:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        lines.into_iter().next().expect("one line")
    }

    /// All of stdout as one (possibly pretty-printed) JSON document.
    pub fn json_doc(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a JSON document ({e}):\n{}", self.stdout))
    }
}

pub fn sample_bytes() -> Vec<u8> {
    std::fs::read(SAMPLE).expect("read data/orders-report-us.csv")
}

/// A JSON value as u64, with a readable failure.
pub fn u(v: &Value, key: &str) -> u64 {
    let mut cur = v;
    for part in key.split('.') {
        cur = &cur[part];
    }
    cur.as_u64()
        .unwrap_or_else(|| panic!("{key} is not an unsigned integer in {v}"))
}

/// A JSON value as &str, with a readable failure.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    let mut cur = v;
    for part in key.split('.') {
        cur = &cur[part];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// `errors_by_code` as a map.
pub fn codes(v: &Value) -> BTreeMap<String, u64> {
    v["errors_by_code"]
        .as_object()
        .unwrap_or_else(|| panic!("errors_by_code is not an object in {v}"))
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("a count")))
        .collect()
}

pub fn code_map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// Asserts the per-record counts of a summary: rows_read, inserted, updated, unchanged,
/// rejected, and that they reconcile.
pub fn assert_counts(v: &Value, rows_read: u64, ins: u64, upd: u64, unch: u64, rej: u64) {
    let got = (
        u(v, "rows_read"),
        u(v, "inserted"),
        u(v, "updated"),
        u(v, "unchanged"),
        u(v, "rejected"),
    );
    assert_eq!(
        got,
        (rows_read, ins, upd, unch, rej),
        "(rows_read, inserted, updated, unchanged, rejected) in {v}"
    );
    assert_reconciles(v);
}

pub fn assert_reconciles(v: &Value) {
    assert_eq!(
        u(v, "rows_read"),
        u(v, "inserted") + u(v, "updated") + u(v, "unchanged") + u(v, "rejected"),
        "counts do not reconcile in {v}"
    );
}

/// Splits RFC 4180 CSV text (quoted fields, doubled quotes, line breaks inside quotes).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    let mut pending = false;
    while let Some(c) = chars.next() {
        pending = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut fields));
                pending = false;
            }
            _ => field.push(c),
        }
    }
    assert!(!in_quotes, "unterminated quote in CSV:\n{text}");
    if pending {
        fields.push(field);
        records.push(fields);
    }
    records
}

/// One row of a rejects CSV.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RejectRow {
    pub line: u64,
    pub record: u64,
    pub column: String,
    pub code: String,
    pub message: String,
    pub value: String,
}

/// Parses a rejects CSV, checking its header; rows sorted by (line, code, column).
pub fn parse_rejects(text: &str) -> Vec<RejectRow> {
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(first, REJECTS_HEADER, "rejects CSV header");
    let mut rows: Vec<RejectRow> = parse_csv(text)
        .into_iter()
        .skip(1)
        .map(|r| {
            assert_eq!(r.len(), 6, "a rejects CSV row has 6 fields: {r:?}");
            RejectRow {
                line: r[0].parse().expect("line is a number"),
                record: r[1].parse().expect("record is a number"),
                column: r[2].clone(),
                code: r[3].clone(),
                message: r[4].clone(),
                value: r[5].clone(),
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.line, &a.code, &a.column).cmp(&(b.line, &b.code, &b.column)));
    rows
}

/// (line, code) of each reject.
pub fn line_codes(rows: &[RejectRow]) -> Vec<(u64, &str)> {
    rows.iter().map(|r| (r.line, r.code.as_str())).collect()
}

// --- database -------------------------------------------------------------------------------

/// Runs a future to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// A connection to either store's database, by URL.
enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

async fn connect(url: &str) -> Conn {
    let conn = if url.starts_with("postgres") {
        PgConnection::connect(url).await.map(Conn::Pg)
    } else {
        SqliteConnection::connect(url).await.map(Conn::Sqlite)
    };
    conn.unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// Rows of `sql` with every column read as optional text.
async fn text_rows(conn: &mut Conn, sql: &str) -> Vec<Vec<Option<String>>> {
    macro_rules! read {
        ($c:expr) => {{
            let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
                .fetch_all($c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            row.try_get::<Option<String>, _>(i)
                                .unwrap_or_else(|e| panic!("{sql}: column {i}: {e}"))
                        })
                        .collect()
                })
                .collect()
        }};
    }
    match conn {
        Conn::Sqlite(c) => read!(c),
        Conn::Pg(c) => read!(c),
    }
}

async fn execute(conn: &mut Conn, sql: &str) {
    let done = match conn {
        Conn::Sqlite(c) => sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(c)
            .await
            .map(|_| ()),
        Conn::Pg(c) => sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(c)
            .await
            .map(|_| ()),
    };
    done.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn close(conn: Conn) {
    let _ = match conn {
        Conn::Sqlite(c) => c.close().await,
        Conn::Pg(c) => c.close().await,
    };
}

pub fn db_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    block_on(async {
        let mut conn = connect(url).await;
        let out = text_rows(&mut conn, sql).await;
        close(conn).await;
        out
    })
}

/// A query returning one number (cast to text on PostgreSQL, where COUNT is bigint).
pub fn db_count(url: &str, sql: &str) -> i64 {
    let sql = format!("SELECT CAST(({sql}) AS TEXT)");
    let rows = db_rows(url, &sql);
    rows[0][0]
        .as_deref()
        .unwrap_or_else(|| panic!("{sql}: NULL"))
        .parse()
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub fn db_exec(url: &str, statements: &[&str]) {
    block_on(async {
        let mut conn = connect(url).await;
        for sql in statements {
            execute(&mut conn, sql).await;
        }
        close(conn).await;
    })
}

// --- PostgreSQL -------------------------------------------------------------------------------

/// The server the tests use: `EBAY_IMPORT_TEST_PG` (an admin URL without a database), by
/// default the local one.
pub fn pg_server() -> String {
    std::env::var("EBAY_IMPORT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database created for one test and dropped after it.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create(test: &str) -> Option<PgDatabase> {
        let server = pg_server();
        let admin = format!("{server}/postgres");
        let reachable = block_on(async { PgConnection::connect(&admin).await.map(|c| c.close()) });
        if let Err(e) = reachable {
            if std::env::var("EBAY_IMPORT_REQUIRE_PG").as_deref() == Ok("1") {
                panic!("PostgreSQL is required (EBAY_IMPORT_REQUIRE_PG=1) but {admin} is not reachable: {e}");
            }
            // Straight to the file descriptor: the test harness captures eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test} on PostgreSQL: {admin} is not reachable ({e})"
            );
            return None;
        }
        let name = format!(
            "ei_{}_{}",
            test.chars().take(30).collect::<String>(),
            uuid::Uuid::now_v7().simple()
        );
        db_exec(&admin, &[&format!("CREATE DATABASE {name}")]);
        Some(PgDatabase {
            url: format!("{server}/{name}"),
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = format!("{}/postgres", pg_server());
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = std::panic::catch_unwind(|| db_exec(&admin, &[&sql]));
    }
}

/// Some(String) shorthand for row comparisons.
pub fn t(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// Whether `dir` holds any file whose name starts with `prefix`.
pub fn has_file_starting_with(dir: &Path, prefix: &str) -> bool {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
}
