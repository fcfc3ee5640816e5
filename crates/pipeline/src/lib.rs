//! The import pipeline, left to right: read → map headers → validate/transform → resolve
//! conflicts → store → report. This crate wires the stages together; each stage lives in its
//! own crate behind a small interface.

mod engine;
mod header;
mod input;
mod inspect;

pub use header::{find_header, open_with_header, Header, HeaderError, HEADER_SEARCH_ROWS};
pub use input::{Digest256, Input, InputError};
pub use inspect::{inspect, InspectOptions, InspectReport};

use arrow_array::cast::AsArray;
use arrow_array::Array;
use ebay_import_map::{ImportSchema, Rollup};
use ebay_import_model::{
    shown_list, stop, ErrorCode, Footer, Position, Reject, SiteProfile, SkipReason,
};
use ebay_import_read::{sniff::delimiter_name, ParseSpec, ReadOptions};
use ebay_import_resolve::{row_model, OnDuplicate, Outcome, ResolvedBatch, Tally};
use ebay_import_store::{AccountRef, JobLog, JobRecord, JobStatus, Sink, StoreError, TableCounts};
use engine::Staged;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;
use uuid::Uuid;

pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 << 30;

/// Order keys a database import's duplicate check keeps in memory before spilling to disk.
const KEYS_IN_MEMORY: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub account: AccountRef,
    pub import_type: Option<String>,
    pub site: Option<String>,
    pub dry_run: bool,
    pub on_duplicate: OnDuplicate,
    pub read: ReadOptions,
    pub max_file_size: u64,
    pub user: String,
    /// Chunks being worked on at once (defaults to twice the rayon threads).
    pub in_flight: Option<usize>,
    /// Commit after every this many records (at the next batch whose orders are all
    /// complete), recording where to resume.
    pub commit_every: Option<u64>,
    /// Continue an interrupted `--commit-every` job after its last commit.
    pub resume: Option<Resume>,
    /// Input bytes per batch; by default the reader's, or more where the sink asks for it.
    pub batch_bytes: Option<usize>,
}

/// A job to continue, and where.
#[derive(Debug, Clone)]
pub struct Resume {
    pub job: JobRecord,
    pub cursor: Cursor,
}

/// Where a `--commit-every` job can resume, recorded in its job by each commit, in the same
/// transaction as the rows and the counts so far: the last committed chunk, where the next
/// one starts, a digest of the input up to there (so a resumed job can tell the same file),
/// the footer seen and the options that decide how the file is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Chunks `0..=chunk` are committed.
    pub chunk: u64,
    /// The position (line, byte offset, record) the next chunk starts at.
    pub next: Position,
    /// XXH3-128 (hex) of the decoded input up to `next`.
    pub digest: String,
    pub footer: Footer,
    pub options: ResumeOptions,
    /// The size of the file when the job opened it (a file's, not stdin's): a resumed file
    /// must have it. The job's own `file_size` becomes the bytes read when the file changed
    /// while it was read, a size the file it should be resumed with does not have.
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// The counts a job's record holds, as a tally to go on from.
fn tally_of(job: &JobRecord) -> Tally {
    Tally {
        inserted: job.inserted,
        updated: job.updated,
        unchanged: job.unchanged,
        rejected: job.rejected,
        tables: ebay_import_store::DATA_TABLES
            .iter()
            .filter_map(|(t, _)| {
                let c = job.tables.get(*t)?;
                Some((*t, [c.inserted, c.updated, c.unchanged]))
            })
            .collect(),
    }
}

/// The options of a job that decide how its file is read and resolved: a resumed job must
/// read it the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumeOptions {
    pub import_type: Option<String>,
    pub site: Option<String>,
    pub encoding: Option<String>,
    pub delimiter: Option<u8>,
    pub max_record_bytes: usize,
    pub last_wins: bool,
    pub commit_every: Option<u64>,
    /// The input bytes per batch the job ran with: chunks are what the cursor counts.
    pub batch_bytes: usize,
}

impl ResumeOptions {
    fn of(opts: &ImportOptions, batch_bytes: usize) -> Self {
        ResumeOptions {
            batch_bytes,
            import_type: opts.import_type.clone(),
            site: opts.site.clone(),
            encoding: opts.read.encoding.map(|e| e.name().to_string()),
            delimiter: opts.read.delimiter,
            max_record_bytes: opts.read.max_record_bytes,
            last_wins: opts.on_duplicate == OnDuplicate::LastWins,
            commit_every: opts.commit_every,
        }
    }

    /// Import options that read the file as the job did, for `resume`.
    pub fn apply(&self, opts: &mut ImportOptions) {
        opts.import_type = self.import_type.clone();
        opts.site = self.site.clone();
        opts.read.encoding = self
            .encoding
            .as_deref()
            .and_then(|e| encoding_rs::Encoding::for_label(e.as_bytes()));
        opts.read.delimiter = self.delimiter;
        opts.read.max_record_bytes = self.max_record_bytes;
        opts.on_duplicate = if self.last_wins {
            OnDuplicate::LastWins
        } else {
            OnDuplicate::Reject
        };
        opts.commit_every = self.commit_every;
        opts.batch_bytes = Some(self.batch_bytes);
    }
}

impl ImportOptions {
    pub fn new(account: AccountRef) -> Self {
        ImportOptions {
            account,
            import_type: None,
            site: None,
            dry_run: false,
            on_duplicate: OnDuplicate::Reject,
            read: ReadOptions::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            user: "unknown".into(),
            in_flight: None,
            commit_every: None,
            resume: None,
            batch_bytes: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Input(#[from] InputError),
    // Transparent: the CLI prints the whole chain of sources (`{:#}`), so a variant that
    // displayed its source and named it as its source too said everything twice.
    #[error(transparent)]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file is not the one the resumed job read.
    #[error("{0}")]
    Resume(String),
    /// A job that cannot be resumed (its state, no resume point): a usage error.
    #[error("{0}")]
    Refused(String),
    /// A stop was requested (SIGTERM, SIGINT).
    #[error("stopped by {}", stop::signal_name(*.0))]
    Stopped(i32),
    #[error("counts do not reconcile: read {read} != inserted {inserted} + updated {updated} + unchanged {unchanged} + rejected {rejected}; this is a bug, please report it with the file")]
    Reconcile {
        read: u64,
        inserted: u64,
        updated: u64,
        unchanged: u64,
        rejected: u64,
    },
}

impl ImportError {
    /// The signal that stopped the job, if a requested stop is why it ended.
    fn stop_signal(&self) -> Option<i32> {
        match self {
            ImportError::Stopped(s) | ImportError::Store(StoreError::Stopped(s)) => Some(*s),
            _ => None,
        }
    }
}

/// The result of one import job.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub job: JobRecord,
    pub seconds: f64,
    pub warnings: Vec<String>,
    pub dry_run: bool,
}

impl ImportSummary {
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.job.rows_read as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Where rejects go as they are found (a CSV report, say), besides the job's record. A
/// report that cannot be written is the observer's to remember: the job goes on.
pub type RejectObserver<'a> = &'a mut (dyn FnMut(&[Reject]) + Send);

/// Runs one import job. With `sink` the job is recorded and its rows are written in one
/// transaction (one per `--commit-every` part), the job's final record in the last of them;
/// without (`--dry-run`), nothing is written anywhere. A failure before the job exists (the
/// account, its lock) is an `Err`; a failure of the job itself rolls its uncommitted writes
/// back and comes back as a summary whose job is `failed` (or `interrupted`, when a stop was
/// requested) with the reason, and what of it is stored, in `job.error`.
pub async fn run_import<S: Sink + JobLog>(
    mut sink: Option<&mut S>,
    input: Input,
    opts: &ImportOptions,
    on_rejects: RejectObserver<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let account_id = match (&mut sink, &opts.account) {
        (Some(s), a) => s.account(a).await?,
        (None, AccountRef::Id(id)) => *id,
        (None, AccountRef::Slug(_)) => Uuid::nil(),
    };
    let mut job = match &opts.resume {
        Some(r) => {
            // Running again: how the last run ended is no longer true (and `fail` takes a
            // `finished_at` for a final commit of this run).
            let mut job = r.job.clone();
            job.error = None;
            job.finished_at = None;
            job.file_size = input.size.or(job.file_size);
            job
        }
        None => {
            let mut job = JobRecord::new(account_id, input.name.clone(), opts.user.clone());
            job.file_size = input.size;
            job.started_at = Some(ebay_import_store::now());
            job
        }
    };
    job.status = JobStatus::Processing;
    let (stream, digest) = input.into_stream(opts.max_file_size);
    let mut run = JobRun::new(job);
    if let Some(s) = sink.as_deref_mut() {
        s.claim_job(run.job.id).await?;
        if let Err(e) = s.save_job(&run.job).await {
            s.release_job(run.job.id).await?;
            return Err(e.into());
        }
    }
    let ran = run
        .execute(
            sink.as_deref_mut(),
            stream,
            &digest,
            opts,
            on_rejects,
            progress,
        )
        .await;
    let finished = match ran {
        Ok(()) => run.finish(sink.as_deref_mut(), &digest, opts).await,
        Err(e) => Err(e),
    };
    if let Err(e) = finished {
        run.fail(sink.as_deref_mut(), &digest, opts, e).await?;
    }
    if let Some(s) = sink {
        s.release_job(run.job.id).await?;
    }
    Ok(ImportSummary {
        job: run.job,
        seconds: started.elapsed().as_secs_f64(),
        warnings: run.warnings,
        dry_run: opts.dry_run,
    })
}

/// Continues an interrupted or failed `--commit-every` job after its last commit. The job is
/// claimed first, so of several resumes started together exactly one runs (the others wait,
/// then find it finished, or are refused while it runs); its record is read again under the
/// claim and its file opened as recorded (run it from the same directory).
pub async fn resume_job<S: Sink + JobLog>(
    store: &mut S,
    id: &str,
    on_rejects: RejectObserver<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportSummary, ImportError> {
    let seen = store.job(id).await?;
    if seen.status == JobStatus::Processing {
        return Err(ImportError::Refused(format!(
            "job {} is running in another process; only interrupted or failed jobs can be resumed",
            seen.id
        )));
    }
    store.claim_job(seen.id).await?;
    match resumable(store, seen.id).await {
        // run_import lets go of the claim when the job ends.
        Ok((opts, input)) => run_import(Some(store), input, &opts, on_rejects, progress).await,
        Err(e) => {
            store.release_job(seen.id).await?;
            Err(e)
        }
    }
}

/// The options to go on with the job, from its record read under its claim, and its file,
/// opened again: only an interrupted or failed job with a resume point, whose file has the
/// size it had, can be resumed.
async fn resumable<S: Sink + JobLog>(
    store: &mut S,
    id: Uuid,
) -> Result<(ImportOptions, Input), ImportError> {
    // This process holds the job's run lock: one still recorded as processing has no process.
    let job = ebay_import_store::without_process(store.job(&id.to_string()).await?);
    let cursor = match (job.status, &job.resume_cursor) {
        (JobStatus::Interrupted | JobStatus::Failed, Some(c)) => {
            serde_json::from_value::<Cursor>(c.clone()).map_err(|e| {
                ImportError::Refused(format!("job {}: unreadable resume point: {e}", job.id))
            })?
        }
        (JobStatus::Interrupted | JobStatus::Failed, None) => {
            return Err(ImportError::Refused(format!(
                "job {} has no resume point: it ran without --commit-every or failed before \
                 its first commit; import the file again",
                job.id
            )))
        }
        (status, _) => {
            return Err(ImportError::Refused(format!(
                "job {} is {}; only interrupted or failed jobs can be resumed",
                job.id,
                status.as_str()
            )))
        }
    };
    let mut opts = ImportOptions::new(AccountRef::Id(job.account_id));
    cursor.options.apply(&mut opts);
    opts.max_file_size = u64::MAX;
    opts.user = job.created_by.clone();
    let input = Input::open(&job.file_name, u64::MAX)?;
    let opened = cursor.file_size.or(job.file_size);
    if input.size.is_some() && input.size != opened {
        // Not the file the job started with (exit 1), like one whose committed part reads
        // differently.
        return Err(ImportError::Resume(format!(
            "{} is {} bytes but the job read {} bytes; it is not the same file: restore that \
             file to resume, or import it as a new job",
            job.file_name,
            input.size.unwrap_or_default(),
            opened.unwrap_or_default()
        )));
    }
    opts.resume = Some(Resume { job, cursor });
    Ok((opts, input))
}

struct JobRun {
    job: JobRecord,
    /// The whole input was read.
    read_to_end: bool,
    /// The input bytes per batch it runs with.
    batch_bytes: usize,
    warnings: Vec<String>,
    footer: Footer,
    /// The known layout of the file, if the header names one.
    variant: Option<&'static str>,
    /// A template's smart-header parameters (`SiteID`, `Currency`, `CC`, ...).
    template: Vec<(String, String)>,
    /// Warning codes of accepted values: how many, and the first of them.
    notes: BTreeMap<&'static str, (u64, Reject)>,
}

/// A job's counts as it goes, committed or not.
#[derive(Default)]
struct Counts {
    tally: Tally,
    errors_by_code: BTreeMap<String, u64>,
    rows_read: u64,
    skipped: u64,
    /// Records rejected before their row model saw them (structure, encoding).
    structural: u64,
}

impl JobRun {
    fn new(job: JobRecord) -> JobRun {
        JobRun {
            job,
            read_to_end: false,
            batch_bytes: 0,
            warnings: Vec::new(),
            footer: Footer::default(),
            variant: None,
            template: Vec::new(),
            notes: BTreeMap::new(),
        }
    }

    /// The job's metadata: footer, warnings, layout, template parameters, warning codes.
    fn metadata(&self, opts: &ImportOptions) -> serde_json::Value {
        serde_json::json!({
            "footer": self.footer,
            "warnings": self.warnings,
            "dry_run": opts.dry_run,
            "variant": self.variant,
            "warning_codes": self
                .notes
                .iter()
                .map(|(code, (n, first))| {
                    let v = serde_json::json!({ "count": n, "first_line": first.line, "column": first.column });
                    (code.to_string(), v)
                })
                .collect::<serde_json::Map<_, _>>(),
            "template": self.template.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))).collect::<serde_json::Map<_, _>>(),
        })
    }

    /// Writes the counts into the job record.
    fn record_counts(&mut self, c: &Counts) {
        let j = &mut self.job;
        j.rows_read = c.rows_read;
        j.inserted = c.tally.inserted;
        j.updated = c.tally.updated;
        j.unchanged = c.tally.unchanged;
        j.rejected = c.tally.rejected + c.structural;
        j.skipped = c.skipped;
        j.errors_by_code = c.errors_by_code.clone();
        j.tables = c
            .tally
            .tables
            .iter()
            .map(|(t, n)| {
                let counts = TableCounts {
                    inserted: n[0],
                    updated: n[1],
                    unchanged: n[2],
                };
                (t.to_string(), counts)
            })
            .collect();
    }

    /// The input was read and stored: checks it did not change meanwhile, then writes the
    /// job's final record in the data transaction and commits both.
    async fn finish<S: Sink>(
        &mut self,
        sink: Option<&mut S>,
        digest: &Digest256,
        opts: &ImportOptions,
    ) -> Result<(), ImportError> {
        digest.check_unchanged()?;
        let (sha, bytes) = digest.finish();
        let j = &mut self.job;
        j.file_sha256 = Some(sha);
        j.file_size = Some(bytes);
        j.finished_at = Some(ebay_import_store::now());
        j.resume_cursor = None;
        j.status = if j.rejected == 0 {
            JobStatus::Completed
        } else if j.rejected == j.rows_read {
            JobStatus::Failed
        } else {
            JobStatus::PartiallyFailed
        };
        self.job.metadata = self.metadata(opts);
        if let Some(s) = sink {
            s.save_job(&self.job).await?;
            s.commit().await?;
        }
        Ok(())
    }

    /// The job ended early: its uncommitted writes go, and its record (as last committed, so
    /// its counts and cursor say what is stored) becomes failed or interrupted, with why.
    async fn fail<S: Sink + JobLog>(
        &mut self,
        mut sink: Option<&mut S>,
        digest: &Digest256,
        opts: &ImportOptions,
        e: ImportError,
    ) -> Result<(), ImportError> {
        let mut job = match sink.as_deref_mut() {
            Some(s) => {
                s.rollback().await?;
                // What is committed of the job is what its stored record says, even when the
                // answer to a commit was lost with the connection: that commit may have landed.
                let stored = s.job(&self.job.id.to_string()).await?;
                if stored.finished_at.is_some() && stored.finished_at == self.job.finished_at {
                    self.job = stored;
                    return Ok(());
                }
                stored
            }
            None => self.job.clone(),
        };
        (job.status, job.error) = match e.stop_signal() {
            Some(signal) => {
                let why = format!("stopped by {} before finishing", stop::signal_name(signal));
                let why = ebay_import_store::interrupted_reason(&job, &why);
                (JobStatus::Interrupted, Some(why))
            }
            // A dry run stores nothing, ever: saying so adds nothing.
            None if opts.dry_run => (JobStatus::Failed, Some(e.to_string())),
            None => {
                let why = format!("{e}; {}", ebay_import_store::stored_part(&job));
                (JobStatus::Failed, Some(why))
            }
        };
        job.finished_at = Some(ebay_import_store::now());
        job.metadata = self.metadata(opts);
        job.import_type = self.job.import_type.clone();
        job.encoding = self.job.encoding.clone();
        job.delimiter = self.job.delimiter.clone();
        job.site = self.job.site.clone();
        if self.read_to_end {
            let (sha, bytes) = digest.finish();
            job.file_sha256 = Some(sha);
            job.file_size = Some(bytes);
        }
        if let Some(s) = sink {
            s.save_job(&job).await?;
        }
        self.job = job;
        Ok(())
    }

    /// Commits what the job has stored so far, with its counts and where to resume.
    async fn checkpoint<S: Sink>(
        &mut self,
        s: &mut S,
        schema: &ImportSchema,
        counts: &mut Counts,
        raw: &ebay_import_read::RawBatch,
        digest: &Digest256,
        opts: &ImportOptions,
    ) -> Result<(), ImportError> {
        // A part read from a file that changed meanwhile is not committed.
        digest.check_unchanged_so_far()?;
        let (account, job) = (self.job.account_id, self.job.id);
        refresh(s, account, job, schema, &mut counts.tally).await?;
        self.record_counts(counts);
        let cursor = Cursor {
            chunk: raw.seq,
            next: raw.end,
            digest: format!("{:032x}", raw.digest),
            footer: self.footer.clone(),
            options: ResumeOptions::of(opts, self.batch_bytes),
            file_size: self.job.file_size,
        };
        self.job.resume_cursor = Some(serde_json::to_value(&cursor).expect("cursor serializes"));
        self.job.metadata = self.metadata(opts);
        s.save_job(&self.job).await?;
        s.commit().await?;
        let rest = self
            .job
            .file_size
            .map(|size| size.saturating_sub(raw.end.byte));
        s.begin(account, rest).await?;
        Ok(())
    }

    async fn execute<S: Sink>(
        &mut self,
        mut sink: Option<&mut S>,
        stream: Box<dyn std::io::Read + Send>,
        digest: &Digest256,
        opts: &ImportOptions,
        on_rejects: RejectObserver<'_>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ImportError> {
        // A sink that pays per statement gets bigger batches, and fewer of them in flight.
        let mut read = opts.read.clone();
        let mut in_flight = opts.in_flight.unwrap_or(rayon::current_num_threads() + 2);
        match (
            opts.batch_bytes,
            sink.as_ref().and_then(|s| s.batch_bytes()),
        ) {
            (Some(bytes), _) => read.chunk_bytes = bytes,
            (None, Some(bytes)) if bytes > read.chunk_bytes => {
                in_flight = in_flight.min(rayon::current_num_threads() + 1);
                read.chunk_bytes = bytes;
            }
            _ => {}
        }
        self.batch_bytes = read.chunk_bytes;
        let (mut source, header) = open_with_header(
            stream,
            &read,
            opts.import_type.as_deref(),
            opts.site.as_deref(),
            true,
        )?;
        let mapping = header.mapping.clone().expect("imports require a type");
        let site = header.site.expect("a typed header has a site");
        self.job.import_type = Some(mapping.schema.name.to_string());
        self.job.encoding = Some(source.encoding.name().to_string());
        self.job.delimiter = Some(delimiter_name(source.delimiter));
        self.job.site = Some(site.code.to_string());
        let variant = header.variant;
        self.variant = variant.map(|v| v.name);
        self.template = mapping.params.clone();
        if !mapping.unknown.is_empty() {
            self.warnings.push(format!(
                "{} unknown column(s) ignored: {}",
                mapping.unknown.len(),
                shown_list(&mapping.unknown)
            ));
        }
        self.warnings.extend(header.warnings.iter().cloned());
        let mut counts = Counts {
            skipped: header.skipped.total(),
            ..Counts::default()
        };
        source.consume_records(header.index + 1);
        let present = mapping.present_fields();
        let spec = ParseSpec {
            delimiter: source.delimiter,
            header: header.record.fields.clone(),
            projection: mapping.projection(),
            output_names: present
                .iter()
                .map(|&f| mapping.schema.fields[f].name.to_string())
                .chain(mapping.attribute_names(&header.record.fields))
                .collect(),
            max_record_bytes: opts.read.max_record_bytes,
            ebay_framing: true,
        };
        let model = row_model(mapping.schema);
        // A database import keeps at most a million order keys in memory for the in-file
        // duplicate check and spills the rest to disk, so memory stays flat next to the
        // database's page cache; a dry run keeps them all (16 bytes each) for speed.
        let keys_in_memory = sink.is_some().then_some(KEYS_IN_MEMORY);
        let resolver = model.resolver(opts.on_duplicate, keys_in_memory);
        let validation = engine::Validation {
            schema: mapping.schema,
            fields: present,
            site,
            model,
            ebay_layout: variant.is_some_and(|v| v.ebay),
        };
        let results = engine::start(source.into_splitter(), spec, Some(validation), in_flight);
        let mut staged = engine::resolve(results, resolver);

        // About how much of the file each transaction reads: a store may load a big part
        // differently.
        let file_size = self.job.file_size;
        if let Some(s) = sink.as_deref_mut() {
            let from = opts.resume.as_ref().map_or(0, |r| r.cursor.next.byte);
            s.begin(
                self.job.account_id,
                file_size.map(|n| n.saturating_sub(from)),
            )
            .await?;
        }
        // A resumed job starts from its last commit's counts; its chunks up to that commit are
        // read again only to rebuild the row model's state (grouping, the duplicate check).
        let replay_upto = opts.resume.as_ref().map(|r| {
            let j = &r.job;
            counts.rows_read = j.rows_read;
            counts.skipped = j.skipped;
            counts.errors_by_code = j.errors_by_code.clone();
            counts.tally = tally_of(j);
            self.footer = r.cursor.footer.clone();
            r.cursor.chunk
        });
        let job_id = self.job.id;
        let account = self.job.account_id;
        let mut entities = None;
        // A chunk's own counts and structural rejects wait for its resolved rows, so that a
        // commit after chunk k holds exactly chunks 0..=k.
        let mut reads: BTreeMap<u64, ebay_import_read::RawBatch> = BTreeMap::new();
        let mut since_commit = 0u64;
        // A resumed job's file must reach the end of its committed part again.
        let mut replayed = replay_upto.is_none();
        while let Some(next) = staged.recv().await {
            match next {
                Staged::Read(raw) => {
                    reads.insert(raw.seq, raw);
                }
                Staged::Resolved { batch, boundary } => {
                    let raw = reads
                        .remove(&batch.seq)
                        .expect("a chunk is read before it is resolved");
                    if let Some(upto) = replay_upto.filter(|&k| batch.seq <= k) {
                        if let Some(signal) = stop::requested() {
                            return Err(ImportError::Stopped(signal));
                        }
                        if batch.seq == upto {
                            self.check_replayed(&raw, opts)?;
                            replayed = true;
                        }
                        continue;
                    }
                    let body_skipped =
                        raw.skipped.total() - raw.skipped.count(SkipReason::BlankLine);
                    counts.skipped += raw.skipped.total();
                    counts.rows_read += raw.records - body_skipped;
                    since_commit += raw.records - body_skipped;
                    counts.structural += raw.rejects.len() as u64;
                    merge_footer(&mut self.footer, &raw.footer);
                    self.report(
                        &mut sink,
                        job_id,
                        &raw.rejects,
                        &mut counts.errors_by_code,
                        on_rejects,
                    )
                    .await?;
                    progress(counts.rows_read);
                    self.store(
                        &mut sink,
                        account,
                        job_id,
                        &batch,
                        mapping.schema.rollups,
                        &mut counts,
                        on_rejects,
                    )
                    .await?;
                    // A --commit-every job commits where no order continues into a later
                    // batch, and stops there when asked to; another job stops at once.
                    let stop = stop::requested();
                    if let Some(n) = opts.commit_every {
                        if !boundary {
                            continue;
                        }
                        if since_commit > 0 && (stop.is_some() || since_commit >= n) {
                            if let Some(s) = sink.as_deref_mut() {
                                self.checkpoint(s, mapping.schema, &mut counts, &raw, digest, opts)
                                    .await?;
                            }
                            since_commit = 0;
                        }
                    }
                    if let Some(signal) = stop {
                        return Err(ImportError::Stopped(signal));
                    }
                }
                Staged::Failed(e) => return Err(e.into()),
                Staged::Finished { entities: n, notes } => {
                    self.warnings.extend(notes);
                    self.read_to_end = true;
                    entities = Some(n);
                }
            }
        }
        let Some(entities) = entities else {
            return Err(ImportError::Read(std::io::Error::other(
                "the reading threads stopped early",
            )));
        };
        if !replayed {
            return Err(self.not_the_file(opts, "ends before it now"));
        }
        self.check_counts(&counts)?;
        self.footer_and_date_warnings(&counts, entities, mapping.schema, site);
        if let Some(s) = sink {
            refresh(s, account, job_id, mapping.schema, &mut counts.tally).await?;
        }
        self.record_counts(&counts);
        Ok(())
    }

    /// At the last replayed chunk of a resumed job: the file must be the one its committed
    /// part was read from, byte for byte.
    fn check_replayed(
        &self,
        raw: &ebay_import_read::RawBatch,
        opts: &ImportOptions,
    ) -> Result<(), ImportError> {
        let cursor = &opts.resume.as_ref().expect("resuming").cursor;
        let digest = format!("{:032x}", raw.digest);
        if raw.end != cursor.next {
            return Err(self.not_the_file(
                opts,
                &format!(
                    "ends elsewhere now (a record boundary at line {}, byte {})",
                    raw.end.line, raw.end.byte
                ),
            ));
        }
        if digest != cursor.digest {
            return Err(self.not_the_file(opts, "has different content now"));
        }
        Ok(())
    }

    /// A resumed job's file is not the one its committed part was read from: `how` its
    /// committed part differs.
    fn not_the_file(&self, opts: &ImportOptions, how: &str) -> ImportError {
        let cursor = &opts.resume.as_ref().expect("resuming").cursor;
        ImportError::Resume(format!(
            "{} is not the file the job started with: its committed part (lines 1 to {}, {} \
             bytes) {how}; restore that file to resume, or import it as a new job",
            self.job.file_name,
            cursor.next.line.saturating_sub(1),
            cursor.next.byte,
        ))
    }

    fn check_counts(&self, c: &Counts) -> Result<(), ImportError> {
        let t = &c.tally;
        if t.records() + c.structural != c.rows_read {
            return Err(ImportError::Reconcile {
                read: c.rows_read,
                inserted: t.inserted,
                updated: t.updated,
                unchanged: t.unchanged,
                rejected: t.rejected + c.structural,
            });
        }
        Ok(())
    }

    fn footer_and_date_warnings(
        &mut self,
        c: &Counts,
        entities: u64,
        schema: &ImportSchema,
        site: &SiteProfile,
    ) {
        let structural = c.structural;
        if let Some(count) = self.footer.record_count {
            if count != entities {
                self.warnings.push(format!(
                    "the footer says {count} record(s) downloaded but the file holds {entities} {}(s){}",
                    schema.entity(),
                    if structural > 0 { format!(" ({structural} record(s) were rejected before their order was known)") } else { String::new() }
                ));
            }
        }
        if let Some((n, first)) = self.notes.get(ErrorCode::ReformattedDate.as_str()) {
            self.warnings.push(format!(
                "{n} date(s) are in a spreadsheet's format, such as {} at line {} ({}), where \
                 eBay writes Sep-08-26: a spreadsheet probably re-saved the file; they were \
                 read {} as the {} site writes numeric dates (code reformatted_date)",
                first.value.as_deref().unwrap_or(""),
                first.line,
                first.column.as_deref().unwrap_or(""),
                if site.month_first {
                    "month first"
                } else {
                    "day first"
                },
                site.code
            ));
        }
        if let Some((n, first)) = self.notes.get(ErrorCode::DateOrder.as_str()) {
            self.warnings.push(header::date_order_warning(
                *n,
                first.value.as_deref().unwrap_or_default(),
                first.line,
                first.column.as_deref().unwrap_or_default(),
                site,
            ));
        }
    }

    async fn report<S: Sink>(
        &mut self,
        sink: &mut Option<&mut S>,
        job: Uuid,
        rejects: &[Reject],
        by_code: &mut BTreeMap<String, u64>,
        on_rejects: RejectObserver<'_>,
    ) -> Result<(), ImportError> {
        if rejects.is_empty() {
            return Ok(());
        }
        for r in rejects {
            *by_code.entry(r.code.as_str().to_string()).or_default() += 1;
        }
        on_rejects(rejects);
        if let Some(s) = sink.as_deref_mut() {
            s.write_rejects(job, rejects).await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn store<S: Sink>(
        &mut self,
        sink: &mut Option<&mut S>,
        account: Uuid,
        job: Uuid,
        batch: &ResolvedBatch,
        rollups: &[&'static Rollup],
        counts: &mut Counts,
        on_rejects: RejectObserver<'_>,
    ) -> Result<(), ImportError> {
        self.report(
            sink,
            job,
            &batch.rejects,
            &mut counts.errors_by_code,
            on_rejects,
        )
        .await?;
        for note in &batch.notes {
            let entry = self
                .notes
                .entry(note.code.as_str())
                .or_insert_with(|| (0, note.clone()));
            entry.0 += 1;
        }
        let outcomes = match sink.as_deref_mut() {
            Some(s) => {
                let outcomes = s.write(account, job, batch).await?;
                for rollup in rollups {
                    let keys = touched_groups(batch, &outcomes, rollup);
                    if !keys.is_empty() {
                        s.touch(rollup, &keys).await?;
                    }
                }
                outcomes
            }
            // A dry run compares nothing with the database: every written row counts as new.
            None => batch
                .tables
                .iter()
                .map(|t| vec![Outcome::Inserted; t.rows.len()])
                .collect(),
        };
        counts.tally.add(batch, &outcomes);
        ebay_import_model::crash::point("batch");
        Ok(())
    }
}

/// Refreshes the schema's summary tables (customers from orders) for the groups this part
/// of the job touched, inside the data transaction, and counts their rows.
async fn refresh<S: Sink>(
    sink: &mut S,
    account: Uuid,
    job: Uuid,
    schema: &ImportSchema,
    tally: &mut Tally,
) -> Result<(), ImportError> {
    for rollup in schema.rollups {
        let counts = sink.refresh(account, job, rollup).await?;
        if counts.iter().any(|&n| n > 0) {
            tally.add_table(rollup.table, counts);
        }
    }
    Ok(())
}

/// The groups of a summary table whose source rows this batch inserted or updated.
fn touched_groups(
    batch: &ResolvedBatch,
    outcomes: &[Vec<Outcome>],
    rollup: &Rollup,
) -> Vec<String> {
    let mut keys = Vec::new();
    for (table, outs) in batch.tables.iter().zip(outcomes) {
        if table.table != rollup.source {
            continue;
        }
        let Some(col) = table
            .columns
            .iter()
            .find(|(n, _)| *n == rollup.group_by)
            .and_then(|(_, c)| c.as_string_opt::<i32>())
        else {
            continue;
        };
        for (row, out) in table.rows.iter().zip(outs) {
            let r = row.row as usize;
            if *out != Outcome::Unchanged && col.is_valid(r) {
                keys.push(col.value(r).to_string());
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn merge_footer(into: &mut Footer, from: &Footer) {
    if from.record_count.is_some() {
        into.record_count = from.record_count;
    }
    if from.seller_id.is_some() {
        into.seller_id = from.seller_id.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    /// Every message once: `error: the file is empty: no header row`, not that twice.
    #[test]
    fn wrapped_errors_are_not_their_own_source() {
        let e = ImportError::from(HeaderError::Empty);
        assert_eq!(e.to_string(), "the file is empty: no header row");
        assert!(e.source().is_none());
        let e = ImportError::from(std::io::Error::other("disk on fire"));
        assert_eq!(e.to_string(), "disk on fire");
        assert!(e.source().is_none());
        let e = ImportError::from(StoreError::NoSuchJob("01ab".into()));
        assert_eq!(e.to_string(), "no import job 01ab");
        assert!(e.source().is_none());
    }
}
