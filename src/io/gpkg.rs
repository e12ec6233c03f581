//! Reading GeoPackage layers (OGC 12-128r18) through SQLite: `file.gpkg` opens its one
//! polygon layer, `file.gpkg/LAYER` a named one. The layers are the `features` rows of
//! `gpkg_contents` with their `gpkg_geometry_columns` row; the CRS comes from
//! `gpkg_spatial_ref_sys` (the EPSG code where there is one, else the WKT); the geometry
//! blobs are decoded by `gpkg_geom`.
//!
//! Features are streamed in primary-key order, a range of `fid`s at a time (`WHERE fid > ?
//! ORDER BY fid LIMIT n`, a walk of the table's b-tree, never the whole layer), their blobs
//! decoded in parallel as the shapefile reader does, and only the fields `ReadOptions::fields`
//! names are selected. A `.gpkg` inside a zip archive arrives as bytes and is opened from
//! memory (SQLite's deserialize), read only.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::batch::Tally;
use super::formats::{Beside, LayerFormat};
use super::gpkg_geom::{self, Shape};
use super::intern::Interner;
use super::rings::{RingNotes, assemble};
use super::shp::Part;
use super::{LayerReader, ReadOptions};
use crate::crs::Crs;
use crate::error::LayerError;
use crate::layer::{Feature, FieldDef, FieldKind, Layer, Value, find_field};

/// GeoPackage files (`.gpkg`): a container of named layers.
pub struct GeoPackage;

impl LayerFormat for GeoPackage {
    fn name(&self) -> &'static str {
        "GPKG"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["gpkg"]
    }
    fn is_container(&self) -> bool {
        true
    }
    /// Every table of `gpkg_contents`, features and attributes, as `ogrinfo` lists them (and
    /// as a File Geodatabase's are listed), so that a refused one can be named.
    fn layers(&self, path: &Path) -> Result<Vec<String>, LayerError> {
        let conn = connect(&Part::File(path.to_path_buf()))?;
        Ok(contents(&conn, path)?
            .into_iter()
            .map(|e| e.table)
            .collect())
    }
    fn open(
        &self,
        main: Part,
        _beside: &mut Beside<'_>,
        layer: Option<&str>,
        opts: &ReadOptions,
    ) -> Result<LayerReader, LayerError> {
        GeoPackageReader::open(main, layer, opts).map(LayerReader::new)
    }
}

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Opens the database read only: the file in place, or bytes from memory.
fn connect(part: &Part) -> Result<Connection, LayerError> {
    let name = part.name();
    let not_sqlite = || LayerError::format(name, "not a GeoPackage (not an SQLite database)");
    let sql_err =
        |e: rusqlite::Error| LayerError::format(name, format!("cannot open the GeoPackage ({e})"));
    match part {
        Part::File(path) => {
            let mut head = [0u8; 16];
            let mut file = std::fs::File::open(path).map_err(|e| LayerError::io(path, e))?;
            std::io::Read::read_exact(&mut file, &mut head).map_err(|_| not_sqlite())?;
            if &head != SQLITE_MAGIC {
                return Err(not_sqlite());
            }
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sql_err)
        }
        Part::Bytes { bytes, .. } => {
            if !bytes.starts_with(SQLITE_MAGIC) {
                return Err(not_sqlite());
            }
            let mut conn = Connection::open_in_memory().map_err(sql_err)?;
            conn.deserialize_read_exact(rusqlite::MAIN_DB, &bytes[..], bytes.len(), true)
                .map_err(sql_err)?;
            Ok(conn)
        }
    }
}

/// A table as an SQL identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One row of `gpkg_contents`, with its geometry column if it has one.
#[derive(Debug, Clone)]
struct Entry {
    table: String,
    data_type: String,
    geometry_column: Option<String>,
    /// Upper case, as `gpkg_geometry_columns` spells it (`MULTIPOLYGON`).
    geometry_type: Option<String>,
    srs_id: Option<i64>,
}

impl Entry {
    /// Whether the layer's declared type holds polygons (or may: `GEOMETRY`).
    fn may_be_polygons(&self) -> bool {
        self.geometry_column.is_some()
            && matches!(
                self.geometry_type
                    .as_deref()
                    .map(str::to_ascii_uppercase)
                    .as_deref(),
                Some(
                    "POLYGON"
                        | "MULTIPOLYGON"
                        | "CURVEPOLYGON"
                        | "MULTISURFACE"
                        | "SURFACE"
                        | "TRIANGLE"
                        | "GEOMETRY"
                        | "GEOMETRYCOLLECTION"
                )
            )
    }

    /// What the layer holds, for a message: its geometry type, or its kind of table.
    fn holds(&self) -> String {
        match &self.geometry_type {
            Some(t) if self.geometry_column.is_some() => camel(t),
            _ => format!("no geometry ({})", self.data_type),
        }
    }

    /// The refusal of a layer that holds no polygons, naming what it holds.
    fn refusal(&self, file: &Path) -> LayerError {
        let path = file.join(&self.table);
        match &self.geometry_type {
            Some(t) if self.geometry_column.is_some() => LayerError::NotPolygons {
                path,
                kind: "the layer",
                found: camel(t),
            },
            _ => LayerError::NotPolygons {
                path,
                kind: if self.data_type == "attributes" {
                    "the attribute table"
                } else {
                    "the table"
                },
                found: "no".into(),
            },
        }
    }
}

/// A GeoPackage type name as WKB spells it: `MULTIPOLYGON` is `MultiPolygon`.
fn camel(t: &str) -> String {
    const NAMES: [&str; 16] = [
        "Geometry",
        "Point",
        "LineString",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
        "CircularString",
        "CompoundCurve",
        "CurvePolygon",
        "MultiCurve",
        "MultiSurface",
        "Curve",
        "Surface",
        "Triangle",
    ];
    NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(t))
        .map_or_else(|| t.to_string(), |n| n.to_string())
}

/// Whether the database has a table (or view) called `name`.
fn has_table(conn: &Connection, name: &str) -> Result<bool, rusqlite::Error> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// The rows of `gpkg_contents`, in their order.
fn contents(conn: &Connection, path: &Path) -> Result<Vec<Entry>, LayerError> {
    let damaged =
        |e: rusqlite::Error| LayerError::format(path, format!("not a readable GeoPackage ({e})"));
    for table in [
        "gpkg_contents",
        "gpkg_geometry_columns",
        "gpkg_spatial_ref_sys",
    ] {
        if !has_table(conn, table).map_err(damaged)? {
            return Err(LayerError::format(
                path,
                format!("an SQLite database but not a GeoPackage (no {table} table)"),
            ));
        }
    }
    let mut stmt = conn
        .prepare(
            "SELECT c.table_name, c.data_type, g.column_name, g.geometry_type_name, g.srs_id \
             FROM gpkg_contents c LEFT JOIN gpkg_geometry_columns g \
             ON g.table_name = c.table_name ORDER BY c.rowid",
        )
        .map_err(damaged)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Entry {
                table: r.get(0)?,
                data_type: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                geometry_column: r.get(2)?,
                geometry_type: r.get(3)?,
                srs_id: r.get(4)?,
            })
        })
        .map_err(damaged)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(damaged)
}

/// The layer to read: the one named (exact name first, then ignoring ASCII case), else the
/// file's one polygon layer.
fn choose(path: &Path, entries: Vec<Entry>, layer: Option<&str>) -> Result<Entry, LayerError> {
    if let Some(name) = layer {
        let name = name.trim_matches('/');
        let found = entries.iter().position(|e| e.table == name).or_else(|| {
            entries
                .iter()
                .position(|e| e.table.eq_ignore_ascii_case(name))
        });
        return match found {
            Some(i) => Ok(entries[i].clone()),
            None => Err(LayerError::format(
                &path.join(name),
                format!(
                    "no such layer in the GeoPackage (it holds: {})",
                    if entries.is_empty() {
                        "none".to_string()
                    } else {
                        entries
                            .iter()
                            .map(|e| e.table.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            )),
        };
    }
    let polygons: Vec<&Entry> = entries.iter().filter(|e| e.may_be_polygons()).collect();
    match polygons.as_slice() {
        [one] => Ok((*one).clone()),
        [] => match entries.as_slice() {
            [one] => Err(one.refusal(path)),
            [] => Err(LayerError::format(path, "the GeoPackage holds no layer")),
            all => Err(LayerError::format(
                path,
                format!(
                    "the GeoPackage holds no polygon layer ({})",
                    all.iter()
                        .map(|e| format!("{}: {}", e.table, e.holds()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        },
        several => Err(LayerError::SeveralLayers {
            path: path.to_path_buf(),
            members: several.iter().map(|e| e.table.clone()).collect(),
        }),
    }
}

/// A column of the layer's table.
struct Column {
    name: String,
    declared: String,
}

/// The kind of a column as its declared type gives it (GeoPackage's types: BOOLEAN,
/// TINYINT, SMALLINT, MEDIUMINT, INT, INTEGER, FLOAT, DOUBLE, REAL, TEXT(n), BLOB(n), DATE,
/// DATETIME; anything else by SQLite's affinity rules).
fn kind_of(declared: &str) -> FieldKind {
    let t = declared.to_ascii_uppercase();
    if t == "BOOLEAN" {
        FieldKind::Bool
    } else if t == "DATE" || t == "DATETIME" {
        // DATETIME too, as a File Geodatabase's dates are (`date_text` below).
        FieldKind::Date
    } else if t.contains("INT")
        || t.contains("REAL")
        || t.contains("FLOA")
        || t.contains("DOUB")
        || t.contains("NUMERIC")
        || t.contains("DECIMAL")
    {
        FieldKind::Number
    } else {
        FieldKind::Text
    }
}

/// The CRS of `srs_id` from `gpkg_spatial_ref_sys`: an EPSG code soilrisk knows, else the
/// WKT. `-1` and `0` are the specification's undefined systems (`None`, with a warning).
fn crs_of(
    conn: &Connection,
    path: &Path,
    srs_id: i64,
    warnings: &mut Vec<String>,
) -> Result<Option<Crs>, LayerError> {
    let row: Option<(String, i64, String)> = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition \
             FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                ))
            },
        )
        .optional()
        .map_err(|e| LayerError::format(path, format!("cannot read gpkg_spatial_ref_sys ({e})")))?;
    let Some((org, code, definition)) = row else {
        return Err(LayerError::format(
            path,
            format!("the layer's srs_id {srs_id} is not in gpkg_spatial_ref_sys"),
        ));
    };
    if org.eq_ignore_ascii_case("EPSG")
        && let Some(crs) = u32::try_from(code).ok().and_then(Crs::from_epsg)
    {
        return Ok(Some(crs));
    }
    if srs_id <= 0 || definition.trim().eq_ignore_ascii_case("undefined") {
        warnings.push(format!(
            "{}: the layer's CRS is undefined (srs_id {srs_id}); the CRS is unknown",
            path.display()
        ));
        return Ok(None);
    }
    match Crs::from_prj(&definition) {
        Ok(c) => Ok(Some(c)),
        Err(e) => {
            warnings.push(format!(
                "{}: CRS {org}:{code} not understood ({e}); the CRS is unknown",
                path.display()
            ));
            Ok(None)
        }
    }
}

/// One SQLite value as an attribute of a column of `kind`. SQLite stores what it is given
/// whatever the declared type: a number in a text column stays a number, and text that is
/// not a number in a number column stays text.
/// A GeoPackage DATE or DATETIME (`2023-03-15T12:00:00.000Z`) as soilrisk writes dates,
/// the same as from a File Geodatabase: `YYYY-MM-DD`, then `THH:MM:SS` (and any fraction)
/// when the time is not midnight; UTC's `Z` dropped.
pub(crate) fn date_text(t: &str) -> Box<str> {
    let t = t.trim();
    let t = t.strip_suffix('Z').unwrap_or(t);
    let t = t.strip_suffix(".000").unwrap_or(t);
    t.strip_suffix("T00:00:00").unwrap_or(t).into()
}

pub fn decode_value(
    kind: FieldKind,
    v: ValueRef<'_>,
    intern: &mut impl FnMut(&[u8]) -> Arc<str>,
) -> Value {
    match (kind, v) {
        (_, ValueRef::Null) => Value::Null,
        (FieldKind::Bool, ValueRef::Integer(i)) => Value::Bool(i != 0),
        (FieldKind::Text, ValueRef::Integer(i)) => Value::Text(i.to_string().into()),
        (FieldKind::Text, ValueRef::Real(r)) => Value::Text(crate::layer::format_number(r).into()),
        (_, ValueRef::Integer(i)) => Value::Number(i as f64),
        (_, ValueRef::Real(r)) => Value::Number(r),
        (FieldKind::Date, ValueRef::Text(t)) => Value::Date(date_text(&String::from_utf8_lossy(t))),
        (FieldKind::Number, ValueRef::Text(t)) => {
            match std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
            {
                Some(n) if n.is_finite() => Value::Number(n),
                _ => Value::Text(intern(t)),
            }
        }
        (_, ValueRef::Text(t)) => Value::Text(intern(t)),
        (_, ValueRef::Blob(b)) => {
            let mut hex = String::with_capacity(b.len() * 2);
            for byte in b {
                hex.push_str(&format!("{byte:02X}"));
            }
            Value::Text(hex.into())
        }
    }
}

/// The polygons of one geometry blob, as the reader gives them: each polygon's rings
/// assembled on their own (it says which ring is its shell, so a hole never moves to another
/// part), with what assembly repaired and whether the geometry was empty; or why the blob
/// cannot be read, or holds no polygon.
pub fn polygons_of(blob: &[u8]) -> Result<(geo::MultiPolygon<f64>, Vec<RingNotes>, bool), String> {
    let (_, shape) =
        gpkg_geom::decode(blob).map_err(|reason| format!("damaged geometry ({reason})"))?;
    assemble_shape(shape)
}

/// The polygons of a decoded geometry (see [`polygons_of`]); also PostGIS's EWKB.
pub fn assemble_shape(
    shape: Shape,
) -> Result<(geo::MultiPolygon<f64>, Vec<RingNotes>, bool), String> {
    match shape {
        Shape::Empty => Ok((geo::MultiPolygon::new(vec![]), vec![], true)),
        Shape::Other(t) => Err(format!(
            "a {t} geometry in a polygon layer; soilrisk needs polygons"
        )),
        Shape::Polygons(polygons) => {
            let mut parts = Vec::new();
            let mut notes = Vec::new();
            for rings in polygons {
                let (mp, n) = assemble(rings, false);
                if !n.is_empty() {
                    notes.push(n);
                }
                parts.extend(mp.0);
            }
            Ok((geo::MultiPolygon::new(parts), notes, false))
        }
    }
}

/// A row's fid, polygons, what assembly repaired, and whether the geometry was empty.
type Decoded = (i64, geo::MultiPolygon<f64>, Vec<RingNotes>, bool);

/// Rows read at a time.
pub const BATCH_ROWS: usize = 16_384;

/// A GeoPackage layer read a range of `fid`s at a time (see the module's documentation).
pub struct GeoPackageReader {
    header: Layer,
    conn: Connection,
    /// `SELECT fid, geom, fields... FROM t WHERE fid > ?1 ORDER BY fid LIMIT ?2`.
    sql: String,
    /// Which field each selected column after the geometry fills.
    selected: Vec<usize>,
    last_fid: i64,
    rows: usize,
    count: usize,
    batch_rows: usize,
    done: bool,
    interners: Vec<Interner<Arc<str>>>,
    tally: Tally,
}

impl GeoPackageReader {
    /// Opens the layer `layer` of the GeoPackage in `main` (its one polygon layer when
    /// `None`): reads the schema and the CRS, not the features.
    pub fn open(
        main: Part,
        layer: Option<&str>,
        opts: &ReadOptions,
    ) -> Result<GeoPackageReader, LayerError> {
        let file = main.name().to_path_buf();
        let conn = connect(&main)?;
        drop(main);
        let entry = choose(&file, contents(&conn, &file)?, layer)?;
        let path = file.join(&entry.table);
        if !entry.may_be_polygons() {
            return Err(entry.refusal(&file));
        }
        let geometry_column = entry.geometry_column.clone().unwrap_or_default();
        let damaged =
            |e: rusqlite::Error| LayerError::format(&path, format!("cannot read the layer ({e})"));
        if !has_table(&conn, &entry.table).map_err(damaged)? {
            return Err(LayerError::format(
                &path,
                "the layer's table is missing from the GeoPackage",
            ));
        }
        // Columns: (name, declared type, primary key).
        let mut columns = Vec::new();
        let mut fid = None;
        {
            let mut stmt = conn
                .prepare(&format!("PRAGMA table_info({})", quote(&entry.table)))
                .map_err(damaged)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        r.get::<_, i64>(5)?,
                    ))
                })
                .map_err(damaged)?;
            for row in rows {
                let (name, declared, pk) = row.map_err(damaged)?;
                if pk == 1 && declared.eq_ignore_ascii_case("INTEGER") && fid.is_none() {
                    fid = Some(name);
                } else if name != geometry_column {
                    columns.push(Column { name, declared });
                }
            }
        }
        // Without an INTEGER PRIMARY KEY (not a valid GeoPackage), SQLite's rowid serves.
        let fid = fid.map_or_else(|| "rowid".to_string(), |f| quote(&f));
        let fields: Vec<FieldDef> = columns
            .iter()
            .map(|c| FieldDef {
                name: c.name.clone(),
                kind: kind_of(&c.declared),
            })
            .collect();
        let selected: Vec<usize> = match &opts.fields {
            Some(names) => {
                let mut s: Vec<usize> = names
                    .iter()
                    .filter_map(|n| find_field(&fields, n))
                    .collect();
                s.sort_unstable();
                s.dedup();
                s
            }
            None => (0..fields.len()).collect(),
        };
        let mut sql = format!("SELECT {fid}, {}", quote(&geometry_column));
        for &i in &selected {
            sql.push_str(", ");
            sql.push_str(&quote(&columns[i].name));
        }
        sql.push_str(&format!(
            " FROM {} WHERE {fid} > ?1 ORDER BY {fid} LIMIT ?2",
            quote(&entry.table)
        ));
        conn.prepare(&sql).map_err(damaged)?;

        let mut warnings = Vec::new();
        let crs = crs_of(&conn, &path, entry.srs_id.unwrap_or(-1), &mut warnings)?;
        let count = feature_count(&conn, &entry.table).map_err(damaged)?;
        let geometry_type = camel(entry.geometry_type.as_deref().unwrap_or("Geometry"));
        let width = fields.len();
        Ok(GeoPackageReader {
            header: Layer {
                path,
                geometry_type,
                fields,
                features: Vec::new(),
                crs,
                encoding: Some("UTF-8 (GeoPackage)".into()),
                warnings: Vec::new(),
            },
            conn,
            sql,
            selected,
            last_fid: i64::MIN,
            rows: 0,
            count,
            batch_rows: opts
                .batch_bytes
                .map_or(BATCH_ROWS, |b| (b / 1024).clamp(1, BATCH_ROWS)),
            done: false,
            interners: (0..width).map(|_| Interner::default()).collect(),
            tally: Tally::new(warnings),
        })
    }

    /// Decodes one batch of rows' geometries, in parallel, into features.
    fn features(
        &mut self,
        rows: Vec<(i64, Option<Vec<u8>>, Vec<Value>)>,
    ) -> Result<Vec<Feature>, LayerError> {
        let path = &self.header.path;
        let decoded: Vec<Result<Option<Decoded>, LayerError>> = rows
            .par_iter()
            .map(|(fid, blob, _)| {
                let Some(blob) = blob else { return Ok(None) };
                let (geometry, notes, empty) =
                    polygons_of(blob).map_err(|reason| fid_error(path, *fid, reason))?;
                Ok(Some((*fid, geometry, notes, empty)))
            })
            .collect();
        let mut features = Vec::with_capacity(rows.len());
        for (d, (_, _, values)) in decoded.into_iter().zip(rows) {
            let Some((fid, geometry, notes, empty)) = d? else {
                self.tally.null();
                continue;
            };
            // An empty geometry is a valid value, not a damaged one: counted, not warned
            // about row by row.
            if empty && geometry.0.is_empty() {
                self.tally.empty();
                continue;
            }
            // A feature's record is unsigned: a negative fid (allowed, if rare) is record 0
            // there, and named as it is in the warnings.
            let shown = (usize::try_from(fid).unwrap_or(0), FidShown(fid));
            features.extend(self.tally.feature(path, shown, geometry, &notes, values));
        }
        Ok(features)
    }
}

/// A row as the warnings name it: `record N` like the other formats, or `fid -N` for a
/// negative fid, which no record number can hold.
struct FidShown(i64);

impl std::fmt::Display for FidShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 < 0 {
            write!(f, "fid {}", self.0)
        } else {
            write!(f, "record {}", self.0)
        }
    }
}

/// An error of the row `fid`: its record number where the fid is one (a `usize`), else the
/// fid in the reason, as it is.
fn fid_error(path: &Path, fid: i64, reason: impl std::fmt::Display) -> LayerError {
    match usize::try_from(fid) {
        Ok(record) => LayerError::record(path, record, reason.to_string()),
        Err(_) => LayerError::format(path, format!("{reason}, fid {fid}")),
    }
}

/// An SQLite error while stepping through the layer, naming the last row read before it
/// (`last_fid`, `i64::MIN` before the first).
fn step_error(path: &Path, last_fid: i64, e: rusqlite::Error) -> LayerError {
    if last_fid == i64::MIN {
        LayerError::format(path, format!("cannot read the layer ({e})"))
    } else {
        LayerError::format(
            path,
            format!("cannot read the layer after fid {last_fid} ({e})"),
        )
    }
}

/// The layer's feature count: GDAL's `gpkg_ogr_contents` where it is kept, else counted.
fn feature_count(conn: &Connection, table: &str) -> Result<usize, rusqlite::Error> {
    if has_table(conn, "gpkg_ogr_contents")? {
        let kept: Option<Option<i64>> = conn
            .query_row(
                "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?1",
                [table],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(Some(n)) = kept {
            return Ok(usize::try_from(n).unwrap_or(0));
        }
    }
    conn.query_row(&format!("SELECT count(*) FROM {}", quote(table)), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| usize::try_from(n).unwrap_or(0))
}

impl super::Batches for GeoPackageReader {
    fn header(&self) -> &Layer {
        &self.header
    }

    fn size_hint(&self) -> usize {
        self.count
    }

    fn progress(&self) -> f32 {
        crate::io::batch::share_read(self.done, self.rows, self.count)
    }

    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        if self.done {
            return Ok(None);
        }
        let path = self.header.path.clone();
        let last_fid = self.last_fid;
        let damaged = |e| step_error(&path, last_fid, e);
        let width = self.header.fields.len();
        let kinds: Vec<FieldKind> = self.header.fields.iter().map(|f| f.kind).collect();
        let mut rows = Vec::with_capacity(self.batch_rows);
        {
            let mut stmt = self.conn.prepare(&self.sql).map_err(damaged)?;
            let mut query = stmt
                .query(rusqlite::params![self.last_fid, self.batch_rows as i64])
                .map_err(damaged)?;
            while let Some(row) = query
                .next()
                .map_err(|e| step_error(&path, self.last_fid, e))?
            {
                let fid: i64 = row
                    .get(0)
                    .map_err(|e| step_error(&path, self.last_fid, e))?;
                let column = |e| fid_error(&path, fid, format!("cannot read the row ({e})"));
                let blob = match row.get_ref(1).map_err(column)? {
                    ValueRef::Blob(b) => Some(b.to_vec()),
                    ValueRef::Null => None,
                    _ => {
                        return Err(fid_error(
                            &path,
                            fid,
                            "the geometry column holds a value that is not a blob",
                        ));
                    }
                };
                let mut values = vec![Value::Null; width];
                for (k, &field) in self.selected.iter().enumerate() {
                    let v = row.get_ref(2 + k).map_err(column)?;
                    let interner = &mut self.interners[field];
                    values[field] = decode_value(kinds[field], v, &mut |t| {
                        interner.get(t, |raw| String::from_utf8_lossy(raw).as_ref().into())
                    });
                }
                self.last_fid = fid;
                rows.push((fid, blob, values));
            }
        }
        self.rows += rows.len();
        if rows.len() < self.batch_rows {
            self.done = true;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        self.features(rows).map(Some)
    }

    fn finish(self: Box<Self>) -> Layer {
        let mut layer = self.header;
        let path = layer.path.clone();
        layer.warnings = self.tally.into_warnings(&path);
        layer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_datetimes_read_as_a_file_geodatabase_dates_do() {
        assert_eq!(kind_of("DATETIME"), FieldKind::Date);
        assert_eq!(kind_of("date"), FieldKind::Date);
        assert_eq!(
            &*date_text("2023-03-15T12:30:00.000Z"),
            "2023-03-15T12:30:00"
        );
        assert_eq!(&*date_text("2023-03-15T00:00:00.000Z"), "2023-03-15");
        assert_eq!(
            &*date_text("2023-03-15T12:30:00.250Z"),
            "2023-03-15T12:30:00.250"
        );
        assert_eq!(&*date_text(" 2023-03-15 "), "2023-03-15");
    }

    #[test]
    fn a_row_is_named_by_its_fid_even_a_negative_one() {
        let path = Path::new("parcels.gpkg");
        assert_eq!(FidShown(12).to_string(), "record 12");
        assert_eq!(FidShown(-3).to_string(), "fid -3");
        assert_eq!(
            fid_error(path, -3, "damaged geometry").to_string(),
            "damaged geometry, fid -3: parcels.gpkg"
        );
        assert_eq!(
            fid_error(path, 7, "damaged geometry").to_string(),
            "damaged geometry: parcels.gpkg, record 7"
        );
        let e = rusqlite::Error::InvalidQuery;
        assert!(
            step_error(path, 41, e)
                .to_string()
                .starts_with("cannot read the layer after fid 41 (")
        );
    }
}
