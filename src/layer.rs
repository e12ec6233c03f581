//! The in-memory form of a vector layer: polygons with their attributes, CRS, text encoding and
//! the warnings collected while reading. Readers (`io`) produce it; the analysis reads it.

use std::path::PathBuf;
use std::sync::Arc;

use geo::{MultiPolygon, Rect};

use crate::crs::Crs;

/// The type of an attribute column, as declared by the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Bool,
    Date,
}

impl FieldKind {
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Text => "String",
            FieldKind::Number => "Real",
            FieldKind::Bool => "Boolean",
            FieldKind::Date => "Date",
        }
    }
}

/// An attribute column.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub kind: FieldKind,
}

/// One attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// Shared: a county or measure name repeated a million times is stored once.
    Text(Arc<str>),
    Number(f64),
    Bool(bool),
    /// ISO 8601 date, `YYYY-MM-DD`.
    Date(Box<str>),
}

impl Value {
    /// The value as a user sees it in a table; numbers without a trailing `.0`.
    pub fn display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.to_string(),
            Value::Date(s) => s.to_string(),
            Value::Number(n) => format_number(*n),
            Value::Bool(b) => b.to_string(),
        }
    }
}

/// Formats a number the way attribute tables show it: integers without a decimal point.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The position of the field called `name`: the exact name first, else ignoring ASCII case
/// (dBase field names are often upper case).
pub fn find_field(fields: &[FieldDef], name: &str) -> Option<usize> {
    fields.iter().position(|f| f.name == name).or_else(|| {
        fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(name))
    })
}

/// One polygon feature. `record` is the 1-based record number in the source file, the number
/// warnings and errors quote.
#[derive(Debug, Clone)]
pub struct Feature {
    pub record: usize,
    pub geometry: MultiPolygon<f64>,
    pub values: Vec<Value>,
}

impl Feature {
    /// The text of `field`, trimmed, empty for null (as `Layer::text`), sharing the stored
    /// string where it can: a million parcels' county and measure names then cost no new
    /// allocation.
    pub fn shared_text(&self, field: usize) -> Arc<str> {
        match self.values.get(field) {
            Some(Value::Text(s)) if s.trim().len() == s.len() => s.clone(),
            Some(v) => v.display().trim().into(),
            None => "".into(),
        }
    }

    /// As `shared_text`, moving a stored string out of the feature (leaving `Value::Null`)
    /// rather than sharing it: no reference count changes, which threads reading and
    /// dropping a million parcels' shared county names otherwise contend for.
    pub fn take_text(&mut self, field: usize) -> Arc<str> {
        if let Some(slot) = self.values.get_mut(field)
            && matches!(slot, Value::Text(s) if s.trim().len() == s.len())
            && let Value::Text(s) = std::mem::replace(slot, Value::Null)
        {
            return s;
        }
        self.shared_text(field)
    }
}

/// A polygon layer as read from one file.
#[derive(Debug, Clone)]
pub struct Layer {
    pub path: PathBuf,
    /// Geometry type as the file declares it (`Polygon`, `PolygonZ`, `MultiPolygon`, ...).
    pub geometry_type: String,
    pub fields: Vec<FieldDef>,
    pub features: Vec<Feature>,
    /// `None` when the file says nothing about its CRS (a shapefile without `.prj`).
    pub crs: Option<Crs>,
    /// The text encoding used for attributes, and why it was chosen.
    pub encoding: Option<String>,
    /// Records skipped or repaired, a missing `.prj`, ...: each names the file and record.
    pub warnings: Vec<String>,
}

impl Layer {
    /// Index of the field called `name` (exact match first, then case-insensitive, as DBF
    /// field names are upper-cased by many writers).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        find_field(&self.fields, name)
    }

    /// Comma-separated field names, for error messages.
    pub fn field_list(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Bounding box of all features, in the layer's CRS; `None` for an empty layer.
    pub fn extent(&self) -> Option<Rect<f64>> {
        use crate::geom::boxes::{bounds, union_rect};
        self.features
            .iter()
            .filter_map(|f| bounds(&f.geometry))
            .reduce(union_rect)
    }

    /// The text of `field` in `feature`, trimmed; empty for null.
    pub fn text(&self, feature: &Feature, field: usize) -> String {
        feature.shared_text(field).to_string()
    }
}
