//! Where a geodatabase's files are ([`GdbDir`]): a folder on disk, a folder inside a zip
//! archive (members read into memory one table at a time) or files in memory (the fuzz
//! target). A file is asked for by name, in any case.

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::PathBuf;

use crate::error::LayerError;
use crate::io::{ReadSeek, archive};

/// Where a geodatabase's files are.
#[derive(Debug, Clone)]
pub enum GdbDir {
    /// A `.gdb` folder on disk.
    Disk(PathBuf),
    /// A `.gdb` folder inside a zip archive: `prefix` is the folder's member path with its
    /// trailing `/` (empty when the table files are at the archive's root).
    Zip { archive: PathBuf, prefix: String },
    /// Files in memory (`name` is what messages call the geodatabase).
    Memory {
        name: PathBuf,
        files: Vec<(String, Vec<u8>)>,
    },
}

impl GdbDir {
    /// The geodatabase as messages show it: `x.gdb`, or `archive.zip/x.gdb`.
    pub fn shown(&self) -> PathBuf {
        match self {
            GdbDir::Disk(p) => p.clone(),
            GdbDir::Zip { archive, prefix } => archive.join(prefix.trim_end_matches('/')),
            GdbDir::Memory { name, .. } => name.clone(),
        }
    }

    /// Whether the folder holds the file `name` (any case), without reading it.
    pub(super) fn has(&self, name: &str) -> Result<bool, LayerError> {
        match self {
            GdbDir::Disk(dir) => {
                Ok(dir.join(name).is_file() || dir.join(name.to_ascii_uppercase()).is_file())
            }
            GdbDir::Zip { archive, prefix } => {
                archive::has_member_named(archive, &format!("{prefix}{name}"))
            }
            GdbDir::Memory { files, .. } => {
                Ok(files.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
            }
        }
    }

    /// The first `n` bytes (or fewer) of the file `name` (any case), `None` when the folder
    /// lacks it: a table's header without reading (or unpacking) its rows.
    pub(super) fn head(&self, name: &str, n: usize) -> Result<Option<Vec<u8>>, LayerError> {
        match self {
            GdbDir::Zip { archive, prefix } => {
                archive::read_member_head(archive, &format!("{prefix}{name}"), n as u64)
            }
            _ => match self.open(name)? {
                Some((src, _)) => {
                    let mut b = Vec::new();
                    src.take(n as u64)
                        .read_to_end(&mut b)
                        .map_err(|e| LayerError::io(&self.shown().join(name), e))?;
                    Ok(Some(b))
                }
                None => Ok(None),
            },
        }
    }

    /// The file `name` (any case) with its length, or `None` when the folder lacks it.
    /// Up to `n` bytes of the file `name` from byte `at` (`None`: no such file).
    pub(super) fn range(
        &self,
        name: &str,
        at: u64,
        n: usize,
    ) -> Result<Option<Vec<u8>>, LayerError> {
        if let GdbDir::Zip { .. } = self {
            // A member is read from its start anyway (it is compressed).
            let head = self.head(
                name,
                usize::try_from(at).unwrap_or(usize::MAX).saturating_add(n),
            )?;
            return Ok(head.map(|h| h.get(at as usize..).map(<[u8]>::to_vec).unwrap_or_default()));
        }
        let Some((mut src, len)) = self.open(name)? else {
            return Ok(None);
        };
        if at >= len {
            return Ok(Some(Vec::new()));
        }
        let shown = self.shown().join(name);
        src.seek(std::io::SeekFrom::Start(at))
            .map_err(|e| LayerError::io(&shown, e))?;
        let mut b = Vec::new();
        src.take(n as u64)
            .read_to_end(&mut b)
            .map_err(|e| LayerError::io(&shown, e))?;
        Ok(Some(b))
    }

    pub(super) fn open(&self, name: &str) -> Result<Option<Opened>, LayerError> {
        match self {
            GdbDir::Disk(dir) => {
                let mut path = dir.join(name);
                if !path.is_file() {
                    path = dir.join(name.to_ascii_uppercase());
                    if !path.is_file() {
                        return Ok(None);
                    }
                }
                let file = File::open(&path).map_err(|e| LayerError::io(&path, e))?;
                let len = file.metadata().map_err(|e| LayerError::io(&path, e))?.len();
                Ok(Some((Box::new(file), len)))
            }
            GdbDir::Zip { archive, prefix } => {
                let wanted = format!("{prefix}{name}");
                match archive::read_member_named(archive, &wanted)? {
                    Some(bytes) => {
                        let len = bytes.len() as u64;
                        Ok(Some((Box::new(Cursor::new(bytes)), len)))
                    }
                    None => Ok(None),
                }
            }
            GdbDir::Memory { files, .. } => Ok(files
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, b)| {
                    let len = b.len() as u64;
                    (Box::new(Cursor::new(b.clone())) as Box<dyn ReadSeek>, len)
                })),
        }
    }
}

/// A file of a geodatabase opened for reading, with its length.
type Opened = (Box<dyn ReadSeek>, u64);
