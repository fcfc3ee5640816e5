//! String kernels: free text, email addresses, closed enumerations and currency codes.

use super::{check_strings, error, for_each_value, money, quoted};
use crate::ValueError;
use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use ebay_import_map::EnumDef;
use ebay_import_model::ErrorCode;

/// Free text: the trimmed value, at most `max_chars` characters (Unicode scalar values), with
/// no control character other than tab, line feed and carriage return.
pub fn text(col: &StringArray, max_chars: u32) -> (StringArray, Vec<ValueError>) {
    let offsets = col.value_offsets();
    let bytes = &col.values()[offsets[0] as usize..offsets[offsets.len() - 1] as usize];
    // One pass over the column's bytes (vectorised, no early exit) usually shows there is no
    // control character anywhere.
    let any_control = bytes
        .chunks(256)
        .any(|c| c.iter().fold(false, |acc, &b| acc | is_control(b)));
    if !any_control {
        if let Some(nulls) = plain_validity(col, max_chars) {
            let out = StringArray::new(col.offsets().clone(), col.values().clone(), Some(nulls));
            return (out, Vec::new());
        }
        return check_strings(col, |v| check_length(v, max_chars));
    }
    check_strings(col, |v| check_text(v, max_chars))
}

/// The common column: no nulls, and no value that needs trimming or could be too long (its
/// bytes, an upper bound of its characters, are within the limit). Then the output is the
/// input with empty values made null, and there is nothing to check per value.
fn plain_validity(col: &StringArray, max_chars: u32) -> Option<NullBuffer> {
    if col.null_count() > 0 {
        return None;
    }
    let offsets = col.value_offsets();
    let bytes = col.values().as_slice();
    let visible = |b: u8| (0x21..0x80).contains(&b);
    let plain = offsets.windows(2).all(|w| {
        let (s, e) = (w[0] as usize, w[1] as usize);
        s == e || (e - s <= max_chars as usize && visible(bytes[s]) && visible(bytes[e - 1]))
    });
    plain.then(|| {
        NullBuffer::new(BooleanBuffer::collect_bool(col.len(), |i| {
            offsets[i + 1] > offsets[i]
        }))
    })
}

#[inline]
fn is_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

fn check_text(v: &str, max_chars: u32) -> Result<(), (ErrorCode, String)> {
    // Control characters are ASCII, so a byte scan finds them in any UTF-8 text.
    if let Some(pos) = v.bytes().position(is_control) {
        let at = v[..pos].chars().count() + 1;
        return Err((
            ErrorCode::ControlCharacters,
            format!(
                "{} contains a control character ({}) at char {at}: remove it",
                quoted(v),
                control_name(v.as_bytes()[pos])
            ),
        ));
    }
    check_length(v, max_chars)
}

fn check_length(v: &str, max_chars: u32) -> Result<(), (ErrorCode, String)> {
    // A string has at most as many characters as bytes: only count when it could be long.
    if v.len() > max_chars as usize {
        let chars = v.chars().count();
        if chars > max_chars as usize {
            return Err((
                ErrorCode::TooLong,
                format!(
                    "{} is {chars} characters long; this column holds at most {max_chars}: \
                     shorten it",
                    quoted(v)
                ),
            ));
        }
    }
    Ok(())
}

/// `NUL, U+0000`: the ASCII name and code point of a control byte.
pub(crate) fn control_name(b: u8) -> String {
    const NAMES: [&str; 32] = [
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT", "FF",
        "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM",
        "SUB", "ESC", "FS", "GS", "RS", "US",
    ];
    let name = NAMES.get(b as usize).copied().unwrap_or("DEL");
    format!("{name}, U+{b:04X}")
}

const MAX_EMAIL_CHARS: usize = 254;

/// An email address: one `@`, a non-empty local part, a domain with a dot (not at either
/// end, no empty label), no white space or control characters, at most 254 characters.
/// Masked addresses (`t***@gmail.com`, `abc@members.ebay.com`) pass.
pub fn email(col: &StringArray) -> (StringArray, Vec<ValueError>) {
    check_strings(col, |v| {
        check_email(v).map_err(|why| {
            (
                ErrorCode::InvalidEmail,
                format!(
                    "{} is not a valid email address: {why}; correct it (name@example.com) \
                     or leave the cell empty",
                    quoted(v)
                ),
            )
        })
    })
}

fn check_email(v: &str) -> Result<(), &'static str> {
    let b = v.as_bytes();
    if b.len() > MAX_EMAIL_CHARS && v.chars().count() > MAX_EMAIL_CHARS {
        return Err("it is longer than 254 characters");
    }
    let bad_char = if v.is_ascii() {
        b.iter().any(|&c| c <= b' ' || c == 0x7f)
    } else {
        v.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if bad_char {
        return Err("it contains a space or a control character");
    }
    let mut ats = b
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == b'@')
        .map(|(i, _)| i);
    let at = match (ats.next(), ats.next()) {
        (Some(at), None) => at,
        (None, _) => return Err("it has no @"),
        (Some(_), Some(_)) => return Err("it has more than one @"),
    };
    if at == 0 {
        return Err("it has nothing before the @");
    }
    let domain = &v[at + 1..];
    if domain.is_empty() {
        return Err("it has no domain after the @");
    }
    if !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err("the domain after the @ is not a name like example.com");
    }
    Ok(())
}

/// A closed set of values: the canonical value of an accepted spelling (case-insensitive).
pub fn enumeration(col: &StringArray, def: &EnumDef) -> (StringArray, Vec<ValueError>) {
    let longest = def.values.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    let mut out = StringBuilder::with_capacity(col.len(), col.len() * longest);
    let mut errors = Vec::new();
    let mut accepted: Option<String> = None;
    for_each_value(col, |row, v| match v {
        None => out.append_null(),
        Some(v) => match def.canonical(v) {
            Some(canonical) => out.append_value(canonical),
            None => {
                out.append_null();
                let accepted = accepted.get_or_insert_with(|| accepted_spellings(def));
                errors.push(error(
                    row,
                    ErrorCode::InvalidEnum,
                    format!(
                        "{} is not a valid {}: use one of {accepted}",
                        quoted(v),
                        def.name
                    ),
                ));
            }
        },
    });
    (out.finish(), errors)
}

/// The distinct spellings of `def`, in declaration order, comma separated.
fn accepted_spellings(def: &EnumDef) -> String {
    let mut seen: Vec<&str> = Vec::with_capacity(def.values.len());
    for (spelling, _) in def.values {
        if !seen.iter().any(|s| s.eq_ignore_ascii_case(spelling)) {
            seen.push(spelling);
        }
    }
    seen.join(", ")
}

/// An ISO 4217 code: three ASCII letters, upper-cased (`usd` -> `USD`); a bare symbol is
/// accepted too: `$` -> USD, `£` -> GBP, `€` -> EUR, and the prefixed dollars `US $`, `AU $`,
/// `C $` / `CA$`.
pub fn currency(col: &StringArray) -> (StringArray, Vec<ValueError>) {
    let mut out = StringBuilder::with_capacity(col.len(), col.len() * 3);
    let mut errors = Vec::new();
    for_each_value(col, |row, v| match v {
        None => out.append_null(),
        Some(v) => match money::currency_symbol(v.as_bytes(), *b"USD") {
            Some((code, n)) if n == v.len() => {
                out.append_value(std::str::from_utf8(&code).expect("ASCII code"))
            }
            _ => {
                out.append_null();
                errors.push(error(
                    row,
                    ErrorCode::InvalidFormat,
                    format!(
                        "{} is not a currency code: use a 3-letter ISO 4217 code such as USD, \
                         GBP, EUR, AUD or CAD (or the symbol $, £ or €)",
                        quoted(v)
                    ),
                ));
            }
        },
    });
    (out.finish(), errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::*;
    use ebay_import_map::{FieldType, ORDERS};
    use ErrorCode::*;

    #[test]
    fn the_plain_column_shortcut_gives_what_the_value_checks_give() {
        let pools: [&[Option<&str>]; 5] = [
            &[Some("abc"), Some(""), Some("x")],
            &[Some("abc"), Some(" padded "), Some("")],
            &[Some("abcdef"), Some("abc")],
            &[Some("abc"), None, Some("d")],
            &[Some("ab\u{1}c"), Some("ok")],
        ];
        for pool in pools {
            for max_chars in [3, 5, 100] {
                let col = StringArray::from(pool.to_vec());
                let (fast, fast_errs) = text(&col, max_chars);
                let (slow, slow_errs) = check_strings(&col, |v| check_text(v, max_chars));
                assert_eq!(fast, slow, "{pool:?} max {max_chars}");
                assert_eq!(fast_errs, slow_errs, "{pool:?} max {max_chars}");
                assert_eq!(fast.nulls(), slow.nulls(), "{pool:?} max {max_chars}");
            }
        }
    }

    fn order_status() -> &'static EnumDef {
        match ORDERS.fields[ORDERS.field("order_status").unwrap()].ty {
            FieldType::Enum(def) => def,
            other => panic!("{other:?}"),
        }
    }

    fn strings(a: &StringArray) -> Vec<Option<&str>> {
        a.iter().collect()
    }

    #[test]
    fn text_trims_and_keeps_nulls_without_errors() {
        let (out, errs) = text(
            &col(&[
                Some("  Jane Doe "),
                None,
                Some(""),
                Some("   "),
                Some("Zoë\tMüller"),
            ]),
            100,
        );
        assert_eq!(
            strings(&out),
            vec![Some("Jane Doe"), None, None, None, Some("Zoë\tMüller")]
        );
        assert!(errs.is_empty());
    }

    #[test]
    fn text_allows_tab_lf_cr_and_exactly_max_chars() {
        let (out, errs) = text(&some(&["a\nb\r\nc\td", "ääää", "abcd"]), 4);
        // "a\nb\r\nc\td" is 8 chars: too long for 4.
        assert_eq!(codes(&errs), vec![(0, TooLong)]);
        assert_eq!(out.value(1), "ääää");
        assert_eq!(out.value(2), "abcd");
        let (_, errs) = text(&some(&["a\nb\r\nc\td"]), 8);
        assert!(errs.is_empty());
    }

    #[test]
    fn text_too_long_counts_characters_not_bytes() {
        let (out, errs) = text(&some(&["äöüäöü", "abcdefg"]), 6);
        assert!(out.is_valid(0));
        assert!(out.is_null(1));
        assert_error(
            &errs,
            1,
            TooLong,
            &["7 characters", "at most 6", "shorten", "\"abcdefg\""],
        );
    }

    #[test]
    fn text_control_characters_name_the_char_and_position() {
        let (out, errs) = text(
            &some(&["ab\u{0}c", "äx\u{7f}", "\u{1b}[0m ok", "fine"]),
            100,
        );
        assert_eq!(out.null_count(), 3);
        assert_error(
            &errs,
            0,
            ControlCharacters,
            &["NUL", "U+0000", "at char 3", "remove it"],
        );
        assert_error(&errs, 1, ControlCharacters, &["DEL", "U+007F", "at char 3"]);
        assert_error(&errs, 2, ControlCharacters, &["ESC", "at char 1"]);
        assert_eq!(errs.len(), 3);
    }

    #[test]
    fn text_quotes_long_values_truncated() {
        let long = format!("{}\u{1}", "y".repeat(300));
        let (_, errs) = text(&some(&[&long]), 1000);
        assert!(errs[0].message.len() < 200, "{}", errs[0].message);
        assert!(errs[0].message.contains('…'));
    }

    #[test]
    fn control_names() {
        assert_eq!(control_name(0), "NUL, U+0000");
        assert_eq!(control_name(0x1f), "US, U+001F");
        assert_eq!(control_name(0x7f), "DEL, U+007F");
    }

    #[test]
    fn email_accepts_sane_and_masked_addresses() {
        let (out, errs) = email(&col(&[
            Some(" jane.doe+ebay@example.co.uk "),
            Some("t***@gmail.com"),
            Some("a1b2c3d4@members.ebay.com"),
            Some("müller@bücher.de"),
            None,
            Some(" "),
        ]));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(out.value(0), "jane.doe+ebay@example.co.uk");
        assert_eq!(out.null_count(), 2);
    }

    #[test]
    fn email_rejections() {
        let long = format!("{}@example.com", "a".repeat(250));
        let values = [
            "janeexample.com",
            "jane@@example.com",
            "a@b@example.com",
            "@example.com",
            "jane@",
            "jane@localhost",
            "jane@.example.com",
            "jane@example.com.",
            "jane@example..com",
            "jane doe@example.com",
            "jane@exa\u{0}mple.com",
            "jane\u{a0}x@example.com",
            &long,
        ];
        let (out, errs) = email(&some(&values));
        assert_eq!(out.null_count(), values.len());
        assert_eq!(errs.len(), values.len());
        assert!(errs.iter().all(|e| e.code == InvalidEmail));
        assert_error(&errs, 0, InvalidEmail, &["no @", "\"janeexample.com\""]);
        assert_error(&errs, 1, InvalidEmail, &["more than one @"]);
        assert_error(&errs, 3, InvalidEmail, &["nothing before the @"]);
        assert_error(&errs, 4, InvalidEmail, &["no domain"]);
        assert_error(&errs, 5, InvalidEmail, &["example.com"]);
        assert_error(&errs, 9, InvalidEmail, &["space"]);
        assert_error(&errs, 12, InvalidEmail, &["254"]);
    }

    #[test]
    fn enumeration_maps_spellings_to_canonical_values() {
        let (out, errs) = enumeration(
            &col(&[
                Some("Completed"),
                Some(" shipped "),
                Some("CANCELED"),
                None,
                Some(""),
            ]),
            order_status(),
        );
        assert!(errs.is_empty());
        assert_eq!(
            strings(&out),
            vec![
                Some("DELIVERED"),
                Some("SHIPPED"),
                Some("CANCELLED"),
                None,
                None
            ]
        );
    }

    #[test]
    fn enumeration_lists_accepted_spellings() {
        let (out, errs) = enumeration(&some(&["done", "shipped", "lost"]), order_status());
        assert_eq!(strings(&out), vec![None, Some("SHIPPED"), None]);
        assert_eq!(codes(&errs), vec![(0, InvalidEnum), (2, InvalidEnum)]);
        assert_error(
            &errs,
            0,
            InvalidEnum,
            &[
                "\"done\" is not a valid order status",
                "pending, processing, shipped, delivered, cancelled, canceled, returned, completed",
            ],
        );
    }

    #[test]
    fn accepted_spellings_are_distinct() {
        static DEF: EnumDef = EnumDef {
            name: "x",
            values: &[("a", "A"), ("A", "A"), ("b", "B")],
        };
        assert_eq!(accepted_spellings(&DEF), "a, b");
    }

    #[test]
    fn currency_codes_and_symbols() {
        let (out, errs) = currency(&col(&[
            Some("usd"),
            Some(" EUR "),
            Some("Gbp"),
            Some("$"),
            Some("£"),
            Some("€"),
            Some("AU $"),
            Some("C$"),
            None,
            Some(""),
        ]));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            strings(&out),
            vec![
                Some("USD"),
                Some("EUR"),
                Some("GBP"),
                Some("USD"),
                Some("GBP"),
                Some("EUR"),
                Some("AUD"),
                Some("CAD"),
                None,
                None
            ]
        );
    }

    #[test]
    fn currency_rejections() {
        let values = ["US", "EURO", "U$D", "12", "$12", "€ EUR", "ÄBC"];
        let (out, errs) = currency(&some(&values));
        assert_eq!(out.null_count(), values.len());
        assert_eq!(errs.len(), values.len());
        assert!(errs.iter().all(|e| e.code == InvalidFormat));
        assert_error(&errs, 1, InvalidFormat, &["\"EURO\"", "3-letter ISO 4217"]);
    }
}
