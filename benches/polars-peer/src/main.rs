//! `polars-peer FILE`: the benchmark peer of `ebay-import --dry-run`. Reads a generated eBay US
//! Orders report (`gen-orders`) with Polars and runs the equivalent checks:
//!
//! * framing: skips the leading bare-comma line (the header is line 2), keeps every column as
//!   String, and drops the padding row, the blank line and the two footer lines (rows whose
//!   `Sale Date` is null or empty); ragged rows are truncated instead of failing the read;
//! * the 15 money columns: `"$1,433.66"` → Decimal(18, 2) after stripping `$` and `,`;
//! * the 6 date columns: `%b-%d-%y` → Date (`Feb-30-24` fails);
//! * `Item Number` in scientific notation (`4.07197E+11`, a spreadsheet-mangled id);
//! * invalid rows: rows with any non-empty value that did not parse, or a mangled item number.
//!
//! The typed columns are materialised (collected), not only counted, so the work is not
//! optimised away. Prints one JSON line:
//! `{"rows": N, "seconds": S, "rows_per_second": R, ...}` (plus the split of the time and the
//! check counts).
//!
//! It does less than the engine's dry run (no text/e-mail/id/enum kernels, no order grouping,
//! keys or row hashes), so the ratio is favourable to Polars.

use polars::prelude::*;
use std::process::ExitCode;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MONEY: [&str; 15] = [
    "Sold For",
    "Shipping And Handling",
    "Seller Collected Tax",
    "eBay Collected Tax",
    "Electronic Waste Recycling Fee",
    "Mattress Recycling Fee",
    "Battery Recycling Fee",
    "White Goods Disposal Tax",
    "Tire Recycling Fee",
    "Additional Fee",
    "Lumber Fee",
    "Prepaid Wireless Fee",
    "Road Improvement And Food Delivery Fee",
    "eBay Collected Charges",
    "Total Price",
];

const DATES: [&str; 6] = [
    "Sale Date",
    "Paid On Date",
    "Ship By Date",
    "Minimum Estimated Delivery Date",
    "Maximum Estimated Delivery Date",
    "Shipped On Date",
];

const ITEM_NUMBER: &str = "Item Number";
const SCIENTIFIC: &str = r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$";

/// Non-null and not empty (after trimming nothing: the export never pads values).
fn present(name: &str) -> Expr {
    col(name).fill_null(lit("")).neq(lit(""))
}

fn typed(name: &str) -> String {
    format!("{name} (typed)")
}

fn count_true(df: &DataFrame, name: &str) -> PolarsResult<u64> {
    Ok(df.column(name)?.bool()?.sum().unwrap_or(0) as u64)
}

fn run(path: &str) -> PolarsResult<String> {
    let started = Instant::now();
    let df = CsvReadOptions::default()
        // Line 1 is the bare-comma line (with the BOM); the header is line 2.
        .with_skip_lines(1)
        .with_has_header(true)
        // No inference: every column is String, as the engine's first pass.
        .with_infer_schema_length(Some(0))
        .map_parse_options(|p| p.with_truncate_ragged_lines(true))
        .try_into_reader_with_file_path(Some(path.into()))?
        .finish()?;
    let read_seconds = started.elapsed().as_secs_f64();

    let mut casts: Vec<Expr> = Vec::new();
    let mut bad_money: Vec<Expr> = Vec::new();
    let mut bad_dates: Vec<Expr> = Vec::new();
    for m in MONEY {
        casts.push(
            col(m)
                .str()
                .replace_all(lit("$"), lit(""), true)
                .str()
                .replace_all(lit(","), lit(""), true)
                .cast(DataType::Decimal(18, 2))
                .alias(typed(m)),
        );
        bad_money.push(present(m).and(col(typed(m)).is_null()));
    }
    for d in DATES {
        casts.push(
            col(d)
                .str()
                .to_date(StrptimeOptions {
                    format: Some("%b-%d-%y".into()),
                    strict: false,
                    exact: true,
                    cache: true,
                })
                .alias(typed(d)),
        );
        bad_dates.push(present(d).and(col(typed(d)).is_null()));
    }
    let any = |exprs: Vec<Expr>| exprs.into_iter().reduce(|a, b| a.or(b)).expect("non-empty");
    let sum_of = |exprs: &[Expr]| {
        exprs
            .iter()
            .cloned()
            .map(|e| e.cast(DataType::UInt32))
            .reduce(|a, b| a + b)
            .expect("non-empty")
    };
    let scientific = col(ITEM_NUMBER)
        .str()
        .contains(lit(SCIENTIFIC), true)
        .fill_null(lit(false));
    let out = df
        .lazy()
        .filter(present("Sale Date"))
        .with_columns(casts)
        .with_columns([
            scientific.alias("__scientific"),
            sum_of(&bad_money).alias("__bad_money"),
            sum_of(&bad_dates).alias("__bad_dates"),
        ])
        .with_column(
            any(bad_money)
                .or(any(bad_dates))
                .or(col("__scientific"))
                .alias("__invalid"),
        )
        .collect()?;
    let seconds = started.elapsed().as_secs_f64();

    let rows = out.height() as u64;
    let sum_u32 = |name: &str| -> PolarsResult<u64> {
        Ok(out.column(name)?.u32()?.sum().unwrap_or(0) as u64)
    };
    Ok(format!(
        "{{\"rows\": {rows}, \"seconds\": {seconds:.3}, \"rows_per_second\": {rps:.0}, \
         \"read_seconds\": {read_seconds:.3}, \"check_seconds\": {check:.3}, \
         \"columns\": {columns}, \"invalid_rows\": {invalid}, \"scientific_notation\": {sci}, \
         \"bad_money_values\": {bad_money}, \"bad_date_values\": {bad_dates}, \
         \"polars\": \"0.55.2\"}}",
        rps = if seconds > 0.0 {
            rows as f64 / seconds
        } else {
            0.0
        },
        check = seconds - read_seconds,
        columns = out.width() - MONEY.len() - DATES.len() - 4,
        invalid = count_true(&out, "__invalid")?,
        sci = count_true(&out, "__scientific")?,
        bad_money = sum_u32("__bad_money")?,
        bad_dates = sum_u32("__bad_dates")?,
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: polars-peer FILE");
        return ExitCode::from(2);
    };
    match run(path) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("polars-peer: {path}: {e}");
            ExitCode::from(1)
        }
    }
}
