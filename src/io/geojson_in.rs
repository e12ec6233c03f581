//! Reading GeoJSON (RFC 7946, and the 2008 form with a `crs` member) with the `geojson` crate.

use std::path::Path;

use geo::Coord;
use geojson::{GeoJson, GeometryValue, JsonValue, Position};

use super::rings::assemble;
use crate::crs::Crs;
use crate::error::LayerError;
use crate::layer::{Feature, FieldDef, FieldKind, Layer, LayerFormat, Value};

fn ring(positions: &[Position]) -> Vec<Coord<f64>> {
    positions
        .iter()
        .filter_map(|p| {
            let s = p.as_slice();
            (s.len() >= 2).then(|| Coord { x: s[0], y: s[1] })
        })
        .collect()
}

/// Reads a GeoJSON FeatureCollection, Feature or bare geometry of polygons.
pub fn read_geojson(path: &Path) -> Result<Layer, LayerError> {
    let text = std::fs::read_to_string(path).map_err(|e| LayerError::io(path, e))?;
    parse_geojson(path, text)
}

/// Reads GeoJSON text; `path` names it in messages.
pub fn parse_geojson(path: &Path, text: String) -> Result<Layer, LayerError> {
    let gj: GeoJson = text
        .parse()
        .map_err(|e| LayerError::format(path, format!("not GeoJSON ({e})")))?;
    drop(text);
    let (features, crs_member) = match gj {
        GeoJson::FeatureCollection(fc) => {
            let crs = fc
                .foreign_members
                .as_ref()
                .and_then(|m| m.get("crs").cloned());
            (fc.features, crs)
        }
        GeoJson::Feature(f) => (vec![f], None),
        GeoJson::Geometry(g) => (
            vec![geojson::Feature {
                bbox: None,
                geometry: Some(g),
                id: None,
                properties: None,
                foreign_members: None,
            }],
            None,
        ),
    };

    let mut warnings = Vec::new();
    let crs = match crs_member {
        None => Some(Crs::wgs84()),
        Some(v) => {
            let name = v
                .pointer("/properties/name")
                .and_then(JsonValue::as_str)
                .unwrap_or_default()
                .to_string();
            match Crs::from_name(&name) {
                Some(c) => Some(c),
                None => {
                    warnings.push(format!(
                        "{}: crs member {name:?} not understood; the CRS is unknown",
                        path.display()
                    ));
                    None
                }
            }
        }
    };

    // Columns in order of first appearance; the kind from the first non-null value.
    let mut fields: Vec<FieldDef> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for f in &features {
        if let Some(props) = &f.properties {
            for (k, v) in props {
                let kind = match v {
                    JsonValue::Number(_) => Some(FieldKind::Number),
                    JsonValue::Bool(_) => Some(FieldKind::Bool),
                    JsonValue::Null => None,
                    _ => Some(FieldKind::Text),
                };
                match index.get(k) {
                    None => {
                        index.insert(k.clone(), fields.len());
                        fields.push(FieldDef {
                            name: k.clone(),
                            kind: kind.unwrap_or(FieldKind::Text),
                        });
                    }
                    Some(&i) => {
                        if let Some(kind) = kind
                            && fields[i].kind != kind
                        {
                            fields[i].kind = FieldKind::Text;
                        }
                    }
                }
            }
        }
    }

    let mut out = Vec::with_capacity(features.len());
    let mut nulls = 0;
    let mut others: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut geometry_type = String::from("Polygon");
    for (i, f) in features.into_iter().enumerate() {
        let record = i + 1;
        let Some(g) = f.geometry else {
            nulls += 1;
            continue;
        };
        let polygons: Vec<&Vec<Vec<Position>>> = match &g.value {
            GeometryValue::Polygon { coordinates } => vec![coordinates],
            GeometryValue::MultiPolygon { coordinates } => {
                geometry_type = "MultiPolygon".into();
                coordinates.iter().collect()
            }
            other => {
                // As QGIS splits a mixed file into one layer per type, the polygons are the
                // layer; other types are counted and skipped.
                *others.entry(other.type_name()).or_insert(0usize) += 1;
                continue;
            }
        };
        // Each GeoJSON polygon already says which ring is the shell; assemble per polygon
        // so a hole can never move to another part.
        let mut parts = Vec::new();
        for rings in polygons {
            let rings: Vec<Vec<Coord<f64>>> = rings.iter().map(|r| ring(r)).collect();
            let (mp, notes) = assemble(rings, false);
            if !notes.is_empty() {
                warnings.push(format!(
                    "{}, feature {record}: {}",
                    path.display(),
                    notes.describe()
                ));
            }
            parts.extend(mp.0);
        }
        if parts.is_empty() {
            warnings.push(format!(
                "{}, feature {record}: no usable ring; feature skipped",
                path.display()
            ));
            continue;
        }
        let mut values = vec![Value::Null; fields.len()];
        if let Some(props) = f.properties {
            for (k, v) in props {
                if let Some(&i) = index.get(&k) {
                    values[i] = json_value(v);
                }
            }
        }
        out.push(Feature {
            record,
            geometry: geo::MultiPolygon::new(parts),
            values,
        });
    }
    if nulls > 0 {
        warnings.push(format!(
            "{}: {nulls} feature(s) without geometry skipped",
            path.display()
        ));
    }
    if !others.is_empty() {
        let list = others
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        if out.is_empty() {
            return Err(LayerError::NotPolygons {
                path: path.to_path_buf(),
                kind: "the layer",
                found: list,
            });
        }
        warnings.push(format!(
            "{}: {list} feature(s) skipped; soilrisk reads the polygons",
            path.display()
        ));
    }
    Ok(Layer {
        path: path.to_path_buf(),
        format: LayerFormat::GeoJson,
        geometry_type,
        fields,
        features: out,
        crs,
        encoding: Some("UTF-8 (GeoJSON)".into()),
        warnings,
    })
}

fn json_value(v: JsonValue) -> Value {
    match v {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(b),
        JsonValue::Number(n) => n.as_f64().map_or(Value::Null, Value::Number),
        JsonValue::String(s) => Value::Text(s.into()),
        other => Value::Text(other.to_string().into()),
    }
}
