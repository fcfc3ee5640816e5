//! Character encoding: detection from a sample, and streaming transcoding to UTF-8.
//!
//! UTF-8 input is passed through untouched and validated per record by the parser, so a bad
//! byte rejects one record (`invalid_encoding`), not the file. Other encodings are transcoded
//! with encoding_rs; a malformed sequence is replaced by the byte 0xFF, which can never occur
//! in UTF-8, so the parser rejects exactly the record that held it.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{DecoderResult, Encoding, UTF_16BE, UTF_16LE, UTF_8};
use std::io::{self, Read};

/// How the input's bytes are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectedEncoding {
    pub encoding: &'static Encoding,
    /// Length of the byte order mark at the start of the input (0 if none).
    pub bom_len: usize,
    /// Whether the encoding was given by the user rather than detected.
    pub forced: bool,
}

impl DetectedEncoding {
    pub fn name(&self) -> &'static str {
        self.encoding.name()
    }
}

/// Detects the encoding of `sample` (the first bytes of the input): a BOM, else UTF-8 when the
/// sample is valid UTF-8 (a sequence cut at the end of the sample is allowed), else UTF-16 by
/// the pattern of NUL bytes, else chardetng's guess.
pub fn detect(sample: &[u8], forced: Option<&'static Encoding>) -> DetectedEncoding {
    let (bom_encoding, bom_len) = match Encoding::for_bom(sample) {
        Some((enc, len)) => (Some(enc), len),
        None => (None, 0),
    };
    if let Some(encoding) = forced {
        // A forced encoding still drops a BOM of that encoding.
        let bom_len = if bom_encoding == Some(encoding) {
            bom_len
        } else {
            0
        };
        return DetectedEncoding {
            encoding,
            bom_len,
            forced: true,
        };
    }
    if let Some(encoding) = bom_encoding {
        return DetectedEncoding {
            encoding,
            bom_len,
            forced: false,
        };
    }
    // NULs are valid UTF-8, so UTF-16 without a BOM is looked for first.
    let encoding = utf16_by_nuls(sample).unwrap_or_else(|| match std::str::from_utf8(sample) {
        Ok(_) => UTF_8,
        Err(e) if e.error_len().is_none() => UTF_8,
        // A UTF-8 file with a few bad bytes stays UTF-8, so only the records holding them are
        // rejected; a legacy 8-bit file has (almost) no valid multi-byte sequences.
        Err(_) if mostly_utf8(sample) => UTF_8,
        Err(_) => {
            let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
            detector.feed(sample, true);
            detector.guess(None, Utf8Detection::Allow)
        }
    });
    DetectedEncoding {
        encoding,
        bom_len: 0,
        forced: false,
    }
}

/// At least as many valid multi-byte UTF-8 characters as places with invalid bytes. Adjacent
/// invalid bytes are one place (one damaged value), however many bytes it has: `utf8_chunks`
/// gives each bad byte its own chunk.
fn mostly_utf8(sample: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut in_bad_run = false;
    for chunk in sample.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.valid().is_empty() {
            in_bad_run = false;
        }
        if !chunk.invalid().is_empty() {
            invalid += usize::from(!in_bad_run);
            in_bad_run = true;
        }
    }
    valid > 0 && valid >= invalid
}

/// Whether `sample` is UTF-16 text: by its byte order mark or its NUL bytes.
pub(crate) fn is_utf16(sample: &[u8]) -> bool {
    let bom = Encoding::for_bom(sample).map(|(enc, _)| enc);
    matches!(bom, Some(enc) if enc == UTF_16LE || enc == UTF_16BE)
        || utf16_by_nuls(sample).is_some()
}

/// UTF-16 text of mostly ASCII has a NUL in every other byte.
fn utf16_by_nuls(sample: &[u8]) -> Option<&'static Encoding> {
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    if odd * 10 >= pairs * 4 && even * 10 < pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 4 && odd * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Wraps a byte stream so it reads as UTF-8 (see the module docs for malformed input).
pub fn utf8_stream(inner: Box<dyn Read + Send>, enc: DetectedEncoding) -> Box<dyn Read + Send> {
    if enc.encoding == UTF_8 {
        inner
    } else {
        Box::new(Transcoder {
            inner,
            decoder: enc.encoding.new_decoder_without_bom_handling(),
            input: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            eof: false,
            done: false,
            spill: Vec::new(),
            spill_at: 0,
        })
    }
}

struct Transcoder {
    inner: Box<dyn Read + Send>,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
    spill: Vec<u8>,
    spill_at: usize,
}

impl Read for Transcoder {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // Decoded bytes that did not fit a previous small read go first.
        if self.spill_at < self.spill.len() {
            let n = (self.spill.len() - self.spill_at).min(out.len());
            out[..n].copy_from_slice(&self.spill[self.spill_at..self.spill_at + n]);
            self.spill_at += n;
            return Ok(n);
        }
        // Leave room for one malformed marker plus the longest UTF-8 sequence: decode a small
        // read into the spill buffer and hand it out piece by piece.
        if out.len() < 8 {
            let mut tmp = [0u8; 64];
            let n = self.read(&mut tmp)?;
            if n == 0 {
                return Ok(0);
            }
            self.spill.clear();
            self.spill.extend_from_slice(&tmp[..n]);
            self.spill_at = 0;
            return self.read(out);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = self.inner.read(&mut self.input)?;
                self.eof = self.end == 0;
            }
            let room = out.len() - 1;
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.start..self.end],
                &mut out[..room],
                self.eof,
            );
            self.start += read;
            let mut written = written;
            match result {
                DecoderResult::InputEmpty => {
                    if self.eof {
                        self.done = true;
                    }
                }
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(_, _) => {
                    out[written] = 0xFF;
                    written += 1;
                }
            }
            if written > 0 || self.done {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcode(bytes: &[u8], enc: &'static Encoding) -> Vec<u8> {
        let d = DetectedEncoding {
            encoding: enc,
            bom_len: 0,
            forced: true,
        };
        let mut out = Vec::new();
        utf8_stream(Box::new(io::Cursor::new(bytes.to_vec())), d)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn detects_boms_utf8_and_utf16_without_bom() {
        assert_eq!(detect(b"\xef\xbb\xbfa,b", None).bom_len, 3);
        assert_eq!(detect(b"\xff\xfea\0", None).encoding, UTF_16LE);
        assert_eq!(detect(b"\xfe\xff\0a", None).encoding, UTF_16BE);
        assert_eq!(detect("Käufer,b\n".as_bytes(), None).encoding, UTF_8);
        // A multi-byte char cut by the end of the sample is still UTF-8.
        assert_eq!(detect(&"aä".as_bytes()[..2], None).encoding, UTF_8);
        assert_eq!(detect(b"a\0,\0b\0\n\0c\0,\0d\0", None).encoding, UTF_16LE);
    }

    #[test]
    fn guesses_windows_1252_for_latin_text() {
        let text =
            b"Name,Stadt\nM\xfcller,K\xf6ln\nJ\xfcrgen,D\xfcsseldorf\nS\xe9bastien,Orl\xe9ans\n";
        assert_eq!(detect(text, None).encoding.name(), "windows-1252");
        assert_eq!(
            transcode(text, encoding_rs::WINDOWS_1252)[11..18],
            *"Müller".as_bytes()
        );
    }

    #[test]
    fn guesses_shift_jis_and_gb18030_for_cjk_exports() {
        let japanese = "商品名,価格,数量\n日本製の湯呑み茶碗,1200,3\n京都の抹茶セット,3500,1\n";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(japanese);
        assert_eq!(detect(&bytes, None).encoding, encoding_rs::SHIFT_JIS);
        assert_eq!(
            transcode(&bytes, encoding_rs::SHIFT_JIS),
            japanese.as_bytes()
        );
        let chinese = "商品名称,价格,数量\n中国制造的茶杯,120,3\n北京烤鸭礼盒装,350,1\n";
        let (bytes, _, _) = encoding_rs::GB18030.encode(chinese);
        // chardetng names the family GBK; GB18030 decodes it the same.
        let found = detect(&bytes, None).encoding;
        assert!(
            found == encoding_rs::GBK || found == encoding_rs::GB18030,
            "{}",
            found.name()
        );
        assert_eq!(transcode(&bytes, found), chinese.as_bytes());
    }

    #[test]
    fn small_reads_lose_nothing() {
        let text = "Müller,Köln\n".repeat(50);
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        let d = DetectedEncoding {
            encoding: encoding_rs::WINDOWS_1252,
            bom_len: 0,
            forced: true,
        };
        let mut r = utf8_stream(Box::new(io::Cursor::new(bytes.into_owned())), d);
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn a_utf8_file_with_one_bad_byte_stays_utf8() {
        let text = b"Name,Stadt\nM\xc3\xbcller,K\xc3\xb6ln\nBroken,K\xf6ln\n";
        assert_eq!(detect(text, None).encoding, UTF_8);
    }

    #[test]
    fn a_run_of_bad_bytes_counts_once_against_utf8() {
        // One valid `ü` and two adjacent bad bytes in one value: UTF-8 with one bad record, not
        // windows-1252 (which would make the `ü` read `Ã¼`).
        let text = b"name,last\nMartin,M\xc3\xbcller\nBroken,bo\xff\xffgie\n";
        assert_eq!(detect(text, None).encoding, UTF_8);
        // Two separate bad places against one valid character are still not UTF-8.
        let text = b"name,last\nMartin,M\xc3\xbcller\nK\xf6ln,D\xfcsseldorf\n";
        assert_ne!(detect(text, None).encoding, UTF_8);
        // Adjacent legacy letters (`\xdf\xfc`, `ßü`) in a file without UTF-8 stay legacy.
        let text = b"Name,Stadt\nGro\xdf\xfcbel,K\xf6ln\nJ\xfcrgen,D\xfcsseldorf\n";
        assert_eq!(detect(text, None).encoding.name(), "windows-1252");
    }

    #[test]
    fn malformed_input_becomes_a_0xff_marker() {
        // An unpaired surrogate in UTF-16LE.
        let out = transcode(b"a\0\x00\xd8b\0", UTF_16LE);
        assert_eq!(out, b"a\xffb");
    }
}
