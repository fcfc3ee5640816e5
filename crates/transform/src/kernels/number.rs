//! Whole numbers and booleans.

use super::{eq_fold, error, for_each_value, is_scientific, quoted};
use crate::ValueError;
use arrow_array::builder::{BooleanBuilder, Int64Builder};
use arrow_array::{Array, BooleanArray, Int64Array, StringArray};
use ebay_import_model::{ErrorCode, SiteProfile};

/// A whole number in `min..=max`: an optional `+` or `-` and ASCII digits only (no thousands
/// separators, decimals or exponents).
pub fn integer(col: &StringArray, min: i64, max: i64) -> (Int64Array, Vec<ValueError>) {
    let mut out = Int64Builder::with_capacity(col.len());
    let mut errors = Vec::new();
    for_each_value(col, |row, v| {
        let Some(v) = v else {
            out.append_null();
            return;
        };
        match parse_i64(v.as_bytes()) {
            Some(n) if (min..=max).contains(&n) => out.append_value(n),
            parsed => {
                out.append_null();
                let (code, message) = integer_error(v, parsed, min, max);
                errors.push(error(row, code, message));
            }
        }
    });
    (out.finish(), errors)
}

/// `None` if not `[+-]digits` or outside i64 (told apart by [`integer_error`]).
#[inline]
fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    let significant = &digits[zeros..];
    // 19 digits always fit a u64; more never fit an i64.
    if significant.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in significant {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u64;
    }
    if neg {
        (n <= i64::MIN.unsigned_abs()).then(|| (n as i64).wrapping_neg())
    } else {
        i64::try_from(n).ok()
    }
}

fn integer_error(v: &str, parsed: Option<i64>, min: i64, max: i64) -> (ErrorCode, String) {
    let q = quoted(v);
    let b = v.as_bytes();
    let digits = b
        .strip_prefix(b"-")
        .or_else(|| b.strip_prefix(b"+"))
        .unwrap_or(b);
    let range = format!("between {min} and {max}");
    match parsed {
        Some(n) if n < min => (
            ErrorCode::OutOfRange,
            format!("{q} is below the minimum {min}: use a whole number {range}"),
        ),
        Some(_) => (
            ErrorCode::OutOfRange,
            format!("{q} is above the maximum {max}: use a whole number {range}"),
        ),
        None if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => (
            ErrorCode::OutOfRange,
            format!("{q} is far outside the allowed range: use a whole number {range}"),
        ),
        None if is_scientific(digits) => (
            ErrorCode::InvalidNumber,
            format!(
                "{q} is in scientific notation: a spreadsheet (Excel) probably re-saved the \
                 file; write the plain whole number or re-download the original export"
            ),
        ),
        None => (
            ErrorCode::InvalidNumber,
            format!(
                "{q} is not a whole number: use digits only, with an optional leading minus and \
                 no decimals or thousands separators (e.g. 1000), {range}"
            ),
        ),
    }
}

const TRUE_WORDS: [&str; 4] = ["yes", "true", "1", "y"];
const FALSE_WORDS: [&str; 4] = ["no", "false", "0", "n"];

/// `yes/no`, `true/false`, `1/0`, `y/n` and the site's words (`ja/nein` on DE),
/// case-insensitive.
pub fn boolean(col: &StringArray, site: &SiteProfile) -> (BooleanArray, Vec<ValueError>) {
    let mut out = BooleanBuilder::with_capacity(col.len());
    let mut errors = Vec::new();
    for_each_value(col, |row, v| {
        let Some(v) = v else {
            out.append_null();
            return;
        };
        match parse_bool(v, site) {
            Some(b) => out.append_value(b),
            None => {
                out.append_null();
                let mut accepted = String::from("yes/no, true/false, 1/0 or y/n");
                for (t, f) in site.true_words.iter().zip(site.false_words) {
                    accepted.push_str(&format!(" (or {t}/{f} on the {} site)", site.code));
                }
                errors.push(error(
                    row,
                    ErrorCode::InvalidBoolean,
                    format!("{} is not a yes/no value: use {accepted}", quoted(v)),
                ));
            }
        }
    });
    (out.finish(), errors)
}

#[inline]
fn parse_bool(v: &str, site: &SiteProfile) -> Option<bool> {
    if TRUE_WORDS.iter().any(|w| v.eq_ignore_ascii_case(w)) {
        return Some(true);
    }
    if FALSE_WORDS.iter().any(|w| v.eq_ignore_ascii_case(w)) {
        return Some(false);
    }
    if site.true_words.iter().any(|w| eq_fold(v, w)) {
        return Some(true);
    }
    if site.false_words.iter().any(|w| eq_fold(v, w)) {
        return Some(false);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::*;
    use ErrorCode::*;

    fn ints(a: &Int64Array) -> Vec<Option<i64>> {
        a.iter().collect()
    }

    #[test]
    fn integers_in_range() {
        let (out, errs) = integer(
            &col(&[
                Some("1"),
                Some(" 42 "),
                Some("+7"),
                Some("007"),
                Some("1000000"),
                Some("0000000000000000000000005"),
                None,
                Some(""),
            ]),
            1,
            1_000_000,
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            ints(&out),
            vec![
                Some(1),
                Some(42),
                Some(7),
                Some(7),
                Some(1_000_000),
                Some(5),
                None,
                None
            ]
        );
        let (out, errs) = integer(&some(&["-5", "0", "-0"]), -10, 10);
        assert!(errs.is_empty());
        assert_eq!(ints(&out), vec![Some(-5), Some(0), Some(0)]);
        let (out, errs) = integer(
            &some(&["9223372036854775807", "-9223372036854775808"]),
            i64::MIN,
            i64::MAX,
        );
        assert!(errs.is_empty());
        assert_eq!(ints(&out), vec![Some(i64::MAX), Some(i64::MIN)]);
    }

    #[test]
    fn out_of_range() {
        let (out, errs) = integer(
            &some(&[
                "0",
                "1000001",
                "-3",
                "9223372036854775808",
                "99999999999999999999999999",
            ]),
            1,
            1_000_000,
        );
        assert_eq!(out.null_count(), 5);
        assert_eq!(
            codes(&errs),
            vec![
                (0, OutOfRange),
                (1, OutOfRange),
                (2, OutOfRange),
                (3, OutOfRange),
                (4, OutOfRange)
            ]
        );
        assert_error(
            &errs,
            0,
            OutOfRange,
            &["\"0\" is below the minimum 1", "between 1 and 1000000"],
        );
        assert_error(
            &errs,
            1,
            OutOfRange,
            &["\"1000001\" is above the maximum 1000000"],
        );
        assert_error(
            &errs,
            3,
            OutOfRange,
            &["\"9223372036854775808\"", "outside"],
        );
    }

    #[test]
    fn not_whole_numbers() {
        let values = [
            "2.0", "1,000", "abc", "1 000", "-", "+", "--1", "1-", "0x10", "½", "1e3", "2.5E+3",
        ];
        let (out, errs) = integer(&some(&values), 0, 1_000_000);
        assert_eq!(out.null_count(), values.len());
        assert_eq!(errs.len(), values.len());
        assert!(errs.iter().all(|e| e.code == InvalidNumber), "{errs:?}");
        assert_error(
            &errs,
            0,
            InvalidNumber,
            &["\"2.0\" is not a whole number", "digits only"],
        );
        assert_error(
            &errs,
            10,
            InvalidNumber,
            &["scientific notation", "spreadsheet"],
        );
        assert_error(&errs, 11, InvalidNumber, &["scientific notation"]);
    }

    fn bools(a: &BooleanArray) -> Vec<Option<bool>> {
        a.iter().collect()
    }

    #[test]
    fn booleans_english() {
        let site = SiteProfile::us();
        let (out, errs) = boolean(
            &col(&[
                Some("Yes"),
                Some("no"),
                Some("TRUE"),
                Some("false"),
                Some("1"),
                Some("0"),
                Some(" y "),
                Some("N"),
                None,
                Some(""),
            ]),
            site,
        );
        assert!(errs.is_empty());
        assert_eq!(
            bools(&out),
            vec![
                Some(true),
                Some(false),
                Some(true),
                Some(false),
                Some(true),
                Some(false),
                Some(true),
                Some(false),
                None,
                None
            ]
        );
    }

    #[test]
    fn booleans_site_words() {
        let de = SiteProfile::by_code("DE").unwrap();
        let (out, errs) = boolean(&some(&["Ja", "NEIN", "yes"]), de);
        assert!(errs.is_empty());
        assert_eq!(bools(&out), vec![Some(true), Some(false), Some(true)]);
        let it = SiteProfile::by_code("IT").unwrap();
        let (out, errs) = boolean(&some(&["Sì", "SÌ", "si", "No"]), it);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            bools(&out),
            vec![Some(true), Some(true), Some(true), Some(false)]
        );
        // Site words are not accepted on other sites.
        let (_, errs) = boolean(&some(&["ja"]), SiteProfile::us());
        assert_eq!(codes(&errs), vec![(0, InvalidBoolean)]);
    }

    #[test]
    fn invalid_booleans() {
        let de = SiteProfile::by_code("DE").unwrap();
        let (out, errs) = boolean(&some(&["maybe", "2", "yess", "oui"]), de);
        assert_eq!(out.null_count(), 4);
        assert_eq!(
            codes(&errs),
            vec![
                (0, InvalidBoolean),
                (1, InvalidBoolean),
                (2, InvalidBoolean),
                (3, InvalidBoolean)
            ]
        );
        assert_error(
            &errs,
            0,
            InvalidBoolean,
            &[
                "\"maybe\" is not a yes/no value",
                "true/false",
                "ja/nein on the DE site",
            ],
        );
    }
}
