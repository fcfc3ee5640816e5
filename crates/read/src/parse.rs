//! Tokenizing one chunk of whole records with csv-core into Arrow string columns, with the
//! record's exact position, framing skips and structural rejects.

use crate::split::Chunk;
use arrow_array::builder::{StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use csv_core::{ReadRecordResult, Reader as CoreReader, ReaderBuilder};
use ebay_import_model::{
    truncate_chars, ErrorCode, Footer, Position, Reject, SkipReason, Skipped, MAX_RAW_CHARS,
};
use std::sync::Arc;

/// Names of the position columns appended to every batch.
pub const LINE_COLUMN: &str = "__line";
pub const RECORD_COLUMN: &str = "__record";
pub const BYTE_COLUMN: &str = "__byte";

/// What the parser needs to know about the file's columns.
#[derive(Debug, Clone)]
pub struct ParseSpec {
    pub delimiter: u8,
    /// The header's names, for messages.
    pub header: Vec<String>,
    /// For each file column, the output column it feeds (`None`: dropped).
    pub projection: Vec<Option<usize>>,
    /// Output column names, in output order.
    pub output_names: Vec<String>,
    pub max_record_bytes: usize,
    /// Recognise eBay footer and `Info` rows (only for files of a known import type).
    pub ebay_framing: bool,
}

impl ParseSpec {
    /// A spec that keeps every column as it is in the file.
    pub fn identity(delimiter: u8, header: Vec<String>, max_record_bytes: usize) -> Self {
        let projection = (0..header.len()).map(Some).collect();
        ParseSpec {
            delimiter,
            output_names: header.clone(),
            header,
            projection,
            max_record_bytes,
            ebay_framing: false,
        }
    }

    pub fn schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .output_names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect();
        for name in [LINE_COLUMN, RECORD_COLUMN, BYTE_COLUMN] {
            fields.push(Field::new(name, DataType::UInt64, false));
        }
        Arc::new(Schema::new(fields))
    }

    fn width(&self) -> usize {
        self.header.len()
    }
}

/// One chunk after tokenizing: the good records as Arrow string columns (in output order,
/// then `__line`, `__record`, `__byte`), plus what was skipped or rejected.
#[derive(Debug)]
pub struct RawBatch {
    pub seq: u64,
    pub batch: RecordBatch,
    pub rejects: Vec<Reject>,
    pub skipped: Vec<Skipped>,
    pub footer: Footer,
    /// Records in the chunk: good + rejected + skipped rows (blank lines are not records).
    pub records: u64,
}

impl RawBatch {
    pub fn output_columns(&self) -> usize {
        self.batch.num_columns() - 3
    }

    pub fn position(&self, row: usize) -> Position {
        use arrow_array::cast::AsArray;
        use arrow_array::types::UInt64Type;
        let n = self.batch.num_columns();
        let get = |c: usize| self.batch.column(c).as_primitive::<UInt64Type>().value(row);
        Position {
            line: get(n - 3),
            record: get(n - 2),
            byte: get(n - 1),
        }
    }
}

/// A record tokenized on its own, as the header search and `inspect` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    pub position: Position,
    pub fields: Vec<String>,
    /// Lines of blank lines right before the record.
    pub blank_lines_before: Vec<u64>,
    /// The record's bytes were not valid UTF-8 (fields are shown lossily).
    pub invalid_utf8: bool,
}

/// Tokenizes `bytes` (whole records starting at `start`) into owned records.
pub fn owned_records(bytes: &[u8], start: Position, delimiter: u8) -> Vec<OwnedRecord> {
    let mut out = Vec::new();
    let mut tok = Tokenizer::new(bytes, start, delimiter);
    while let Some(rec) = tok.next_record() {
        let text = &tok.output[..rec.out_len];
        let invalid_utf8 = std::str::from_utf8(text).is_err();
        let fields = field_slices(text, &tok.ends[..rec.fields])
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        out.push(OwnedRecord {
            position: rec.position,
            fields,
            blank_lines_before: rec.blank_lines.clone(),
            invalid_utf8,
        });
    }
    out
}

fn field_slices<'a>(text: &'a [u8], ends: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut start = 0;
    ends.iter().map(move |&end| {
        let f = &text[start..end];
        start = end;
        f
    })
}

struct TokRecord {
    position: Position,
    /// Offsets of the record's raw bytes in the chunk (without leading blank lines).
    raw: (usize, usize),
    out_len: usize,
    fields: usize,
    blank_lines: Vec<u64>,
}

thread_local! {
    /// The tokenizer's output buffer, kept per worker thread: a fresh megabyte per chunk costs
    /// page faults and zeroing.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn scratch(len: usize) -> Vec<u8> {
    let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if buf.len() < len {
        buf.resize(len, 0);
    }
    buf
}

impl Drop for Tokenizer<'_> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.output);
        SCRATCH.with(|s| *s.borrow_mut() = buf);
    }
}

/// csv-core over one in-memory chunk, tracking physical lines exactly.
struct Tokenizer<'a> {
    input: &'a [u8],
    core: CoreReader,
    at: usize,
    /// Line of the chunk's first byte.
    first_line: u64,
    /// Offsets of the chunk's line breaks (`\n`, or a `\r` not followed by `\n`).
    breaks: Vec<u32>,
    /// Breaks before the last offset asked for.
    passed: usize,
    record: u64,
    base: Position,
    output: Vec<u8>,
    ends: Vec<usize>,
    /// Line of the last byte of the previous record.
    prev_last_line: Option<u64>,
}

impl<'a> Tokenizer<'a> {
    fn new(input: &'a [u8], start: Position, delimiter: u8) -> Self {
        Tokenizer {
            input,
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            at: 0,
            first_line: start.line,
            breaks: memchr::memchr2_iter(b'\n', b'\r', input)
                .filter(|&i| input[i] == b'\n' || input.get(i + 1) != Some(&b'\n'))
                .map(|i| i as u32)
                .collect(),
            passed: 0,
            record: start.record,
            base: start,
            output: scratch(input.len() + 1),
            ends: vec![0; 128],
            prev_last_line: if start.line > 1 {
                Some(start.line - 1)
            } else {
                None
            },
        }
    }

    /// The physical line of the byte at `offset` (monotonic calls only).
    fn line_of(&mut self, offset: usize) -> u64 {
        while self
            .breaks
            .get(self.passed)
            .is_some_and(|&b| (b as usize) < offset)
        {
            self.passed += 1;
        }
        self.first_line + self.passed as u64
    }

    fn next_record(&mut self) -> Option<TokRecord> {
        let mut nout = 0;
        let mut nend = 0;
        let start = self.at;
        loop {
            let (res, nin, o, e) = self.core.read_record(
                &self.input[self.at..],
                &mut self.output[nout..],
                &mut self.ends[nend..],
            );
            self.at += nin;
            nout += o;
            nend += e;
            match res {
                ReadRecordResult::InputEmpty => {
                    if self.at >= self.input.len() {
                        // Feed the end of input so the last record (no terminator) completes.
                        let (res, _, o, e) = self.core.read_record(
                            &[],
                            &mut self.output[nout..],
                            &mut self.ends[nend..],
                        );
                        nout += o;
                        nend += e;
                        if res == ReadRecordResult::OutputEndsFull {
                            self.ends.resize(self.ends.len() * 2, 0);
                            continue;
                        }
                        if res != ReadRecordResult::Record {
                            return None;
                        }
                        return Some(self.finish(start, nout, nend));
                    }
                }
                ReadRecordResult::OutputFull => self.output.resize(self.output.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => return Some(self.finish(start, nout, nend)),
                ReadRecordResult::End => return None,
            }
        }
    }

    /// Blank lines after the last record of the input.
    fn trailing_blank_lines(&mut self) -> std::ops::Range<u64> {
        let first = self.prev_last_line.map_or(1, |l| l + 1);
        match self.input.last() {
            Some(b'\n' | b'\r') => first..self.line_of(self.input.len()),
            _ => first..first,
        }
    }

    fn finish(&mut self, start: usize, nout: usize, nend: usize) -> TokRecord {
        // Leading line-break bytes of the consumed span are blank lines (or the `\n` of the
        // previous record's CRLF), not part of this record.
        let content = start
            + self.input[start..self.at]
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
        let line = self.line_of(content);
        let first_blank = self.prev_last_line.map_or(1, |l| l + 1);
        let blank_lines = (first_blank..line).collect();
        // The record's raw end: drop its terminator.
        let mut end = self.at;
        while end > content && matches!(self.input[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        let last = self.line_of(end.max(content));
        self.prev_last_line = Some(last);
        let position = Position {
            line,
            byte: self.base.byte + content as u64,
            record: self.record,
        };
        self.record += 1;
        TokRecord {
            position,
            raw: (content, end),
            out_len: nout,
            fields: nend,
            blank_lines,
        }
    }
}

/// Tokenizes a chunk into a [`RawBatch`].
pub fn parse_chunk(chunk: &Chunk, spec: &ParseSpec) -> RawBatch {
    let out_cols = spec.output_names.len();
    let mut builders: Vec<StringBuilder> = (0..out_cols)
        .map(|_| StringBuilder::with_capacity(1024, chunk.bytes.len() / out_cols.max(1)))
        .collect();
    let mut lines = UInt64Builder::new();
    let mut records = UInt64Builder::new();
    let mut bytes = UInt64Builder::new();
    let mut rejects = Vec::new();
    let mut skipped = Vec::new();
    let mut footer = Footer::default();
    let mut count = 0u64;

    if chunk.too_long {
        count = 1;
        rejects.push(Reject {
            line: chunk.start.line,
            record: chunk.start.record,
            column: None,
            code: ErrorCode::LineTooLong,
            message: format!(
                "record is longer than {} bytes; raise --max-line-bytes if it is genuine, \
                 otherwise look for an unclosed quote that starts here",
                spec.max_record_bytes
            ),
            value: None,
            raw: Some(raw_preview(&chunk.bytes)),
        });
    } else {
        let mut tok = Tokenizer::new(&chunk.bytes, chunk.start, spec.delimiter);
        let width = spec.width();
        let mut is_last;
        while let Some(rec) = tok.next_record() {
            count += 1;
            is_last = tok.at >= chunk.bytes.len();
            for line in &rec.blank_lines {
                skipped.push(Skipped {
                    line: *line,
                    reason: SkipReason::BlankLine,
                });
            }
            let raw = &chunk.bytes[rec.raw.0..rec.raw.1];
            let text = &tok.output[..rec.out_len];
            let ends = &tok.ends[..rec.fields];
            let reject = |code, message: String| Reject {
                line: rec.position.line,
                record: rec.position.record,
                column: None,
                code,
                message,
                value: None,
                raw: Some(raw_preview(raw)),
            };
            if is_last && chunk.ends_in_quote {
                rejects.push(reject(
                    ErrorCode::UnterminatedQuote,
                    "a quoted field opened here is never closed before the end of the file; \
                     close the quote or double (\"\") the quotes inside the value"
                        .into(),
                ));
                continue;
            }
            if raw.len() > spec.max_record_bytes {
                rejects.push(reject(
                    ErrorCode::LineTooLong,
                    format!(
                        "record is {} bytes, over the limit of {}; raise --max-line-bytes if it \
                         is genuine",
                        raw.len(),
                        spec.max_record_bytes
                    ),
                ));
                continue;
            }
            let Ok(text) = std::str::from_utf8(text) else {
                rejects.push(reject(
                    ErrorCode::InvalidEncoding,
                    "record holds bytes that are not valid in the file's encoding; re-export \
                     the file as UTF-8 or name its encoding with --encoding"
                        .into(),
                ));
                continue;
            };
            // Field ends fall on ASCII delimiters, so slicing the checked text never splits a
            // character.
            let mut start = 0;
            let mut fields = ends.iter().map(|&end| {
                let f = &text[start..end];
                start = end;
                f
            });
            if let Some(reason) = framing(text, ends, spec.ebay_framing, &mut footer) {
                skipped.push(Skipped {
                    line: rec.position.line,
                    reason,
                });
                continue;
            }
            let n = ends.len();
            if n < width {
                rejects.push(reject(
                    ErrorCode::MissingColumns,
                    format!(
                        "record has {n} fields but the header has {width}; the row was cut \
                         short or a delimiter is missing (first missing column: {:?})",
                        spec.header[n]
                    ),
                ));
                continue;
            }
            if n > width {
                let extra_nonempty = field_slices(text.as_bytes(), ends)
                    .skip(width)
                    .any(|f| !f.is_empty());
                if extra_nonempty {
                    rejects.push(reject(
                        ErrorCode::TooManyColumns,
                        format!(
                            "record has {n} fields but the header has {width}; an unquoted \
                             delimiter inside a value is the usual cause: quote that value"
                        ),
                    ));
                    continue;
                }
            }
            for (col, value) in (&mut fields).take(width).enumerate() {
                if let Some(out) = spec.projection[col] {
                    builders[out].append_value(value);
                }
            }
            lines.append_value(rec.position.line);
            records.append_value(rec.position.record);
            bytes.append_value(rec.position.byte);
        }
        // Line breaks inside a never-closed quote belong to the rejected record.
        if !chunk.ends_in_quote {
            for line in tok.trailing_blank_lines() {
                skipped.push(Skipped {
                    line,
                    reason: SkipReason::BlankLine,
                });
            }
        }
    }
    let mut columns: Vec<ArrayRef> = builders
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(lines.finish()));
    columns.push(Arc::new(records.finish()));
    columns.push(Arc::new(bytes.finish()));
    let batch = RecordBatch::try_new(spec.schema(), columns).expect("columns match the schema");
    RawBatch {
        seq: chunk.seq,
        batch,
        rejects,
        skipped,
        footer,
        records: count,
    }
}

/// Recognises rows that are framing, not data.
fn framing(text: &str, ends: &[usize], ebay: bool, footer: &mut Footer) -> Option<SkipReason> {
    let bytes = text.as_bytes();
    if ends.last().copied().unwrap_or(0) == 0 {
        return Some(SkipReason::EmptyRow);
    }
    if !ebay {
        return None;
    }
    // Footer rows have text in their first cells only; a data row that happens to say
    // "record(s) downloaded" or "Seller ID:" stays data.
    let head_end = ends[ends.len().min(3) - 1];
    let rest_empty = ends.last().copied().unwrap_or(0) == head_end;
    // The footer count is in one of the first three cells; look for it in their text first,
    // so ordinary rows cost one substring search.
    let head = &bytes[..head_end];
    if rest_empty && memchr::memmem::find(head, b"record(s) downloaded").is_some() {
        let first3: Vec<&str> = field_slices(bytes, ends)
            .take(3)
            .map(|f| std::str::from_utf8(f).unwrap_or_default().trim())
            .collect();
        let i = first3
            .iter()
            .position(|f| f.contains("record(s) downloaded"))
            .unwrap_or(0);
        let count_text = if first3[i].starts_with("record(s)") && i > 0 {
            first3[i - 1]
        } else {
            first3[i]
        };
        footer.record_count = count_text
            .split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .and_then(|s| s.parse().ok());
        return Some(SkipReason::FooterCount);
    }
    let first = text[..ends[0]].trim();
    let seller = first
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("seller id"));
    if seller && ends.last() == ends.first() {
        let rest = first[9..].trim_start();
        if let Some(name) = rest.strip_prefix(':') {
            footer.seller_id = Some(name.trim().to_string());
            return Some(SkipReason::FooterSeller);
        }
    }
    if first.eq_ignore_ascii_case("info")
        || first
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("#info"))
    {
        return Some(SkipReason::InfoRow);
    }
    None
}

fn raw_preview(raw: &[u8]) -> String {
    truncate_chars(&String::from_utf8_lossy(raw), MAX_RAW_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;

    fn chunk(bytes: &[u8]) -> Chunk {
        Chunk {
            seq: 0,
            bytes: bytes.to_vec(),
            start: Position {
                line: 3,
                byte: 100,
                record: 2,
            },
            ends_in_quote: false,
            too_long: false,
        }
    }

    fn spec(width: usize) -> ParseSpec {
        ParseSpec::identity(b',', (0..width).map(|i| format!("c{i}")).collect(), 1 << 20)
    }

    #[test]
    fn positions_count_quoted_newlines_crlf_and_blank_lines() {
        let raw = parse_chunk(&chunk(b"a,\"x\r\ny\"\r\n\r\nb,c\r\n"), &spec(2));
        assert_eq!(raw.batch.num_rows(), 2);
        assert_eq!(
            raw.position(0),
            Position {
                line: 3,
                byte: 100,
                record: 2
            }
        );
        assert_eq!(
            raw.position(1),
            Position {
                line: 6,
                byte: 112,
                record: 3
            }
        );
        assert_eq!(
            raw.skipped,
            vec![Skipped {
                line: 5,
                reason: SkipReason::BlankLine
            }]
        );
        assert_eq!(raw.batch.column(1).as_string::<i32>().value(0), "x\r\ny");
    }

    #[test]
    fn framing_words_inside_data_rows_and_non_ascii_first_cells_are_data() {
        let mut s = spec(5);
        s.ebay_framing = true;
        let raw = parse_chunk(
            &chunk(
                "7 record(s) downloaded,x,y,z,w\nSeller ID: shop,1,2,3,4\nÄÄÄÄÄ,1,2,3,4\nSeller IDé,1,2,3,4\n"
                    .as_bytes(),
            ),
            &s,
        );
        assert!(raw.skipped.is_empty(), "{:?}", raw.skipped);
        assert_eq!(raw.batch.num_rows(), 4);
        assert_eq!(raw.footer, Footer::default());
    }

    #[test]
    fn quoted_newlines_of_an_unterminated_quote_are_not_blank_lines() {
        let mut c = chunk(b"a,b\n\"open\n\n\n");
        c.ends_in_quote = true;
        let raw = parse_chunk(&c, &spec(2));
        assert!(raw.skipped.is_empty(), "{:?}", raw.skipped);
    }

    #[test]
    fn trailing_blank_lines_are_reported() {
        let raw = parse_chunk(&chunk(b"1,2\n\n\r\n"), &spec(2));
        let lines: Vec<u64> = raw.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![4, 5]);
        let raw = parse_chunk(&chunk(b"1,2"), &spec(2));
        assert!(raw.skipped.is_empty());
    }

    #[test]
    fn structural_faults_reject_the_record_and_go_on() {
        let raw = parse_chunk(
            &chunk(b"a,b,c\na\na,b,c,d\na,b,c,,\n\xff,b,c\nok,1,2\n"),
            &spec(3),
        );
        let codes: Vec<_> = raw.rejects.iter().map(|r| (r.line, r.code)).collect();
        assert_eq!(
            codes,
            vec![
                (4, ErrorCode::MissingColumns),
                (5, ErrorCode::TooManyColumns),
                (7, ErrorCode::InvalidEncoding)
            ]
        );
        // Trailing empty fields are not a fault.
        assert_eq!(raw.batch.num_rows(), 3);
        assert_eq!(raw.records, 6);
    }

    #[test]
    fn ebay_footer_and_padding_rows_are_skipped_with_reasons() {
        let mut s = spec(3);
        s.ebay_framing = true;
        let raw = parse_chunk(
            &chunk(b"\"\",\"\",\"\"\n1,2,3\n\n45,record(s) downloaded,\nSeller ID : shop_1\n"),
            &s,
        );
        let reasons: Vec<_> = raw.skipped.iter().map(|s| (s.line, s.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (3, SkipReason::EmptyRow),
                (5, SkipReason::BlankLine),
                (6, SkipReason::FooterCount),
                (7, SkipReason::FooterSeller)
            ]
        );
        assert_eq!(
            raw.footer,
            Footer {
                record_count: Some(45),
                seller_id: Some("shop_1".into())
            }
        );
        assert_eq!(raw.batch.num_rows(), 1);
    }

    #[test]
    fn unterminated_quote_rejects_the_last_record() {
        let mut c = chunk(b"a,b\n\"open,b\nmore\n");
        c.ends_in_quote = true;
        let raw = parse_chunk(&c, &spec(2));
        assert_eq!(raw.rejects.len(), 1);
        assert_eq!(raw.rejects[0].code, ErrorCode::UnterminatedQuote);
        assert_eq!(raw.rejects[0].line, 4);
    }

    #[test]
    fn projection_reorders_and_drops_columns() {
        let mut s = spec(3);
        s.projection = vec![Some(1), None, Some(0)];
        s.output_names = vec!["x".into(), "y".into()];
        let raw = parse_chunk(&chunk(b"a,b,c\n"), &s);
        assert_eq!(raw.batch.column(0).as_string::<i32>().value(0), "c");
        assert_eq!(raw.batch.column(1).as_string::<i32>().value(0), "a");
    }
}
