//! Reading ESRI shapefiles: geometry from the `.shp`, attributes from the `.dbf` (see `dbf`),
//! the CRS from the `.prj` and the text encoding from the `.cpg`, the two halves at once.
//!
//! Polygon records are framed here and parsed in parallel rather than through the `shapefile`
//! crate (which soilrisk uses to write the sample): the crate reads a record through many
//! small reads into intermediate point structs, which is slow on a large layer, and it trusts
//! the header's file length, which real files get wrong. Records are read in file order, so a
//! missing `.shx` costs nothing.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use geo::{Coord, MultiPolygon};
use rayon::prelude::*;

use super::ReadOptions;
use super::batch::Tally;
use super::dbf::DbfReader;
use super::encoding::{ChosenEncoding, EncodingSource, encoding_from_name};
use super::rings::{RingNotes, assemble};
use super::{LayerReader, ReadSeek};
use crate::crs::Crs;
use crate::error::LayerError;
use crate::layer::{Feature, FieldDef, Layer, Value, find_field};

/// The file beside `path` with extension `ext`, trying lower then upper case (`.DBF`).
pub fn sibling(path: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.is_file())
}

/// One file of a shapefile: on disk, or already in memory (a member of a zip archive).
/// `name` is what messages call it: the path, or `archive.zip/member.shp`.
#[derive(Debug, Clone)]
pub enum Part {
    File(PathBuf),
    Bytes { name: PathBuf, bytes: Vec<u8> },
}

impl Part {
    pub fn name(&self) -> &Path {
        match self {
            Part::File(p) => p,
            Part::Bytes { name, .. } => name,
        }
    }

    /// The whole content.
    fn read_all(&self) -> Result<Cow<'_, [u8]>, LayerError> {
        match self {
            Part::File(p) => std::fs::read(p)
                .map(Cow::Owned)
                .map_err(|e| LayerError::io(p, e)),
            Part::Bytes { bytes, .. } => Ok(Cow::Borrowed(bytes)),
        }
    }

    /// A buffered reader and the length in bytes.
    fn into_reader(self) -> Result<(Box<dyn ReadSeek>, u64), LayerError> {
        match self {
            Part::File(p) => {
                let file = File::open(&p).map_err(|e| LayerError::io(&p, e))?;
                let len = file.metadata().map_err(|e| LayerError::io(&p, e))?.len();
                Ok((Box::new(BufReader::with_capacity(1 << 20, file)), len))
            }
            Part::Bytes { bytes, .. } => {
                let len = bytes.len() as u64;
                Ok((Box::new(Cursor::new(bytes)), len))
            }
        }
    }
}

/// Whether `code` is a shape type the specification defines.
fn known_type(code: i32) -> bool {
    matches!(
        code,
        0 | 1 | 3 | 5 | 8 | 11 | 13 | 15 | 18 | 21 | 23 | 25 | 28 | 31
    )
}

/// How far past a damaged record header the reader looks for the next record.
const RESYNC_WINDOW: u64 = 1 << 20;

/// Looks for the next record after a damaged header at `pos`: the first offset in the window
/// where a header numbered `next_no` with a length that fits the file is followed by a known
/// shape type. Returns its offset.
fn resync(
    src: &mut dyn ReadSeek,
    pos: u64,
    file_len: u64,
    next_no: i32,
) -> std::io::Result<Option<u64>> {
    let end = file_len.min(pos + RESYNC_WINDOW);
    if end <= pos + 1 {
        return Ok(None);
    }
    src.seek(SeekFrom::Start(pos + 1))?;
    let mut window = vec![0u8; (end - pos - 1) as usize];
    src.read_exact(&mut window)?;
    let found = (0..window.len().saturating_sub(11)).find(|&i| {
        let w = &window[i..i + 12];
        let no = i32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        let len = u64::from(u32::from_be_bytes([w[4], w[5], w[6], w[7]])) * 2;
        let kind = i32::from_le_bytes([w[8], w[9], w[10], w[11]]);
        let at = pos + 1 + i as u64;
        no == next_no && len >= 4 && at + 8 + len <= file_len && known_type(kind)
    });
    Ok(found.map(|i| pos + 1 + i as u64))
}

/// The files that make up one shapefile: the `.shp` and whichever sidecars exist.
#[derive(Debug, Clone)]
pub struct Parts {
    pub shp: Part,
    pub dbf: Option<Part>,
    pub prj: Option<Part>,
    pub cpg: Option<Part>,
}

impl Parts {
    /// The `.shp` at `path` and the sidecars beside it on disk.
    pub fn beside(path: &Path) -> Self {
        Parts {
            shp: Part::File(path.to_path_buf()),
            dbf: sibling(path, "dbf").map(Part::File),
            prj: sibling(path, "prj").map(Part::File),
            cpg: sibling(path, "cpg").map(Part::File),
        }
    }
}

/// The name of a shapefile shape type code, as GDAL and the specification spell it.
fn type_name(code: i32) -> String {
    match code {
        0 => "Null".into(),
        1 => "Point".into(),
        3 => "PolyLine".into(),
        5 => "Polygon".into(),
        8 => "MultiPoint".into(),
        11 => "PointZ".into(),
        13 => "PolyLineZ".into(),
        15 => "PolygonZ".into(),
        18 => "MultiPointZ".into(),
        21 => "PointM".into(),
        23 => "PolyLineM".into(),
        25 => "PolygonM".into(),
        28 => "MultiPointM".into(),
        31 => "MultiPatch".into(),
        other => format!("unknown (code {other})"),
    }
}

/// Reads a polygon shapefile. Null shapes are skipped with a warning; any other non-polygon
/// type is refused with an error naming it.
pub fn read_shapefile(path: &Path, opts: &ReadOptions) -> Result<Layer, LayerError> {
    read_parts(Parts::beside(path), opts)
}

/// The attribute table of a shapefile (or of a lone `.dbf`), decoded as `read_shapefile`
/// would: fields, rows and the encoding used. `info` and the tests use it for tables whose
/// geometry soilrisk cannot use.
pub fn read_table(path: &Path, opts: &ReadOptions) -> Result<Table, LayerError> {
    let mut parts = Parts::beside(path);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("dbf"))
    {
        parts.dbf = Some(Part::File(path.to_path_buf()));
    }
    let Parts { shp, dbf, prj, cpg } = parts;
    let mut attributes = open_attributes(shp.name(), dbf, prj, cpg, opts)?;
    Ok(match attributes.dbf.as_mut() {
        Some(d) => (d.fields(), d.read(d.count())?, Some(d.encoding.describe())),
        None => (Vec::new(), Vec::new(), None),
    })
}

/// An attribute table: fields, rows, and the encoding used (`None` without a `.dbf`).
pub type Table = (Vec<FieldDef>, Vec<Vec<Value>>, Option<String>);

/// Reads a polygon shapefile from its parts, wherever they are.
pub fn read_parts(parts: Parts, opts: &ReadOptions) -> Result<Layer, LayerError> {
    LayerReader::new(ShapefileReader::open(parts, opts)?).read_all()
}

/// A record's number, its polygons, and what assembly repaired.
type Assembled = (usize, MultiPolygon<f64>, RingNotes);

/// Reads a polygon shapefile a batch of records at a time: the `.shp` records are framed in
/// file order (a `.shx` is not needed) and parsed in parallel, and the matching `.dbf`
/// records read beside them, so memory stays bounded however large the layer. The analysis
/// streams parcels through this; `read_all` collects a whole layer.
pub struct ShapefileReader {
    /// The layer without features: name, type, fields, CRS, encoding; warnings come with
    /// `finish`.
    header: Layer,
    src: Box<dyn ReadSeek>,
    file_len: u64,
    pos: u64,
    /// Records framed so far.
    record: usize,
    /// The file's own number of the last record read (some writers count from 0).
    last_no: Option<i32>,
    done: bool,
    batch_bytes: usize,
    /// `ReadOptions::records`.
    records: Option<std::sync::Arc<[usize]>>,
    buf: Vec<u8>,
    dbf: Option<DbfReader>,
    /// Null shapes and the geometry's warnings (offsets, ring repairs).
    geometry: Tally,
    attribute_warnings: Vec<String>,
}

/// Bytes of `.shp` records framed and parsed at a time, unless `ReadOptions` says otherwise.
pub const BATCH_BYTES: usize = 32 << 20;

impl ShapefileReader {
    /// Checks the `.shp` header and reads the sidecars' headers.
    pub fn open(parts: Parts, opts: &ReadOptions) -> Result<ShapefileReader, LayerError> {
        let Parts { shp, dbf, prj, cpg } = parts;
        let path = shp.name().to_path_buf();
        let (mut src, file_len) = shp.into_reader()?;
        let mut header = [0u8; 100];
        src.read_exact(&mut header).map_err(|_| {
            LayerError::format(
                &path,
                format!("not a shapefile ({file_len} bytes, shorter than the 100-byte header)"),
            )
        })?;
        let code = i32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if code != 9994 {
            return Err(LayerError::format(
                &path,
                format!("not a shapefile (file code {code}, expected 9994)"),
            ));
        }
        let header_type = i32::from_le_bytes([header[32], header[33], header[34], header[35]]);
        if !matches!(header_type, 0 | 5 | 15 | 25) {
            return Err(LayerError::NotPolygons {
                path: path.clone(),
                kind: "the layer",
                found: type_name(header_type),
            });
        }
        let mut geometry_warnings = Vec::new();
        let declared = u64::from(u32::from_be_bytes([
            header[24], header[25], header[26], header[27],
        ])) * 2;
        if declared != file_len {
            geometry_warnings.push(format!(
                "{}: the header gives the file length as {declared} bytes but it is {file_len}; \
                 records read to the end of the file",
                path.display()
            ));
        }
        let mut attributes = open_attributes(&path, dbf, prj, cpg, opts)?;
        if let (Some(d), Some(names)) = (attributes.dbf.as_mut(), &opts.fields) {
            let fields = d.fields();
            let wanted: Vec<usize> = names
                .iter()
                .filter_map(|n| find_field(&fields, n))
                .collect();
            d.decode_only(&wanted);
        }
        Ok(ShapefileReader {
            header: Layer {
                path,
                geometry_type: type_name(header_type),
                fields: attributes
                    .dbf
                    .as_ref()
                    .map(DbfReader::fields)
                    .unwrap_or_default(),
                features: Vec::new(),
                crs: attributes.crs,
                encoding: attributes.dbf.as_ref().map(|d| d.encoding.describe()),
                warnings: Vec::new(),
            },
            src,
            file_len,
            pos: 100,
            record: 0,
            last_no: None,
            done: false,
            batch_bytes: opts.batch_bytes.unwrap_or(BATCH_BYTES).max(1),
            records: opts.records.clone(),
            buf: Vec::new(),
            dbf: attributes.dbf,
            geometry: Tally::new(geometry_warnings),
            attribute_warnings: attributes.warnings,
        })
    }

    /// The layer as described by its headers, without features or warnings.
    pub fn header(&self) -> &Layer {
        &self.header
    }

    /// The `.dbf`'s record count (0 without a `.dbf`).
    pub fn size_hint(&self) -> usize {
        self.dbf.as_ref().map_or(0, DbfReader::count)
    }

    /// How much of the `.shp` has been read, from 0 to 1.
    pub fn progress(&self) -> f32 {
        self.pos as f32 / self.file_len.max(1) as f32
    }

    /// The features of the next records (null shapes and unusable records left out, each
    /// noted in the warnings), or `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        if self.done {
            return Ok(None);
        }
        let path = self.header.path.clone();
        let first_record = self.record;
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        self.buf.clear();
        while self.buf.len() < self.batch_bytes {
            let mut rh = [0u8; 8];
            let remaining = self.file_len.saturating_sub(self.pos);
            if remaining == 0 {
                self.done = true;
                break;
            }
            if remaining < 8 {
                self.geometry.warnings.push(format!(
                    "{}: {remaining} trailing byte(s) after the last record ignored",
                    path.display()
                ));
                self.done = true;
                break;
            }
            self.src
                .read_exact(&mut rh)
                .map_err(|e| LayerError::io(&path, e))?;
            let no = i32::from_be_bytes([rh[0], rh[1], rh[2], rh[3]]);
            let len = u64::from(u32::from_be_bytes([rh[4], rh[5], rh[6], rh[7]])) * 2;
            let fits = (4..=remaining - 8).contains(&len);
            let start = self.buf.len();
            if fits {
                // Appended straight from the reader's buffer: no zeroing of the batch's
                // 32 MiB first, as growing the vector with `resize` would.
                let got = (&mut self.src)
                    .take(len)
                    .read_to_end(&mut self.buf)
                    .map_err(|e| LayerError::io(&path, e))?;
                if got as u64 != len {
                    return Err(LayerError::io(
                        &path,
                        std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
                    ));
                }
            }
            let kind = le_i32(&self.buf[start..], 0).unwrap_or(-1);
            if !fits || !known_type(kind) {
                // Not a record header: zero padding or garbage between records, which
                // readers that trust the .shx never see. Find the next record.
                self.buf.truncate(start);
                let next_no = self.last_no.map_or(1, |n| n.wrapping_add(1));
                match resync(&mut *self.src, self.pos, self.file_len, next_no)
                    .map_err(|e| LayerError::io(&path, e))?
                {
                    Some(at) => {
                        self.geometry.warnings.push(format!(
                            "{}: {} byte(s) that are not a record skipped before record {}",
                            path.display(),
                            at - self.pos,
                            self.record + 1
                        ));
                        self.src
                            .seek(SeekFrom::Start(at))
                            .map_err(|e| LayerError::io(&path, e))?;
                        self.pos = at;
                        continue;
                    }
                    // A header numbered as the next record whose content runs past the end
                    // is a truncated file: data is missing, which is an error. Otherwise the
                    // bytes are trailing garbage.
                    None if len > remaining - 8 && no == next_no => {
                        return Err(LayerError::record(
                            &path,
                            self.record + 1,
                            format!(
                                "the record claims {len} bytes but the file ends after {}; the file is truncated or damaged",
                                remaining - 8
                            ),
                        ));
                    }
                    None => {
                        self.geometry.warnings.push(format!(
                            "{}: {} trailing byte(s) after record {} are not a record; ignored",
                            path.display(),
                            remaining,
                            self.record
                        ));
                        self.done = true;
                        break;
                    }
                }
            }
            self.record += 1;
            self.last_no = Some(no);
            spans.push((self.record, start, start + len as usize));
            self.pos += 8 + len;
        }
        if spans.is_empty() && self.done {
            return Ok(None);
        }
        let buf = &self.buf;
        let dbf = &mut self.dbf;
        let only = self.records.as_deref();
        let wanted = self.record - first_record;
        let (parsed, values) = rayon::join(
            || {
                spans
                    .par_iter()
                    .map(|&(record, a, b)| {
                        if only.is_some_and(|r| r.binary_search(&record).is_err()) {
                            return Ok(None);
                        }
                        parse_polygon(&buf[a..b])
                    })
                    .zip(&spans)
                    .map(|(parsed, &(record, _, _))| match parsed {
                        Ok(None) => Ok(None),
                        Ok(Some(rings)) => {
                            let (g, notes) = assemble(rings, true);
                            Ok(Some((record, g, notes)))
                        }
                        Err(reason) => Err(LayerError::record(&path, record, reason)),
                    })
                    .collect::<Vec<Result<Option<Assembled>, LayerError>>>()
            },
            || match dbf.as_mut() {
                Some(d) => d.read(wanted),
                None => Ok(Vec::new()),
            },
        );
        let mut values = values?.into_iter();
        let width = self.header.fields.len();
        let mut features = Vec::with_capacity(spans.len());
        for (p, &(record, _, _)) in parsed.into_iter().zip(&spans) {
            let Some((record, geometry, notes)) = p? else {
                values.next();
                // A record skipped unread (`ReadOptions::records`) is not a null shape.
                if only.is_none_or(|r| r.binary_search(&record).is_ok()) {
                    self.geometry.null();
                }
                continue;
            };
            let row = values.next().unwrap_or_else(|| vec![Value::Null; width]);
            let shown = (record, format_args!("record {record}"));
            features.extend(self.geometry.feature(&path, shown, geometry, &[notes], row));
        }
        Ok(Some(features))
    }

    /// The layer's header with every warning, once all batches are read.
    pub fn finish(self) -> Layer {
        let mut layer = self.header;
        let path = layer.path.clone();
        layer.warnings = self.geometry.into_warnings(&path);
        layer.warnings.extend(self.attribute_warnings);
        if let Some(dbf) = self.dbf {
            let rows = dbf.count();
            layer.warnings.extend(dbf.finish());
            if !layer.fields.is_empty() && rows != self.record {
                layer.warnings.push(format!(
                    "{}: {} shape records but {} attribute records",
                    path.display(),
                    self.record,
                    rows
                ));
            }
        }
        layer
    }
}

fn le_i32(b: &[u8], at: usize) -> Option<i32> {
    b.get(at..at + 4)
        .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn le_f64(b: &[u8], at: usize) -> f64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    f64::from_le_bytes(a)
}

/// The rings of one record's content (x and y only; Z and M are dropped), `None` for a null
/// shape, or why the record cannot be read.
fn parse_polygon(c: &[u8]) -> Result<Option<Vec<Vec<Coord<f64>>>>, String> {
    let kind = le_i32(c, 0).ok_or("empty record")?;
    match kind {
        0 => return Ok(None),
        5 | 15 | 25 => {}
        other => {
            return Err(format!(
                "a {} shape in a polygon layer; soilrisk needs polygons",
                type_name(other)
            ));
        }
    }
    let bad = || "damaged polygon record (counts do not fit its length)".to_string();
    let parts = le_i32(c, 36).ok_or_else(bad)?;
    let points = le_i32(c, 40).ok_or_else(bad)?;
    let (parts, points) = (
        usize::try_from(parts).map_err(|_| bad())?,
        usize::try_from(points).map_err(|_| bad())?,
    );
    let xy_at = parts
        .checked_mul(4)
        .and_then(|p| p.checked_add(44))
        .ok_or_else(bad)?;
    let xy_end = points
        .checked_mul(16)
        .and_then(|p| p.checked_add(xy_at))
        .ok_or_else(bad)?;
    if xy_end > c.len() {
        return Err(bad());
    }
    let start = |i: usize| -> Result<usize, String> {
        if i == parts {
            return Ok(points);
        }
        let s = le_i32(c, 44 + 4 * i).ok_or_else(bad)?;
        usize::try_from(s).map_err(|_| bad())
    };
    let mut rings = Vec::with_capacity(parts);
    for i in 0..parts {
        let (a, b) = (start(i)?, start(i + 1)?);
        if a > b || b > points {
            return Err("damaged polygon record (a part starts outside its points)".into());
        }
        rings.push(
            c[xy_at + 16 * a..xy_at + 16 * b]
                .chunks_exact(16)
                .map(|p| Coord {
                    x: le_f64(p, 0),
                    y: le_f64(p, 8),
                })
                .collect(),
        );
    }
    Ok(Some(rings))
}

/// The `.dbf` opened (header read, its encoding chosen from the user's choice, the `.cpg` or
/// the table), the CRS from the `.prj`, and what they gave cause to say.
struct Attributes {
    dbf: Option<DbfReader>,
    crs: Option<Crs>,
    warnings: Vec<String>,
}

/// The sidecars of the `.shp` at `path`.
fn open_attributes(
    path: &Path,
    dbf: Option<Part>,
    prj: Option<Part>,
    cpg: Option<Part>,
    opts: &ReadOptions,
) -> Result<Attributes, LayerError> {
    let mut warnings = Vec::new();
    // Text encoding: the user's choice, else the .cpg, else the DBF decides.
    let mut forced = None;
    if let Some(name) = &opts.encoding {
        let enc = encoding_from_name(name)
            .ok_or_else(|| LayerError::format(path, format!("unknown text encoding {name:?}")))?;
        forced = Some(ChosenEncoding {
            encoding: enc,
            source: EncodingSource::User,
        });
    } else if let Some(cpg) = &cpg {
        let text = cpg.read_all()?;
        let label = String::from_utf8_lossy(&text[..text.len().min(64)]).to_string();
        match encoding_from_name(&label) {
            Some(enc) => {
                forced = Some(ChosenEncoding {
                    encoding: enc,
                    source: EncodingSource::Cpg,
                })
            }
            None => warnings.push(format!(
                "{}: encoding {:?} not recognised; detecting it from the text instead",
                cpg.name().display(),
                label.trim()
            )),
        }
    }

    let crs = match &prj {
        Some(prj) => {
            let text = prj.read_all()?;
            match Crs::from_prj(&String::from_utf8_lossy(&text)) {
                Ok(c) => Some(c),
                Err(e) => {
                    warnings.push(format!(
                        "{}: CRS not understood ({e})",
                        prj.name().display()
                    ));
                    None
                }
            }
        }
        None => None,
    };
    let dbf = match dbf {
        Some(dbf) => {
            let name = dbf.name().to_path_buf();
            let (src, len) = dbf.into_reader()?;
            Some(DbfReader::open(&name, src, len, forced)?)
        }
        None => {
            warnings.push(format!(
                "{}: no .dbf beside it; the layer has geometry but no attributes",
                path.display()
            ));
            None
        }
    };
    if prj.is_none() {
        warnings.push(format!("{}: no .prj; the CRS is unknown", path.display()));
    }
    Ok(Attributes { dbf, crs, warnings })
}

/// The reader behind `LayerReader` for shapefiles (its methods are documented above).
impl super::Batches for ShapefileReader {
    fn header(&self) -> &Layer {
        ShapefileReader::header(self)
    }
    fn size_hint(&self) -> usize {
        ShapefileReader::size_hint(self)
    }
    fn progress(&self) -> f32 {
        ShapefileReader::progress(self)
    }
    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        ShapefileReader::next_batch(self)
    }
    fn finish(self: Box<Self>) -> Layer {
        ShapefileReader::finish(*self)
    }
}
