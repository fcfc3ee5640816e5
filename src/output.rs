//! What the commands print: JSON for machines, short text for people.

use ebay_import_model::{escape_controls, shown_list, SkipSummary};
use ebay_import_pipeline::{ImportSummary, InspectReport};
use ebay_import_store::JobRecord;
use std::fmt::Write as _;
use std::io::{self, Write};

/// One job as the `--json` line: file-record counts at the top level, stored-row counts per
/// table under `tables`.
pub fn summary_json(s: &ImportSummary) -> serde_json::Value {
    let j = &s.job;
    serde_json::json!({
        "job_id": j.id,
        "status": j.status,
        "import_type": j.import_type,
        "file": j.file_name,
        "account_id": j.account_id,
        "dry_run": s.dry_run,
        "rows_read": j.rows_read,
        "inserted": j.inserted,
        "updated": j.updated,
        "unchanged": j.unchanged,
        "rejected": j.rejected,
        "skipped": j.skipped,
        "errors_by_code": j.errors_by_code,
        "tables": j.tables,
        "encoding": j.encoding,
        "delimiter": j.delimiter,
        "site": j.site,
        "file_size": j.file_size,
        "file_sha256": j.file_sha256,
        "footer": j.metadata.get("footer"),
        "layout": j.metadata.get("variant"),
        "template": j.metadata.get("template"),
        "warnings": s.warnings,
        "warning_codes": j.metadata.get("warning_codes"),
        "error": j.error,
        "seconds": round3(s.seconds),
        "rows_per_second": s.rows_per_second().round(),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn summary_text(s: &ImportSummary) -> String {
    let j = &s.job;
    let mut out = String::new();
    if s.dry_run {
        out.push_str("dry run: ");
    }
    job_lines(j, &s.warnings, &mut out);
    let _ = write!(
        out,
        "  {}, delimiter {:?}, site {}; {:.2} s, {:.0} rows/s",
        j.encoding.as_deref().unwrap_or("?"),
        j.delimiter.as_deref().unwrap_or("?"),
        j.site.as_deref().unwrap_or("?"),
        s.seconds,
        s.rows_per_second()
    );
    out
}

/// A recorded job for people: what `jobs show` prints without `--json`.
pub fn job_text(j: &JobRecord) -> String {
    let warnings: Vec<String> = j
        .metadata
        .get("warnings")
        .and_then(|w| serde_json::from_value(w.clone()).ok())
        .unwrap_or_default();
    let mut out = String::new();
    job_lines(j, &warnings, &mut out);
    let _ = write!(
        out,
        "  account {}, by {}; created {}, started {}, finished {}\n  file {} bytes, sha256 {}; {}, delimiter {:?}, site {}",
        j.account_id,
        j.created_by,
        j.created_at,
        j.started_at.as_deref().unwrap_or("-"),
        j.finished_at.as_deref().unwrap_or("-"),
        j.file_size.map_or("?".to_string(), |n| n.to_string()),
        j.file_sha256.as_deref().unwrap_or("-"),
        j.encoding.as_deref().unwrap_or("?"),
        j.delimiter.as_deref().unwrap_or("?"),
        j.site.as_deref().unwrap_or("?"),
    );
    out
}

/// The lines a job summary and `jobs show` share: status, error, counts, warnings.
fn job_lines(j: &JobRecord, warnings: &[String], out: &mut String) {
    let _ = writeln!(
        out,
        "{} job {} [{}]: {}",
        j.file_name,
        j.id,
        j.import_type.as_deref().unwrap_or("?"),
        j.status.as_str()
    );
    // Messages quote file text escaped already; a job recorded by an older build, or a
    // message from a stage that quotes raw text, must not reach the terminal raw either.
    if let Some(e) = &j.error {
        let _ = writeln!(out, "  error: {}", escape_controls(e));
    }
    let _ = writeln!(
        out,
        "  rows read {}: inserted {}, updated {}, unchanged {}, rejected {}; skipped {} framing rows",
        j.rows_read, j.inserted, j.updated, j.unchanged, j.rejected, j.skipped
    );
    for (table, c) in &j.tables {
        let _ = writeln!(
            out,
            "  {table}: inserted {}, updated {}, unchanged {}",
            c.inserted, c.updated, c.unchanged
        );
    }
    if !j.errors_by_code.is_empty() {
        let _ = writeln!(out, "  rejects by code: {}", counts_list(&j.errors_by_code));
    }
    for w in warnings {
        let _ = writeln!(out, "  warning: {}", escape_controls(w));
    }
}

/// Values as `["a", "b"]`, written as they are iterated, not collected first.
struct DebugList<I>(I);

impl<I: Iterator<Item: std::fmt::Debug> + Clone> std::fmt::Debug for DebugList<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

/// `inspect` for people, written as it goes: a long record is not copied into one string.
/// `name n, name n, …` of counts by name.
fn counts_list<'a, K: std::fmt::Display + 'a, N: std::fmt::Display + 'a>(
    counts: impl IntoIterator<Item = (&'a K, &'a N)>,
) -> String {
    let items: Vec<String> = counts
        .into_iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    items.join(", ")
}

pub fn inspect_text(r: &InspectReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "encoding:  {}", r.encoding)?;
    writeln!(out, "delimiter: {}", r.delimiter)?;
    writeln!(out, "header:    line {}", r.header_line)?;
    writeln!(
        out,
        "type:      {}",
        r.import_type.unwrap_or("(none: plain CSV)")
    )?;
    match &r.site_source {
        Some(source) => writeln!(out, "site:      {} ({source})", r.site.unwrap_or("-"))?,
        None => writeln!(out, "site:      {}", r.site.unwrap_or("-"))?,
    };
    writeln!(out, "layout:    {}", r.variant.unwrap_or("-"))?;
    if !r.template.is_empty() {
        let params: Vec<String> = r
            .template
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        writeln!(out, "template:  {}", shown_list(&params))?;
    }
    writeln!(out, "columns:   {}", r.columns.len())?;
    if !r.unknown_columns.is_empty() {
        writeln!(out, "unknown:   {}", shown_list(&r.unknown_columns))?;
    }
    if !r.missing_columns.is_empty() {
        writeln!(out, "missing:   {}", r.missing_columns.join(", "))?;
    }
    if !r.skipped_counts.is_empty() {
        writeln!(out, "skipped:   {}", counts_list(&r.skipped_counts))?;
    }
    for w in &r.warnings {
        writeln!(out, "warning:   {}", escape_controls(w))?;
    }
    for rec in &r.records {
        writeln!(out, "line {}: {:?}", rec.line, DebugList(rec.values()))?;
    }
    for s in &r.skipped {
        writeln!(out, "skipped line {}: {}", s.line, s.reason)?;
    }
    let skipped: u64 = r.skipped_counts.values().filter_map(|n| n.as_u64()).sum();
    if r.skipped.len() as u64 != skipped {
        writeln!(
            out,
            "(skipped lines listed: the first {} of each reason, up to the last record shown)",
            SkipSummary::LISTED_PER_REASON
        )?;
    }
    for e in &r.errors {
        writeln!(
            out,
            "error line {}: {} {}",
            e.line,
            e.code,
            escape_controls(&e.message)
        )?;
    }
    Ok(())
}

pub fn jobs_table(jobs: &[JobRecord]) -> String {
    let mut out = String::from("id                                    status            type    read      inserted  updated   unchanged rejected  file");
    for j in jobs {
        let _ = write!(
            out,
            "\n{:<37} {:<17} {:<7} {:<9} {:<9} {:<9} {:<9} {:<9} {}",
            j.id,
            j.status.as_str(),
            j.import_type.as_deref().unwrap_or("-"),
            j.rows_read,
            j.inserted,
            j.updated,
            j.unchanged,
            j.rejected,
            j.file_name
        );
    }
    out
}
