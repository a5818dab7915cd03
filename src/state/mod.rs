//! The state database (SPEC §10): the one module that owns SQLite.
//!
//! One file in WAL mode with a busy timeout, migrated forward on open. A file that is not a
//! database (or is corrupt) is moved aside and replaced; a file that cannot be written is fatal.

pub mod lock;
pub mod records;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use records::*;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Store {
    pub conn: Connection,
    pub path: PathBuf,
    /// Where a corrupt database was moved, when this open had to start afresh.
    pub recovered_from: Option<PathBuf>,
}

impl Store {
    /// Opens (creating it and its folder when missing) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create state directory {}: {e}", dir.display()))?;
        }
        match open_and_migrate(path) {
            Ok(conn) => Ok(Store { conn, path: path.to_path_buf(), recovered_from: None }),
            Err(err) if is_corruption(&err) => {
                let aside = move_aside(path)?;
                log::error!(
                    "state database {} is corrupt ({err}); moved it to {} and started a new one",
                    path.display(),
                    aside.display()
                );
                let conn = open_and_migrate(path).map_err(|e| describe(path, &e))?;
                Ok(Store { conn, path: path.to_path_buf(), recovered_from: Some(aside) })
            }
            Err(err) => Err(describe(path, &err)),
        }
    }

    /// Opens an existing database for reading only (for commands that must not write).
    pub fn open_read_only(path: &Path) -> Result<Option<Store>, String> {
        if !path.exists() {
            return Ok(None);
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| describe(path, &e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| describe(path, &e))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| describe(path, &e))?;
        if version != schema::MIGRATIONS.len() as i64 {
            return Err(format!(
                "state database {} is at schema version {version}; run `edge-mining run` once to migrate it",
                path.display()
            ));
        }
        Ok(Some(Store { conn, path: path.to_path_buf(), recovered_from: None }))
    }

    /// A fresh database in memory, for read-only commands when no state file exists yet.
    pub fn in_memory() -> Result<Store, String> {
        let mut conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        migrate(&mut conn).map_err(|e| e.to_string())?;
        Ok(Store { conn, path: PathBuf::from(":memory:"), recovered_from: None })
    }

    /// The database for a command that only reads: the file when it exists, else an empty one.
    pub fn for_reading(path: &Path) -> Result<Store, String> {
        match Store::open_read_only(path)? {
            Some(store) => Ok(store),
            None => Store::in_memory(),
        }
    }

    /// Runs `work` in one transaction: all of it is written, or none.
    pub fn transaction<T>(&mut self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let tx = self.conn.transaction().map_err(|e| describe(&self.path, &e))?;
        let value = work(&tx).map_err(|e| describe(&self.path, &e))?;
        tx.commit().map_err(|e| describe(&self.path, &e))?;
        Ok(value)
    }
}

fn open_and_migrate(path: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Room for every statement a cycle prepares, so none is parsed twice in one process
/// (`simulate` runs hundreds of cycles on one connection).
const STATEMENT_CACHE: usize = 128;

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?.try_into().unwrap_or(0);
    if version > schema::MIGRATIONS.len() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!(
                "schema version {version} is newer than this build understands ({})",
                schema::MIGRATIONS.len()
            )),
        ));
    }
    for (index, migration) in schema::MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn is_corruption(err: &rusqlite::Error) -> bool {
    matches!(err.sqlite_error_code(), Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt))
}

/// Renames a corrupt database (and its WAL files) to `<name>.corrupt-<unix seconds>`.
fn move_aside(path: &Path) -> Result<PathBuf, String> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let with_suffix = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let aside = with_suffix(&format!(".corrupt-{stamp}"));
    std::fs::rename(path, &aside).map_err(|e| format!("cannot move corrupt database {} aside: {e}", path.display()))?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::rename(with_suffix(suffix), with_suffix(&format!(".corrupt-{stamp}{suffix}")));
    }
    Ok(aside)
}

fn describe(path: &Path, err: &rusqlite::Error) -> String {
    format!("state database {}: {err}", path.display())
}
