//! End-to-end tests of `ebay-import inspect`: what the reader detects in a file (encoding,
//! delimiter, header, import type, site) and the records, skips and structural errors it
//! reports, with exact physical line numbers. Every fixture is written by the test itself into
//! a temporary directory, byte for byte.

use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_ebay-import");
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/orders-report-us.csv");
/// Skipped rows `inspect` lists per reason (it counts them all).
const LISTED_PER_REASON: usize = 20;
/// A small Orders header (the required columns and a name column).
const ORDERS_HEADER: &str = "Sales Record Number,Order Number,Buyer Name,Total Price,Sale Date";

/// One test's working directory (its database is never created by `inspect`, but it is named).
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write fixture");
        path
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .arg("--database")
            .arg(format!("sqlite://{}/x.db", self.dir.path().display()));
        cmd
    }

    /// `inspect FILE ARGS...`, whatever the outcome.
    fn run(&self, file: &Path, args: &[&str]) -> Output {
        self.command()
            .arg("inspect")
            .arg(file)
            .args(args)
            .output()
            .expect("run ebay-import")
    }

    /// `inspect FILE --json ARGS...`; asserts exit 0 and returns the parsed report.
    fn inspect(&self, file: &Path, args: &[&str]) -> Report {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(file, &all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "inspect {} {all:?} failed\nstdout: {}\nstderr: {}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Report(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "inspect --json printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        }))
    }

    /// Writes `bytes` and inspects them with `--rows all` plus `args`.
    fn inspect_bytes(&self, bytes: impl AsRef<[u8]>, args: &[&str]) -> Report {
        let file = self.write("in.csv", bytes);
        let mut all = vec!["--rows", "all"];
        all.extend_from_slice(args);
        self.inspect(&file, &all)
    }
}

/// The parsed `inspect --json` output, with typed accessors.
struct Report(Value);

impl Report {
    fn str(&self, key: &str) -> &str {
        self.0[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is not a string in {:#}", self.0))
    }

    fn header_line(&self) -> u64 {
        self.0["header_line"].as_u64().expect("header_line")
    }

    fn strings(&self, key: &str) -> Vec<String> {
        self.0[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is not an array"))
            .iter()
            .map(|v| v.as_str().expect("a string").to_string())
            .collect()
    }

    fn columns(&self) -> Vec<String> {
        self.strings("columns")
    }

    /// (line, values) of every record.
    fn records(&self) -> Vec<(u64, Vec<String>)> {
        self.0["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| {
                let values = r["values"]
                    .as_array()
                    .expect("values")
                    .iter()
                    .map(|v| v.as_str().expect("string value").to_string())
                    .collect();
                (r["line"].as_u64().expect("line"), values)
            })
            .collect()
    }

    fn record_lines(&self) -> Vec<u64> {
        self.records().into_iter().map(|(l, _)| l).collect()
    }

    /// (line, reason) of every skipped row.
    fn skipped(&self) -> Vec<(u64, String)> {
        self.pairs("skipped", "reason")
    }

    /// How many rows were skipped for `reason` (`skipped` lists only the first of each).
    fn skipped_count(&self, reason: &str) -> u64 {
        self.0["skipped_counts"][reason].as_u64().unwrap_or(0)
    }

    /// (line, code) of every error.
    fn errors(&self) -> Vec<(u64, String)> {
        self.pairs("errors", "code")
    }

    fn pairs(&self, key: &str, field: &str) -> Vec<(u64, String)> {
        self.0[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is not an array"))
            .iter()
            .map(|e| {
                (
                    e["line"].as_u64().expect("line"),
                    e[field].as_str().expect(field).to_string(),
                )
            })
            .collect()
    }
}

fn rec(line: u64, values: &[&str]) -> (u64, Vec<String>) {
    (line, values.iter().map(|s| s.to_string()).collect())
}

fn pair(line: u64, s: &str) -> (u64, String) {
    (line, s.to_string())
}

fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes
}

fn utf16be_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xfe, 0xff];
    for unit in text.encode_utf16() {
        bytes.extend(unit.to_be_bytes());
    }
    bytes
}

/// Splits one physical CSV line (no embedded line breaks) by RFC 4180: a field that starts with
/// a quote runs to its closing quote, with `""` for a quote inside.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut at_start = true;
    let mut in_quote = false;
    while let Some(c) = chars.next() {
        if in_quote {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quote = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                in_quote = true;
                at_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    fields.push(field);
    fields
}

// ---------------------------------------------------------------------------------------------
// 3. The eBay sample report
// ---------------------------------------------------------------------------------------------

#[test]
fn ebay_sample_report_is_detected_and_framed() {
    let env = Env::new();
    let r = env.inspect(Path::new(SAMPLE), &["--rows", "all"]);
    assert_eq!(r.str("encoding"), "UTF-8");
    assert_eq!(r.str("delimiter"), ",");
    assert_eq!(r.header_line(), 2);
    assert_eq!(r.str("import_type"), "orders");
    assert_eq!(r.str("site"), "US");
    let columns = r.columns();
    assert_eq!(columns.len(), 82, "columns: {columns:?}");
    assert_eq!(columns[0], "Sales Record Number");
    assert_eq!(columns[81], "eBay International Shipping");
    let mapping = r.0["mapping"].as_object().expect("mapping is an object");
    assert_eq!(
        mapping.get("Sales Record Number"),
        Some(&Value::from("sales_record_number"))
    );
    assert_eq!(
        mapping.get("Order Number"),
        Some(&Value::from("order_number"))
    );
    assert_eq!(
        mapping.get("Total Price"),
        Some(&Value::from("total_price"))
    );
    // Every column of the 82-column US report is known.
    assert_eq!(mapping.len(), 82);
    assert!(r.strings("unknown_columns").is_empty());
    assert!(r.strings("missing_columns").is_empty());
    assert_eq!(r.record_lines(), vec![4, 5, 6, 7, 8]);
    assert_eq!(
        r.skipped(),
        vec![
            pair(1, "preamble"),
            pair(3, "empty_row"),
            pair(9, "blank_line"),
            pair(10, "footer_record_count"),
            pair(11, "footer_seller_id"),
        ]
    );
    assert_eq!(r.errors(), vec![]);

    // The values are exactly the file's fields (lines 4-8 hold no quoted line breaks).
    let text = std::fs::read_to_string(SAMPLE).expect("read the sample");
    let lines: Vec<&str> = text.lines().collect();
    for (line, values) in r.records() {
        let expected = split_csv_line(lines[line as usize - 1]);
        assert_eq!(expected.len(), 82, "line {line} of the sample");
        assert_eq!(values, expected, "values of line {line}");
    }
    let first = &r.records()[0].1;
    assert_eq!(first[23], "Widget, large \"XL\" edition");
    assert_eq!(first[27], "$12.50");
}

#[test]
fn values_are_not_trimmed() {
    let env = Env::new();
    // An eBay-typed file...
    let r = env.inspect_bytes(
        format!(
            "{ORDERS_HEADER}\r\n 1001 ,12-34567-89012,  Pat Example  ,\"  $10.00 \",Mar-15-24\t\r\n"
        ),
        &[],
    );
    assert_eq!(r.str("import_type"), "orders");
    assert_eq!(
        r.records(),
        vec![rec(
            2,
            &[
                " 1001 ",
                "12-34567-89012",
                "  Pat Example  ",
                "  $10.00 ",
                "Mar-15-24\t"
            ]
        )]
    );
    // ...and a plain one, header included.
    let r = env.inspect_bytes(" id , name \n  1,\" a \"\n", &[]);
    assert_eq!(r.columns(), vec![" id ", " name "]);
    assert_eq!(r.records(), vec![rec(2, &["  1", " a "])]);
}

// ---------------------------------------------------------------------------------------------
// 4. A CSV of no known import type
// ---------------------------------------------------------------------------------------------

#[test]
fn plain_csv_has_no_type_site_or_mapping() {
    let env = Env::new();
    let r = env.inspect_bytes("id,name\n1,alpha\nInfo,not framing\n2,beta\n", &[]);
    assert_eq!(r.str("encoding"), "UTF-8");
    assert_eq!(r.str("delimiter"), ",");
    assert_eq!(r.header_line(), 1);
    assert_eq!(r.0["import_type"], Value::Null);
    assert_eq!(r.0["site"], Value::Null);
    assert_eq!(r.0["mapping"], serde_json::json!({}));
    assert_eq!(r.columns(), vec!["id", "name"]);
    assert!(r.strings("unknown_columns").is_empty());
    assert!(r.strings("missing_columns").is_empty());
    // eBay framing (Info rows) only applies to eBay files.
    assert_eq!(
        r.records(),
        vec![
            rec(2, &["1", "alpha"]),
            rec(3, &["Info", "not framing"]),
            rec(4, &["2", "beta"]),
        ]
    );
    assert_eq!(r.skipped(), vec![]);
    assert_eq!(r.errors(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// 5. Physical line numbers
// ---------------------------------------------------------------------------------------------

/// The same records under each line ending: a quoted field with an embedded line break (in
/// that ending), `""` escapes, and blank lines between records.
#[test]
fn line_numbers_with_lf_crlf_and_lone_cr() {
    for (name, eol) in [("LF", "\n"), ("CRLF", "\r\n"), ("CR", "\r")] {
        let env = Env::new();
        let text = [
            "id,text",              // 1
            "1,plain",              // 2
            "2,\"two",              // 3
            "lines\"",              // 4
            "",                     // 5
            "3,\"say \"\"hi\"\"\"", // 6
            "",                     // 7
            "",                     // 8
            "4,\"a",                // 9
            "",                     // 10 (inside the quotes: not blank)
            "b \"\"c\"\"\"",        // 11
            "5,last",               // 12
        ]
        .join(eol)
            + eol;
        let r = env.inspect_bytes(&text, &[]);
        assert_eq!(r.header_line(), 1, "{name}");
        assert_eq!(
            r.records(),
            vec![
                rec(2, &["1", "plain"]),
                rec(3, &["2", &format!("two{eol}lines")]),
                rec(6, &["3", "say \"hi\""]),
                rec(9, &["4", &format!("a{eol}{eol}b \"c\"")]),
                rec(12, &["5", "last"]),
            ],
            "{name}"
        );
        assert_eq!(
            r.skipped(),
            vec![
                pair(5, "blank_line"),
                pair(7, "blank_line"),
                pair(8, "blank_line")
            ],
            "{name}"
        );
        assert_eq!(r.errors(), vec![], "{name}");
    }
}

#[test]
fn line_numbers_with_mixed_line_ends_and_embedded_crlf() {
    let env = Env::new();
    // LF, CRLF and lone CR in one file; quoted LF and CRLF inside fields.
    let text = "a,b\r\n1,\"x\ny\"\r\n\r\n2,\"p\r\nq\"\r3,\"he said \"\"hi\"\"\"\n\n\n4,z\r\n5,\"\r\n\"\n6,end";
    let r = env.inspect_bytes(text, &[]);
    assert_eq!(
        r.records(),
        vec![
            rec(2, &["1", "x\ny"]),
            rec(5, &["2", "p\r\nq"]),
            rec(7, &["3", "he said \"hi\""]),
            rec(10, &["4", "z"]),
            rec(11, &["5", "\r\n"]),
            rec(13, &["6", "end"]),
        ]
    );
    assert_eq!(
        r.skipped(),
        vec![
            pair(4, "blank_line"),
            pair(8, "blank_line"),
            pair(9, "blank_line")
        ]
    );
    assert_eq!(r.errors(), vec![]);
}

#[test]
fn blank_lines_before_the_header_are_skipped_with_their_lines() {
    let env = Env::new();
    let r = env.inspect_bytes("\n\r\na,b\n\n1,2\n", &[]);
    assert_eq!(r.header_line(), 3);
    assert_eq!(r.records(), vec![rec(5, &["1", "2"])]);
    assert_eq!(
        r.skipped(),
        vec![
            pair(1, "blank_line"),
            pair(2, "blank_line"),
            pair(4, "blank_line")
        ]
    );
}

#[test]
fn trailing_blank_lines_at_the_end_of_the_file_are_reported() {
    let env = Env::new();
    let r = env.inspect_bytes("a,b\n1,2\n\n\n", &[]);
    assert_eq!(r.records(), vec![rec(2, &["1", "2"])]);
    assert_eq!(
        r.skipped(),
        vec![pair(3, "blank_line"), pair(4, "blank_line")]
    );
}

/// A tiny deterministic generator (xorshift), so the big fixtures need no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A multi-megabyte file (several chunks, several read blocks) of records with random line
/// ends, quoted line breaks, `""` escapes, non-ASCII text and blank lines; returns the text,
/// the expected records and the expected blank lines.
#[allow(clippy::type_complexity)]
fn big_mixed_file(seed: u64, rows: usize) -> (String, Vec<(u64, Vec<String>)>, Vec<u64>) {
    let mut rng = Rng(seed);
    let eols = ["\n", "\r\n", "\r"];
    let mut text = String::from("id,text,n\n");
    let mut line = 2u64;
    let mut records = Vec::new();
    let mut blanks = Vec::new();
    for i in 0..rows {
        let eol = eols[rng.below(3) as usize];
        let (field, value, breaks) = match rng.below(20) {
            0 | 1 => {
                let inner = eols[rng.below(3) as usize];
                (
                    format!("\"a{inner}b \"\"q\"\"{inner}c\""),
                    format!("a{inner}b \"q\"{inner}c"),
                    2,
                )
            }
            2 => ("\"ü, ß\"".to_string(), "ü, ß".to_string(), 0),
            _ => (format!("plain {i}"), format!("plain {i}"), 0),
        };
        text.push_str(&format!("{i},{field},{i}{eol}"));
        records.push((line, vec![i.to_string(), value, i.to_string()]));
        line += 1 + breaks;
        // A blank line uses the record's own line end, so `\r` + `\n` never merge into one.
        if i + 1 < rows && rng.below(20) == 0 {
            text.push_str(eol);
            blanks.push(line);
            line += 1;
        }
    }
    (text, records, blanks)
}

#[test]
fn line_numbers_stay_exact_across_chunks_utf8() {
    let env = Env::new();
    let (text, records, blanks) = big_mixed_file(0x9e37_79b9_7f4a_7c15, 120_000);
    assert!(text.len() > 2 << 20, "the fixture spans several chunks");
    let r = env.inspect_bytes(&text, &[]);
    assert_eq!(r.errors(), vec![]);
    let got = r.records();
    assert_eq!(got.len(), records.len());
    for (g, e) in got.iter().zip(&records) {
        assert_eq!(g, e);
    }
    let got_blanks: Vec<u64> = r
        .skipped()
        .into_iter()
        .map(|(line, reason)| {
            assert_eq!(reason, "blank_line", "line {line}");
            line
        })
        .collect();
    // Skipped rows are summarised: the first of each reason listed, every one counted.
    assert_eq!(got_blanks, blanks[..LISTED_PER_REASON]);
    assert_eq!(r.skipped_count("blank_line"), blanks.len() as u64);
}

#[test]
fn line_numbers_stay_exact_across_chunks_utf16() {
    let env = Env::new();
    let (text, records, blanks) = big_mixed_file(0x2545_f491_4f6c_dd1d, 60_000);
    let r = env.inspect_bytes(utf16le_bom(&text), &[]);
    assert_eq!(r.str("encoding"), "UTF-16LE");
    assert_eq!(r.errors(), vec![]);
    let got = r.records();
    assert_eq!(got.len(), records.len());
    for (g, e) in got.iter().zip(&records) {
        assert_eq!(g, e);
    }
    let got_blanks: Vec<u64> = r.skipped().into_iter().map(|(line, _)| line).collect();
    assert_eq!(got_blanks, blanks[..LISTED_PER_REASON]);
    assert_eq!(r.skipped_count("blank_line"), blanks.len() as u64);
}

// ---------------------------------------------------------------------------------------------
// 6. Delimiters
// ---------------------------------------------------------------------------------------------

#[test]
fn delimiter_is_sniffed() {
    let env = Env::new();
    for (text, name, values) in [
        ("a;b;c\n1;2,5;3\n4;\"x;y\";6\n", ";", vec!["1", "2,5", "3"]),
        (
            "a\tb\tc\n1\tx, y\t3\n4\t5\t6\n",
            "\\t",
            vec!["1", "x, y", "3"],
        ),
        ("a|b|c\n1|2|3\n4|5,5|6\n", "|", vec!["1", "2", "3"]),
        (
            "a,b,c\n1,\"x;y|z\",3\n4,5,6\n",
            ",",
            vec!["1", "x;y|z", "3"],
        ),
    ] {
        let r = env.inspect_bytes(text, &[]);
        assert_eq!(r.str("delimiter"), name, "{text:?}");
        assert_eq!(r.columns(), vec!["a", "b", "c"], "{text:?}");
        let got = r.records();
        assert_eq!(got.len(), 2, "{text:?}");
        assert_eq!(got[0], rec(2, &values), "{text:?}");
        assert_eq!(r.errors(), vec![], "{text:?}");
    }
    // Delimiters inside quotes do not count.
    let r = env.inspect_bytes("\"a,b,c\";d\n\"1,2\";3\n\"4,5\";6\n", &[]);
    assert_eq!(r.str("delimiter"), ";");
    assert_eq!(r.columns(), vec!["a,b,c", "d"]);
}

#[test]
fn delimiter_override() {
    let env = Env::new();
    // A semicolon file read with commas: one column, and the `2,5` makes a second field.
    let r = env.inspect_bytes("a;b;c\n1;2,5;3\n", &["--delimiter", ","]);
    assert_eq!(r.str("delimiter"), ",");
    assert_eq!(r.columns(), vec!["a;b;c"]);
    assert_eq!(r.records(), vec![]);
    assert_eq!(r.errors(), vec![pair(2, "too_many_columns")]);
    // Named tab.
    let r = env.inspect_bytes("a,b\tc\n1,2\t3\n", &["--delimiter", "tab"]);
    assert_eq!(r.str("delimiter"), "\\t");
    assert_eq!(r.columns(), vec!["a,b", "c"]);
    assert_eq!(r.records(), vec![rec(2, &["1,2", "3"])]);
    // A comma file forced to `;`.
    let r = env.inspect_bytes("a,b\n1,2\n", &["--delimiter", ";"]);
    assert_eq!(r.str("delimiter"), ";");
    assert_eq!(r.columns(), vec!["a,b"]);
    assert_eq!(r.records(), vec![rec(2, &["1,2"])]);
    // Not a delimiter.
    let file = env.write("x.csv", "a,b\n");
    let out = env.run(&file, &["--delimiter", "ab"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sep_line_is_honoured_and_skipped() {
    let env = Env::new();
    for text in [
        "sep=;\na;b\n1;2,5\n".to_string(),
        "sep=;\r\na;b\r\n1;2,5\r\n".to_string(),
        "\u{feff}sep=;\r\na;b\r\n1;2,5\r\n".to_string(),
    ] {
        let r = env.inspect_bytes(&text, &[]);
        assert_eq!(r.str("delimiter"), ";", "{text:?}");
        assert_eq!(r.header_line(), 2, "{text:?}");
        assert_eq!(r.columns(), vec!["a", "b"], "{text:?}");
        assert_eq!(r.records(), vec![rec(3, &["1", "2,5"])], "{text:?}");
        assert_eq!(r.skipped(), vec![pair(1, "separator_hint")], "{text:?}");
    }
    // A sep= line in front of an eBay header.
    let r = env.inspect_bytes(
        format!(
            "sep=;\n{}\n1001;12-34567-89012;Pat;$10,00;Mar-15-24\n",
            ORDERS_HEADER.replace(',', ";")
        ),
        &[],
    );
    assert_eq!(r.header_line(), 2);
    assert_eq!(r.str("import_type"), "orders");
    assert_eq!(r.record_lines(), vec![3]);
    assert_eq!(r.skipped(), vec![pair(1, "separator_hint")]);
}

// ---------------------------------------------------------------------------------------------
// 7. Encodings
// ---------------------------------------------------------------------------------------------

#[test]
fn utf8_with_bom() {
    let env = Env::new();
    let r = env.inspect_bytes(
        b"\xef\xbb\xbfName,Stadt\r\nM\xc3\xbcller,K\xc3\xb6ln\r\n",
        &[],
    );
    assert_eq!(r.str("encoding"), "UTF-8");
    // The BOM is not part of the first column's name.
    assert_eq!(r.columns(), vec!["Name", "Stadt"]);
    assert_eq!(r.records(), vec![rec(2, &["Müller", "Köln"])]);
}

/// Excel's "Unicode text": UTF-16 with a BOM, tab-separated, CRLF.
const UNICODE_TEXT: &str = "Name\tStadt\tNote\r\nMüller\tKöln\tok\r\nZoë\tGießen\t\"two\r\nlines 😀\"\r\n\r\nŁukasz\tŁódź\t\"\"\"q\"\"\"\r\n";

fn unicode_text_records() -> Vec<(u64, Vec<String>)> {
    vec![
        rec(2, &["Müller", "Köln", "ok"]),
        rec(3, &["Zoë", "Gießen", "two\r\nlines 😀"]),
        rec(6, &["Łukasz", "Łódź", "\"q\""]),
    ]
}

#[test]
fn utf16le_with_bom() {
    let env = Env::new();
    let r = env.inspect_bytes(utf16le_bom(UNICODE_TEXT), &[]);
    assert_eq!(r.str("encoding"), "UTF-16LE");
    assert_eq!(r.str("delimiter"), "\\t");
    assert_eq!(r.columns(), vec!["Name", "Stadt", "Note"]);
    assert_eq!(r.records(), unicode_text_records());
    assert_eq!(r.skipped(), vec![pair(5, "blank_line")]);
    assert_eq!(r.errors(), vec![]);
}

#[test]
fn utf16be_with_bom() {
    let env = Env::new();
    let r = env.inspect_bytes(utf16be_bom(UNICODE_TEXT), &[]);
    assert_eq!(r.str("encoding"), "UTF-16BE");
    assert_eq!(r.str("delimiter"), "\\t");
    assert_eq!(r.columns(), vec!["Name", "Stadt", "Note"]);
    assert_eq!(r.records(), unicode_text_records());
    assert_eq!(r.skipped(), vec![pair(5, "blank_line")]);
    assert_eq!(r.errors(), vec![]);
}

/// Bytes that are one UTF-8 character only when a record's fields are joined (here around a
/// `""` escape, which takes the csv-core path) are an invalid record, not a crash.
#[test]
fn a_character_split_across_fields_rejects_only_its_record() {
    let env = Env::new();
    let r = env.inspect_bytes(
        b"a,b,c\n\"x\"\"y\",\xc3,\xa4\nok,1,2\n",
        &["--encoding", "utf-8"],
    );
    assert_eq!(r.records(), vec![rec(3, &["ok", "1", "2"])]);
    assert_eq!(r.errors(), vec![pair(2, "invalid_encoding")]);
}

/// A `sep=` line naming a byte of a multi-byte character names no delimiter: it is read as the
/// header, and the delimiter is sniffed.
#[test]
fn a_non_ascii_separator_hint_is_an_ordinary_row() {
    let env = Env::new();
    let r = env.inspect_bytes(
        b"sep=\xa4\na;b\n\xc3\xa4;1\n\xc3\xa4;2\n",
        &["--encoding", "utf-8"],
    );
    assert_eq!(r.str("delimiter"), ";");
    assert_eq!(r.header_line(), 1);
    assert!(r.skipped().is_empty());
}

#[test]
fn utf16_unpaired_surrogate_rejects_only_its_record() {
    let env = Env::new();
    let mut bytes = utf16le_bom("Name\tStadt\r\nMüller\tKöln\r\nBad\tX");
    bytes.extend([0x00, 0xd8]); // a lone high surrogate
    bytes.extend(&utf16le_bom("\r\nZoë\tGießen\r\n")[2..]);
    let r = env.inspect_bytes(bytes, &[]);
    assert_eq!(r.str("encoding"), "UTF-16LE");
    assert_eq!(
        r.records(),
        vec![rec(2, &["Müller", "Köln"]), rec(4, &["Zoë", "Gießen"])]
    );
    assert_eq!(r.errors(), vec![pair(3, "invalid_encoding")]);
}

#[test]
fn windows_1252_over_one_read_block_loses_nothing() {
    let env = Env::new();
    let rows = 100_000u64;
    let mut bytes = b"id,name,n\n".to_vec();
    for i in 1..=rows {
        bytes.extend(format!("{i},M").as_bytes());
        bytes.push(0xfc); // ü
        bytes.extend(format!("ller {i},{i}\n").as_bytes());
    }
    assert!(bytes.len() > 2 << 20);
    let r = env.inspect_bytes(&bytes, &["--encoding", "windows-1252"]);
    assert_eq!(r.str("encoding"), "windows-1252");
    assert_eq!(r.errors(), vec![]);
    let records = r.records();
    assert_eq!(records.len() as u64, rows);
    for (i, got) in (1..=rows).zip(records) {
        let n = i.to_string();
        assert_eq!(got, rec(i + 1, &[&n, &format!("Müller {i}"), &n]));
    }
}

const LATIN_TEXT: &[u8] = b"Name,Stadt,Preis\r\nM\xfcller,K\xf6ln,5\x80\r\nJ\xfcrgen,D\xfcsseldorf,\x93Zitat\x94\r\nS\xe9bastien,Orl\xe9ans,3\r\nZo\xeb,Gie\xdfen,4\r\n";

#[test]
fn windows_1252_is_detected_and_decoded() {
    let env = Env::new();
    let r = env.inspect_bytes(LATIN_TEXT, &[]);
    assert_eq!(r.str("encoding"), "windows-1252");
    assert_eq!(
        r.records(),
        vec![
            rec(2, &["Müller", "Köln", "5€"]),
            rec(3, &["Jürgen", "Düsseldorf", "“Zitat”"]),
            rec(4, &["Sébastien", "Orléans", "3"]),
            rec(5, &["Zoë", "Gießen", "4"]),
        ]
    );
    assert_eq!(r.errors(), vec![]);
}

#[test]
fn encoding_override() {
    let env = Env::new();
    // ISO-8859-1 is, by the WHATWG Encoding Standard that encoding_rs follows, a label of
    // windows-1252: that is the name reported.
    let r = env.inspect_bytes(
        b"Name,Stadt\nM\xfcller,K\xf6ln\n",
        &["--encoding", "ISO-8859-1"],
    );
    assert_eq!(r.str("encoding"), "windows-1252");
    assert_eq!(r.records(), vec![rec(2, &["Müller", "Köln"])]);
    // The override wins over detection: valid UTF-8 read as Latin-1 gives mojibake.
    let r = env.inspect_bytes(
        "Name,Stadt\nMüller,Köln\n".as_bytes(),
        &["--encoding", "ISO-8859-1"],
    );
    assert_eq!(r.str("encoding"), "windows-1252");
    assert_eq!(r.records(), vec![rec(2, &["MÃ¼ller", "KÃ¶ln"])]);
    // An unknown label is a usage error.
    let file = env.write("x.csv", "a\n");
    let out = env.run(&file, &["--encoding", "no-such-encoding"]);
    assert_eq!(out.status.code(), Some(2));
}

/// UTF-8 text (with multi-byte characters) where one record holds a byte that is not UTF-8.
fn utf8_with_one_bad_record() -> Vec<u8> {
    let mut bytes = "Name,Stadt\nMüller,Köln\nJürgen,Düsseldorf\nZoë,Gießen\n"
        .as_bytes()
        .to_vec();
    bytes.extend(b"Broken,K\xf6ln\n"); // line 5: a Latin-1 byte in a UTF-8 file
    bytes.extend("Sébastien,Orléans\n".as_bytes());
    bytes
}

fn check_utf8_with_one_bad_record(r: &Report) {
    assert_eq!(r.str("encoding"), "UTF-8");
    assert_eq!(
        r.records(),
        vec![
            rec(2, &["Müller", "Köln"]),
            rec(3, &["Jürgen", "Düsseldorf"]),
            rec(4, &["Zoë", "Gießen"]),
            rec(6, &["Sébastien", "Orléans"]),
        ]
    );
    assert_eq!(r.errors(), vec![pair(5, "invalid_encoding")]);
}

#[test]
fn utf8_file_with_an_invalid_record_is_still_utf8() {
    let env = Env::new();
    let r = env.inspect_bytes(utf8_with_one_bad_record(), &[]);
    check_utf8_with_one_bad_record(&r);
}

#[test]
fn utf8_forced_rejects_the_invalid_record_only() {
    let env = Env::new();
    let r = env.inspect_bytes(utf8_with_one_bad_record(), &["--encoding", "UTF-8"]);
    check_utf8_with_one_bad_record(&r);
}

#[test]
fn utf8_invalid_record_after_the_detection_sample() {
    let env = Env::new();
    let mut text = String::from("id,name\n");
    for i in 1..=5000 {
        text.push_str(&format!("{i},Müller {i}\n"));
    }
    assert!(text.len() > 64 * 1024);
    let mut bytes = text.into_bytes();
    bytes.extend(b"5001,bad\xff\xfe here\n5002,after\n");
    let r = env.inspect_bytes(bytes, &[]);
    assert_eq!(r.str("encoding"), "UTF-8");
    let records = r.records();
    assert_eq!(records.len(), 5001);
    assert_eq!(records[4999], rec(5001, &["5000", "Müller 5000"]));
    assert_eq!(records[5000], rec(5003, &["5002", "after"]));
    assert_eq!(r.errors(), vec![pair(5002, "invalid_encoding")]);
}

// ---------------------------------------------------------------------------------------------
// 8. Structural errors
// ---------------------------------------------------------------------------------------------

#[test]
fn structural_errors_are_reported_with_their_lines() {
    let env = Env::new();
    let text = "a,b,c\n\
                1,2,3\n\
                4,5\n\
                6,7,8,9\n\
                10,11,12,,\n\
                13,14,15,\n\
                16,\"x\ny\",18\n\
                19,20,21\n\
                \"open,22,23\n\
                24,25,26\n";
    let r = env.inspect_bytes(text, &[]);
    assert_eq!(
        r.records(),
        vec![
            rec(2, &["1", "2", "3"]),
            // Trailing empty extra fields are not an error (and are not values).
            rec(5, &["10", "11", "12"]),
            rec(6, &["13", "14", "15"]),
            rec(7, &["16", "x\ny", "18"]),
            rec(9, &["19", "20", "21"]),
        ]
    );
    assert_eq!(
        r.errors(),
        vec![
            pair(3, "missing_columns"),
            pair(4, "too_many_columns"),
            // The quote opened on line 10 runs to the end of the file.
            pair(10, "unterminated_quote"),
        ]
    );
    let messages: Vec<&str> = r.0["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages.iter().all(|m| !m.is_empty()));
}

#[test]
fn unterminated_quote_in_an_ebay_file() {
    let env = Env::new();
    let r = env.inspect_bytes(
        format!(
            "{ORDERS_HEADER}\r\n1001,1,Pat,$1.00,Mar-15-24\r\n1002,2,\"Sam,$2.00,Mar-15-24\r\n1003,3,Kim,$3.00,Mar-15-24\r\n"
        ),
        &[],
    );
    assert_eq!(r.record_lines(), vec![2]);
    assert_eq!(r.errors(), vec![pair(3, "unterminated_quote")]);
}

#[test]
fn line_too_long() {
    let env = Env::new();
    let mut text = String::from("a,b\n1,short\n2,");
    text.push_str(&"x".repeat(150));
    text.push_str("\n3,after\n4,\"q");
    text.push_str(&"y\n".repeat(60)); // a long quoted value over many lines
    text.push_str("\"\n5,end\n");
    let file = env.write("long.csv", &text);
    let r = env.inspect(&file, &["--rows", "all", "--max-line-bytes", "100"]);
    assert_eq!(
        r.records(),
        vec![
            rec(2, &["1", "short"]),
            rec(4, &["3", "after"]),
            rec(66, &["5", "end"])
        ]
    );
    assert_eq!(
        r.errors(),
        vec![pair(3, "line_too_long"), pair(5, "line_too_long")]
    );
    // Without the limit both are fine.
    let r = env.inspect(&file, &["--rows", "all"]);
    assert_eq!(r.record_lines(), vec![2, 3, 4, 5, 66]);
    assert_eq!(r.errors(), vec![]);
}

/// An over-long record that straddles a boundary of the reader's buffers (the 64 KiB
/// detection sample, the 1 MiB read block and chunk) may be cut out by the splitter itself
/// rather than by the parser; either way it is one `line_too_long` at its own line, and the
/// records around it keep their lines.
#[test]
fn line_too_long_across_a_read_block() {
    let env = Env::new();
    for base in [64 * 1024i64, 1 << 20] {
        for shift in [-290i64, -200, -120, -60, -1, 0, 30] {
            let mut text = String::from("a,b\n");
            let mut i = 1u64;
            while (text.len() as i64) < base + shift {
                text.push_str(&format!("{i},v{i}\n"));
                i += 1;
            }
            let long_line = i + 1; // the header is line 1
            text.push_str(&format!("{i},{}\n", "x".repeat(300)));
            i += 1;
            for _ in 0..50 {
                text.push_str(&format!("{i},w{i}\n"));
                i += 1;
            }
            let file = env.write("straddle.csv", &text);
            let r = env.inspect(&file, &["--rows", "all", "--max-line-bytes", "100"]);
            let at = format!("record at byte {base}{shift:+}");
            assert_eq!(r.errors(), vec![pair(long_line, "line_too_long")], "{at}");
            let records = r.records();
            assert_eq!(records.len() as u64, i - 2, "{at}");
            for (line, values) in records {
                assert_eq!(line, values[0].parse::<u64>().unwrap() + 1, "{at}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 9. --rows
// ---------------------------------------------------------------------------------------------

#[test]
fn rows_limits_the_records() {
    let env = Env::new();
    let mut text = String::from("id,v\n");
    for i in 1..=15 {
        text.push_str(&format!("{i},x{i}\n"));
    }
    let file = env.write("rows.csv", &text);
    let r = env.inspect(&file, &["--rows", "2"]);
    assert_eq!(
        r.records(),
        vec![rec(2, &["1", "x1"]), rec(3, &["2", "x2"])]
    );
    let r = env.inspect(&file, &["--rows", "all"]);
    assert_eq!(r.record_lines(), (2..=16).collect::<Vec<u64>>());
    // The default is 10.
    let r = env.inspect(&file, &[]);
    assert_eq!(r.record_lines(), (2..=11).collect::<Vec<u64>>());
    let r = env.inspect(&file, &["--rows", "0"]);
    assert_eq!(r.records(), vec![]);
    assert_eq!(r.columns(), vec!["id", "v"]);
    for bad in ["x", "-1", "2.5", ""] {
        let arg = format!("--rows={bad}");
        let out = env.run(&file, &[&arg]);
        assert_eq!(out.status.code(), Some(2), "--rows {bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--rows"),
            "--rows {bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 10. The header is found by content
// ---------------------------------------------------------------------------------------------

#[test]
fn ebay_header_after_junk_lines_and_info_rows() {
    let env = Env::new();
    let text = format!(
        "Report generated 2024-03-15,,\n\
         Some junk line\n\
         {ORDERS_HEADER}\n\
         Info,some info,,,\n\
         1001,12-34567-89012,Pat,$10.00,Mar-15-24\n\
         #INFO,more,,,\n\
         1002,98-76543-21098,Sam,$5.00,Mar-16-24\n"
    );
    for args in [&["--type", "orders"][..], &[][..]] {
        let r = env.inspect_bytes(&text, args);
        assert_eq!(r.header_line(), 3, "{args:?}");
        assert_eq!(r.str("import_type"), "orders", "{args:?}");
        assert_eq!(r.str("site"), "US", "{args:?}");
        assert_eq!(
            r.columns(),
            ORDERS_HEADER.split(',').collect::<Vec<_>>(),
            "{args:?}"
        );
        assert_eq!(
            r.0["mapping"]["Sales Record Number"], "sales_record_number",
            "{args:?}"
        );
        assert_eq!(
            r.records(),
            vec![
                rec(5, &["1001", "12-34567-89012", "Pat", "$10.00", "Mar-15-24"]),
                rec(7, &["1002", "98-76543-21098", "Sam", "$5.00", "Mar-16-24"]),
            ],
            "{args:?}"
        );
        assert_eq!(
            r.skipped(),
            vec![
                pair(1, "preamble"),
                pair(2, "preamble"),
                pair(4, "info_row"),
                pair(6, "info_row"),
            ],
            "{args:?}"
        );
        assert_eq!(r.errors(), vec![], "{args:?}");
    }
}

fn junk_then_header(junk_rows: usize) -> String {
    let mut text = String::new();
    for i in 1..=junk_rows {
        text.push_str(&format!("junk {i},,\n"));
    }
    text.push_str(ORDERS_HEADER);
    text.push_str("\n1001,1,Pat,$1.00,Mar-15-24\n");
    text
}

#[test]
fn header_is_searched_in_the_first_20_rows() {
    let env = Env::new();
    // The 20th row: found.
    let r = env.inspect_bytes(junk_then_header(19), &[]);
    assert_eq!(r.header_line(), 20);
    assert_eq!(r.str("import_type"), "orders");
    assert_eq!(r.record_lines(), vec![21]);
    assert_eq!(
        r.skipped(),
        (1..=19).map(|l| pair(l, "preamble")).collect::<Vec<_>>()
    );
    // Blank lines are not rows: the header on physical line 25 is still the 20th row.
    let text = format!("\n\n\n\n\n{}", junk_then_header(19));
    let r = env.inspect_bytes(&text, &["--type", "orders"]);
    assert_eq!(r.header_line(), 25);
    assert_eq!(r.record_lines(), vec![26]);
    // The 21st row: not searched. Plain inspect falls back to the first row...
    let r = env.inspect_bytes(junk_then_header(20), &[]);
    assert_eq!(r.header_line(), 1);
    assert_eq!(r.0["import_type"], Value::Null);
    // ...and a forced type fails.
    let file = env.write("late.csv", junk_then_header(20));
    let out = env.run(&file, &["--json", "--type", "orders"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("20"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// 11. Streaming
// ---------------------------------------------------------------------------------------------

fn rows_csv(rows: usize) -> String {
    let mut text = String::with_capacity(rows * 24);
    text.push_str("id,name,amount\n");
    for i in 1..=rows {
        text.push_str(&format!("{i},name {i},{}.{:02}\n", i % 1000, i % 100));
    }
    text
}

#[test]
fn large_file_with_few_rows_is_quick() {
    let env = Env::new();
    let file = env.write("big.csv", rows_csv(200_000));
    let started = Instant::now();
    let r = env.inspect(&file, &["--rows", "5"]);
    let took = started.elapsed();
    assert_eq!(
        r.records(),
        vec![
            rec(2, &["1", "name 1", "1.01"]),
            rec(3, &["2", "name 2", "2.02"]),
            rec(4, &["3", "name 3", "3.03"]),
            rec(5, &["4", "name 4", "4.04"]),
            rec(6, &["5", "name 5", "5.05"]),
        ]
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// From a pipe that is never closed, `--rows 5` must answer without waiting for the end of the
/// input: proof that inspect streams instead of reading the whole file.
#[test]
fn inspect_streams_from_an_open_pipe() {
    let env = Env::new();
    let data = rows_csv(200_000).into_bytes();
    let mut child = env
        .command()
        .args(["inspect", "-", "--json", "--rows", "5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ebay-import");
    let mut stdin = child.stdin.take().expect("stdin");
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        // Once inspect has what it needs and exits, writes fail (broken pipe): that is fine.
        let _ = stdin.write_all(&data);
        let _ = stdin.flush();
        // Keep the pipe open (no end of input) until the test is done.
        let _ = done_rx.recv();
        drop(stdin);
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = done_tx.send(());
    writer.join().expect("writer thread");
    let status = status.expect("inspect --rows 5 waited for the end of an open pipe (20 s)");
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut stdout)
        .expect("read stdout");
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr);
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    let r = Report(serde_json::from_slice(&stdout).expect("JSON"));
    assert_eq!(r.record_lines(), vec![2, 3, 4, 5, 6]);
}
