//! Dates and date-times, parsed by hand: a fixed-width fast path for ISO values, else a small
//! tokenizer (numbers, words, punctuation, spaces) matched against the accepted layouts.
//!
//! No time zone is invented or converted: a date-time is the wall-clock time as written,
//! stored as seconds since 1970-01-01T00:00:00 of that same wall clock. A trailing `Z`, a zero
//! offset (`+00:00`, `-0000`) or a zone abbreviation (`PDT`) is accepted and dropped; a
//! non-zero offset is rejected rather than silently shifted or ignored.

use super::{eq_fold, error, for_each_value, nbsp_len, quoted};
use crate::ValueError;
use arrow_array::builder::{Date32Builder, TimestampSecondBuilder};
use arrow_array::{Array, Date32Array, StringArray, TimestampSecondArray};
use ebay_import_model::{ErrorCode, SiteProfile};

/// Four-digit years outside this range are rejected as typos.
const MIN_YEAR: u32 = 1900;
const MAX_YEAR: u32 = 2199;

/// A calendar date: date-only values, or date-times whose time is midnight. Accepts every
/// layout [`datetime`] does.
pub fn date(col: &StringArray, site: &SiteProfile) -> (Date32Array, Vec<ValueError>) {
    let mut out = Date32Builder::with_capacity(col.len());
    let mut errors = Vec::new();
    for_each_value(col, |row, v| {
        let Some(v) = v else {
            out.append_null();
            return;
        };
        match parse(v, site) {
            Ok((days, None | Some(0))) => out.append_value(days),
            Ok((_, Some(_))) => {
                out.append_null();
                errors.push(error(
                    row,
                    ErrorCode::InvalidDate,
                    DateError::TimeInDate.message(v, site, false),
                ));
            }
            Err(e) => {
                out.append_null();
                errors.push(error(
                    row,
                    ErrorCode::InvalidDate,
                    e.message(v, site, false),
                ));
            }
        }
    });
    (out.finish(), errors)
}

/// A date with an optional time of day, as seconds since 1970-01-01T00:00:00 of the local
/// wall clock (no time zone on the array); a date alone is midnight.
///
/// Date layouts: `2024-03-15`, `2024/03/15`, numeric slash dates in the site's order
/// (`03/15/2024` month first on US, `15/03/2024` day first elsewhere; 2- or 4-digit years),
/// `15.03.2024` / `15.03.24`, eBay's `Mar-15-24`, day-first `15-Mar-24` / `10-Dez-25`,
/// `Mar 15, 2024`, `Mar 15 2024`, `15 Mar 2024`. Month names are English (`Mar`, `March`,
/// `Sept`) or the site's (`Dez`, `Mär`), any case. Two-digit years: 00–69 are 2000–2069,
/// 70–99 are 1970–1999. A time follows after a space or `T`: `HH:MM` or `HH:MM:SS`, optional
/// fraction (dropped), optional `AM`/`PM`, then optionally `Z`, a zero offset or a zone
/// abbreviation.
pub fn datetime(col: &StringArray, site: &SiteProfile) -> (TimestampSecondArray, Vec<ValueError>) {
    let mut out = TimestampSecondBuilder::with_capacity(col.len());
    let mut errors = Vec::new();
    for_each_value(col, |row, v| {
        let Some(v) = v else {
            out.append_null();
            return;
        };
        match parse(v, site) {
            Ok((days, secs)) => out.append_value(days as i64 * 86_400 + secs.unwrap_or(0) as i64),
            Err(e) => {
                out.append_null();
                errors.push(error(row, ErrorCode::InvalidDate, e.message(v, site, true)));
            }
        }
    });
    (out.finish(), errors)
}

/// Whether `v` is no date on `site` but one with numeric dates read the other way round
/// (`15/03/2024` where the site reads month first): a value of another site's file.
pub fn fits_only_the_other_order(v: &str, site: &SiteProfile) -> bool {
    parse(v, site).is_err() && parse(v, &other_order(site)).is_ok()
}

/// `site` reading numeric dates the other way round.
fn other_order(site: &SiteProfile) -> SiteProfile {
    SiteProfile {
        month_first: !site.month_first,
        ..*site
    }
}

/// Days since 1970-01-01 and, when the value has a time of day, seconds since midnight.
type Parsed = (i32, Option<u32>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateError {
    /// No accepted layout.
    Unrecognized,
    /// A word where a month name belongs that is not one (byte span in the value).
    UnknownMonth(u8, u8),
    /// A month number outside 1–12; `slash` when it came from a site-ordered slash date.
    BadMonth {
        month: u32,
        slash: bool,
    },
    /// The day does not exist in that month.
    BadDay {
        year: u32,
        month: u32,
        day: u32,
    },
    BadYear(u32),
    BadTime,
    /// A non-zero UTC offset.
    Offset,
    /// A time of day other than midnight in a date column.
    TimeInDate,
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl DateError {
    fn message(self, v: &str, site: &SiteProfile, with_time: bool) -> String {
        let q = quoted(v);
        let slash = slash_order(site);
        match self {
            DateError::Unrecognized => {
                format!(
                    "{q} is not a date in a known format: use {}",
                    formats(site, with_time)
                )
            }
            DateError::UnknownMonth(s, e) => {
                let extra = site
                    .months
                    .map(|m| {
                        format!(
                            " or the {} site's ({}, {}, …)",
                            site.code, m[2][0], m[11][0]
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "{q} is not a date: {} is not a month name; use English month names (Jan, \
                     Feb, …, Dec){extra}",
                    quoted(&v[s as usize..e as usize])
                )
            }
            DateError::BadMonth { month, slash: true } => {
                let other = other_order(site);
                let read_other = match parse(v, &other) {
                    Ok((days, _)) => format!(", and read {} it is {}", site.other_way(), iso(days)),
                    Err(_) => String::new(),
                };
                format!(
                    "{q} is not a date: month {month} does not exist. Numeric dates on the {} \
                     site are read as {slash}{read_other}; check the value, or import with the \
                     site whose date order the file uses",
                    site.code
                )
            }
            DateError::BadMonth {
                month,
                slash: false,
            } => {
                format!("{q} is not a date: month {month} does not exist; check the value")
            }
            DateError::BadDay { year, month, day } => {
                let name = MONTH_NAMES[month as usize - 1];
                format!(
                    "{q} is not a calendar date: {name} {year} has {} days, not a day {day}; \
                     check the value",
                    days_in_month(year, month)
                )
            }
            DateError::BadYear(year) => format!(
                "{q} is not a plausible date: year {year} is outside {MIN_YEAR}–{MAX_YEAR}; check \
                 the value"
            ),
            DateError::BadTime => format!(
                "{q} has an invalid time of day: use HH:MM or HH:MM:SS from 00:00 to 23:59:59 \
                 (or 1:00 to 12:59 with AM/PM)"
            ),
            DateError::Offset => format!(
                "{q} has a time-zone offset: times are stored as the wall-clock time written, \
                 without conversion; remove the offset and give the local time (a trailing Z or \
                 +00:00 is accepted)"
            ),
            DateError::TimeInDate => format!(
                "{q} has a time of day, but this column holds dates only: give the date alone \
                 (e.g. 2024-03-15)"
            ),
        }
    }
}

/// `2024-03-15`: a day since 1970-01-01 as messages show it.
fn iso(days: i32) -> String {
    // 719,163 days from 0001-01-01 to 1970-01-01.
    chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
        .map_or_else(String::new, |d| d.to_string())
}

fn slash_order(site: &SiteProfile) -> &'static str {
    if site.month_first {
        "month/day/year (MM/DD/YYYY)"
    } else {
        "day/month/year (DD/MM/YYYY)"
    }
}

/// The accepted layouts, as messages name them.
fn formats(site: &SiteProfile, with_time: bool) -> String {
    let slash = if site.month_first {
        "MM/DD/YYYY"
    } else {
        "DD/MM/YYYY"
    };
    let time = if with_time {
        ", optionally followed by a time HH:MM or HH:MM:SS (2024-03-15 14:03:00)"
    } else {
        ""
    };
    format!(
        "YYYY-MM-DD (2024-03-15), {slash} (the {} site's order), DD.MM.YYYY, Mar-15-24, \
         15-Mar-24 or Mar 15, 2024{time}",
        site.code
    )
}

pub(crate) fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

pub(crate) fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: u32, m: u32, d: u32) -> i32 {
    let y = y as i32 - (m <= 2) as i32;
    let era = y.div_euclid(400);
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// Validates a date and converts it to days since the epoch.
fn ymd(y: u32, m: u32, d: u32, slash: bool) -> Result<i32, DateError> {
    if !(1..=12).contains(&m) {
        return Err(DateError::BadMonth { month: m, slash });
    }
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return Err(DateError::BadYear(y));
    }
    if d == 0 || d > days_in_month(y, m) {
        return Err(DateError::BadDay {
            year: y,
            month: m,
            day: d,
        });
    }
    Ok(days_from_civil(y, m, d))
}

/// Full years of a 2- or 4-digit year: 00–69 -> 2000–2069, 70–99 -> 1970–1999.
fn full_year(y: u32, len: u8) -> u32 {
    match len {
        2 if y < 70 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    }
}

fn parse(v: &str, site: &SiteProfile) -> Result<Parsed, DateError> {
    if let Some(parsed) = fast_fixed(v.as_bytes()) {
        return Ok(parsed);
    }
    general(v, site)
}

/// The fixed-width layouts, fully valid, without tokenizing: `YYYY-MM-DD` and eBay's
/// `Mmm-DD-YY` / `Mmm-DD-YYYY` (an English month abbreviation), each alone or followed by
/// ` HH:MM:SS` or `THH:MM:SS`, optionally then `Z`. Anything else (errors too) takes the
/// general path, which accepts all of these with the same result.
#[inline]
fn fast_fixed(b: &[u8]) -> Option<Parsed> {
    #[inline]
    fn num(b: &[u8], at: usize, len: usize) -> Option<u32> {
        let mut n = 0u32;
        for &c in &b[at..at + len] {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            n = n * 10 + d as u32;
        }
        Some(n)
    }
    let (y, m, d, date_len) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        (num(b, 0, 4)?, num(b, 5, 2)?, num(b, 8, 2)?, 10)
    } else if b.len() >= 9 && b[3] == b'-' && b[6] == b'-' {
        let year_digits = if b.len() >= 11 && b[9].is_ascii_digit() {
            4
        } else {
            2
        };
        let y = num(b, 7, year_digits)?;
        let m = ENGLISH_ABBREVIATIONS
            .iter()
            .position(|m| b[..3].eq_ignore_ascii_case(m.as_bytes()))?;
        let y = full_year(y, year_digits as u8);
        (y, m as u32 + 1, num(b, 4, 2)?, 7 + year_digits)
    } else {
        return None;
    };
    if !(1..=12).contains(&m)
        || !(MIN_YEAR..=MAX_YEAR).contains(&y)
        || d == 0
        || d > days_in_month(y, m)
    {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let t = &b[date_len..];
    if t.is_empty() {
        return Some((days, None));
    }
    let t = match t.len() {
        10 if t[9] == b'Z' => &t[..9],
        9 => t,
        _ => return None,
    };
    if !matches!(t[0], b' ' | b'T') || t[3] != b':' || t[6] != b':' {
        return None;
    }
    let (h, mi, s) = (num(t, 1, 2)?, num(t, 4, 2)?, num(t, 7, 2)?);
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some((days, Some(h * 3600 + mi * 60 + s)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A run of digits: value and digit count.
    Num(u32, u8),
    /// A run of letters (ASCII or any non-ASCII, non-space character): byte span.
    Word(u8, u8),
    /// One ASCII punctuation byte.
    P(u8),
    /// A run of spaces, tabs or non-breaking spaces.
    Sp,
}

/// Longest value the general path looks at; anything longer is no date.
const MAX_DATE_BYTES: usize = 64;
const MAX_TOKENS: usize = 24;

/// Splits `b` into tokens; `None` when too long or a number has more than 9 digits.
fn tokenize(b: &[u8], toks: &mut [Tok; MAX_TOKENS]) -> Option<usize> {
    if b.len() > MAX_DATE_BYTES {
        return None;
    }
    let is_space = |i: usize| matches!(b[i], b' ' | b'\t') || nbsp_len(b, i).is_some();
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let tok = if c.is_ascii_digit() {
            let start = i;
            let mut v = 0u32;
            while i < b.len() && b[i].is_ascii_digit() {
                v = v.wrapping_mul(10).wrapping_add((b[i] - b'0') as u32);
                i += 1;
            }
            if i - start > 9 {
                return None;
            }
            Tok::Num(v, (i - start) as u8)
        } else if is_space(i) {
            while i < b.len() && is_space(i) {
                i += nbsp_len(b, i).unwrap_or(1);
            }
            Tok::Sp
        } else if c.is_ascii_alphabetic() || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphabetic() || b[i] >= 0x80) && !is_space(i) {
                i += 1;
            }
            Tok::Word(start as u8, i as u8)
        } else {
            i += 1;
            Tok::P(c)
        };
        *toks.get_mut(n)? = tok;
        n += 1;
    }
    Some(n)
}

/// A cursor over tokens with the matchers the layouts are written in.
struct Cur<'a> {
    toks: &'a [Tok],
    at: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.at).copied()
    }

    fn done(&self) -> bool {
        self.at == self.toks.len()
    }

    /// A number of `min..=max` digits.
    fn num(&mut self, min: u8, max: u8) -> Option<u32> {
        match self.peek()? {
            Tok::Num(v, len) if (min..=max).contains(&len) => {
                self.at += 1;
                Some(v)
            }
            _ => None,
        }
    }

    /// A 2- or 4-digit year, as a full year.
    fn year(&mut self) -> Option<u32> {
        match self.peek()? {
            Tok::Num(v, len @ (2 | 4)) => {
                self.at += 1;
                Some(full_year(v, len))
            }
            _ => None,
        }
    }

    fn year4(&mut self) -> Option<u32> {
        self.num(4, 4)
    }

    fn p(&mut self, c: u8) -> Option<()> {
        (self.peek()? == Tok::P(c)).then(|| self.at += 1)
    }

    fn opt_p(&mut self, c: u8) {
        let _ = self.p(c);
    }

    fn sp(&mut self) -> Option<()> {
        (self.peek()? == Tok::Sp).then(|| self.at += 1)
    }

    fn opt_sp(&mut self) {
        let _ = self.sp();
    }

    fn word(&mut self) -> Option<(u8, u8)> {
        match self.peek()? {
            Tok::Word(s, e) => {
                self.at += 1;
                Some((s, e))
            }
            _ => None,
        }
    }
}

/// A matched date before validation: the month as a number or a word's span.
#[derive(Debug, Clone, Copy)]
enum Month {
    Num(u32),
    Word(u8, u8),
}

#[derive(Debug, Clone, Copy)]
struct RawDate {
    y: u32,
    m: Month,
    d: u32,
    /// A numeric slash date read in the site's order.
    slash: bool,
}

/// The date layouts, tried in order; each returns the date and leaves the cursor after it.
fn match_date(c: &mut Cur, site: &SiteProfile) -> Option<RawDate> {
    type Layout = fn(&mut Cur, &SiteProfile) -> Option<RawDate>;
    const LAYOUTS: [Layout; 8] = [
        // 2024-03-15
        |c, _| {
            let y = c.year4()?;
            c.p(b'-')?;
            let m = c.num(1, 2)?;
            c.p(b'-')?;
            let d = c.num(1, 2)?;
            Some(RawDate {
                y,
                m: Month::Num(m),
                d,
                slash: false,
            })
        },
        // 2024/03/15
        |c, _| {
            let y = c.year4()?;
            c.p(b'/')?;
            let m = c.num(1, 2)?;
            c.p(b'/')?;
            let d = c.num(1, 2)?;
            Some(RawDate {
                y,
                m: Month::Num(m),
                d,
                slash: false,
            })
        },
        // 03/15/2024 (US) or 15/03/2024, 2- or 4-digit year
        |c, site| {
            let a = c.num(1, 2)?;
            c.p(b'/')?;
            let b = c.num(1, 2)?;
            c.p(b'/')?;
            let y = c.year()?;
            let (m, d) = if site.month_first { (a, b) } else { (b, a) };
            Some(RawDate {
                y,
                m: Month::Num(m),
                d,
                slash: true,
            })
        },
        // 15.03.2024, 15.03.24
        |c, _| {
            let d = c.num(1, 2)?;
            c.p(b'.')?;
            let m = c.num(1, 2)?;
            c.p(b'.')?;
            let y = c.year()?;
            Some(RawDate {
                y,
                m: Month::Num(m),
                d,
                slash: false,
            })
        },
        // Mar-15-24, Mar-15-2024
        |c, _| {
            let (s, e) = c.word()?;
            c.p(b'-')?;
            let d = c.num(1, 2)?;
            c.p(b'-')?;
            let y = c.year()?;
            Some(RawDate {
                y,
                m: Month::Word(s, e),
                d,
                slash: false,
            })
        },
        // 15-Mar-24, 10-Dez-25
        |c, _| {
            let d = c.num(1, 2)?;
            c.p(b'-')?;
            let (s, e) = c.word()?;
            c.p(b'-')?;
            let y = c.year()?;
            Some(RawDate {
                y,
                m: Month::Word(s, e),
                d,
                slash: false,
            })
        },
        // Mar 15, 2024 / Mar 15 2024 / Dez. 29, 2025
        |c, _| {
            let (s, e) = c.word()?;
            c.opt_p(b'.');
            c.sp()?;
            let d = c.num(1, 2)?;
            if c.p(b',').is_some() {
                c.opt_sp();
            } else {
                c.sp()?;
            }
            let y = c.year4()?;
            Some(RawDate {
                y,
                m: Month::Word(s, e),
                d,
                slash: false,
            })
        },
        // 15 Mar 2024 / 15. März 2024
        |c, _| {
            let d = c.num(1, 2)?;
            c.opt_p(b'.');
            c.sp()?;
            let (s, e) = c.word()?;
            c.opt_p(b'.');
            c.sp()?;
            let y = c.year4()?;
            Some(RawDate {
                y,
                m: Month::Word(s, e),
                d,
                slash: false,
            })
        },
    ];
    for layout in LAYOUTS {
        c.at = 0;
        if let Some(raw) = layout(c, site) {
            return Some(raw);
        }
    }
    None
}

const ENGLISH_ABBREVIATIONS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The month (1–12) a name means: an English abbreviation or full name (`Sept` too), or one
/// of the site's spellings; case-insensitive.
fn month_number(word: &str, site: &SiteProfile) -> Option<u32> {
    let english = if word.len() == 3 {
        ENGLISH_ABBREVIATIONS
            .iter()
            .position(|m| word.eq_ignore_ascii_case(m))
    } else {
        MONTH_NAMES
            .iter()
            .position(|m| word.eq_ignore_ascii_case(m))
            .or_else(|| word.eq_ignore_ascii_case("sept").then_some(8))
    };
    if let Some(i) = english {
        return Some(i as u32 + 1);
    }
    let months = site.months?;
    months
        .iter()
        .position(|spellings| spellings.iter().any(|s| eq_fold(word, s)))
        .map(|i| i as u32 + 1)
}

/// After the date: nothing, or a separator (space or `T`) and a time of day, then optionally
/// AM/PM, then optionally `Z`, a zone abbreviation or a zero offset. Seconds since midnight.
fn match_time(c: &mut Cur, v: &str) -> Result<Option<u32>, DateError> {
    let word = |s: u8, e: u8| &v[s as usize..e as usize];
    if c.done() {
        return Ok(None);
    }
    match c.peek() {
        Some(Tok::Sp) => c.at += 1,
        Some(Tok::Word(s, e)) if word(s, e).eq_ignore_ascii_case("t") => c.at += 1,
        _ => return Err(DateError::Unrecognized),
    }
    let clock = (|| {
        let h = c.num(1, 2)?;
        c.p(b':')?;
        let mi = c.num(2, 2)?;
        let mut s = 0;
        if c.p(b':').is_some() {
            s = c.num(2, 2)?;
            if c.p(b'.').is_some() {
                c.num(1, 9)?;
            }
        }
        Some((h, mi, s))
    })();
    let (mut h, mi, s) = clock.ok_or(DateError::Unrecognized)?;
    // AM / PM, attached or after a space.
    let before = c.at;
    c.opt_sp();
    let mut meridiem = None;
    if let Some(Tok::Word(ws, we)) = c.peek() {
        let w = word(ws, we);
        if w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm") {
            meridiem = Some(w.eq_ignore_ascii_case("pm"));
            c.at += 1;
        }
    }
    if meridiem.is_none() {
        c.at = before;
    }
    // Z or a zone abbreviation (PDT, CEST): dropped, the wall clock is kept.
    let before = c.at;
    c.opt_sp();
    match c.peek() {
        Some(Tok::Word(ws, we))
            if (1..=5).contains(&(we - ws))
                && word(ws, we).bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            c.at += 1
        }
        _ => c.at = before,
    }
    // An offset: only a zero one is accepted.
    c.opt_sp();
    if let Some(Tok::P(b'+' | b'-')) = c.peek() {
        c.at += 1;
        let zero = match (c.peek(), c.toks.get(c.at + 1), c.toks.get(c.at + 2)) {
            (Some(Tok::Num(h, 2)), Some(Tok::P(b':')), Some(&Tok::Num(m, 2))) => {
                c.at += 3;
                h == 0 && m == 0
            }
            (Some(Tok::Num(v, 2 | 4)), _, _) => {
                c.at += 1;
                v == 0
            }
            _ => return Err(DateError::Unrecognized),
        };
        if !zero {
            return Err(DateError::Offset);
        }
    }
    if !c.done() {
        return Err(DateError::Unrecognized);
    }
    match meridiem {
        Some(pm) => {
            if !(1..=12).contains(&h) {
                return Err(DateError::BadTime);
            }
            h = h % 12 + if pm { 12 } else { 0 };
        }
        None if h > 23 => return Err(DateError::BadTime),
        None => {}
    }
    if mi > 59 || s > 59 {
        return Err(DateError::BadTime);
    }
    Ok(Some(h * 3600 + mi * 60 + s))
}

fn general(v: &str, site: &SiteProfile) -> Result<Parsed, DateError> {
    let mut toks = [Tok::Sp; MAX_TOKENS];
    let n = tokenize(v.as_bytes(), &mut toks).ok_or(DateError::Unrecognized)?;
    let mut c = Cur {
        toks: &toks[..n],
        at: 0,
    };
    let raw = match_date(&mut c, site).ok_or(DateError::Unrecognized)?;
    let m = match raw.m {
        Month::Num(m) => m,
        Month::Word(s, e) => {
            month_number(&v[s as usize..e as usize], site).ok_or(DateError::UnknownMonth(s, e))?
        }
    };
    let time = match_time(&mut c, v)?;
    let days = ymd(raw.y, m, raw.d, raw.slash)?;
    Ok((days, time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::*;
    use arrow_schema::{DataType, TimeUnit};
    use chrono::{NaiveDate, NaiveDateTime};
    use ErrorCode::*;

    fn site(code: &str) -> &'static SiteProfile {
        SiteProfile::by_code(code).unwrap()
    }

    fn days(y: i32, m: u32, d: u32) -> i32 {
        (NaiveDate::from_ymd_opt(y, m, d).unwrap() - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days() as i32
    }

    fn secs(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp()
    }

    /// Asserts every value parses with `date` to `expected` (YYYY-MM-DD).
    #[track_caller]
    fn dates_ok(code: &str, cases: &[(&str, &str)]) {
        let values: Vec<&str> = cases.iter().map(|c| c.0).collect();
        let (out, errs) = date(&some(&values), site(code));
        assert!(errs.is_empty(), "{code}: {errs:#?}");
        for (i, (v, want)) in cases.iter().enumerate() {
            let want = NaiveDate::parse_from_str(want, "%Y-%m-%d").unwrap();
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            assert_eq!(
                out.value(i) as i64,
                (want - epoch).num_days(),
                "{code}: {v}"
            );
        }
    }

    /// Asserts every value parses with `datetime` to `expected` (YYYY-MM-DD HH:MM:SS).
    #[track_caller]
    fn datetimes_ok(code: &str, cases: &[(&str, &str)]) {
        let values: Vec<&str> = cases.iter().map(|c| c.0).collect();
        let (out, errs) = datetime(&some(&values), site(code));
        assert!(errs.is_empty(), "{code}: {errs:#?}");
        for (i, (v, want)) in cases.iter().enumerate() {
            assert_eq!(out.value(i), secs(want), "{code}: {v}");
        }
    }

    /// Every value is an InvalidDate error (for both kernels) whose message has the needles.
    #[track_caller]
    fn both_bad(code: &str, values: &[&str], needles: &[&str]) {
        let (d, derrs) = date(&some(values), site(code));
        let (t, terrs) = datetime(&some(values), site(code));
        assert_eq!(d.null_count(), values.len(), "{code}: {derrs:?}");
        assert_eq!(t.null_count(), values.len(), "{code}: {terrs:?}");
        for errs in [&derrs, &terrs] {
            assert_eq!(errs.len(), values.len(), "{code}: {errs:?}");
            for (i, e) in errs.iter().enumerate() {
                assert_eq!(e.row, i);
                assert_eq!(e.code, InvalidDate, "{e:?}");
                assert!(e.message.contains(&quoted(values[i])), "{e:?}");
                for n in needles {
                    assert!(e.message.contains(n), "{:?} lacks {n:?}", e.message);
                }
            }
        }
    }

    #[test]
    fn output_types() {
        let (d, _) = date(&some(&["2024-01-01"]), site("US"));
        let (t, _) = datetime(&some(&["2024-01-01"]), site("US"));
        assert_eq!(d.data_type(), &DataType::Date32);
        assert_eq!(t.data_type(), &DataType::Timestamp(TimeUnit::Second, None));
    }

    #[test]
    fn nulls_and_blanks_are_null_without_errors() {
        let values = col(&[None, Some(""), Some("   ")]);
        let (d, derrs) = date(&values, site("US"));
        let (t, terrs) = datetime(&values, site("US"));
        assert_eq!((d.null_count(), t.null_count()), (3, 3));
        assert!(derrs.is_empty() && terrs.is_empty());
    }

    #[test]
    fn civil_days_match_chrono() {
        for y in [1900, 1969, 1970, 1999, 2000, 2024, 2100, 2199] {
            for m in 1..=12 {
                for d in [1, days_in_month(y, m)] {
                    assert_eq!(
                        days_from_civil(y, m, d),
                        days(y as i32, m, d),
                        "{y}-{m}-{d}"
                    );
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    #[test]
    fn iso_dates_and_datetimes() {
        dates_ok(
            "US",
            &[
                ("2024-03-15", "2024-03-15"),
                (" 2024-03-15 ", "2024-03-15"),
                ("2024-3-5", "2024-03-05"),
                ("2024/03/15", "2024-03-15"),
                ("1970-01-01", "1970-01-01"),
                ("1969-12-31", "1969-12-31"),
                ("2024-03-15 00:00:00", "2024-03-15"),
                ("2024-03-15T00:00", "2024-03-15"),
                ("2024-03-15T00:00:00Z", "2024-03-15"),
                ("2024-03-15 12:00 AM", "2024-03-15"),
            ],
        );
        datetimes_ok(
            "US",
            &[
                ("2024-03-15", "2024-03-15 00:00:00"),
                ("2024-03-15 14:03:00", "2024-03-15 14:03:00"),
                ("2024-03-15T14:03:07", "2024-03-15 14:03:07"),
                ("2024-03-15T14:03:07Z", "2024-03-15 14:03:07"),
                ("2024-03-15 14:03", "2024-03-15 14:03:00"),
                ("2024-03-15 9:03", "2024-03-15 09:03:00"),
                ("2024-03-15T14:03:07.123Z", "2024-03-15 14:03:07"),
                ("2024-03-15T14:03:07+00:00", "2024-03-15 14:03:07"),
                ("2024-03-15T14:03:07-0000", "2024-03-15 14:03:07"),
                ("2024-03-15 14:03:07 UTC", "2024-03-15 14:03:07"),
                ("1969-12-31 23:59:59", "1969-12-31 23:59:59"),
                ("2024-03-15 23:59:59", "2024-03-15 23:59:59"),
            ],
        );
    }

    #[test]
    fn slash_dates_follow_the_site_order() {
        dates_ok(
            "US",
            &[
                ("03/15/2024", "2024-03-15"),
                ("3/5/2024", "2024-03-05"),
                ("1/2/2024", "2024-01-02"),
                ("03/15/24", "2024-03-15"),
                ("12/31/99", "1999-12-31"),
            ],
        );
        dates_ok(
            "UK",
            &[
                ("15/03/2024", "2024-03-15"),
                ("1/2/2024", "2024-02-01"),
                ("15/03/24", "2024-03-15"),
            ],
        );
        datetimes_ok(
            "US",
            &[
                ("03/15/2024 14:03:00", "2024-03-15 14:03:00"),
                ("3/15/2024 2:03 PM", "2024-03-15 14:03:00"),
                ("3/15/2024 12:03:09 am", "2024-03-15 00:03:09"),
                ("3/15/2024 12:00 PM", "2024-03-15 12:00:00"),
                ("3/15/2024 11:59PM", "2024-03-15 23:59:00"),
            ],
        );
        datetimes_ok("AU", &[("15/03/2024 14:03:00", "2024-03-15 14:03:00")]);
    }

    #[test]
    fn slash_dates_are_never_swapped() {
        both_bad(
            "US",
            &["15/03/2024", "13/01/24"],
            &["does not exist", "US site", "month/day/year"],
        );
        both_bad(
            "UK",
            &["03/15/2024", "1/13/2024"],
            &["does not exist", "UK site", "day/month/year"],
        );
    }

    #[test]
    fn ebay_month_name_dates() {
        dates_ok(
            "US",
            &[
                ("Mar-15-24", "2024-03-15"),
                ("mar-15-24", "2024-03-15"),
                ("MAR-5-2024", "2024-03-05"),
                ("Mar 15, 2024", "2024-03-15"),
                ("Mar 15,2024", "2024-03-15"),
                ("Mar 15 2024", "2024-03-15"),
                ("March 15, 2024", "2024-03-15"),
                ("Sept 1, 2024", "2024-09-01"),
                ("September 1 2024", "2024-09-01"),
                ("Sep-01-24", "2024-09-01"),
                ("15-Mar-24", "2024-03-15"),
                ("15-Mar-2024", "2024-03-15"),
                ("15 Mar 2024", "2024-03-15"),
                ("15 March 2024", "2024-03-15"),
                ("May-01-24", "2024-05-01"),
                ("Dec-31-24", "2024-12-31"),
                ("Mar-15-24 00:00:00 PDT", "2024-03-15"),
            ],
        );
        datetimes_ok(
            "US",
            &[
                ("Mar-15-24 14:03:00", "2024-03-15 14:03:00"),
                ("Apr-23-20 22:19:51 PDT", "2020-04-23 22:19:51"),
                ("Nov-03-24 01:30:00 PST", "2024-11-03 01:30:00"),
                ("Mar 15, 2024 14:03", "2024-03-15 14:03:00"),
                ("Mar 15, 2024 2:03:04 PM", "2024-03-15 14:03:04"),
                ("15-Mar-24 14:03:00", "2024-03-15 14:03:00"),
            ],
        );
    }

    #[test]
    fn two_digit_year_pivot() {
        dates_ok(
            "US",
            &[
                ("Jan-01-69", "2069-01-01"),
                ("Jan-01-70", "1970-01-01"),
                ("Jan-01-00", "2000-01-01"),
                ("Dec-31-99", "1999-12-31"),
                ("01/01/69", "2069-01-01"),
                ("01/01/70", "1970-01-01"),
                ("01.01.69", "2069-01-01"),
                ("01-Jan-70", "1970-01-01"),
            ],
        );
    }

    #[test]
    fn leap_days() {
        dates_ok(
            "US",
            &[
                ("2024-02-29", "2024-02-29"),
                ("2000-02-29", "2000-02-29"),
                ("Feb-29-24", "2024-02-29"),
                ("02/29/2024", "2024-02-29"),
            ],
        );
        dates_ok("DE", &[("29.02.2024", "2024-02-29")]);
        both_bad(
            "US",
            &["2023-02-29", "1900-02-29", "2100-02-29"],
            &["is not a calendar date", "February", "has 28 days"],
        );
        both_bad(
            "US",
            &["2024-02-30", "Feb-30-24"],
            &["February 2024 has 29 days", "day 30"],
        );
        both_bad(
            "US",
            &["2024-04-31", "2024-01-00", "2024-01-32"],
            &["is not a calendar date"],
        );
    }

    #[test]
    fn german_site_dates() {
        dates_ok(
            "DE",
            &[
                ("10-Dez-25", "2025-12-10"),
                ("15-Mär-24", "2024-03-15"),
                ("15-MÄR-24", "2024-03-15"),
                ("15-mrz-24", "2024-03-15"),
                ("01-Mai-24", "2024-05-01"),
                ("03-Okt-24", "2024-10-03"),
                ("03-Jän-24", "2024-01-03"),
                ("15-Mar-24", "2024-03-15"),
                ("15.03.2024", "2024-03-15"),
                ("15.03.24", "2024-03-15"),
                ("5.3.2024", "2024-03-05"),
                ("Dez 29, 2025", "2025-12-29"),
                ("Dez. 29, 2025", "2025-12-29"),
                ("29. Dez 2025", "2025-12-29"),
                ("Okt-03-24", "2024-10-03"),
                ("15/03/2024", "2024-03-15"),
            ],
        );
        datetimes_ok(
            "DE",
            &[
                ("10-Dez-25 14:03:00", "2025-12-10 14:03:00"),
                ("15.03.2024 14:03", "2024-03-15 14:03:00"),
                ("15.03.2024 14:03:09 MESZ", "2024-03-15 14:03:09"),
            ],
        );
        // German month names are not accepted on the US site.
        both_bad(
            "US",
            &["10-Dez-25"],
            &["\"Dez\" is not a month name", "English"],
        );
        both_bad(
            "DE",
            &["10-Dezi-25"],
            &["\"Dezi\" is not a month name", "DE site's (mär, dez"],
        );
    }

    #[test]
    fn french_and_italian_months() {
        dates_ok(
            "FR",
            &[
                ("15-févr-24", "2024-02-15"),
                ("01-août-24", "2024-08-01"),
                ("01-Déc-24", "2024-12-01"),
            ],
        );
        dates_ok(
            "IT",
            &[
                ("15-gen-24", "2024-01-15"),
                ("01-dic-24", "2024-12-01"),
                ("Ago 3, 2024", "2024-08-03"),
            ],
        );
    }

    #[test]
    fn date_column_rejects_a_time_of_day() {
        let (out, errs) = date(
            &some(&["2024-03-15 14:03:00", "Mar-15-24 00:00:01", "2024-03-15"]),
            site("US"),
        );
        assert_eq!(out.null_count(), 2);
        assert_eq!(codes(&errs), vec![(0, InvalidDate), (1, InvalidDate)]);
        assert_error(&errs, 0, InvalidDate, &["has a time of day", "dates only"]);
    }

    #[test]
    fn invalid_times() {
        both_bad(
            "US",
            &[
                "2024-03-15 24:00:00",
                "2024-03-15 12:60",
                "2024-03-15 12:00:60",
                "3/15/2024 13:00 PM",
                "3/15/2024 0:10 AM",
            ],
            &["invalid time of day", "HH:MM"],
        );
    }

    #[test]
    fn offsets_other_than_zero_are_rejected() {
        both_bad(
            "US",
            &[
                "2024-03-15T14:03:00+01:00",
                "2024-03-15 14:03:00 -0700",
                "2024-03-15T14:03:00Z+02",
                "2024-03-15T14:03:00+00:30",
            ],
            &["time-zone offset", "wall-clock", "remove the offset"],
        );
    }

    #[test]
    fn bad_months_and_years() {
        both_bad(
            "US",
            &["2024-13-01", "2024-00-10", "31.13.2024"],
            &["month", "does not exist"],
        );
        both_bad("US", &["1024-03-15", "2200-01-01"], &["outside 1900–2199"]);
        both_bad("US", &["Foo-15-24"], &["\"Foo\" is not a month name"]);
    }

    #[test]
    fn unrecognized_values_name_the_formats() {
        let values = [
            "yesterday",
            "15-03-2024",
            "2024-03",
            "20240315",
            "03/15",
            "03/15/024",
            "2024-03-15 14",
            "2024-03-15 14:3",
            "2024-03-15X14:03",
            "2024-03-15 14:03:00 PDTXYZ",
            "2024-03-15 14:03:00 foo bar",
            "Mar 15",
            "Mar 15, 24",
            "2024-03-15 14:03:00+",
            "4.07197E+11",
            "2024-03-15,",
            &"2024-03-15 ".repeat(10),
            "1234567890-01-01",
        ];
        both_bad(
            "US",
            &values,
            &[
                "is not a date in a known format",
                "YYYY-MM-DD",
                "MM/DD/YYYY",
                "Mar-15-24",
            ],
        );
        let (_, errs) = datetime(&some(&["yesterday"]), site("DE"));
        assert_error(
            &errs,
            0,
            InvalidDate,
            &["DD/MM/YYYY", "DD.MM.YYYY", "15-Mar-24", "HH:MM:SS"],
        );
        let (_, errs) = date(&some(&["yesterday"]), site("DE"));
        assert!(!errs[0].message.contains("HH:MM"));
    }

    #[test]
    fn fast_path_agrees_with_general_path() {
        for v in [
            "2024-03-15",
            "2024-03-15 14:03:00",
            "2024-03-15T14:03:00",
            "2024-03-15T14:03:00Z",
            "2000-02-29",
            "Mar-15-24",
            "mar-15-2024",
            "DEC-31-99 23:59:59",
            "Feb-29-24T00:00:00Z",
        ] {
            assert_eq!(
                fast_fixed(v.as_bytes()),
                Some(general(v, site("US")).unwrap()),
                "{v}"
            );
        }
        for v in [
            "2023-02-29",
            "2024-03-15 24:00:00",
            "2024-03-15X14:03:00",
            "2024-03-1514:03:00x",
            "abcd-ef-gh",
            "Feb-29-23",
            "Mar-15-241",
            "Mar-5-24",
            "Mrz-15-24",
            "Mär-15-24",
            "Mar-15-24 14:03",
        ] {
            assert_eq!(fast_fixed(v.as_bytes()), None, "{v}");
        }
    }

    /// Whatever the fast path accepts, on random values shaped like its layouts (and broken
    /// ones), the general path accepts with the same result, on every site.
    #[test]
    fn fast_path_never_disagrees_on_random_values() {
        let years = ["2024", "24", "1899", "99", "2024x", "202", "00"];
        let months = [
            "03", "13", "00", "3", "Mar", "mar", "DEC", "Mär", "Mrz", "Sept",
        ];
        let days = ["15", "29", "31", "00", "5", "32", "30"];
        let seps = ["-", "/", "--", ""];
        let times = [
            "",
            " 14:03:00",
            "T14:03:00",
            " 24:00:00",
            " 14:03",
            "T14:03:00Z",
            "Z",
            " 14:03:00 PM",
            " 9:03:00",
            " 14:60:00",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut pick = move |n: usize| rng.usize(..n);
        let mut accepted = 0;
        for _ in 0..200_000 {
            let (y, m, d) = (years[pick(7)], months[pick(10)], days[pick(7)]);
            let (s1, s2, t) = (seps[pick(4)], seps[pick(4)], times[pick(10)]);
            let v = if pick(2) == 0 {
                format!("{y}{s1}{m}{s2}{d}{t}")
            } else {
                format!("{m}{s1}{d}{s2}{y}{t}")
            };
            if let Some(fast) = fast_fixed(v.as_bytes()) {
                accepted += 1;
                for code in ["US", "UK", "DE", "FR"] {
                    assert_eq!(general(&v, site(code)), Ok(fast), "{v:?} on {code}");
                }
            }
        }
        assert!(
            accepted > 100,
            "the generator hits the fast path ({accepted})"
        );
    }

    #[test]
    fn tokenizer() {
        let mut toks = [Tok::Sp; MAX_TOKENS];
        let n = tokenize("Mär 5,\u{a0} 2024".as_bytes(), &mut toks).unwrap();
        assert_eq!(
            &toks[..n],
            &[
                Tok::Word(0, 4),
                Tok::Sp,
                Tok::Num(5, 1),
                Tok::P(b','),
                Tok::Sp,
                Tok::Num(2024, 4)
            ]
        );
        assert!(tokenize(b"1234567890", &mut toks).is_none());
        assert!(tokenize("1 ".repeat(13).as_bytes(), &mut toks).is_none());
    }
}
