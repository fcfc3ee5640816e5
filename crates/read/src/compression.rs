//! What an input is, before any of it is read as text: a gzip or zstd stream is decompressed
//! as it is read (recognised by its magic bytes, whatever the file is called); any other
//! binary format (an archive, a workbook, a PDF, an image, a program, a database, or bytes
//! that are mostly control characters) is refused with one line that says what the input
//! looks like and what to do.

use crate::encoding;
use flate2::read::MultiGzDecoder;
use std::fmt;
use std::io::{self, Read};

/// Bytes of the (decompressed) input looked at: as many as the encoding is detected from.
const SNIFF_BYTES: u64 = 64 * 1024;

/// A binary format, found by the bytes at `offset`.
struct Signature {
    offset: usize,
    magic: &'static [u8],
    looks_like: &'static str,
    advice: &'static str,
}

const EXPORT_CSV: &str = "export the sheet as CSV";
const PICK_CSV: &str = "pick the CSV file of the report";
const EXTRACT: &str = "extract the CSV file from it first";

const SIGNATURES: &[Signature] = &[
    Signature {
        offset: 0,
        magic: b"PK\x03\x04",
        looks_like: "a ZIP archive (an .xlsx or .ods workbook is one)",
        advice: "export the sheet as CSV, or unzip the CSV file from the archive",
    },
    Signature {
        offset: 0,
        magic: b"PK\x05\x06",
        looks_like: "an empty ZIP archive",
        advice: PICK_CSV,
    },
    Signature {
        offset: 0,
        magic: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        looks_like: "an old Office document (an .xls workbook is one)",
        advice: EXPORT_CSV,
    },
    Signature {
        offset: 0,
        magic: b"%PDF-",
        looks_like: "a PDF document",
        advice: "download the report as CSV instead",
    },
    Signature {
        offset: 0,
        magic: b"\x89PNG\r\n\x1a\n",
        looks_like: "a PNG image",
        advice: PICK_CSV,
    },
    Signature {
        offset: 0,
        magic: b"\xff\xd8\xff",
        looks_like: "a JPEG image",
        advice: PICK_CSV,
    },
    Signature {
        offset: 0,
        magic: b"GIF87a",
        looks_like: "a GIF image",
        advice: PICK_CSV,
    },
    Signature {
        offset: 0,
        magic: b"GIF89a",
        looks_like: "a GIF image",
        advice: PICK_CSV,
    },
    Signature {
        offset: 0,
        magic: b"\x7fELF",
        looks_like: "a program (an ELF executable)",
        advice: PICK_CSV,
    },
    Signature {
        offset: 0,
        magic: b"SQLite format 3\0",
        looks_like: "an SQLite database",
        advice: "export the table as CSV (sqlite3 -header -csv)",
    },
    Signature {
        offset: 257,
        magic: b"ustar\0",
        looks_like: "a tar archive",
        advice: EXTRACT,
    },
    Signature {
        offset: 257,
        magic: b"ustar  \0",
        looks_like: "a tar archive",
        advice: EXTRACT,
    },
    Signature {
        offset: 0,
        magic: b"7z\xbc\xaf\x27\x1c",
        looks_like: "a 7-Zip archive",
        advice: EXTRACT,
    },
    Signature {
        offset: 0,
        magic: b"Rar!\x1a\x07",
        looks_like: "a RAR archive",
        advice: EXTRACT,
    },
    Signature {
        offset: 0,
        magic: b"\xfd7zXZ\0",
        looks_like: "an xz-compressed file",
        advice: "decompress it first (xz -d); gzip and zstd files are read as they are",
    },
];

/// A compressed stream this module reads through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    const MAGIC_BYTES: usize = 4;

    fn of(magic: &[u8]) -> Option<Compression> {
        if magic.starts_with(b"\x1f\x8b") {
            Some(Compression::Gzip)
        } else if magic.starts_with(b"\x28\xb5\x2f\xfd") {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    fn decoder(self, input: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::Gzip => Box::new(MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(zstd::Decoder::new(input)?),
        })
    }
}

/// The input is not CSV text: what it looks like and what to do instead.
#[derive(Debug)]
pub struct NotText {
    pub name: String,
    pub looks_like: &'static str,
    pub advice: &'static str,
}

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} looks like {}, not CSV text: {}",
            self.name, self.looks_like, self.advice
        )
    }
}

impl std::error::Error for NotText {}

/// `input` as the bytes to parse: decompressed when it starts like gzip (any number of
/// members) or zstd, refused (by an error on the first read) when it looks like another binary
/// format. `name` is what messages call the input. A decompressed stream fails once it passes
/// `limit` bytes, so a small file cannot expand without end.
pub fn decoded(name: &str, input: Box<dyn Read + Send>, limit: u64) -> Box<dyn Read + Send> {
    Box::new(Decoded {
        unopened: Some((name.to_string(), input, limit)),
        stream: Box::new(io::empty()),
    })
}

/// Looks at the input at the first read, so that opening it does not block or fail.
struct Decoded {
    unopened: Option<(String, Box<dyn Read + Send>, u64)>,
    stream: Box<dyn Read + Send>,
}

impl Read for Decoded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((name, input, limit)) = self.unopened.take() {
            self.stream = open(name, input, limit)?;
        }
        self.stream.read(buf)
    }
}

fn open(name: String, input: Box<dyn Read + Send>, limit: u64) -> io::Result<Box<dyn Read + Send>> {
    let (magic, input) = head(input, Compression::MAGIC_BYTES as u64)?;
    let compression = Compression::of(&magic);
    let stream = match compression {
        Some(compression) => Box::new(Decompressed {
            decoder: compression.decoder(input)?,
            name: name.clone(),
            compression,
            written: 0,
            limit,
        }),
        None => input,
    };
    let (sample, stream) = head(stream, SNIFF_BYTES)?;
    match binary_format(&sample, compression.is_some()) {
        Some((looks_like, advice)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            NotText {
                name,
                looks_like,
                advice,
            },
        )),
        None => Ok(stream),
    }
}

/// The first `n` bytes of `input` (fewer at its end), and `input` as it was.
fn head(mut input: Box<dyn Read + Send>, n: u64) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut bytes = Vec::new();
    (&mut input).take(n).read_to_end(&mut bytes)?;
    let again = io::Cursor::new(bytes.clone()).chain(input);
    Ok((bytes, Box::new(again)))
}

/// What `sample`, the first bytes of the input (decompressed, when `decompressed`), looks like
/// when it is not text, and what to do about it.
fn binary_format(sample: &[u8], decompressed: bool) -> Option<(&'static str, &'static str)> {
    if let Some(s) = SIGNATURES.iter().find(|s| {
        sample
            .get(s.offset..)
            .is_some_and(|b| b.starts_with(s.magic))
    }) {
        return Some((s.looks_like, s.advice));
    }
    if decompressed && Compression::of(sample).is_some() {
        return Some((
            "a compressed file inside a compressed file",
            "decompress it once first (gzip -d or zstd -d)",
        ));
    }
    let bzip2 = sample.starts_with(b"BZh")
        && sample.get(3).is_some_and(u8::is_ascii_digit)
        && sample.get(4..10) == Some(b"1AY&SY");
    if bzip2 {
        return Some((
            "a bzip2-compressed file",
            "decompress it first (bunzip2); gzip and zstd files are read as they are",
        ));
    }
    // A Windows program starts with `MZ`, and says where its `PE` header is.
    let pe_at = sample
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
    if sample.starts_with(b"MZ")
        && pe_at.is_some_and(|at| sample.get(at..at + 4) == Some(b"PE\0\0"))
    {
        return Some(("a program (a Windows executable)", PICK_CSV));
    }
    let control = sample.iter().filter(|&&b| is_control(b)).count();
    if control * 4 >= sample.len().max(1) && !encoding::is_utf16(sample) {
        return Some((
            "binary data (a quarter or more of its first bytes are NUL or control bytes)",
            PICK_CSV,
        ));
    }
    None
}

/// A byte text hardly ever holds: NUL, a C0 control other than white space, or DEL.
fn is_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')) || b == 0x7f
}

/// A decompressor's output, counted against the size limit; its errors name the input.
struct Decompressed {
    decoder: Box<dyn Read + Send>,
    name: String,
    compression: Compression,
    written: u64,
    limit: u64,
}

impl Read for Decompressed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoder.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::Interrupted => e,
            kind => io::Error::new(
                kind,
                format!(
                    "{}: cannot decompress its {} data: {e}",
                    self.name,
                    self.compression.name()
                ),
            ),
        })?;
        self.written += n as u64;
        if self.written > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} decompresses to more than {} bytes, the limit; raise --max-file-size \
                     to import it",
                    self.name, self.limit
                ),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(bytes: Vec<u8>, limit: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decoded("in.csv", Box::new(io::Cursor::new(bytes)), limit).read_to_end(&mut out)?;
        Ok(out)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn refusal(bytes: Vec<u8>) -> String {
        let err = read_all(bytes, u64::MAX).expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.get_ref().is_some_and(|e| e.is::<NotText>()), "{err}");
        err.to_string()
    }

    #[test]
    fn text_passes_through_untouched() {
        let text = b"a,b\n1,2\n".to_vec();
        assert_eq!(read_all(text.clone(), u64::MAX).unwrap(), text);
        assert_eq!(read_all(Vec::new(), u64::MAX).unwrap(), b"");
        let utf16: Vec<u8> = "a,b\n1,2\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(read_all(utf16.clone(), u64::MAX).unwrap(), utf16);
    }

    #[test]
    fn gzip_members_and_zstd_frames_are_decompressed() {
        let mut two = gzip(b"a,b\n1,2\n");
        two.extend(gzip(b"3,4\n"));
        assert_eq!(read_all(two, u64::MAX).unwrap(), b"a,b\n1,2\n3,4\n");
        let mut frames = zstd::encode_all(&b"a,b\n"[..], 1).unwrap();
        frames.extend(zstd::encode_all(&b"5,6\n"[..], 1).unwrap());
        assert_eq!(read_all(frames, u64::MAX).unwrap(), b"a,b\n5,6\n");
    }

    #[test]
    fn decompressing_stops_at_the_limit() {
        // 16 MiB of line breaks in about 16 KiB of gzip.
        let bomb = gzip(&vec![b'\n'; 16 << 20]);
        assert!(bomb.len() < 1 << 20);
        let err = read_all(bomb, 2 << 20).expect_err("over the limit");
        assert_eq!(
            err.to_string(),
            "in.csv decompresses to more than 2097152 bytes, the limit; raise --max-file-size \
             to import it"
        );
    }

    #[test]
    fn damaged_compressed_data_names_the_input() {
        let mut broken = gzip(&b"a,b\n".repeat(10_000));
        broken.truncate(broken.len() / 2);
        let err = read_all(broken, u64::MAX).expect_err("truncated");
        assert!(
            err.to_string()
                .starts_with("in.csv: cannot decompress its gzip data"),
            "{err}"
        );
    }

    #[test]
    fn binary_formats_are_refused_by_what_they_look_like() {
        assert_eq!(
            refusal(b"PK\x03\x04\x14\0\x06\0rest of a workbook".to_vec()),
            "in.csv looks like a ZIP archive (an .xlsx or .ods workbook is one), not CSV text: \
             export the sheet as CSV, or unzip the CSV file from the archive"
        );
        let cases: [(&[u8], &str); 6] = [
            (b"%PDF-1.7\n%\xe2\xe3\n", "a PDF document"),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a PNG image"),
            (b"SQLite format 3\0\x10\0", "an SQLite database"),
            (b"\x7fELF\x02\x01\x01", "a program (an ELF executable)"),
            (
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0",
                "an old Office document",
            ),
            (b"GIF89a\x01\0\x01\0", "a GIF image"),
        ];
        for (bytes, looks_like) in cases {
            let line = refusal(bytes.to_vec());
            assert!(line.contains(looks_like), "{line}");
        }
        let mut tar = vec![0u8; 512];
        tar[..8].copy_from_slice(b"orders.c");
        tar[257..263].copy_from_slice(b"ustar\0");
        assert!(refusal(tar.clone()).contains("a tar archive"));
        // A .tar.gz is a tar archive once decompressed, and a .gz.gz one file inside another.
        assert!(refusal(gzip(&tar)).contains("a tar archive"));
        assert!(refusal(gzip(&gzip(b"a,b\n"))).contains("inside a compressed file"));
        assert!(refusal(b"BZh91AY&SY\x12\x34".to_vec()).contains("bzip2"));
        // Text that merely starts like a signature is text.
        assert!(read_all(b"BZh,MZ\nPK,1\n".to_vec(), u64::MAX).is_ok());
    }

    #[test]
    fn control_bytes_are_binary_but_not_in_utf16() {
        let mut bytes = b"a,b\n".repeat(100);
        bytes.extend(std::iter::repeat_n(0u8, 200));
        assert!(refusal(bytes).contains("binary data"));
        // A CSV with a few NUL bytes in a value is text (the value is rejected, not the file).
        let mut text = b"a,b\n".repeat(100);
        text.extend(b"x\0y,1\n");
        assert!(read_all(text, u64::MAX).is_ok());
        // UTF-16 without a byte order mark: a NUL in every other byte.
        let utf16: Vec<u8> = "a,b\n1,2\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(read_all(utf16, u64::MAX).is_ok());
    }
}
