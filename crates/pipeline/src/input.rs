//! Inputs: a file path or `-` for stdin, read once, with the size limit enforced, the SHA-256
//! of the bytes computed on the way through (of the file as stored: a gzip or zstd file is
//! decompressed after that, with the same limit on what it expands to), and a check that the
//! file did not change while it was read.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// What the user asked to import.
pub struct Input {
    /// The path as given (`-` for stdin).
    pub name: String,
    /// Size from the file system; `None` for stdin.
    pub size: Option<u64>,
    reader: Box<dyn Read + Send>,
    /// The opened file as it was when opened, to tell whether it changed while it was read.
    watch: Option<Watch>,
}

/// A file's size and modification time when it was opened, and a handle to look again.
struct Watch {
    file: File,
    len: u64,
    modified: Option<SystemTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {error}")]
    Open { path: String, error: io::Error },
    #[error("{path}: {size} bytes is over the limit of {limit} bytes; raise --max-file-size to import it")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{path} changed while it was read (another program is writing it?): {what}; import it again once it is complete")]
    Changed { path: String, what: String },
}

impl Input {
    pub fn open(path: &str, max_size: u64) -> Result<Input, InputError> {
        if path == "-" {
            return Ok(Input {
                name: "-".into(),
                size: None,
                reader: Box::new(io::stdin()),
                watch: None,
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
        // A pipe or a device (`<(zcat …)`, `mkfifo`, /dev/stdin) has no size to check or to
        // watch: it is read like stdin, the limit enforced while reading.
        if !meta.is_file() {
            return Ok(Input::from_reader(path, Box::new(file)));
        }
        if meta.len() > max_size {
            return Err(InputError::TooLarge {
                path: path.into(),
                size: meta.len(),
                limit: max_size,
            });
        }
        let watch = file.try_clone().ok().map(|handle| Watch {
            file: handle,
            len: meta.len(),
            modified: meta.modified().ok(),
        });
        Ok(Input {
            name: path.into(),
            size: Some(meta.len()),
            reader: Box::new(file),
            watch,
        })
    }

    pub fn from_reader(name: &str, reader: Box<dyn Read + Send>) -> Input {
        Input {
            name: name.into(),
            size: None,
            reader,
            watch: None,
        }
    }

    /// The stream, hashing and counting as it is read and failing past `max_size` bytes, then
    /// decompressed (or refused as binary, see [`ebay_import_read::compression`]).
    pub fn into_stream(self, max_size: u64) -> (Box<dyn Read + Send>, Digest256) {
        let digest = Digest256 {
            state: Arc::new(Mutex::new((Sha256::new(), 0))),
            name: self.name.clone(),
            watch: self.watch.map(Arc::new),
        };
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

/// The running SHA-256 and byte count of an input, and what its file was like when opened.
#[derive(Clone)]
pub struct Digest256 {
    state: Arc<Mutex<(Sha256, u64)>>,
    name: String,
    watch: Option<Arc<Watch>>,
}

impl Digest256 {
    /// Once the input was read to its end: an error when the file's size or modification time
    /// is not what it was when it was opened, or the bytes read are not its size (it was
    /// truncated, appended to or rewritten meanwhile).
    pub fn check_unchanged(&self) -> Result<(), InputError> {
        self.check(true)
    }

    /// Part way through the read (before a `--commit-every` part commits): an error when the
    /// file's size or modification time is not what it was when it was opened, or more bytes
    /// were read than it had, so no part read from a changed file is committed.
    pub fn check_unchanged_so_far(&self) -> Result<(), InputError> {
        self.check(false)
    }

    fn check(&self, complete: bool) -> Result<(), InputError> {
        let Some(w) = &self.watch else {
            return Ok(());
        };
        let read = self.state.lock().expect("digest lock").1;
        let now = w.file.metadata().map_err(|error| InputError::Open {
            path: self.name.clone(),
            error,
        })?;
        let what = if now.len() != w.len {
            format!(
                "it was {} bytes when the import started and is {} bytes now",
                w.len,
                now.len()
            )
        } else if read > w.len || (complete && read != w.len) {
            format!("it is {} bytes but {read} bytes were read", w.len)
        } else if now.modified().ok() != w.modified {
            "it was modified (same size, new modification time)".to_string()
        } else {
            return Ok(());
        };
        Err(InputError::Changed {
            path: self.name.clone(),
            what,
        })
    }

    /// The hex digest and the byte count of what was read so far.
    pub fn finish(&self) -> (String, u64) {
        let guard = self.state.lock().expect("digest lock");
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
        let mut guard = self.digest.state.lock().expect("digest lock");
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
