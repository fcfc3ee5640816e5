//! Reading: any CSV byte stream to Arrow record batches of string columns, with the exact
//! physical line, byte offset and record number of every record.
//!
//! The flow is: detect the encoding and the delimiter from a sample ([`CsvSource::open`]),
//! look at the first records to find the header ([`CsvSource::peek_records`]), then cut the
//! rest into chunks of whole records ([`Splitter`], one sequential memchr pass) that
//! [`parse_chunk`] tokenizes in parallel into [`RawBatch`]es: a zero-copy fast path for records
//! without escapes, csv-core for the rest.

pub mod compression;
pub mod encoding;
mod lines;
mod parse;
pub mod sniff;
mod split;
#[cfg(test)]
mod test_alloc;

pub use encoding::DetectedEncoding;
pub use lines::count_breaks;
pub use parse::{
    owned_records, parse_chunk, OwnedRecord, ParseSpec, RawBatch, BYTE_COLUMN, LINE_COLUMN,
    RECORD_COLUMN,
};
pub use split::{Chunk, Splitter};

use ebay_import_model::Position;
use encoding_rs::Encoding;
use std::io::{self, Read};

pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;
pub const DEFAULT_CHUNK_BYTES: usize = 768 << 10;
/// The most [`CsvSource::peek_records`] reads (besides blank lines before the first record).
pub const PEEK_MAX_BYTES: usize = 1 << 20;
const SAMPLE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub encoding: Option<&'static Encoding>,
    pub delimiter: Option<u8>,
    pub max_record_bytes: usize,
    pub chunk_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            encoding: None,
            delimiter: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        }
    }
}

/// An opened input with its detected dialect, ready to be read record by record or in chunks.
pub struct CsvSource {
    pub encoding: DetectedEncoding,
    pub delimiter: u8,
    /// The file began with a `sep=X` line (its first record, to be skipped).
    pub separator_hint: bool,
    splitter: Splitter,
    peeked: Vec<usize>,
    /// The line the unconsumed input starts at: blank lines a peek passed are no longer
    /// buffered.
    start_line: u64,
}

impl CsvSource {
    /// Sniffs a sample of `input`, then wraps it for streaming. Nothing beyond the sample is
    /// read here.
    pub fn open(mut input: Box<dyn Read + Send>, opts: &ReadOptions) -> io::Result<CsvSource> {
        let mut sample = Vec::with_capacity(SAMPLE_BYTES);
        (&mut input)
            .take(SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)?;
        let encoding = encoding::detect(&sample, opts.encoding);
        let bom_len = encoding.bom_len;
        let decoded_sample: Vec<u8> = if encoding.encoding == encoding_rs::UTF_8 {
            sample[bom_len..].to_vec()
        } else {
            let (text, _) = encoding
                .encoding
                .decode_without_bom_handling(&sample[bom_len..]);
            text.into_owned().into_bytes()
        };
        let hint = sniff::separator_hint(&decoded_sample);
        let delimiter = opts
            .delimiter
            .or(hint)
            .unwrap_or_else(|| sniff::sniff_delimiter(&decoded_sample));
        let rest = io::Cursor::new(sample.split_off(bom_len)).chain(input);
        let stream = encoding::utf8_stream(Box::new(rest), encoding);
        let start = Position {
            line: 1,
            byte: bom_len as u64,
            record: 1,
        };
        let splitter = Splitter::new(
            stream,
            start,
            delimiter,
            opts.chunk_bytes,
            opts.max_record_bytes,
        );
        Ok(CsvSource {
            encoding,
            delimiter,
            separator_hint: hint.is_some(),
            splitter,
            peeked: Vec::new(),
            start_line: start.line,
        })
    }

    /// The first `n` records, without consuming them: fewer at the end of the input, before
    /// a record over the size limit and within [`PEEK_MAX_BYTES`] (see
    /// [`Splitter::peek_boundaries`]).
    pub fn peek_records(&mut self, n: usize) -> io::Result<Vec<OwnedRecord>> {
        self.peeked = self.splitter.peek_boundaries(n, PEEK_MAX_BYTES)?;
        let end = self.peeked.last().copied().unwrap_or(0);
        let bytes = &self.splitter.buffered()[..end];
        let mut records = owned_records(bytes, self.splitter.position(), self.delimiter);
        if let Some(first) = records.first_mut() {
            first.blank_lines_before.start = self.start_line;
        }
        Ok(records)
    }

    /// Whether the whole input has been read: a peek that found no record then found an empty
    /// input, not a first record too long to peek.
    pub fn input_ended(&self) -> bool {
        self.splitter.input_ended()
    }

    /// Consumes the first `n` peeked records.
    pub fn consume_records(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let len = self.peeked[n - 1];
        self.splitter.consume(len, n as u64);
        self.start_line = self.splitter.position().line;
        self.peeked.clear();
    }

    /// The position of the next unconsumed record.
    pub fn position(&self) -> Position {
        self.splitter.position()
    }

    /// The rest of the input as chunks of whole records.
    pub fn into_splitter(self) -> Splitter {
        self.splitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(bytes: &[u8]) -> CsvSource {
        CsvSource::open(
            Box::new(io::Cursor::new(bytes.to_vec())),
            &ReadOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn peeks_then_streams_the_rest_with_exact_positions() {
        let mut src =
            open(b"\xef\xbb\xbf,,\r\n\"a\",\"b\"\r\n\"\",\"\"\r\n1,2\r\n3,\"x\r\ny\"\r\n");
        assert_eq!(src.encoding.bom_len, 3);
        assert_eq!(src.delimiter, b',');
        let peek = src.peek_records(2).unwrap();
        assert_eq!(peek[1].fields, vec!["a", "b"]);
        assert_eq!(
            peek[1].position,
            Position {
                line: 2,
                byte: 7,
                record: 2
            }
        );
        src.consume_records(2);
        let spec = ParseSpec::identity(b',', vec!["a".into(), "b".into()], 1 << 20);
        let mut splitter = src.into_splitter();
        let chunk = splitter.next_chunk().unwrap().unwrap();
        let raw = parse_chunk(&chunk, &spec);
        assert_eq!(raw.batch.num_rows(), 2);
        assert_eq!(raw.position(0).line, 4);
        assert_eq!(raw.position(0).record, 4);
        assert_eq!(
            raw.position(1),
            Position {
                line: 5,
                byte: 28,
                record: 5
            }
        );
        assert_eq!(raw.skipped.total(), 1);
    }

    #[test]
    fn reads_utf16_and_sep_lines() {
        let text = "sep=;\na;b\n1;2\n";
        let mut bytes = vec![0xff, 0xfe];
        for u in text.encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        let mut src = open(&bytes);
        assert_eq!(src.encoding.name(), "UTF-16LE");
        assert!(src.separator_hint);
        assert_eq!(src.delimiter, b';');
        let peek = src.peek_records(5).unwrap();
        assert_eq!(peek.len(), 3);
        assert_eq!(peek[2].fields, vec!["1", "2"]);
        assert_eq!(peek[2].position.line, 3);
    }

    #[test]
    fn a_peek_keeps_the_lines_of_the_blank_lines_it_passed() {
        let blank = 3 << 20;
        let mut bytes = vec![b'\n'; blank];
        bytes.extend(b"a,b\n\n1,2\n");
        let mut src = open(&bytes);
        let peek = src.peek_records(2).unwrap();
        assert_eq!(peek[0].blank_lines_before, 1..blank as u64 + 1);
        assert_eq!(peek[0].position.line, blank as u64 + 1);
        assert_eq!(
            peek[1].blank_lines_before,
            blank as u64 + 2..blank as u64 + 3
        );
        src.consume_records(1);
        let peek = src.peek_records(1).unwrap();
        assert_eq!(
            peek[0].blank_lines_before,
            blank as u64 + 2..blank as u64 + 3
        );
    }
}
