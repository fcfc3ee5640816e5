//! The shared vocabulary of the import pipeline: reject codes, record positions and site
//! profiles. Every stage speaks these types, so a reject made by the reader, a kernel or the
//! row model reads the same in the database, the CSV report and the JSON summary.

pub mod crash;
mod shown;
mod site;
pub mod stop;

pub use shown::{
    escape_controls, is_hidden_control, quoted, shown, shown_list, truncate_chars, SHOWN_CHARS,
    SHOWN_NAMES,
};
pub use site::{SiteProfile, SITES};

use serde::Serialize;
use std::fmt;
use std::ops::Range;

/// Why a record (or one value of it) was rejected. The `as_str` names are the public,
/// documented codes; they never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MissingColumns,
    TooManyColumns,
    UnterminatedQuote,
    LineTooLong,
    InvalidEncoding,
    MissingValue,
    InvalidFormat,
    ScientificNotation,
    InvalidEmail,
    InvalidMoney,
    InvalidNumber,
    OutOfRange,
    InvalidDate,
    InvalidBoolean,
    InvalidEnum,
    TooLong,
    ControlCharacters,
    OrderIncomplete,
    DuplicateKey,
    /// A warning, not a reject: a date a spreadsheet rewrote (`9/8/2026` where eBay writes
    /// `Sep-08-26`), accepted.
    ReformattedDate,
    /// A warning beside an `invalid_date` reject: a numeric date that is no date in the site's
    /// order but is one read the other way round (`15/03/2024` on a month-first site).
    DateOrder,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::MissingColumns,
        ErrorCode::TooManyColumns,
        ErrorCode::UnterminatedQuote,
        ErrorCode::LineTooLong,
        ErrorCode::InvalidEncoding,
        ErrorCode::MissingValue,
        ErrorCode::InvalidFormat,
        ErrorCode::ScientificNotation,
        ErrorCode::InvalidEmail,
        ErrorCode::InvalidMoney,
        ErrorCode::InvalidNumber,
        ErrorCode::OutOfRange,
        ErrorCode::InvalidDate,
        ErrorCode::InvalidBoolean,
        ErrorCode::InvalidEnum,
        ErrorCode::TooLong,
        ErrorCode::ControlCharacters,
        ErrorCode::OrderIncomplete,
        ErrorCode::DuplicateKey,
        ErrorCode::ReformattedDate,
        ErrorCode::DateOrder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingColumns => "missing_columns",
            ErrorCode::TooManyColumns => "too_many_columns",
            ErrorCode::UnterminatedQuote => "unterminated_quote",
            ErrorCode::LineTooLong => "line_too_long",
            ErrorCode::InvalidEncoding => "invalid_encoding",
            ErrorCode::MissingValue => "missing_value",
            ErrorCode::InvalidFormat => "invalid_format",
            ErrorCode::ScientificNotation => "scientific_notation",
            ErrorCode::InvalidEmail => "invalid_email",
            ErrorCode::InvalidMoney => "invalid_money",
            ErrorCode::InvalidNumber => "invalid_number",
            ErrorCode::OutOfRange => "out_of_range",
            ErrorCode::InvalidDate => "invalid_date",
            ErrorCode::InvalidBoolean => "invalid_boolean",
            ErrorCode::InvalidEnum => "invalid_enum",
            ErrorCode::TooLong => "too_long",
            ErrorCode::ControlCharacters => "control_characters",
            ErrorCode::OrderIncomplete => "order_incomplete",
            ErrorCode::DuplicateKey => "duplicate_key",
            ErrorCode::ReformattedDate => "reformatted_date",
            ErrorCode::DateOrder => "date_order",
        }
    }

    pub fn parse(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record starts in the input. Lines are 1-based physical lines (every line of the
/// file counts: preamble, header, blank lines and the extra lines of quoted newlines); the byte
/// offset is 0-based in the UTF-8 stream the reader parses (the file itself for uncompressed
/// UTF-8 input, else the decompressed, transcoded stream); the record number is the 1-based ordinal of the CSV record in the file, header included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct Position {
    pub line: u64,
    pub byte: u64,
    pub record: u64,
}

/// One rejected record or value, as reported to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub line: u64,
    pub record: u64,
    /// The canonical field (or file header, for structural faults) the problem is in.
    pub column: Option<String>,
    pub code: ErrorCode,
    pub message: String,
    /// The offending value, truncated to [`MAX_VALUE_CHARS`].
    pub value: Option<String>,
    /// The raw record text, truncated to [`MAX_RAW_CHARS`].
    pub raw: Option<String>,
}

pub const MAX_VALUE_CHARS: usize = 200;
pub const MAX_RAW_CHARS: usize = 1000;

/// Why a row was skipped: framing, not data and not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Rows before the header row.
    Preamble,
    /// A genuinely blank line.
    BlankLine,
    /// Every field present and empty (eBay's padding row, spreadsheet padding).
    EmptyRow,
    /// `N,record(s) downloaded,...`
    FooterCount,
    /// `Seller ID : name`
    FooterSeller,
    /// File Exchange `Info,...` / `#INFO,...` rows.
    InfoRow,
    /// A `sep=X` spreadsheet hint line.
    SeparatorHint,
}

impl SkipReason {
    /// Every reason, in declaration order (`reason as usize` is its index here).
    pub const ALL: [SkipReason; 7] = [
        SkipReason::Preamble,
        SkipReason::BlankLine,
        SkipReason::EmptyRow,
        SkipReason::FooterCount,
        SkipReason::FooterSeller,
        SkipReason::InfoRow,
        SkipReason::SeparatorHint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Preamble => "preamble",
            SkipReason::BlankLine => "blank_line",
            SkipReason::EmptyRow => "empty_row",
            SkipReason::FooterCount => "footer_record_count",
            SkipReason::FooterSeller => "footer_seller_id",
            SkipReason::InfoRow => "info_row",
            SkipReason::SeparatorHint => "separator_hint",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub line: u64,
    pub reason: SkipReason,
}

/// Skipped rows counted per reason, with the lines of the first few of each reason: a file
/// of millions of blank lines costs a counter, not a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkipSummary {
    counts: [u64; SkipReason::ALL.len()],
    /// The first [`Self::LISTED_PER_REASON`] rows of each reason, in the order added.
    listed: Vec<Skipped>,
}

impl SkipSummary {
    /// Rows listed per reason. The header is searched in the first 20 rows, so every row of a
    /// preamble is listed.
    pub const LISTED_PER_REASON: u64 = 20;

    pub fn add(&mut self, line: u64, reason: SkipReason) {
        self.add_lines(line..line + 1, reason);
    }

    /// Adds consecutive lines skipped for one reason (a run of blank lines).
    pub fn add_lines(&mut self, lines: Range<u64>, reason: SkipReason) {
        let count = &mut self.counts[reason as usize];
        let room = Self::LISTED_PER_REASON.saturating_sub(*count) as usize;
        let listed = lines
            .clone()
            .take(room)
            .map(|line| Skipped { line, reason });
        self.listed.extend(listed);
        *count += lines.end.saturating_sub(lines.start);
    }

    /// Adds `later`, whose rows all come after the rows added so far.
    pub fn append(&mut self, later: &SkipSummary) {
        let mut room = self
            .counts
            .map(|n| Self::LISTED_PER_REASON.saturating_sub(n));
        for s in &later.listed {
            let left = &mut room[s.reason as usize];
            if *left > 0 {
                *left -= 1;
                self.listed.push(*s);
            }
        }
        for (n, m) in self.counts.iter_mut().zip(later.counts) {
            *n += m;
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn count(&self, reason: SkipReason) -> u64 {
        self.counts[reason as usize]
    }

    /// The first rows of each reason, in file order.
    pub fn listed(&self) -> &[Skipped] {
        &self.listed
    }

    /// The reasons that occurred, with their counts.
    pub fn counts(&self) -> impl Iterator<Item = (SkipReason, u64)> + '_ {
        SkipReason::ALL
            .into_iter()
            .zip(self.counts)
            .filter(|&(_, n)| n > 0)
    }
}

/// What the report footer said, kept in the job's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Footer {
    pub record_count: Option<u64>,
    pub seller_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_by_name() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn skip_reasons_index_their_own_slot() {
        for (i, reason) in SkipReason::ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, i, "{reason:?}");
        }
    }

    #[test]
    fn a_skip_summary_counts_everything_and_lists_the_first_of_each_reason() {
        let mut s = SkipSummary::default();
        s.add(1, SkipReason::Preamble);
        s.add_lines(2..10_000_002, SkipReason::BlankLine);
        s.add(10_000_002, SkipReason::FooterCount);
        assert_eq!(s.total(), 10_000_002);
        assert_eq!(s.count(SkipReason::BlankLine), 10_000_000);
        assert_eq!(s.listed().len(), 22);
        let blank: Vec<u64> = s.listed()[1..21].iter().map(|k| k.line).collect();
        assert_eq!(blank, (2..22).collect::<Vec<u64>>());
        assert_eq!(
            s.counts().collect::<Vec<_>>(),
            vec![
                (SkipReason::Preamble, 1),
                (SkipReason::BlankLine, 10_000_000),
                (SkipReason::FooterCount, 1)
            ]
        );
    }

    #[test]
    fn appended_summaries_keep_the_first_rows_in_file_order() {
        let mut first = SkipSummary::default();
        first.add_lines(1..16, SkipReason::BlankLine);
        let mut later = SkipSummary::default();
        later.add(20, SkipReason::EmptyRow);
        later.add_lines(21..1_000, SkipReason::BlankLine);
        first.append(&later);
        assert_eq!(first.count(SkipReason::BlankLine), 15 + 979);
        let blank: Vec<u64> = first
            .listed()
            .iter()
            .filter(|k| k.reason == SkipReason::BlankLine)
            .map(|k| k.line)
            .collect();
        assert_eq!(blank, (1..16).chain(21..26).collect::<Vec<u64>>());
        assert_eq!(
            first.listed()[15],
            Skipped {
                line: 20,
                reason: SkipReason::EmptyRow
            }
        );
        // Nothing more is listed once a reason has its rows, however much is appended.
        for _ in 0..1_000 {
            first.append(&later);
        }
        assert_eq!(
            first.listed().len(),
            2 * SkipSummary::LISTED_PER_REASON as usize
        );
        assert_eq!(first.count(SkipReason::EmptyRow), 1_001);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("äöü", 2), "äö…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}
