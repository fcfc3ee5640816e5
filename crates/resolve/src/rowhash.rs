//! A stable content hash of a stored row, and the canonical text of a typed value.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampSecondType};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use std::fmt::Write;
use xxhash_rust::xxh3::Xxh3;

/// Hashes the values of `row` in `columns` (XXH3-64, stable across releases). A null and an
/// empty string hash differently; each value is length-prefixed so columns cannot run together.
pub fn hash_row(columns: &[(&'static str, ArrayRef)], row: usize) -> u64 {
    let mut hasher = Xxh3::new();
    let mut text = String::new();
    for (_, col) in columns {
        if col.is_null(row) {
            hasher.update(&[0]);
            continue;
        }
        text.clear();
        value_text(col.as_ref(), row, &mut text);
        hasher.update(&[1]);
        hasher.update(&(text.len() as u32).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.digest()
}

/// Writes the canonical text of a non-null value: text as is, money `12.34`, dates
/// `2024-03-15`, date-times `2024-03-15 14:03:00`, booleans `true`/`false`.
pub fn value_text(col: &dyn Array, row: usize, out: &mut String) {
    match col.data_type() {
        DataType::Utf8 => out.push_str(col.as_string::<i32>().value(row)),
        DataType::Decimal128(_, scale) => {
            let v = col.as_primitive::<Decimal128Type>().value(row);
            write_decimal(v, *scale as u32, out);
        }
        DataType::Int64 => {
            let _ = write!(out, "{}", col.as_primitive::<Int64Type>().value(row));
        }
        DataType::Date32 => {
            let days = col.as_primitive::<Date32Type>().value(row);
            let _ = write!(out, "{}", date_from_days(days));
        }
        DataType::Timestamp(TimeUnit::Second, _) => {
            let secs = col.as_primitive::<TimestampSecondType>().value(row);
            let days = secs.div_euclid(86_400);
            let rem = secs.rem_euclid(86_400);
            let _ = write!(
                out,
                "{} {:02}:{:02}:{:02}",
                date_from_days(days as i32),
                rem / 3600,
                rem / 60 % 60,
                rem % 60
            );
        }
        DataType::Boolean => out.push_str(if col.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        other => {
            let _ = write!(out, "<{other}>");
        }
    }
}

fn write_decimal(v: i128, scale: u32, out: &mut String) {
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    let p = 10u128.pow(scale);
    if scale == 0 {
        let _ = write!(out, "{sign}{abs}");
    } else {
        let _ = write!(
            out,
            "{sign}{}.{:0width$}",
            abs / p,
            abs % p,
            width = scale as usize
        );
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn date_from_days(days: i32) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Date32Array, Decimal128Array, StringArray, TimestampSecondArray};
    use std::sync::Arc;

    fn text(a: &dyn Array) -> String {
        let mut s = String::new();
        value_text(a, 0, &mut s);
        s
    }

    #[test]
    fn canonical_texts() {
        let money = Decimal128Array::from(vec![-5])
            .with_precision_and_scale(18, 2)
            .unwrap();
        assert_eq!(text(&money), "-0.05");
        assert_eq!(text(&Date32Array::from(vec![19_797])), "2024-03-15");
        assert_eq!(text(&Date32Array::from(vec![-1])), "1969-12-31");
        assert_eq!(
            text(&TimestampSecondArray::from(vec![1_710_511_380])),
            "2024-03-15 14:03:00"
        );
    }

    #[test]
    fn null_and_empty_hash_differently() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![None, Some("")]));
        let cols = vec![("a", a)];
        assert_ne!(hash_row(&cols, 0), hash_row(&cols, 1));
    }
}
