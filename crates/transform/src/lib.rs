//! Validation and transformation, columnar: each field type is a kernel over a whole Arrow
//! string column that returns a typed Arrow array plus the rows and messages of bad values.
//! [`validate_batch`] runs the kernels of a schema over one batch; batches run in parallel
//! (rayon) in the pipeline, so nothing here is per-row dynamic dispatch over maps of strings.

pub mod kernels;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use ebay_import_map::{FieldType, ImportSchema};
use ebay_import_model::{ErrorCode, SiteProfile};
use std::sync::Arc;

/// One bad value found by a kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Row index within the batch.
    pub row: usize,
    pub code: ErrorCode,
    pub message: String,
}

/// A batch after validation: one typed column per field present in the file, in canonical
/// order, plus the currency each row's amounts are in, plus every value error.
#[derive(Debug, Clone)]
pub struct TypedBatch {
    /// Schema field index of each column.
    pub fields: Vec<usize>,
    pub columns: Vec<ArrayRef>,
    /// ISO code per row: from a currency column, else a money symbol, else the site's default.
    pub currency: Arc<StringArray>,
    /// Errors sorted by row, then by column order; every error of a row is kept.
    pub errors: Vec<FieldError>,
    /// Accepted values worth a warning (see [`reformatted_dates`]), sorted by row.
    pub notes: Vec<FieldError>,
    pub num_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub row: usize,
    /// Schema field index.
    pub field: usize,
    pub code: ErrorCode,
    pub message: String,
}

impl TypedBatch {
    pub fn column_of(&self, field: usize) -> Option<&ArrayRef> {
        self.fields
            .iter()
            .position(|&f| f == field)
            .map(|i| &self.columns[i])
    }
}

/// Runs the kernel of each present field over its string column.
///
/// `strings` holds one Utf8 column per entry of `fields` (schema field indices, canonical
/// order), as the reader produces them.
pub fn validate_batch(
    schema: &ImportSchema,
    fields: &[usize],
    strings: &RecordBatch,
    site: &SiteProfile,
) -> TypedBatch {
    let num_rows = strings.num_rows();
    let mut columns = Vec::with_capacity(fields.len());
    let mut errors = Vec::new();
    let mut money_currency: Option<StringArray> = None;
    let mut currency_column: Option<StringArray> = None;
    for (i, &field) in fields.iter().enumerate() {
        let def = &schema.fields[field];
        let col = strings
            .column(i)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("reader batches are Utf8 columns");
        let (array, errs): (ArrayRef, Vec<ValueError>) = match def.ty {
            FieldType::Text { max_chars } => wrap(kernels::text(col, max_chars)),
            FieldType::Id(kind) => wrap(kernels::id(col, kind)),
            FieldType::Email => wrap(kernels::email(col)),
            FieldType::Money => {
                let (amounts, currencies, errs) = kernels::money(col, site);
                money_currency = Some(merge_currency(money_currency.take(), currencies));
                (Arc::new(amounts), errs)
            }
            FieldType::Integer { min, max } => wrap(kernels::integer(col, min, max)),
            FieldType::Date => wrap(kernels::date(col, site)),
            FieldType::DateTime => wrap(kernels::datetime(col, site)),
            FieldType::Bool => wrap(kernels::boolean(col, site)),
            FieldType::Enum(def) => wrap(kernels::enumeration(col, def)),
            FieldType::Currency => {
                let (codes, errs) = kernels::currency(col);
                currency_column = Some(codes.clone());
                (Arc::new(codes), errs)
            }
        };
        columns.push(array);
        errors.extend(errs.into_iter().map(|e| FieldError {
            row: e.row,
            field,
            code: e.code,
            message: e.message,
        }));
    }
    errors.sort_by_key(|e| (e.row, fields.iter().position(|&f| f == e.field)));
    let currency = resolve_currency(num_rows, currency_column, money_currency, site);
    TypedBatch {
        fields: fields.to_vec(),
        columns,
        currency: Arc::new(currency),
        errors,
        notes: Vec::new(),
        num_rows,
    }
}

/// The accepted dates of a batch that a spreadsheet rewrote: numeric slash dates
/// (`9/8/2026`) in the date columns of an eBay report, which eBay writes with a month name
/// (`Sep-08-26`). They are read in the site's order and reported as `reformatted_date`.
pub fn reformatted_dates(
    schema: &ImportSchema,
    typed: &TypedBatch,
    strings: &RecordBatch,
) -> Vec<FieldError> {
    let mut notes = Vec::new();
    for (i, &field) in typed.fields.iter().enumerate() {
        if !matches!(
            schema.fields[field].ty,
            FieldType::Date | FieldType::DateTime
        ) {
            continue;
        }
        let raw = strings.column(i).as_any().downcast_ref::<StringArray>();
        let Some(raw) = raw else { continue };
        let parsed = &typed.columns[i];
        for row in 0..raw.len() {
            if parsed.is_valid(row) && is_slash_date(raw.value(row).trim()) {
                notes.push(FieldError {
                    row,
                    field,
                    code: ErrorCode::ReformattedDate,
                    message: format!(
                        "{:?} is a spreadsheet's date format where eBay writes Sep-08-26",
                        raw.value(row).trim()
                    ),
                });
            }
        }
    }
    notes.sort_by_key(|n| n.row);
    notes
}

/// `9/8/2026`, `09/08/26`: 1-2 digits, `/`, 1-2 digits, `/`, 2 or 4 digits, then anything.
fn is_slash_date(v: &str) -> bool {
    let mut parts = v.splitn(3, '/');
    let digits = |p: Option<&str>, lens: &[usize]| {
        p.is_some_and(|p| lens.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let (a, b, rest) = (parts.next(), parts.next(), parts.next());
    let year = rest.map(|r| r.split([' ', 'T']).next().unwrap_or(""));
    digits(a, &[1, 2]) && digits(b, &[1, 2]) && digits(year, &[2, 4])
}

fn wrap<A: arrow_array::Array + 'static>(
    (a, e): (A, Vec<ValueError>),
) -> (ArrayRef, Vec<ValueError>) {
    (Arc::new(a), e)
}

/// Keeps the first currency any money column of a row named.
fn merge_currency(acc: Option<StringArray>, next: StringArray) -> StringArray {
    match acc {
        None => next,
        Some(acc) => acc.iter().zip(next.iter()).map(|(a, b)| a.or(b)).collect(),
    }
}

fn resolve_currency(
    num_rows: usize,
    column: Option<StringArray>,
    symbols: Option<StringArray>,
    site: &SiteProfile,
) -> StringArray {
    (0..num_rows)
        .map(|row| {
            let from_column = column
                .as_ref()
                .and_then(|c| (!c.is_null(row)).then(|| c.value(row)));
            let from_symbol = symbols
                .as_ref()
                .and_then(|c| (!c.is_null(row)).then(|| c.value(row)));
            Some(from_column.or(from_symbol).unwrap_or(site.currency))
        })
        .collect()
}

use arrow_array::Array as _;

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Decimal128Array, Int64Array};
    use ebay_import_map::ORDERS;

    #[test]
    fn validate_batch_runs_each_kernel_and_resolves_currency() {
        let mut fields: Vec<usize> = ["order_number", "quantity", "total_price", "currency"]
            .iter()
            .map(|n| ORDERS.field(n).unwrap())
            .collect();
        fields.sort_unstable();
        let column = |name: &str| -> ArrayRef {
            let values: Vec<Option<&str>> = match name {
                "order_number" => vec![
                    Some("12-34567-89012"),
                    Some("4.07197E+11"),
                    Some("1234567890"),
                ],
                "quantity" => vec![Some("1"), Some("0"), None],
                "total_price" => vec![Some("£12.34"), Some("$1,433.66"), Some("7")],
                "currency" => vec![Some("eur"), None, None],
                other => panic!("{other}"),
            };
            Arc::new(StringArray::from(values))
        };
        let batch = RecordBatch::try_from_iter(
            fields
                .iter()
                .map(|&f| (ORDERS.fields[f].name, column(ORDERS.fields[f].name))),
        )
        .unwrap();
        let typed = validate_batch(&ORDERS, &fields, &batch, SiteProfile::us());
        assert_eq!(typed.num_rows, 3);
        let total = typed
            .column_of(ORDERS.field("total_price").unwrap())
            .unwrap();
        let total = total.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(
            total.iter().collect::<Vec<_>>(),
            vec![Some(1234), Some(143366), Some(700)]
        );
        let quantity = typed.column_of(ORDERS.field("quantity").unwrap()).unwrap();
        let quantity = quantity.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(
            quantity.iter().collect::<Vec<_>>(),
            vec![Some(1), None, None]
        );
        // The currency column wins, then the symbol, then the site's default.
        assert_eq!(
            typed.currency.iter().collect::<Vec<_>>(),
            vec![Some("EUR"), Some("USD"), Some("USD")]
        );
        let errors: Vec<_> = typed
            .errors
            .iter()
            .map(|e| (e.row, ORDERS.fields[e.field].name, e.code))
            .collect();
        assert_eq!(
            errors,
            vec![
                (1, "order_number", ErrorCode::ScientificNotation),
                (1, "quantity", ErrorCode::OutOfRange),
            ]
        );
    }
}
