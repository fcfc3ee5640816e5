//! Output files that can never destroy an input: a path that is the same file as an input or
//! the database (compared by device and inode, and by resolved path for files not created
//! yet, after following links) is refused before anything is opened for writing, and a report
//! is written to a temporary file beside its target, renamed into place only once complete.

use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Files no output may be: the inputs and the database's files.
pub struct Protected {
    files: Vec<ProtectedFile>,
}

/// A file no output may be: its resolved path, its device and inode when it exists, and what
/// it is, for the refusal.
struct ProtectedFile {
    path: PathBuf,
    id: Option<(u64, u64)>,
    what: String,
}

/// A path with its links followed: the file itself when it exists, else its resolved directory
/// and its name (a dangling link's target when it is one).
fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let target = match std::fs::read_link(path) {
        Ok(t) => dir.map_or(t.clone(), |d| d.join(t)),
        Err(_) => path.to_path_buf(),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(dir), target.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => target,
    }
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl Protected {
    /// `inputs` as named on the command line (`-`, stdin, is skipped) and the database files.
    pub fn new(inputs: &[String], database: Vec<PathBuf>) -> Protected {
        let inputs = inputs
            .iter()
            .filter(|p| p.as_str() != "-")
            .map(|p| (PathBuf::from(p), format!("the input {p}")));
        let database = database.into_iter().map(|p| {
            let what = format!("the database file {}", p.display());
            (p, what)
        });
        Protected {
            files: inputs
                .chain(database)
                .map(|(p, what)| ProtectedFile {
                    path: resolve(&p),
                    id: identity(&p),
                    what,
                })
                .collect(),
        }
    }

    /// Refuses an output path that is one of the protected files.
    pub fn check(&self, out: &str) -> Result<(), String> {
        let path = Path::new(out);
        let (resolved, id) = (resolve(path), identity(path));
        for f in &self.files {
            // A protected directory (the run locks') protects what it holds.
            if resolved.starts_with(&f.path) || (id.is_some() && id == f.id) {
                return Err(format!(
                    "{out} is {}: writing the report there would destroy it; name another file",
                    f.what
                ));
            }
        }
        if path.is_dir() {
            return Err(format!(
                "{out} is a directory; name a file to write the report to"
            ));
        }
        Ok(())
    }
}

/// A report being written: a temporary file beside its target until [`OutputFile::commit`].
pub struct OutputFile {
    out: BufWriter<tempfile::NamedTempFile>,
    target: PathBuf,
}

impl OutputFile {
    /// Starts the report for `path` (checked against `protected` first).
    pub fn create(path: &str, protected: &Protected) -> Result<OutputFile, String> {
        protected.check(path)?;
        let target = resolve(Path::new(path));
        let dir = target.parent().unwrap_or(Path::new("."));
        let temp = tempfile::Builder::new()
            .prefix(".ebay-import-")
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(|e| format!("cannot create {path}: {e}"))?;
        Ok(OutputFile {
            out: BufWriter::new(temp),
            target,
        })
    }

    /// Flushes the report and renames it into place.
    pub fn commit(self) -> io::Result<()> {
        let temp = self.out.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        temp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_or_the_database_under_any_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "a\n").unwrap();
        let db = dir.path().join("t.db");
        std::fs::write(&db, "db").unwrap();
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&input, &hard).unwrap();
        let soft = dir.path().join("soft.csv");
        std::os::unix::fs::symlink(&db, &soft).unwrap();
        let wal = dir.path().join("t.db-wal");
        let p = Protected::new(
            &[input.display().to_string()],
            vec![db.clone(), wal.clone()],
        );
        for bad in [&input, &hard, &soft, &db, &wal] {
            assert!(p.check(&bad.display().to_string()).is_err(), "{bad:?}");
        }
        let dotted = format!("{}/./in.csv", dir.path().display());
        assert!(p.check(&dotted).is_err());
        assert!(p
            .check(&dir.path().join("rejects.csv").display().to_string())
            .is_ok());
        assert!(
            p.check(&dir.path().display().to_string()).is_err(),
            "a directory"
        );
    }

    #[test]
    fn a_report_replaces_its_target_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.csv");
        std::fs::write(&target, "good old report\n").unwrap();
        let none = Protected::new(&[], Vec::new());
        let path = target.display().to_string();
        let mut half = OutputFile::create(&path, &none).unwrap();
        half.write_all(b"half").unwrap();
        drop(half);
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "good old report\n"
        );
        let mut whole = OutputFile::create(&path, &none).unwrap();
        whole.write_all(b"new report\n").unwrap();
        whole.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new report\n");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file stays behind");
    }
}
