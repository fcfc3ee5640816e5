//! Flags, commands and exit codes.

use crate::output;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ebay_import_map::{ImportSchema, SCHEMAS};
use ebay_import_model::{SiteProfile, SITES};
use ebay_import_pipeline::{
    inspect, run_import, Cursor, ImportOptions, ImportSummary, Input, InspectOptions, Resume,
    DEFAULT_MAX_FILE_SIZE,
};
use ebay_import_read::{sniff::parse_delimiter, ReadOptions, DEFAULT_MAX_RECORD_BYTES};
use ebay_import_report::{reject_json, RejectsCsv};
use ebay_import_resolve::OnDuplicate;
use ebay_import_store::{AccountRef, JobControl, JobLog, JobStatus, Store, StoreError};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_TOO_MANY_REJECTS: u8 = 3;

const DEFAULT_DATABASE: &str = "sqlite://ebay-import.db";

#[derive(Parser, Debug)]
#[command(
    name = "ebay-import",
    version,
    about = "Import eBay seller CSV exports into a database, per account, with line-exact rejects"
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (created on first use) or postgres://USER@HOST/DATABASE.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE)]
    database: String,
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
        /// The job (a unique prefix of its id is enough).
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Undo a completed job: delete the rows it inserted, restore the rows it updated.
    Rollback {
        /// The job (a unique prefix of its id is enough).
        id: String,
        #[arg(long)]
        json: bool,
    },
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
    /// Show one job (a unique prefix of its id is enough).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The rejected rows of a job.
    Errors {
        id: String,
        #[arg(long, value_enum, default_value_t = ErrorFormat::Csv)]
        format: ErrorFormat,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ErrorFormat {
    Csv,
    Json,
}

/// An error with the exit code it maps to.
pub struct Failure {
    pub error: anyhow::Error,
    pub code: u8,
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: e.into(),
        code: EXIT_USAGE,
    }
}

fn failed(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: e.into(),
        code: EXIT_FAILED,
    }
}

pub async fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Import(args) => import(&cli.database, args).await,
        Command::Inspect(args) => inspect_cmd(args),
        Command::Jobs { command } => jobs(&cli.database, command).await,
        Command::Rollback { id, json } => rollback(&cli.database, &id, json).await,
        Command::Resume { id, json } => resume(&cli.database, &id, json).await,
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

/// A database that cannot be opened is a set-up error (exit 2), named in one line.
async fn open_store(url: &str) -> Result<Store, Failure> {
    Store::connect(url).await.map_err(|e| match e {
        StoreError::UnsupportedUrl(_) | StoreError::Connect(_) => usage(e),
        e => usage(anyhow::anyhow!("cannot open database {}: {e}", redact(url))),
    })
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
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

fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

async fn import(database: &str, args: ImportArgs) -> Result<u8, Failure> {
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
    opts.on_duplicate = match args.on_duplicate {
        DuplicatePolicy::Reject => OnDuplicate::Reject,
        DuplicatePolicy::LastWins => OnDuplicate::LastWins,
    };
    // Every input is checked before anything is written, so a missing file is a usage error
    // that leaves no job and no database behind.
    let mut inputs = Vec::with_capacity(args.files.len());
    for file in &args.files {
        inputs.push(Input::open(file, opts.max_file_size).map_err(usage)?);
    }
    let mut store = if args.dry_run {
        None
    } else {
        Some(open_store(database).await?)
    };
    let mut rejects_csv = match &args.rejects {
        None => None,
        Some(path) => {
            let file = File::create(path)
                .map_err(|e| usage(anyhow::anyhow!("cannot create {path}: {e}")))?;
            Some(RejectsCsv::new(BufWriter::new(file)).map_err(failed)?)
        }
    };
    let mut worst = EXIT_OK;
    for input in inputs {
        let bar = progress_bar(args.json);
        let progress = |rows: u64| {
            if let Some(b) = &bar {
                b.set_position(rows);
            }
        };
        let mut observer = |rejects: &[ebay_import_model::Reject]| -> Result<(), String> {
            match rejects_csv.as_mut() {
                Some(w) => w
                    .write(rejects)
                    .map_err(|e| format!("cannot write the rejects file: {e}")),
                None => Ok(()),
            }
        };
        let result = run_import(store.as_mut(), input, &opts, &mut observer, &progress).await;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let summary = result.map_err(failed)?;
        emit_summary(&summary, args.json);
        let code = if summary.job.status == JobStatus::Failed {
            EXIT_FAILED
        } else if args
            .max_rejects
            .is_some_and(|max| summary.job.rejected > max)
        {
            EXIT_TOO_MANY_REJECTS
        } else {
            EXIT_OK
        };
        worst = worse(worst, code);
    }
    if let Some(w) = rejects_csv {
        w.finish().map_err(failed)?;
    }
    Ok(worst)
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

fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        EXIT_FAILED => 3,
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

fn emit_summary(summary: &ImportSummary, json: bool) {
    let mut out = std::io::stdout().lock();
    let text = if json {
        output::summary_json(summary).to_string()
    } else {
        output::summary_text(summary)
    };
    let _ = writeln!(out, "{text}");
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
    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(failed)?;
        writeln!(out).map_err(failed)?;
    } else {
        output::inspect_text(&report, &mut out).map_err(failed)?;
    }
    out.flush().map_err(failed)?;
    Ok(EXIT_OK)
}

async fn jobs(database: &str, command: JobsCommand) -> Result<u8, Failure> {
    let mut store = open_store(database).await?;
    match command {
        JobsCommand::List { account, json } => {
            let account = account
                .as_deref()
                .map(AccountRef::parse)
                .transpose()
                .map_err(usage)?;
            let jobs = store.list_jobs(account.as_ref()).await.map_err(failed)?;
            let mut out = std::io::stdout().lock();
            if json {
                for job in &jobs {
                    writeln!(out, "{}", serde_json::to_string(job).map_err(failed)?)
                        .map_err(failed)?;
                }
            } else {
                writeln!(out, "{}", output::jobs_table(&jobs)).map_err(failed)?;
            }
        }
        JobsCommand::Show { id, json } => {
            let job = store.job(&id).await.map_err(failed)?;
            let mut out = std::io::stdout().lock();
            let text = if json {
                serde_json::to_string_pretty(&job).map_err(failed)?
            } else {
                output::job_text(&job)
            };
            writeln!(out, "{text}").map_err(failed)?;
        }
        JobsCommand::Errors { id, format, out } => {
            let job = store.job(&id).await.map_err(failed)?;
            let rejects = store.rejects(job.id).await.map_err(failed)?;
            let mut w: Box<dyn Write> = match &out {
                Some(path) => {
                    Box::new(BufWriter::new(File::create(path).map_err(|e| {
                        usage(anyhow::anyhow!("cannot create {path}: {e}"))
                    })?))
                }
                None => Box::new(std::io::stdout().lock()),
            };
            match format {
                ErrorFormat::Csv => {
                    let mut csv = RejectsCsv::new(&mut w).map_err(failed)?;
                    csv.write(&rejects).map_err(failed)?;
                    csv.finish().map_err(failed)?;
                }
                ErrorFormat::Json => {
                    let all: Vec<_> = rejects.iter().map(reject_json).collect();
                    writeln!(w, "{}", serde_json::to_string_pretty(&all).map_err(failed)?)
                        .map_err(failed)?;
                }
            }
            w.flush().map_err(failed)?;
        }
    }
    Ok(EXIT_OK)
}

async fn resume(database: &str, id: &str, json: bool) -> Result<u8, Failure> {
    let mut store = open_store(database).await?;
    let job = store.job(id).await.map_err(failed)?;
    let cursor = match (job.status, &job.resume_cursor) {
        (JobStatus::Interrupted | JobStatus::Failed, Some(c)) => {
            serde_json::from_value::<Cursor>(c.clone()).map_err(|e| {
                failed(anyhow::anyhow!(
                    "job {}: unreadable resume point: {e}",
                    job.id
                ))
            })?
        }
        (JobStatus::Interrupted | JobStatus::Failed, None) => {
            return Err(usage(anyhow::anyhow!(
                "job {} has no resume point: it ran without --commit-every or failed before \
                 its first commit; import the file again",
                job.id
            )))
        }
        (status, _) => {
            return Err(usage(anyhow::anyhow!(
                "job {} is {}; only interrupted or failed jobs can be resumed",
                job.id,
                status.as_str()
            )))
        }
    };
    let input = Input::open(&job.file_name, u64::MAX).map_err(usage)?;
    if input.size.is_some() && input.size != job.file_size {
        return Err(usage(anyhow::anyhow!(
            "{} is {} bytes but the job read {} bytes; it is not the same file",
            job.file_name,
            input.size.unwrap_or_default(),
            job.file_size.unwrap_or_default()
        )));
    }
    let mut opts = ImportOptions::new(AccountRef::Id(job.account_id));
    cursor.options.apply(&mut opts);
    opts.max_file_size = u64::MAX;
    opts.user = job.created_by.clone();
    opts.resume = Some(Resume {
        job: job.clone(),
        cursor,
    });
    let mut observer = |_: &[ebay_import_model::Reject]| Ok(());
    let summary = run_import(Some(&mut store), input, &opts, &mut observer, &|_| {})
        .await
        .map_err(failed)?;
    emit_summary(&summary, json);
    Ok(if summary.job.status == JobStatus::Failed {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

async fn rollback(database: &str, id: &str, json: bool) -> Result<u8, Failure> {
    let mut store = open_store(database).await?;
    let job = store.job(id).await.map_err(failed)?;
    let summary = store.rollback_job(&job).await.map_err(failed)?;
    let mut out = std::io::stdout().lock();
    let text = if json {
        serde_json::json!({
            "job_id": job.id,
            "status": JobStatus::RolledBack,
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
    writeln!(out, "{text}").map_err(failed)?;
    Ok(EXIT_OK)
}

/// The record limit: chunks of records are addressed with 32-bit offsets.
fn parse_line_limit(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if n == 0 || n > 1 << 30 {
        return Err(format!("{s:?} is outside 1 byte .. 1GiB"));
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
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }

    #[test]
    fn worst_exit_code_wins() {
        assert_eq!(worse(EXIT_OK, EXIT_TOO_MANY_REJECTS), EXIT_TOO_MANY_REJECTS);
        assert_eq!(worse(EXIT_FAILED, EXIT_TOO_MANY_REJECTS), EXIT_FAILED);
    }
}
