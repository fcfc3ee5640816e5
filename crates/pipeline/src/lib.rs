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
use ebay_import_model::{ErrorCode, Footer, Position, Reject, SkipReason};
use ebay_import_read::{sniff::delimiter_name, ParseSpec, ReadOptions};
use ebay_import_resolve::{row_model, OnDuplicate, Outcome, ResolvedBatch, Tally};
use ebay_import_store::{AccountRef, JobRecord, JobStatus, Sink, StoreError, TableCounts};
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
}

/// A job to continue, and where.
#[derive(Debug, Clone)]
pub struct Resume {
    pub job: JobRecord,
    pub cursor: Cursor,
}

/// What a `--commit-every` commit records in its job, in the same transaction: the last
/// committed chunk, where the next one starts, the counts so far and the options the job ran
/// with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Chunks `0..=chunk` are committed.
    pub chunk: u64,
    /// The position (line, byte offset, record) the next chunk starts at.
    pub next: Position,
    pub rows_read: u64,
    pub skipped: u64,
    pub errors_by_code: BTreeMap<String, u64>,
    pub footer: Footer,
    /// Records inserted, updated, unchanged and rejected.
    pub counts: [u64; 4],
    /// Stored rows per table: inserted, updated, unchanged.
    pub tables: BTreeMap<String, [u64; 3]>,
    pub options: ResumeOptions,
}

impl Cursor {
    fn tally(&self) -> Tally {
        let [inserted, updated, unchanged, rejected] = self.counts;
        Tally {
            inserted,
            updated,
            unchanged,
            rejected,
            tables: ebay_import_store::DATA_TABLES
                .iter()
                .filter_map(|(t, _)| self.tables.get(*t).map(|c| (*t, *c)))
                .collect(),
        }
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
}

impl ResumeOptions {
    fn of(opts: &ImportOptions) -> Self {
        ResumeOptions {
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
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    Read(#[from] std::io::Error),
    #[error("{0}")]
    Header(#[from] HeaderError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Rejects(String),
    #[error("{0}")]
    Resume(String),
    #[error("counts do not reconcile: read {read} != inserted {inserted} + updated {updated} + unchanged {unchanged} + rejected {rejected}; this is a bug, please report it with the file")]
    Reconcile {
        read: u64,
        inserted: u64,
        updated: u64,
        unchanged: u64,
        rejected: u64,
    },
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

/// Where rejects go as they are found (a CSV report, say), besides the job's record.
pub type RejectObserver<'a> = &'a mut (dyn FnMut(&[Reject]) -> Result<(), String> + Send);

/// Runs one import job. With `sink` the job is recorded and its rows are written in one
/// transaction; without (`--dry-run`), nothing is written anywhere. A failure before the job
/// exists (the account) is an `Err`; a failure of the job itself rolls its writes back and
/// comes back as a summary whose job is `failed` with the reason in `job.error`.
pub async fn run_import<S: Sink>(
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
            let mut job = r.job.clone();
            job.error = None;
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
    let mut run = JobRun {
        job,
        warnings: Vec::new(),
        footer: Footer::default(),
        variant: None,
        template: Vec::new(),
        notes: BTreeMap::new(),
    };
    if let Some(s) = sink.as_deref_mut() {
        s.save_job(&run.job).await?;
    }
    let result = run
        .execute(sink.as_deref_mut(), stream, opts, on_rejects, progress)
        .await;
    let (sha, bytes) = digest.finish();
    run.job.file_sha256 = Some(sha);
    run.job.file_size = run.job.file_size.or(Some(bytes));
    run.job.finished_at = Some(ebay_import_store::now());
    match result {
        Ok(()) => {
            run.job.status = if run.job.rejected == 0 {
                JobStatus::Completed
            } else if run.job.rejected == run.job.rows_read {
                JobStatus::Failed
            } else {
                JobStatus::PartiallyFailed
            };
        }
        Err(e) => {
            if let Some(s) = sink.as_deref_mut() {
                // The job's writes go; its record stays, marked failed.
                let _ = s.rollback().await;
            }
            run.job.status = JobStatus::Failed;
            run.job.error = Some(e.to_string());
        }
    }
    run.job.metadata = serde_json::json!({
        "footer": run.footer,
        "warnings": run.warnings,
        "dry_run": opts.dry_run,
        "variant": run.variant,
        "warning_codes": run
            .notes
            .iter()
            .map(|(code, (n, first))| {
                let v = serde_json::json!({ "count": n, "first_line": first.line, "column": first.column });
                (code.to_string(), v)
            })
            .collect::<serde_json::Map<_, _>>(),
        "template": run.template.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))).collect::<serde_json::Map<_, _>>(),
    });
    if let Some(s) = sink {
        s.save_job(&run.job).await?;
    }
    Ok(ImportSummary {
        job: run.job,
        seconds: started.elapsed().as_secs_f64(),
        warnings: run.warnings,
        dry_run: opts.dry_run,
    })
}

struct JobRun {
    job: JobRecord,
    warnings: Vec<String>,
    footer: Footer,
    /// The known layout of the file, if the header names one.
    variant: Option<&'static str>,
    /// A template's smart-header parameters (`SiteID`, `Currency`, `CC`, ...).
    template: Vec<(String, String)>,
    /// Warning codes of accepted values: how many, and the first of them.
    notes: BTreeMap<&'static str, (u64, Reject)>,
}

impl JobRun {
    async fn execute<S: Sink>(
        &mut self,
        mut sink: Option<&mut S>,
        stream: Box<dyn std::io::Read + Send>,
        opts: &ImportOptions,
        on_rejects: RejectObserver<'_>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ImportError> {
        // A sink that pays per statement gets bigger batches, and fewer of them in flight.
        let mut read = opts.read.clone();
        let mut in_flight = opts.in_flight.unwrap_or(rayon::current_num_threads() + 2);
        if let Some(bytes) = sink.as_ref().and_then(|s| s.batch_bytes()) {
            if bytes > read.chunk_bytes {
                in_flight = in_flight.min(rayon::current_num_threads() + 1);
                read.chunk_bytes = bytes;
            }
        }
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
                mapping.unknown.join(", ")
            ));
        }
        let mut skipped = header.skipped.total();
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
        let rest = move |from: u64| file_size.map(|size| size.saturating_sub(from));
        if let Some(s) = sink.as_deref_mut() {
            let from = opts.resume.as_ref().map_or(0, |r| r.cursor.next.byte);
            s.begin(self.job.account_id, rest(from)).await?;
        }
        let mut tally = Tally::default();
        let mut errors_by_code: BTreeMap<String, u64> = BTreeMap::new();
        let mut rows_read = 0u64;
        let mut structural = 0u64;
        // A resumed job starts from its last commit's counts; its chunks up to that commit are
        // read again only to rebuild the row model's state (grouping, the duplicate check).
        let replay_upto = opts.resume.as_ref().map(|r| {
            let c = &r.cursor;
            rows_read = c.rows_read;
            skipped = c.skipped;
            errors_by_code = c.errors_by_code.clone();
            self.footer = c.footer.clone();
            tally = c.tally();
            c.chunk
        });
        let job_id = self.job.id;
        let account = self.job.account_id;
        let mut entities = None;
        // A chunk's own counts and structural rejects wait for its resolved rows, so that a
        // commit after chunk k holds exactly chunks 0..=k.
        let mut reads: BTreeMap<u64, ebay_import_read::RawBatch> = BTreeMap::new();
        let mut since_commit = 0u64;
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
                        if batch.seq == upto {
                            let cursor = &opts.resume.as_ref().expect("resuming").cursor;
                            if raw.end != cursor.next {
                                return Err(ImportError::Resume(format!(
                                    "{} is not the file the job started with (its committed \
                                     part ends at line {}, byte {}; the file now has a record \
                                     boundary at line {}, byte {}); import it as a new job",
                                    self.job.file_name,
                                    cursor.next.line,
                                    cursor.next.byte,
                                    raw.end.line,
                                    raw.end.byte
                                )));
                            }
                        }
                        continue;
                    }
                    let body_skipped =
                        raw.skipped.total() - raw.skipped.count(SkipReason::BlankLine);
                    skipped += raw.skipped.total();
                    rows_read += raw.records - body_skipped;
                    since_commit += raw.records - body_skipped;
                    structural += raw.rejects.len() as u64;
                    merge_footer(&mut self.footer, &raw.footer);
                    self.report(
                        &mut sink,
                        job_id,
                        &raw.rejects,
                        &mut errors_by_code,
                        on_rejects,
                    )
                    .await?;
                    progress(rows_read);
                    self.store(
                        &mut sink,
                        account,
                        job_id,
                        &batch,
                        mapping.schema.rollups,
                        &mut tally,
                        &mut errors_by_code,
                        on_rejects,
                    )
                    .await?;
                    let due = opts.commit_every.is_some_and(|n| since_commit >= n);
                    if let (true, true, Some(s)) = (due, boundary, sink.as_deref_mut()) {
                        refresh(s, account, job_id, mapping.schema, &mut tally).await?;
                        let mut at = tally.clone();
                        at.rejected += structural;
                        let cursor = Cursor {
                            chunk: batch.seq,
                            next: raw.end,
                            rows_read,
                            skipped,
                            errors_by_code: errors_by_code.clone(),
                            footer: self.footer.clone(),
                            counts: [at.inserted, at.updated, at.unchanged, at.rejected],
                            tables: at.tables.iter().map(|(t, c)| (t.to_string(), *c)).collect(),
                            options: ResumeOptions::of(opts),
                        };
                        let json = serde_json::to_value(&cursor).expect("cursor serializes");
                        s.checkpoint(job_id, &json).await?;
                        s.commit().await?;
                        s.begin(account, rest(raw.end.byte)).await?;
                        since_commit = 0;
                    }
                }
                Staged::Failed(e) => return Err(e.into()),
                Staged::Finished { entities: n, notes } => {
                    self.warnings.extend(notes);
                    entities = Some(n);
                }
            }
        }
        let Some(entities) = entities else {
            return Err(ImportError::Read(std::io::Error::other(
                "the reading threads stopped early",
            )));
        };
        tally.rejected += structural;
        if tally.records() != rows_read {
            return Err(ImportError::Reconcile {
                read: rows_read,
                inserted: tally.inserted,
                updated: tally.updated,
                unchanged: tally.unchanged,
                rejected: tally.rejected,
            });
        }
        if let (Some(count), seen) = (self.footer.record_count, entities) {
            if count != seen {
                self.warnings.push(format!(
                    "the footer says {count} record(s) downloaded but the file holds {seen} {}(s){}",
                    mapping.schema.entity(),
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
        if let Some(s) = sink {
            refresh(s, account, job_id, mapping.schema, &mut tally).await?;
            s.commit().await?;
        }
        let j = &mut self.job;
        j.rows_read = rows_read;
        j.inserted = tally.inserted;
        j.updated = tally.updated;
        j.unchanged = tally.unchanged;
        j.rejected = tally.rejected;
        j.skipped = skipped;
        j.errors_by_code = errors_by_code;
        j.tables = tally
            .tables
            .iter()
            .map(|(t, c)| {
                (
                    t.to_string(),
                    TableCounts {
                        inserted: c[0],
                        updated: c[1],
                        unchanged: c[2],
                    },
                )
            })
            .collect();
        Ok(())
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
        on_rejects(rejects).map_err(ImportError::Rejects)?;
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
        tally: &mut Tally,
        by_code: &mut BTreeMap<String, u64>,
        on_rejects: RejectObserver<'_>,
    ) -> Result<(), ImportError> {
        self.report(sink, job, &batch.rejects, by_code, on_rejects)
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
        tally.add(batch, &outcomes);
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
