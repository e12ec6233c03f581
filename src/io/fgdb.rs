//! Reading ESRI File Geodatabases (`folder.gdb`, read only): the land survey's deliverable
//! format. Written by hand because no Rust crate reads the format (the `gdal` crate binds the C
//! library, which soilrisk does not link); the facts come from Even Rouault's published
//! reverse-engineered description (the "FGDB Spec" of `dump_gdbtable`) and GDAL's
//! `OpenFileGDB` driver documentation.
//!
//! A geodatabase is a folder of tables. Table `N` is the pair `aNNNNNNNN.gdbtable` (rows) and
//! `aNNNNNNNN.gdbtablx` (the offset of each row by object id, 0 for a deleted row), `N` in
//! lower-case hex. Table 1 is the catalog: one row per table, its object id naming the files
//! and its `Name` the layer, whether the table sits at the root or in a feature dataset (so a
//! layer of a feature dataset is found by its own name; `x.gdb/DATASET/LAYER` is accepted too).
//! Tables named `GDB_*` are the geodatabase's own and are not listed.
//!
//! What is read, and how:
//! - field names are UTF-16 in the table's header and kept exactly (Chinese included); text
//!   values are UTF-8;
//! - integers and reals are `Number`; dates (days since 1899-12-30) are `Date` in ISO form,
//!   `YYYY-MM-DD`, with `THH:MM:SS` when the time is not midnight; GUIDs are text as GDAL
//!   writes them (`{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`); XML is text; binary (blob)
//!   fields are listed but always read as null; a table with a raster field is refused;
//! - polygon shapes (plain, Z, M, ZM and general polygons): x and y, Z and M dropped;
//!   circular arcs and cubic Béziers are densified (arcs by at most 4° a step, Béziers in 100
//!   steps, as GDAL does); an elliptic arc is taken as its chord, with a warning; rings are
//!   assembled and repaired as a shapefile's are (`rings::assemble`);
//! - the CRS is the geometry field's WKT (ESRI's), through `Crs::from_prj`;
//! - point, line, multipoint and multipatch layers and tables without geometry are refused by
//!   name (`LayerError::NotPolygons`).
//!
//! `folder.gdb` alone opens its one polygon layer; with several, the error lists them.
//! `layers()` lists every table of the catalog (as `ogrinfo` does), so a refusal can be
//! named. Rows are read in object-id order a batch at a time (`ReadOptions::batch_bytes`) and
//! decoded in parallel; `Feature::record` is the object id. Every count and offset read from
//! a file is checked against the file's length before use: damage is a `LayerError` naming
//! the layer (`x.gdb/LAYER`), the table file and the row, never a panic or an allocation
//! sized by the file's claims.
//!
//! The files come through [`GdbDir`]: a folder on disk, a folder inside a zip archive
//! (members read into memory one table at a time) or files in memory (the fuzz target).

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo::Coord;
use rayon::prelude::*;

use super::formats::{Beside, LayerFormat};
use super::rings::{RingNotes, assemble};
use super::shp::Part;
use super::{LayerReader, ReadOptions, ReadSeek, archive};
use crate::crs::Crs;
use crate::error::LayerError;
use crate::layer::{Feature, FieldDef, FieldKind, Layer, Value, find_field};

/// The File Geodatabase format of the registry.
pub struct FileGdb;

impl LayerFormat for FileGdb {
    fn name(&self) -> &'static str {
        "OpenFileGDB"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["gdb"]
    }
    fn is_container(&self) -> bool {
        true
    }
    fn is_folder(&self) -> bool {
        true
    }
    fn files_inside(&self) -> &'static [&'static str] {
        &["gdbtable"]
    }
    fn layers(&self, path: &Path) -> Result<Vec<String>, LayerError> {
        let dir = GdbDir::Disk(path.to_path_buf());
        Ok(catalog(&dir)?.into_iter().map(|t| t.name).collect())
    }
    fn open(
        &self,
        main: Part,
        _beside: &mut Beside<'_>,
        layer: Option<&str>,
        opts: &ReadOptions,
    ) -> Result<LayerReader, LayerError> {
        match main {
            Part::File(path) => open_layer(GdbDir::Disk(path), layer, opts),
            Part::Bytes { name, .. } => Err(LayerError::format(
                &name,
                "a File Geodatabase is a folder, not one file",
            )),
        }
    }
}

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
    fn has(&self, name: &str) -> Result<bool, LayerError> {
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
    fn head(&self, name: &str, n: usize) -> Result<Option<Vec<u8>>, LayerError> {
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
    fn open(&self, name: &str) -> Result<Option<Opened>, LayerError> {
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

/// One table of the catalog: its layer name and the stem of its files (`a00000009`).
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub name: String,
    pub stem: String,
}

/// The user tables of a geodatabase, in catalog order (the `GDB_*` system tables and tables
/// whose files are missing left out).
pub fn catalog(dir: &GdbDir) -> Result<Vec<CatalogEntry>, LayerError> {
    let shown = dir.shown();
    let mut table = Table::open(dir, "a00000001", shown.clone())?;
    let name_at = table.schema.fields.iter().position(|f| f.name == "Name");
    let Some(name_at) = name_at else {
        return Err(LayerError::format(
            &shown,
            "not a File Geodatabase (its catalog a00000001.gdbtable has no Name field)",
        ));
    };
    let wanted: Vec<bool> = (0..table.schema.fields.len())
        .map(|i| i == name_at)
        .collect();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let Some((oid, a, b)) = table.next_row(&mut buf)? else {
            break;
        };
        let row = decode_row(&table.schema, &wanted, &buf[a..b], false, &[])
            .map_err(|reason| table.schema.row_error(oid, reason))?;
        let name = match row
            .values
            .get(table.schema.fields[name_at].slot.unwrap_or(usize::MAX))
        {
            Some(Value::Text(t)) => t.to_string(),
            _ => continue,
        };
        if name.starts_with("GDB_") || name.is_empty() {
            continue;
        }
        let stem = format!("a{oid:08x}");
        if dir.has(&format!("{stem}.gdbtable"))? {
            out.push(CatalogEntry { name, stem });
        }
    }
    Ok(out)
}

/// The catalog entry a layer name picks: the exact name, else ignoring case (the format's
/// names are case-insensitive); `DATASET/LAYER` and `\DATASET\LAYER` name `LAYER`.
fn find_entry<'a>(entries: &'a [CatalogEntry], layer: &str) -> Option<&'a CatalogEntry> {
    let name = layer
        .trim_matches(|c| c == '/' || c == '\\')
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(layer);
    entries
        .iter()
        .find(|e| e.name == name)
        .or_else(|| entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)))
}

/// The polygon layers of a geodatabase, by name: the tables whose header says polygons and
/// parses (a damaged one is left for opening it by name to explain).
pub fn polygon_layers(dir: &GdbDir) -> Result<Vec<String>, LayerError> {
    let mut out = Vec::new();
    for e in catalog(dir)? {
        if geometry_type(dir, &e.stem)? == Some(4) {
            out.push(e.name);
        }
    }
    Ok(out)
}

/// The geometry type a table's header declares, read from the start of its file (the field
/// list follows the 40-byte header in the files ArcGIS and GDAL write); `None` when it cannot
/// be told.
fn geometry_type(dir: &GdbDir, stem: &str) -> Result<Option<u8>, LayerError> {
    const HEAD: usize = 1 << 16;
    let Some(head) = dir.head(&format!("{stem}.gdbtable"), HEAD)? else {
        return Ok(None);
    };
    let mut c = Bytes::new(&head);
    let parsed = (|| -> Result<u8, String> {
        if c.u32()? != 3 {
            return Err("version".into());
        }
        c.take(28)?;
        let at = usize::try_from(c.u64()?).map_err(|_| SHORT)?;
        let desc = head.get(at.checked_add(4).ok_or(SHORT)?..).ok_or(SHORT)?;
        Ok(parse_fields(desc)?.0)
    })();
    Ok(parsed.ok())
}

/// Opens the layer `layer` of the geodatabase in `dir` (its only polygon layer when `None`).
pub fn open_layer(
    dir: GdbDir,
    layer: Option<&str>,
    opts: &ReadOptions,
) -> Result<LayerReader, LayerError> {
    let shown = dir.shown();
    let entries = catalog(&dir)?;
    let entry = match layer {
        Some(l) => find_entry(&entries, l).ok_or_else(|| {
            let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
            LayerError::format(
                &shown.join(l),
                format!(
                    "no such layer in the geodatabase (it holds: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })?,
        None => {
            let polygons = polygon_layers(&dir)?;
            match polygons.as_slice() {
                [one] => find_entry(&entries, one).ok_or_else(|| {
                    LayerError::format(&shown, "the catalog changed while it was read")
                })?,
                [] => {
                    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
                    return Err(LayerError::format(
                        &shown,
                        format!(
                            "the geodatabase holds no polygon layer (it holds: {})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    ));
                }
                _ => {
                    return Err(LayerError::SeveralLayers {
                        path: shown,
                        members: polygons,
                    });
                }
            }
        }
    };
    let shown_layer = shown.join(&entry.name);
    FgdbReader::open(&dir, &entry.stem, shown_layer, opts).map(LayerReader::new)
}

/// Reads one table given as its two files in memory, as a layer: for the fuzz target and
/// tests of the decoder.
pub fn read_table_bytes(
    name: &Path,
    gdbtable: Vec<u8>,
    gdbtablx: Vec<u8>,
    opts: &ReadOptions,
) -> Result<Layer, LayerError> {
    let dir = GdbDir::Memory {
        name: name.to_path_buf(),
        files: vec![
            ("a00000009.gdbtable".into(), gdbtable),
            ("a00000009.gdbtablx".into(), gdbtablx),
        ],
    };
    LayerReader::new(FgdbReader::open(
        &dir,
        "a00000009",
        name.to_path_buf(),
        opts,
    )?)
    .read_all()
}

// Field type codes of the format.
const T_INT16: u8 = 0;
const T_INT32: u8 = 1;
const T_FLOAT32: u8 = 2;
const T_FLOAT64: u8 = 3;
const T_STRING: u8 = 4;
const T_DATETIME: u8 = 5;
const T_OBJECTID: u8 = 6;
const T_GEOMETRY: u8 = 7;
const T_BINARY: u8 = 8;
const T_RASTER: u8 = 9;
const T_GUID: u8 = 10;
const T_GLOBALID: u8 = 11;
const T_XML: u8 = 12;
const T_INT64: u8 = 13;
const T_DATE: u8 = 14;
const T_TIME: u8 = 15;
const T_DATETIME_OFFSET: u8 = 16;

/// A column of a table as its header describes it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: u8,
    nullable: bool,
    /// Its place among the layer's attribute fields (`None` for the object id and the shape).
    slot: Option<usize>,
}

/// The geometry column's coordinate system and precision.
#[derive(Debug, Clone, Default)]
struct GeometryDef {
    wkt: String,
    x_origin: f64,
    y_origin: f64,
    xy_scale: f64,
    has_z: bool,
    has_m: bool,
}

/// A cursor over bytes whose reads fail, never panic, past the end.
struct Bytes<'a> {
    b: &'a [u8],
    at: usize,
}

const SHORT: &str = "ends early";

impl<'a> Bytes<'a> {
    fn new(b: &'a [u8]) -> Self {
        Bytes { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or(SHORT)?;
        let s = self.b.get(self.at..end).ok_or(SHORT)?;
        self.at = end;
        Ok(s)
    }
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn i16(&mut self) -> Result<i16, String> {
        self.u16().map(|v| v as i16)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn i32(&mut self) -> Result<i32, String> {
        self.u32().map(|v| v as i32)
    }
    fn u64(&mut self) -> Result<u64, String> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn f32(&mut self) -> Result<f32, String> {
        self.u32().map(f32::from_bits)
    }
    fn f64(&mut self) -> Result<f64, String> {
        self.u64().map(f64::from_bits)
    }
    /// An unsigned LEB128 number.
    fn varuint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift >= 64 {
                return Err("a number longer than 64 bits".into());
            }
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }
    /// A signed number: sign in bit 6 of the first byte, 6 bits then 7 bits a byte.
    fn varint(&mut self) -> Result<i64, String> {
        let b = self.u8()?;
        let negative = b & 0x40 != 0;
        let mut v = u64::from(b & 0x3F);
        if b & 0x80 != 0 {
            let mut shift = 6u32;
            loop {
                let b = self.u8()?;
                if shift >= 64 {
                    return Err("a number longer than 64 bits".into());
                }
                v |= u64::from(b & 0x7F) << shift;
                if b & 0x80 == 0 {
                    break;
                }
                shift += 7;
            }
        }
        let v = v as i64;
        Ok(if negative { v.wrapping_neg() } else { v })
    }
    /// A length as a `usize` no longer than what is left.
    fn len_within(&mut self) -> Result<usize, String> {
        let n = self.varuint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.left())
            .ok_or_else(|| format!("a length of {n} bytes runs past the row"))
    }
    /// `n` UTF-16 code units.
    fn utf16(&mut self, n: usize) -> Result<String, String> {
        let s = self.take(n.checked_mul(2).ok_or(SHORT)?)?;
        let units: Vec<u16> = s
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&units))
    }
}

/// A table file opened: header parsed, its index read, rows still in the file.
struct Table {
    schema: Schema,
    src: Box<dyn ReadSeek>,
    file_len: u64,
    index: Index,
    /// Next object id minus one.
    next: u64,
    /// A window of the table file kept in memory: `window_at` is its offset.
    window: Vec<u8>,
    window_at: u64,
}

/// What a table's header says: all a row's decoding needs.
struct Schema {
    /// The layer as messages name it: `x.gdb/LAYER`.
    shown: PathBuf,
    /// `a00000009.gdbtable`, for messages.
    file: String,
    /// Geometry type of the table: 0 none, 1 point, 2 multipoint, 3 line, 4 polygon, 9
    /// multipatch.
    geometry_type: u8,
    columns: Vec<Column>,
    /// The attribute fields (columns without the object id and shape).
    fields: Vec<Field>,
    geometry: Option<GeometryDef>,
    nullable: usize,
    valid_rows: u64,
}

/// An attribute field and its slot in `Column`s.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    slot: Option<usize>,
}

/// The `.gdbtablx`: where each row is.
struct Index {
    bytes: Vec<u8>,
    /// Rows the index covers (object ids `1..=rows`).
    rows: u64,
    /// Bytes per offset (4 to 6).
    width: usize,
    /// For a sparse index, the bitmap of the 1024-row blocks present and, for each byte of
    /// it, how many blocks are present before it; `None` when every block is present.
    blocks: Option<(Vec<u8>, Vec<u32>)>,
}

const WINDOW: usize = 4 << 20;

impl Index {
    fn parse(b: Vec<u8>, file: &str) -> Result<Index, String> {
        let mut c = Bytes::new(&b);
        let bad = |what: &str| format!("{file}: {what}");
        let _magic = c
            .u32()
            .map_err(|_| bad("the index is shorter than its header"))?;
        let blocks = u64::from(c.u32()?);
        let rows = u64::from(c.u32()?);
        let width = c.u32()? as usize;
        if !(4..=6).contains(&width) {
            return Err(bad(&format!(
                "the index gives {width}-byte offsets (4 to 6)"
            )));
        }
        let offsets_len = blocks
            .checked_mul(1024 * width as u64)
            .filter(|&n| n <= (b.len() as u64).saturating_sub(16))
            .ok_or_else(|| {
                bad(&format!(
                    "the index claims {blocks} blocks of rows but is {} bytes long; it is truncated or damaged",
                    b.len()
                ))
            })?;
        let trailer_at = 16 + offsets_len as usize;
        let mut sparse = None;
        if rows > blocks * 1024 && b.len() >= trailer_at + 16 {
            // A sparse index: a bitmap after the offsets says which blocks are present.
            let mut t = Bytes::new(&b[trailer_at..]);
            let words = t.u32()? as usize;
            let bits = t.u32()? as u64;
            let _present = t.u32()?;
            let _leading = t.u32()?;
            let map = t
                .take(words.checked_mul(4).ok_or(SHORT)?)
                .map_err(|_| bad("the index's block map runs past its end"))?;
            let covered = bits.min(map.len() as u64 * 8);
            let map = map[..covered.div_ceil(8) as usize].to_vec();
            // Bits past `covered` in the last byte are not blocks.
            let mut map = map;
            if covered % 8 != 0
                && let Some(last) = map.last_mut()
            {
                *last &= (1u8 << (covered % 8)) - 1;
            }
            let mut ranks = Vec::with_capacity(map.len());
            let mut present = 0u64;
            for byte in &map {
                ranks.push(present as u32);
                present += u64::from(byte.count_ones());
            }
            if present > blocks {
                return Err(bad("the index's block map names more blocks than it holds"));
            }
            sparse = Some((map, ranks));
        }
        let rows = match &sparse {
            Some((map, _)) => rows.min(map.len() as u64 * 8 * 1024),
            None => rows.min(blocks * 1024),
        };
        Ok(Index {
            bytes: b,
            rows,
            width,
            blocks: sparse,
        })
    }

    /// The offset of row `i` (0-based) in the table file, 0 for none; and, for an absent
    /// block, the first row after it.
    fn offset(&self, i: u64) -> Result<u64, u64> {
        let slot = match &self.blocks {
            None => i,
            Some((map, ranks)) => {
                let block = i / 1024;
                let (byte, bit) = ((block / 8) as usize, block % 8);
                let (Some(&b), Some(&rank)) = (map.get(byte), ranks.get(byte)) else {
                    return Err(u64::MAX);
                };
                if b & (1 << bit) == 0 {
                    return Err((block + 1) * 1024);
                }
                let before = (b & ((1u8 << bit) - 1)).count_ones();
                (u64::from(rank) + u64::from(before)) * 1024 + i % 1024
            }
        };
        let at = 16 + slot as usize * self.width;
        let mut v = [0u8; 8];
        match self.bytes.get(at..at + self.width) {
            Some(s) => {
                v[..self.width].copy_from_slice(s);
                Ok(u64::from_le_bytes(v))
            }
            None => Ok(0),
        }
    }
}

impl Table {
    /// Opens table `stem` of `dir`: header, fields and index.
    fn open(dir: &GdbDir, stem: &str, shown: PathBuf) -> Result<Table, LayerError> {
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
    fn next_row(&mut self, buf: &mut Vec<u8>) -> Result<Option<(u64, usize, usize)>, LayerError> {
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
    fn row_error(&self, oid: u64, reason: String) -> LayerError {
        LayerError::record(
            &self.shown,
            oid as usize,
            format!("{}: {reason}", self.file),
        )
    }
}

type ParsedFields = (u8, Vec<Column>, Option<GeometryDef>);

/// The field list of a table header (after its size).
fn parse_fields(desc: &[u8]) -> Result<ParsedFields, String> {
    let mut c = Bytes::new(desc);
    let _version = c.u32()?;
    let flags = c.u32()?;
    let geometry_type = (flags & 0xFF) as u8;
    let layer_z = flags & (1 << 31) != 0;
    let layer_m = flags & (1 << 30) != 0;
    let count = c.u16()? as usize;
    let mut columns = Vec::with_capacity(count.min(desc.len()));
    let mut geometry = None;
    let mut slots = 0;
    for _ in 0..count {
        let n = c.u8()? as usize;
        let name = c.utf16(n)?;
        let n = c.u8()? as usize;
        let _alias = c.utf16(n)?;
        let kind = c.u8()?;
        let nullable;
        match kind {
            T_OBJECTID => {
                c.take(2)?;
                nullable = false;
            }
            T_GEOMETRY => {
                c.u8()?;
                nullable = c.u8()? & 1 != 0;
                let len = c.u16()? as usize;
                let wkt = c.utf16(len / 2)?;
                let f = c.u8()?;
                let (has_m, has_z) = (f & 2 != 0, f & 4 != 0);
                let mut g = GeometryDef {
                    wkt,
                    x_origin: c.f64()?,
                    y_origin: c.f64()?,
                    xy_scale: c.f64()?,
                    has_z,
                    has_m,
                };
                if has_m {
                    c.take(16)?;
                }
                if has_z {
                    c.take(16)?;
                }
                c.take(8)?; // xy tolerance
                if has_m {
                    c.take(8)?;
                }
                if has_z {
                    c.take(8)?;
                }
                c.take(32)?; // extent
                // Optional z and m ranges, then a zero byte, the number of spatial grid
                // sizes (1 to 3) and the sizes.
                let mut found = false;
                for _ in 0..8 {
                    let p = c.b.get(c.at..c.at + 5).ok_or(SHORT)?;
                    if p[0] == 0 && (1..=3).contains(&p[1]) && p[2..5] == [0, 0, 0] {
                        let n = p[1] as usize;
                        c.take(5)?;
                        c.take(8 * n)?;
                        found = true;
                        break;
                    }
                    c.take(8)?;
                }
                if !found {
                    return Err("the geometry field's spatial grid is not understood".into());
                }
                if !(g.xy_scale.is_finite() && g.xy_scale > 0.0) {
                    return Err(format!(
                        "the xy scale {} is not a positive number",
                        g.xy_scale
                    ));
                }
                if !(g.x_origin.is_finite() && g.y_origin.is_finite()) {
                    return Err("the xy origin is not a number".into());
                }
                g.wkt = g.wkt.trim_end_matches('\0').to_string();
                // The field's flags say which precisions it describes; the layer's whether
                // its shapes carry Z and M.
                g.has_z = layer_z;
                g.has_m = layer_m;
                geometry = Some(g);
            }
            T_STRING => {
                c.u32()?;
                let flag = c.u8()?;
                nullable = flag & 1 != 0;
                let n = c.varuint()?;
                if flag & 4 != 0 && n > 0 {
                    c.take(usize::try_from(n).map_err(|_| SHORT)?)?;
                }
            }
            T_BINARY | T_GUID | T_GLOBALID | T_XML => {
                c.u8()?;
                nullable = c.u8()? & 1 != 0;
            }
            T_RASTER => {
                return Err(format!(
                    "field {name:?} is a raster field, which soilrisk does not read"
                ));
            }
            T_INT16 | T_INT32 | T_FLOAT32 | T_FLOAT64 | T_DATETIME | T_INT64 | T_DATE | T_TIME
            | T_DATETIME_OFFSET => {
                c.u8()?;
                let flag = c.u8()?;
                nullable = flag & 1 != 0;
                let n = c.u8()? as usize;
                if flag & 4 != 0 {
                    c.take(n)?;
                }
            }
            other => return Err(format!("field {name:?} has unknown type {other}")),
        }
        let slot = (kind != T_OBJECTID && kind != T_GEOMETRY).then(|| {
            slots += 1;
            slots - 1
        });
        columns.push(Column {
            name,
            kind,
            nullable,
            slot,
        });
    }
    Ok((geometry_type, columns, geometry))
}

fn field_kind(kind: u8) -> FieldKind {
    match kind {
        T_INT16 | T_INT32 | T_FLOAT32 | T_FLOAT64 | T_INT64 => FieldKind::Number,
        T_DATETIME | T_DATE | T_DATETIME_OFFSET => FieldKind::Date,
        _ => FieldKind::Text,
    }
}

/// The name of a table's geometry type, as the refusal says it.
fn geometry_type_name(code: u8) -> &'static str {
    match code {
        0 => "no",
        1 => "Point",
        2 => "MultiPoint",
        3 => "MultiLineString",
        4 => "MultiPolygon",
        9 => "MultiPatch",
        _ => "unknown",
    }
}

/// One decoded row: its rings (`None` for a null shape), what densifying noted, and values.
struct Row {
    rings: Option<Vec<Vec<Coord<f64>>>>,
    elliptic: usize,
    values: Vec<Value>,
}

/// Decodes a row's blob: null flags, then each column present in order. Columns not
/// `wanted` are stepped over without decoding; with `shape` false the shape is skipped.
/// Texts already in `shared` (from earlier batches) are shared rather than allocated again.
fn decode_row(
    t: &Schema,
    wanted: &[bool],
    blob: &[u8],
    shape: bool,
    shared: &[Shared],
) -> Result<Row, String> {
    let mut c = Bytes::new(blob);
    let flags = c.take(t.nullable.div_ceil(8))?;
    let mut ni = 0;
    let mut row = Row {
        rings: None,
        elliptic: 0,
        values: vec![Value::Null; t.fields.len()],
    };
    for col in &t.columns {
        if col.nullable {
            let null = flags[ni / 8] & (1 << (ni % 8)) != 0;
            ni += 1;
            if null {
                continue;
            }
        }
        let want = col
            .slot
            .is_some_and(|s| wanted.get(s).copied().unwrap_or(false));
        let value = match col.kind {
            T_OBJECTID => continue,
            T_INT16 => Value::Number(f64::from(c.i16()?)),
            T_INT32 => Value::Number(f64::from(c.i32()?)),
            T_FLOAT32 => Value::Number(f64::from(c.f32()?)),
            T_FLOAT64 => Value::Number(c.f64()?),
            T_INT64 => Value::Number(c.u64()? as i64 as f64),
            T_STRING | T_XML => {
                let n = c.len_within()?;
                let s = c.take(n)?;
                if !want {
                    continue;
                }
                let known = std::str::from_utf8(s).ok().and_then(|s| {
                    let seen = &shared.get(col.slot.unwrap_or(usize::MAX))?.seen;
                    seen.get(s).cloned()
                });
                Value::Text(known.unwrap_or_else(|| String::from_utf8_lossy(s).as_ref().into()))
            }
            T_DATETIME | T_DATE => date_value(c.f64()?, true),
            T_DATETIME_OFFSET => {
                let v = c.f64()?;
                c.i16()?;
                date_value(v, true)
            }
            T_TIME => time_value(c.f64()?),
            T_GUID | T_GLOBALID => {
                let g = c.take(16)?;
                if !want {
                    continue;
                }
                Value::Text(guid_text(g).into())
            }
            T_BINARY => {
                let n = c.len_within()?;
                c.take(n)?;
                continue;
            }
            T_GEOMETRY => {
                let n = c.len_within()?;
                let g = c.take(n)?;
                if shape && let Some(def) = &t.geometry {
                    let (rings, elliptic) = parse_polygon(g, def)?;
                    row.rings = rings;
                    row.elliptic = elliptic;
                }
                continue;
            }
            other => return Err(format!("a value of unknown type {other}")),
        };
        if want && let Some(s) = col.slot {
            row.values[s] = value;
        }
    }
    Ok(row)
}

/// `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` from the 16 stored bytes (the first three groups
/// little-endian), as GDAL writes it.
fn guid_text(g: &[u8]) -> String {
    let h = |i: usize| format!("{:02X}", g[i]);
    let mut s = String::with_capacity(38);
    s.push('{');
    for i in [3, 2, 1, 0] {
        s += &h(i);
    }
    s.push('-');
    for i in [5, 4] {
        s += &h(i);
    }
    s.push('-');
    for i in [7, 6] {
        s += &h(i);
    }
    s.push('-');
    for i in [8, 9] {
        s += &h(i);
    }
    s.push('-');
    for i in 10..16 {
        s += &h(i);
    }
    s.push('}');
    s
}

/// Days since 1899-12-30 as an ISO date, with the time when not midnight.
fn date_value(days: f64, with_time: bool) -> Value {
    // Beyond ±10 000 years, or not a number: not a date anyone wrote.
    if !days.is_finite() || days.abs() > 4e6 {
        return Value::Null;
    }
    let secs = (days * 86_400.0).round() as i64;
    let (day, sec) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // 1899-12-30 is day -25569 of the Unix epoch.
    let (y, m, d) = civil_from_days(day - 25_569);
    let mut s = format!("{y:04}-{m:02}-{d:02}");
    if with_time && sec != 0 {
        s += &format!("T{:02}:{:02}:{:02}", sec / 3600, sec / 60 % 60, sec % 60);
    }
    Value::Date(s.into_boxed_str())
}

/// A time of day (a fraction of a day) as `HH:MM:SS` text.
fn time_value(days: f64) -> Value {
    if !days.is_finite() || days.abs() > 4e6 {
        return Value::Null;
    }
    let sec = ((days * 86_400.0).round() as i64).rem_euclid(86_400);
    Value::Text(format!("{:02}:{:02}:{:02}", sec / 3600, sec / 60 % 60, sec % 60).into())
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Shape types of the format and their names, for refusals.
fn shape_name(code: u64) -> String {
    match code & 0xFF {
        1 | 9 | 11 | 21 | 52 => "Point".into(),
        3 | 10 | 13 | 23 | 50 => "PolyLine".into(),
        8 | 18 | 20 | 28 | 53 => "MultiPoint".into(),
        31 | 32 | 54 => "MultiPatch".into(),
        other => format!("unknown (code {other})"),
    }
}

/// The rings of a polygon shape blob (x and y; Z and M dropped, curves densified), `None`
/// for an empty or null shape, with the number of elliptic arcs taken as chords.
type Polygon = (Option<Vec<Vec<Coord<f64>>>>, usize);

fn parse_polygon(blob: &[u8], def: &GeometryDef) -> Result<Polygon, String> {
    let mut c = Bytes::new(blob);
    let t = c.varuint().map_err(|_| "empty shape")?;
    let (has_z, has_m, has_curves) = match t & 0xFF {
        0 => return Ok((None, 0)),
        5 => (false, false, false),
        19 => (true, false, false),
        25 => (false, true, false),
        15 => (true, true, false),
        51 => (
            t & 0x8000_0000 != 0,
            t & 0x4000_0000 != 0,
            t & 0x2000_0000 != 0,
        ),
        _ => {
            return Err(format!(
                "a {} shape in a polygon layer; soilrisk needs polygons",
                shape_name(t)
            ));
        }
    };
    let bad = |what: &str| format!("damaged polygon shape ({what})");
    let points = c.varuint().map_err(|_| bad("no point count"))?;
    if points == 0 {
        return Ok((None, 0));
    }
    let parts = c.varuint().map_err(|_| bad("no part count"))?;
    let curves = if has_curves {
        c.varuint().map_err(|_| bad("no curve count"))?
    } else {
        0
    };
    // Each point takes at least two bytes, each part and curve at least one: counts beyond
    // the blob are damage, caught before anything is allocated by them.
    let room = c.left() as u64;
    if points > room / 2 || parts == 0 || parts > points || curves > room {
        return Err(bad(&format!(
            "{points} points in {parts} parts do not fit its {} bytes",
            blob.len()
        )));
    }
    let (points, parts) = (points as usize, parts as usize);
    for _ in 0..4 {
        c.varuint().map_err(|_| bad("its box ends early"))?;
    }
    let mut counts = Vec::with_capacity(parts);
    let mut sum = 0usize;
    for _ in 0..parts - 1 {
        let n = c.varuint().map_err(|_| bad("its part sizes end early"))?;
        let n = usize::try_from(n).ok().filter(|&n| n <= points - sum);
        let n = n.ok_or_else(|| bad("its parts hold more points than it has"))?;
        sum += n;
        counts.push(n);
    }
    counts.push(points - sum);
    let mut xy = Vec::with_capacity(points);
    let (mut x, mut y) = (0i64, 0i64);
    // The hot loop of reading a layer: varints read straight off the slice.
    let mut at = c.at;
    for _ in 0..points {
        let (Some(dx), Some(dy)) = (varint_at(c.b, &mut at), varint_at(c.b, &mut at)) else {
            return Err(bad("its points end early"));
        };
        x = x.wrapping_add(dx);
        y = y.wrapping_add(dy);
        xy.push(Coord {
            x: x as f64 / def.xy_scale + def.x_origin,
            y: y as f64 / def.xy_scale + def.y_origin,
        });
    }
    c.at = at;
    let mut extra: Vec<(usize, Vec<Coord<f64>>)> = Vec::new();
    let mut elliptic = 0;
    if curves > 0 {
        if has_z {
            for _ in 0..points {
                c.varint().map_err(|_| bad("its z values end early"))?;
            }
        }
        if has_m {
            if c.b.get(c.at) == Some(&0x42) {
                c.u8()?;
            } else {
                for _ in 0..points {
                    c.varint().map_err(|_| bad("its m values end early"))?;
                }
            }
        }
        for _ in 0..curves {
            let start = c.varuint().map_err(|_| bad("its curves end early"))?;
            let start = usize::try_from(start)
                .ok()
                .filter(|&s| s + 1 < points)
                .ok_or_else(|| bad("a curve starts outside its points"))?;
            let kind = c.varuint().map_err(|_| bad("its curves end early"))?;
            let (p0, p1) = (xy[start], xy[start + 1]);
            let mid = match kind {
                1 => {
                    let q = Coord {
                        x: c.f64().map_err(|_| bad("an arc ends early"))?,
                        y: c.f64().map_err(|_| bad("an arc ends early"))?,
                    };
                    let bits = c.u32().map_err(|_| bad("an arc ends early"))?;
                    densify_arc(p0, p1, q, bits)
                }
                4 => {
                    let mut v = [0f64; 4];
                    for d in &mut v {
                        *d = c.f64().map_err(|_| bad("a Bézier curve ends early"))?;
                    }
                    densify_bezier(
                        p0,
                        Coord { x: v[0], y: v[1] },
                        Coord { x: v[2], y: v[3] },
                        p1,
                    )
                }
                5 => {
                    c.take(44).map_err(|_| bad("an elliptic arc ends early"))?;
                    elliptic += 1;
                    Vec::new()
                }
                other => return Err(bad(&format!("a curve of unknown type {other}"))),
            };
            if !mid.is_empty() {
                extra.push((start, mid));
            }
        }
        extra.sort_by_key(|e| e.0);
    }
    if parts == 1 && extra.is_empty() {
        return Ok((Some(vec![xy]), elliptic));
    }
    let mut rings = Vec::with_capacity(parts);
    let mut at = 0;
    let mut e = extra.into_iter().peekable();
    for n in counts {
        let mut ring = Vec::with_capacity(n);
        for (i, &p) in xy.iter().enumerate().skip(at).take(n) {
            ring.push(p);
            while let Some((_, mid)) = e.next_if(|(s, _)| *s == i) {
                if i + 1 < at + n {
                    ring.extend(mid);
                }
            }
        }
        at += n;
        rings.push(ring);
    }
    Ok((Some(rings), elliptic))
}

/// A signed varint (as `Bytes::varint`) at `*at`, moving past it; `None` past the end or
/// beyond 64 bits.
#[inline]
fn varint_at(b: &[u8], at: &mut usize) -> Option<i64> {
    let first = *b.get(*at)?;
    *at += 1;
    let mut v = u64::from(first & 0x3F);
    if first & 0x80 != 0 {
        let mut shift = 6u32;
        loop {
            let byte = *b.get(*at)?;
            *at += 1;
            if shift >= 64 {
                return None;
            }
            v |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
    }
    let v = v as i64;
    Some(if first & 0x40 != 0 {
        v.wrapping_neg()
    } else {
        v
    })
}

/// The points strictly between `p0` and `p1` on a circular arc, by at most 4° a step. `q` is
/// a point on the arc (bit 0x80) or its centre, the arc then running counter-clockwise when
/// bit 0x08 is set; bits 0x20 (a line) and 0x40 (a point) give no points.
fn densify_arc(p0: Coord<f64>, p1: Coord<f64>, q: Coord<f64>, bits: u32) -> Vec<Coord<f64>> {
    use std::f64::consts::TAU;
    if bits & 0x60 != 0 || !(q.x.is_finite() && q.y.is_finite()) {
        return Vec::new();
    }
    let (center, ccw) = if bits & 0x80 != 0 {
        // The circle through p0, q and p1.
        let (ax, ay, bx, by, cx, cy) = (p0.x, p0.y, q.x, q.y, p1.x, p1.y);
        let d = 2.0 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
        if d.abs() < 1e-300 {
            return Vec::new();
        }
        let (a2, b2, c2) = (ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy);
        let center = Coord {
            x: (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d,
            y: (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d,
        };
        // Counter-clockwise when p0 -> q -> p1 turns left.
        (center, (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) > 0.0)
    } else {
        (q, bits & 0x08 != 0)
    };
    let r = ((p0.x - center.x).powi(2) + (p0.y - center.y).powi(2)).sqrt();
    if !(r.is_finite() && r > 0.0) {
        return Vec::new();
    }
    let a0 = (p0.y - center.y).atan2(p0.x - center.x);
    let a1 = (p1.y - center.y).atan2(p1.x - center.x);
    let mut sweep = if ccw { a1 - a0 } else { a0 - a1 }.rem_euclid(TAU);
    if sweep == 0.0 && p0 == p1 {
        sweep = TAU;
    }
    let steps = (sweep / 4f64.to_radians()).ceil().clamp(1.0, 1e5) as usize;
    let sign = if ccw { 1.0 } else { -1.0 };
    (1..steps)
        .map(|k| {
            let a = a0 + sign * sweep * k as f64 / steps as f64;
            Coord {
                x: center.x + r * a.cos(),
                y: center.y + r * a.sin(),
            }
        })
        .collect()
}

/// The points strictly between `p0` and `p3` on a cubic Bézier curve, in 100 steps.
fn densify_bezier(
    p0: Coord<f64>,
    p1: Coord<f64>,
    p2: Coord<f64>,
    p3: Coord<f64>,
) -> Vec<Coord<f64>> {
    const STEPS: usize = 100;
    (1..STEPS)
        .map(|k| {
            let t = k as f64 / STEPS as f64;
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            Coord {
                x: a * p0.x + b * p1.x + c * p2.x + d * p3.x,
                y: a * p0.y + b * p1.y + c * p2.y + d * p3.y,
            }
        })
        .collect()
}

/// Reads a polygon table of a geodatabase a batch of rows at a time: rows are found through
/// the index in object-id order, copied out of the table file, and decoded in parallel.
pub struct FgdbReader {
    header: Layer,
    /// Per attribute field, the texts seen so far, so that a county or measure repeated a
    /// million times is stored once (as the shapefile reader does).
    shared: Vec<Shared>,
    table: Table,
    wanted: Vec<bool>,
    batch_bytes: usize,
    buf: Vec<u8>,
    done: bool,
    rows: usize,
    nulls: usize,
    elliptic: usize,
    warnings: Vec<String>,
}

impl FgdbReader {
    /// Opens table `stem` of `dir`, shown as `shown` (`x.gdb/LAYER`); refuses a table whose
    /// geometry is not polygons.
    pub fn open(
        dir: &GdbDir,
        stem: &str,
        shown: PathBuf,
        opts: &ReadOptions,
    ) -> Result<FgdbReader, LayerError> {
        let table = Table::open(dir, stem, shown.clone())?;
        if table.schema.geometry_type != 4 || table.schema.geometry.is_none() {
            return Err(LayerError::NotPolygons {
                path: shown,
                kind: "the layer",
                found: geometry_type_name(table.schema.geometry_type).to_string(),
            });
        }
        let fields: Vec<FieldDef> = table
            .schema
            .columns
            .iter()
            .filter(|c| c.slot.is_some())
            .map(|c| FieldDef {
                name: c.name.clone(),
                kind: field_kind(c.kind),
            })
            .collect();
        let wanted = match &opts.fields {
            Some(names) => {
                let mut w = vec![false; fields.len()];
                for n in names {
                    if let Some(i) = find_field(&fields, n) {
                        w[i] = true;
                    }
                }
                w
            }
            None => vec![true; fields.len()],
        };
        let mut warnings = Vec::new();
        let def = table.schema.geometry.clone().unwrap_or_default();
        let wkt = def.wkt.trim();
        let crs = if wkt.is_empty() || wkt.starts_with('{') {
            warnings.push(format!(
                "{}: the layer has no coordinate system; the CRS is unknown",
                shown.display()
            ));
            None
        } else {
            match Crs::from_prj(wkt) {
                Ok(c) => Some(c),
                Err(e) => {
                    warnings.push(format!("{}: CRS not understood ({e})", shown.display()));
                    None
                }
            }
        };
        let suffix = match (def.has_z, def.has_m) {
            (true, true) => "ZM",
            (true, false) => "Z",
            (false, true) => "M",
            (false, false) => "",
        };
        Ok(FgdbReader {
            shared: fields.iter().map(|_| Shared::default()).collect(),
            header: Layer {
                path: shown,
                geometry_type: format!("MultiPolygon{suffix}"),
                fields,
                features: Vec::new(),
                crs,
                encoding: Some("UTF-8 (File Geodatabase)".into()),
                warnings: Vec::new(),
            },
            table,
            wanted,
            // A geodatabase row holds a shape in about half the bytes of a shapefile record
            // (coordinates as variable-length integers): half the bytes a batch makes it as
            // many features, and as much memory, as a shapefile's.
            batch_bytes: (opts.batch_bytes.unwrap_or(super::shp::BATCH_BYTES) / 2).max(1),
            buf: Vec::new(),
            done: false,
            rows: 0,
            nulls: 0,
            elliptic: 0,
            warnings,
        })
    }

    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        let mut spans = Vec::new();
        while self.buf.len() < self.batch_bytes {
            match self.table.next_row(&mut self.buf)? {
                Some(span) => spans.push(span),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        if spans.is_empty() {
            return Ok(None);
        }
        self.rows += spans.len();
        let (table, wanted, buf) = (&self.table.schema, &self.wanted, &self.buf);
        let shared = &self.shared;
        type Decoded = (
            u64,
            Option<(geo::MultiPolygon<f64>, RingNotes)>,
            usize,
            Vec<Value>,
        );
        let decoded: Vec<Result<Decoded, LayerError>> = spans
            .par_iter()
            .map(|&(oid, a, b)| {
                let row = decode_row(table, wanted, &buf[a..b], true, shared)
                    .map_err(|r| table.row_error(oid, r))?;
                let g = row.rings.map(|r| assemble(r, true));
                Ok((oid, g, row.elliptic, row.values))
            })
            .collect();
        let mut features = Vec::with_capacity(decoded.len());
        let path = self.header.path.clone();
        for d in decoded {
            let (oid, g, elliptic, mut values) = d?;
            for (v, shared) in values.iter_mut().zip(&mut self.shared) {
                shared.share(v);
            }
            self.elliptic += elliptic;
            let Some((geometry, notes)) = g else {
                self.nulls += 1;
                continue;
            };
            if !notes.is_empty() {
                self.warnings.push(format!(
                    "{}, record {oid}: {}",
                    path.display(),
                    notes.describe()
                ));
            }
            if geometry.0.is_empty() {
                self.warnings.push(format!(
                    "{}, record {oid}: no usable ring; record skipped",
                    path.display()
                ));
                continue;
            }
            features.push(Feature {
                record: oid as usize,
                geometry,
                values,
            });
        }
        Ok(Some(features))
    }

    fn finish(self) -> Layer {
        let mut layer = self.header;
        let path = layer.path.clone();
        layer.warnings = self.warnings;
        if self.nulls > 0 {
            layer.warnings.push(format!(
                "{}: {} null shape(s) skipped",
                path.display(),
                self.nulls
            ));
        }
        if self.elliptic > 0 {
            layer.warnings.push(format!(
                "{}: {} elliptic arc(s) taken as straight segments",
                path.display(),
                self.elliptic
            ));
        }
        if self.rows as u64 != self.table.schema.valid_rows {
            layer.warnings.push(format!(
                "{}: {} rows read but {} gives {} rows",
                path.display(),
                self.rows,
                self.table.schema.file,
                self.table.schema.valid_rows
            ));
        }
        layer
    }
}

/// The distinct texts of one field, up to `MAX_DISTINCT`; a field of mostly distinct values
/// (ids) stops being shared.
#[derive(Default)]
struct Shared {
    seen: std::collections::HashSet<Arc<str>, foldhash::fast::FixedState>,
    off: bool,
}

impl Shared {
    const MAX_DISTINCT: usize = 4096;

    /// Replaces a text by the one stored before with the same content.
    fn share(&mut self, v: &mut Value) {
        let Value::Text(t) = v else {
            return;
        };
        if self.off {
            return;
        }
        if let Some(s) = self.seen.get(&**t) {
            if !Arc::ptr_eq(s, t) {
                *t = s.clone();
            }
        } else if self.seen.len() >= Self::MAX_DISTINCT {
            self.off = true;
            self.seen = Default::default();
        } else {
            self.seen.insert(t.clone());
        }
    }
}

/// The reader behind `LayerReader` for File Geodatabase layers.
impl super::Batches for FgdbReader {
    fn header(&self) -> &Layer {
        &self.header
    }
    fn size_hint(&self) -> usize {
        // The header's count, but never more rows than the index holds.
        self.table.schema.valid_rows.min(self.table.index.rows) as usize
    }
    fn progress(&self) -> f32 {
        self.table.next as f32 / self.table.index.rows.max(1) as f32
    }
    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        FgdbReader::next_batch(self)
    }
    fn finish(self: Box<Self>) -> Layer {
        FgdbReader::finish(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_with_the_time_when_not_midnight() {
        assert_eq!(date_value(0.0, true), Value::Date("1899-12-30".into()));
        assert_eq!(date_value(25_569.0, true), Value::Date("1970-01-01".into()));
        assert_eq!(
            date_value(45_000.5, true),
            Value::Date("2023-03-15T12:00:00".into())
        );
        assert_eq!(date_value(f64::NAN, true), Value::Null);
        assert_eq!(time_value(0.75), Value::Text("18:00:00".into()));
    }

    #[test]
    fn guids_read_as_gdal_writes_them() {
        let g: Vec<u8> = (0u8..16).collect();
        assert_eq!(guid_text(&g), "{03020100-0504-0706-0809-0A0B0C0D0E0F}");
    }

    #[test]
    fn varints_read_signed_and_unsigned() {
        let bytes = [0xAC, 0x02, 0x41, 0xC1, 0x01, 0x80];
        let mut c = Bytes::new(&bytes);
        assert_eq!(c.varuint(), Ok(300));
        assert_eq!(c.varint(), Ok(-1));
        assert_eq!(c.varint(), Ok(-65));
        assert!(c.varint().is_err());
        let mut at = 2;
        assert_eq!(varint_at(&bytes, &mut at), Some(-1));
        assert_eq!(varint_at(&bytes, &mut at), Some(-65));
        assert_eq!(varint_at(&bytes, &mut at), None);
    }

    #[test]
    fn a_half_circle_arc_is_densified_through_its_side() {
        let p0 = Coord { x: 1.0, y: 0.0 };
        let p1 = Coord { x: -1.0, y: 0.0 };
        let centre = Coord { x: 0.0, y: 0.0 };
        let ccw = densify_arc(p0, p1, centre, 0x08);
        assert_eq!(ccw.len(), 44);
        assert!(ccw.iter().all(|p| p.y > 0.0));
        let through = densify_arc(p0, p1, Coord { x: 0.0, y: -1.0 }, 0x80);
        assert!(through.iter().all(|p| p.y < 0.0));
        assert!(densify_arc(p0, p1, centre, 0x20).is_empty());
    }
}
