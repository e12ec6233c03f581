//! Shapefile plumbing: temporary file sets, GBK DBF schemas and records.

use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use dbase::encoding::EncodingRs;
use dbase::{FieldError, FieldName, FieldWriter, TableWriter, TableWriterBuilder, WritableRecord};
use geo::{LineString, MultiPolygon};
use shapefile::{Point, Polygon, PolygonRing, ShapeWriter};

use super::{DBF_DATE, PRJ_WKT, SampleError, io_err};

pub(super) const EXTS: [&str; 5] = ["shp", "shx", "dbf", "prj", "cpg"];

pub(super) struct LayerPaths {
    temps: Vec<PathBuf>,
    pub(super) finals: Vec<PathBuf>,
}

impl LayerPaths {
    pub(super) fn new(dir: &Path, stem: &str) -> Self {
        Self {
            temps: EXTS
                .iter()
                .map(|e| dir.join(format!(".{stem}.{e}.partial")))
                .collect(),
            finals: EXTS
                .iter()
                .map(|e| dir.join(format!("{stem}.{e}")))
                .collect(),
        }
    }

    pub(super) fn commit(&self) -> Result<(), SampleError> {
        for (tmp, fin) in self.temps.iter().zip(&self.finals) {
            fs::rename(tmp, fin).map_err(io_err(fin))?;
        }
        Ok(())
    }

    pub(super) fn discard(&self) {
        for tmp in &self.temps {
            // Best effort: the original error is what the caller needs to see.
            let _ = fs::remove_file(tmp);
        }
    }
}

pub(super) struct Sink<'a, 'w> {
    shp: ShapeWriter<&'w mut BufWriter<File>>,
    dbf: TableWriter<&'w mut BufWriter<File>>,
    paths: &'a LayerPaths,
}

impl Sink<'_, '_> {
    pub(super) fn write<R: WritableRecord>(
        &mut self,
        shape: &Polygon,
        record: &R,
    ) -> Result<(), SampleError> {
        self.shp
            .write_shape(shape)
            .map_err(|source| SampleError::Shape {
                path: self.paths.temps[0].clone(),
                source,
            })?;
        self.dbf
            .write_record(record)
            .map_err(|source| SampleError::Dbf {
                path: self.paths.temps[2].clone(),
                source,
            })
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, SampleError> {
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(path).map_err(io_err(path))?,
    ))
}

/// Runs `body` against writers on the layer's temporary files and finishes
/// them. Writers borrow the buffers so that flush errors surface here instead
/// of being swallowed by the crates' `Drop` impls.
pub(super) fn write_layer<F>(
    paths: &LayerPaths,
    fields: FieldSpec,
    body: F,
) -> Result<(), SampleError>
where
    F: FnOnce(&mut Sink<'_, '_>) -> Result<(), SampleError>,
{
    let (shp_path, shx_path, dbf_path) = (&paths.temps[0], &paths.temps[1], &paths.temps[2]);
    let mut shp_buf = create(shp_path)?;
    let mut shx_buf = create(shx_path)?;
    let mut dbf_buf = create(dbf_path)?;
    let mut builder = TableWriterBuilder::with_encoding(EncodingRs::from(encoding_rs::GBK));
    for (name, kind) in fields {
        let field = FieldName::try_from(name).map_err(|reason| SampleError::Field {
            path: dbf_path.clone(),
            field: name,
            reason,
        })?;
        builder = match kind {
            FieldKind::Char(len) => builder.add_character_field(field, len),
            FieldKind::Num(len, dec) => builder.add_numeric_field(field, len, dec),
        };
    }
    {
        let mut sink = Sink {
            shp: ShapeWriter::with_shx(&mut shp_buf, &mut shx_buf),
            dbf: builder.build_with_dest(&mut dbf_buf),
            paths,
        };
        body(&mut sink)?;
        sink.shp.finalize().map_err(|source| SampleError::Shape {
            path: shp_path.clone(),
            source,
        })?;
        sink.dbf.finalize().map_err(|source| SampleError::Dbf {
            path: dbf_path.clone(),
            source,
        })?;
    }
    // dbase stamps today's date into bytes 1..4; pin it for reproducibility.
    dbf_buf.seek(SeekFrom::Start(1)).map_err(io_err(dbf_path))?;
    dbf_buf.write_all(&DBF_DATE).map_err(io_err(dbf_path))?;
    for (buf, path) in [
        (shp_buf, shp_path),
        (shx_buf, shx_path),
        (dbf_buf, dbf_path),
    ] {
        let file = buf.into_inner().map_err(|e| SampleError::Io {
            path: path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_err(path))?;
    }
    fs::write(&paths.temps[3], PRJ_WKT).map_err(io_err(&paths.temps[3]))?;
    fs::write(&paths.temps[4], "GBK").map_err(io_err(&paths.temps[4]))?;
    Ok(())
}

pub(super) enum FieldKind {
    Char(u8),
    Num(u8, u8),
}
pub(super) type FieldSpec = Vec<(&'static str, FieldKind)>;

// GBK needs two bytes per Chinese character; widths leave head-room.
pub(super) fn risk_fields() -> FieldSpec {
    vec![
        ("RISK_ID", FieldKind::Char(20)),
        ("RISK_CLASS", FieldKind::Char(20)),
        ("POLLUTANT", FieldKind::Char(20)),
        ("COUNTY", FieldKind::Char(20)),
        ("AREA_HA", FieldKind::Num(12, 2)),
    ]
}

pub(super) fn parcel_fields() -> FieldSpec {
    vec![
        ("PARCEL_ID", FieldKind::Char(16)),
        ("COUNTY", FieldKind::Char(20)),
        ("CROP", FieldKind::Char(10)),
        ("MEASURE", FieldKind::Char(24)),
        ("CROP_OK", FieldKind::Char(2)),
        ("ZLDWDM", FieldKind::Char(19)),
    ]
}

pub(super) fn county_fields() -> FieldSpec {
    vec![("NAME", FieldKind::Char(20)), ("CODE", FieldKind::Char(6))]
}

pub(super) struct RiskRecord<'a> {
    pub(super) id: &'a str,
    pub(super) class: &'a str,
    pub(super) pollutant: &'a str,
    pub(super) county: &'a str,
    pub(super) area_ha: f64,
}

impl WritableRecord for RiskRecord<'_> {
    fn write_using<W: Write>(&self, w: &mut FieldWriter<'_, W>) -> Result<(), FieldError> {
        w.write_next_field_value(&self.id)?;
        w.write_next_field_value(&self.class)?;
        w.write_next_field_value(&self.pollutant)?;
        w.write_next_field_value(&self.county)?;
        w.write_next_field_value(&self.area_ha)
    }
}

pub(super) struct ParcelRecord<'a> {
    pub(super) id: &'a str,
    pub(super) county: &'a str,
    pub(super) crop: &'a str,
    pub(super) measure: &'a str,
    pub(super) crop_ok: &'a str,
    pub(super) location: &'a str,
}

impl WritableRecord for ParcelRecord<'_> {
    fn write_using<W: Write>(&self, w: &mut FieldWriter<'_, W>) -> Result<(), FieldError> {
        w.write_next_field_value(&self.id)?;
        w.write_next_field_value(&self.county)?;
        w.write_next_field_value(&self.crop)?;
        w.write_next_field_value(&self.measure)?;
        w.write_next_field_value(&self.crop_ok)?;
        w.write_next_field_value(&self.location)
    }
}

pub(super) struct CountyRecord<'a> {
    pub(super) name: &'a str,
    pub(super) code: &'a str,
}

impl WritableRecord for CountyRecord<'_> {
    fn write_using<W: Write>(&self, w: &mut FieldWriter<'_, W>) -> Result<(), FieldError> {
        w.write_next_field_value(&self.name)?;
        w.write_next_field_value(&self.code)
    }
}

pub(super) fn to_shape(mp: &MultiPolygon<f64>) -> Polygon {
    let pts = |ls: &LineString<f64>| ls.0.iter().map(|c| Point::new(c.x, c.y)).collect();
    let mut rings = Vec::new();
    for p in &mp.0 {
        rings.push(PolygonRing::Outer(pts(p.exterior())));
        rings.extend(p.interiors().iter().map(|h| PolygonRing::Inner(pts(h))));
    }
    // with_rings closes rings and flips them to ESRI order (outer clockwise).
    Polygon::with_rings(rings)
}
