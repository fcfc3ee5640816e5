//! Tokenizing one chunk of whole records into Arrow string columns, with the
//! record's exact position, framing skips and structural rejects.

use crate::split::Chunk;
use arrow_array::builder::UInt64Builder;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use csv_core::{ReadRecordResult, Reader as CoreReader, ReaderBuilder};
use ebay_import_model::{
    truncate_chars, ErrorCode, Footer, Position, Reject, SkipReason, SkipSummary, MAX_RAW_CHARS,
};
use std::ops::Range;
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
    pub skipped: SkipSummary,
    pub footer: Footer,
    /// Records in the chunk: good + rejected + skipped rows (blank lines are not records).
    pub records: u64,
    /// Where the next chunk starts.
    pub end: Position,
    /// The digest of the input up to `end` ([`Chunk::digest`]).
    pub digest: u128,
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
    /// The blank lines right before the record.
    pub blank_lines_before: Range<u64>,
    /// The record's bytes were not valid UTF-8 (fields are shown lossily).
    pub invalid_utf8: bool,
}

/// Tokenizes `bytes` (whole records starting at `start`) into owned records.
pub fn owned_records(bytes: &[u8], start: Position, delimiter: u8) -> Vec<OwnedRecord> {
    let mut out = Vec::new();
    let mut core = csv_reader(delimiter);
    let mut tok = Tokenizer::new(bytes, start, delimiter, &mut core);
    while let Some(rec) = tok.next_record() {
        let text = tok.text(&rec);
        let invalid_utf8 = std::str::from_utf8(text).is_err();
        let fields = tok
            .spans
            .iter()
            .map(|&(s, e)| String::from_utf8_lossy(&text[s as usize..e as usize]).into_owned())
            .collect();
        out.push(OwnedRecord {
            position: rec.position,
            fields,
            blank_lines_before: rec.blank_lines,
            invalid_utf8,
        });
    }
    out
}

/// One record's fields: spans of its text, which is valid UTF-8.
#[derive(Clone, Copy)]
struct Fields<'t> {
    text: &'t str,
    spans: &'t [(u32, u32)],
}

impl<'t> Fields<'t> {
    fn len(&self) -> usize {
        self.spans.len()
    }

    /// Spans start and end on ASCII delimiters and quotes, so slicing never splits a character.
    fn get(&self, i: usize) -> &'t str {
        let (s, e) = self.spans[i];
        &self.text[s as usize..e as usize]
    }

    fn iter(&self) -> impl Iterator<Item = &'t str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

struct TokRecord {
    position: Position,
    /// Offsets of the record's raw bytes in the chunk (without leading blank lines).
    raw: (usize, usize),
    /// Where the text the field spans point into lives.
    text: Text,
    blank_lines: Range<u64>,
}

enum Text {
    /// The record's raw bytes (a record without escapes: fields are spans of the input).
    Raw,
    /// The first `len` bytes of the tokenizer's output buffer (csv-core's unescaped copy).
    /// csv-core dropped a byte order mark the record started with when `stripped_bom`.
    Output { len: usize, stripped_bom: bool },
}

/// Per-thread buffers up to this size are kept for the next chunk; a bigger one (a chunk
/// holding one very long record) is freed, so it does not stay resident.
const KEPT_BUFFER_BYTES: usize = 8 << 20;

thread_local! {
    /// The tokenizer's output buffer, kept per worker thread: a fresh megabyte per chunk costs
    /// page faults and zeroing.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn scratch(len: usize) -> Vec<u8> {
    let buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if buf.len() < len {
        // Freshly zeroed memory is mapped as it is written, so a long record's buffer costs
        // only what csv-core writes into it.
        return vec![0; len];
    }
    buf
}

/// Puts a buffer back in a thread-local slot, unless it is too big to keep.
fn keep<T>(slot: &'static std::thread::LocalKey<std::cell::RefCell<Vec<T>>>, buf: Vec<T>) {
    if buf.capacity() * std::mem::size_of::<T>() <= KEPT_BUFFER_BYTES {
        slot.with(|s| *s.borrow_mut() = buf);
    }
}

impl Drop for Tokenizer<'_> {
    fn drop(&mut self) {
        if self.output.capacity() > 0 {
            keep(&SCRATCH, std::mem::take(&mut self.output));
        }
    }
}

/// How the fast path ended.
enum Fast {
    /// A record: its fields are in `spans`, relative to its first byte.
    Record,
    /// Only line breaks are left.
    End,
    /// The record needs csv-core: a `""` escape, text after a closing quote, or a quote that
    /// is never closed.
    Slow,
}

/// Finds delimiters and line breaks 64 bytes at a time: one bit mask per block, then one
/// trailing-zeros step per field instead of a byte-by-byte state machine.
struct Separators {
    delimiter: u8,
    /// Offset of the block `mask` describes (a multiple of 64), or `usize::MAX`.
    base: usize,
    mask: u64,
}

impl Separators {
    fn new(delimiter: u8) -> Self {
        Separators {
            delimiter,
            base: usize::MAX,
            mask: 0,
        }
    }

    /// The offset of the first delimiter, `\n` or `\r` at or after `from`.
    #[inline]
    fn next(&mut self, input: &[u8], from: usize) -> Option<usize> {
        let mut block = from & !63;
        if block != self.base {
            self.load(input, block);
        }
        let mut m = self.mask & (!0u64 << (from - block));
        loop {
            if m != 0 {
                return Some(block + m.trailing_zeros() as usize);
            }
            block += 64;
            if block >= input.len() {
                return None;
            }
            self.load(input, block);
            m = self.mask;
        }
    }

    fn load(&mut self, input: &[u8], block: usize) {
        self.base = block;
        self.mask = match input.get(block..block + 64) {
            Some(b) => block_mask(b.try_into().expect("64 bytes"), self.delimiter),
            None => {
                // The last, short block: pad with bytes that match nothing.
                let mut padded = [0u8; 64];
                let tail = &input[block.min(input.len())..];
                padded[..tail.len()].copy_from_slice(tail);
                let valid = if tail.is_empty() {
                    0
                } else {
                    !0u64 >> (64 - tail.len())
                };
                block_mask(&padded, self.delimiter) & valid
            }
        };
    }
}

/// Bit `i` is set when `b[i]` is the delimiter, `\n` or `\r`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn block_mask(b: &[u8; 64], delimiter: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always available;
    // each unaligned load reads bytes 16 * i .. 16 * i + 16 of the 64-byte array.
    unsafe {
        let d = _mm_set1_epi8(delimiter as i8);
        let lf = _mm_set1_epi8(b'\n' as i8);
        let cr = _mm_set1_epi8(b'\r' as i8);
        let mut mask = 0u64;
        for i in 0..4 {
            let v = _mm_loadu_si128(b.as_ptr().add(16 * i).cast::<__m128i>());
            let hit = _mm_or_si128(
                _mm_cmpeq_epi8(v, d),
                _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)),
            );
            mask |= u64::from(_mm_movemask_epi8(hit) as u16) << (16 * i);
        }
        mask
    }
}

/// Bit `i` is set when `b[i]` is the delimiter, `\n` or `\r`.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_mask(b: &[u8; 64], delimiter: u8) -> u64 {
    b.iter().enumerate().fold(0u64, |m, (i, &c)| {
        m | (u64::from(c == delimiter || c == b'\n' || c == b'\r') << i)
    })
}

/// Tokenizes one in-memory chunk, tracking physical lines exactly. Records without escapes
/// (nearly all) take a zero-copy fast path whose fields are spans of the input; the others go
/// through csv-core, whose quoting rules the fast path follows and the tests hold it to.
struct Tokenizer<'a> {
    input: &'a [u8],
    core: &'a mut CoreReader,
    seps: Separators,
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
    /// Field spans of the last record, relative to its text.
    spans: Vec<(u32, u32)>,
    ends: Vec<usize>,
    /// Line of the last byte of the previous record.
    prev_last_line: Option<u64>,
    /// Every record through csv-core: the oracle the fast path is tested against.
    #[cfg(test)]
    core_only: bool,
}

impl<'a> Tokenizer<'a> {
    fn new(input: &'a [u8], start: Position, delimiter: u8, core: &'a mut CoreReader) -> Self {
        // Fields are cut at delimiters and taken as UTF-8 without a second check: a non-ASCII
        // delimiter byte could cut a character in two.
        assert!(
            delimiter.is_ascii(),
            "the delimiter must be an ASCII character"
        );
        Tokenizer {
            input,
            core,
            seps: Separators::new(delimiter),
            at: 0,
            first_line: start.line,
            breaks: memchr::memchr2_iter(b'\n', b'\r', input)
                .filter(|&i| input[i] == b'\n' || input.get(i + 1) != Some(&b'\n'))
                .map(|i| i as u32)
                .collect(),
            passed: 0,
            record: start.record,
            base: start,
            output: Vec::new(),
            spans: Vec::with_capacity(128),
            ends: vec![0; 128],
            prev_last_line: if start.line > 1 {
                Some(start.line - 1)
            } else {
                None
            },
            #[cfg(test)]
            core_only: false,
        }
    }

    /// The text the spans of `rec` point into.
    fn text(&self, rec: &TokRecord) -> &[u8] {
        match rec.text {
            Text::Raw => &self.input[rec.raw.0..rec.raw.1],
            Text::Output { len, .. } => &self.output[..len],
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
        let start = self.at;
        #[cfg(test)]
        if self.core_only {
            return self.core_record(start);
        }
        match self.fast_record() {
            Fast::Record => Some(self.finish(start, Text::Raw)),
            Fast::End => None,
            Fast::Slow => self.core_record(start),
        }
    }

    /// Reads the record at `self.at` in place. On `Slow`, nothing is consumed.
    fn fast_record(&mut self) -> Fast {
        let input = self.input;
        let len = input.len();
        let mut p = self.at;
        while p < len && matches!(input[p], b'\n' | b'\r') {
            p += 1;
        }
        if p == len {
            return Fast::End;
        }
        let rec = p;
        self.spans.clear();
        let span = |s: usize, e: usize| ((s - rec) as u32, (e - rec) as u32);
        // `p` is at the start of a field.
        let terminator = loop {
            let end = if input.get(p) == Some(&b'"') {
                let Some(k) = memchr::memchr(b'"', &input[p + 1..]) else {
                    return Fast::Slow;
                };
                let close = p + 1 + k;
                self.spans.push(span(p + 1, close));
                match input.get(close + 1) {
                    Some(&b) if b == self.seps.delimiter || b == b'\n' || b == b'\r' => close + 1,
                    None => close + 1,
                    Some(_) => return Fast::Slow,
                }
            } else {
                // Outside quotes a quote is an ordinary character.
                let end = self.seps.next(input, p).unwrap_or(len);
                self.spans.push(span(p, end));
                end
            };
            match input.get(end) {
                Some(&b) if b == self.seps.delimiter => p = end + 1,
                _ => break end,
            }
        };
        self.at = match input.get(terminator..terminator + 2) {
            Some(b"\r\n") => terminator + 2,
            _ => (terminator + 1).min(len),
        };
        Fast::Record
    }

    /// Reads the record at `start` with csv-core.
    fn core_record(&mut self, start: usize) -> Option<TokRecord> {
        self.core.reset();
        if self.output.is_empty() {
            self.output = scratch(self.input.len() + 1);
        }
        // csv-core drops a byte order mark at the start of its first read after a reset.
        let stripped_bom = self.input[start..].starts_with(UTF8_BOM);
        let mut nout = 0;
        let mut nend = 0;
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
                        break;
                    }
                }
                ReadRecordResult::OutputFull => self.output.resize(self.output.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return None,
            }
        }
        self.spans.clear();
        let mut s = 0;
        for &e in &self.ends[..nend] {
            self.spans.push((s as u32, e as u32));
            s = e;
        }
        let text = Text::Output {
            len: nout,
            stripped_bom,
        };
        Some(self.finish(start, text))
    }

    /// Blank lines after the last record of the input.
    fn trailing_blank_lines(&mut self) -> std::ops::Range<u64> {
        let first = self.prev_last_line.map_or(1, |l| l + 1);
        match self.input.last() {
            Some(b'\n' | b'\r') => first..self.line_of(self.input.len()),
            _ => first..first,
        }
    }

    fn finish(&mut self, start: usize, text: Text) -> TokRecord {
        // Leading line-break bytes of the consumed span are blank lines (or the `\n` of the
        // previous record's CRLF), not part of this record.
        let content = start + leading_breaks(&self.input[start..self.at]);
        let line = self.line_of(content);
        let first_blank = self.prev_last_line.map_or(1, |l| l + 1);
        let blank_lines = first_blank..line;
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
            text,
            blank_lines,
        }
    }
}

fn csv_reader(delimiter: u8) -> CoreReader {
    ReaderBuilder::new().delimiter(delimiter).build()
}

/// The line-break bytes `bytes` starts with.
fn leading_breaks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .count()
}

/// Tokenizes a chunk into a [`RawBatch`].
pub fn parse_chunk(chunk: &Chunk, spec: &ParseSpec) -> RawBatch {
    let out_cols = spec.output_names.len();
    let mut cells = Cells::new(out_cols);
    // Built once per chunk (it builds its state machine): the tokenizer reads the records that
    // need it, and the columns take those records' escaped fields from it again.
    let mut core = csv_reader(spec.delimiter);
    let mut lines = UInt64Builder::new();
    let mut records = UInt64Builder::new();
    let mut bytes = UInt64Builder::new();
    let mut rejects = Vec::new();
    let mut skipped = SkipSummary::default();
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
        let mut tok = Tokenizer::new(&chunk.bytes, chunk.start, spec.delimiter, &mut core);
        let width = spec.width();
        // Every record starts on its own line, and a good one holds at least `width - 1`
        // delimiters and (all but the last) a line break: a chunk of blank lines or of short
        // rows does not reserve a slot per line and column.
        let rows = (tok.breaks.len() + 1).min((chunk.bytes.len() + 1) / width.max(1));
        cells.reserve(rows, chunk.bytes.len());
        let mut is_last;
        while let Some(rec) = tok.next_record() {
            count += 1;
            is_last = tok.at >= chunk.bytes.len();
            skipped.add_lines(rec.blank_lines.clone(), SkipReason::BlankLine);
            let raw = &chunk.bytes[rec.raw.0..rec.raw.1];
            let text = tok.text(&rec);
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
            // For a record csv-core unescaped, its raw bytes are checked too: its fields are
            // joined without their delimiters, so bytes of two fields could pass as one
            // character.
            let raw_ok = match rec.text {
                Text::Raw => true,
                Text::Output { .. } => std::str::from_utf8(raw).is_ok(),
            };
            let Some(text) = std::str::from_utf8(text).ok().filter(|_| raw_ok) else {
                rejects.push(reject(
                    ErrorCode::InvalidEncoding,
                    "record holds bytes that are not valid in the file's encoding; re-export \
                     the file as UTF-8 or name its encoding with --encoding"
                        .into(),
                ));
                continue;
            };
            let fields = Fields {
                text,
                spans: &tok.spans,
            };
            if let Some(reason) = framing(fields, spec.ebay_framing, &mut footer) {
                skipped.add(rec.position.line, reason);
                continue;
            }
            let n = fields.len();
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
                let extra_nonempty = fields.iter().skip(width).any(|f| !f.is_empty());
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
            let origin = match rec.text {
                Text::Raw => Origin::Raw(rec.raw.0 as u32),
                Text::Output { stripped_bom, .. } => Origin::Core {
                    at: rec.raw.0,
                    stripped_bom,
                },
            };
            cells.push_row(&spec.projection, fields, origin, &chunk.bytes);
            lines.append_value(rec.position.line);
            records.append_value(rec.position.record);
            bytes.append_value(rec.position.byte);
        }
        // Line breaks inside a never-closed quote belong to the rejected record.
        if !chunk.ends_in_quote {
            skipped.add_lines(tok.trailing_blank_lines(), SkipReason::BlankLine);
        }
    }
    let mut columns = cells.finish(&chunk.bytes, &mut core);
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
        end: chunk.end,
        digest: chunk.digest,
    }
}

/// The good records' fields, column by column, turned into Arrow string columns once the chunk
/// is tokenized: each column's buffers are allocated at their exact size and filled in one
/// sequential pass, instead of 80-odd builders growing side by side.
struct Cells {
    columns: usize,
    /// Row slots per column.
    cap: usize,
    rows: usize,
    /// `spans[c * cap + r]`: the span of column `c` of row `r` in the chunk, or, from
    /// `core_at` on, a field that csv-core unescapes (see there).
    spans: Vec<(u32, u32)>,
    /// The chunk's length. A span `(s, e)` from here stands for the `e - s` bytes csv-core
    /// writes for the field starting at chunk offset `s - core_at`: the field is unescaped
    /// straight into its column, never into a buffer of its own.
    core_at: u32,
    /// Where the fields of the last row csv-core read start (see [`core_field_starts`]).
    core_starts: Vec<(u32, bool)>,
}

/// Where a record's field spans point.
#[derive(Clone, Copy)]
enum Origin {
    /// Into the chunk, relative to this offset.
    Raw(u32),
    /// Into csv-core's unescaped copy of the record whose text starts at chunk offset `at`.
    Core { at: usize, stripped_bom: bool },
}

impl Cells {
    fn new(columns: usize) -> Self {
        Cells {
            columns,
            cap: 0,
            rows: 0,
            spans: Vec::new(),
            core_at: 0,
            core_starts: Vec::new(),
        }
    }

    fn reserve(&mut self, rows: usize, chunk_len: usize) {
        self.cap = rows;
        // Every slot below `rows` is written before it is read, so stale spans do no harm.
        self.spans = CELLS.with(|c| std::mem::take(&mut *c.borrow_mut()));
        if self.spans.len() < rows * self.columns {
            self.spans.resize(rows * self.columns, (0, 0));
        }
        self.core_at = chunk_len as u32;
    }

    /// Adds a row whose fields' text is `fields`.
    fn push_row(
        &mut self,
        projection: &[Option<usize>],
        fields: Fields<'_>,
        origin: Origin,
        chunk: &[u8],
    ) {
        let r = self.rows;
        debug_assert!(r < self.cap, "more good rows than reserved");
        self.rows += 1;
        if let Origin::Core { at, stripped_bom } = origin {
            core_field_starts(chunk, at, stripped_bom, fields.spans, &mut self.core_starts);
        }
        for (col, out) in projection.iter().enumerate() {
            let Some(out) = *out else { continue };
            let (s, e) = fields.spans[col];
            self.spans[out * self.cap + r] = match origin {
                Origin::Raw(base) => (base + s, base + e),
                Origin::Core { .. } => {
                    let (start, verbatim) = self.core_starts[col];
                    let base = if verbatim {
                        start
                    } else {
                        self.core_at + start
                    };
                    (base, base + e - s)
                }
            };
        }
    }

    fn finish(self, chunk: &[u8], core: &mut CoreReader) -> Vec<ArrayRef> {
        /// Rows copied per column before moving to the next column: the chunk bytes those
        /// rows span stay in cache while every column takes its values from them.
        const TILE: usize = 64;
        let column = |c: usize| &self.spans[c * self.cap..c * self.cap + self.rows];
        let mut built: Vec<(Vec<u8>, Vec<i32>, usize)> = (0..self.columns)
            .map(|c| {
                let len: usize = column(c).iter().map(|&(s, e)| (e - s) as usize).sum();
                let mut offsets = Vec::with_capacity(self.rows + 1);
                offsets.push(0i32);
                // Slack for the fixed-size copies below.
                (vec![0u8; len + 64], offsets, 0)
            })
            .collect();
        for tile in (0..self.rows).step_by(TILE) {
            let rows = tile..(tile + TILE).min(self.rows);
            for (c, (values, offsets, at)) in built.iter_mut().enumerate() {
                for &(s, e) in &column(c)[rows.clone()] {
                    let n = (e - s) as usize;
                    if s >= self.core_at {
                        let field = &chunk[(s - self.core_at) as usize..];
                        unescape_field(core, field, &mut values[*at..*at + n]);
                    } else {
                        // Most fields are short: copying a fixed 16, 32 or 64 bytes (the
                        // excess is overwritten by the next value, or cut off) is a few
                        // instructions, where a copy of the exact length is a memcpy call.
                        let start = s as usize;
                        let room = chunk.len() - start;
                        match n {
                            0..=16 if room >= 16 => copy_fixed::<16>(values, *at, chunk, start),
                            17..=32 if room >= 32 => copy_fixed::<32>(values, *at, chunk, start),
                            33..=64 if room >= 64 => copy_fixed::<64>(values, *at, chunk, start),
                            _ => values[*at..*at + n].copy_from_slice(&chunk[start..start + n]),
                        }
                    }
                    *at += n;
                    offsets.push(*at as i32);
                }
            }
        }
        let columns = built
            .into_iter()
            .map(|(mut values, offsets, at)| {
                values.truncate(at);
                // SAFETY: every value is a field of a record whose text passed `from_utf8`,
                // cut at ASCII delimiters and quotes (so at character boundaries), or csv-core's
                // unescaped copy of such a field, the same bytes as the tokenizer's copy that
                // was taken as a `&str` (`unescape_field` checks it wrote them all);
                // `OffsetBuffer::new` checks the offsets. Validating the UTF-8 again cost about 5 % of a dry run.
                let array = unsafe {
                    StringArray::new_unchecked(
                        OffsetBuffer::new(offsets.into()),
                        values.into(),
                        None,
                    )
                };
                debug_assert!(array.to_data().validate_full().is_ok());
                Arc::new(array) as ArrayRef
            })
            .collect();
        keep(&CELLS, self.spans);
        columns
    }
}

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// For each field of a record csv-core read (its text starts at chunk offset `at`), where it
/// starts in the chunk and whether its bytes there are its text as it is (an unquoted field).
/// Found from the lengths of csv-core's unescaped fields by csv-core's rules: a quote opens a
/// quoted field only at the field's start, inside one `""` is one quote, and after the
/// closing quote the rest of the field is taken as it is.
fn core_field_starts(
    chunk: &[u8],
    mut at: usize,
    stripped_bom: bool,
    spans: &[(u32, u32)],
    starts: &mut Vec<(u32, bool)>,
) {
    starts.clear();
    for (i, &(s, e)) in spans.iter().enumerate() {
        let len = (e - s) as usize;
        // A byte order mark csv-core dropped is dropped again when the field is read again.
        let text = if i == 0 && stripped_bom {
            at + UTF8_BOM.len()
        } else {
            at
        };
        let quoted = chunk.get(text) == Some(&b'"');
        starts.push((at as u32, !quoted && text == at));
        let end = if quoted {
            quoted_field_end(chunk, text, len)
        } else {
            text + len
        };
        // Past the delimiter.
        at = end + 1;
    }
}

/// Where the quoted field that opens at `open` and is `len` bytes once unescaped ends.
fn quoted_field_end(chunk: &[u8], open: usize, len: usize) -> usize {
    let mut at = open + 1;
    let mut unescaped = 0;
    loop {
        match memchr::memchr(b'"', &chunk[at..]) {
            Some(k) if chunk.get(at + k + 1) == Some(&b'"') => {
                unescaped += k + 1;
                at += k + 2;
            }
            // The closing quote, then the rest of the field as it is.
            Some(k) => return at + k + 1 + (len - unescaped - k),
            // Never closed (only the input's last record can be): the rest is the field.
            None => return chunk.len(),
        }
    }
}

/// Writes the field csv-core reads at the start of `input` into `out`, which is exactly as
/// long as that field unescaped.
fn unescape_field(core: &mut CoreReader, input: &[u8], out: &mut [u8]) {
    core.reset();
    let (_, _, written) = core.read_field(input, out);
    // The tokenizer's own csv-core read of this field wrote `out.len()` bytes; whatever is
    // not written here would be stale bytes in a column taken as UTF-8 unchecked.
    assert_eq!(
        written,
        out.len(),
        "csv-core reads a field the same way twice"
    );
}

#[inline(always)]
fn copy_fixed<const N: usize>(dst: &mut [u8], at: usize, src: &[u8], start: usize) {
    dst[at..at + N].copy_from_slice(&src[start..start + N]);
}

thread_local! {
    /// The span table, kept per worker thread like [`SCRATCH`].
    static CELLS: std::cell::RefCell<Vec<(u32, u32)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Recognises rows that are framing, not data.
fn framing(fields: Fields<'_>, ebay: bool, footer: &mut Footer) -> Option<SkipReason> {
    let empty_from = |i: usize| fields.spans.iter().skip(i).all(|&(s, e)| s == e);
    if empty_from(0) {
        return Some(SkipReason::EmptyRow);
    }
    if !ebay {
        return None;
    }
    // Footer rows have text in their first cells only; a data row that happens to say
    // "record(s) downloaded" or "Seller ID:" stays data. The footer count is in one of the
    // first three cells.
    if empty_from(3) {
        let first3: Vec<&str> = fields.iter().take(3).map(str::trim).collect();
        if let Some(i) = first3
            .iter()
            .position(|f| f.contains("record(s) downloaded"))
        {
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
    }
    let first = fields.get(0).trim();
    let seller = first
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("seller id"));
    if seller && empty_from(1) {
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
    // A character is at most 4 bytes (an invalid byte becomes one character): the preview
    // and its ellipsis need no more than this of a long record.
    let head = &raw[..raw.len().min(4 * (MAX_RAW_CHARS + 1))];
    truncate_chars(&String::from_utf8_lossy(head), MAX_RAW_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use ebay_import_model::Skipped;

    fn chunk(bytes: &[u8]) -> Chunk {
        Chunk {
            seq: 0,
            bytes: bytes.to_vec(),
            start: Position {
                line: 3,
                byte: 100,
                record: 2,
            },
            end: Position::default(),
            digest: 0,
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
            raw.skipped.listed(),
            [Skipped {
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
        assert_eq!(raw.skipped.total(), 0, "{:?}", raw.skipped);
        assert_eq!(raw.batch.num_rows(), 4);
        assert_eq!(raw.footer, Footer::default());
    }

    #[test]
    fn quoted_newlines_of_an_unterminated_quote_are_not_blank_lines() {
        let mut c = chunk(b"a,b\n\"open\n\n\n");
        c.ends_in_quote = true;
        let raw = parse_chunk(&c, &spec(2));
        assert_eq!(raw.skipped.total(), 0, "{:?}", raw.skipped);
    }

    #[test]
    fn trailing_blank_lines_are_reported() {
        let raw = parse_chunk(&chunk(b"1,2\n\n\r\n"), &spec(2));
        let lines: Vec<u64> = raw.skipped.listed().iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![4, 5]);
        let raw = parse_chunk(&chunk(b"1,2"), &spec(2));
        assert_eq!(raw.skipped.total(), 0);
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
    fn a_character_split_across_escaped_fields_is_invalid_encoding() {
        // csv-core's unescaped copy joins `x"y`, `\xc3` and `\xa4` into valid UTF-8 (`x"yä`),
        // but the fields themselves are not.
        let raw = parse_chunk(&chunk(b"\"x\"\"y\",\xc3,\xa4\nok,1,2\n"), &spec(3));
        let codes: Vec<_> = raw.rejects.iter().map(|r| (r.line, r.code)).collect();
        assert_eq!(codes, vec![(3, ErrorCode::InvalidEncoding)]);
        assert_eq!(raw.batch.num_rows(), 1);
        // The same character inside one escaped field is fine.
        let raw = parse_chunk(&chunk(b"\"x\"\"\xc3\xa4\",b,c\n"), &spec(3));
        assert!(raw.rejects.is_empty());
        assert_eq!(raw.batch.column(0).as_string::<i32>().value(0), "x\"ä");
    }

    #[test]
    fn ebay_footer_and_padding_rows_are_skipped_with_reasons() {
        let mut s = spec(3);
        s.ebay_framing = true;
        let raw = parse_chunk(
            &chunk(b"\"\",\"\",\"\"\n1,2,3\n\n45,record(s) downloaded,\nSeller ID : shop_1\n"),
            &s,
        );
        let reasons: Vec<_> = raw
            .skipped
            .listed()
            .iter()
            .map(|s| (s.line, s.reason))
            .collect();
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

    fn tokenize(bytes: &[u8], core_only: bool) -> (Vec<OwnedRecord>, Vec<u64>) {
        let start = Position {
            line: 2,
            byte: 10,
            record: 1,
        };
        let mut core = csv_reader(b',');
        let mut tok = Tokenizer::new(bytes, start, b',', &mut core);
        tok.core_only = core_only;
        let mut out = Vec::new();
        while let Some(rec) = tok.next_record() {
            let text = tok.text(&rec);
            out.push(OwnedRecord {
                position: rec.position,
                fields: tok
                    .spans
                    .iter()
                    .map(|&(s, e)| String::from_utf8_lossy(&text[s as usize..e as usize]).into())
                    .collect(),
                blank_lines_before: rec.blank_lines,
                invalid_utf8: std::str::from_utf8(text).is_err(),
            });
        }
        let trailing = tok.trailing_blank_lines().collect();
        (out, trailing)
    }

    #[test]
    fn fast_path_matches_csv_core_on_random_input() {
        let alphabet: [&[u8]; 10] = [
            b"a",
            b"bc",
            b",",
            b",",
            b"\"",
            b"\"\"",
            b"\n",
            b"\r",
            b"\r\n",
            "\u{e9}".as_bytes(),
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for case in 0..10_000 {
            let len = rng.usize(..60);
            let mut input = Vec::new();
            for _ in 0..len {
                input.extend_from_slice(alphabet[rng.usize(..alphabet.len())]);
            }
            // Long unquoted stretches cross the 64-byte blocks of the separator masks.
            if case % 7 == 0 {
                let at = rng.usize(..=input.len());
                input.splice(at..at, std::iter::repeat_n(b'x', 70 + case % 64));
            }
            assert_eq!(
                tokenize(&input, false),
                tokenize(&input, true),
                "input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
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

    #[test]
    fn a_chunk_of_short_rows_reserves_few_span_slots() {
        // Rows of two fields under an 82-column header: every one is rejected, and none can
        // be a good row, so the span table stays near the chunk's size.
        let rows = 200_000;
        let input = b"\nx,\n".repeat(rows);
        let raw = parse_chunk(&chunk(&input), &spec(82));
        assert_eq!(raw.rejects.len(), rows);
        assert_eq!(raw.skipped.count(SkipReason::BlankLine), rows as u64);
        let slots = CELLS.with(|c| c.borrow().len());
        assert!(slots <= input.len() + 82, "{slots} span slots");
    }

    #[test]
    fn escaped_fields_are_unescaped_straight_into_their_columns() {
        // The same values as csv-core reads, on random input...
        let alphabet: [&[u8]; 8] = [
            b"a",
            b",",
            b"\"",
            b"\"\"",
            b"\n",
            b"\r\n",
            "\u{e9}".as_bytes(),
            b"x",
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..rng.usize(..50) {
                input.extend_from_slice(alphabet[rng.usize(..alphabet.len())]);
            }
            let (records, _) = tokenize(&input, true);
            let raw = parse_chunk(&chunk(&input), &spec(2));
            let good: Vec<Vec<String>> = records
                .iter()
                .filter(|r| !r.invalid_utf8 && r.fields.len() >= 2)
                .filter(|r| r.fields.iter().any(|f| !f.is_empty()))
                .filter(|r| r.fields[2..].iter().all(String::is_empty))
                .map(|r| r.fields[..2].to_vec())
                .collect();
            let got: Vec<Vec<String>> = (0..raw.batch.num_rows())
                .map(|row| {
                    (0..2)
                        .map(|col| {
                            raw.batch
                                .column(col)
                                .as_string::<i32>()
                                .value(row)
                                .to_string()
                        })
                        .collect()
                })
                .collect();
            assert_eq!(got, good, "input {:?}", String::from_utf8_lossy(&input));
        }
        // csv-core drops a byte order mark at the start of a record it reads (one with a `""`
        // escape), and again when it reads the field again.
        let input = "\u{feff}\"a\"\"b\",\"c\"\"d\"\n\u{feff}e,\"f\"\"\"\n";
        let raw = parse_chunk(&chunk(input.as_bytes()), &spec(2));
        let values: Vec<&str> = (0..4)
            .map(|i| raw.batch.column(i % 2).as_string::<i32>().value(i / 2))
            .collect();
        assert_eq!(values, ["a\"b", "c\"d", "e", "f\""]);
        // ...and a long one costs its column, not copies of its own besides.
        let value = "say \"hi\" ".repeat(2 << 20);
        let mut input = format!("\"{}\",2\n", value.replace('"', "\"\"")).into_bytes();
        input.extend(b"3,4\n");
        let c = chunk(&input);
        let mut s = spec(2);
        s.max_record_bytes = 64 << 20;
        let (raw, peak, _) = crate::test_alloc::measure(|| parse_chunk(&c, &s));
        assert!(raw.rejects.is_empty(), "{:?}", raw.rejects[0].code);
        let got = raw.batch.column(0).as_string::<i32>().value(0);
        assert!(
            got == value,
            "the long value is {} bytes, not {}",
            got.len(),
            value.len()
        );
        assert!(
            peak < input.len() + value.len() / 2,
            "parsing a {} byte chunk allocated {peak} bytes at once",
            input.len()
        );
        // The tokenizer's buffer for it is freed, not kept for the thread's next chunk.
        assert_eq!(SCRATCH.with(|s| s.borrow().capacity()), 0);
    }
}
