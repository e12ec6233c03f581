//! Writing a file atomically: into a temporary file in the same folder, flushed and synced,
//! then renamed over the target, so a failed write never leaves half a file and never
//! loses the file that was there. Every file soilrisk writes (exports, tables, ledgers)
//! goes through here.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::ExportError;

/// Writes `path` through `write`, atomically: a temporary file in the same folder, flushed
/// and synced, then renamed over `path`.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<(), ExportError> {
    let err = |source| ExportError {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temporary(path);
    let result = (|| {
        let file = SyncEvery {
            file: File::create(&tmp)?,
            unsynced: 0,
        };
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?.file;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Writes `path` atomically through `write`, which creates and fills the file at the path it
/// is given (a temporary file in the same folder; for writers that need a path, such as
/// SQLite), then synced and renamed over `path`.
pub fn write_atomic_path(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), ExportError> {
    let tmp = temporary(path);
    let result = (|| {
        let _ = std::fs::remove_file(&tmp);
        write(&tmp)?;
        // Opened for writing: Windows flushes only a handle with write access.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)?
            .sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|source| ExportError {
        path: path.to_path_buf(),
        source,
    })
}

/// The temporary file a write of `path` goes through: hidden, beside it, named after the
/// process so two runs writing one folder do not meet.
fn temporary(path: &Path) -> PathBuf {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// A file synced to disk every `SYNC_EVERY` bytes while it is written, on the thread that
/// writes it: the disk then works while the rest is formatted, and the final sync of a
/// large GeoJSON waits for its last stretch only.
struct SyncEvery {
    file: File,
    unsynced: usize,
}

const SYNC_EVERY: usize = 32 << 20;

impl Write for SyncEvery {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n;
        if self.unsynced >= SYNC_EVERY {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
