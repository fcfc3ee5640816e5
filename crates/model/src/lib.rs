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
/// offset is 0-based in the UTF-8 stream the reader parses (the file itself for UTF-8 input);
/// the record number is the 1-based ordinal of the CSV record in the file, header included.
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub line: u64,
    pub reason: SkipReason,
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
}
