//! The eBay orders row model.
//!
//! A single-item order is one row (order and item at once); a multi-item order is a summary row
//! (empty Item Number) followed by one row per item, all sharing the Order Number; an unpaid
//! order has no Order Number and is keyed by its Sales Record Number. A file without an Item
//! Number column (the seed's canonical CSV) has one order per row and no items.

use crate::seen::{Seen, SeenKeys};
use crate::{
    hash_rows, OnDuplicate, PositionedBatch, PreparedBatch, RecordFate, ResolvedBatch, Resolver,
    RowModel, RowWrite, TableRows,
};
use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, StringArray};
use ebay_import_map::{FieldType, ImportSchema, RowModel as RowModelKind, Target};
use ebay_import_model::{shown, shown_list, ErrorCode, Reject};
use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::Arc;
use xxhash_rust::xxh3::xxh3_64;

/// A row of the file, by batch (absolute index) and row.
type RowRef = (usize, u32);

struct Pending {
    batch: PositionedBatch,
    keys: Arc<StringArray>,
    item_keys: Arc<StringArray>,
    tables: Vec<TableRows>,
    hashes: Vec<Vec<u64>>,
    rejects: Vec<Reject>,
    fates: Vec<RecordFate>,
}

/// The orders row model's parallel half: keys, stored columns and hashes of a batch.
#[derive(Debug, Clone)]
pub struct OrdersModel {
    schema: &'static ImportSchema,
    f_order_number: usize,
    f_sales_record: usize,
    f_item_number: usize,
    f_transaction_id: usize,
    f_sale_date: usize,
}

struct Group {
    key: String,
    /// The Sales Record Number of the first row, as read.
    record: Option<String>,
    rows: Vec<RowRef>,
}

pub struct OrdersResolver {
    model: OrdersModel,
    on_duplicate: OnDuplicate,
    queue: VecDeque<Pending>,
    /// Absolute index of `queue[0]`.
    first: usize,
    group: Option<Group>,
    /// Hash of a written order key -> (line of its first row, content hash).
    seen: SeenKeys,
    groups: u64,
}

impl OrdersModel {
    pub fn new(schema: &'static ImportSchema) -> Self {
        let field = |n: &str| {
            schema
                .field(n)
                .unwrap_or_else(|| panic!("orders schema lacks {n}"))
        };
        OrdersModel {
            schema,
            f_order_number: field("order_number"),
            f_sales_record: field("sales_record_number"),
            f_item_number: field("item_number"),
            f_transaction_id: field("transaction_id"),
            f_sale_date: field("sale_date"),
        }
    }

    fn text_col(batch: &PositionedBatch, field: usize) -> Option<&StringArray> {
        batch
            .typed
            .column_of(field)
            .and_then(|c| c.as_string_opt::<i32>())
    }

    /// Keys come from the values as read (trimmed), not the validated ones: a bad order or
    /// item number must not move its row into another order. For rows that are stored, both
    /// are the same, since an order with a bad value is rejected as a whole.
    fn prepare_batch(&self, batch: PositionedBatch) -> PreparedBatch {
        fn value(c: Option<&StringArray>, r: usize) -> Option<&str> {
            c.filter(|c| c.is_valid(r))
                .map(|c| c.value(r).trim())
                .filter(|v| !v.is_empty())
        }
        let n = batch.typed.num_rows;
        let order_number = batch.raw_col(self.f_order_number);
        let record = batch.raw_col(self.f_sales_record);
        let mut keys = StringBuilder::with_capacity(n, n * 16);
        for r in 0..n {
            match (value(order_number, r), value(record, r)) {
                (Some(on), _) => keys.append_value(on),
                (None, Some(srn)) => {
                    let _ = write!(keys, "SRN-{srn}");
                    keys.append_value("");
                }
                (None, None) => keys.append_null(),
            }
        }
        let keys = keys.finish();
        let item = batch.raw_col(self.f_item_number);
        let txn = batch.raw_col(self.f_transaction_id);
        // An item is keyed within its order: `order key/item number[-transaction id]`.
        let mut item_keys = StringBuilder::with_capacity(n, n * 32);
        for r in 0..n {
            match (value(item, r), keys.is_valid(r).then(|| keys.value(r))) {
                (Some(item), Some(order)) => {
                    let _ = match value(txn, r) {
                        Some(t) => write!(item_keys, "{order}/{item}-{t}"),
                        None => write!(item_keys, "{order}/{item}"),
                    };
                    item_keys.append_value("");
                }
                _ => item_keys.append_null(),
            }
        }
        let item_keys = item_keys.finish();
        let keys = Arc::new(keys);
        let item_keys = Arc::new(item_keys);
        let tables = self.table_columns(&batch, &keys, &item_keys);
        let hashes = vec![
            hash_rows(&tables[0].columns, n, |r| keys.is_valid(r)),
            hash_rows(&tables[1].columns, n, |r| item_keys.is_valid(r)),
        ];
        PreparedBatch {
            batch,
            keys,
            line_keys: item_keys,
            tables,
            hashes,
        }
    }

    /// The stored columns of both tables for one batch.
    fn table_columns(
        &self,
        batch: &PositionedBatch,
        keys: &Arc<StringArray>,
        item_keys: &Arc<StringArray>,
    ) -> Vec<TableRows> {
        let typed = &batch.typed;
        let RowModelKind::EbayOrders { orders, items } = self.schema.row_model else {
            unreachable!("the orders model runs only orders schemas")
        };
        let mut order_cols: Vec<(&'static str, ArrayRef)> =
            vec![("order_key", keys.clone() as ArrayRef)];
        let mut item_cols: Vec<(&'static str, ArrayRef)> = vec![
            ("order_key", keys.clone() as ArrayRef),
            ("item_key", item_keys.clone() as ArrayRef),
        ];
        for (&field, col) in typed.fields.iter().zip(&typed.columns) {
            let def = &self.schema.fields[field];
            if def.name == "currency" || is_status(def.name) {
                continue;
            }
            if matches!(def.target, Target::Primary | Target::Both) {
                order_cols.push((def.name, col.clone()));
            }
            if matches!(def.target, Target::Line | Target::Both) {
                item_cols.push((def.name, col.clone()));
            }
        }
        let currency = typed.currency.clone() as ArrayRef;
        order_cols.push(("currency", currency.clone()));
        item_cols.push(("currency", currency));
        order_cols.extend(self.statuses(batch));
        vec![
            TableRows {
                table: orders,
                key_column: "order_key",
                columns: order_cols,
                rows: Vec::new(),
                rewrites: false,
            },
            TableRows {
                table: items,
                key_column: "item_key",
                columns: item_cols,
                rows: Vec::new(),
                rewrites: false,
            },
        ]
    }

    /// Order, payment and shipping status: from their columns when present, else derived as the
    /// seed does: paid when there is a paid date, shipped when there is a ship date.
    fn statuses(&self, batch: &PositionedBatch) -> Vec<(&'static str, ArrayRef)> {
        let typed = &batch.typed;
        let n = typed.num_rows;
        let given = |name: &str| {
            self.schema
                .field(name)
                .and_then(|f| Self::text_col(batch, f))
        };
        let column = |name: &str| self.schema.field(name).and_then(|f| typed.column_of(f));
        let (paid, shipped) = (column("paid_on_date"), column("shipped_on_date"));
        let pick = |col: Option<&'_ StringArray>, r: usize| -> Option<String> {
            col.filter(|c| c.is_valid(r))
                .map(|c| c.value(r).to_string())
        };
        let (payment_given, shipping_given, order_given) = (
            given("payment_status"),
            given("shipping_status"),
            given("order_status"),
        );
        let mut payment = StringBuilder::with_capacity(n, n * 8);
        let mut shipping = StringBuilder::with_capacity(n, n * 8);
        let mut order = StringBuilder::with_capacity(n, n * 8);
        for r in 0..n {
            let p = pick(payment_given, r);
            let p = p
                .as_deref()
                .unwrap_or(if paid.is_some_and(|c| c.is_valid(r)) {
                    "PAID"
                } else {
                    "PENDING"
                });
            let sh = pick(shipping_given, r);
            let sh = sh
                .as_deref()
                .unwrap_or(if shipped.is_some_and(|c| c.is_valid(r)) {
                    "SHIPPED"
                } else {
                    "NOT_SHIPPED"
                });
            let o = pick(order_given, r);
            let o = o.as_deref().unwrap_or(match (p, sh) {
                (_, "SHIPPED") => "SHIPPED",
                (_, "DELIVERED") => "DELIVERED",
                ("PAID", _) => "PROCESSING",
                _ => "PENDING",
            });
            payment.append_value(p);
            shipping.append_value(sh);
            order.append_value(o);
        }
        vec![
            ("order_status", Arc::new(order.finish()) as ArrayRef),
            ("payment_status", Arc::new(payment.finish()) as ArrayRef),
            ("shipping_status", Arc::new(shipping.finish()) as ArrayRef),
        ]
    }
}

impl RowModel for OrdersModel {
    fn prepare(&self, batch: PositionedBatch) -> PreparedBatch {
        self.prepare_batch(batch)
    }

    fn resolver(
        &self,
        on_duplicate: OnDuplicate,
        keys_in_memory: Option<usize>,
    ) -> Box<dyn Resolver> {
        let seen = keys_in_memory.map_or_else(SeenKeys::new, SeenKeys::spilling_after);
        Box::new(OrdersResolver::new(self.clone(), on_duplicate, seen))
    }
}

impl OrdersResolver {
    pub fn new(model: OrdersModel, on_duplicate: OnDuplicate, seen: SeenKeys) -> Self {
        OrdersResolver {
            model,
            on_duplicate,
            queue: VecDeque::new(),
            first: 0,
            group: None,
            seen,
            groups: 0,
        }
    }

    fn pending(&mut self, abs: usize) -> &mut Pending {
        &mut self.queue[abs - self.first]
    }
}

impl OrdersResolver {
    fn has_items(&self, abs: usize) -> bool {
        self.queue[abs - self.first]
            .batch
            .typed
            .column_of(self.model.f_item_number)
            .is_some()
    }

    fn is_item_row(&self, abs: usize, row: u32) -> bool {
        self.queue[abs - self.first]
            .item_keys
            .is_valid(row as usize)
    }

    fn process(&mut self, abs: usize) {
        let n = self.pending(abs).batch.typed.num_rows;
        let has_items = self.has_items(abs);
        let records = self.queue[abs - self.first]
            .batch
            .raw_col(self.model.f_sales_record)
            .cloned();
        for row in 0..n as u32 {
            let key = {
                let p = self.pending(abs);
                p.keys
                    .is_valid(row as usize)
                    .then(|| p.keys.value(row as usize).to_string())
            };
            let Some(key) = key else {
                self.close_group();
                self.reject_unkeyed((abs, row));
                continue;
            };
            let record = records
                .as_ref()
                .filter(|c| c.is_valid(row as usize))
                .map(|c| c.value(row as usize).trim())
                .filter(|v| !v.is_empty())
                .map(str::to_string);
            // Item rows join an order only behind its summary row: two single-item rows with
            // one key are the same order twice, which the duplicate check handles. An item row
            // with the summary's Sales Record Number belongs to it even when its Order Number is
            // mistyped, so the mistake rejects the whole order instead of splitting it.
            // Item rows of one key but different items with no summary row before them are one
            // order whose summary is missing (or was rejected); they are kept together so the
            // order is rejected whole rather than stored from its first item.
            let joins = has_items
                && self.is_item_row(abs, row)
                && self.group.as_ref().is_some_and(|g| {
                    let same = g.key == key || (record.is_some() && g.record == record);
                    let summary = !self.is_item_row(g.rows[0].0, g.rows[0].1);
                    same && (summary || (g.key == key && !self.repeats_item(g, abs, row)))
                });
            if joins {
                self.group.as_mut().expect("checked").rows.push((abs, row));
            } else {
                self.close_group();
                self.group = Some(Group {
                    key,
                    record,
                    rows: vec![(abs, row)],
                });
            }
        }
    }

    fn reject_unkeyed(&mut self, (abs, row): RowRef) {
        let reject = self.value_reject(abs, row, self.model.f_order_number, ErrorCode::MissingValue,
            "the row has neither an Order Number nor a Sales Record Number, so it belongs to no order; fill one in".into());
        let p = self.pending(abs);
        p.rejects.push(reject);
        p.fates[row as usize] = RecordFate::Rejected;
        for e in self.row_errors(abs, row) {
            self.pending(abs).rejects.push(e);
        }
    }

    /// The rejects of one row's own bad values.
    fn row_errors(&mut self, abs: usize, row: u32) -> Vec<Reject> {
        let schema = self.model.schema;
        self.pending(abs).batch.row_errors(schema, row)
    }

    fn value_reject(
        &mut self,
        abs: usize,
        row: u32,
        field: usize,
        code: ErrorCode,
        message: String,
    ) -> Reject {
        let schema = self.model.schema;
        self.pending(abs)
            .batch
            .value_reject(schema, row, field, code, message)
    }

    /// Whether the row's item key is already in the group.
    fn repeats_item(&self, g: &Group, abs: usize, row: u32) -> bool {
        let key = |(a, r): RowRef| {
            let p = &self.queue[a - self.first];
            p.item_keys.value(r as usize)
        };
        g.rows.iter().any(|&other| key(other) == key((abs, row)))
    }

    /// Rejects one row of a group for a reason that is not its own value.
    fn reject_row(
        &mut self,
        (abs, row): RowRef,
        code: ErrorCode,
        message: String,
        value: Option<String>,
    ) {
        let column = (code == ErrorCode::DuplicateKey).then(|| "order_number".to_string());
        let p = self.pending(abs);
        let pos = p.batch.positions[row as usize];
        p.fates[row as usize] = RecordFate::Rejected;
        p.rejects.push(Reject {
            line: pos.line,
            record: pos.record,
            column,
            code,
            message,
            value,
            raw: None,
        });
    }

    fn close_group(&mut self) {
        let Some(group) = self.group.take() else {
            return;
        };
        self.groups += 1;
        let (a0, r0) = group.rows[0];
        if group.rows.len() > 1 && self.is_item_row(a0, r0) {
            let first = self.pending(a0).batch.positions[r0 as usize].line;
            let message = format!(
                "order {} has {} item rows but no summary row before line {first}: the summary \
                 row is missing or was rejected; fix it and import the file again",
                shown(&group.key),
                group.rows.len()
            );
            for &(abs, row) in &group.rows {
                let errs = self.row_errors(abs, row);
                self.reject_row(
                    (abs, row),
                    ErrorCode::OrderIncomplete,
                    message.clone(),
                    None,
                );
                self.pending(abs).rejects.extend(errs);
            }
            return;
        }
        // The order row: the summary row if there is one, else the first row.
        let order_row = group.rows[0];
        let mut own: Vec<(RowRef, Vec<Reject>)> = Vec::new();
        for &(abs, row) in &group.rows {
            let mut errs = self.row_errors(abs, row);
            if (abs, row) == order_row
                && self.is_null(abs, row, self.model.f_sale_date)
                && !self.has_error(abs, row, self.model.f_sale_date)
            {
                errs.push(self.value_reject(
                    abs,
                    row,
                    self.model.f_sale_date,
                    ErrorCode::MissingValue,
                    "the order has no sale date; every order row needs one".into(),
                ));
            }
            own.push(((abs, row), errs));
        }
        self.reject_mixed_currencies(&mut own);
        let failing: Vec<u64> = own
            .iter()
            .filter(|(_, e)| !e.is_empty())
            .map(|((abs, row), _)| self.pending(*abs).batch.positions[*row as usize].line)
            .collect();
        if !failing.is_empty() {
            let lines: Vec<String> = failing.iter().map(u64::to_string).collect();
            let message = format!(
                "order {} is rejected as a whole because line {} of it has errors; fix that \
                 line and import the file again",
                shown(&group.key),
                shown_list(&lines)
            );
            for (at, errs) in own {
                if errs.is_empty() {
                    self.reject_row(at, ErrorCode::OrderIncomplete, message.clone(), None);
                } else {
                    let p = self.pending(at.0);
                    p.fates[at.1 as usize] = RecordFate::Rejected;
                    p.rejects.extend(errs);
                }
            }
            return;
        }
        self.write_group(&group, order_row);
    }

    /// One order is in one currency: each row of `own` (the order row first) whose values name
    /// another currency than the first row that names one gets an `invalid_money` reject.
    fn reject_mixed_currencies(&mut self, own: &mut [(RowRef, Vec<Reject>)]) {
        let named = |s: &Self, (abs, row): RowRef| {
            let c = &s.queue[abs - s.first].batch.typed.named_currency;
            c.is_valid(row as usize)
                .then(|| c.value(row as usize).to_string())
        };
        let Some((first, currency)) = own
            .iter()
            .find_map(|&(at, _)| named(self, at).map(|c| (at, c)))
        else {
            return;
        };
        let line = self.pending(first.0).batch.positions[first.1 as usize].line;
        for (at, errs) in own.iter_mut() {
            if let Some(other) = named(self, *at).filter(|c| *c != currency) {
                let message = format!(
                    "this row's amounts are in {other}, but its order's are in {currency} (line \
                     {line}): one order is in one currency; correct the amounts of one of them"
                );
                errs.push(self.currency_reject(*at, message));
            }
        }
    }

    /// An `invalid_money` reject of the value that names the currency of row `at`: its
    /// currency column, else its first amount.
    fn currency_reject(&mut self, (abs, row): RowRef, message: String) -> Reject {
        let schema = self.model.schema;
        let typed = &self.pending(abs).batch.typed;
        let valid = |ty: fn(&FieldType) -> bool| {
            typed.fields.iter().copied().find(|&f| {
                ty(&schema.fields[f].ty)
                    && typed.column_of(f).is_some_and(|c| c.is_valid(row as usize))
            })
        };
        let field = valid(|t| matches!(t, FieldType::Currency))
            .or_else(|| valid(|t| matches!(t, FieldType::Money)))
            .expect("a row names its currency in its currency column or an amount");
        self.value_reject(abs, row, field, ErrorCode::InvalidMoney, message)
    }

    fn is_null(&mut self, abs: usize, row: u32, field: usize) -> bool {
        self.pending(abs)
            .batch
            .typed
            .column_of(field)
            .is_none_or(|c| c.is_null(row as usize))
    }

    fn has_error(&mut self, abs: usize, row: u32, field: usize) -> bool {
        self.pending(abs)
            .batch
            .typed
            .errors
            .iter()
            .any(|e| e.row == row as usize && e.field == field)
    }

    fn write_group(&mut self, group: &Group, order_row: RowRef) {
        let mut writes: Vec<(RowRef, usize, RowWrite)> = Vec::new();
        let (oabs, orow) = order_row;
        {
            let p = self.pending(oabs);
            let line = p.batch.positions[orow as usize].line;
            let hash = p.hashes[0][orow as usize];
            writes.push((
                order_row,
                0,
                RowWrite {
                    row: orow,
                    key: group.key.clone(),
                    hash,
                    line,
                },
            ));
        }
        for &(abs, row) in &group.rows {
            let p = self.pending(abs);
            if !p.item_keys.is_valid(row as usize) {
                continue;
            }
            let line = p.batch.positions[row as usize].line;
            let hash = p.hashes[1][row as usize];
            let key = p.item_keys.value(row as usize).to_string();
            writes.push((
                (abs, row),
                1,
                RowWrite {
                    row,
                    key,
                    hash,
                    line,
                },
            ));
        }
        let content = writes
            .iter()
            .fold(0u64, |acc, (_, _, w)| acc.rotate_left(5) ^ w.hash);
        let key_hash = xxh3_64(group.key.as_bytes());
        let first_line = self.pending(oabs).batch.positions[orow as usize].line;
        let rewrite = match self.seen.get(key_hash) {
            None => {
                self.seen.insert(key_hash, first_line, content);
                false
            }
            Some(seen) if seen.same_content(content) => {
                for &(abs, row) in &group.rows {
                    self.pending(abs).fates[row as usize] = RecordFate::Repeated;
                }
                return;
            }
            Some(Seen { line, .. }) if self.on_duplicate == OnDuplicate::Reject => {
                let message = format!(
                    "order {} already appeared at line {line} with different content; keep one \
                     version, or pass --on-duplicate last-wins to let the later rows win",
                    shown(&group.key)
                );
                for &at in &group.rows {
                    let value = Some(group.key.clone());
                    self.reject_row(at, ErrorCode::DuplicateKey, message.clone(), value);
                }
                return;
            }
            Some(Seen { line, .. }) => {
                self.seen.insert(key_hash, line, content);
                true
            }
        };
        for ((abs, _), table, write) in writes {
            let rows = &mut self.pending(abs).tables[table];
            rows.rewrites |= rewrite;
            rows.rows.push(write);
        }
    }

    /// Hands out the batches no open group still needs.
    fn drain(&mut self, all: bool) -> Vec<ResolvedBatch> {
        let keep_from = match (&self.group, all) {
            (Some(g), false) => g.rows[0].0,
            _ => usize::MAX,
        };
        let mut out = Vec::new();
        while self.first < keep_from && !self.queue.is_empty() {
            let mut p = self.queue.pop_front().expect("not empty");
            self.first += 1;
            p.rejects.sort_by_key(|r| (r.line, r.code));
            out.push(ResolvedBatch {
                notes: p.batch.notes(self.model.schema),
                seq: p.batch.seq,
                positions: p.batch.positions.clone(),
                tables: p.tables,
                rejects: p.rejects,
                fates: p.fates,
            });
        }
        out
    }
}

impl Resolver for OrdersResolver {
    fn push(&mut self, batch: PreparedBatch) -> Vec<ResolvedBatch> {
        let abs = self.first + self.queue.len();
        let PreparedBatch {
            batch,
            keys,
            line_keys,
            tables,
            hashes,
        } = batch;
        let n = batch.typed.num_rows;
        self.queue.push_back(Pending {
            batch,
            keys,
            item_keys: line_keys,
            tables,
            hashes,
            rejects: Vec::new(),
            fates: vec![RecordFate::Write; n],
        });
        self.process(abs);
        self.drain(false)
    }

    fn finish(&mut self) -> Vec<ResolvedBatch> {
        self.close_group();
        self.drain(true)
    }

    fn entities(&self) -> u64 {
        self.groups
    }
}

fn is_status(name: &str) -> bool {
    matches!(name, "order_status" | "payment_status" | "shipping_status")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RecordFate, RowModel};
    use ebay_import_map::ORDERS;

    const COLUMNS: [&str; 7] = [
        "sales_record_number",
        "order_number",
        "buyer_name",
        "item_number",
        "sold_for",
        "total_price",
        "sale_date",
    ];

    /// Rows as in an Orders report; `first_line` is the line of the first row.
    fn batch(seq: u64, first_line: u64, rows: &[[&str; 7]]) -> PositionedBatch {
        crate::test_batches::batch(&ORDERS, COLUMNS, seq, first_line, rows)
    }

    fn run(batches: Vec<PositionedBatch>, on_duplicate: OnDuplicate) -> Vec<ResolvedBatch> {
        let model = OrdersModel::new(&ORDERS);
        let mut resolver = model.resolver(on_duplicate, Some(2));
        let mut out = Vec::new();
        for b in batches {
            out.extend(resolver.push(model.prepare(b)));
        }
        out.extend(resolver.finish());
        out
    }

    fn keys(out: &[ResolvedBatch], table: usize) -> Vec<String> {
        out.iter()
            .flat_map(|b| b.tables[table].rows.iter().map(|r| r.key.clone()))
            .collect()
    }

    const SUMMARY: [&str; 7] = [
        "7",
        "11-11111-11111",
        "Ann",
        "",
        "$28.00",
        "$34.00",
        "Mar-15-24",
    ];
    const ITEM_A: [&str; 7] = [
        "7",
        "11-11111-11111",
        "",
        "223456789012",
        "$13.00",
        "",
        "Mar-15-24",
    ];
    const ITEM_B: [&str; 7] = [
        "7",
        "11-11111-11111",
        "",
        "323456789012",
        "$15.00",
        "",
        "Mar-15-24",
    ];
    const SINGLE: [&str; 7] = [
        "8",
        "22-22222-22222",
        "Bob",
        "423456789012",
        "$5.00",
        "$5.00",
        "Mar-16-24",
    ];

    #[test]
    fn an_order_spanning_two_batches_is_one_order() {
        let out = run(
            vec![
                batch(0, 4, &[SINGLE, SUMMARY, ITEM_A]),
                batch(1, 7, &[ITEM_B]),
            ],
            OnDuplicate::Reject,
        );
        assert_eq!(keys(&out, 0), vec!["22-22222-22222", "11-11111-11111"]);
        assert_eq!(
            keys(&out, 1),
            vec![
                "22-22222-22222/423456789012",
                "11-11111-11111/223456789012",
                "11-11111-11111/323456789012"
            ]
        );
        assert!(out
            .iter()
            .all(|b| b.fates.iter().all(|f| *f == RecordFate::Write)));
    }

    #[test]
    fn a_bad_item_rejects_its_whole_order_across_batches() {
        let mut bad = ITEM_B;
        bad[4] = "$1.2.3";
        let out = run(
            vec![batch(0, 4, &[SUMMARY, ITEM_A]), batch(1, 6, &[bad, SINGLE])],
            OnDuplicate::Reject,
        );
        assert_eq!(keys(&out, 0), vec!["22-22222-22222"]);
        let rejects: Vec<(u64, ErrorCode)> = out
            .iter()
            .flat_map(|b| b.rejects.iter().map(|r| (r.line, r.code)))
            .collect();
        assert_eq!(
            rejects,
            vec![
                (4, ErrorCode::OrderIncomplete),
                (5, ErrorCode::OrderIncomplete),
                (6, ErrorCode::InvalidMoney)
            ]
        );
        assert!(out[0].rejects[0].message.contains("line 6"));
    }

    #[test]
    fn an_item_in_another_currency_than_its_order_rejects_the_order() {
        let mut euros = ITEM_B;
        euros[4] = "€15.00";
        let out = run(
            vec![batch(0, 4, &[SUMMARY, ITEM_A, euros])],
            OnDuplicate::Reject,
        );
        assert!(keys(&out, 0).is_empty());
        let rejects: Vec<_> = out[0]
            .rejects
            .iter()
            .map(|r| (r.line, r.code, r.column.as_deref(), r.value.as_deref()))
            .collect();
        assert_eq!(
            rejects,
            vec![
                (4, ErrorCode::OrderIncomplete, None, None),
                (5, ErrorCode::OrderIncomplete, None, None),
                (6, ErrorCode::InvalidMoney, Some("sold_for"), Some("€15.00")),
            ]
        );
        assert!(
            out[0].rejects[2]
                .message
                .contains("amounts are in EUR, but its order's are in USD (line 4)"),
            "{}",
            out[0].rejects[2].message
        );
        // A bare amount names no currency: it is in the order's.
        let mut bare = ITEM_B;
        bare[4] = "15.00";
        let out = run(
            vec![batch(0, 4, &[SUMMARY, ITEM_A, bare])],
            OnDuplicate::Reject,
        );
        assert_eq!(keys(&out, 1).len(), 2);
        assert!(out[0].rejects.is_empty());
    }

    #[test]
    fn a_bad_order_or_item_number_stays_in_its_order() {
        let mut bad_item = ITEM_A;
        bad_item[3] = "22345X789012";
        let mut bad_order = ITEM_B;
        bad_order[1] = "11-11111-1111";
        for rows in [[SUMMARY, bad_item, ITEM_B], [SUMMARY, ITEM_A, bad_order]] {
            let out = run(vec![batch(0, 2, &rows)], OnDuplicate::Reject);
            assert!(
                keys(&out, 0).is_empty() && keys(&out, 1).is_empty(),
                "{rows:?}"
            );
            assert!(out[0].fates.iter().all(|f| *f == RecordFate::Rejected));
        }
    }

    #[test]
    fn items_without_their_summary_row_reject_the_order() {
        let out = run(
            vec![batch(0, 5, &[ITEM_A, ITEM_B, SINGLE])],
            OnDuplicate::Reject,
        );
        assert_eq!(keys(&out, 0), vec!["22-22222-22222"]);
        let codes: Vec<(u64, ErrorCode)> =
            out[0].rejects.iter().map(|r| (r.line, r.code)).collect();
        assert_eq!(
            codes,
            vec![
                (5, ErrorCode::OrderIncomplete),
                (6, ErrorCode::OrderIncomplete)
            ]
        );
        assert!(out[0].rejects[0].message.contains("no summary row"));
    }

    #[test]
    fn a_repeated_order_is_a_duplicate_unless_identical_or_last_wins() {
        let mut changed = SINGLE;
        changed[5] = "$6.00";
        let out = run(
            vec![batch(0, 4, &[SINGLE, SUMMARY, ITEM_A, changed])],
            OnDuplicate::Reject,
        );
        let dup = &out[0].rejects[0];
        assert_eq!((dup.line, dup.code), (7, ErrorCode::DuplicateKey));
        assert!(dup.message.contains("line 4"));

        let out = run(vec![batch(0, 4, &[SINGLE, SINGLE])], OnDuplicate::Reject);
        assert_eq!(out[0].fates, vec![RecordFate::Write, RecordFate::Repeated]);

        let out = run(vec![batch(0, 4, &[SINGLE, changed])], OnDuplicate::LastWins);
        assert_eq!(keys(&out, 0).len(), 2);
        assert!(out[0].rejects.is_empty());
    }
}
