//! Finding the header row by content and deciding the import type and the site.

use ebay_import_map::{
    better_fit, detect, detect_site, Detection, Duplicate, HeaderMapping, ImportSchema, Variant,
    MIN_HEADER_SCORE, SCHEMAS,
};
use ebay_import_model::{
    quoted, shown, shown_list, SiteProfile, SkipReason, SkipSummary, SHOWN_CHARS,
};
use ebay_import_read::OwnedRecord;
use std::fmt;

/// Rows searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the file is empty: no header row")]
    Empty,
    #[error("the first row is longer than {0} bytes, which no header row is: check that this is a CSV export")]
    LongFirstRow(usize),
    #[error("unknown import type {0}; known types: {1}")]
    UnknownType(String, String),
    #[error("unknown site {0}; known sites: US, UK, AU, DE, FR, IT")]
    UnknownSite(String),
    #[error("no {0} header row in the first {HEADER_SEARCH_ROWS} rows; expected column names such as {1}{2}")]
    NoHeader(String, String, LooksLike),
    #[error("the header matches no import type; closest: {0}")]
    NoMatch(String),
    #[error("the header matches several import types ({0}); pick one with --type")]
    Ambiguous(String),
    #[error(
        "required columns are missing: {missing}; the header has: {found}{unnamed}{looks_like}"
    )]
    MissingColumns {
        missing: String,
        found: String,
        /// The columns without a name, which may be the missing ones.
        unnamed: String,
        looks_like: LooksLike,
    },
    #[error(
        "the header is not a {forced} header: {forced} takes {known} of its {columns} columns \
         ({names}), {other} takes {other_known}{}",
        LooksLike(Some(*.other))
    )]
    NotThatType {
        forced: &'static str,
        /// The columns the forced type takes, of all `columns`, and their names.
        known: usize,
        columns: usize,
        names: String,
        /// The type the header fits better, and the columns it takes.
        other: &'static str,
        other_known: usize,
    },
    #[error("{0}: which of them holds the data cannot be told; remove or rename all but one")]
    DuplicateColumns(String),
}

/// The type a header looks like when `--type` forced another: `; it looks like an orders
/// header: drop --type or use --type orders`, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LooksLike(pub Option<&'static str>);

impl fmt::Display for LooksLike {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(t) => write!(
                f,
                "; it looks like {} {t} header: drop --type or use --type {t}",
                article(t)
            ),
            None => Ok(()),
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Where the site profile of a file came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteSource {
    /// `--site`.
    Option,
    /// A template's smart-header parameter, as `SiteID=Germany`.
    Template(String),
    /// The layout of the header is one site's.
    Layout(&'static str),
    /// A header name only that site's exports use (normalized).
    HeaderWords(&'static str),
    /// Nothing names a site: the default, US.
    Assumed,
}

impl fmt::Display for SiteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SiteSource::Option => f.write_str("set with --site"),
            SiteSource::Template(p) => write!(f, "the template's smart header says {}", shown(p)),
            SiteSource::Layout(name) => write!(f, "the layout: {name}"),
            SiteSource::HeaderWords(w) => write!(f, "the header's wording: {w:?}"),
            SiteSource::Assumed => {
                f.write_str("assumed: no --site, and nothing in the header names a site")
            }
        }
    }
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
    /// Why the site is the one it is (`None` with no site).
    pub site_source: Option<SiteSource>,
    /// The known layout the header is in.
    pub variant: Option<&'static Variant>,
    /// Rows before the header, skipped.
    pub skipped: SkipSummary,
    /// What the job's warnings (and `inspect`) should say about the header: an assumed
    /// site, unnamed columns with values; for `inspect`, also what fails an import.
    pub warnings: Vec<String>,
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
/// row that is not empty. What would make an import of it fail (missing, duplicate columns, a
/// forced type the header is not) is an error when `require_type`, else a warning.
pub fn find_header(
    records: &[OwnedRecord],
    forced_type: Option<&str>,
    forced_site: Option<&str>,
    separator_hint: bool,
    require_type: bool,
) -> Result<Header, HeaderError> {
    let forced = forced_type
        .map(|t| {
            ImportSchema::by_name(t).ok_or_else(|| {
                let known: Vec<&str> = SCHEMAS.iter().map(|s| s.name).collect();
                HeaderError::UnknownType(quoted(t, SHOWN_CHARS), known.join(", "))
            })
        })
        .transpose()?;
    let schemas: Vec<&'static ImportSchema> = match forced {
        Some(t) => vec![t],
        None => SCHEMAS.to_vec(),
    };
    let forced_site = forced_site
        .map(|s| {
            SiteProfile::by_code(s).ok_or_else(|| HeaderError::UnknownSite(quoted(s, SHOWN_CHARS)))
        })
        .transpose()?;
    let first = usize::from(separator_hint);
    let candidates = || {
        records
            .iter()
            .enumerate()
            .skip(first)
            .take(HEADER_SEARCH_ROWS)
    };
    let best = best_row(candidates(), &schemas);
    let index = match best {
        Some(i) => i,
        None if require_type || forced.is_some() => {
            let first_row = candidates().map(|(_, r)| r).find(|r| !is_blank(r));
            return Err(match (forced, first_row) {
                (_, None) => HeaderError::Empty,
                (Some(t), _) => HeaderError::NoHeader(
                    t.name.to_string(),
                    example_columns(t),
                    LooksLike(
                        best_row(candidates(), SCHEMAS)
                            .and_then(|i| looks_like(&records[i].fields, t)),
                    ),
                ),
                (None, Some(row)) => no_match(&row.fields),
            });
        }
        None => match candidates().find(|(_, r)| !is_blank(r)) {
            Some((i, _)) => i,
            None => return Err(HeaderError::Empty),
        },
    };
    let record = records[index].clone();
    let fields = &record.fields;
    let mapping = match (best, forced) {
        (None, _) => None,
        (Some(_), Some(t)) => Some(t.map_header(fields)),
        (Some(_), None) => match detect(fields) {
            Detection::Found(schema) => Some(schema.map_header(fields)),
            Detection::Ambiguous(names) => return Err(HeaderError::Ambiguous(names.join(", "))),
            Detection::NoMatch(_) if !require_type => None,
            Detection::NoMatch(_) => return Err(no_match(fields)),
        },
    };
    let mut warnings = Vec::new();
    if let Some(m) = &mapping {
        for problem in problems(m, fields, forced.is_some()) {
            if require_type {
                return Err(problem);
            }
            warnings.push(problem.to_string());
        }
    }
    let variant = mapping.as_ref().and_then(|m| m.variant(fields));
    let (site, site_source) = match (forced_site, &mapping) {
        (Some(s), _) => (Some(s), Some(SiteSource::Option)),
        (None, Some(m)) => site_of(m, variant, fields),
        (None, None) => (None, None),
    };
    if let (Some(site), Some(SiteSource::Assumed)) = (site, &site_source) {
        // An eBay layout's dates carry month names; a canonical CSV's are the site's.
        if !variant.is_some_and(|v| v.ebay) {
            warnings.push(assumed_site(site));
        }
    }
    if let Some(m) = &mapping {
        warnings.extend(unnamed_with_values(m, &records[index + 1..]));
    }
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
        site_source,
        variant,
        skipped,
        warnings,
    })
}

/// The record among `candidates` naming the most known columns of any of `schemas`, at least
/// [`MIN_HEADER_SCORE`]; the first of several.
fn best_row<'r>(
    candidates: impl Iterator<Item = (usize, &'r OwnedRecord)>,
    schemas: &[&'static ImportSchema],
) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, rec) in candidates {
        let score = schemas
            .iter()
            .map(|s| s.map_header(&rec.fields).matched())
            .max()
            .unwrap_or(0);
        if score >= MIN_HEADER_SCORE && best.is_none_or(|(_, b)| score > b) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

fn is_blank(record: &OwnedRecord) -> bool {
    record.fields.iter().all(|f| f.trim().is_empty())
}

/// The type detection finds in a header, when it is not the one `--type` forced.
fn looks_like(fields: &[String], forced: &ImportSchema) -> Option<&'static str> {
    match detect(fields) {
        Detection::Found(other) if other.name != forced.name => Some(other.name),
        _ => None,
    }
}

/// What makes the header unfit for an import as `m`'s type, the most telling first.
fn problems(m: &HeaderMapping, fields: &[String], forced: bool) -> Vec<HeaderError> {
    let mut problems = Vec::new();
    if !m.missing.is_empty() {
        problems.push(HeaderError::MissingColumns {
            missing: m.missing.join(", "),
            found: shown_list(fields),
            unnamed: unnamed_hint(m),
            looks_like: LooksLike(forced.then(|| looks_like(fields, m.schema)).flatten()),
        });
    } else if let Some(other) = forced.then(|| better_fit(fields, m)).flatten() {
        problems.push(HeaderError::NotThatType {
            forced: m.schema.name,
            known: m.known(),
            columns: fields.len(),
            names: shown_list(&m.field_columns(fields)),
            other: other.schema.name,
            other_known: other.known(),
        });
    }
    if !m.duplicates.is_empty() {
        let each: Vec<String> = m.duplicates.iter().map(duplicate_columns).collect();
        problems.push(HeaderError::DuplicateColumns(shown_list(&each)));
    }
    problems
}

/// `columns 2 (Buyer Email) and 7 (email) both map to buyer_email`, counting from 1.
fn duplicate_columns(d: &Duplicate) -> String {
    let columns: Vec<String> = d
        .columns
        .iter()
        .zip(&d.names)
        .map(|(c, name)| format!("{} ({})", c + 1, shown(name)))
        .collect();
    let (last, rest) = columns.split_last().expect("a duplicate has two columns");
    format!(
        "columns {} and {last} {} map to {}",
        rest.join(", "),
        if columns.len() == 2 { "both" } else { "all" },
        shown(&d.target)
    )
}

/// `; columns without a header name: 3, 5`, or nothing.
fn unnamed_hint(m: &HeaderMapping) -> String {
    if m.unnamed.is_empty() {
        return String::new();
    }
    let numbers: Vec<String> = m.unnamed.iter().map(|c| (c + 1).to_string()).collect();
    format!("; columns without a header name: {}", shown_list(&numbers))
}

/// A warning about the columns without a header name that hold values in the records after
/// the header (those the header search read): their values are ignored. Columns empty there
/// too (trailing delimiters, padding) are not worth one.
fn unnamed_with_values(m: &HeaderMapping, after: &[OwnedRecord]) -> Option<String> {
    let with_values: Vec<String> = m
        .unnamed
        .iter()
        .filter_map(|&c| {
            after.iter().find_map(|r| {
                let v = r
                    .fields
                    .get(c)
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())?;
                Some(format!(
                    "{} ({} at line {})",
                    c + 1,
                    quoted(v, 30),
                    r.position.line
                ))
            })
        })
        .collect();
    (!with_values.is_empty()).then(|| {
        format!(
            "columns without a header name hold values, which are ignored: {}; give them a \
             name in the header if they are data",
            shown_list(&with_values)
        )
    })
}

/// The site of a typed header and why: a template says its site in its smart header, a
/// report in its layout or its column names; else US.
fn site_of(
    m: &HeaderMapping,
    variant: Option<&'static Variant>,
    fields: &[String],
) -> (Option<&'static SiteProfile>, Option<SiteSource>) {
    let declared = ["SiteID", "Country"].iter().find_map(|p| {
        let value = m.param(p)?;
        Some((SiteProfile::by_site_id(value)?, format!("{p}={value}")))
    });
    let layout = || {
        let v = variant?;
        Some((SiteProfile::by_code(v.site?)?, SiteSource::Layout(v.name)))
    };
    let words = || {
        let (site, hint) = detect_site(fields)?;
        Some((SiteProfile::by_code(site)?, SiteSource::HeaderWords(hint)))
    };
    let (site, source) = declared
        .map(|(site, param)| (site, SiteSource::Template(param)))
        .or_else(layout)
        .or_else(words)
        .unwrap_or((SiteProfile::us(), SiteSource::Assumed));
    (Some(site), Some(source))
}

/// The warning that a file's site was assumed: how its values are read, and what to pass if
/// it comes from another site.
fn assumed_site(site: &SiteProfile) -> String {
    let others: Vec<&str> = ebay_import_model::SITES
        .iter()
        .map(|s| s.code)
        .filter(|&c| c != site.code)
        .collect();
    format!(
        "the site {} is assumed (no --site, and nothing in the header names a site): amounts \
         are read with a decimal {} ({}) and numeric dates {}; if the file comes from another \
         site, import it with --site {}",
        site.code,
        if site.decimal_comma() {
            "comma"
        } else {
            "point"
        },
        site.example_amount(12, 34),
        site.date_order(),
        either(&others)
    )
}

/// The warning that `n` numeric dates are no dates on `site` but are read the other way
/// round (the first of them `value`, at `line` in `column`): the file looks like the file of
/// a site of that order.
pub(crate) fn date_order_warning(
    n: u64,
    value: &str,
    line: u64,
    column: &str,
    site: &SiteProfile,
) -> String {
    let others: Vec<&str> = site.other_date_order().iter().map(|s| s.code).collect();
    format!(
        "{n} numeric date(s) are dates only read {}, such as {} at line {line} ({column}), \
         where the {} site reads them {}, so an import rejects them as invalid_date; the file \
         looks like it comes from a site that writes dates that way: import it with --site {} \
         (code date_order)",
        site.other_way(),
        quoted(value.trim(), 30),
        site.code,
        site.date_order(),
        either(&others)
    )
}

/// `UK, AU, DE, FR or IT`.
fn either(codes: &[&str]) -> String {
    match codes.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
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
            shown_list(fields)
        )),
        _ => HeaderError::NoMatch(format!(
            "none of the types ({}) knows these columns: {}",
            SCHEMAS
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
            shown_list(fields)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebay_import_model::Position;

    /// One record per line of `csv` (comma-separated, no quoting), lines from 1.
    fn records(csv: &str) -> Vec<OwnedRecord> {
        csv.lines()
            .enumerate()
            .map(|(i, line)| OwnedRecord {
                position: Position {
                    line: i as u64 + 1,
                    byte: 0,
                    record: i as u64 + 1,
                },
                fields: line.split(',').map(str::to_string).collect(),
                blank_lines_before: 0..0,
                invalid_utf8: false,
            })
            .collect()
    }

    fn import(csv: &str, forced_type: Option<&str>) -> Result<Header, HeaderError> {
        find_header(&records(csv), forced_type, None, false, true)
    }

    const ORDERS_REPORT: &str = "Sales Record Number,Order Number,Buyer Name,Item Number,\
        Item Title,Custom Label,Quantity,Sold For,Total Price,Sale Date,Paid On Date\n\
        1,11-11111-11111,Ann,123456789012,Lamp,LAMP-1,1,$1.00,$1.00,Mar-15-24,Mar-15-24\n";

    #[test]
    fn a_forced_type_the_header_is_not_is_refused_naming_the_type_it_looks_like() {
        let e = import(ORDERS_REPORT, Some("listings")).unwrap_err();
        assert!(matches!(e, HeaderError::NotThatType { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the header is not a listings header: listings takes 4 of its 11 columns (Item \
             Number, Item Title, Custom Label, Quantity), orders takes 11; it looks like an \
             orders header: drop --type or use --type orders"
        );
        assert!(import(ORDERS_REPORT, Some("orders")).is_ok());
        // Missing required columns of a forced type name the type the header looks like too.
        let e = import(ORDERS_REPORT, Some("products")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("it looks like an orders header: drop --type or use --type orders"),
            "{e}"
        );
        // inspect lists what an import would fail on.
        let h = find_header(
            &records(ORDERS_REPORT),
            Some("listings"),
            None,
            false,
            false,
        )
        .unwrap();
        assert!(
            h.warnings[0].starts_with("the header is not a listings header"),
            "{:?}",
            h.warnings
        );
    }

    #[test]
    fn few_columns_of_the_forced_type_are_its_own_file() {
        let revise = "Action,Item number,Title,Start price,Available quantity\n\
                      Revise,123456789012,Lamp,1.00,2\n";
        let h = import(revise, Some("listings")).unwrap();
        assert_eq!(h.mapping.unwrap().schema.name, "listings");
        let canonical = "sku,title,quantity,price\nA-1,Lamp,1,1.00\n";
        assert!(import(canonical, Some("products")).is_ok());
    }

    #[test]
    fn the_site_and_where_it_came_from() {
        let h = import(
            "order_id,buyer_name,order_total,order_date\n1,A,1,03/04/2024\n",
            None,
        )
        .unwrap();
        assert_eq!(h.site.map(|s| s.code), Some("US"));
        assert_eq!(h.site_source, Some(SiteSource::Assumed));
        assert!(
            h.warnings[0].starts_with("the site US is assumed"),
            "{:?}",
            h.warnings
        );
        assert!(h.warnings[0].contains("--site UK, AU, DE, FR or IT"));
        // An eBay report's dates have month names: its assumed US site needs no warning.
        let h = import(ORDERS_REPORT, None).unwrap();
        assert_eq!(h.site_source, Some(SiteSource::Assumed));
        assert!(h.warnings.is_empty(), "{:?}", h.warnings);
        let uk = "Sales record number,Order number,Buyer name,Total price,Sale date,\
                  Buyer postcode\n";
        let h = import(uk, None).unwrap();
        assert_eq!(
            (h.site.map(|s| s.code), h.site_source),
            (Some("UK"), Some(SiteSource::HeaderWords("buyer postcode")))
        );
        let h = find_header(&records(uk), None, Some("de"), false, true).unwrap();
        assert_eq!(
            (h.site.map(|s| s.code), h.site_source),
            (Some("DE"), Some(SiteSource::Option))
        );
    }

    #[test]
    fn duplicate_columns_fail_an_import_naming_them_and_their_positions() {
        let csv = "Order Number,Buyer Name,Buyer Email,Total Price,Sale Date,Buyer Email\n";
        let e = import(csv, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "columns 3 (Buyer Email) and 6 (Buyer Email) both map to buyer_email: which of \
             them holds the data cannot be told; remove or rename all but one"
        );
    }

    #[test]
    fn unnamed_columns_with_values_are_a_warning_and_a_hint_for_missing_ones() {
        // The trailing unnamed column is empty: padding, not worth a warning.
        let csv = "Sales Record Number,Order Number,Buyer Name,,Total Price,Sale Date,\n\
                   1,11-11111-11111,Ann,ann@example.com,$1.00,Mar-15-24,\n";
        let h = import(csv, None).unwrap();
        assert_eq!(
            h.warnings,
            vec![
                "columns without a header name hold values, which are ignored: 4 \
                 (\"ann@example.com\" at line 2); give them a name in the header if they are \
                 data"
            ]
        );
        let e = import("Order Number,Buyer Name,,Sale Date\n", Some("orders")).unwrap_err();
        assert!(
            e.to_string().contains("; columns without a header name: 3"),
            "{e}"
        );
    }

    #[test]
    fn header_errors_list_a_bounded_number_of_escaped_names() {
        let mut header: Vec<String> = (0..5000).map(|i| format!("col{i}")).collect();
        header[0] = "\u{1b}[31mred\r".into();
        let e = import(&header.join(","), None).unwrap_err();
        let message = e.to_string();
        assert!(message.len() < 400, "{} bytes", message.len());
        assert!(message.contains("\\u{1b}[31mred\\r, col1"), "{message}");
        assert!(message.ends_with("col9 and 4990 more"), "{message}");
    }
}
