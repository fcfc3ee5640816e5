//! Per-stage benchmarks of the import pipeline on a generated 20k-row, 82-column eBay US
//! Orders report held in memory:
//!
//! * `read/split`, `read/tokenize`: the splitter alone, then splitter + `parse_chunk` over every
//!   chunk (identity spec over the 82 columns, eBay framing on), on one thread;
//! * `map/*`: finding and mapping the header row (elements = 1 header);
//! * `validate/validate_batch`: the kernels over pre-parsed batches (canonical projection);
//! * `resolve/prepare`: the row model's parallel half (keys, stored columns, row hashes) over
//!   pre-validated batches; `resolve/orders`: `OrdersResolver` push/finish over prepared batches;
//! * `store/sqlite`: `SqliteStore` writes of pre-resolved batches into a fresh temp database per
//!   iteration (connect + migrations + account + job record are set-up, not timed; the data
//!   transaction `begin` → `write`/`write_rejects` → `commit` is timed);
//! * `pipeline/dry_run`: the whole `run_import` without a sink (parallel, as the CLI runs it).
//!
//! Every group reports `Throughput::Elements(rows)`, so criterion prints rows/s.
//! Run: `cargo bench --bench stages` (a few minutes); one group: `cargo bench --bench stages -- store`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use ebay_import_generate::{write_orders_report, OrdersReportOptions};
use ebay_import_map::{HeaderMapping, ORDERS};
use ebay_import_model::{Position, SiteProfile};
use ebay_import_pipeline::{find_header, run_import, ImportOptions, Input, HEADER_SEARCH_ROWS};
use ebay_import_read::{parse_chunk, CsvSource, OwnedRecord, ParseSpec, RawBatch, ReadOptions};
use ebay_import_resolve::{row_model, OnDuplicate, PositionedBatch, PreparedBatch, ResolvedBatch};
use ebay_import_store::{Access, AccountRef, JobRecord, Sink, SqliteStore, StoreOptions};
use ebay_import_transform::{validate_batch, TypedBatch};
use std::hint::black_box;
use std::io::Cursor;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Data records in the generated report.
const ROWS: u64 = 20_000;
/// One fault in every this many records, so the reject paths are exercised (0.2 %).
const FAULT_EVERY: u64 = 500;

/// Everything the stage benches start from, built once.
struct Fixture {
    /// The whole report, as the reader sees a file.
    bytes: &'static [u8],
    data_records: u64,
    /// The first records, as the pipeline peeks them for the header search.
    peeked: Vec<OwnedRecord>,
    /// Index of the header among `peeked`.
    header_index: usize,
    header: Vec<String>,
    site: &'static SiteProfile,
    /// Schema field of each output column (canonical order).
    present: Vec<usize>,
    /// Parsed with the pipeline's projection: (raw batch, its string columns).
    parsed: Vec<(RawBatch, arrow_array::RecordBatch)>,
    positioned: Vec<PositionedBatch>,
    /// After the row model's parallel half (keys, stored columns, row hashes).
    prepared: Vec<PreparedBatch>,
    resolved: Vec<ResolvedBatch>,
}

impl Fixture {
    /// Rows in the parsed batches (data records minus structural rejects and framing).
    fn batch_rows(&self) -> u64 {
        self.parsed
            .iter()
            .map(|(r, _)| r.batch.num_rows() as u64)
            .sum()
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn open(bytes: &'static [u8]) -> CsvSource {
    CsvSource::open(Box::new(Cursor::new(bytes)), &ReadOptions::default()).expect("open")
}

fn build_fixture() -> Fixture {
    let opts = OrdersReportOptions {
        rows: ROWS,
        fault_every: Some(FAULT_EVERY),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(ROWS as usize * 700);
    let report = write_orders_report(&mut out, &opts).expect("generate");
    let bytes: &'static [u8] = Box::leak(out.into_boxed_slice());

    let mut source = open(bytes);
    let peeked = source
        .peek_records(HEADER_SEARCH_ROWS + 1)
        .expect("peek records");
    let header = find_header(&peeked, None, None, source.separator_hint, true).expect("header");
    let mapping = header.mapping.clone().expect("an orders header");
    let site = header.site.expect("a site");
    let present = mapping.present_fields();
    let spec = pipeline_spec(&source, &header.record.fields, &mapping);
    source.consume_records(header.index + 1);
    let mut splitter = source.into_splitter();
    let mut parsed = Vec::new();
    while let Some(chunk) = splitter.next_chunk().expect("chunk") {
        let raw = parse_chunk(&chunk, &spec);
        let n = raw.output_columns();
        let strings = raw
            .batch
            .project(&(0..n).collect::<Vec<_>>())
            .expect("output columns exist");
        parsed.push((raw, strings));
    }
    let positioned: Vec<PositionedBatch> = parsed
        .iter()
        .map(|(raw, strings)| PositionedBatch {
            seq: raw.seq,
            typed: Arc::new(validate_batch(&ORDERS, &present, strings, site)),
            positions: Arc::new(positions(raw)),
            raw: strings.clone(),
        })
        .collect();
    let model = row_model(&ORDERS);
    let prepared: Vec<PreparedBatch> = positioned
        .iter()
        .cloned()
        .map(|b| model.prepare(b))
        .collect();
    let mut resolver = model.resolver(OnDuplicate::Reject, None);
    let mut resolved = Vec::new();
    for b in prepared.iter().cloned() {
        resolved.extend(resolver.push(b));
    }
    resolved.extend(resolver.finish());

    let fixture = Fixture {
        bytes,
        data_records: report.data_records,
        peeked,
        header_index: header.index,
        header: header.record.fields.clone(),
        site,
        present,
        parsed,
        positioned,
        prepared,
        resolved,
    };
    let written: usize = fixture
        .resolved
        .iter()
        .flat_map(|b| b.tables.iter().map(|t| t.rows.len()))
        .sum();
    eprintln!(
        "fixture: {} data records, {:.1} MB, {} chunks, {} batch rows, {} stored rows to write, {} header columns",
        fixture.data_records,
        fixture.bytes.len() as f64 / 1e6,
        fixture.parsed.len(),
        fixture.batch_rows(),
        written,
        fixture.header.len(),
    );
    fixture
}

/// The spec the pipeline builds: projection into canonical order, eBay framing on.
fn pipeline_spec(source: &CsvSource, header: &[String], mapping: &HeaderMapping) -> ParseSpec {
    ParseSpec {
        delimiter: source.delimiter,
        header: header.to_vec(),
        projection: mapping.projection(),
        output_names: mapping
            .present_fields()
            .iter()
            .map(|&f| mapping.schema.fields[f].name.to_string())
            .collect(),
        max_record_bytes: ReadOptions::default().max_record_bytes,
        ebay_framing: true,
    }
}

fn positions(raw: &RawBatch) -> Vec<Position> {
    (0..raw.batch.num_rows()).map(|r| raw.position(r)).collect()
}

/// Opens the report and consumes the framing line and the header, like the pipeline does.
fn splitter_after_header(f: &Fixture) -> ebay_import_read::Splitter {
    let mut source = open(f.bytes);
    source
        .peek_records(f.header_index + 1)
        .expect("peek records");
    source.consume_records(f.header_index + 1);
    source.into_splitter()
}

fn bench_read(c: &mut Criterion) {
    let f = fixture();
    let mut spec = ParseSpec::identity(
        b',',
        f.header.clone(),
        ReadOptions::default().max_record_bytes,
    );
    spec.ebay_framing = true;
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(f.data_records));
    g.bench_function("split", |b| {
        b.iter(|| {
            let mut splitter = splitter_after_header(f);
            let mut bytes = 0usize;
            while let Some(chunk) = splitter.next_chunk().expect("chunk") {
                bytes += chunk.bytes.len();
            }
            black_box(bytes)
        })
    });
    g.bench_function("tokenize", |b| {
        b.iter(|| {
            let mut splitter = splitter_after_header(f);
            let mut rows = 0usize;
            while let Some(chunk) = splitter.next_chunk().expect("chunk") {
                let raw = parse_chunk(&chunk, &spec);
                rows += raw.batch.num_rows();
                black_box(&raw);
            }
            assert!(rows as u64 <= f.data_records);
            rows
        })
    });
    g.finish();
}

fn bench_map(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("map");
    g.throughput(Throughput::Elements(1));
    // What the pipeline does per file: score the first records against every schema, detect
    // the type and the site, and map the header row.
    g.bench_function("find_header", |b| {
        b.iter(|| find_header(black_box(&f.peeked), None, None, false, true).expect("header"))
    });
    // Mapping a known header row onto the orders schema, plus the reader's projection.
    g.bench_function("map_header", |b| {
        b.iter(|| {
            let m = ORDERS.map_header(black_box(&f.header));
            let projection = m.projection();
            (m, projection)
        })
    });
    g.finish();
}

fn bench_validate(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(f.batch_rows()));
    g.bench_function("validate_batch", |b| {
        b.iter(|| {
            f.parsed
                .iter()
                .map(|(_, strings)| validate_batch(&ORDERS, &f.present, strings, f.site))
                .collect::<Vec<TypedBatch>>()
        })
    });
    g.finish();
}

fn bench_resolve(c: &mut Criterion) {
    let f = fixture();
    let model = row_model(&ORDERS);
    let mut g = c.benchmark_group("resolve");
    g.throughput(Throughput::Elements(f.batch_rows()));
    // The parallel half (per batch, in the rayon workers): keys, stored columns, row hashes.
    g.bench_function("prepare", |b| {
        b.iter_batched(
            || f.positioned.clone(),
            |batches| {
                batches
                    .into_iter()
                    .map(|batch| model.prepare(batch))
                    .collect::<Vec<_>>()
            },
            BatchSize::LargeInput,
        )
    });
    // The sequential half (file order): order grouping, whole-order rejects, duplicates.
    g.bench_function("orders", |b| {
        b.iter_batched(
            || f.prepared.clone(),
            |batches| {
                let mut resolver = model.resolver(OnDuplicate::Reject, None);
                let mut out = Vec::new();
                for batch in batches {
                    out.extend(resolver.push(batch));
                }
                out.extend(resolver.finish());
                out
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn bench_store(c: &mut Criterion) {
    let f = fixture();
    let rt = runtime();
    let records: u64 = f.resolved.iter().map(|b| b.fates.len() as u64).sum();
    let mut g = c.benchmark_group("store");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(records));
    g.bench_function("sqlite", |b| {
        b.iter_batched(
            || {
                // Fresh database: connect, migrate, account and job record, not timed.
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                rt.block_on(async {
                    let mut store = SqliteStore::open(&url, Access::Write, StoreOptions::default())
                        .await
                        .expect("connect");
                    let account = store
                        .account(&AccountRef::Slug("bench".into()))
                        .await
                        .expect("account");
                    let job = JobRecord::new(account, "bench.csv".into(), "bench".into());
                    store.save_job(&job).await.expect("job record");
                    (dir, store, account, job.id)
                })
            },
            |(dir, mut store, account, job)| {
                rt.block_on(async {
                    store.begin(account, None).await.expect("begin");
                    for batch in &f.resolved {
                        if !batch.rejects.is_empty() {
                            store
                                .write_rejects(job, &batch.rejects)
                                .await
                                .expect("write rejects");
                        }
                        black_box(store.write(account, job, batch).await.expect("write"));
                    }
                    store.commit().await.expect("commit");
                });
                // Dropped after timing.
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_pipeline(c: &mut Criterion) {
    let f = fixture();
    let rt = runtime();
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(f.data_records));
    let opts = ImportOptions::new(AccountRef::Slug("bench".into()));
    g.bench_function("dry_run", |b| {
        b.iter(|| {
            let input = Input::from_reader("bench.csv", Box::new(Cursor::new(f.bytes)));
            let mut observer = |_: &[ebay_import_model::Reject]| {};
            let summary = rt
                .block_on(run_import::<SqliteStore>(
                    None,
                    input,
                    &opts,
                    &mut observer,
                    &|_| {},
                ))
                .expect("dry run");
            assert_eq!(
                summary.job.rows_read, f.data_records,
                "{:?}",
                summary.job.error
            );
            summary
        })
    });
    g.finish();
}

criterion_group! {
    name = stages;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_read, bench_map, bench_validate, bench_resolve, bench_store, bench_pipeline
}
criterion_main!(stages);
