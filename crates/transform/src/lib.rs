//! Validation and transformation, columnar: each field type is a kernel over a whole Arrow
//! string column that returns a typed Arrow array plus the rows and messages of bad values.
//! [`validate_batch`] runs the kernels of a schema over one batch; batches run in parallel
//! (rayon) in the pipeline, so nothing here is per-row dynamic dispatch over maps of strings.

pub mod kernels;

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray};
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
    /// The currency a row's own values name (its currency column or amounts); null where
    /// `currency` is the site's default.
    pub named_currency: Arc<StringArray>,
    /// Errors sorted by row, then by column order; every error of a row is kept.
    pub errors: Vec<FieldError>,
    /// Values worth a warning (`date_order` here, [`reformatted_dates`] later), sorted by
    /// row.
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

/// Runs the kernel of each present field over its string column, then decides each row's
/// currency (see [`kernels::row_currencies`]).
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
    let mut notes = Vec::new();
    // (column index, the currencies its amounts named)
    let mut money: Vec<(usize, StringArray)> = Vec::new();
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
                money.push((i, currencies));
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
        if matches!(def.ty, FieldType::Date | FieldType::DateTime) {
            notes.extend(other_date_order(&errs, col, field, site));
        }
        columns.push(array);
        errors.extend(errs.into_iter().map(|e| FieldError {
            row: e.row,
            field,
            code: e.code,
            message: e.message,
        }));
    }
    let named_currency = settle_currencies(
        &mut columns,
        &mut errors,
        strings,
        &money,
        fields,
        currency_column.as_ref(),
    );
    errors.sort_by_key(|e| (e.row, fields.iter().position(|&f| f == e.field)));
    notes.sort_by_key(|n| n.row);
    TypedBatch {
        fields: fields.to_vec(),
        columns,
        currency: Arc::new(
            named_currency
                .iter()
                .map(|c| Some(c.unwrap_or(site.currency)))
                .collect(),
        ),
        named_currency: Arc::new(named_currency),
        errors,
        notes,
        num_rows,
    }
}

/// The currency each row names ([`kernels::row_currencies`]): an amount in another currency
/// than its row's becomes null in `columns` and an error.
fn settle_currencies(
    columns: &mut [ArrayRef],
    errors: &mut Vec<FieldError>,
    strings: &RecordBatch,
    money: &[(usize, StringArray)],
    fields: &[usize],
    currency_column: Option<&StringArray>,
) -> StringArray {
    let amounts: Vec<kernels::NamedAmounts> = money
        .iter()
        .map(|(i, named)| kernels::NamedAmounts {
            raw: strings.column(*i).as_string::<i32>(),
            named,
        })
        .collect();
    let (named, mixed) = kernels::row_currencies(strings.num_rows(), &amounts, currency_column);
    for (k, &(i, _)) in money.iter().enumerate() {
        let rows: Vec<usize> = mixed
            .iter()
            .filter(|(m, _)| *m == k)
            .map(|(_, e)| e.row)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let parsed = columns[i]
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .expect("the money kernel makes Decimal128");
        columns[i] = Arc::new(kernels::without_rows(parsed, &rows));
    }
    errors.extend(mixed.into_iter().map(|(k, e)| FieldError {
        row: e.row,
        field: fields[money[k].0],
        code: e.code,
        message: e.message,
    }));
    named
}

/// The rejected dates of a column that are dates read the other way round (`15/03/2024` on a
/// month-first site), as `date_order` notes: evidence that the file is another site's.
fn other_date_order(
    errors: &[ValueError],
    col: &StringArray,
    field: usize,
    site: &SiteProfile,
) -> Vec<FieldError> {
    errors
        .iter()
        .filter(|e| e.code == ErrorCode::InvalidDate)
        .filter(|e| kernels::fits_only_the_other_order(col.value(e.row).trim(), site))
        .map(|e| FieldError {
            row: e.row,
            field,
            code: ErrorCode::DateOrder,
            message: format!(
                "{} is a date only read {}, not the {} site's way",
                kernels::quoted(col.value(e.row).trim()),
                site.other_way(),
                site.code
            ),
        })
        .collect()
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

use arrow_array::Array as _;

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Decimal128Array, Int64Array};
    use ebay_import_map::{LISTINGS, ORDERS};

    /// `rows` of `columns` (schema field names in canonical order) validated on `site`.
    fn validate<const N: usize>(
        schema: &ImportSchema,
        columns: [&str; N],
        rows: &[[&str; N]],
        site: &str,
    ) -> TypedBatch {
        let fields: Vec<usize> = columns.iter().map(|c| schema.field(c).unwrap()).collect();
        let batch = RecordBatch::try_from_iter(columns.iter().enumerate().map(|(c, name)| {
            let values: Vec<&str> = rows.iter().map(|r| r[c]).collect();
            (*name, Arc::new(StringArray::from(values)) as ArrayRef)
        }))
        .unwrap();
        validate_batch(schema, &fields, &batch, SiteProfile::by_code(site).unwrap())
    }

    fn errors_of(
        schema: &ImportSchema,
        typed: &TypedBatch,
    ) -> Vec<(usize, &'static str, ErrorCode)> {
        typed
            .errors
            .iter()
            .map(|e| (e.row, schema.fields[e.field].name, e.code))
            .collect()
    }

    #[test]
    fn an_amount_in_another_currency_than_its_row_is_invalid_money() {
        let columns = [
            "sold_for",
            "shipping_and_handling",
            "total_price",
            "currency",
        ];
        let typed = validate(
            &ORDERS,
            columns,
            &[
                ["£1.00", "1.00 GBP", "$2.00", "USD"],
                ["€28.00", "$3.00", "$34.00", ""],
                ["$1.00", "€1.00", "", ""],
                ["1.00", "2.00", "3.00", "EUR"],
                ["£1.00", "2.00", "£3.00", ""],
            ],
            "US",
        );
        assert_eq!(
            errors_of(&ORDERS, &typed),
            vec![
                // The currency column says USD.
                (0, "sold_for", ErrorCode::InvalidMoney),
                (0, "shipping_and_handling", ErrorCode::InvalidMoney),
                // Two amounts in USD outvote one in EUR.
                (1, "sold_for", ErrorCode::InvalidMoney),
                // A tie: the first named currency is the row's.
                (2, "shipping_and_handling", ErrorCode::InvalidMoney),
            ]
        );
        assert_eq!(
            typed.currency.iter().collect::<Vec<_>>(),
            ["USD", "USD", "USD", "EUR", "GBP"].map(Some)
        );
        let bare = validate(&ORDERS, columns, &[["1.00", "", "1.00", ""]], "UK");
        assert_eq!(bare.currency.value(0), "GBP");
        assert!(
            bare.named_currency.is_null(0),
            "the site's default is named by no value"
        );
        let message = &typed.errors[2].message;
        assert!(
            message.contains("\"€28.00\" is in EUR, but the row's other amounts are in USD"),
            "{message}"
        );
        assert!(typed.errors[0].message.contains("currency column says USD"));
        // A mixed amount is null, like every bad value.
        let sold = typed.column_of(ORDERS.field("sold_for").unwrap()).unwrap();
        let sold = sold.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(
            sold.iter().collect::<Vec<_>>(),
            vec![None, None, Some(100), Some(100), Some(100)]
        );
    }

    #[test]
    fn every_money_field_of_every_type_is_checked_against_its_row() {
        let typed = validate(
            &LISTINGS,
            [
                "item_number",
                "title",
                "currency",
                "start_price",
                "current_price",
            ],
            &[["123456789012", "Lamp", "USD", "£1.00", "1.00"]],
            "US",
        );
        assert_eq!(
            errors_of(&LISTINGS, &typed),
            vec![(0, "start_price", ErrorCode::InvalidMoney)]
        );
    }

    #[test]
    fn rejected_dates_that_fit_the_other_order_are_date_order_notes() {
        let columns = ["order_number", "sale_date", "commitment_date"];
        let rows = [
            ["1234567890", "03/04/2024", "15/03/2024"],
            ["1234567891", "25/12/2024 10:00", "31/02/2024"],
            ["1234567892", "2024-13-01", "12/25/2024"],
        ];
        let us = validate(&ORDERS, columns, &rows, "US");
        let notes: Vec<_> = us
            .notes
            .iter()
            .map(|n| (n.row, ORDERS.fields[n.field].name, n.code))
            .collect();
        // 31/02 is no date either way and 2024-13-01 is no slash date: no evidence.
        assert_eq!(
            notes,
            vec![
                (0, "commitment_date", ErrorCode::DateOrder),
                (1, "sale_date", ErrorCode::DateOrder),
            ]
        );
        let message = &us.errors[0].message;
        assert!(
            message.contains("and read day first it is 2024-03-15"),
            "{message}"
        );
        let uk = validate(&ORDERS, columns, &rows, "UK");
        let notes: Vec<_> = uk.notes.iter().map(|n| (n.row, n.code)).collect();
        assert_eq!(notes, vec![(2, ErrorCode::DateOrder)]);
    }

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
                "total_price" => vec![Some("12.34"), Some("$1,433.66"), Some("7")],
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
        // The currency column names a bare amount's currency, else the symbol, else the site.
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
