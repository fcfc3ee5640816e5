//! SQLite's job run locks: one file per running job beside the database, locked (`flock`)
//! by the process that runs the job. The operating system lets go of it when that process
//! ends however it ends, so any process that can open the database can tell a running job
//! from one whose process died, whatever host it ran on (flock works across NFS clients, as
//! SQLite's own locks must).

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The run locks of one database, and those this process holds.
pub(crate) struct RunLocks {
    dir: PathBuf,
    held: HashMap<Uuid, File>,
}

impl RunLocks {
    /// The lock directory of the database at `db`: `<db>-locks`.
    pub(crate) fn dir_of(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push("-locks");
        PathBuf::from(name)
    }

    /// The run locks of the database file at `db`, however it is named: beside the file a
    /// link names, with the directories resolved, so every name of one database (a link to
    /// it, a relative path from elsewhere) shares one set of locks.
    pub(crate) fn new(db: &Path) -> RunLocks {
        RunLocks {
            dir: Self::dir_of(&resolved(db)),
            held: HashMap::new(),
        }
    }

    fn file_of(&self, job: Uuid) -> PathBuf {
        self.dir.join(format!("job-{job}"))
    }

    /// The directory of the lock files.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The error of a lock file that cannot be made or locked: the database cannot be used.
    pub(crate) fn unusable(&self, e: io::Error) -> crate::StoreError {
        crate::StoreError::Unusable(format!(
            "cannot use the lock directory {}: {e}",
            self.dir.display()
        ))
    }

    /// Removes the lock file a dead job's process left, unless someone holds it meanwhile.
    pub(crate) fn remove_stale(&mut self, job: Uuid) {
        if let Ok(true) = self.try_claim(job) {
            self.release(job);
        }
    }

    /// Takes `job`'s lock unless another process holds it.
    pub(crate) fn try_claim(&mut self, job: Uuid) -> io::Result<bool> {
        if self.held.contains_key(&job) {
            return Ok(true);
        }
        std::fs::create_dir_all(&self.dir)?;
        let path = self.file_of(job);
        loop {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            match file.try_lock() {
                // The holder removes the file before it lets go: a lock on a file no longer at
                // the path is no lock at all, so take the new one.
                Ok(()) if !is_at(&file, &path) => continue,
                Ok(()) => {
                    self.held.insert(job, file);
                    return Ok(true);
                }
                Err(TryLockError::WouldBlock) => return Ok(false),
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
    }

    /// Lets go of `job`'s lock and removes its file (while still holding it, so no process
    /// takes a lock on a file about to go).
    pub(crate) fn release(&mut self, job: Uuid) {
        if let Some(file) = self.held.remove(&job) {
            let _ = std::fs::remove_file(self.file_of(job));
            drop(file);
        }
    }

    /// Whether some process (this one included) holds `job`'s lock. Opens the file read-only,
    /// so it works on a database that may not be written.
    pub(crate) fn is_held(&self, job: Uuid) -> bool {
        if self.held.contains_key(&job) {
            return true;
        }
        match File::open(self.file_of(job)) {
            Ok(file) => matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }

    /// The lock that keeps two processes from migrating the database at once, unless another
    /// process holds it (the caller waits for it as for another writer).
    pub(crate) fn try_migration_lock(&self) -> io::Result<Option<File>> {
        std::fs::create_dir_all(&self.dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("migrate"))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

/// The file `path` names with its links followed; a file not there yet is its resolved
/// directory and its name.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::canonicalize(dir).map_or_else(|_| path.to_path_buf(), |d| d.join(name))
        }
        _ => path.to_path_buf(),
    }
}

/// Whether `path` names the file `file` has open.
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_seen_from_another_handle_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut mine = RunLocks::new(&db);
        let mut other = RunLocks::new(&db);
        let job = Uuid::now_v7();
        assert!(!other.is_held(job));
        assert!(mine.try_claim(job).unwrap());
        assert!(other.is_held(job));
        assert!(!other.try_claim(job).unwrap(), "one holder at a time");
        mine.release(job);
        assert!(!other.is_held(job));
        assert!(other.try_claim(job).unwrap());
        assert!(RunLocks::dir_of(&db).ends_with("t.db-locks"));
    }

    #[test]
    fn a_link_to_the_database_shares_its_locks() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        std::fs::write(&db, "").unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        let mut mine = RunLocks::new(&db);
        let other = RunLocks::new(&link);
        let job = Uuid::now_v7();
        assert!(mine.try_claim(job).unwrap());
        assert!(other.is_held(job), "held, seen through the link");
    }
}
