//! The splitter: one sequential pass that finds record boundaries (line breaks outside quoted
//! fields) at memchr speed and cuts the stream into chunks of whole records, so the expensive
//! tokenizing runs in parallel. It follows csv-core's quoting rules: a quote opens a quoted
//! field only at the start of a field; inside one, `""` is an escaped quote.

use crate::lines::count_breaks;
use ebay_import_model::Position;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use xxhash_rust::xxh3::Xxh3;

const READ_BLOCK: usize = 256 << 10;

/// Whole records of the input, with the position of their first byte.
#[derive(Debug)]
pub struct Chunk {
    pub seq: u64,
    pub bytes: Vec<u8>,
    pub start: Position,
    /// Where the next chunk starts.
    pub end: Position,
    /// XXH3-128 of every byte of the (decoded) input up to `end`: what a resumed job checks
    /// its committed part against.
    pub digest: u128,
    /// The input ended inside a quoted field: the last record is unterminated.
    pub ends_in_quote: bool,
    /// This chunk stands for one record longer than the limit. `bytes` holds its start only;
    /// the rest was dropped up to the next line break.
    pub too_long: bool,
}

/// Where the scanner stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// A record ends; the next one starts at this offset. The flag says whether the record
    /// had any content (a blank line is not a record).
    Boundary(usize, bool),
    /// The buffer ends inside a record.
    NeedMore,
}

/// The quoting state machine, resumable at any byte.
#[derive(Debug, Clone, Copy)]
struct Scanner {
    delimiter: u8,
    in_quote: bool,
    /// Offset the current record starts at.
    rec_start: usize,
    /// Offset scanning resumes at.
    at: usize,
}

impl Scanner {
    fn new(delimiter: u8) -> Self {
        Scanner {
            delimiter,
            in_quote: false,
            rec_start: 0,
            at: 0,
        }
    }

    fn scan(&mut self, buf: &[u8], eof: bool) -> Scan {
        let len = buf.len();
        loop {
            if self.in_quote {
                match memchr::memchr(b'"', &buf[self.at..]) {
                    None => {
                        self.at = len;
                        return Scan::NeedMore;
                    }
                    Some(k) => {
                        let k = self.at + k;
                        match buf.get(k + 1) {
                            Some(b'"') => self.at = k + 2,
                            Some(_) => {
                                self.in_quote = false;
                                self.at = k + 1;
                            }
                            None if eof => {
                                self.in_quote = false;
                                self.at = k + 1;
                            }
                            None => {
                                self.at = k;
                                return Scan::NeedMore;
                            }
                        }
                    }
                }
            } else {
                match memchr::memchr3(b'"', b'\n', b'\r', &buf[self.at..]) {
                    None => {
                        self.at = len;
                        return Scan::NeedMore;
                    }
                    Some(k) => {
                        let k = self.at + k;
                        match buf[k] {
                            b'"' => {
                                let field_start = k == self.rec_start
                                    || matches!(buf[k - 1], b'\n' | b'\r')
                                    || buf[k - 1] == self.delimiter;
                                self.in_quote = field_start;
                                self.at = k + 1;
                            }
                            b'\n' => return self.boundary(k, k + 1),
                            _ => match buf.get(k + 1) {
                                Some(b'\n') => return self.boundary(k, k + 2),
                                Some(_) => return self.boundary(k, k + 1),
                                None if eof => return self.boundary(k, k + 1),
                                None => {
                                    self.at = k;
                                    return Scan::NeedMore;
                                }
                            },
                        }
                    }
                }
            }
        }
    }

    fn boundary(&mut self, terminator: usize, next: usize) -> Scan {
        let nonempty = terminator > self.rec_start;
        self.rec_start = next;
        self.at = next;
        Scan::Boundary(next, nonempty)
    }

    /// Moves the scanner's offsets after `n` bytes were removed from the buffer's front.
    fn shift(&mut self, n: usize) {
        self.rec_start -= n;
        self.at -= n;
    }
}

/// Cuts a UTF-8 stream into [`Chunk`]s of whole records.
pub struct Splitter {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    eof: bool,
    /// Position of `buf[0]`.
    pos: Position,
    scanner: Scanner,
    chunk_bytes: usize,
    max_record_bytes: usize,
    seq: u64,
    /// Records the scanner has passed since the last cut.
    records: u64,
    /// Chunk buffers handed back by their consumers, reused instead of fresh allocations.
    recycled: Option<Receiver<Vec<u8>>>,
    /// Every byte consumed so far (skipped, dropped or cut into chunks), hashed in order.
    digest: Xxh3,
}

impl Splitter {
    pub fn new(
        src: Box<dyn Read + Send>,
        start: Position,
        delimiter: u8,
        chunk_bytes: usize,
        max_record_bytes: usize,
    ) -> Self {
        Splitter {
            src,
            buf: Vec::with_capacity(chunk_bytes + READ_BLOCK),
            eof: false,
            pos: start,
            scanner: Scanner::new(delimiter),
            chunk_bytes,
            max_record_bytes,
            seq: 0,
            records: 0,
            recycled: None,
            digest: Xxh3::new(),
        }
    }

    /// A sender through which consumers hand chunk buffers back for reuse.
    pub fn recycler(&mut self, capacity: usize) -> SyncSender<Vec<u8>> {
        let (tx, rx) = sync_channel(capacity);
        self.recycled = Some(rx);
        tx
    }

    fn fresh_buffer(&mut self) -> Vec<u8> {
        let want = self.chunk_bytes + 2 * READ_BLOCK;
        match self.recycled.as_ref().and_then(|r| r.try_recv().ok()) {
            // A long record's buffer is freed rather than kept resident for short ones.
            Some(mut buf) if (want..=2 * want).contains(&buf.capacity()) => {
                buf.clear();
                buf
            }
            _ => Vec::with_capacity(want),
        }
    }

    pub fn position(&self) -> Position {
        self.pos
    }

    fn fill(&mut self) -> io::Result<()> {
        // `read_to_end` reads into spare capacity without zeroing it first.
        let before = self.buf.len();
        let n = loop {
            match (&mut self.src)
                .take(READ_BLOCK as u64)
                .read_to_end(&mut self.buf)
            {
                Ok(_) => break self.buf.len() - before,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(before);
                    return Err(e);
                }
            }
        };
        self.eof = n == 0;
        Ok(())
    }

    /// Makes room for a record that outgrew a chunk once, for the longest record accepted,
    /// instead of doubling the buffer: each doubling copies the record again and leaves the
    /// old copy resident with the allocator for a while. Only address space is taken: pages
    /// are used as the record is read into them.
    fn reserve_long_record(&mut self, record_len: usize) {
        let spare = self.buf.capacity() - self.buf.len();
        if record_len > self.chunk_bytes && spare < READ_BLOCK {
            self.buf
                .reserve_exact(self.max_record_bytes - record_len + 2 * READ_BLOCK);
        }
    }

    /// Returns the end offsets of the first `n` records, reading as needed; nothing is
    /// consumed. Fewer at the end of the input, before a record over the size limit, and once
    /// `max_bytes` are buffered, so blank lines or a long record cannot make the peek hold
    /// the whole input. Blank lines are not records: those after the first record stay inside
    /// the span of the record after them; those before it are passed (the position moves past
    /// them) instead of buffered.
    pub fn peek_boundaries(&mut self, n: usize, max_bytes: usize) -> io::Result<Vec<usize>> {
        let mut scanner = Scanner::new(self.scanner.delimiter);
        let mut ends = Vec::new();
        while ends.len() < n {
            match scanner.scan(&self.buf, self.eof) {
                Scan::Boundary(b, true) => ends.push(b),
                Scan::Boundary(_, false) => {}
                Scan::NeedMore if self.eof => {
                    if scanner.rec_start < self.buf.len() {
                        ends.push(self.buf.len());
                    }
                    break;
                }
                Scan::NeedMore => {
                    if ends.is_empty() && scanner.rec_start > 0 {
                        let blank = scanner.rec_start;
                        self.advance(blank);
                        scanner.shift(blank);
                    }
                    let record_len = self.buf.len() - scanner.rec_start;
                    if record_len > self.max_record_bytes || self.buf.len() > max_bytes {
                        break;
                    }
                    self.fill()?;
                }
            }
        }
        Ok(ends)
    }

    /// Whether the whole input has been read (into the buffer or past it).
    pub fn input_ended(&self) -> bool {
        self.eof
    }

    /// The buffered bytes (valid after [`Self::peek_boundaries`]).
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Drops the first `len` bytes, which hold `records` whole records.
    pub fn consume(&mut self, len: usize, records: u64) {
        self.advance(len);
        self.pos.record += records;
        self.scanner = Scanner::new(self.scanner.delimiter);
    }

    /// The next chunk of whole records, or `None` at the end of the input.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        // The scanner resumes where the last call stopped: bytes it already passed belong to
        // records that `self.records` counted.
        let mut last_boundary = 0;
        let mut records_at_boundary = 0;
        if self.scanner.rec_start > 0 {
            last_boundary = self.scanner.rec_start;
            records_at_boundary = self.records;
        }
        loop {
            match self.scanner.scan(&self.buf, self.eof) {
                Scan::Boundary(b, nonempty) => {
                    self.records += u64::from(nonempty);
                    last_boundary = b;
                    records_at_boundary = self.records;
                    if b >= self.chunk_bytes {
                        return Ok(Some(self.cut(b, records_at_boundary, false)));
                    }
                }
                Scan::NeedMore if self.eof => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let ends_in_quote = self.scanner.in_quote;
                    let len = self.buf.len();
                    let records = self.records + u64::from(self.scanner.rec_start < len);
                    return Ok(Some(self.cut(len, records, ends_in_quote)));
                }
                Scan::NeedMore => {
                    // A `\r` waiting for a possible `\n` is the terminator, not the record.
                    let end = match self.buf.last() {
                        Some(b'\r') if !self.scanner.in_quote => self.buf.len() - 1,
                        _ => self.buf.len(),
                    };
                    let record_len = end - self.scanner.rec_start;
                    if record_len > self.max_record_bytes {
                        if last_boundary > 0 {
                            // Hand over the whole records first; the long one comes next.
                            return Ok(Some(self.cut(last_boundary, records_at_boundary, false)));
                        }
                        return self.drop_long_record().map(Some);
                    }
                    self.reserve_long_record(record_len);
                    self.fill()?;
                }
            }
        }
    }

    fn cut(&mut self, len: usize, records: u64, ends_in_quote: bool) -> Chunk {
        // The chunk keeps the big buffer; the few bytes after the cut move to a fresh one that
        // is large enough not to grow while the next chunk is read into it.
        self.digest.update(&self.buf[..len]);
        let mut rest = self.fresh_buffer();
        rest.extend_from_slice(&self.buf[len..]);
        self.buf.truncate(len);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let start = self.pos;
        self.pos.line += count_breaks(&bytes, self.buf.first().copied());
        self.pos.byte += len as u64;
        self.pos.record += records;
        self.records -= records.min(self.records);
        if len >= self.scanner.at {
            self.scanner = Scanner::new(self.scanner.delimiter);
        } else {
            self.scanner.shift(len);
        }
        self.seq += 1;
        Chunk {
            seq: self.seq - 1,
            bytes,
            start,
            end: self.pos,
            digest: self.digest.digest128(),
            ends_in_quote,
            too_long: false,
        }
    }

    /// The record at the front of the buffer is over the limit: keep its start for the
    /// report, drop the rest up to the next line break (quotes no longer count: the record is
    /// lost anyway, and this resynchronises after a stray quote).
    fn drop_long_record(&mut self) -> io::Result<Chunk> {
        let start = self.pos;
        let preview_len = self.buf.len().min(4096);
        let preview = self.buf[..preview_len].to_vec();
        let mut scan_from = self.max_record_bytes.min(self.buf.len());
        loop {
            if let Some(k) = memchr::memchr2(b'\n', b'\r', &self.buf[scan_from..]) {
                let k = scan_from + k;
                if self.buf[k] == b'\r' && k + 1 == self.buf.len() && !self.eof {
                    scan_from = k;
                    self.fill()?;
                    continue;
                }
                let end = if self.buf[k] == b'\r' && self.buf.get(k + 1) == Some(&b'\n') {
                    k + 2
                } else {
                    k + 1
                };
                self.advance(end);
                break;
            }
            let all = self.buf.len();
            self.advance(all);
            scan_from = 0;
            if self.eof {
                break;
            }
            self.fill()?;
        }
        self.pos.record += 1;
        self.scanner = Scanner::new(self.scanner.delimiter);
        self.seq += 1;
        Ok(Chunk {
            seq: self.seq - 1,
            bytes: preview,
            start,
            end: self.pos,
            digest: self.digest.digest128(),
            ends_in_quote: false,
            too_long: true,
        })
    }

    /// Drops the first `len` bytes of the buffer, moving the position past their lines.
    fn advance(&mut self, len: usize) {
        self.digest.update(&self.buf[..len]);
        self.pos.line += count_breaks(&self.buf[..len], self.buf.get(len).copied());
        self.pos.byte += len as u64;
        self.buf.drain(..len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(input: &[u8], chunk_bytes: usize, max: usize) -> Vec<Chunk> {
        let mut s = Splitter::new(
            Box::new(io::Cursor::new(input.to_vec())),
            Position {
                line: 1,
                byte: 0,
                record: 1,
            },
            b',',
            chunk_bytes,
            max,
        );
        let mut out = Vec::new();
        while let Some(c) = s.next_chunk().unwrap() {
            out.push(c);
        }
        out
    }

    #[test]
    fn cuts_only_outside_quotes_and_tracks_lines() {
        let input = b"a,b\n\"x\ny\",2\r\n3,4\r\n5,\"6\"\"\n\"\n";
        let cs = chunks(input, 1, 1 << 20);
        let starts: Vec<u64> = cs.iter().map(|c| c.start.line).collect();
        assert_eq!(starts, vec![1, 2, 4, 5]);
        assert_eq!(cs[1].bytes, b"\"x\ny\",2\r\n");
        assert_eq!(cs.iter().map(|c| c.bytes.len()).sum::<usize>(), input.len());
        assert!(cs.iter().all(|c| !c.ends_in_quote));
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_literal() {
        let cs = chunks(b"5\" tall,b\nc,d\n", 1, 1 << 20);
        assert_eq!(cs.len(), 2);
    }

    #[test]
    fn reports_an_unterminated_quote_at_eof() {
        let cs = chunks(b"a,b\n\"open,c\nd,e\n", 1 << 20, 1 << 20);
        assert_eq!(cs.len(), 1);
        assert!(cs[0].ends_in_quote);
    }

    #[test]
    fn a_record_of_exactly_the_limit_is_kept_when_its_cr_ends_a_read_block() {
        // Filler records, then a 100-byte record whose `\r` is the last byte of the first read.
        let mut input = Vec::new();
        while input.len() + 200 < READ_BLOCK - 101 {
            input.extend_from_slice(b"filler,1\r\n");
        }
        let pad = READ_BLOCK - 101 - input.len();
        input.extend(std::iter::repeat_n(b'p', pad - 2));
        input.extend_from_slice(b"\r\n");
        let record = [b'x'; 100];
        input.extend_from_slice(&record);
        assert_eq!(input.len(), READ_BLOCK - 1);
        input.extend_from_slice(b"\r\nlast,1\r\n");
        let cs = chunks(&input, 1 << 30, 100);
        assert!(cs.iter().all(|c| !c.too_long));
    }

    #[test]
    fn a_chunk_carries_the_digest_of_everything_consumed_up_to_its_end() {
        let input = b"pre\na,b\n1,2\n3,4\n5,6\n";
        let mut s = Splitter::new(
            Box::new(io::Cursor::new(input.to_vec())),
            Position::default(),
            b',',
            1,
            1 << 20,
        );
        s.peek_boundaries(1, 1 << 20).unwrap();
        s.consume(4, 1);
        let mut ends = Vec::new();
        while let Some(c) = s.next_chunk().unwrap() {
            ends.push((c.end.byte as usize, c.digest));
        }
        assert!(ends.len() > 1);
        for (end, digest) in ends {
            assert_eq!(
                digest,
                xxhash_rust::xxh3::xxh3_128(&input[..end]),
                "up to {end}"
            );
        }
    }

    #[test]
    fn drops_an_over_long_record_and_resynchronises() {
        let mut input = b"a,b\n\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend(b"\nnext,1\nlast,2\n");
        let cs = chunks(&input, 1 << 20, 50);
        assert_eq!(cs.len(), 3);
        assert_eq!(cs[0].bytes, b"a,b\n");
        assert!(cs[1].too_long);
        assert_eq!(cs[1].start.line, 2);
        assert_eq!(cs[2].start.line, 3);
        assert_eq!(cs[2].start.byte, 4 + 1 + 100 + 1);
        assert_eq!(cs[2].bytes, b"next,1\nlast,2\n");
    }

    fn splitter(input: Vec<u8>, chunk_bytes: usize, max: usize) -> Splitter {
        let start = Position {
            line: 1,
            byte: 0,
            record: 1,
        };
        Splitter::new(
            Box::new(io::Cursor::new(input)),
            start,
            b',',
            chunk_bytes,
            max,
        )
    }

    #[test]
    fn a_peek_passes_leading_blank_lines_and_stops_at_its_byte_budget() {
        let blank = 4 << 20;
        let mut input = vec![b'\n'; blank];
        input.extend(b"a,b\n");
        input.extend(vec![b'\n'; blank]);
        input.extend(b"1,2\n");
        let mut s = splitter(input, 1 << 20, 1 << 20);
        let ends = s.peek_boundaries(21, 1 << 20).unwrap();
        // The blank lines before the header are behind the position, not in the buffer; the
        // budget ends the peek in the blank lines after it.
        assert_eq!(ends, vec![4]);
        assert_eq!(&s.buffered()[..4], b"a,b\n");
        assert!(
            s.buffered().len() <= (1 << 20) + READ_BLOCK,
            "{}",
            s.buffered().len()
        );
        assert_eq!(s.position().line, blank as u64 + 1);
        assert_eq!(s.position().byte, blank as u64);
        assert!(!s.input_ended());
        // Consuming the header, the rest streams as usual.
        s.consume(4, 1);
        let mut records = 0;
        while let Some(chunk) = s.next_chunk().unwrap() {
            records += chunk.end.record - chunk.start.record;
        }
        assert_eq!(records, 1);
        assert_eq!(s.position().line, 2 * blank as u64 + 3);
    }

    #[test]
    fn a_long_record_is_read_into_one_reservation_not_doubled() {
        let record = 24 << 20;
        let mut input = b"a,b\n".to_vec();
        input.extend(vec![b'x'; record]);
        input.extend(b",1\n2,3\n");
        let mut s = splitter(input, 64 << 10, 64 << 20);
        let (chunks, _, moved) = crate::test_alloc::measure(|| {
            std::iter::from_fn(|| s.next_chunk().unwrap()).collect::<Vec<_>>()
        });
        assert!(chunks.iter().any(|c| c.bytes.len() > record));
        // Doubling would have copied the record's bytes about once more.
        assert!(moved < record / 8, "reallocations copied {moved} bytes");
    }

    #[test]
    fn a_recycled_buffer_of_a_long_record_is_not_kept() {
        let mut s = splitter(b"a,b\n1,2\n3,4\n".to_vec(), 4, 1 << 20);
        let recycle = s.recycler(2);
        recycle.send(Vec::with_capacity(256 << 20)).unwrap();
        while s.next_chunk().unwrap().is_some() {}
        let want = 4 + 2 * READ_BLOCK;
        assert!(s.buf.capacity() <= 2 * want, "{}", s.buf.capacity());
    }
}
