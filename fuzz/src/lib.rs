//! The fuzz harnesses: each target in `fuzz_targets/` calls one of these with libFuzzer's
//! bytes, and `src/bin/seed-corpora.rs` writes seed inputs in the formats they decode.
//!
//! Every harness checks invariants, not only the absence of panics: the reader's positions
//! and record counts agree between chunks and with a whole-input parse, the sniffer's answers
//! are well-formed, the header mapping is consistent, and every kernel agrees with the naive
//! row-at-a-time reference of `crates/transform/tests/naive` (shared through `#[path]`).

#[path = "../../crates/transform/tests/naive/mod.rs"]
pub mod naive;

use ebay_import_map::{
    detect, detect_site, normalize_header, Detection, FieldType, HeaderMapping, IdKind,
    ImportSchema, SCHEMAS,
};
use ebay_import_model::{Position, SiteProfile, SkipReason, SITES};
use ebay_import_read::encoding::{self, DetectedEncoding};
use ebay_import_read::sniff::{self, CANDIDATES};
use ebay_import_read::{
    count_breaks, owned_records, parse_chunk, CsvSource, OwnedRecord, ParseSpec, ReadOptions,
    DEFAULT_CHUNK_BYTES, DEFAULT_MAX_RECORD_BYTES,
};
use encoding_rs::Encoding;
use std::io::{Cursor, Read};

/// Separates cells (header names, column values) in the targets' input formats.
pub const CELL: u8 = 0xFF;
/// A cell of exactly this byte is a null.
pub const NULL: u8 = 0xFE;

/// Encodings a reader input may be forced to (`None`: detected).
pub fn forced_encodings() -> [Option<&'static Encoding>; 10] {
    [
        None,
        None,
        None,
        Some(encoding_rs::UTF_8),
        Some(encoding_rs::WINDOWS_1252),
        Some(encoding_rs::UTF_16LE),
        Some(encoding_rs::UTF_16BE),
        Some(encoding_rs::SHIFT_JIS),
        Some(encoding_rs::GB18030),
        Some(encoding_rs::ISO_2022_JP),
    ]
}

/// The cells of `data`, separated by [`CELL`]; a cell of just [`NULL`] is a null, others are
/// read as UTF-8 (lossily).
pub fn cells(data: &[u8]) -> Vec<Option<String>> {
    data.split(|&b| b == CELL)
        .map(|c| (c != [NULL]).then(|| String::from_utf8_lossy(c).into_owned()))
        .collect()
}

/// Encodes cells in the format [`cells`] reads.
pub fn encode_cells<'a>(cells: impl IntoIterator<Item = Option<&'a str>>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(CELL);
        }
        match c {
            Some(c) => out.extend_from_slice(c.as_bytes()),
            None => out.push(NULL),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The reader

/// Bytes of options before a reader input's file bytes.
pub const READ_HEADER: usize = 8;

/// Reads `data[8..]` as a file with options from `data[..8]`: encoding (forced or detected),
/// delimiter (forced or sniffed), record size limit, chunk size, how many records to peek and
/// consume, and the parse spec. Checks positions and counts across peek, consume and every
/// chunk, and against one parse of the whole decoded input.
pub fn read(data: &[u8]) {
    if data.len() < READ_HEADER {
        return;
    }
    let (o, file) = data.split_at(READ_HEADER);
    let encodings = forced_encodings();
    let delimiter = match o[1] % 8 {
        0..=2 => None,
        3 => Some(b','),
        4 => Some(b';'),
        5 => Some(b'\t'),
        6 => Some(b'|'),
        _ => {
            Some(o[1] >> 1).filter(|d| sniff::parse_delimiter(&(*d as char).to_string()).is_some())
        }
    };
    let small =
        |lo: u8, hi: u8, modulo: usize| 1 + (u16::from_le_bytes([lo, hi]) >> 1) as usize % modulo;
    let opts = ReadOptions {
        encoding: encodings[o[0] as usize % encodings.len()],
        delimiter,
        max_record_bytes: if o[2] & 1 == 0 {
            DEFAULT_MAX_RECORD_BYTES
        } else {
            small(o[2], o[3], 600)
        },
        chunk_bytes: if o[4] & 1 == 0 {
            DEFAULT_CHUNK_BYTES
        } else {
            small(o[4], o[5], 3000)
        },
    };
    let peek = o[6] as usize % 24;
    let consume = (o[7] & 0x1f) as usize;
    let (projection_mode, ebay_framing) = ((o[7] >> 5) & 3, o[7] & 0x80 != 0);

    let mut src = CsvSource::open(Box::new(Cursor::new(file.to_vec())), &opts).expect("in memory");
    if let Some(d) = delimiter {
        assert_eq!(src.delimiter, d, "a forced delimiter is used");
    }
    assert!(
        sniff::parse_delimiter(&(src.delimiter as char).to_string()).is_some(),
        "delimiter {:?} is one --delimiter would take",
        src.delimiter
    );
    let encoding = src.encoding;
    let first = Position {
        line: 1,
        byte: encoding.bom_len as u64,
        record: 1,
    };
    assert_eq!(src.position(), first);

    let peeked = src.peek_records(peek).expect("in memory");
    assert!(peeked.len() <= peek);
    check_record_sequence(&peeked, first);
    let consumed = consume.min(peeked.len());
    src.consume_records(consumed);
    let after = src.position();
    assert_eq!(after.record, 1 + consumed as u64);
    if let Some(next) = peeked.get(consumed) {
        assert!(after.line <= next.position.line && after.byte <= next.position.byte);
    }

    let header: Vec<String> = match consumed {
        0 => peeked.first().map(|r| r.fields.clone()).unwrap_or_default(),
        n => peeked[n - 1].fields.clone(),
    };
    let mut header: Vec<String> = header.into_iter().take(40).collect();
    if header.is_empty() {
        header.push("a".into());
    }
    let mut spec = ParseSpec::identity(src.delimiter, header.clone(), opts.max_record_bytes);
    let identity = match projection_mode {
        // Every other column, in reverse order.
        1 => {
            let kept: Vec<usize> = (0..header.len()).filter(|c| c % 2 == 0).rev().collect();
            spec.projection = (0..header.len())
                .map(|c| kept.iter().position(|&k| k == c))
                .collect();
            spec.output_names = kept.iter().map(|&c| header[c].clone()).collect();
            false
        }
        2 => {
            spec.projection = vec![None; header.len()];
            spec.output_names.clear();
            false
        }
        _ => true,
    };
    spec.ebay_framing = ebay_framing;

    // The whole input, decoded once and tokenized in one piece.
    let whole = whole_records(file, encoding, src.delimiter);
    for (p, w) in peeked.iter().zip(&whole) {
        assert_eq!(p, w, "a peeked record is the same in the whole input");
    }

    let mut splitter = src.into_splitter();
    let mut expect = after;
    let mut seq = 0;
    let mut records = consumed as u64;
    let mut any_too_long = false;
    while let Some(chunk) = splitter.next_chunk().expect("in memory") {
        assert_eq!(chunk.seq, seq);
        seq += 1;
        assert_eq!(chunk.start, expect, "chunks are contiguous");
        assert!(chunk.end.line >= chunk.start.line && chunk.end.byte >= chunk.start.byte);
        assert!(
            chunk.end.record > chunk.start.record
                || chunk.bytes.iter().all(|b| matches!(b, b'\n' | b'\r'))
        );
        if chunk.too_long {
            any_too_long = true;
            assert_eq!(chunk.end.record, chunk.start.record + 1);
            assert!(chunk.bytes.len() <= 4096);
        } else {
            assert_eq!(chunk.end.byte - chunk.start.byte, chunk.bytes.len() as u64);
            let breaks = count_breaks(&chunk.bytes, None);
            let lines = chunk.end.line - chunk.start.line;
            assert!(lines == breaks || (lines + 1 == breaks && chunk.bytes.last() == Some(&b'\r')));
        }
        let raw = parse_chunk(&chunk, &spec);
        assert_eq!(raw.seq, chunk.seq);
        assert_eq!(raw.end, chunk.end);
        assert_eq!(
            raw.records,
            chunk.end.record - chunk.start.record,
            "splitter and parser count the same records"
        );
        let rows = raw.batch.num_rows();
        let skipped_records = raw.skipped.total() - raw.skipped.count(SkipReason::BlankLine);
        assert_eq!(
            raw.records as usize,
            rows + raw.rejects.len() + skipped_records as usize,
            "each record is a row, a reject or a skip"
        );
        assert_eq!(raw.output_columns(), spec.output_names.len());
        for c in 0..raw.batch.num_columns() {
            raw.batch
                .column(c)
                .to_data()
                .validate_full()
                .expect("valid Arrow data");
        }
        let mut seen = Vec::new();
        let mut starts = Vec::new();
        let mut prev: Option<Position> = None;
        for r in 0..rows {
            let p = raw.position(r);
            assert!(p.record >= chunk.start.record && p.record < chunk.end.record);
            assert!(p.line >= chunk.start.line && p.line <= chunk.end.line);
            assert!(p.byte >= chunk.start.byte && p.byte < chunk.end.byte);
            if let Some(q) = prev {
                assert!(p.record > q.record && p.line > q.line && p.byte > q.byte);
            }
            prev = Some(p);
            seen.push(p.record);
            starts.push(p.line);
        }
        for rej in &raw.rejects {
            assert!(rej.record >= chunk.start.record && rej.record < chunk.end.record);
            assert!(rej.line >= chunk.start.line && rej.line <= chunk.end.line);
            seen.push(rej.record);
            starts.push(rej.line);
        }
        seen.sort_unstable();
        let n = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), n, "a record is a row or a reject, once");
        for s in raw.skipped.listed() {
            assert!(s.line >= chunk.start.line && s.line <= chunk.end.line);
            if s.reason == SkipReason::BlankLine {
                assert!(
                    !starts.contains(&s.line),
                    "no record starts on a blank line"
                );
            }
        }
        if !any_too_long {
            // Positions (and, for the identity spec, values) as the whole-input parse has them.
            for r in 0..rows {
                let p = raw.position(r);
                assert!(
                    p.record as usize <= whole.len(),
                    "record {} of {}",
                    p.record,
                    whole.len()
                );
                let w = &whole[p.record as usize - 1];
                assert_eq!(
                    p, w.position,
                    "a record's position does not depend on the chunking"
                );
                if identity {
                    for (c, value) in w.fields.iter().take(spec.output_names.len()).enumerate() {
                        let col = raw
                            .batch
                            .column(c)
                            .as_any()
                            .downcast_ref::<arrow_array::StringArray>()
                            .unwrap();
                        assert_eq!(col.value(r), value, "field {c} of record {}", p.record);
                    }
                }
            }
            for rej in &raw.rejects {
                assert!(rej.record as usize <= whole.len());
                assert_eq!(rej.line, whole[rej.record as usize - 1].position.line);
            }
        }
        records += raw.records;
        expect = chunk.end;
    }
    if !any_too_long {
        assert_eq!(
            records,
            whole.len() as u64,
            "every record of the input is read once"
        );
    }
}

/// Records from `start` on: consecutive record numbers, increasing lines and bytes, blank
/// lines between them.
fn check_record_sequence(records: &[OwnedRecord], start: Position) {
    let mut prev_line = start.line - 1;
    let mut prev_byte = None;
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.position.record, start.record + i as u64);
        assert!(r.position.line > prev_line);
        assert!(r.position.byte >= start.byte && prev_byte.is_none_or(|b| r.position.byte > b));
        let mut last = prev_line;
        for blank in r.blank_lines_before.clone() {
            assert!(
                blank > last && blank < r.position.line,
                "blank lines lie between records"
            );
            last = blank;
        }
        prev_line = r.position.line;
        prev_byte = Some(r.position.byte);
    }
}

/// The file's records tokenized in one piece, as `inspect` and the header search see them.
fn whole_records(file: &[u8], encoding: DetectedEncoding, delimiter: u8) -> Vec<OwnedRecord> {
    let body = file[encoding.bom_len..].to_vec();
    let mut decoded = Vec::new();
    encoding::utf8_stream(Box::new(Cursor::new(body)), encoding)
        .read_to_end(&mut decoded)
        .expect("in memory");
    let start = Position {
        line: 1,
        byte: encoding.bom_len as u64,
        record: 1,
    };
    let records = owned_records(&decoded, start, delimiter);
    check_record_sequence(&records, start);
    // Independently of the tokenizer: a record starts at the start of a line, its line is one
    // more than the line breaks before its byte, and a record without quotes is its line cut
    // at the delimiter.
    let (mut at, mut line) = (0usize, 1u64);
    for r in &records {
        let off = (r.position.byte - start.byte) as usize;
        assert!(
            off < decoded.len(),
            "record {} starts inside the input",
            r.position.record
        );
        assert!(
            off == 0 || matches!(decoded[off - 1], b'\n' | b'\r'),
            "record {} starts a line",
            r.position.record
        );
        assert!(!matches!(decoded[off], b'\n' | b'\r'));
        line += count_breaks(&decoded[at..off], decoded.get(off).copied());
        at = off;
        assert_eq!(
            r.position.line, line,
            "line of record {}",
            r.position.record
        );
        let end = decoded[off..]
            .iter()
            .position(|b| matches!(b, b'\n' | b'\r'))
            .map_or(decoded.len(), |n| off + n);
        let text = &decoded[off..end];
        if !text.contains(&b'"') && !r.invalid_utf8 {
            let fields: Vec<&[u8]> = text.split(|&b| b == delimiter).collect();
            assert_eq!(
                r.fields.len(),
                fields.len(),
                "fields of record {}",
                r.position.record
            );
            for (f, raw) in r.fields.iter().zip(fields) {
                assert_eq!(f.as_bytes(), raw, "a field of record {}", r.position.record);
            }
        }
    }
    records
}

// ---------------------------------------------------------------------------------------------
// The sniffer

/// Encoding detection (with and without a forced encoding), the transcoding stream read in
/// pieces of every size, `sniff_delimiter`, `separator_hint` and `parse_delimiter` on `data`.
pub fn sniff(data: &[u8]) {
    let detected = encoding::detect(data, None);
    assert!(!detected.forced);
    if detected.bom_len > 0 {
        assert_eq!(
            Encoding::for_bom(data),
            Some((detected.encoding, detected.bom_len))
        );
    }
    let encodings = forced_encodings();
    let forced_to = encodings[data.first().map_or(3, |&b| b as usize) % encodings.len()]
        .unwrap_or(encoding_rs::UTF_8);
    let forced = encoding::detect(data, Some(forced_to));
    assert!(forced.forced && forced.encoding == forced_to);
    assert!(forced.bom_len == 0 || Encoding::for_bom(data) == Some((forced_to, forced.bom_len)));
    for enc in [detected, forced] {
        let body = &data[enc.bom_len..];
        let at_once = transcode(body, enc, &[1 << 16]);
        let sizes: Vec<usize> = data.iter().take(16).map(|&b| 1 + b as usize % 13).collect();
        assert_eq!(
            transcode(body, enc, if sizes.is_empty() { &[1] } else { &sizes }),
            at_once,
            "reads of any size give the same stream"
        );
        if enc.encoding == encoding_rs::UTF_8 {
            assert_eq!(at_once, body, "UTF-8 passes through untouched");
        } else if let Some(text) = enc
            .encoding
            .decode_without_bom_handling_and_without_replacement(body)
        {
            assert_eq!(
                at_once,
                text.as_bytes(),
                "well-formed input transcodes exactly"
            );
        } else {
            assert!(at_once.contains(&0xFF), "malformed input is marked");
            let rest: Vec<u8> = at_once.iter().copied().filter(|&b| b != 0xFF).collect();
            assert!(
                std::str::from_utf8(&rest).is_ok(),
                "only the markers are not UTF-8"
            );
        }
    }
    let d = sniff::sniff_delimiter(data);
    assert!(CANDIDATES.contains(&d));
    if let Some(h) = sniff::separator_hint(data) {
        assert!(data.starts_with(b"sep=") || data.starts_with(b"SEP="));
        assert_eq!(data[4], h);
        assert!(h.is_ascii() && !matches!(h, b'"' | b'\n' | b'\r'));
        assert!(matches!(data.get(5), None | Some(b'\n' | b'\r')));
        assert_eq!(sniff::parse_delimiter(&(h as char).to_string()), Some(h));
    }
    let text = String::from_utf8_lossy(data);
    if let Some(p) = sniff::parse_delimiter(&text) {
        assert!(p.is_ascii() && !matches!(p, b'"' | b'\n' | b'\r'));
    }
    let _ = sniff::delimiter_name(d);
}

/// The UTF-8 stream of `body`, read in pieces of the given sizes (cycled).
fn transcode(body: &[u8], enc: DetectedEncoding, sizes: &[usize]) -> Vec<u8> {
    let mut stream = encoding::utf8_stream(Box::new(Cursor::new(body.to_vec())), enc);
    let mut out = Vec::new();
    let mut buf = vec![0u8; sizes.iter().copied().max().unwrap_or(1)];
    for &n in sizes.iter().cycle() {
        let got = stream.read(&mut buf[..n]).expect("in memory");
        if got == 0 {
            break;
        }
        out.extend_from_slice(&buf[..got]);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The header mapper

/// `map_header` of every schema, `detect` and `detect_site` on a header row of arbitrary
/// cells (separated by [`CELL`]).
pub fn header(data: &[u8]) {
    let header: Vec<String> = cells(data)
        .into_iter()
        .take(100)
        .map(Option::unwrap_or_default)
        .collect();
    let complete: Vec<(&str, usize)> = SCHEMAS
        .iter()
        .filter_map(|s| {
            let m = check_mapping(s, &header);
            m.missing.is_empty().then(|| (s.name, m.matched()))
        })
        .collect();
    match detect(&header) {
        Detection::Found(s) => assert!(complete.iter().any(|(n, _)| *n == s.name)),
        Detection::Ambiguous(names) => {
            assert_eq!(names.len(), 2);
            let matched: Vec<usize> = names
                .iter()
                .map(|n| complete.iter().find(|c| c.0 == *n).expect("complete").1)
                .collect();
            assert_eq!(matched[0], matched[1]);
        }
        Detection::NoMatch(closest) => {
            assert!(complete.is_empty());
            assert!(closest.iter().all(|(_, missing)| !missing.is_empty()));
        }
    }
    if let Some((code, _)) = detect_site(&header) {
        assert!(SiteProfile::by_code(code).is_some(), "{code}");
    }
    for h in &header {
        let n = normalize_header(h);
        assert_eq!(n.trim(), n, "normalized names carry no outer white space");
    }
}

fn check_mapping(schema: &'static ImportSchema, header: &[String]) -> HeaderMapping {
    let m = schema.map_header(header);
    assert_eq!(m.file_to_field.len(), header.len());
    assert_eq!(m.field_to_file.len(), schema.fields.len());
    for (f, col) in m.field_to_file.iter().enumerate() {
        if let Some(c) = *col {
            assert_eq!(m.file_to_field[c], Some(f));
        }
    }
    for (c, f) in m.file_to_field.iter().enumerate() {
        if let Some(f) = *f {
            assert_eq!(m.field_to_file[f], Some(c));
        }
    }
    assert!(m.attributes.windows(2).all(|w| w[0] < w[1]));
    assert!(m.attributes.iter().all(|&a| m.file_to_field[a].is_none()));
    assert!(m.matched() + m.attributes.len() + m.unknown.len() <= header.len());
    for (f, col) in schema.fields.iter().zip(&m.field_to_file) {
        if f.required && col.is_none() {
            assert!(
                m.missing.iter().any(|n| n == f.name),
                "{} is missing",
                f.name
            );
        }
    }
    let present = m.present_fields();
    assert_eq!(present.len(), m.matched());
    let projection = m.projection();
    assert_eq!(projection.len(), header.len());
    let mut outputs: Vec<usize> = projection.iter().flatten().copied().collect();
    assert!(outputs
        .iter()
        .all(|&o| o < present.len() + m.attributes.len()));
    outputs.sort_unstable();
    let n = outputs.len();
    outputs.dedup();
    assert_eq!(
        outputs.len(),
        n,
        "a projection never feeds one output twice"
    );
    assert_eq!(m.attribute_names(header).len(), m.attributes.len());
    let _ = m.variant(header);
    for (k, _) in &m.params {
        assert!(m.param(k).is_some());
    }
    m
}

// ---------------------------------------------------------------------------------------------
// The kernels

/// Which kernel a target runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Text,
    Id,
    Email,
    Money,
    Integer,
    /// `date` and `datetime`.
    Date,
    Boolean,
    Enum,
    Currency,
}

/// Bytes of options before a kernel input's cells: site, type parameter, padding.
pub const KERNEL_HEADER: usize = 3;

/// The field types a kernel target picks from with its parameter byte: every type of that
/// kernel the schemas declare, plus a synthetic one made from the byte.
pub fn kernel_types(kernel: Kernel, param: u8) -> Vec<FieldType> {
    let mut types: Vec<FieldType> = Vec::new();
    for schema in SCHEMAS {
        for f in schema.fields {
            let of_kernel = matches!(
                (kernel, f.ty),
                (Kernel::Text, FieldType::Text { .. })
                    | (Kernel::Id, FieldType::Id(_))
                    | (Kernel::Email, FieldType::Email)
                    | (Kernel::Money, FieldType::Money)
                    | (Kernel::Integer, FieldType::Integer { .. })
                    | (Kernel::Date, FieldType::Date | FieldType::DateTime)
                    | (Kernel::Boolean, FieldType::Bool)
                    | (Kernel::Enum, FieldType::Enum(_))
                    | (Kernel::Currency, FieldType::Currency)
            );
            if of_kernel && !types.contains(&f.ty) {
                types.push(f.ty);
            }
        }
    }
    match kernel {
        Kernel::Text => types.push(FieldType::Text {
            max_chars: u32::from(param % 16),
        }),
        Kernel::Id => types.extend([
            FieldType::Id(IdKind::Gtin),
            FieldType::Id(IdKind::Isbn),
            FieldType::Id(IdKind::Token),
            FieldType::Id(IdKind::ItemNumber),
            FieldType::Id(IdKind::OrderNumber),
            FieldType::Id(IdKind::Digits {
                min: param % 20,
                max: param % 20 + param / 64,
            }),
        ]),
        Kernel::Integer => types.extend([
            FieldType::Integer {
                min: i64::MIN,
                max: i64::MAX,
            },
            FieldType::Integer {
                min: -i64::from(param % 8),
                max: i64::from(param / 4),
            },
        ]),
        _ => {}
    }
    types
}

/// Runs a kernel over the column in `data[3..]` (cells separated by [`CELL`]) on the site and
/// type `data[..3]` picks, as a slice of a bigger array when it says so, and compares every
/// row with the naive reference.
pub fn kernel(kernel: Kernel, data: &[u8]) {
    if data.len() < KERNEL_HEADER {
        return;
    }
    let (o, rest) = data.split_at(KERNEL_HEADER);
    let site = &SITES[o[0] as usize % SITES.len()];
    let types = kernel_types(kernel, o[1]);
    let pad = ((o[2] & 3) as usize, ((o[2] >> 2) & 3) as usize);
    let column: Vec<Option<String>> = cells(rest).into_iter().take(256).collect();
    // Most inputs run one type; a high bit runs every type of the kernel (dates: both).
    let chosen: Vec<FieldType> = if o[1] & 0x80 != 0 || kernel == Kernel::Date {
        types
    } else {
        vec![types[o[1] as usize % types.len()]]
    };
    for ty in chosen {
        naive::check_column(ty, site, &column, pad).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Bytes of options before a validate input's cells: schema, site, field count.
pub const VALIDATE_HEADER: usize = 3;

/// `validate_batch` (and `reformatted_dates`) over a batch of up to 8 fields of a schema:
/// `data[..3]` picks the schema, the site and the field count `k`, the next `k` bytes the
/// fields, the rest are the cells row by row.
pub fn validate(data: &[u8]) {
    if data.len() < VALIDATE_HEADER {
        return;
    }
    let schema = SCHEMAS[data[0] as usize % SCHEMAS.len()];
    let site = &SITES[data[1] as usize % SITES.len()];
    let k = 1 + data[2] as usize % 8;
    let Some((picks, rest)) = data[VALIDATE_HEADER..].split_at_checked(k) else {
        return;
    };
    let mut fields: Vec<usize> = picks
        .iter()
        .map(|&p| p as usize % schema.fields.len())
        .collect();
    fields.sort_unstable();
    fields.dedup();
    let cells = cells(rest);
    let rows = (cells.len() / fields.len()).min(64);
    let columns: Vec<Vec<Option<String>>> = (0..fields.len())
        .map(|c| {
            (0..rows)
                .map(|r| cells[r * fields.len() + c].clone())
                .collect()
        })
        .collect();
    naive::check_batch(schema, site, &fields, &columns).unwrap_or_else(|e| panic!("{e}"));
}
