//! Reading ESRI shapefiles: geometry from the `.shp`, attributes from the `.dbf` (see `dbf`),
//! the CRS from the `.prj` and the text encoding from the `.cpg`, the two halves at once.
//!
//! Polygon records are framed here and parsed in parallel rather than through the `shapefile`
//! crate (which soilrisk still uses to write the sample): the crate reads a record through
//! many small reads into intermediate point structs, half the speed of this on a million
//! parcels, and it trusts the header's file length, which real files get wrong. Records are
//! read in file order, so a missing `.shx` costs nothing.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use geo::{Coord, MultiPolygon};
use rayon::prelude::*;

use super::ReadOptions;
use super::dbf::parse_dbf;
use super::encoding::{ChosenEncoding, EncodingSource, encoding_from_name};
use super::rings::{RingNotes, assemble};
use crate::crs::Crs;
use crate::error::LayerError;
use crate::layer::{Feature, FieldDef, Layer, LayerFormat, Value};

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
    fn open(&self) -> Result<(Box<dyn ReadSeek + '_>, u64), LayerError> {
        match self {
            Part::File(p) => {
                let file = File::open(p).map_err(|e| LayerError::io(p, e))?;
                let len = file.metadata().map_err(|e| LayerError::io(p, e))?.len();
                Ok((Box::new(BufReader::with_capacity(1 << 20, file)), len))
            }
            Part::Bytes { bytes, .. } => {
                Ok((Box::new(Cursor::new(bytes.as_slice())), bytes.len() as u64))
            }
        }
    }
}

/// A reader that can also jump, to skip garbage between records.
trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

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
/// type is refused with an error naming it. Geometry and attributes are read at the same time.
pub fn read_shapefile(path: &Path, opts: &ReadOptions) -> Result<Layer, LayerError> {
    read_parts(&Parts::beside(path), opts)
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
    let (fields, records, encoding, _, _) = read_attributes(&parts, opts)?;
    Ok((fields, records, encoding))
}

/// An attribute table: fields, rows, and the encoding used (`None` without a `.dbf`).
pub type Table = (Vec<FieldDef>, Vec<Vec<Value>>, Option<String>);

/// Reads a polygon shapefile from its parts, wherever they are.
pub fn read_parts(parts: &Parts, opts: &ReadOptions) -> Result<Layer, LayerError> {
    let path = parts.shp.name();
    let (geometry, attributes) = rayon::join(
        || read_geometry(&parts.shp),
        || read_attributes(parts, opts),
    );
    let (header_type, shapes, records_in_shp, mut warnings) = geometry?;
    let (fields, mut records, encoding, crs, attr_warnings) = attributes?;
    warnings.extend(attr_warnings);
    if !fields.is_empty() && records.len() != records_in_shp {
        warnings.push(format!(
            "{}: {} shape records but {} attribute records",
            path.display(),
            records_in_shp,
            records.len()
        ));
    }
    let width = fields.len();
    let features = shapes
        .into_iter()
        .map(|(record, geometry)| {
            let values = records
                .get_mut(record - 1)
                .map(std::mem::take)
                .unwrap_or_else(|| vec![Value::Null; width]);
            Feature {
                record,
                geometry,
                values,
            }
        })
        .collect();
    Ok(Layer {
        path: path.to_path_buf(),
        format: LayerFormat::Shapefile,
        geometry_type: header_type,
        fields,
        features,
        crs,
        encoding,
        warnings,
    })
}

/// Shape type, (record number, polygons) of each non-empty record, record count, warnings.
type Geometry = (String, Vec<(usize, MultiPolygon<f64>)>, usize, Vec<String>);

/// A record's number, its polygons, and what assembly repaired.
type Assembled = (usize, MultiPolygon<f64>, RingNotes);

fn read_geometry(part: &Part) -> Result<Geometry, LayerError> {
    let path = part.name();
    let (mut src, file_len) = part.open()?;
    let mut header = [0u8; 100];
    src.read_exact(&mut header).map_err(|_| {
        LayerError::format(
            path,
            format!("not a shapefile ({file_len} bytes, shorter than the 100-byte header)"),
        )
    })?;
    let code = i32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if code != 9994 {
        return Err(LayerError::format(
            path,
            format!("not a shapefile (file code {code}, expected 9994)"),
        ));
    }
    let header_type = i32::from_le_bytes([header[32], header[33], header[34], header[35]]);
    if !matches!(header_type, 0 | 5 | 15 | 25) {
        return Err(LayerError::NotPolygons {
            path: path.to_path_buf(),
            kind: "the layer",
            found: type_name(header_type),
        });
    }
    let mut warnings = Vec::new();
    let declared = u64::from(u32::from_be_bytes([
        header[24], header[25], header[26], header[27],
    ])) * 2;
    if declared != file_len {
        warnings.push(format!(
            "{}: the header gives the file length as {declared} bytes but it is {file_len}; \
             records read to the end of the file",
            path.display()
        ));
    }

    // Records are framed sequentially (a .shx is not needed) and parsed in parallel, a batch
    // at a time so memory stays bounded.
    const BATCH_BYTES: usize = 32 << 20;
    let mut pos: u64 = 100;
    let mut record = 0usize;
    // The file's own number of the last record read (some writers count from 0).
    let mut last_no: Option<i32> = None;
    let mut nulls = 0usize;
    let mut shapes = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    let mut done = false;
    while !done {
        buf.clear();
        spans.clear();
        while buf.len() < BATCH_BYTES {
            let mut rh = [0u8; 8];
            let remaining = file_len.saturating_sub(pos);
            if remaining == 0 {
                done = true;
                break;
            }
            if remaining < 8 {
                warnings.push(format!(
                    "{}: {remaining} trailing byte(s) after the last record ignored",
                    path.display()
                ));
                done = true;
                break;
            }
            src.read_exact(&mut rh)
                .map_err(|e| LayerError::io(path, e))?;
            let no = i32::from_be_bytes([rh[0], rh[1], rh[2], rh[3]]);
            let len = u64::from(u32::from_be_bytes([rh[4], rh[5], rh[6], rh[7]])) * 2;
            let fits = (4..=remaining - 8).contains(&len);
            let start = buf.len();
            if fits {
                buf.resize(start + len as usize, 0);
                src.read_exact(&mut buf[start..])
                    .map_err(|e| LayerError::io(path, e))?;
            }
            let kind = le_i32(&buf[start..], 0).unwrap_or(-1);
            if !fits || !known_type(kind) {
                // Not a record header: zero padding or garbage between records, which
                // readers that trust the .shx never see. Find the next record.
                buf.truncate(start);
                let next_no = last_no.map_or(1, |n| n.wrapping_add(1));
                match resync(&mut *src, pos, file_len, next_no)
                    .map_err(|e| LayerError::io(path, e))?
                {
                    Some(at) => {
                        warnings.push(format!(
                            "{}: {} byte(s) that are not a record skipped before record {}",
                            path.display(),
                            at - pos,
                            record + 1
                        ));
                        src.seek(SeekFrom::Start(at))
                            .map_err(|e| LayerError::io(path, e))?;
                        pos = at;
                        continue;
                    }
                    // A header numbered as the next record whose content runs past the end
                    // is a truncated file: data is missing, which is an error. Otherwise the
                    // bytes are trailing garbage.
                    None if len > remaining - 8 && no == next_no => {
                        return Err(LayerError::record(
                            path,
                            record + 1,
                            format!(
                                "the record claims {len} bytes but the file ends after {}; the file is truncated or damaged",
                                remaining - 8
                            ),
                        ));
                    }
                    None => {
                        warnings.push(format!(
                            "{}: {} trailing byte(s) after record {record} are not a record; ignored",
                            path.display(),
                            remaining
                        ));
                        done = true;
                        break;
                    }
                }
            }
            record += 1;
            last_no = Some(no);
            spans.push((record, start, start + len as usize));
            pos += 8 + len;
        }
        let parsed: Vec<Result<Option<Assembled>, LayerError>> = spans
            .par_iter()
            .map(|&(record, a, b)| match parse_polygon(&buf[a..b]) {
                Ok(None) => Ok(None),
                Ok(Some(rings)) => {
                    let (g, notes) = assemble(rings, true);
                    Ok(Some((record, g, notes)))
                }
                Err(reason) => Err(LayerError::record(path, record, reason)),
            })
            .collect();
        for p in parsed {
            let Some((record, geometry, notes)) = p? else {
                nulls += 1;
                continue;
            };
            if !notes.is_empty() {
                warnings.push(format!(
                    "{}, record {record}: {}",
                    path.display(),
                    notes.describe()
                ));
            }
            if geometry.0.is_empty() {
                warnings.push(format!(
                    "{}, record {record}: no usable ring; record skipped",
                    path.display()
                ));
                continue;
            }
            shapes.push((record, geometry));
        }
    }
    if nulls > 0 {
        warnings.push(format!("{}: {nulls} null shape(s) skipped", path.display()));
    }
    Ok((type_name(header_type), shapes, record, warnings))
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
    let mut starts = Vec::with_capacity(parts + 1);
    for i in 0..parts {
        let s = le_i32(c, 44 + 4 * i).ok_or_else(bad)?;
        starts.push(usize::try_from(s).map_err(|_| bad())?);
    }
    starts.push(points);
    let mut rings = Vec::with_capacity(parts);
    for w in starts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a > b || b > points {
            return Err("damaged polygon record (a part starts outside its points)".into());
        }
        rings.push(
            (a..b)
                .map(|k| Coord {
                    x: le_f64(c, xy_at + 16 * k),
                    y: le_f64(c, xy_at + 16 * k + 8),
                })
                .collect(),
        );
    }
    Ok(Some(rings))
}

/// Fields, records, encoding description, CRS and warnings from the `.dbf`, `.cpg`, `.prj`.
type Attributes = (
    Vec<FieldDef>,
    Vec<Vec<Value>>,
    Option<String>,
    Option<Crs>,
    Vec<String>,
);

fn read_attributes(parts: &Parts, opts: &ReadOptions) -> Result<Attributes, LayerError> {
    let path = parts.shp.name();
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
    } else if let Some(cpg) = &parts.cpg {
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

    let (fields, records, encoding) = match &parts.dbf {
        Some(dbf) => {
            let table = parse_dbf(dbf.name(), &dbf.read_all()?, forced)?;
            warnings.extend(table.warnings);
            (table.fields, table.records, Some(table.encoding.describe()))
        }
        None => {
            warnings.push(format!(
                "{}: no .dbf beside it; the layer has geometry but no attributes",
                path.display()
            ));
            (Vec::new(), Vec::new(), None)
        }
    };
    let crs = match &parts.prj {
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
        None => {
            warnings.push(format!("{}: no .prj; the CRS is unknown", path.display()));
            None
        }
    };

    Ok((fields, records, encoding, crs, warnings))
}
