//! The concurrent part of the pipeline: a splitter thread cuts the input into chunks; rayon
//! workers tokenize, validate and prepare them; a resolver thread takes them back in file order
//! and applies the row model; the caller (the store) receives what is ready through a bounded
//! channel. Every hand-over is bounded, so memory stays flat whatever the file size, and the
//! store's writes overlap with everything before them.

use arrow_array::RecordBatch;
use ebay_import_map::ImportSchema;
use ebay_import_model::SiteProfile;
use ebay_import_read::{parse_chunk, ParseSpec, RawBatch, Splitter};
use ebay_import_resolve::{PositionedBatch, PreparedBatch, ResolvedBatch, Resolver, RowModel};
use ebay_import_transform::{reformatted_dates, validate_batch};
use std::collections::BTreeMap;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// What the workers do beyond tokenizing.
#[derive(Clone)]
pub struct Validation {
    pub schema: &'static ImportSchema,
    /// Schema field index of each output column.
    pub fields: Vec<usize>,
    pub site: &'static SiteProfile,
    pub model: Arc<dyn RowModel>,
    /// The file is an eBay report or template, whose dates a spreadsheet can rewrite.
    pub ebay_layout: bool,
}

/// One chunk, tokenized and (when asked) validated and prepared for resolving.
pub struct Work {
    pub raw: RawBatch,
    pub prepared: Option<PreparedBatch>,
}

/// Results in file order.
pub struct OrderedResults {
    rx: Receiver<(u64, io::Result<Work>)>,
    tokens: SyncSender<()>,
    pending: BTreeMap<u64, io::Result<Work>>,
    next: u64,
}

impl OrderedResults {
    pub fn next(&mut self) -> Option<io::Result<Work>> {
        loop {
            if let Some(w) = self.pending.remove(&self.next) {
                self.next += 1;
                // Hand the slot back to the splitter.
                let _ = self.tokens.try_send(());
                return Some(w);
            }
            let (seq, w) = self.rx.recv().ok()?;
            self.pending.insert(seq, w);
        }
    }
}

/// What the resolver thread hands to the store, in file order.
pub enum Staged {
    /// A chunk as read: its skips, structural rejects, footer and record count.
    Read(RawBatch),
    /// Rows ready to store. `boundary`: no order of this batch or an earlier one continues in
    /// a later batch, so a commit after it leaves no order half stored.
    Resolved {
        batch: ResolvedBatch,
        boundary: bool,
    },
    Failed(io::Error),
    /// The end of the input; the row model saw this many entities, and has these notes for
    /// the job's warnings.
    Finished {
        entities: u64,
        notes: Vec<String>,
    },
}

/// Runs the row model on its own thread over the ordered results.
pub fn resolve(
    mut results: OrderedResults,
    mut resolver: Box<dyn Resolver>,
) -> tokio::sync::mpsc::Receiver<Staged> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    std::thread::Builder::new()
        .name("ebay-import-resolver".into())
        .spawn(move || {
            let send = |staged| tx.blocking_send(staged).is_ok();
            while let Some(work) = results.next() {
                let work = match work {
                    Ok(work) => work,
                    Err(e) => {
                        send(Staged::Failed(e));
                        return;
                    }
                };
                let prepared = work.prepared.expect("imports validate");
                if !send(Staged::Read(work.raw)) {
                    return; // the store stopped
                }
                if !send_all(&send, resolver.push(prepared)) {
                    return;
                }
            }
            if !send_all(&send, resolver.finish()) {
                return;
            }
            send(Staged::Finished {
                entities: resolver.entities(),
                notes: resolver.notes(),
            });
        })
        .expect("spawn the resolver thread");
    rx
}

/// Sends what one push drained; the last of it is a boundary.
fn send_all(send: &impl Fn(Staged) -> bool, batches: Vec<ResolvedBatch>) -> bool {
    let n = batches.len();
    batches.into_iter().enumerate().all(|(i, batch)| {
        send(Staged::Resolved {
            batch,
            boundary: i + 1 == n,
        })
    })
}

/// Starts reading: at most `in_flight` chunks are being worked on or waiting to be consumed.
pub fn start(
    splitter: Splitter,
    spec: ParseSpec,
    validation: Option<Validation>,
    in_flight: usize,
) -> OrderedResults {
    let in_flight = in_flight.max(2);
    let (tx, rx) = sync_channel(in_flight + 1);
    let (tokens_tx, tokens_rx) = sync_channel(in_flight);
    for _ in 0..in_flight {
        tokens_tx.send(()).expect("room for the initial tokens");
    }
    let spec = Arc::new(spec);
    let mut splitter = splitter;
    let recycle = splitter.recycler(in_flight);
    std::thread::Builder::new()
        .name("ebay-import-splitter".into())
        .spawn(move || split_loop(splitter, spec, validation, tx, tokens_rx, recycle))
        .expect("spawn the splitter thread");
    OrderedResults {
        rx,
        tokens: tokens_tx,
        pending: BTreeMap::new(),
        next: 0,
    }
}

fn split_loop(
    mut splitter: Splitter,
    spec: Arc<ParseSpec>,
    validation: Option<Validation>,
    tx: SyncSender<(u64, io::Result<Work>)>,
    tokens: Receiver<()>,
    recycle: SyncSender<Vec<u8>>,
) {
    let mut seq = 0;
    loop {
        if tokens.recv().is_err() {
            return; // the consumer is gone
        }
        match splitter.next_chunk() {
            Ok(Some(chunk)) => {
                seq = chunk.seq + 1;
                let (tx, spec, validation) = (tx.clone(), spec.clone(), validation.clone());
                let recycle = recycle.clone();
                rayon::spawn(move || {
                    // A bug must fail the job with a message, not abort the process and leave
                    // the job in `processing`.
                    let work = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        work(&chunk, &spec, validation.as_ref())
                    }))
                    .map_err(|panic| {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        io::Error::other(format!(
                            "internal error while reading the records from line {}: {what}; \
                             please report it with the file",
                            chunk.start.line
                        ))
                    });
                    let _ = recycle.try_send(chunk.bytes);
                    let _ = tx.send((chunk.seq, work));
                });
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send((seq, Err(e)));
                return;
            }
        }
    }
}

fn work(
    chunk: &ebay_import_read::Chunk,
    spec: &ParseSpec,
    validation: Option<&Validation>,
) -> Work {
    let raw = parse_chunk(chunk, spec);
    let prepared = validation.map(|v| {
        let n = raw.output_columns();
        let strings: RecordBatch = raw
            .batch
            .project(&(0..n).collect::<Vec<_>>())
            .expect("output columns exist");
        let mut typed = validate_batch(v.schema, &v.fields, &strings, v.site);
        if v.ebay_layout {
            let reformatted = reformatted_dates(v.schema, &typed, &strings);
            typed.notes.extend(reformatted);
            typed.notes.sort_by_key(|n| n.row);
        }
        let positions = (0..raw.batch.num_rows()).map(|r| raw.position(r)).collect();
        v.model.prepare(PositionedBatch {
            seq: raw.seq,
            typed: Arc::new(typed),
            positions: Arc::new(positions),
            raw: strings,
        })
    });
    Work { raw, prepared }
}
