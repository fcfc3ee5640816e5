//! Finding the header row by content and deciding the import type and the site.

use ebay_import_map::{
    detect, detect_site, Detection, HeaderMapping, ImportSchema, Variant, MIN_HEADER_SCORE, SCHEMAS,
};
use ebay_import_model::{SiteProfile, SkipReason, SkipSummary};
use ebay_import_read::OwnedRecord;

/// Rows searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the file is empty: no header row")]
    Empty,
    #[error("the first row is longer than {0} bytes, which no header row is: check that this is a CSV export")]
    LongFirstRow(usize),
    #[error("unknown import type {0:?}; known types: {1}")]
    UnknownType(String, String),
    #[error("unknown site {0:?}; known sites: US, UK, AU, DE, FR, IT")]
    UnknownSite(String),
    #[error("no {0} header row in the first {HEADER_SEARCH_ROWS} rows; expected column names such as {1}")]
    NoHeader(String, String),
    #[error("the header matches no import type; closest: {0}")]
    NoMatch(String),
    #[error("the header matches several import types ({0}); pick one with --type")]
    Ambiguous(String),
    #[error("required columns are missing: {missing}; the header has: {found}")]
    MissingColumns { missing: String, found: String },
}

/// The header row of a file and what it maps to.
#[derive(Debug, Clone)]
pub struct Header {
    /// Index of the header among the peeked records.
    pub index: usize,
    pub record: OwnedRecord,
    /// `None` for a CSV of no known import type (only `inspect` accepts those).
    pub mapping: Option<HeaderMapping>,
    pub site: Option<&'static SiteProfile>,
    /// The known layout the header is in.
    pub variant: Option<&'static Variant>,
    /// Rows before the header, skipped.
    pub skipped: SkipSummary,
}

/// Opens `stream`, sniffs its dialect and finds its header row among the first records.
pub fn open_with_header(
    stream: Box<dyn std::io::Read + Send>,
    read: &ebay_import_read::ReadOptions,
    forced_type: Option<&str>,
    forced_site: Option<&str>,
    require_type: bool,
) -> Result<(ebay_import_read::CsvSource, Header), crate::ImportError> {
    let mut source = ebay_import_read::CsvSource::open(stream, read)?;
    let peeked = source.peek_records(HEADER_SEARCH_ROWS + 1)?;
    if peeked.is_empty() && !source.input_ended() {
        let limit = read.max_record_bytes.min(ebay_import_read::PEEK_MAX_BYTES);
        return Err(HeaderError::LongFirstRow(limit).into());
    }
    let header = find_header(
        &peeked,
        forced_type,
        forced_site,
        source.separator_hint,
        require_type,
    )?;
    Ok((source, header))
}

/// Picks the header among the first records: the row naming the most known columns (at least
/// [`MIN_HEADER_SCORE`]) of the forced type or of any type; else, for `inspect`, the first
/// row that is not empty.
pub fn find_header(
    records: &[OwnedRecord],
    forced_type: Option<&str>,
    forced_site: Option<&str>,
    separator_hint: bool,
    require_type: bool,
) -> Result<Header, HeaderError> {
    let schemas: Vec<&'static ImportSchema> = match forced_type {
        Some(t) => vec![ImportSchema::by_name(t).ok_or_else(|| {
            HeaderError::UnknownType(
                t.to_string(),
                SCHEMAS
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?],
        None => SCHEMAS.to_vec(),
    };
    let site = match forced_site {
        Some(s) => {
            Some(SiteProfile::by_code(s).ok_or_else(|| HeaderError::UnknownSite(s.to_string()))?)
        }
        None => None,
    };
    let first = usize::from(separator_hint);
    let candidates = records
        .iter()
        .enumerate()
        .skip(first)
        .take(HEADER_SEARCH_ROWS);
    let mut best: Option<(usize, usize)> = None;
    for (i, rec) in candidates.clone() {
        let score = schemas
            .iter()
            .map(|s| s.map_header(&rec.fields).matched())
            .max()
            .unwrap_or(0);
        if score >= MIN_HEADER_SCORE && best.is_none_or(|(_, b)| score > b) {
            best = Some((i, score));
        }
    }
    let index = match best {
        Some((i, _)) => i,
        None if require_type || forced_type.is_some() => {
            let first_row = candidates
                .clone()
                .map(|(_, r)| r)
                .find(|r| r.fields.iter().any(|f| !f.trim().is_empty()));
            return Err(match (forced_type, first_row) {
                (_, None) => HeaderError::Empty,
                (Some(t), _) => HeaderError::NoHeader(t.to_string(), example_columns(schemas[0])),
                (None, Some(row)) => no_match(&row.fields),
            });
        }
        None => match candidates
            .clone()
            .find(|(_, r)| r.fields.iter().any(|f| !f.trim().is_empty()))
        {
            Some((i, _)) => i,
            None => return Err(HeaderError::Empty),
        },
    };
    let record = records[index].clone();
    let mapping = if best.is_none() {
        None
    } else if let [only] = schemas.as_slice() {
        Some(only.map_header(&record.fields))
    } else {
        match detect(&record.fields) {
            Detection::Found(schema) => Some(schema.map_header(&record.fields)),
            Detection::Ambiguous(names) => return Err(HeaderError::Ambiguous(names.join(", "))),
            Detection::NoMatch(_) if !require_type => None,
            Detection::NoMatch(_) => return Err(no_match(&record.fields)),
        }
    };
    if let Some(m) = &mapping {
        if require_type && !m.missing.is_empty() {
            return Err(HeaderError::MissingColumns {
                missing: m.missing.join(", "),
                found: record.fields.join(", "),
            });
        }
    }
    let variant = mapping.as_ref().and_then(|m| m.variant(&record.fields));
    // A template says its site in its smart header; a report in its column names.
    let site = site.or_else(|| {
        let m = mapping.as_ref()?;
        let declared = ["SiteID", "Country"]
            .iter()
            .find_map(|p| m.param(p).and_then(SiteProfile::by_site_id));
        let layout = variant.and_then(|v| v.site);
        Some(
            declared
                .or_else(|| layout.and_then(SiteProfile::by_code))
                .or_else(|| detect_site(&record.fields).and_then(SiteProfile::by_code))
                .unwrap_or(SiteProfile::us()),
        )
    });
    let mut skipped = SkipSummary::default();
    for (i, rec) in records[..index].iter().enumerate() {
        skipped.add_lines(rec.blank_lines_before.clone(), SkipReason::BlankLine);
        let reason = if i == 0 && separator_hint {
            SkipReason::SeparatorHint
        } else {
            SkipReason::Preamble
        };
        skipped.add(rec.position.line, reason);
    }
    skipped.add_lines(record.blank_lines_before.clone(), SkipReason::BlankLine);
    Ok(Header {
        index,
        record,
        mapping,
        site,
        variant,
        skipped,
    })
}

fn example_columns(schema: &ImportSchema) -> String {
    schema
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| format!("{:?}", f.aliases[0]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn no_match(fields: &[String]) -> HeaderError {
    match detect(fields) {
        Detection::NoMatch(closest) if !closest.is_empty() => HeaderError::NoMatch(format!(
            "{}; the header has: {}",
            closest
                .iter()
                .map(|(name, missing)| format!("{name} (missing {})", missing.join(", ")))
                .collect::<Vec<_>>()
                .join("; "),
            fields.join(", ")
        )),
        _ => HeaderError::NoMatch(format!(
            "none of the types ({}) knows these columns: {}",
            SCHEMAS
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
            fields.join(", ")
        )),
    }
}
