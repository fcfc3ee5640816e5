//! Flags, commands and exit codes.

use crate::outfile::{OutputFile, Protected};
use crate::output;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ebay_import_map::{ImportSchema, SCHEMAS};
use ebay_import_model::{stop, Reject, SiteProfile, SITES};
use ebay_import_pipeline::{
    inspect, resume_job, run_import, ImportError, ImportOptions, ImportSummary, Input,
    InspectOptions, DEFAULT_MAX_FILE_SIZE,
};
use ebay_import_read::{sniff::parse_delimiter, ReadOptions, DEFAULT_MAX_RECORD_BYTES};
use ebay_import_report::{reject_json, RejectsCsv};
use ebay_import_resolve::OnDuplicate;
use ebay_import_store::{
    database_files, redact, Access, AccountRef, JobControl, JobLog, JobStatus, Store, StoreError,
    StoreOptions,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_TOO_MANY_REJECTS: u8 = 3;
/// The jobs ended as their records say, but the `--rejects` report could not be written.
pub const EXIT_REPORT_FAILED: u8 = 4;

const DEFAULT_DATABASE: &str = "sqlite://ebay-import.db";

#[derive(Parser, Debug)]
#[command(
    name = "ebay-import",
    version,
    about = "Import eBay seller CSV exports into a database, per account, with line-exact rejects"
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (created on first use) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…].
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE)]
    database: String,
    /// How long to wait for another writer (SQLite) or for another import of the same account
    /// (PostgreSQL) before giving up with exit 1, e.g. 30s, 5m; by default, as long as it
    /// takes.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    lock_timeout: Option<Duration>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Import one or more files (or - for stdin) as jobs of one account.
    Import(ImportArgs),
    /// Show what is detected in a file and the records it parses (any CSV).
    Inspect(InspectArgs),
    /// List and inspect import jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Continue an interrupted or failed `--commit-every` job after its last commit.
    Resume {
        #[command(flatten)]
        job: JobArg,
        #[arg(long)]
        json: bool,
    },
    /// Undo a completed job: delete the rows it inserted, restore the rows it updated.
    Rollback {
        #[command(flatten)]
        job: JobArg,
        #[arg(long)]
        json: bool,
        /// Roll back even though later jobs found rows of the same tables unchanged (their
        /// counts then describe rows that are gone).
        #[arg(long)]
        force: bool,
    },
    /// Create the database or bring its schema up to date (imports do this themselves; a
    /// deployment step run by a role allowed to create tables, when readers may not).
    Migrate,
}

#[derive(Args, Debug)]
struct DialectArgs {
    /// Import type (orders, listings, products, customers); detected from the header when
    /// omitted.
    #[arg(long = "type")]
    import_type: Option<String>,
    /// eBay site profile (US, UK, AU, DE, FR, IT); taken from a template's SiteID, the layout or
    /// the header words when omitted.
    #[arg(long)]
    site: Option<String>,
    /// Character encoding (e.g. windows-1252, UTF-16LE); detected when omitted.
    #[arg(long)]
    encoding: Option<String>,
    /// Field delimiter: , ; | or tab; sniffed when omitted.
    #[arg(long)]
    delimiter: Option<String>,
    /// Longest record accepted, in bytes (at most 1GiB); longer ones are rejected with
    /// line_too_long.
    #[arg(long, default_value_t = DEFAULT_MAX_RECORD_BYTES as u64, value_parser = parse_line_limit)]
    max_line_bytes: u64,
    /// Largest input accepted (e.g. 2GiB, 500MB, 1000000).
    #[arg(long, default_value_t = DEFAULT_MAX_FILE_SIZE, value_parser = parse_size)]
    max_file_size: u64,
}

#[derive(Args, Debug)]
struct ImportArgs {
    /// Account: a UUID, or a slug ([a-z0-9][a-z0-9_-]{0,63}) recorded in the accounts table.
    #[arg(long)]
    account: String,
    #[command(flatten)]
    dialect: DialectArgs,
    /// Read, validate and report; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// One JSON object per job on stdout, one per line.
    #[arg(long)]
    json: bool,
    /// Write the rejected rows to this CSV file.
    #[arg(long)]
    rejects: Option<String>,
    /// Exit with 3 when a job rejects more records than this.
    #[arg(long)]
    max_rejects: Option<u64>,
    /// What to do when one order appears twice in a file with different content.
    #[arg(long, value_enum, default_value_t = DuplicatePolicy::Reject)]
    on_duplicate: DuplicatePolicy,
    /// Recorded as the job's creator (default: the OS user).
    #[arg(long)]
    user: Option<String>,
    /// Commit after every N records (for long backfills), recording where `resume` continues;
    /// by default a job is one transaction.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    commit_every: Option<u64>,
    /// Input bytes per batch, e.g. 256KiB (default 768KiB, 3MiB on PostgreSQL): a
    /// --commit-every job commits at batch boundaries.
    #[arg(long, value_name = "SIZE", value_parser = parse_batch_bytes)]
    batch_bytes: Option<u64>,
    /// Files to import; - reads stdin.
    #[arg(required = true)]
    files: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DuplicatePolicy {
    Reject,
    LastWins,
}

#[derive(Args, Debug)]
struct InspectArgs {
    file: String,
    #[command(flatten)]
    dialect: DialectArgs,
    /// Records to show: a number or `all`.
    #[arg(long, default_value = "10")]
    rows: String,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum JobsCommand {
    /// List jobs, oldest first.
    List {
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one job.
    Show {
        #[command(flatten)]
        job: JobArg,
        #[arg(long)]
        json: bool,
    },
    /// The rejected rows of a job.
    Errors {
        #[command(flatten)]
        job: JobArg,
        #[arg(long, value_enum, default_value_t = ErrorFormat::Csv)]
        format: ErrorFormat,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<String>,
    },
}

/// A job named on the command line.
#[derive(Args, Debug)]
struct JobArg {
    /// The job (a unique prefix of its id is enough).
    id: String,
    /// The job's account. A PostgreSQL role under row-level security sees only the jobs of the
    /// account it names.
    #[arg(long)]
    account: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ErrorFormat {
    Csv,
    Json,
}

/// An error with the exit code it maps to; without an error the command ends quietly (its
/// stdout was closed, as by `| head`).
pub struct Failure {
    pub error: Option<anyhow::Error>,
    pub code: u8,
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: Some(e.into()),
        code: EXIT_USAGE,
    }
}

fn failed(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: Some(e.into()),
        code: EXIT_FAILED,
    }
}

/// The exit code of a command stopped by `signal`: 128 + its number, as a shell reports it.
fn stopped_code(signal: i32) -> u8 {
    128u8.saturating_add(signal as u8)
}

/// A store error: a database that cannot be used is a set-up error (exit 2), a stop ends
/// with 128 + the signal, anything else with exit 1.
fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::UnsupportedUrl(_) | StoreError::Connect(_) | StoreError::Unusable(_) => {
            usage(e)
        }
        StoreError::Stopped(signal) => Failure {
            error: Some(e.into()),
            code: stopped_code(signal),
        },
        StoreError::Output(io) => output_failure(io),
        e => failed(e),
    }
}

fn import_failure(e: ImportError) -> Failure {
    match e {
        ImportError::Refused(_) | ImportError::Input(_) => usage(e),
        ImportError::Store(e) => store_failure(e),
        e => failed(e),
    }
}

/// A write to stdout failed: a closed stdout ends the command quietly.
fn output_failure(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure {
            error: None,
            code: EXIT_OK,
        }
    } else {
        failed(anyhow::anyhow!("cannot write the output: {e}"))
    }
}

/// Prints one line on stdout.
fn print_line(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(output_failure)
}

pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let db = Database {
        url: cli.database,
        lock_timeout: cli.lock_timeout,
    };
    match cli.command {
        Command::Import(args) => import(&db, args).await,
        Command::Inspect(args) => inspect_cmd(args),
        Command::Jobs { command } => jobs(&db, command).await,
        Command::Rollback { job, json, force } => rollback(&db, &job, json, force).await,
        Command::Resume { job, json } => resume(&db, &job, json).await,
        Command::Migrate => migrate(&db).await,
    }
}

/// The database the command works on.
struct Database {
    url: String,
    lock_timeout: Option<Duration>,
}

impl Database {
    /// A database that cannot be opened is a set-up error (exit 2), named in one line.
    async fn open(&self, access: Access) -> Result<Store, Failure> {
        let opts = StoreOptions {
            lock_timeout: self.lock_timeout,
        };
        Store::open(&self.url, access, opts)
            .await
            .map_err(|e| match e {
                // Set-up errors, a lock given up or a stop say what they are.
                StoreError::UnsupportedUrl(_)
                | StoreError::Connect(_)
                | StoreError::Unusable(_)
                | StoreError::LockTimeout(_)
                | StoreError::Stopped(_) => store_failure(e),
                e => usage(anyhow::anyhow!(
                    "cannot open database {}: {e}",
                    redact(&self.url)
                )),
            })
    }
}

fn read_options(d: &DialectArgs) -> Result<ReadOptions, Failure> {
    let encoding = match &d.encoding {
        None => None,
        Some(name) => Some(encoding_rs::Encoding::for_label(name.as_bytes()).ok_or_else(|| {
            usage(anyhow::anyhow!("unknown encoding {name:?}; use a WHATWG label such as UTF-8, windows-1252, ISO-8859-1, UTF-16LE, Shift_JIS"))
        })?),
    };
    let delimiter = match &d.delimiter {
        None => None,
        Some(s) => Some(parse_delimiter(s).ok_or_else(|| {
            usage(anyhow::anyhow!(
                "--delimiter takes one character or `tab`, not {s:?}"
            ))
        })?),
    };
    Ok(ReadOptions {
        encoding,
        delimiter,
        max_record_bytes: d.max_line_bytes as usize,
        ..ReadOptions::default()
    })
}

fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// The `--rejects` report of an import: written as rejects are found, renamed into place at
/// the end. A report that cannot be written does not stop the jobs; it is said at the end.
struct RejectReport {
    path: String,
    csv: RejectsCsv<OutputFile>,
    error: Option<std::io::Error>,
}

impl RejectReport {
    fn create(path: &str, protected: &Protected) -> Result<RejectReport, Failure> {
        let file = OutputFile::create(path, protected).map_err(|e| usage(anyhow::anyhow!(e)))?;
        let csv = RejectsCsv::new(file)
            .map_err(|e| usage(anyhow::anyhow!("cannot write {path}: {e}")))?;
        Ok(RejectReport {
            path: path.to_string(),
            csv,
            error: None,
        })
    }

    fn write(&mut self, rejects: &[Reject]) {
        if self.error.is_none() {
            self.error = self.csv.write(rejects).err();
        }
    }

    /// Puts the report in place, or says why it is not there (exit 4): the jobs' data is as
    /// their records say either way.
    fn finish(self, jobs: &[String]) -> u8 {
        let result = match self.error {
            Some(e) => Err(e),
            None => self.csv.finish().and_then(OutputFile::commit),
        };
        match result {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!(
                    "error: the rejects report {} could not be written ({e}); the jobs ended as \
                     their records say, and `ebay-import jobs errors ID` gives their rejects \
                     (job {})",
                    self.path,
                    jobs.join(", ")
                );
                EXIT_REPORT_FAILED
            }
        }
    }
}

async fn import(db: &Database, args: ImportArgs) -> Result<u8, Failure> {
    let account = AccountRef::parse(&args.account).map_err(usage)?;
    check_names(&args.dialect)?;
    let mut opts = ImportOptions::new(account);
    opts.read = read_options(&args.dialect)?;
    opts.import_type = args.dialect.import_type.clone();
    opts.site = args.dialect.site.clone();
    opts.dry_run = args.dry_run;
    opts.max_file_size = args.dialect.max_file_size;
    opts.user = args.user.clone().unwrap_or_else(os_user);
    opts.commit_every = args.commit_every;
    opts.batch_bytes = args.batch_bytes.map(|n| n as usize);
    opts.on_duplicate = match args.on_duplicate {
        DuplicatePolicy::Reject => OnDuplicate::Reject,
        DuplicatePolicy::LastWins => OnDuplicate::LastWins,
    };
    // Every input is checked before anything is written, so a missing file is a usage error
    // that leaves no job and no database behind; no output may be an input or the database.
    let mut inputs = Vec::with_capacity(args.files.len());
    for file in &args.files {
        inputs.push(Input::open(file, opts.max_file_size).map_err(usage)?);
    }
    let protected = Protected::new(&args.files, database_files(&db.url));
    let mut report = match &args.rejects {
        None => None,
        Some(path) => Some(RejectReport::create(path, &protected)?),
    };
    let mut store = if args.dry_run {
        None
    } else {
        Some(db.open(Access::Write).await?)
    };
    let mut worst = EXIT_OK;
    let mut jobs = Vec::new();
    for input in inputs {
        let bar = progress_bar(args.json);
        let progress = |rows: u64| {
            if let Some(b) = &bar {
                b.set_position(rows);
            }
        };
        let mut observer = |rejects: &[Reject]| {
            if let Some(r) = report.as_mut() {
                r.write(rejects);
            }
        };
        let result = run_import(store.as_mut(), input, &opts, &mut observer, &progress).await;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let summary = result.map_err(import_failure)?;
        emit_summary(&summary, args.json);
        jobs.push(summary.job.id.to_string());
        worst = worse(worst, job_exit_code(&summary, args.max_rejects));
        if summary.job.status == JobStatus::Interrupted {
            break;
        }
    }
    if let Some(r) = report {
        worst = worse(worst, r.finish(&jobs));
    }
    Ok(worst)
}

/// The exit code a job's outcome gives.
fn job_exit_code(summary: &ImportSummary, max_rejects: Option<u64>) -> u8 {
    match summary.job.status {
        JobStatus::Failed => EXIT_FAILED,
        JobStatus::Interrupted => stopped_code(stop::requested().unwrap_or(15)),
        _ if max_rejects.is_some_and(|max| summary.job.rejected > max) => EXIT_TOO_MANY_REJECTS,
        _ => EXIT_OK,
    }
}

/// Unknown type or site names are usage errors, found before any job starts.
fn check_names(d: &DialectArgs) -> Result<(), Failure> {
    if let Some(t) = &d.import_type {
        if ImportSchema::by_name(t).is_none() {
            let known: Vec<_> = SCHEMAS.iter().map(|s| s.name).collect();
            return Err(usage(anyhow::anyhow!(
                "unknown --type {t:?}; known types: {}",
                known.join(", ")
            )));
        }
    }
    if let Some(s) = &d.site {
        if SiteProfile::by_code(s).is_none() {
            let known: Vec<_> = SITES.iter().map(|s| s.code).collect();
            return Err(usage(anyhow::anyhow!(
                "unknown --site {s:?}; known sites: {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// The worse of two exit codes: a stop, then a failed job, then an unwritten report, then too
/// many rejects.
fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        c if c > 128 => 5,
        EXIT_FAILED => 4,
        EXIT_REPORT_FAILED => 3,
        EXIT_TOO_MANY_REJECTS => 2,
        EXIT_OK => 0,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Prints the job's summary; a job that did not complete also says why on stderr, so a
/// scheduler that discards stdout still logs it. A closed stdout does not undo the job: the
/// summary is then only lost.
fn emit_summary(summary: &ImportSummary, json: bool) {
    let j = &summary.job;
    let text = if json {
        output::summary_json(summary).to_string()
    } else {
        output::summary_text(summary)
    };
    let _ = print_line(&text);
    if matches!(j.status, JobStatus::Failed | JobStatus::Interrupted) {
        eprintln!(
            "ebay-import: job {} {}: {}",
            j.id,
            j.status.as_str(),
            j.error.as_deref().unwrap_or("every record was rejected")
        );
    }
}

fn progress_bar(json: bool) -> Option<ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} rows  {per_sec}  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

fn inspect_cmd(args: InspectArgs) -> Result<u8, Failure> {
    check_names(&args.dialect)?;
    let rows = match args.rows.as_str() {
        "all" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| usage(anyhow::anyhow!("--rows takes a number or `all`, not {n:?}")))?,
        ),
    };
    let opts = InspectOptions {
        read: read_options(&args.dialect)?,
        import_type: args.dialect.import_type.clone(),
        site: args.dialect.site.clone(),
        rows,
        max_file_size: args.dialect.max_file_size,
    };
    let input = Input::open(&args.file, opts.max_file_size).map_err(usage)?;
    // The error's message already holds its sources' (`{:#}` would print them twice).
    let report = inspect(input, &opts).map_err(|e| failed(anyhow::anyhow!("{e}")))?;
    // Written straight to stdout: a long record is not copied into one more string.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        output::inspect_text(&report, &mut out)
    }
    .and_then(|()| out.flush())
    .map_err(output_failure)?;
    Ok(EXIT_OK)
}

async fn jobs(db: &Database, command: JobsCommand) -> Result<u8, Failure> {
    // Reading never creates, migrates or writes the database.
    let mut store = db.open(Access::Read).await?;
    match command {
        JobsCommand::List { account, json } => {
            let account = account
                .as_deref()
                .map(AccountRef::parse)
                .transpose()
                .map_err(usage)?;
            let jobs = store
                .list_jobs(account.as_ref())
                .await
                .map_err(store_failure)?;
            if json {
                for job in &jobs {
                    print_line(&serde_json::to_string(job).map_err(failed)?)?;
                }
            } else {
                print_line(&output::jobs_table(&jobs))?;
            }
        }
        JobsCommand::Show { job, json } => {
            let job = find_job(&mut store, &job).await?;
            let text = if json {
                serde_json::to_string_pretty(&job).map_err(failed)?
            } else {
                output::job_text(&job)
            };
            print_line(&text)?;
        }
        JobsCommand::Errors { job, format, out } => {
            let job = find_job(&mut store, &job).await?;
            match out {
                Some(path) => {
                    let protected = Protected::new(&[], database_files(&db.url));
                    let mut file = OutputFile::create(&path, &protected)
                        .map_err(|e| usage(anyhow::anyhow!(e)))?;
                    write_rejects(&mut store, job.id, format, &mut file)
                        .await
                        .map_err(|e| failed(anyhow::anyhow!("cannot write {path}: {e}")))?;
                    file.commit()
                        .map_err(|e| failed(anyhow::anyhow!("cannot write {path}: {e}")))?;
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    write_rejects(&mut store, job.id, format, &mut stdout)
                        .await
                        .map_err(store_failure)?;
                }
            }
        }
    }
    Ok(EXIT_OK)
}

/// Streams a job's rejects as CSV or as a JSON array, one reject at a time.
async fn write_rejects(
    store: &mut Store,
    job: uuid::Uuid,
    format: ErrorFormat,
    out: &mut dyn Write,
) -> Result<(), StoreError> {
    match format {
        ErrorFormat::Csv => {
            let mut csv = RejectsCsv::new(&mut *out)?;
            store
                .rejects(job, &mut |r| csv.write(std::slice::from_ref(&r)))
                .await?;
            csv.finish()?;
        }
        ErrorFormat::Json => {
            out.write_all(b"[")?;
            let mut first = true;
            store
                .rejects(job, &mut |r| {
                    let sep = if std::mem::take(&mut first) {
                        "\n"
                    } else {
                        ",\n"
                    };
                    write!(out, "{sep}{}", reject_json(&r))
                })
                .await?;
            out.write_all(b"\n]\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The job a command names, within its account when one is given.
async fn find_job(
    store: &mut Store,
    arg: &JobArg,
) -> Result<ebay_import_store::JobRecord, Failure> {
    let account = match &arg.account {
        Some(a) => {
            let a = AccountRef::parse(a).map_err(usage)?;
            Some(store.act_for(&a).await.map_err(store_failure)?)
        }
        None => None,
    };
    let job = store.job(&arg.id).await.map_err(store_failure)?;
    match account {
        Some(a) if a != job.account_id => Err(store_failure(StoreError::NoSuchJob(format!(
            "{} in account {}",
            arg.id,
            arg.account.as_deref().unwrap_or_default()
        )))),
        _ => Ok(job),
    }
}

async fn resume(db: &Database, arg: &JobArg, json: bool) -> Result<u8, Failure> {
    let mut store = db.open(Access::Write).await?;
    let id = find_job(&mut store, arg).await?.id.to_string();
    let summary = resume_job(&mut store, &id, &mut |_| {}, &|_| {})
        .await
        .map_err(import_failure)?;
    emit_summary(&summary, json);
    Ok(job_exit_code(&summary, None))
}

async fn rollback(db: &Database, arg: &JobArg, json: bool, force: bool) -> Result<u8, Failure> {
    let mut store = db.open(Access::Write).await?;
    let job = find_job(&mut store, arg).await?;
    let (job, summary) = store
        .rollback_job(job.id, force)
        .await
        .map_err(store_failure)?;
    let text = if json {
        serde_json::json!({
            "job_id": job.id,
            "status": job.status,
            "deleted": summary.deleted,
            "restored": summary.restored,
        })
        .to_string()
    } else {
        let tables: Vec<String> = summary
            .deleted
            .iter()
            .map(|(t, d)| format!("{t}: {d} deleted, {} restored", summary.restored[t]))
            .collect();
        format!("job {} rolled back; {}", job.id, tables.join("; "))
    };
    print_line(&text)?;
    Ok(EXIT_OK)
}

async fn migrate(db: &Database) -> Result<u8, Failure> {
    db.open(Access::Write).await?;
    print_line(&format!("{}: the schema is up to date", redact(&db.url)))?;
    Ok(EXIT_OK)
}

/// Parses durations like `30s`, `5m`, `1h`, `250ms`, `90` (seconds).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 30s, 5m, 1h)"))?;
    let ms = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        other => return Err(format!("unknown duration unit {other:?} (use ms, s, m, h)")),
    };
    n.checked_mul(ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration {s:?} is too long"))
}

/// The record limit: chunks of records are addressed with 32-bit offsets.
fn parse_line_limit(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if n == 0 || n > 1 << 30 {
        return Err(format!("{s:?} is outside 1 byte .. 1GiB"));
    }
    Ok(n)
}

/// A batch size: 4 KiB .. 1 GiB.
fn parse_batch_bytes(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if !(4 << 10..=1 << 30).contains(&n) {
        return Err(format!("{s:?} is outside 4KiB .. 1GiB"));
    }
    Ok(n)
}

/// Parses sizes like `2GiB`, `500MB`, `64k`, `1000`.
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("not a size: {s:?} (try 2GiB, 500MB, 1048576)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use B, KB, KiB, MB, MiB, GB, GiB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("17"), Ok(17));
        assert!(parse_size("1 parsec").is_err());
        assert_eq!(parse_line_limit("1MiB"), Ok(1 << 20));
        assert!(parse_line_limit("2GiB").is_err());
        assert!(parse_line_limit("0").is_err());
    }

    #[test]
    fn worst_exit_code_wins() {
        assert_eq!(worse(EXIT_OK, EXIT_TOO_MANY_REJECTS), EXIT_TOO_MANY_REJECTS);
        assert_eq!(worse(EXIT_FAILED, EXIT_TOO_MANY_REJECTS), EXIT_FAILED);
        assert_eq!(
            worse(EXIT_REPORT_FAILED, EXIT_TOO_MANY_REJECTS),
            EXIT_REPORT_FAILED
        );
        assert_eq!(worse(EXIT_FAILED, stopped_code(15)), 143);
        assert_eq!(stopped_code(2), 130);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3 fortnights").is_err());
    }
}
