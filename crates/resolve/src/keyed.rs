//! The keyed row model: one row of the file is one entity (a listing, a product, a
//! customer), keyed by its natural key. Rows with a bad value are rejected alone; a key seen
//! twice in one file is checked like an order's; declared derived tables (the product behind
//! a listing) get one row per derived key.

use crate::seen::{Seen, SeenKeys};
use crate::{
    hash_rows, OnDuplicate, PositionedBatch, PreparedBatch, RecordFate, ResolvedBatch, Resolver,
    RowModel, RowWrite, TableRows,
};
use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, StringArray};
use ebay_import_map::{DerivedTable, FieldType, ImportSchema, KeyedModel};
use ebay_import_model::{shown, ErrorCode, Reject};
use std::fmt::Write;
use std::sync::Arc;
use xxhash_rust::xxh3::xxh3_64;

/// The keyed row model of one schema: its parallel half.
#[derive(Debug, Clone)]
pub struct KeyedRowModel {
    schema: &'static ImportSchema,
    model: &'static KeyedModel,
    /// Schema field index of each key source, in order of preference.
    key_fields: Vec<(usize, &'static str)>,
    /// For each derived table, the schema field index of its key.
    derived_keys: Vec<usize>,
    /// Whether amounts are stored, so the row's currency is too.
    has_money: bool,
}

impl KeyedRowModel {
    pub fn new(schema: &'static ImportSchema, model: &'static KeyedModel) -> Self {
        let field = |n: &str| {
            schema
                .field(n)
                .unwrap_or_else(|| panic!("{} schema lacks {n}", schema.name))
        };
        KeyedRowModel {
            schema,
            model,
            key_fields: model
                .keys
                .iter()
                .map(|k| (field(k.field), k.prefix))
                .collect(),
            derived_keys: model.derived.iter().map(|d| field(d.key_field)).collect(),
            has_money: schema
                .fields
                .iter()
                .any(|f| matches!(f.ty, FieldType::Money | FieldType::Currency)),
        }
    }

    /// The entity key of every row: the first key source with a value, as read and trimmed.
    fn keys(&self, batch: &PositionedBatch) -> StringArray {
        let n = batch.typed.num_rows;
        let mut keys = StringBuilder::with_capacity(n, n * 16);
        for r in 0..n {
            let found = self
                .key_fields
                .iter()
                .find_map(|&(f, prefix)| batch.raw_value(f, r).map(|v| (prefix, v)));
            match found {
                Some((prefix, v)) => {
                    let _ = write!(keys, "{prefix}{v}");
                    keys.append_value("");
                }
                None => keys.append_null(),
            }
        }
        keys.finish()
    }

    /// The file's attribute columns (after the fields) as one JSON object per row; null
    /// where a row has none. `None` when the file has no attribute columns.
    fn attributes(batch: &PositionedBatch) -> Option<StringArray> {
        let first = batch.typed.fields.len();
        let raw = &batch.raw;
        if raw.num_columns() <= first {
            return None;
        }
        let schema = raw.schema();
        let columns: Vec<(&str, &StringArray)> = (first..raw.num_columns())
            .map(|i| {
                (
                    schema.field(i).name().as_str(),
                    raw.column(i).as_string::<i32>(),
                )
            })
            .collect();
        let n = raw.num_rows();
        let mut out = StringBuilder::with_capacity(n, n * 32);
        let mut object = serde_json::Map::new();
        for r in 0..n {
            object.clear();
            for (name, col) in &columns {
                let v = if col.is_valid(r) {
                    col.value(r).trim()
                } else {
                    ""
                };
                if !v.is_empty() {
                    object.insert(name.to_string(), v.into());
                }
            }
            if object.is_empty() {
                out.append_null();
            } else {
                out.append_value(serde_json::Value::Object(object.clone()).to_string());
            }
        }
        Some(out.finish())
    }

    fn derived_table(
        &self,
        batch: &PositionedBatch,
        derived: &'static DerivedTable,
        key_field: usize,
    ) -> (TableRows, Arc<StringArray>) {
        let typed = &batch.typed;
        let keys: Arc<StringArray> = match typed.column_of(key_field) {
            Some(c) => Arc::new(c.as_string::<i32>().clone()),
            None => Arc::new(StringArray::new_null(typed.num_rows)),
        };
        let mut columns: Vec<(&'static str, ArrayRef)> =
            vec![(derived.key_column, keys.clone() as ArrayRef)];
        let mut money = false;
        for &(column, source) in derived.columns {
            let field = self
                .schema
                .field(source)
                .expect("derived from a schema field");
            if let Some(col) = typed.column_of(field) {
                money |= matches!(self.schema.fields[field].ty, FieldType::Money);
                columns.push((column, col.clone()));
            }
        }
        if money {
            columns.push(("currency", typed.currency.clone() as ArrayRef));
        }
        let table = TableRows {
            table: derived.table,
            key_column: derived.key_column,
            columns,
            rows: Vec::new(),
            rewrites: false,
        };
        (table, keys)
    }
}

impl RowModel for KeyedRowModel {
    fn prepare(&self, batch: PositionedBatch) -> PreparedBatch {
        let n = batch.typed.num_rows;
        let keys = Arc::new(self.keys(&batch));
        let typed = &batch.typed;
        let mut columns: Vec<(&'static str, ArrayRef)> =
            vec![(self.model.key_column, keys.clone() as ArrayRef)];
        for (&field, col) in typed.fields.iter().zip(&typed.columns) {
            let def = &self.schema.fields[field];
            if def.name != self.model.key_column && !matches!(def.ty, FieldType::Currency) {
                columns.push((def.name, col.clone()));
            }
        }
        if self.has_money {
            columns.push(("currency", typed.currency.clone() as ArrayRef));
        }
        if let (Some(name), Some(attrs)) = (self.model.attributes, Self::attributes(&batch)) {
            columns.push((name, Arc::new(attrs) as ArrayRef));
        }
        let mut tables = vec![TableRows {
            table: self.model.table,
            key_column: self.model.key_column,
            columns,
            rows: Vec::new(),
            rewrites: false,
        }];
        let mut hashes = vec![hash_rows(&tables[0].columns, n, |r| keys.is_valid(r))];
        let mut derived_keys = Vec::new();
        for (d, &key_field) in self.model.derived.iter().zip(&self.derived_keys) {
            let (table, dkeys) = self.derived_table(&batch, d, key_field);
            hashes.push(hash_rows(&table.columns, n, |r| dkeys.is_valid(r)));
            tables.push(table);
            derived_keys.push(dkeys);
        }
        // A keyed type has no line rows; the line keys carry the first derived table's keys.
        let line_keys = derived_keys
            .into_iter()
            .next()
            .unwrap_or_else(|| Arc::new(StringArray::new_null(n)));
        PreparedBatch {
            batch,
            keys,
            line_keys,
            tables,
            hashes,
        }
    }

    fn resolver(
        &self,
        on_duplicate: OnDuplicate,
        keys_in_memory: Option<usize>,
    ) -> Box<dyn Resolver> {
        let seen = || keys_in_memory.map_or_else(SeenKeys::new, SeenKeys::spilling_after);
        Box::new(KeyedResolver {
            derived_seen: self.model.derived.iter().map(|_| seen()).collect(),
            model: self.clone(),
            on_duplicate,
            seen: seen(),
            rows: 0,
            derived_repeats: vec![0; self.model.derived.len()],
        })
    }
}

/// The keyed row model's sequential half: every batch is decided as it comes.
pub struct KeyedResolver {
    model: KeyedRowModel,
    on_duplicate: OnDuplicate,
    seen: SeenKeys,
    derived_seen: Vec<SeenKeys>,
    rows: u64,
    /// Per derived table: rows whose derived key an earlier row of the file had made.
    derived_repeats: Vec<u64>,
}

impl KeyedResolver {
    fn resolve(&mut self, prepared: PreparedBatch) -> ResolvedBatch {
        let PreparedBatch {
            batch,
            keys,
            mut tables,
            hashes,
            ..
        } = prepared;
        let schema = self.model.schema;
        let n = batch.typed.num_rows;
        let mut rejects: Vec<Reject> = Vec::new();
        let mut fates = vec![RecordFate::Write; n];
        let derived_keys: Vec<StringArray> = tables[1..]
            .iter()
            .map(|t| t.columns[0].1.as_string::<i32>().clone())
            .collect();
        for r in 0..n {
            self.rows += 1;
            let row = r as u32;
            let line = batch.positions[r].line;
            let mut errors = batch.row_errors(schema, row);
            if keys.is_null(r) {
                let names: Vec<&str> = self
                    .model
                    .key_fields
                    .iter()
                    .map(|&(f, _)| schema.fields[f].name)
                    .collect();
                let message = format!(
                    "the row has no {}, so it names no {}; fill one in",
                    names.join(" and no "),
                    schema.entity()
                );
                let first = self.model.key_fields[0].0;
                errors.insert(
                    0,
                    batch.value_reject(schema, row, first, ErrorCode::MissingValue, message),
                );
            }
            if !errors.is_empty() {
                fates[r] = RecordFate::Rejected;
                rejects.extend(errors);
                continue;
            }
            let key = keys.value(r);
            let content = hashes[0][r];
            let key_hash = xxh3_64(key.as_bytes());
            match self.seen.get(key_hash) {
                None => self.seen.insert(key_hash, line, content),
                Some(seen) if seen.same_content(content) => {
                    fates[r] = RecordFate::Repeated;
                    continue;
                }
                Some(Seen { line: first, .. }) if self.on_duplicate == OnDuplicate::Reject => {
                    fates[r] = RecordFate::Rejected;
                    let key_field = self.model.key_fields[0].0;
                    let mut reject = batch.value_reject(
                        schema,
                        row,
                        key_field,
                        ErrorCode::DuplicateKey,
                        format!(
                            "{} {} already appeared at line {first} with different content; \
                             keep one version, or pass --on-duplicate last-wins to let the \
                             later row win",
                            schema.entity(),
                            shown(key)
                        ),
                    );
                    reject.value = Some(key.to_string());
                    rejects.push(reject);
                    continue;
                }
                Some(Seen { line: first, .. }) => {
                    self.seen.insert(key_hash, first, content);
                    tables[0].rewrites = true;
                }
            }
            tables[0].rows.push(RowWrite {
                row,
                key: key.to_string(),
                hash: content,
                line,
            });
            for (t, dkeys) in (1..).zip(&derived_keys) {
                if dkeys.is_null(r) {
                    continue;
                }
                let dkey = dkeys.value(r);
                let dhash = xxh3_64(dkey.as_bytes());
                if self.derived_seen[t - 1].get(dhash).is_some() {
                    self.derived_repeats[t - 1] += 1;
                    continue;
                }
                self.derived_seen[t - 1].insert(dhash, line, hashes[t][r]);
                tables[t].rows.push(RowWrite {
                    row,
                    key: dkey.to_string(),
                    hash: hashes[t][r],
                    line,
                });
            }
        }
        rejects.sort_by_key(|r| (r.line, r.code));
        ResolvedBatch {
            seq: batch.seq,
            positions: batch.positions.clone(),
            notes: batch.notes(schema),
            tables,
            rejects,
            fates,
        }
    }
}

impl Resolver for KeyedResolver {
    fn push(&mut self, batch: PreparedBatch) -> Vec<ResolvedBatch> {
        vec![self.resolve(batch)]
    }

    fn finish(&mut self) -> Vec<ResolvedBatch> {
        Vec::new()
    }

    fn entities(&self) -> u64 {
        self.rows
    }

    fn notes(&self) -> Vec<String> {
        self.model
            .model
            .derived
            .iter()
            .zip(&self.derived_repeats)
            .filter(|(_, &n)| n > 0)
            .map(|(d, n)| {
                format!(
                    "{n} {} share their {} with an earlier row of the file: each {} in {} \
                     takes the values of the first row that names it",
                    self.model.schema.name, d.key_field, d.key_column, d.table
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{row_model, RecordFate};
    use ebay_import_map::LISTINGS;

    const COLUMNS: [&str; 4] = ["item_number", "custom_label", "title", "start_price"];

    fn batch(seq: u64, first_line: u64, rows: &[[&str; 4]]) -> PositionedBatch {
        crate::test_batches::batch(&LISTINGS, COLUMNS, seq, first_line, rows)
    }

    fn run(
        batches: Vec<PositionedBatch>,
        on_duplicate: OnDuplicate,
    ) -> (Vec<ResolvedBatch>, Vec<String>) {
        let model = row_model(&LISTINGS);
        let mut resolver = model.resolver(on_duplicate, Some(1));
        let mut out = Vec::new();
        for b in batches {
            out.extend(resolver.push(model.prepare(b)));
        }
        out.extend(resolver.finish());
        (out, resolver.notes())
    }

    fn keys(out: &[ResolvedBatch], table: usize) -> Vec<&str> {
        out.iter()
            .flat_map(|b| b.tables[table].rows.iter().map(|r| r.key.as_str()))
            .collect()
    }

    #[test]
    fn rows_are_keyed_by_item_number_else_by_custom_label() {
        let (out, notes) = run(
            vec![batch(
                0,
                2,
                &[
                    ["318508625049", "LAMP", "Lamp", "1.00"],
                    ["", "NEW-1", "New one", "2.00"],
                    ["", "", "Nothing", "3.00"],
                    ["407197269275", "", "Bad price", "abc"],
                ],
            )],
            OnDuplicate::Reject,
        );
        assert_eq!(keys(&out, 0), vec!["318508625049", "SKU:NEW-1"]);
        assert_eq!(keys(&out, 1), vec!["LAMP", "NEW-1"]);
        let b = &out[0];
        assert_eq!(
            b.fates,
            vec![
                RecordFate::Write,
                RecordFate::Write,
                RecordFate::Rejected,
                RecordFate::Rejected
            ]
        );
        let codes: Vec<_> = b.rejects.iter().map(|r| (r.line, r.code)).collect();
        assert_eq!(
            codes,
            vec![(4, ErrorCode::MissingValue), (5, ErrorCode::InvalidMoney)]
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn a_key_seen_again_is_a_repeat_a_duplicate_or_the_winner() {
        let rows = |price: &str| {
            vec![
                batch(0, 2, &[["318508625049", "LAMP", "Lamp", "1.00"]]),
                batch(1, 3, &[["318508625049", "LAMP", "Lamp", price]]),
            ]
        };
        let (out, _) = run(rows("1.00"), OnDuplicate::Reject);
        assert_eq!(out[1].fates, vec![RecordFate::Repeated]);
        assert_eq!(keys(&out, 0).len(), 1);

        let (out, _) = run(rows("2.00"), OnDuplicate::Reject);
        assert_eq!(out[1].fates, vec![RecordFate::Rejected]);
        assert_eq!(out[1].rejects[0].code, ErrorCode::DuplicateKey);
        assert!(out[1].rejects[0].message.contains("line 2"));

        let (out, _) = run(rows("2.00"), OnDuplicate::LastWins);
        assert_eq!(out[1].fates, vec![RecordFate::Write]);
        assert_eq!(keys(&out, 0), vec!["318508625049", "318508625049"]);
        // The product was made by the first row; the winner's is not written again.
        assert_eq!(keys(&out, 1), vec!["LAMP"]);
    }

    #[test]
    fn listings_sharing_a_custom_label_make_one_product_and_a_note() {
        let (out, notes) = run(
            vec![batch(
                0,
                2,
                &[
                    ["318508625049", "MUG", "Mug (US)", "1.00"],
                    ["318508625050", "MUG", "Mug (UK)", "2.00"],
                ],
            )],
            OnDuplicate::Reject,
        );
        assert_eq!(keys(&out, 0).len(), 2);
        assert_eq!(keys(&out, 1), vec!["MUG"]);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("1 listings share their custom_label"),
            "{notes:?}"
        );
    }
}
