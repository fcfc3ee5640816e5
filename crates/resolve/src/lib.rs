//! Resolving: turns validated rows into stored entities. The row model groups the rows of one
//! order (summary row + item rows), rejects a whole order when any of its rows is bad, keys
//! rows by their natural key, hashes their content, and resolves repeated keys within a file.
//!
//! This stage runs sequentially, in file order, after the parallel validation; it holds at most
//! the batches an open order spans, plus 16 bytes per distinct order key for duplicate checks.

mod keyed;
mod orders;
mod rowhash;
mod seen;

pub use keyed::{KeyedResolver, KeyedRowModel};
pub use orders::{OrdersModel, OrdersResolver};
pub use rowhash::{hash_rows, value_text};
pub use seen::SeenKeys;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use ebay_import_map::{ImportSchema, RowModel as RowModelKind};
use ebay_import_model::{truncate_chars, ErrorCode, Position, Reject, MAX_VALUE_CHARS};
use ebay_import_transform::TypedBatch;
use std::sync::Arc;

/// What to do with a key seen twice in one file with different content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDuplicate {
    /// Reject the later rows with `duplicate_key`.
    #[default]
    Reject,
    /// The later rows replace the earlier ones.
    LastWins,
}

/// A validated batch plus the positions of its rows and the strings it was validated from
/// (for the values quoted in reject reports).
#[derive(Debug, Clone)]
pub struct PositionedBatch {
    pub seq: u64,
    pub typed: Arc<TypedBatch>,
    pub positions: Arc<Vec<Position>>,
    pub raw: RecordBatch,
}

impl PositionedBatch {
    /// The column of `field` as read, before validation.
    pub fn raw_col(&self, field: usize) -> Option<&StringArray> {
        let i = self.typed.fields.iter().position(|&f| f == field)?;
        self.raw.column(i).as_string_opt::<i32>()
    }

    /// The trimmed value of `field` in `row` as read; `None` when blank or absent.
    pub fn raw_value(&self, field: usize, row: usize) -> Option<&str> {
        self.raw_col(field)
            .filter(|c| c.is_valid(row))
            .map(|c| c.value(row).trim())
            .filter(|v| !v.is_empty())
    }

    /// A reject of `field` in `row`, quoting the value as read.
    pub fn value_reject(
        &self,
        schema: &ImportSchema,
        row: u32,
        field: usize,
        code: ErrorCode,
        message: String,
    ) -> Reject {
        let pos = self.positions[row as usize];
        let value = self
            .raw_col(field)
            .filter(|c| c.is_valid(row as usize))
            .map(|c| truncate_chars(c.value(row as usize), MAX_VALUE_CHARS));
        Reject {
            line: pos.line,
            record: pos.record,
            column: Some(schema.fields[field].name.to_string()),
            code,
            message,
            value,
            raw: None,
        }
    }

    /// The warnings about the batch's accepted values, as rejects are reported.
    pub fn notes(&self, schema: &ImportSchema) -> Vec<Reject> {
        self.typed
            .notes
            .iter()
            .map(|e| self.value_reject(schema, e.row as u32, e.field, e.code, e.message.clone()))
            .collect()
    }

    /// The rejects of the bad values of `row`.
    pub fn row_errors(&self, schema: &ImportSchema, row: u32) -> Vec<Reject> {
        let errs = &self.typed.errors;
        let start = errs.partition_point(|e| e.row < row as usize);
        errs[start..]
            .iter()
            .take_while(|e| e.row == row as usize)
            .map(|e| self.value_reject(schema, row, e.field, e.code, e.message.clone()))
            .collect()
    }
}

/// Rows of one stored table taken from one batch: the columns are whole batch columns; `rows`
/// selects and keys the ones to write, in file order.
#[derive(Debug, Clone)]
pub struct TableRows {
    pub table: &'static str,
    /// Name of the natural-key column.
    pub key_column: &'static str,
    /// Column name and values (one value per batch row).
    pub columns: Vec<(&'static str, ArrayRef)>,
    pub rows: Vec<RowWrite>,
    /// Whether a row rewrites a key that an earlier batch of the job wrote (`--on-duplicate
    /// last-wins`): a store that copies a new account's rows straight in must upsert these.
    pub rewrites: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWrite {
    /// Row index in the batch.
    pub row: u32,
    pub key: String,
    /// Content hash over the row's stored columns: an unchanged row is not rewritten.
    pub hash: u64,
    /// The physical line of the record the row came from.
    pub line: u64,
}

/// What happened to each record of a batch before storing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFate {
    /// Written: its outcome comes from the sink's writes of these table rows.
    Write,
    Rejected,
    /// The same content again under the same key: nothing to write.
    Repeated,
}

/// A batch ready for the sink.
#[derive(Debug, Clone)]
pub struct ResolvedBatch {
    pub seq: u64,
    pub positions: Arc<Vec<Position>>,
    pub tables: Vec<TableRows>,
    /// Every reject of the batch's records, in file order.
    pub rejects: Vec<Reject>,
    /// Warnings about accepted values (`reformatted_date`), in file order.
    pub notes: Vec<Reject>,
    pub fates: Vec<RecordFate>,
}

/// The outcome of writing one table row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

/// Per-record and per-table counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// Table name -> (inserted, updated, unchanged) stored rows.
    pub tables: Vec<(&'static str, [u64; 3])>,
}

impl Tally {
    /// Adds a batch, given the sink's outcome for each of its table rows (`outcomes[t][i]`
    /// for `tables[t].rows[i]`). A record counts as inserted if any of its rows was inserted,
    /// else updated if any was updated, else unchanged.
    pub fn add(&mut self, batch: &ResolvedBatch, outcomes: &[Vec<Outcome>]) {
        let mut per_record: Vec<Option<Outcome>> = vec![None; batch.fates.len()];
        for (table, outs) in batch.tables.iter().zip(outcomes) {
            let counts = self.table_counts(table.table);
            for (row, out) in table.rows.iter().zip(outs) {
                counts[*out as usize] += 1;
                let slot = &mut per_record[row.row as usize];
                *slot = Some(match (*slot, *out) {
                    (Some(Outcome::Inserted), _) | (_, Outcome::Inserted) => Outcome::Inserted,
                    (Some(Outcome::Updated), _) | (_, Outcome::Updated) => Outcome::Updated,
                    _ => Outcome::Unchanged,
                });
            }
        }
        for (fate, out) in batch.fates.iter().zip(per_record) {
            match (fate, out) {
                (RecordFate::Rejected, _) => self.rejected += 1,
                (_, Some(Outcome::Inserted)) => self.inserted += 1,
                (_, Some(Outcome::Updated)) => self.updated += 1,
                _ => self.unchanged += 1,
            }
        }
    }

    /// Adds rows of a table written for no record of their own (a summary table's).
    pub fn add_table(&mut self, table: &'static str, counts: [u64; 3]) {
        let c = self.table_counts(table);
        c.iter_mut().zip(counts).for_each(|(c, n)| *c += n);
    }

    fn table_counts(&mut self, table: &'static str) -> &mut [u64; 3] {
        let i = match self.tables.iter().position(|(t, _)| *t == table) {
            Some(i) => i,
            None => {
                self.tables.push((table, [0; 3]));
                self.tables.len() - 1
            }
        };
        &mut self.tables[i].1
    }

    pub fn records(&self) -> u64 {
        self.inserted + self.updated + self.unchanged + self.rejected
    }
}

/// A batch with everything that needs no other batch worked out: keys, stored columns and the
/// content hash of every row. Made in parallel by [`RowModel::prepare`].
#[derive(Debug, Clone)]
pub struct PreparedBatch {
    pub batch: PositionedBatch,
    /// The entity key of each row (null: the row has none).
    pub keys: Arc<StringArray>,
    /// The line key of each row (null: not a line row).
    pub line_keys: Arc<StringArray>,
    /// The stored tables, with no rows selected yet.
    pub tables: Vec<TableRows>,
    /// `hashes[t][row]`: content hash of the row in table `t` (0 where the row has no key).
    pub hashes: Vec<Vec<u64>>,
}

/// How the rows of an import type become stored entities: the parallel half.
pub trait RowModel: Send + Sync {
    fn prepare(&self, batch: PositionedBatch) -> PreparedBatch;
    /// The sequential half, for one file. `keys_in_memory` bounds the keys the in-file
    /// duplicate check keeps in memory (the rest go to a temporary database on disk); `None`
    /// keeps them all in memory.
    fn resolver(
        &self,
        on_duplicate: OnDuplicate,
        keys_in_memory: Option<usize>,
    ) -> Box<dyn Resolver>;
}

/// The row model declared by a schema.
pub fn row_model(schema: &'static ImportSchema) -> Arc<dyn RowModel> {
    match schema.row_model {
        RowModelKind::EbayOrders { .. } => Arc::new(OrdersModel::new(schema)),
        RowModelKind::Keyed(model) => Arc::new(KeyedRowModel::new(schema, model)),
    }
}

/// The row model of an import type, as a stage: batches in, resolved batches out, in order.
pub trait Resolver: Send {
    /// Takes the next batch; returns the batches whose rows are all decided.
    fn push(&mut self, batch: PreparedBatch) -> Vec<ResolvedBatch>;
    /// Closes the last open group and returns what is left.
    fn finish(&mut self) -> Vec<ResolvedBatch>;
    /// Entities (orders) seen so far, accepted or not: checked against a report's footer.
    fn entities(&self) -> u64;
    /// What the job's warnings should say about the file as a whole, once it is finished.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Validated batches built from rows of strings, for the row models' tests.
#[cfg(test)]
pub(crate) mod test_batches {
    use super::PositionedBatch;
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use ebay_import_map::ImportSchema;
    use ebay_import_model::{Position, SiteProfile};
    use ebay_import_transform::validate_batch;
    use std::sync::Arc;

    /// `rows` of the schema fields `columns` (in canonical order), validated as US values;
    /// `first_line` is the line of the first row.
    pub(crate) fn batch<const N: usize>(
        schema: &ImportSchema,
        columns: [&str; N],
        seq: u64,
        first_line: u64,
        rows: &[[&str; N]],
    ) -> PositionedBatch {
        let fields: Vec<usize> = columns.iter().map(|c| schema.field(c).unwrap()).collect();
        let raw = RecordBatch::try_from_iter(columns.iter().enumerate().map(|(c, name)| {
            let values: Vec<&str> = rows.iter().map(|r| r[c]).collect();
            (*name, Arc::new(StringArray::from(values)) as ArrayRef)
        }))
        .unwrap();
        let typed = validate_batch(schema, &fields, &raw, SiteProfile::us());
        let positions = (0..rows.len() as u64)
            .map(|i| Position {
                line: first_line + i,
                byte: 0,
                record: first_line + i,
            })
            .collect();
        PositionedBatch {
            seq,
            typed: Arc::new(typed),
            positions: Arc::new(positions),
            raw,
        }
    }
}
