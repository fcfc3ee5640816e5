//! One kernel per field type. Each takes a whole Arrow string column and returns the typed
//! column plus the bad values. Common rules: values are trimmed of surrounding white space;
//! a null or empty (after trim) input is a null output and no error (whether a value is
//! required is decided by the row model, not here); a bad value is a null output plus one
//! `ValueError` naming the row, a code and a message that says what to do.
//!
//! The kernels are hand-written byte parsers: no regular expressions, no per-value
//! allocation on the happy path (strings are copied straight into the output builders), and
//! messages are only formatted for bad values. Messages quote the value, cut to
//! [`QUOTE_CHARS`] characters.

mod date;
mod id;
mod money;
mod number;
mod text;

pub use date::{date, datetime, fits_only_the_other_order};
pub use id::id;
pub use money::{money, row_currencies, without_rows, NamedAmounts};
pub use number::{boolean, integer};
pub use text::{currency, email, enumeration, text};

use crate::ValueError;
use arrow_array::builder::{BooleanBufferBuilder, StringBuilder};
use arrow_array::{Array, StringArray};
use arrow_buffer::NullBuffer;
use ebay_import_model::ErrorCode;

/// How many characters of a bad value a message quotes.
pub const QUOTE_CHARS: usize = 50;

/// Trims surrounding white space (Unicode, so a non-breaking space too), with a fast path
/// for the common value that starts and ends with a visible ASCII character.
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&f), Some(&l)) if (0x21..0x80).contains(&f) && (0x21..0x80).contains(&l) => s,
        _ => s.trim(),
    }
}

/// Calls `f(row, value)` for every row: `None` for a null or empty-after-trim input, else the
/// trimmed value.
#[inline]
pub(crate) fn for_each_value<'a>(col: &'a StringArray, mut f: impl FnMut(usize, Option<&'a str>)) {
    if col.null_count() == 0 {
        for row in 0..col.len() {
            let v = trim(col.value(row));
            f(row, (!v.is_empty()).then_some(v));
        }
    } else {
        for (row, v) in col.iter().enumerate() {
            f(row, v.map(trim).filter(|v| !v.is_empty()));
        }
    }
}

/// Runs `check` over every non-blank trimmed value. The output holds the trimmed values, null
/// for blanks and bad values. When no value needed trimming (the common case) it shares the
/// input's buffers and only gets a new validity bitmap: no string is copied.
pub(crate) fn check_strings(
    col: &StringArray,
    check: impl Fn(&str) -> Result<(), (ErrorCode, String)>,
) -> (StringArray, Vec<ValueError>) {
    check_values(col, |_| false, check)
}

/// [`check_strings`] where a trimmed value for which `no_value` holds (a placeholder such as
/// `Does not apply`) is null, like a blank.
pub(crate) fn check_values(
    col: &StringArray,
    no_value: impl Fn(&str) -> bool,
    check: impl Fn(&str) -> Result<(), (ErrorCode, String)>,
) -> (StringArray, Vec<ValueError>) {
    let mut errors = Vec::new();
    let mut valid = BooleanBufferBuilder::new(col.len());
    let mut trimmed = false;
    for row in 0..col.len() {
        if col.is_null(row) {
            valid.append(false);
            continue;
        }
        let raw = col.value(row);
        let v = trim(raw);
        trimmed |= v.len() != raw.len() && !v.is_empty();
        if v.is_empty() || no_value(v) {
            valid.append(false);
            continue;
        }
        match check(v) {
            Ok(()) => valid.append(true),
            Err((code, message)) => {
                valid.append(false);
                errors.push(error(row, code, message));
            }
        }
    }
    let nulls = NullBuffer::new(valid.finish());
    if !trimmed {
        let out = StringArray::new(col.offsets().clone(), col.values().clone(), Some(nulls));
        return (out, errors);
    }
    let mut out = StringBuilder::with_capacity(col.len(), data_len(col));
    for row in 0..col.len() {
        if nulls.is_valid(row) {
            out.append_value(trim(col.value(row)));
        } else {
            out.append_null();
        }
    }
    (out.finish(), errors)
}

/// Bytes of string data in `col` (exact for sliced arrays too): the capacity an output of
/// trimmed values needs at most.
pub(crate) fn data_len(col: &StringArray) -> usize {
    let offsets = col.value_offsets();
    (offsets[offsets.len() - 1] - offsets[0]) as usize
}

/// The value, cut to [`QUOTE_CHARS`] characters, in double quotes with control characters
/// and quotes escaped.
pub(crate) fn quoted(value: &str) -> String {
    ebay_import_model::quoted(value, QUOTE_CHARS)
}

pub(crate) fn error(row: usize, code: ErrorCode, message: String) -> ValueError {
    ValueError { row, code, message }
}

/// Compares `input` with a lower-case `lower` case-insensitively, UTF-8 aware (`MÄR` equals
/// `mär`), without allocating.
#[inline]
pub(crate) fn eq_fold(input: &str, lower: &str) -> bool {
    if input.len() == lower.len() && input.eq_ignore_ascii_case(lower) {
        return true;
    }
    !input.is_ascii() && input.chars().flat_map(char::to_lowercase).eq(lower.chars())
}

/// Spreadsheet scientific notation (`4.07197E+11`, `1.2E5`): digits, optional `.digits`,
/// `E`/`e`, optional sign, digits.
pub(crate) fn is_scientific(b: &[u8]) -> bool {
    let digits = |i: usize| {
        b[i.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut i = digits(0);
    if i == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    if !matches!(b.get(i), Some(b'E' | b'e')) {
        return false;
    }
    i += 1;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let n = digits(i);
    n > 0 && i + n == b.len()
}

/// Byte length of a non-breaking space (U+00A0) or narrow non-breaking space (U+202F) at
/// `i`, as French amounts use them to group thousands.
#[inline]
pub(crate) fn nbsp_len(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i..) {
        Some([0xC2, 0xA0, ..]) => Some(2),
        Some([0xE2, 0x80, 0xAF, ..]) => Some(3),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::ValueError;
    use arrow_array::StringArray;
    use ebay_import_model::ErrorCode;

    pub fn col(values: &[Option<&str>]) -> StringArray {
        StringArray::from(values.to_vec())
    }

    pub fn some(values: &[&str]) -> StringArray {
        StringArray::from(values.to_vec())
    }

    /// The codes of `errors` by row, for compact assertions.
    pub fn codes(errors: &[ValueError]) -> Vec<(usize, ErrorCode)> {
        errors.iter().map(|e| (e.row, e.code)).collect()
    }

    /// Asserts one error for `row` with `code` whose message contains every needle.
    #[track_caller]
    pub fn assert_error(errors: &[ValueError], row: usize, code: ErrorCode, needles: &[&str]) {
        let e = errors
            .iter()
            .find(|e| e.row == row)
            .unwrap_or_else(|| panic!("no error for row {row}: {errors:?}"));
        assert_eq!(e.code, code, "{e:?}");
        for n in needles {
            assert!(e.message.contains(n), "message {:?} lacks {n:?}", e.message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_handles_ascii_unicode_and_empty() {
        assert_eq!(trim("abc"), "abc");
        assert_eq!(trim("  abc\t"), "abc");
        assert_eq!(trim("\u{a0}abc\u{a0}"), "abc");
        assert_eq!(trim("   "), "");
        assert_eq!(trim(""), "");
        assert_eq!(trim("ä"), "ä");
    }

    #[test]
    fn for_each_value_maps_nulls_and_blanks_to_none() {
        let col = StringArray::from(vec![Some(" a "), None, Some("  "), Some("")]);
        let mut seen = Vec::new();
        for_each_value(&col, |row, v| seen.push((row, v)));
        assert_eq!(seen, vec![(0, Some("a")), (1, None), (2, None), (3, None)]);
        let sliced = col.slice(1, 2);
        let mut seen = Vec::new();
        for_each_value(&sliced, |row, v| seen.push((row, v)));
        assert_eq!(seen, vec![(0, None), (1, None)]);
        let no_nulls = StringArray::from(vec![" x", ""]);
        let mut seen = Vec::new();
        for_each_value(&no_nulls, |row, v| seen.push((row, v)));
        assert_eq!(seen, vec![(0, Some("x")), (1, None)]);
    }

    #[test]
    fn data_len_is_exact_for_slices() {
        let col = StringArray::from(vec!["ab", "cde", "f"]);
        assert_eq!(data_len(&col), 6);
        assert_eq!(data_len(&col.slice(1, 1)), 3);
    }

    #[test]
    fn quoted_escapes_and_truncates() {
        assert_eq!(quoted("a\"b"), "\"a\\\"b\"");
        assert_eq!(quoted("a\u{0}b"), "\"a\\0b\"");
        let long = "x".repeat(80);
        let q = quoted(&long);
        assert_eq!(q.chars().count(), QUOTE_CHARS + 3);
        assert!(q.ends_with("…\""));
    }

    #[test]
    fn eq_fold_is_utf8_aware() {
        assert!(eq_fold("MAR", "mar"));
        assert!(eq_fold("Mär", "mär"));
        assert!(eq_fold("MÄR", "mär"));
        assert!(eq_fold("Sì", "sì"));
        assert!(!eq_fold("Mar", "mär"));
        assert!(!eq_fold("Mä", "mär"));
    }

    #[test]
    fn scientific_notation_shapes() {
        for s in ["4.07197E+11", "9.43461e+21", "1.2E5", "1E5", "12E-3"] {
            assert!(is_scientific(s.as_bytes()), "{s}");
        }
        for s in [
            "E5",
            "1.E5",
            "1.2E",
            "1.2E+",
            "12345",
            "1.2E5x",
            "1-2E5",
            ".5E3",
            "12-34567-89012",
        ] {
            assert!(!is_scientific(s.as_bytes()), "{s}");
        }
    }
}
