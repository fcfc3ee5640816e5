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
}

impl Read for Transcoder {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // Leave room for one malformed marker plus the longest UTF-8 sequence.
        if out.len() < 8 {
            let mut tmp = [0u8; 8];
            let n = self.read(&mut tmp)?;
            let n = n.min(out.len());
            out[..n].copy_from_slice(&tmp[..n]);
            return Ok(n);
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
    fn malformed_input_becomes_a_0xff_marker() {
        // An unpaired surrogate in UTF-16LE.
        let out = transcode(b"a\0\x00\xd8b\0", UTF_16LE);
        assert_eq!(out, b"a\xffb");
    }
}
