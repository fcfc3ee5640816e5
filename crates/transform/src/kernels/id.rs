//! Identifiers: kept as text, checked against their pattern, never coerced to numbers.

use super::{check_strings, check_values, eq_fold, is_scientific, quoted};
use crate::ValueError;
use arrow_array::StringArray;
use ebay_import_map::IdKind;
use ebay_import_model::ErrorCode;

/// Longest accepted [`IdKind::Token`], in characters.
const MAX_TOKEN_CHARS: usize = 64;

/// The trimmed identifier. Every kind first rejects spreadsheet scientific notation
/// (`4.07197E+11`), then checks its pattern:
/// - `OrderNumber`: `NN-NNNNN-NNNNN`, legacy `ItemID-TransactionID` (9–15 digits, `-`,
///   1–19 digits) or 10–19 digits;
/// - `ItemNumber`: 9–15 digits;
/// - `Digits { min, max }`: `min..=max` ASCII digits;
/// - `Token`: at most 64 characters, no white space or control characters.
/// - `Gtin`: UPC-A, EAN-8 or EAN-13 with a valid check digit;
/// - `Isbn`: ISBN-10 or ISBN-13 with a valid check digit, hyphens and spaces allowed.
///
/// For the product codes, eBay's placeholder `Does not apply` (and `N/A`) is no value.
pub fn id(col: &StringArray, kind: IdKind) -> (StringArray, Vec<ValueError>) {
    match kind {
        IdKind::Gtin | IdKind::Isbn => {
            check_values(col, is_placeholder, |v| check_product_code(v, kind))
        }
        _ => check_strings(col, |v| check_id(v, kind)),
    }
}

fn is_placeholder(v: &str) -> bool {
    eq_fold(v, "does not apply") || eq_fold(v, "n/a") || eq_fold(v, "nicht zutreffend")
}

fn check_product_code(v: &str, kind: IdKind) -> Result<(), (ErrorCode, String)> {
    let b = v.as_bytes();
    if is_scientific(b) {
        return check_id(v, IdKind::Digits { min: 1, max: 1 });
    }
    let (ok, what) = match kind {
        IdKind::Gtin => (
            matches!(b.len(), 8 | 12 | 13) && b.iter().all(u8::is_ascii_digit) && gtin_ok(b),
            "a UPC (12 digits) or EAN (8 or 13 digits)",
        ),
        _ => {
            let d: Vec<u8> = b
                .iter()
                .copied()
                .filter(|c| !matches!(c, b'-' | b' '))
                .collect();
            (isbn_ok(&d), "an ISBN-10 or ISBN-13")
        }
    };
    if ok {
        return Ok(());
    }
    let digits = b
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b' ' | b'X' | b'x'));
    let why = if digits {
        "its check digit (the last one) does not match the others: a digit is mistyped"
    } else {
        "it must be digits only"
    };
    Err((
        ErrorCode::InvalidFormat,
        format!(
            "{} is not {what}: {why}; copy the code from the product again",
            quoted(v)
        ),
    ))
}

/// GS1 check digit: weights 3 and 1 alternate from the right, the check digit excluded.
fn gtin_ok(b: &[u8]) -> bool {
    let (body, check) = b.split_at(b.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| u32::from(c - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
}

fn isbn_ok(d: &[u8]) -> bool {
    match d.len() {
        13 => {
            d.iter().all(u8::is_ascii_digit)
                && (d.starts_with(b"978") || d.starts_with(b"979"))
                && gtin_ok(d)
        }
        10 => {
            // The body is checked before its digits are summed: a byte below `0` would
            // underflow.
            if !d[..9].iter().all(u8::is_ascii_digit) {
                return false;
            }
            let last = match d[9] {
                c @ b'0'..=b'9' => u32::from(c - b'0'),
                b'X' | b'x' => 10,
                _ => return false,
            };
            let sum: u32 = d[..9]
                .iter()
                .enumerate()
                .map(|(i, c)| u32::from(c - b'0') * (10 - i as u32))
                .sum::<u32>()
                + last;
            sum.is_multiple_of(11)
        }
        _ => false,
    }
}

fn check_id(v: &str, kind: IdKind) -> Result<(), (ErrorCode, String)> {
    let b = v.as_bytes();
    let ok = match kind {
        IdKind::OrderNumber => is_order_number(b),
        IdKind::ItemNumber => digits_between(b, 9, 15),
        IdKind::Digits { min, max } => digits_between(b, min as usize, max as usize),
        IdKind::Token => is_token(v) && !is_scientific(b),
        IdKind::Gtin | IdKind::Isbn => return check_product_code(v, kind),
    };
    if ok {
        return Ok(());
    }
    // Scientific notation is checked first for every kind: the digit patterns cannot match
    // it and a token is rejected above when it looks like it, so testing it only here, once a
    // value failed, costs the happy path of the digit kinds nothing.
    if is_scientific(b) {
        return Err((
            ErrorCode::ScientificNotation,
            format!(
                "{} looks like a number in scientific notation: a spreadsheet (Excel) probably \
                 re-saved the file and turned the id into a number, losing digits; re-download \
                 the original export and import it without opening it in a spreadsheet",
                quoted(v)
            ),
        ));
    }
    let message = match kind {
        IdKind::OrderNumber => format!(
            "{} is not an eBay order number: use the form 12-34567-89012, the older \
             ItemID-TransactionID form (150370031260-381063459005) or 10 to 19 digits",
            quoted(v)
        ),
        IdKind::ItemNumber => format!(
            "{} is not an eBay item number: use the 9 to 15 digit number (150370031260)",
            quoted(v)
        ),
        IdKind::Digits { min, max } if min == max => format!(
            "{} is not a valid number: use exactly {min} digits (0-9), nothing else",
            quoted(v)
        ),
        IdKind::Digits { min, max } => format!(
            "{} is not a valid number: use {min} to {max} digits (0-9), nothing else",
            quoted(v)
        ),
        IdKind::Gtin | IdKind::Isbn => unreachable!("checked above"),
        IdKind::Token => format!(
            "{} is not a valid identifier: use at most {MAX_TOKEN_CHARS} characters without \
             spaces or control characters",
            quoted(v)
        ),
    };
    Err((ErrorCode::InvalidFormat, message))
}

#[inline]
fn digits_between(b: &[u8], min: usize, max: usize) -> bool {
    (min..=max).contains(&b.len()) && b.iter().all(u8::is_ascii_digit)
}

fn is_order_number(b: &[u8]) -> bool {
    let mut parts = b.split(|&c| c == b'-');
    let (first, second, third, rest) = (parts.next(), parts.next(), parts.next(), parts.next());
    if rest.is_some() {
        return false;
    }
    match (first, second, third) {
        (Some(a), None, None) => digits_between(a, 10, 19),
        (Some(a), Some(b), None) => digits_between(a, 9, 15) && digits_between(b, 1, 19),
        (Some(a), Some(b), Some(c)) => {
            digits_between(a, 2, 2) && digits_between(b, 5, 5) && digits_between(c, 5, 5)
        }
        _ => false,
    }
}

fn is_token(v: &str) -> bool {
    if v.is_ascii() {
        v.len() <= MAX_TOKEN_CHARS && v.bytes().all(|c| c > b' ' && c != 0x7f)
    } else {
        v.chars().count() <= MAX_TOKEN_CHARS
            && v.chars().all(|c| !c.is_whitespace() && !c.is_control())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::*;
    use arrow_array::Array;
    use ErrorCode::*;

    fn run(kind: IdKind, values: &[&str]) -> (Vec<Option<String>>, Vec<ValueError>) {
        let (out, errs) = id(&some(values), kind);
        assert_eq!(out.len(), values.len());
        (out.iter().map(|v| v.map(str::to_string)).collect(), errs)
    }

    #[test]
    fn nulls_and_blanks_are_null_without_errors() {
        for kind in [
            IdKind::OrderNumber,
            IdKind::ItemNumber,
            IdKind::Digits { min: 1, max: 12 },
            IdKind::Token,
        ] {
            let (out, errs) = id(&col(&[None, Some(""), Some("  \t")]), kind);
            assert_eq!(out.null_count(), 3);
            assert!(errs.is_empty());
        }
    }

    #[test]
    fn product_codes_need_a_valid_check_digit() {
        let (out, errs) = run(
            IdKind::Gtin,
            &[
                "012345678905",
                "4006381333931",
                "96385074",
                "Does not apply",
                "012345678906",
                "40063813339",
                "0123-4567",
                "1.23457E+11",
            ],
        );
        assert_eq!(
            out[..4],
            [t("012345678905"), t("4006381333931"), t("96385074"), None]
        );
        assert_eq!(
            codes(&errs),
            vec![
                (4, InvalidFormat),
                (5, InvalidFormat),
                (6, InvalidFormat),
                (7, ScientificNotation)
            ]
        );
        assert!(
            errs[0].message.contains("check digit"),
            "{}",
            errs[0].message
        );
        let (out, errs) = run(
            IdKind::Isbn,
            &[
                "978-0-306-40615-7",
                "0-306-40615-2",
                "080442957X",
                "n/a",
                "0-306-40615-3",
                "1234567890128",
            ],
        );
        assert_eq!(
            out[..4],
            [
                t("978-0-306-40615-7"),
                t("0-306-40615-2"),
                t("080442957X"),
                None
            ]
        );
        assert_eq!(codes(&errs), vec![(4, InvalidFormat), (5, InvalidFormat)]);
    }

    #[test]
    fn isbn_10_bodies_that_are_not_digits_are_rejected_not_summed() {
        // Bytes below `0` (`!`, a space left after the hyphens are removed) underflowed.
        let (out, errs) = run(IdKind::Isbn, &["!!!!!!!!!0", "0-306-4061!-2", "ABCDEFGHIX"]);
        assert!(out.iter().all(Option::is_none));
        assert_eq!(
            codes(&errs),
            vec![(0, InvalidFormat), (1, InvalidFormat), (2, InvalidFormat)]
        );
    }

    fn t(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn order_number_forms() {
        let ok = [
            "12-34567-89012",
            " 04-11111-22222 ",
            "150370031260-381063459005",
            "110123456789-0",
            "123456789-1234567890123456789",
            "1234567890",
            "1234567890123456789",
        ];
        let (out, errs) = run(IdKind::OrderNumber, &ok);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(out[1].as_deref(), Some("04-11111-22222"));
        assert_eq!(out[2].as_deref(), Some("150370031260-381063459005"));
    }

    #[test]
    fn order_number_rejections() {
        let bad = [
            "1-34567-89012",
            "12-3456-89012",
            "12-34567-8901",
            "12-34567-890123",
            "12-34567-89012-1",
            "12345678-1",
            "1234567890123456-1",
            "110123456789-",
            "110123456789-12345678901234567890",
            "123456789",
            "12345678901234567890",
            "12 34567 89012",
            "abc",
            "-1234567890",
        ];
        let (out, errs) = run(IdKind::OrderNumber, &bad);
        assert!(out.iter().all(Option::is_none));
        assert_eq!(errs.len(), bad.len());
        for (i, e) in errs.iter().enumerate() {
            assert_eq!((e.row, e.code), (i, InvalidFormat), "{e:?}");
        }
        assert_error(
            &errs,
            0,
            InvalidFormat,
            &[
                "\"1-34567-89012\"",
                "12-34567-89012",
                "ItemID-TransactionID",
                "10 to 19 digits",
            ],
        );
    }

    #[test]
    fn scientific_notation_is_reported_for_every_kind() {
        for kind in [
            IdKind::OrderNumber,
            IdKind::ItemNumber,
            IdKind::Digits { min: 1, max: 19 },
            IdKind::Token,
        ] {
            let (out, errs) = run(kind, &["4.07197E+11", "9.43461e+21", "1.2E5"]);
            assert!(out.iter().all(Option::is_none));
            assert_eq!(
                codes(&errs),
                vec![
                    (0, ScientificNotation),
                    (1, ScientificNotation),
                    (2, ScientificNotation)
                ]
            );
            assert_error(
                &errs,
                0,
                ScientificNotation,
                &[
                    "\"4.07197E+11\"",
                    "spreadsheet",
                    "Excel",
                    "re-download the original export",
                ],
            );
        }
    }

    #[test]
    fn item_number_is_9_to_15_digits() {
        let (out, errs) = run(
            IdKind::ItemNumber,
            &[
                "123456789",
                "150370031260",
                "123456789012345",
                "12345678",
                "1234567890123456",
                "15037003126O",
            ],
        );
        assert_eq!(out[1].as_deref(), Some("150370031260"));
        assert_eq!(
            codes(&errs),
            vec![(3, InvalidFormat), (4, InvalidFormat), (5, InvalidFormat)]
        );
        assert_error(&errs, 3, InvalidFormat, &["item number", "9 to 15 digit"]);
    }

    #[test]
    fn digits_respect_min_and_max_and_keep_leading_zeros() {
        let (out, errs) = run(
            IdKind::Digits { min: 1, max: 4 },
            &["0", "0042", "12345", "12a", "-1", "+1", "1.0"],
        );
        assert_eq!(out[0].as_deref(), Some("0"));
        assert_eq!(out[1].as_deref(), Some("0042"));
        assert_eq!(
            codes(&errs),
            vec![
                (2, InvalidFormat),
                (3, InvalidFormat),
                (4, InvalidFormat),
                (5, InvalidFormat),
                (6, InvalidFormat)
            ]
        );
        assert_error(&errs, 2, InvalidFormat, &["1 to 4 digits"]);
        let (_, errs) = run(IdKind::Digits { min: 5, max: 5 }, &["1234"]);
        assert_error(&errs, 0, InvalidFormat, &["exactly 5 digits"]);
    }

    #[test]
    fn tokens() {
        let max = "x".repeat(64);
        let too_long = "x".repeat(65);
        let max_unicode = "ä".repeat(64);
        let (out, errs) = run(
            IdKind::Token,
            &[
                "1Z999AA10123456784",
                " 9400111899223344556677 ",
                &max,
                &max_unicode,
                "LX123456789DE",
                &too_long,
                "1Z 999",
                "ab\u{0}c",
                "ab\u{a0}c",
                "ab\u{85}c",
            ],
        );
        assert_eq!(out[1].as_deref(), Some("9400111899223344556677"));
        assert!(out[..5].iter().all(Option::is_some));
        assert_eq!(
            codes(&errs),
            vec![
                (5, InvalidFormat),
                (6, InvalidFormat),
                (7, InvalidFormat),
                (8, InvalidFormat),
                (9, InvalidFormat)
            ]
        );
        assert_error(
            &errs,
            6,
            InvalidFormat,
            &["at most 64 characters", "spaces"],
        );
    }
}
