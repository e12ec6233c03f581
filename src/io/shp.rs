//! Reading ESRI shapefiles: geometry from the `.shp` (through the `shapefile` crate, read
//! sequentially, with the `.shx` when present), attributes from the `.dbf` (see `dbf`), the CRS
//! from the `.prj` and the text encoding from the `.cpg`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use geo::{Coord, MultiPolygon};
use rayon::prelude::*;
use shapefile::{Shape, ShapeReader, ShapeType};

use super::ReadOptions;
use super::dbf::read_dbf;
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

fn type_name(t: ShapeType) -> &'static str {
    match t {
        ShapeType::NullShape => "Null",
        ShapeType::Point => "Point",
        ShapeType::PointM => "PointM",
        ShapeType::PointZ => "PointZ",
        ShapeType::Polyline => "PolyLine",
        ShapeType::PolylineM => "PolyLineM",
        ShapeType::PolylineZ => "PolyLineZ",
        ShapeType::Polygon => "Polygon",
        ShapeType::PolygonM => "PolygonM",
        ShapeType::PolygonZ => "PolygonZ",
        ShapeType::Multipoint => "MultiPoint",
        ShapeType::MultipointM => "MultiPointM",
        ShapeType::MultipointZ => "MultiPointZ",
        ShapeType::Multipatch => "MultiPatch",
    }
}

/// Reads a polygon shapefile. Null shapes are skipped with a warning; any other non-polygon
/// type is refused with an error naming it. Geometry and attributes are read at the same time.
pub fn read_shapefile(path: &Path, opts: &ReadOptions) -> Result<Layer, LayerError> {
    let (geometry, attributes) =
        rayon::join(|| read_geometry(path), || read_attributes(path, opts));
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
        geometry_type: type_name(header_type).to_string(),
        fields,
        features,
        crs,
        encoding,
        warnings,
    })
}

/// Shape type, (record number, polygons) of each non-empty record, record count, warnings.
type Geometry = (
    ShapeType,
    Vec<(usize, MultiPolygon<f64>)>,
    usize,
    Vec<String>,
);

fn read_geometry(path: &Path) -> Result<Geometry, LayerError> {
    let file = File::open(path).map_err(|e| LayerError::io(path, e))?;
    let mut warnings = Vec::new();
    let reader = match sibling(path, "shx") {
        Some(shx) => {
            let shx_file = File::open(&shx).map_err(|e| LayerError::io(&shx, e))?;
            ShapeReader::with_shx(BufReader::new(file), BufReader::new(shx_file))
        }
        None => {
            warnings.push(format!(
                "{}: no .shx index beside it; records read in file order",
                path.display()
            ));
            ShapeReader::new(BufReader::new(file))
        }
    };
    let mut reader =
        reader.map_err(|e| LayerError::format(path, format!("not a valid shapefile ({e})")))?;
    let header_type = reader.header().shape_type;
    match header_type {
        ShapeType::Polygon | ShapeType::PolygonM | ShapeType::PolygonZ | ShapeType::NullShape => {}
        other => {
            return Err(LayerError::NotPolygons {
                path: path.to_path_buf(),
                kind: "the layer",
                found: type_name(other).to_string(),
            });
        }
    }

    fn rings<P>(
        rs: &[shapefile::PolygonRing<P>],
        xy: impl Fn(&P) -> Coord<f64>,
    ) -> Vec<Vec<Coord<f64>>> {
        rs.iter()
            .map(|r| r.points().iter().map(&xy).collect())
            .collect()
    }
    let mut raw: Vec<(usize, Vec<Vec<Coord<f64>>>)> = Vec::new();
    let mut nulls = 0usize;
    let mut record = 0usize;
    for shape in reader.iter_shapes() {
        record += 1;
        let shape = shape.map_err(|e| LayerError::record(path, record, e.to_string()))?;
        let r = match shape {
            Shape::NullShape => {
                nulls += 1;
                continue;
            }
            Shape::Polygon(p) => rings(p.rings(), |p| Coord { x: p.x, y: p.y }),
            Shape::PolygonM(p) => rings(p.rings(), |p| Coord { x: p.x, y: p.y }),
            Shape::PolygonZ(p) => rings(p.rings(), |p| Coord { x: p.x, y: p.y }),
            other => {
                return Err(LayerError::record(
                    path,
                    record,
                    format!(
                        "a {} shape in a polygon layer; soilrisk needs polygons",
                        type_name(other.shapetype())
                    ),
                ));
            }
        };
        raw.push((record, r));
    }
    if nulls > 0 {
        warnings.push(format!("{}: {nulls} null shape(s) skipped", path.display()));
    }
    let assembled: Vec<(usize, MultiPolygon<f64>, RingNotes)> = raw
        .into_par_iter()
        .map(|(record, rings)| {
            let (geometry, notes) = assemble(rings, true);
            (record, geometry, notes)
        })
        .collect();
    let mut shapes = Vec::with_capacity(assembled.len());
    for (record, geometry, notes) in assembled {
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
    Ok((header_type, shapes, record, warnings))
}

/// Fields, records, encoding description, CRS and warnings from the `.dbf`, `.cpg`, `.prj`.
type Attributes = (
    Vec<FieldDef>,
    Vec<Vec<Value>>,
    Option<String>,
    Option<Crs>,
    Vec<String>,
);

fn read_attributes(path: &Path, opts: &ReadOptions) -> Result<Attributes, LayerError> {
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
    } else if let Some(cpg) = sibling(path, "cpg") {
        let text = std::fs::read(&cpg).map_err(|e| LayerError::io(&cpg, e))?;
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
                cpg.display(),
                label.trim()
            )),
        }
    }

    let (fields, records, encoding) = match sibling(path, "dbf") {
        Some(dbf) => {
            let table = read_dbf(&dbf, forced)?;
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
    let crs = match sibling(path, "prj") {
        Some(prj) => {
            let text = std::fs::read(&prj).map_err(|e| LayerError::io(&prj, e))?;
            match Crs::from_prj(&String::from_utf8_lossy(&text)) {
                Ok(c) => Some(c),
                Err(e) => {
                    warnings.push(format!("{}: CRS not understood ({e})", prj.display()));
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
