//! Reporting: the reject report as CSV or JSON, safe to open in a spreadsheet.

use ebay_import_model::Reject;
use std::io::{self, Write};

pub const REJECTS_HEADER: &str = "line,record,column,code,message,value";

/// Writes rejects as CSV with the header [`REJECTS_HEADER`].
pub struct RejectsCsv<W: Write> {
    out: W,
}

impl<W: Write> RejectsCsv<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        writeln!(out, "{REJECTS_HEADER}")?;
        Ok(RejectsCsv { out })
    }

    pub fn write(&mut self, rejects: &[Reject]) -> io::Result<()> {
        for r in rejects {
            writeln!(
                self.out,
                "{},{},{},{},{},{}",
                r.line,
                r.record,
                csv_field(r.column.as_deref().unwrap_or("")),
                r.code.as_str(),
                csv_field(&neutralize(&r.message)),
                csv_field(&neutralize(r.value.as_deref().unwrap_or(""))),
            )?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, TAB or CR first) gets a
/// leading apostrophe, as OWASP recommends for CSV injection.
pub fn neutralize(value: &str) -> String {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

/// Quotes a field when it holds a delimiter, quote or line break.
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One reject as a JSON object.
pub fn reject_json(r: &Reject) -> serde_json::Value {
    serde_json::json!({
        "line": r.line,
        "record": r.record,
        "column": r.column,
        "code": r.code.as_str(),
        "message": r.message,
        "value": r.value,
        "raw": r.raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebay_import_model::ErrorCode;

    #[test]
    fn formulas_are_neutralized_and_fields_quoted() {
        let mut w = RejectsCsv::new(Vec::new()).unwrap();
        w.write(&[Reject {
            line: 4,
            record: 3,
            column: Some("sold_for".into()),
            code: ErrorCode::InvalidMoney,
            message: "bad, \"really\"".into(),
            value: Some("=HYPERLINK(\"x\")".into()),
            raw: None,
        }])
        .unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "line,record,column,code,message,value\n4,3,sold_for,invalid_money,\"bad, \"\"really\"\"\",\"'=HYPERLINK(\"\"x\"\")\"\n"
        );
        for bad in ["+1", "-1", "@a", "\tx", "\rx"] {
            assert!(neutralize(bad).starts_with('\''));
        }
        assert_eq!(neutralize("ok"), "ok");
    }
}
