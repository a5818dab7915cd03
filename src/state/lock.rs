//! The run lock: an OS file lock beside the database, so overlapping invocations never both
//! act. The kernel releases it when the holder dies, so a dead process never blocks.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Held for the life of the value.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug)]
pub enum LockError {
    /// Another invocation holds it.
    Busy,
    /// The lock file cannot be created or locked.
    Io(String),
}

/// `<database>.lock`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock without waiting.
pub fn acquire(database: &Path) -> Result<RunLock, LockError> {
    let path = lock_path(database);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| LockError::Io(format!("cannot open lock file {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(LockError::Busy),
        Err(TryLockError::Error(e)) => return Err(LockError::Io(format!("cannot lock {}: {e}", path.display()))),
    }
    // The holder's pid, for a person looking at the file; the lock itself is what counts.
    let _ = file.set_len(0).and_then(|_| writeln!(file, "{}", std::process::id()));
    Ok(RunLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let first = acquire(&db).unwrap();
        assert!(matches!(acquire(&db), Err(LockError::Busy)));
        drop(first);
        assert!(acquire(&db).is_ok());
    }
}
