//! A table file opened ([`Table`]): its 40-byte header and field list ([`Schema`], all a
//! row's decoding needs), its row index, and its rows read in object-id order through a
//! window of the file kept in memory.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::bytes::Bytes;
use super::dir::GdbDir;
use super::fields::{Column, GeometryDef, parse_fields};
use super::index::Index;
use crate::error::LayerError;
use crate::io::ReadSeek;

/// A table file opened: header parsed, its index read, rows still in the file.
pub(super) struct Table {
    pub(super) schema: Schema,
    src: Box<dyn ReadSeek>,
    file_len: u64,
    pub(super) index: Index,
    /// Next object id minus one.
    pub(super) next: u64,
    /// A window of the table file kept in memory: `window_at` is its offset.
    window: Vec<u8>,
    window_at: u64,
}

/// What a table's header says: all a row's decoding needs.
pub(super) struct Schema {
    /// The layer as messages name it: `x.gdb/LAYER`.
    shown: PathBuf,
    /// `a00000009.gdbtable`, for messages.
    pub(super) file: String,
    /// Geometry type of the table: 0 none, 1 point, 2 multipoint, 3 line, 4 polygon, 9
    /// multipatch.
    pub(super) geometry_type: u8,
    pub(super) columns: Vec<Column>,
    /// The attribute fields (columns without the object id and shape).
    pub(super) fields: Vec<Field>,
    pub(super) geometry: Option<GeometryDef>,
    pub(super) nullable: usize,
    pub(super) valid_rows: u64,
}

/// An attribute field and its slot in `Column`s.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) slot: Option<usize>,
}

const WINDOW: usize = 4 << 20;

impl Table {
    /// Opens table `stem` of `dir`: header, fields and index.
    pub(super) fn open(dir: &GdbDir, stem: &str, shown: PathBuf) -> Result<Table, LayerError> {
        let file = format!("{stem}.gdbtable");
        let (mut src, file_len) = dir.open(&file)?.ok_or_else(|| {
            LayerError::format(&shown, format!("{file} is missing from the geodatabase"))
        })?;
        let fail = |reason: String| LayerError::format(&shown, format!("{file}: {reason}"));
        let io = |e: std::io::Error| LayerError::format(&shown, format!("{file}: {e}"));
        let mut head = [0u8; 40];
        src.read_exact(&mut head).map_err(|_| {
            fail(format!(
                "not a table file ({file_len} bytes, shorter than the 40-byte header)"
            ))
        })?;
        let mut h = Bytes::new(&head);
        let magic = h.u32().map_err(fail)?;
        if magic != 3 {
            return Err(fail(format!(
                "unsupported table version {magic} (soilrisk reads File Geodatabases of \
                 ArcGIS 10 and GDAL; 64-bit object ids of ArcGIS Pro 3.2 are not read)"
            )));
        }
        let valid_rows = u64::from(h.u32().map_err(fail)?);
        let _ = h.take(24);
        let fields_at = h.u64().map_err(fail)?;
        if fields_at.checked_add(14).is_none_or(|e| e > file_len) {
            return Err(fail(format!(
                "the field list is said to start at byte {fields_at} of {file_len}; the file is truncated or damaged"
            )));
        }
        src.seek(SeekFrom::Start(fields_at)).map_err(io)?;
        let mut size = [0u8; 4];
        src.read_exact(&mut size).map_err(io)?;
        let size = u64::from(u32::from_le_bytes(size));
        if size > file_len - fields_at - 4 {
            return Err(fail(format!(
                "the field list claims {size} bytes but the file ends before; it is truncated or damaged"
            )));
        }
        let mut desc = Vec::with_capacity(size as usize);
        (&mut src).take(size).read_to_end(&mut desc).map_err(io)?;
        let parsed = parse_fields(&desc).map_err(|r| fail(format!("field list: {r}")))?;
        let (geometry_type, columns, geometry) = parsed;
        let nullable = columns.iter().filter(|c| c.nullable).count();
        let fields = columns
            .iter()
            .filter(|c| c.slot.is_some())
            .map(|c| Field {
                name: c.name.clone(),
                slot: c.slot,
            })
            .collect();

        let xfile = format!("{stem}.gdbtablx");
        let (mut xsrc, xlen) = dir.open(&xfile)?.ok_or_else(|| {
            LayerError::format(
                &shown,
                format!("{xfile} (the row index of {file}) is missing from the geodatabase"),
            )
        })?;
        let mut xbytes = Vec::with_capacity(xlen.min(1 << 30) as usize);
        xsrc.read_to_end(&mut xbytes)
            .map_err(|e| LayerError::format(&shown, format!("{xfile}: {e}")))?;
        let index = Index::parse(xbytes, &xfile).map_err(|r| LayerError::format(&shown, r))?;
        Ok(Table {
            schema: Schema {
                shown,
                file,
                geometry_type,
                columns,
                fields,
                geometry,
                nullable,
                valid_rows,
            },
            src,
            file_len,
            index,
            next: 0,
            window: Vec::new(),
            window_at: 0,
        })
    }

    /// `n` bytes of the table file at `at`, through the window: their range in `window`.
    fn bytes_at(&mut self, at: u64, n: usize) -> Result<std::ops::Range<usize>, LayerError> {
        self.fill(at, n).map_err(|e| {
            LayerError::format(&self.schema.shown, format!("{}: {e}", self.schema.file))
        })
    }

    fn fill(&mut self, at: u64, n: usize) -> Result<std::ops::Range<usize>, std::io::Error> {
        let inside =
            at >= self.window_at && at + n as u64 <= self.window_at + self.window.len() as u64;
        if !inside {
            let len = (n.max(WINDOW) as u64).min(self.file_len.saturating_sub(at));
            self.src.seek(SeekFrom::Start(at))?;
            self.window.clear();
            (&mut self.src).take(len).read_to_end(&mut self.window)?;
            self.window_at = at;
            if self.window.len() < n {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        let s = (at - self.window_at) as usize;
        Ok(s..s + n)
    }

    /// Appends the next present row to `buf`: its object id and span in `buf`; `None` after
    /// the last. Deleted rows are skipped.
    pub(super) fn next_row(
        &mut self,
        buf: &mut Vec<u8>,
    ) -> Result<Option<(u64, usize, usize)>, LayerError> {
        while self.next < self.index.rows {
            let i = self.next;
            let oid = i + 1;
            let offset = match self.index.offset(i) {
                Ok(o) => o,
                Err(skip_to) => {
                    self.next = skip_to.max(i + 1);
                    continue;
                }
            };
            self.next += 1;
            if offset == 0 {
                continue;
            }
            let file_len = self.file_len;
            let truncated = |len: u64| {
                format!(
                    "the row at byte {offset} claims {len} bytes but the file is {file_len} bytes long; it is truncated or damaged",
                )
            };
            if offset.checked_add(4).is_none_or(|e| e > self.file_len) {
                return Err(self.schema.row_error(oid, truncated(4)));
            }
            let r = self.bytes_at(offset, 4)?;
            let head = &self.window[r];
            let len = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
            if len < 0 {
                // Space of a deleted row.
                continue;
            }
            let len = len as u64;
            if offset + 4 + len > self.file_len {
                return Err(self.schema.row_error(oid, truncated(len)));
            }
            let r = self.bytes_at(offset + 4, len as usize)?;
            let a = buf.len();
            buf.extend_from_slice(&self.window[r]);
            return Ok(Some((oid, a, buf.len())));
        }
        Ok(None)
    }
}

impl Schema {
    pub(super) fn row_error(&self, oid: u64, reason: String) -> LayerError {
        LayerError::record(
            &self.shown,
            oid as usize,
            format!("{}: {reason}", self.file),
        )
    }
}
