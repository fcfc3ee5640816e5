//! Helpers for the end-to-end tests of the `ebay-import` binary: a temporary working directory
//! with its own SQLite database (or a fresh PostgreSQL database), running the binary, parsing
//! its JSON and the rejects CSV, and reading the database back with sqlx (no `sqlite3` or
//! `psql` needed).

// Shared by test files that each use a different subset of the helpers.
#![allow(dead_code)]

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row, SqliteConnection};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
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
        let mut cmd = self.bare(&["--database", &self.db_url()]);
        cmd.args(args);
        cmd
    }

    /// The binary in the test's directory, without `--database` (for a command that names
    /// its own database, or none), not yet run.
    pub fn bare(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ebay-import"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("EBAY_IMPORT_LOG")
            .env_remove("EBAY_IMPORT_CRASH_AT");
        cmd
    }

    /// `ebay-import --database <the test's database> <args>`, not yet run: for environment
    /// variables, other standard streams or a wait of one's own.
    pub fn cmd(&self, args: &[&str]) -> Command {
        self.command(args)
    }

    /// Like [`Env::run`], with these environment variables set.
    pub fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        cmd.envs(vars.iter().copied()).stdin(Stdio::null());
        Run::of(cmd, args)
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
    /// Runs `cmd` to its end; `args` name it in assertion messages.
    pub fn of(mut cmd: Command, args: &[&str]) -> Run {
        Run::from(cmd.output().expect("run ebay-import"), args)
    }

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

// --- the job lifecycle ------------------------------------------------------------------------

/// SIGABRT: how a crash point ends the process.
pub const SIGABRT: i32 = 6;

/// The fields of an import's outcome that a resumed job must share with the same file imported
/// in one go.
pub const OUTCOME: [&str; 9] = [
    "status",
    "rows_read",
    "inserted",
    "updated",
    "unchanged",
    "rejected",
    "skipped",
    "errors_by_code",
    "tables",
];

pub fn assert_same_outcome(got: &Value, want: &Value, what: &str) {
    for key in OUTCOME {
        assert_eq!(
            got[key], want[key],
            "{what}: {key} differs\n got: {got}\nwant: {want}"
        );
    }
}

/// A generated Orders report (about 450 bytes a record), faulty every `fault_every` records.
pub fn orders_file(env: &Env, name: &str, rows: u64, fault_every: Option<u64>) -> String {
    env.generate_orders(
        name,
        &ebay_import_generate::OrdersReportOptions {
            rows,
            fault_every,
            ..ebay_import_generate::OrdersReportOptions::default()
        },
    );
    name.to_string()
}

/// `import --account <account> --json <extra...> <file>` as arguments.
pub fn import_args<'a>(account: &'a str, extra: &[&'a str], file: &'a str) -> Vec<&'a str> {
    let mut args = vec!["import", "--account", account, "--json"];
    args.extend_from_slice(extra);
    args.push(file);
    args
}

/// Runs the binary with the crash point `at` planned and asserts it aborted there.
pub fn crashed(env: &Env, at: &str, args: &[&str]) -> Output {
    let out = env
        .cmd(args)
        .env("EBAY_IMPORT_CRASH_AT", at)
        .stdin(Stdio::null())
        .output()
        .expect("run ebay-import");
    assert_eq!(
        out.status.signal(),
        Some(SIGABRT),
        "{}: {args:?} with EBAY_IMPORT_CRASH_AT={at} did not crash ({:?})\nstdout:\n{}\nstderr:\n{}",
        env.store_name(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for_sessions_gone(env);
    out
}

/// On PostgreSQL, waits until the server has ended every other session of the test's
/// database (at most a minute): a process killed or aborted leaves its backend behind for a
/// moment, rolling back and holding its locks, so its job still reads `processing` until then.
pub fn wait_for_sessions_gone(env: &Env) {
    if !env.is_postgres() {
        return;
    }
    wait_until("the server ended the other sessions", || {
        env.count(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ) == 0
    });
}

/// The one job of an account, as `jobs list --account` shows it.
pub fn job_of(env: &Env, account: &str) -> Value {
    let list = env.run(&["jobs", "list", "--account", account, "--json"]);
    list.expect_code(0);
    let jobs = list.json_lines();
    assert_eq!(
        jobs.len(),
        1,
        "{}: one job of {account}:\n{}",
        env.store_name(),
        list.stdout
    );
    jobs.into_iter().next().expect("one job")
}

/// A job as `jobs show ID --json` shows it.
pub fn job(env: &Env, id: &str) -> Value {
    let show = env.run(&["jobs", "show", id, "--json"]);
    show.expect_code(0);
    show.json_doc()
}

/// A job's status as stored, without the liveness check of the read commands.
pub fn raw_status(env: &Env, id: &str) -> String {
    env.rows(&format!("SELECT status FROM import_jobs WHERE id = '{id}'"))[0][0]
        .clone()
        .expect("a status")
}

/// A stored-row count of a job's `tables` (0 when the table is not listed).
pub fn table_count(job: &Value, table: &str, what: &str) -> u64 {
    job["tables"][table][what].as_u64().unwrap_or(0)
}

/// Rows of `table` that job `id` wrote (the rows that carry its id).
pub fn rows_of_job(env: &Env, table: &str, id: &str) -> u64 {
    env.count(&format!(
        "SELECT COUNT(*) FROM {table} WHERE job_id = '{id}'"
    )) as u64
}

pub fn rows_of_account(env: &Env, table: &str, account: &str) -> u64 {
    env.count(&format!(
        "SELECT COUNT(*) FROM {table} WHERE account_id = '{account}'"
    )) as u64
}

/// The file records whose rows job `id` stored: every record is stored under its own line, as
/// an order, an item or both.
pub fn records_of_job(env: &Env, id: &str) -> u64 {
    env.count(&format!(
        "SELECT COUNT(*) FROM (SELECT source_line FROM orders WHERE job_id = '{id}' \
         UNION SELECT source_line FROM order_items WHERE job_id = '{id}') u"
    )) as u64
}

/// The columns of a table, in order.
pub fn columns(env: &Env, table: &str) -> Vec<String> {
    let sql = if env.is_postgres() {
        format!(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}' \
             ORDER BY ordinal_position"
        )
    } else {
        format!("SELECT name FROM pragma_table_info('{table}')")
    };
    env.rows(&sql)
        .into_iter()
        .map(|r| r[0].clone().expect("a column name"))
        .collect()
}

/// Every stored value of an account's rows of `table`, by natural key, but the columns that
/// name the account or the job (and SQLite's hash of account and key).
pub fn stored(env: &Env, table: &str, account: &str) -> Vec<Vec<Option<String>>> {
    let key = match table {
        "orders" => "order_key",
        "order_items" => "item_key",
        "customers" => "username",
        other => panic!("no key known for {other}"),
    };
    let cols: Vec<String> = columns(env, table)
        .into_iter()
        .filter(|c| !matches!(c.as_str(), "account_id" | "job_id" | "key_hash"))
        .map(|c| format!("CAST({c} AS TEXT)"))
        .collect();
    env.rows(&format!(
        "SELECT {} FROM {table} WHERE account_id = '{account}' ORDER BY {key}",
        cols.join(", ")
    ))
}

/// Asserts that two accounts hold the same orders, items and customers, every column.
pub fn assert_same_rows(env: &Env, account: &str, reference: &str, what: &str) {
    for table in ["orders", "order_items", "customers"] {
        let (got, want) = (stored(env, table, account), stored(env, table, reference));
        assert!(!want.is_empty(), "{what}: the reference has {table}");
        if got != want {
            let first = got
                .iter()
                .zip(&want)
                .find(|(g, w)| g != w)
                .map(|(g, w)| format!("first difference:\n got: {g:?}\nwant: {w:?}"))
                .unwrap_or_default();
            panic!(
                "{what} ({}): {table} differ ({} rows against {}); {first}",
                env.store_name(),
                got.len(),
                want.len()
            );
        }
    }
}

/// A job's rejects as stored, in line order.
pub fn rejects_of(env: &Env, id: &str) -> Vec<Vec<Option<String>>> {
    env.rows(&format!(
        "SELECT CAST(line AS TEXT), CAST(record AS TEXT), column_name, code, message, value, \
         raw_line FROM import_rejects WHERE job_id = '{id}' ORDER BY line, code, column_name"
    ))
}

/// Waits (polling, at most a minute) until `ready` holds.
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gave up waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for a spawned command to end (at most `limit`), reading its outputs meanwhile.
pub fn finish_within(mut child: Child, limit: Duration) -> (ExitStatus, String, String) {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the command") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the command did not end within {limit:?}; stderr:\n{}",
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (
        status,
        out.join().expect("stdout reader"),
        err.join().expect("stderr reader"),
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut child = std::process::Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run sha256sum");
    let mut stdin = child.stdin.take().expect("piped");
    let bytes = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().expect("sha256sum");
    writer.join().expect("writer").expect("write to sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

/// `ebay-import --database <url> <args>` in the test's directory.
pub fn run_at(env: &Env, url: &str, args: &[&str]) -> Run {
    Run::of(env.bare(&[&["--database", url][..], args].concat()), args)
}

/// `MINI_HEADER` and the given data lines.
pub fn mini(lines: &[&str]) -> String {
    let mut s = format!("{MINI_HEADER}\n");
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// Sends `signal` (a name such as TERM) to a running command.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal}");
}

/// Waits until a job of `account` (a slug) is recorded, with `condition` on it.
pub fn wait_for_job(env: &Env, account: &str, condition: &str) {
    wait_until(&format!("a job of {account} with {condition}"), || {
        env.try_count(&format!(
            "SELECT COUNT(*) FROM import_jobs j JOIN accounts a ON a.id = j.account_id \
             WHERE a.slug = '{account}' AND {condition}"
        )) == Some(1)
    });
}
