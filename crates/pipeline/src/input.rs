//! Inputs: a file path or `-` for stdin, read once, with the size limit enforced and the
//! SHA-256 of the bytes computed on the way through (of the file as stored: a gzip or zstd
//! file is decompressed after that, with the same limit on what it expands to).

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// What the user asked to import.
pub struct Input {
    /// The path as given (`-` for stdin).
    pub name: String,
    /// Size from the file system; `None` for stdin.
    pub size: Option<u64>,
    reader: Box<dyn Read + Send>,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {error}")]
    Open { path: String, error: io::Error },
    #[error("{path}: {size} bytes is over the limit of {limit} bytes; raise --max-file-size to import it")]
    TooLarge { path: String, size: u64, limit: u64 },
}

impl Input {
    pub fn open(path: &str, max_size: u64) -> Result<Input, InputError> {
        if path == "-" {
            return Ok(Input {
                name: "-".into(),
                size: None,
                reader: Box::new(io::stdin()),
            });
        }
        let file = File::open(path).map_err(|error| InputError::Open {
            path: path.into(),
            error,
        })?;
        let meta = file.metadata().map_err(|error| InputError::Open {
            path: path.into(),
            error,
        })?;
        if meta.is_dir() {
            return Err(InputError::Open {
                path: path.into(),
                error: io::Error::new(io::ErrorKind::InvalidInput, "is a directory, not a file"),
            });
        }
        if meta.len() > max_size {
            return Err(InputError::TooLarge {
                path: path.into(),
                size: meta.len(),
                limit: max_size,
            });
        }
        Ok(Input {
            name: path.into(),
            size: Some(meta.len()),
            reader: Box::new(file),
        })
    }

    pub fn from_reader(name: &str, reader: Box<dyn Read + Send>) -> Input {
        Input {
            name: name.into(),
            size: None,
            reader,
        }
    }

    /// The stream, hashing and counting as it is read and failing past `max_size` bytes, then
    /// decompressed (or refused as binary, see [`ebay_import_read::compression`]).
    pub fn into_stream(self, max_size: u64) -> (Box<dyn Read + Send>, Digest256) {
        let digest = Digest256(Arc::new(Mutex::new((Sha256::new(), 0))));
        let reader = HashingReader {
            inner: self.reader,
            digest: digest.clone(),
            limit: max_size,
        };
        let name = if self.name == "-" {
            "stdin"
        } else {
            &self.name
        };
        let stream = ebay_import_read::compression::decoded(name, Box::new(reader), max_size);
        (stream, digest)
    }
}

/// The running SHA-256 and byte count of an input.
#[derive(Clone)]
pub struct Digest256(Arc<Mutex<(Sha256, u64)>>);

impl Digest256 {
    /// The hex digest and the byte count of what was read so far.
    pub fn finish(&self) -> (String, u64) {
        let guard = self.0.lock().expect("digest lock");
        let hex = guard
            .0
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (hex, guard.1)
    }
}

struct HashingReader {
    inner: Box<dyn Read + Send>,
    digest: Digest256,
    limit: u64,
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut guard = self.digest.0.lock().expect("digest lock");
        guard.0.update(&buf[..n]);
        guard.1 += n as u64;
        if guard.1 > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "input is over the limit of {} bytes; raise --max-file-size to import it",
                    self.limit
                ),
            ));
        }
        Ok(n)
    }
}
