//! The slow, obvious reference for the columnar kernels: one value at a time, written from
//! the documented rules (README "Values", the kernels' doc comments) with plain string
//! handling, chrono for calendar dates and no shared code with `src/`. [`check_column`] runs a
//! kernel over a whole column and compares every row with [`expected`].
//!
//! Used by `tests/oracle.rs` (proptest) and by the fuzz targets in `fuzz/` (through `#[path]`),
//! so it only uses crates that both have: the workspace crates, arrow-array and chrono.

#![allow(dead_code)]

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampSecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, RecordBatch,
    StringArray, TimestampSecondArray,
};
use chrono::{NaiveDate, NaiveTime};
use ebay_import_map::{EnumDef, FieldType, IdKind, ImportSchema};
use ebay_import_model::{ErrorCode, SiteProfile};
use ebay_import_transform::{kernels, reformatted_dates, validate_batch, ValueError};
use std::sync::Arc;

/// A typed value as the kernels produce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text, identifiers, emails, enum canonical values, currency codes.
    Str(String),
    /// Cents and the currency the value named.
    Money(i128, Option<String>),
    Int(i64),
    /// Days since 1970-01-01.
    Day(i32),
    /// Seconds since 1970-01-01T00:00:00 of the wall clock.
    Secs(i64),
    Bool(bool),
}

/// What one cell becomes: no value (null or blank), a value, or a reject code.
pub type Outcome = Result<Option<Value>, ErrorCode>;

/// The outcome of one cell of a column of type `ty` on `site`.
pub fn expected(ty: FieldType, site: &SiteProfile, cell: Option<&str>) -> Outcome {
    let Some(raw) = cell else { return Ok(None) };
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let s = |v: &str| Some(Value::Str(v.to_string()));
    match ty {
        FieldType::Text { max_chars } => text(v, max_chars).map(|()| s(v)),
        FieldType::Id(kind) => {
            if matches!(kind, IdKind::Gtin | IdKind::Isbn) && is_product_placeholder(v) {
                return Ok(None);
            }
            id(v, kind).map(|()| s(v))
        }
        FieldType::Email => email(v).map(|()| s(v)),
        FieldType::Money => money(v, site).map(|(cents, code)| Some(Value::Money(cents, code))),
        FieldType::Integer { min, max } => integer(v, min, max).map(|n| Some(Value::Int(n))),
        FieldType::Date => match date_time(v, site) {
            Some((d, None)) => Ok(Some(Value::Day(days(d)))),
            Some((d, Some(t))) if t == NaiveTime::MIN => Ok(Some(Value::Day(days(d)))),
            _ => Err(ErrorCode::InvalidDate),
        },
        FieldType::DateTime => match date_time(v, site) {
            Some((d, t)) => Ok(Some(Value::Secs(
                d.and_time(t.unwrap_or(NaiveTime::MIN))
                    .and_utc()
                    .timestamp(),
            ))),
            None => Err(ErrorCode::InvalidDate),
        },
        FieldType::Bool => boolean(v, site).map(|b| Some(Value::Bool(b))),
        FieldType::Enum(def) => enumeration(v, def).map(s),
        FieldType::Currency => currency(v).map(|c| Some(Value::Str(c))),
    }
}

// ---------------------------------------------------------------------------------------------
// Text, email, identifiers

/// ASCII control characters other than tab, line feed and carriage return.
fn is_forbidden_control(c: char) -> bool {
    c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn text(v: &str, max_chars: u32) -> Result<(), ErrorCode> {
    if v.chars().any(is_forbidden_control) {
        return Err(ErrorCode::ControlCharacters);
    }
    if v.chars().count() > max_chars as usize {
        return Err(ErrorCode::TooLong);
    }
    Ok(())
}

fn email(v: &str) -> Result<(), ErrorCode> {
    let bad = Err(ErrorCode::InvalidEmail);
    if v.chars().count() > 254 {
        return bad;
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad;
    }
    let parts: Vec<&str> = v.split('@').collect();
    if parts.len() != 2 {
        return bad;
    }
    let (local, domain) = (parts[0], parts[1]);
    if local.is_empty() || domain.is_empty() {
        return bad;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return bad;
    }
    Ok(())
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

fn digits_between(s: &str, min: usize, max: usize) -> bool {
    all_digits(s) && s.len() >= min && s.len() <= max
}

/// `4.07197E+11`: digits, optionally `.` and digits, `E` or `e`, an optional sign, digits.
pub fn is_scientific(v: &str) -> bool {
    let Some(e) = v.find(['e', 'E']) else {
        return false;
    };
    let (mantissa, exponent) = (&v[..e], &v[e + 1..]);
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => all_digits(whole) && all_digits(fraction),
        None => all_digits(mantissa),
    };
    mantissa_ok && all_digits(exponent)
}

fn is_product_placeholder(v: &str) -> bool {
    let lower = v.to_lowercase();
    lower == "does not apply" || lower == "n/a" || lower == "nicht zutreffend"
}

fn id(v: &str, kind: IdKind) -> Result<(), ErrorCode> {
    if is_scientific(v) {
        return Err(ErrorCode::ScientificNotation);
    }
    let ok = match kind {
        IdKind::OrderNumber => {
            let parts: Vec<&str> = v.split('-').collect();
            match parts.as_slice() {
                [all] => digits_between(all, 10, 19),
                [item, transaction] => {
                    digits_between(item, 9, 15) && digits_between(transaction, 1, 19)
                }
                [a, b, c] => {
                    digits_between(a, 2, 2) && digits_between(b, 5, 5) && digits_between(c, 5, 5)
                }
                _ => false,
            }
        }
        IdKind::ItemNumber => digits_between(v, 9, 15),
        IdKind::Digits { min, max } => digits_between(v, min as usize, max as usize),
        IdKind::Token => {
            v.chars().count() <= 64 && v.chars().all(|c| !c.is_whitespace() && !c.is_control())
        }
        IdKind::Gtin => gtin(v),
        IdKind::Isbn => isbn(v),
    };
    if ok {
        Ok(())
    } else {
        Err(ErrorCode::InvalidFormat)
    }
}

/// GS1: with the check digit weighted 1, the digits weighted 3 and 1 alternately from the
/// right sum to a multiple of 10.
fn gs1_check(digits: &[u32]) -> bool {
    let n = digits.len();
    let mut sum = 0;
    for (i, d) in digits.iter().enumerate() {
        let from_right = n - 1 - i;
        sum += if from_right % 2 == 1 { 3 * d } else { *d };
    }
    sum % 10 == 0
}

fn to_digits(s: &str) -> Vec<u32> {
    s.chars().map(|c| c.to_digit(10).unwrap()).collect()
}

fn gtin(v: &str) -> bool {
    all_digits(v) && [8, 12, 13].contains(&v.len()) && gs1_check(&to_digits(v))
}

fn isbn(v: &str) -> bool {
    let s: String = v.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if s.len() == 13 {
        return all_digits(&s)
            && (s.starts_with("978") || s.starts_with("979"))
            && gs1_check(&to_digits(&s));
    }
    if s.len() == 10 && s.is_ascii() {
        let (body, last) = s.split_at(9);
        if !all_digits(body) {
            return false;
        }
        let check = match last {
            "X" | "x" => 10,
            d if all_digits(d) => d.parse::<u32>().unwrap(),
            _ => return false,
        };
        let mut sum = check;
        for (i, d) in to_digits(body).iter().enumerate() {
            sum += (10 - i as u32) * d;
        }
        return sum % 11 == 0;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Numbers, booleans, enums, currency codes

fn integer(v: &str, min: i64, max: i64) -> Result<i64, ErrorCode> {
    let unsigned = v.strip_prefix(['+', '-']).unwrap_or(v);
    if !all_digits(unsigned) {
        return Err(ErrorCode::InvalidNumber);
    }
    match v.parse::<i128>() {
        Ok(n) if n >= min as i128 && n <= max as i128 => Ok(n as i64),
        _ => Err(ErrorCode::OutOfRange),
    }
}

fn boolean(v: &str, site: &SiteProfile) -> Result<bool, ErrorCode> {
    let lower = v.to_lowercase();
    let is = |words: &[&str]| words.iter().any(|w| *w == lower);
    if is(&["yes", "true", "1", "y"]) || is(site.true_words) {
        Ok(true)
    } else if is(&["no", "false", "0", "n"]) || is(site.false_words) {
        Ok(false)
    } else {
        Err(ErrorCode::InvalidBoolean)
    }
}

fn enumeration(v: &str, def: &EnumDef) -> Result<&'static str, ErrorCode> {
    for (spelling, canonical) in def.values {
        if spelling.eq_ignore_ascii_case(v) {
            return Ok(canonical);
        }
    }
    Err(ErrorCode::InvalidEnum)
}

/// Space characters that may separate the parts of an amount.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}')
}

/// `US $`, `AU$`, `C $`, `CA$` (letters in any case, optional spaces): the currency.
fn prefixed_dollar(letters: &str) -> Option<&'static str> {
    match letters.to_ascii_lowercase().as_str() {
        "us" => Some("USD"),
        "au" => Some("AUD"),
        "c" | "ca" => Some("CAD"),
        _ => None,
    }
}

fn currency(v: &str) -> Result<String, ErrorCode> {
    let code = match v {
        "$" => Some("USD".to_string()),
        "£" => Some("GBP".to_string()),
        "€" => Some("EUR".to_string()),
        _ => match v.strip_suffix('$') {
            Some(letters) => prefixed_dollar(letters.trim_end_matches(is_space)).map(String::from),
            None if v.len() == 3 && v.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(v.to_ascii_uppercase())
            }
            None => None,
        },
    };
    code.ok_or(ErrorCode::InvalidFormat)
}

// ---------------------------------------------------------------------------------------------
// Money

/// What a bare `$` means on a site.
fn dollar(site: &SiteProfile) -> &'static str {
    match site.currency {
        "AUD" => "AUD",
        "CAD" => "CAD",
        _ => "USD",
    }
}

fn ascii_letters_prefix(s: &str) -> &str {
    let n = s.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    &s[..n]
}

fn ascii_letters_suffix(s: &str) -> &str {
    let n = s
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    &s[s.len() - n..]
}

/// A currency at the start of `s`: the code and the rest after it.
fn leading_currency<'a>(s: &'a str, site: &SiteProfile) -> Option<(String, &'a str)> {
    for (symbol, code) in [("$", dollar(site)), ("£", "GBP"), ("€", "EUR")] {
        if let Some(rest) = s.strip_prefix(symbol) {
            return Some((code.to_string(), rest));
        }
    }
    let letters = ascii_letters_prefix(s);
    let after = s[letters.len()..].trim_start_matches(is_space);
    if !letters.is_empty() && after.starts_with('$') {
        return prefixed_dollar(letters).map(|code| (code.to_string(), &after[1..]));
    }
    (letters.len() == 3).then(|| (letters.to_ascii_uppercase(), &s[3..]))
}

/// A currency at the end of `s`: the code and what is before it.
fn trailing_currency<'a>(s: &'a str, site: &SiteProfile) -> Option<(String, &'a str)> {
    for (symbol, code) in [("£", "GBP"), ("€", "EUR")] {
        if let Some(rest) = s.strip_suffix(symbol) {
            return Some((code.to_string(), rest));
        }
    }
    if let Some(before) = s.strip_suffix('$') {
        let spaced = before.trim_end_matches(is_space);
        let letters = ascii_letters_suffix(spaced);
        if letters.is_empty() {
            return Some((dollar(site).to_string(), before));
        }
        return prefixed_dollar(letters)
            .map(|code| (code.to_string(), &spaced[..spaced.len() - letters.len()]));
    }
    let letters = ascii_letters_suffix(s);
    (letters.len() == 3).then(|| (letters.to_ascii_uppercase(), &s[..s.len() - 3]))
}

/// An amount of money: cents and the currency a symbol or code named.
fn money(v: &str, site: &SiteProfile) -> Result<(i128, Option<String>), ErrorCode> {
    let bad = Err(ErrorCode::InvalidMoney);
    let mut s = v;
    let parenthesised = s.starts_with('(');
    if parenthesised {
        if s.len() < 2 || !s.ends_with(')') {
            return bad;
        }
        s = &s[1..s.len() - 1];
    }
    s = s.trim_matches(is_space);
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest.trim_start_matches(is_space);
    }
    let mut prefix = None;
    if let Some((code, rest)) = leading_currency(s, site) {
        prefix = Some(code);
        s = rest.trim_start_matches(is_space);
        if !negative {
            if let Some(rest) = s.strip_prefix('-') {
                negative = true;
                s = rest.trim_start_matches(is_space);
            }
        }
    }
    let mut suffix = None;
    if let Some((code, rest)) = trailing_currency(s, site) {
        suffix = Some(code);
        s = rest.trim_end_matches(is_space);
    }
    let Some((cents, significant)) = amount(s, site) else {
        return bad;
    };
    if parenthesised && negative {
        return bad;
    }
    if let (Some(a), Some(b)) = (&prefix, &suffix) {
        if a != b {
            return bad;
        }
    }
    if significant > 16 {
        return Err(ErrorCode::OutOfRange);
    }
    let code = prefix.or(suffix);
    let cents = if negative || parenthesised {
        -cents
    } else {
        cents
    };
    Ok((cents, code))
}

/// The number of an amount in the site's format: its cents (0 when too large) and how many
/// significant digits it has before the decimal separator.
fn amount(s: &str, site: &SiteProfile) -> Option<(i128, usize)> {
    let decimal = site.decimal_separator as char;
    let thousands: Vec<char> = if site.thousands_separator == b' ' {
        vec![' ', '\u{a0}', '\u{202f}']
    } else {
        vec![site.thousands_separator as char]
    };
    let (whole, fraction) = match s.split_once(decimal) {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() && fraction.is_none() {
        return None;
    }
    let mut whole_digits = String::new();
    if !whole.is_empty() {
        let groups: Vec<&str> = whole.split(|c| thousands.contains(&c)).collect();
        if groups.len() == 1 {
            if !all_digits(groups[0]) {
                return None;
            }
        } else {
            if !digits_between(groups[0], 1, 3) {
                return None;
            }
            if !groups[1..].iter().all(|g| digits_between(g, 3, 3)) {
                return None;
            }
        }
        whole_digits = groups.concat();
    }
    let mut cents_part = 0;
    if let Some(f) = fraction {
        if !all_digits(f) {
            return None;
        }
        if f.chars().skip(2).any(|c| c != '0') {
            return None;
        }
        let two: String = f.chars().chain("00".chars()).take(2).collect();
        cents_part = two.parse::<i128>().unwrap();
    }
    let significant = whole_digits.trim_start_matches('0').len();
    if significant > 16 {
        return Some((0, significant));
    }
    let units = if whole_digits.is_empty() {
        0
    } else {
        whole_digits.parse::<i128>().unwrap()
    };
    Some((units * 100 + cents_part, significant))
}

// ---------------------------------------------------------------------------------------------
// Dates

const ENGLISH_ABBREVIATIONS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const ENGLISH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A character of a month name as the layouts see it: a letter or any non-ASCII character
/// other than the (narrow) non-breaking space.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphabetic() || (!c.is_ascii() && c != '\u{a0}' && c != '\u{202f}')
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_word_char)
}

/// The English abbreviation of a month name: English (abbreviated, full, `Sept`) or one of
/// the site's spellings, any case.
fn month_abbreviation(word: &str, site: &SiteProfile) -> Option<&'static str> {
    let lower = word.to_lowercase();
    for i in 0..12 {
        let english = lower == ENGLISH_ABBREVIATIONS[i]
            || lower == ENGLISH_NAMES[i]
            || (i == 8 && lower == "sept");
        let local = site
            .months
            .is_some_and(|months| months[i].iter().any(|m| *m == lower));
        if english || local {
            return Some(ENGLISH_ABBREVIATIONS[i]);
        }
    }
    None
}

fn is_year(s: &str) -> bool {
    digits_between(s, 2, 2) || digits_between(s, 4, 4)
}

/// `%Y` or `%y` for a year of 4 or 2 digits.
fn year_format(y: &str) -> &'static str {
    if y.len() == 4 {
        "%Y"
    } else {
        "%y"
    }
}

fn parse_date(s: &str, format: &str) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(s, format).ok()?;
    (1900..=2199)
        .contains(&chrono::Datelike::year(&d))
        .then_some(d)
}

/// The date a whole string means in one of the accepted layouts, if any.
fn date_part(s: &str, site: &SiteProfile) -> Option<NaiveDate> {
    let three = |sep: char| -> Option<[&str; 3]> {
        let parts: Vec<&str> = s.split(sep).collect();
        <[&str; 3]>::try_from(parts).ok()
    };
    let d12 = |p: &str| digits_between(p, 1, 2);
    if let Some([a, b, c]) = three('-') {
        // 2024-03-15
        if digits_between(a, 4, 4) && d12(b) && d12(c) {
            return parse_date(s, "%Y-%m-%d");
        }
        // Mar-15-24
        if is_word(a) && d12(b) && is_year(c) {
            let month = month_abbreviation(a, site)?;
            return parse_date(
                &format!("{month}-{b}-{c}"),
                &format!("%b-%d-{}", year_format(c)),
            );
        }
        // 15-Mar-24
        if d12(a) && is_word(b) && is_year(c) {
            let month = month_abbreviation(b, site)?;
            return parse_date(
                &format!("{a}-{month}-{c}"),
                &format!("%d-%b-{}", year_format(c)),
            );
        }
        return None;
    }
    if let Some([a, b, c]) = three('/') {
        // 2024/03/15
        if digits_between(a, 4, 4) && d12(b) && d12(c) {
            return parse_date(s, "%Y/%m/%d");
        }
        // 03/15/2024 on a month-first site, 15/03/2024 elsewhere
        if d12(a) && d12(b) && is_year(c) {
            let order = if site.month_first { "%m/%d/" } else { "%d/%m/" };
            return parse_date(s, &format!("{order}{}", year_format(c)));
        }
        return None;
    }
    if let Some([a, b, c]) = three('.') {
        // 15.03.2024
        if d12(a) && d12(b) && is_year(c) {
            return parse_date(s, &format!("%d.%m.{}", year_format(c)));
        }
    }
    // Mar 15, 2024 / Mar 15 2024 / Dez. 29, 2025
    let word_first = || -> Option<NaiveDate> {
        let word_len = s
            .chars()
            .take_while(|c| is_word_char(*c))
            .map(char::len_utf8)
            .sum();
        let (word, rest) = s.split_at(word_len);
        let rest = rest.strip_prefix('.').unwrap_or(rest);
        let rest = strip_spaces(rest)?;
        let day_len = rest.chars().take_while(char::is_ascii_digit).count();
        let (day, rest) = rest.split_at(day_len);
        let year = match rest.strip_prefix(',') {
            Some(after) => after.trim_start_matches(is_space),
            None => strip_spaces(rest)?,
        };
        if !is_word(word) || !d12(day) || !digits_between(year, 4, 4) {
            return None;
        }
        let month = month_abbreviation(word, site)?;
        parse_date(&format!("{day}-{month}-{year}"), "%d-%b-%Y")
    };
    // 15 Mar 2024 / 29. Dez 2025
    let day_first = || -> Option<NaiveDate> {
        let day_len = s.chars().take_while(char::is_ascii_digit).count();
        let (day, rest) = s.split_at(day_len);
        let rest = rest.strip_prefix('.').unwrap_or(rest);
        let rest = strip_spaces(rest)?;
        let word_len = rest
            .chars()
            .take_while(|c| is_word_char(*c))
            .map(char::len_utf8)
            .sum();
        let (word, rest) = rest.split_at(word_len);
        let rest = rest.strip_prefix('.').unwrap_or(rest);
        let year = strip_spaces(rest)?;
        if !is_word(word) || !d12(day) || !digits_between(year, 4, 4) {
            return None;
        }
        let month = month_abbreviation(word, site)?;
        parse_date(&format!("{day}-{month}-{year}"), "%d-%b-%Y")
    };
    word_first().or_else(day_first)
}

/// `s` without its leading spaces, if it has at least one.
fn strip_spaces(s: &str) -> Option<&str> {
    let rest = s.trim_start_matches(is_space);
    (rest.len() < s.len()).then_some(rest)
}

/// The leading ASCII digits of `s` if there are `min..=max` of them, and the rest.
fn leading_digits(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = s.chars().take_while(char::is_ascii_digit).count();
    if n < min || n > max {
        return None;
    }
    Some((s[..n].parse().unwrap(), &s[n..]))
}

/// The leading month-name-like word of `s` and the rest.
fn leading_word(s: &str) -> (&str, &str) {
    let n = s
        .chars()
        .take_while(|c| is_word_char(*c))
        .map(char::len_utf8)
        .sum();
    s.split_at(n)
}

/// A time of day: `H:MM` or `H:MM:SS` (a fraction after the seconds is dropped), optional
/// `AM`/`PM`, then optionally a zone abbreviation (1-5 letters, dropped) and a zero offset.
fn time_part(s: &str) -> Option<NaiveTime> {
    let (mut hour, rest) = leading_digits(s, 1, 2)?;
    let rest = rest.strip_prefix(':')?;
    let (minute, mut rest) = leading_digits(rest, 2, 2)?;
    let mut second = 0;
    if let Some(after) = rest.strip_prefix(':') {
        let (s, after) = leading_digits(after, 2, 2)?;
        second = s;
        rest = after;
        if let Some(after) = rest.strip_prefix('.') {
            rest = leading_digits(after, 1, 9)?.1;
        }
    }
    // AM / PM, attached or after spaces.
    let mut pm = None;
    let (word, after) = leading_word(rest.trim_start_matches(is_space));
    if word.eq_ignore_ascii_case("am") || word.eq_ignore_ascii_case("pm") {
        pm = Some(word.eq_ignore_ascii_case("pm"));
        rest = after;
    }
    // A zone abbreviation.
    let (word, after) = leading_word(rest.trim_start_matches(is_space));
    if (1..=5).contains(&word.len()) && word.chars().all(|c| c.is_ascii_alphabetic()) {
        rest = after;
    }
    // An offset, which must be zero.
    let rest = rest.trim_start_matches(is_space);
    if let Some(offset) = rest.strip_prefix(['+', '-']) {
        if !matches!(offset, "00:00" | "00" | "0000") {
            return None;
        }
    } else if !rest.is_empty() {
        return None;
    }
    match pm {
        Some(pm) => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour = hour % 12 + if pm { 12 } else { 0 };
        }
        None if hour > 23 => return None,
        None => {}
    }
    if minute > 59 || second > 59 {
        return None;
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// A date with an optional time of day, or `None` when the value is not one.
fn date_time(v: &str, site: &SiteProfile) -> Option<(NaiveDate, Option<NaiveTime>)> {
    // The kernels look at 64 bytes at most.
    if v.len() > 64 {
        return None;
    }
    // The date ends with its year: try every end of a run of digits.
    let b = v.as_bytes();
    for end in 1..=b.len() {
        if !b[end - 1].is_ascii_digit() || b.get(end).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        let Some(date) = date_part(&v[..end], site) else {
            continue;
        };
        let rest = &v[end..];
        if rest.is_empty() {
            return Some((date, None));
        }
        let clock = match strip_spaces(rest) {
            Some(clock) => clock,
            None => match rest.strip_prefix(['T', 't']) {
                Some(clock) => clock,
                None => continue,
            },
        };
        if let Some(time) = time_part(clock) {
            return Some((date, Some(time)));
        }
    }
    None
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

// ---------------------------------------------------------------------------------------------
// Running a kernel over a column and comparing

/// Runs the kernel of `ty` over `col`: per row, the value or null, plus the errors.
pub fn run_kernel(
    ty: FieldType,
    site: &SiteProfile,
    col: &StringArray,
) -> (Vec<Option<Value>>, Vec<ValueError>) {
    fn strings(a: &StringArray) -> Vec<Option<Value>> {
        a.iter()
            .map(|v| v.map(|v| Value::Str(v.to_string())))
            .collect()
    }
    match ty {
        FieldType::Text { max_chars } => {
            let (a, e) = kernels::text(col, max_chars);
            (strings(&a), e)
        }
        FieldType::Id(kind) => {
            let (a, e) = kernels::id(col, kind);
            (strings(&a), e)
        }
        FieldType::Email => {
            let (a, e) = kernels::email(col);
            (strings(&a), e)
        }
        FieldType::Money => {
            let (amounts, codes, e): (Decimal128Array, StringArray, _) = kernels::money(col, site);
            assert_eq!(codes.len(), amounts.len(), "currency column length");
            let values = (0..amounts.len())
                .map(|i| {
                    if amounts.is_null(i) {
                        assert!(codes.is_null(i), "row {i}: a currency without an amount");
                        return None;
                    }
                    let code = codes.is_valid(i).then(|| codes.value(i).to_string());
                    Some(Value::Money(amounts.value(i), code))
                })
                .collect();
            (values, e)
        }
        FieldType::Integer { min, max } => {
            let (a, e): (Int64Array, _) = kernels::integer(col, min, max);
            (a.iter().map(|v| v.map(Value::Int)).collect(), e)
        }
        FieldType::Date => {
            let (a, e): (Date32Array, _) = kernels::date(col, site);
            (a.iter().map(|v| v.map(Value::Day)).collect(), e)
        }
        FieldType::DateTime => {
            let (a, e): (TimestampSecondArray, _) = kernels::datetime(col, site);
            (a.iter().map(|v| v.map(Value::Secs)).collect(), e)
        }
        FieldType::Bool => {
            let (a, e): (BooleanArray, _) = kernels::boolean(col, site);
            (a.iter().map(|v| v.map(Value::Bool)).collect(), e)
        }
        FieldType::Enum(def) => {
            let (a, e) = kernels::enumeration(col, def);
            (strings(&a), e)
        }
        FieldType::Currency => {
            let (a, e) = kernels::currency(col);
            (strings(&a), e)
        }
    }
}

/// A string column of `cells`, optionally as a slice of a bigger array (`pad` cells before
/// and after), as the kernels must handle sliced input too.
pub fn column(cells: &[Option<String>], pad: (usize, usize)) -> StringArray {
    let filler = Some("\u{1}filler padding\u{1}".to_string());
    let all: Vec<Option<&str>> = std::iter::repeat_n(filler.as_deref(), pad.0)
        .chain(cells.iter().map(Option::as_deref))
        .chain(std::iter::repeat_n(filler.as_deref(), pad.1))
        .collect();
    let array = StringArray::from(all);
    array.slice(pad.0, cells.len())
}

/// Runs the kernel of `ty` over `cells` (as a slice of a bigger array when `pad` says so) and
/// compares every row with [`expected`]: the same value or null, the same reject code, one
/// error at most per row, errors in row order.
pub fn check_column(
    ty: FieldType,
    site: &SiteProfile,
    cells: &[Option<String>],
    pad: (usize, usize),
) -> Result<(), String> {
    let col = column(cells, pad);
    let (values, errors) = run_kernel(ty, site, &col);
    if values.len() != cells.len() {
        return Err(format!(
            "{} outputs for {} inputs",
            values.len(),
            cells.len()
        ));
    }
    let mut codes = vec![None; cells.len()];
    let mut last_row = None;
    for e in &errors {
        if e.row >= cells.len() || last_row.is_some_and(|r| r >= e.row) {
            return Err(format!("error rows out of order or repeated: {errors:?}"));
        }
        last_row = Some(e.row);
        codes[e.row] = Some(e.code);
    }
    for (row, cell) in cells.iter().enumerate() {
        let want = expected(ty, site, cell.as_deref());
        let got = match codes[row] {
            Some(code) if values[row].is_some() => {
                return Err(format!(
                    "row {row} {cell:?} ({ty:?}, {}): error {code} with a value {:?}",
                    site.code, values[row]
                ))
            }
            Some(code) => Err(code),
            None => Ok(values[row].clone()),
        };
        if got != want {
            return Err(format!(
                "row {row} {cell:?} ({ty:?}, site {}): kernel {got:?}, reference {want:?} \
                 (column of {}, padding {pad:?})",
                site.code,
                cells.len()
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// validate_batch

/// Like `assert_eq!`, but returns the difference as an error.
macro_rules! ensure_eq {
    ($got:expr, $want:expr $(,)?) => {
        ensure_eq!($got, $want, "{}", stringify!($got))
    };
    ($got:expr, $want:expr, $($fmt:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err(format!("{}: got {:?}, want {:?}", format!($($fmt)+), got, want));
        }
    }};
}

/// The values of a typed column, as [`Value`]s.
pub fn typed_values(
    ty: FieldType,
    array: &ArrayRef,
    money_codes: Option<&StringArray>,
) -> Vec<Option<Value>> {
    (0..array.len())
        .map(|i| {
            if array.is_null(i) {
                return None;
            }
            Some(match ty {
                FieldType::Money => {
                    let code =
                        money_codes.and_then(|c| c.is_valid(i).then(|| c.value(i).to_string()));
                    Value::Money(array.as_primitive::<Decimal128Type>().value(i), code)
                }
                FieldType::Integer { .. } => Value::Int(array.as_primitive::<Int64Type>().value(i)),
                FieldType::Date => Value::Day(array.as_primitive::<Date32Type>().value(i)),
                FieldType::DateTime => {
                    Value::Secs(array.as_primitive::<TimestampSecondType>().value(i))
                }
                FieldType::Bool => Value::Bool(array.as_boolean().value(i)),
                _ => Value::Str(array.as_string::<i32>().value(i).to_string()),
            })
        })
        .collect()
}

/// `9/8/2026`: 1-2 digits, `/`, 1-2 digits, `/`, 2 or 4 digits, optionally a time.
pub fn is_slash_date(v: &str) -> bool {
    let date = v.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = date.split('/').collect();
    let n =
        |p: &str, lens: &[usize]| lens.contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit());
    parts.len() == 3 && n(parts[0], &[1, 2]) && n(parts[1], &[1, 2]) && n(parts[2], &[2, 4])
}

/// Runs [`validate_batch`] over a batch of `columns` (one per entry of `fields`, canonical
/// order) and compares it with the reference: every typed column, every error (sorted by row,
/// then column), the currency of every row and the reformatted-date notes.
pub fn check_batch(
    schema: &'static ImportSchema,
    site: &SiteProfile,
    fields: &[usize],
    columns: &[Vec<Option<String>>],
) -> Result<(), String> {
    let rows = columns.first().map_or(0, Vec::len);
    let batch = RecordBatch::try_from_iter(fields.iter().zip(columns).map(|(&f, cells)| {
        let col: ArrayRef = Arc::new(StringArray::from(cells.clone()));
        (schema.fields[f].name, col)
    }))
    .unwrap();
    let typed = validate_batch(schema, fields, &batch, site);
    ensure_eq!(typed.num_rows, rows);
    ensure_eq!(&typed.fields, fields);
    let outcomes: Vec<Vec<Result<Option<Value>, ErrorCode>>> = fields
        .iter()
        .zip(columns)
        .map(|(&f, cells)| {
            let ty = schema.fields[f].ty;
            cells
                .iter()
                .map(|c| expected(ty, site, c.as_deref()))
                .collect()
        })
        .collect();
    let (row_currency, mixed) = row_currencies(schema, fields, &outcomes, rows);
    let mut want_errors = Vec::new();
    let mut want_notes = Vec::new();
    for (i, (&f, cells)) in fields.iter().zip(columns).enumerate() {
        let ty = schema.fields[f].ty;
        let want: Vec<Option<Value>> = (0..rows)
            .map(|row| match mixed.contains(&(row, i)) {
                true => None,
                false => outcomes[i][row].clone().ok().flatten(),
            })
            .collect();
        let codes = (ty == FieldType::Money).then(|| {
            want.iter()
                .map(|v| match v {
                    Some(Value::Money(_, code)) => code.clone(),
                    _ => None,
                })
                .collect::<StringArray>()
        });
        let got = typed_values(ty, &typed.columns[i], codes.as_ref());
        ensure_eq!(
            &got,
            &want,
            "field {} ({:?}) on {}",
            schema.fields[f].name,
            ty,
            site.code
        );
        for (row, outcome) in outcomes[i].iter().enumerate() {
            match outcome {
                Err(code) => want_errors.push((row, f, *code)),
                Ok(Some(_)) if mixed.contains(&(row, i)) => {
                    want_errors.push((row, f, ErrorCode::InvalidMoney))
                }
                Ok(Some(_))
                    if matches!(ty, FieldType::Date | FieldType::DateTime)
                        && is_slash_date(cells[row].as_deref().unwrap().trim()) =>
                {
                    want_notes.push((row, f));
                }
                _ => {}
            }
        }
    }
    want_errors.sort_by_key(|&(row, f, _)| (row, fields.iter().position(|&x| x == f)));
    let got_errors: Vec<_> = typed
        .errors
        .iter()
        .map(|e| (e.row, e.field, e.code))
        .collect();
    ensure_eq!(got_errors, want_errors);
    let want_currency: Vec<String> = row_currency
        .into_iter()
        .map(|c| c.unwrap_or(site.currency.to_string()))
        .collect();
    let got_currency: Vec<String> = typed
        .currency
        .iter()
        .map(|c| c.unwrap_or("<null>").to_string())
        .collect();
    ensure_eq!(got_currency, want_currency);
    want_notes.sort_by_key(|&(row, _)| row);
    let notes: Vec<_> = reformatted_dates(schema, &typed, &batch)
        .iter()
        .map(|n| {
            assert_eq!(n.code, ErrorCode::ReformattedDate, "{n:?}");
            (n.row, n.field)
        })
        .collect();
    ensure_eq!(notes, want_notes);
    Ok(())
}

/// Per row, the currency its amounts are in: the currency column's code, else the one most of
/// its amounts name (the first of a tie), else none; and the amounts (row, field index) that
/// name another, each an `invalid_money` error and no value.
fn row_currencies(
    schema: &ImportSchema,
    fields: &[usize],
    outcomes: &[Vec<Result<Option<Value>, ErrorCode>>],
    rows: usize,
) -> (Vec<Option<String>>, Vec<(usize, usize)>) {
    let ty = |i: usize| schema.fields[fields[i]].ty;
    let mut mixed = Vec::new();
    let mut settle = |row: usize| {
        let given = (0..fields.len()).find_map(|i| match &outcomes[i][row] {
            Ok(Some(Value::Str(code))) if ty(i) == FieldType::Currency => Some(code.clone()),
            _ => None,
        });
        let named: Vec<(usize, String)> = (0..fields.len())
            .filter_map(|i| match &outcomes[i][row] {
                Ok(Some(Value::Money(_, Some(code)))) if ty(i) == FieldType::Money => {
                    Some((i, code.clone()))
                }
                _ => None,
            })
            .collect();
        let count = |code: &str| named.iter().filter(|(_, c)| c == code).count();
        let mut most: Option<&String> = None;
        for (_, code) in &named {
            if most.is_none_or(|m| count(code) > count(m)) {
                most = Some(code);
            }
        }
        let currency = given.or(most.cloned());
        for (i, code) in &named {
            if Some(code) != currency.as_ref() {
                mixed.push((row, *i));
            }
        }
        currency
    };
    let currencies = (0..rows).map(&mut settle).collect();
    (currencies, mixed)
}
