//! Reading GeoJSON (RFC 7946, and the 2008 form with a `crs` member) with the `geojson` crate,
//! streaming a FeatureCollection's features through serde rather than building the document.

use std::io::Read;
use std::path::Path;

use geo::Coord;
use geojson::{GeoJson, GeometryValue, JsonValue, Position};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::rings::assemble;
use crate::crs::Crs;
use crate::error::LayerError;
use crate::layer::{Feature, FieldDef, FieldKind, Layer, Value};

fn ring(positions: &[Position]) -> Vec<Coord<f64>> {
    positions
        .iter()
        .filter_map(|p| {
            let s = p.as_slice();
            (s.len() >= 2).then(|| Coord { x: s[0], y: s[1] })
        })
        .collect()
}

/// Reads a GeoJSON FeatureCollection, Feature or bare geometry of polygons. A collection's
/// features are read one at a time from the file, so memory holds the layer being built and
/// one feature, not the whole text or a tree of it.
pub fn read_geojson(path: &Path) -> Result<Layer, LayerError> {
    let file = std::fs::File::open(path).map_err(|e| LayerError::io(path, e))?;
    parse_reader(path, std::io::BufReader::with_capacity(1 << 20, file))
}

/// Reads GeoJSON text; `path` names it in messages.
pub fn parse_geojson(path: &Path, text: String) -> Result<Layer, LayerError> {
    parse_reader(path, text.as_bytes())
}

fn parse_reader(path: &Path, reader: impl Read) -> Result<Layer, LayerError> {
    let not_geojson =
        |e: &dyn std::fmt::Display| LayerError::format(path, format!("not GeoJSON ({e})"));
    let mut builder = Builder::new(path);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let top = TopSeed {
        builder: &mut builder,
    }
    .deserialize(&mut de)
    .map_err(|e| not_geojson(&e))?;
    de.end().map_err(|e| not_geojson(&e))?;
    let crs_member = match top {
        Top::Collection { crs } => crs,
        Top::Other(members) => {
            // A lone Feature or geometry: small, so it goes through the crate's own parser.
            let gj: GeoJson =
                serde_json::from_value(JsonValue::Object(members)).map_err(|e| not_geojson(&e))?;
            match gj {
                GeoJson::Feature(f) => builder.add(f),
                GeoJson::Geometry(g) => builder.add(geojson::Feature {
                    bbox: None,
                    geometry: Some(g),
                    id: None,
                    properties: None,
                    foreign_members: None,
                }),
                GeoJson::FeatureCollection(_) => {
                    return Err(not_geojson(&"a FeatureCollection without features"));
                }
            }
            None
        }
    };
    builder.finish(crs_member)
}

/// What the top-level object turned out to be.
enum Top {
    /// A FeatureCollection, its features already streamed into the builder.
    Collection { crs: Option<JsonValue> },
    /// Anything else, kept whole.
    Other(serde_json::Map<String, JsonValue>),
}

struct TopSeed<'a, 'p> {
    builder: &'a mut Builder<'p>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = Top;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = Top;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a GeoJSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut members = serde_json::Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" {
                map.next_value_seed(FeaturesSeed {
                    builder: &mut *self.builder,
                })?;
                streamed = true;
            } else {
                let v: JsonValue = map.next_value()?;
                members.insert(key, v);
            }
        }
        if !streamed {
            return Ok(Top::Other(members));
        }
        match members.get("type").and_then(JsonValue::as_str) {
            Some("FeatureCollection") => Ok(Top::Collection {
                crs: members.remove("crs"),
            }),
            other => Err(serde::de::Error::custom(format!(
                "an object with features but type {other:?}, not \"FeatureCollection\""
            ))),
        }
    }
}

struct FeaturesSeed<'a, 'p> {
    builder: &'a mut Builder<'p>,
}

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(f) = seq.next_element::<geojson::Feature>()? {
            self.builder.add(f);
        }
        Ok(())
    }
}

/// The layer as features arrive: columns in order of first appearance, each typed by its
/// first non-null value (mixed types become text).
struct Builder<'p> {
    path: &'p Path,
    fields: Vec<FieldDef>,
    typed: Vec<bool>,
    index: std::collections::HashMap<String, usize>,
    features: Vec<Feature>,
    warnings: Vec<String>,
    nulls: usize,
    others: std::collections::BTreeMap<&'static str, usize>,
    geometry_type: String,
    record: usize,
}

impl<'p> Builder<'p> {
    fn new(path: &'p Path) -> Self {
        Builder {
            path,
            fields: Vec::new(),
            typed: Vec::new(),
            index: Default::default(),
            features: Vec::new(),
            warnings: Vec::new(),
            nulls: 0,
            others: Default::default(),
            geometry_type: "Polygon".into(),
            record: 0,
        }
    }

    fn add(&mut self, f: geojson::Feature) {
        self.record += 1;
        let record = self.record;
        let path = self.path;
        let Some(g) = f.geometry else {
            self.nulls += 1;
            return;
        };
        let polygons: Vec<&Vec<Vec<Position>>> = match &g.value {
            GeometryValue::Polygon { coordinates } => vec![coordinates],
            GeometryValue::MultiPolygon { coordinates } => {
                self.geometry_type = "MultiPolygon".into();
                coordinates.iter().collect()
            }
            other => {
                // As QGIS splits a mixed file into one layer per type, the polygons are the
                // layer; other types are counted and skipped.
                *self.others.entry(other.type_name()).or_insert(0) += 1;
                return;
            }
        };
        // Each GeoJSON polygon already says which ring is the shell; assemble per polygon
        // so a hole can never move to another part.
        let mut parts = Vec::new();
        for rings in polygons {
            let rings: Vec<Vec<Coord<f64>>> = rings.iter().map(|r| ring(r)).collect();
            let (mp, notes) = assemble(rings, false);
            if !notes.is_empty() {
                self.warnings.push(format!(
                    "{}, feature {record}: {}",
                    path.display(),
                    notes.describe()
                ));
            }
            parts.extend(mp.0);
        }
        if parts.is_empty() {
            self.warnings.push(format!(
                "{}, feature {record}: no usable ring; feature skipped",
                path.display()
            ));
            return;
        }
        let mut values = vec![Value::Null; self.fields.len()];
        if let Some(props) = f.properties {
            for (k, v) in props {
                let kind = match &v {
                    JsonValue::Number(_) => Some(FieldKind::Number),
                    JsonValue::Bool(_) => Some(FieldKind::Bool),
                    JsonValue::Null => None,
                    _ => Some(FieldKind::Text),
                };
                let i = match self.index.get(&k) {
                    Some(&i) => i,
                    None => {
                        let i = self.fields.len();
                        self.index.insert(k.clone(), i);
                        self.fields.push(FieldDef {
                            name: k,
                            kind: FieldKind::Text,
                        });
                        self.typed.push(false);
                        values.push(Value::Null);
                        i
                    }
                };
                if let Some(kind) = kind {
                    if !self.typed[i] {
                        self.fields[i].kind = kind;
                        self.typed[i] = true;
                    } else if self.fields[i].kind != kind {
                        self.fields[i].kind = FieldKind::Text;
                    }
                }
                values[i] = json_value(v);
            }
        }
        self.features.push(Feature {
            record,
            geometry: geo::MultiPolygon::new(parts),
            values,
        });
    }

    fn finish(mut self, crs_member: Option<JsonValue>) -> Result<Layer, LayerError> {
        let path = self.path;
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
                        self.warnings.push(format!(
                            "{}: crs member {name:?} not understood; the CRS is unknown",
                            path.display()
                        ));
                        None
                    }
                }
            }
        };
        // Columns that first appeared after a feature was read: those features lack them.
        let width = self.fields.len();
        for f in &mut self.features {
            f.values.resize(width, Value::Null);
            // A value typed text after all is shown as text.
            for (v, def) in f.values.iter_mut().zip(&self.fields) {
                if def.kind == FieldKind::Text
                    && let Value::Number(_) | Value::Bool(_) = v
                {
                    *v = Value::Text(v.display().into());
                }
            }
        }
        if self.nulls > 0 {
            self.warnings.push(format!(
                "{}: {} feature(s) without geometry skipped",
                path.display(),
                self.nulls
            ));
        }
        if !self.others.is_empty() {
            let list = self
                .others
                .iter()
                .map(|(t, n)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ");
            if self.features.is_empty() {
                return Err(LayerError::NotPolygons {
                    path: path.to_path_buf(),
                    kind: "the layer",
                    found: list,
                });
            }
            self.warnings.push(format!(
                "{}: {list} feature(s) skipped; soilrisk reads the polygons",
                path.display()
            ));
        }
        Ok(Layer {
            path: path.to_path_buf(),
            geometry_type: self.geometry_type,
            fields: self.fields,
            features: self.features,
            crs,
            encoding: Some("UTF-8 (GeoJSON)".into()),
            warnings: self.warnings,
        })
    }
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
