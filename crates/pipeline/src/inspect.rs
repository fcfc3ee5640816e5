//! `inspect`: what the reader detects in a file and the records it parses, for any CSV.

use crate::{open_with_header, ImportError, Input};
use arrow_array::cast::AsArray;
use arrow_array::{Array, StringArray};
use ebay_import_map::{FieldType, HeaderMapping};
use ebay_import_model::{SiteProfile, Skipped};
use ebay_import_read::{parse_chunk, sniff::delimiter_name, ParseSpec, ReadOptions};
use ebay_import_transform::kernels::fits_only_the_other_order;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// One parsed record: its line, and its values as a row of the parsed columns, which are
/// shared rather than copied (a long record is not held twice). Serialized as
/// `{"line", "values"}`.
#[derive(Debug, Clone)]
pub struct InspectRecord {
    pub line: u64,
    columns: Arc<[StringArray]>,
    row: usize,
}

impl InspectRecord {
    /// The values exactly as parsed.
    pub fn values(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        (0..self.columns.len()).filter_map(|c| self.value(c))
    }

    /// The value of column `col`, as parsed.
    pub fn value(&self, col: usize) -> Option<&str> {
        let c = self.columns.get(col)?;
        Some(if c.is_null(self.row) {
            ""
        } else {
            c.value(self.row)
        })
    }
}

impl Serialize for InspectRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Values<'a>(&'a InspectRecord);
        impl Serialize for Values<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.values())
            }
        }
        let mut record = serializer.serialize_struct("InspectRecord", 2)?;
        record.serialize_field("line", &self.line)?;
        record.serialize_field("values", &Values(self))?;
        record.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectSkip {
    pub line: u64,
    pub reason: &'static str,
}

impl From<&Skipped> for InspectSkip {
    fn from(s: &Skipped) -> Self {
        InspectSkip {
            line: s.line,
            reason: s.reason.as_str(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectError {
    pub line: u64,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub encoding: &'static str,
    pub delimiter: String,
    pub header_line: u64,
    pub import_type: Option<&'static str>,
    pub site: Option<&'static str>,
    /// Why the site is the one it is: `--site`, the template, the layout, header words, or
    /// assumed.
    pub site_source: Option<String>,
    /// The known layout (report, template, export) the header is in.
    pub variant: Option<&'static str>,
    /// A template's smart-header parameters.
    pub template: serde_json::Map<String, serde_json::Value>,
    pub columns: Vec<String>,
    /// File header -> canonical field, in file order.
    pub mapping: serde_json::Map<String, serde_json::Value>,
    pub unknown_columns: Vec<String>,
    pub missing_columns: Vec<String>,
    pub records: Vec<InspectRecord>,
    /// The first skipped rows of each reason (see [`ebay_import_model::SkipSummary`]), before
    /// the last record shown.
    pub skipped: Vec<InspectSkip>,
    /// Skipped rows per reason, of everything read.
    pub skipped_counts: serde_json::Map<String, serde_json::Value>,
    pub errors: Vec<InspectError>,
    /// What an import would warn about the header, or fail on.
    pub warnings: Vec<String>,
}

pub struct InspectOptions {
    pub read: ReadOptions,
    pub import_type: Option<String>,
    pub site: Option<String>,
    /// Records to show; `None` for all.
    pub rows: Option<usize>,
    pub max_file_size: u64,
}

pub fn inspect(input: Input, opts: &InspectOptions) -> Result<InspectReport, ImportError> {
    let (stream, _) = input.into_stream(opts.max_file_size);
    let (mut source, header) = open_with_header(
        stream,
        &opts.read,
        opts.import_type.as_deref(),
        opts.site.as_deref(),
        false,
    )?;
    let mut report = InspectReport {
        encoding: source.encoding.name(),
        delimiter: delimiter_name(source.delimiter),
        header_line: header.record.position.line,
        import_type: header.mapping.as_ref().map(|m| m.schema.name),
        site: header.site.map(|s| s.code),
        site_source: header.site_source.as_ref().map(|s| s.to_string()),
        variant: header.variant.map(|v| v.name),
        template: header
            .mapping
            .iter()
            .flat_map(|m| &m.params)
            .map(|(k, v)| (k.clone(), v.as_str().into()))
            .collect(),
        columns: header.record.fields.clone(),
        mapping: serde_json::Map::new(),
        unknown_columns: Vec::new(),
        missing_columns: Vec::new(),
        records: Vec::new(),
        skipped: Vec::new(),
        skipped_counts: serde_json::Map::new(),
        errors: Vec::new(),
        warnings: header.warnings.clone(),
    };
    if let Some(m) = &header.mapping {
        for (col, field) in m.file_to_field.iter().enumerate() {
            if let Some(f) = field {
                report.mapping.insert(
                    header.record.fields[col].clone(),
                    m.schema.fields[*f].name.into(),
                );
            }
        }
        report.unknown_columns = m.unknown.clone();
        report.missing_columns = m.missing.clone();
    }
    source.consume_records(header.index + 1);
    let mut spec = ParseSpec::identity(
        source.delimiter,
        header.record.fields.clone(),
        opts.read.max_record_bytes,
    );
    spec.ebay_framing = header.mapping.is_some();
    let limit = opts.rows.unwrap_or(usize::MAX);
    let mut splitter = source.into_splitter();
    let mut skipped = header.skipped;
    // With a row limit, what is listed stops where the last shown record starts.
    let mut until = u64::MAX;
    while report.records.len() < limit {
        let Some(chunk) = splitter.next_chunk()? else {
            break;
        };
        let raw = parse_chunk(&chunk, &spec);
        drop(chunk);
        let columns: Arc<[StringArray]> = (0..raw.output_columns())
            .map(|c| raw.batch.column(c).as_string::<i32>().clone())
            .collect();
        for row in 0..raw.batch.num_rows() {
            if report.records.len() >= limit {
                until = raw.position(row).line;
                break;
            }
            report.records.push(InspectRecord {
                line: raw.position(row).line,
                columns: columns.clone(),
                row,
            });
        }
        skipped.append(&raw.skipped);
        report.errors.extend(
            raw.rejects
                .iter()
                .filter(|r| r.line < until)
                .map(|r| InspectError {
                    line: r.line,
                    code: r.code.as_str(),
                    message: r.message.clone(),
                }),
        );
    }
    if let (Some(m), Some(site)) = (&header.mapping, header.site) {
        report.warnings.extend(date_order(&report.records, m, site));
    }
    report.skipped = skipped
        .listed()
        .iter()
        .filter(|s| s.line < until)
        .map(InspectSkip::from)
        .collect();
    report.skipped_counts = skipped
        .counts()
        .map(|(reason, n)| (reason.as_str().to_string(), n.into()))
        .collect();
    Ok(report)
}

/// The date-order warning an import of the file would give, from the records shown.
fn date_order(records: &[InspectRecord], m: &HeaderMapping, site: &SiteProfile) -> Option<String> {
    let mut n = 0;
    let mut first = None;
    for (col, field) in m.file_to_field.iter().enumerate() {
        let Some(def) = field.map(|f| &m.schema.fields[f]) else {
            continue;
        };
        if !matches!(def.ty, FieldType::Date | FieldType::DateTime) {
            continue;
        }
        for rec in records {
            let Some(v) = rec
                .value(col)
                .filter(|v| fits_only_the_other_order(v.trim(), site))
            else {
                continue;
            };
            n += 1;
            if first.is_none_or(|(line, _, _)| rec.line < line) {
                first = Some((rec.line, v, def.name));
            }
        }
    }
    let (line, value, column) = first?;
    Some(crate::header::date_order_warning(
        n, value, line, column, site,
    ))
}
