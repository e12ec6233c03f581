//! A table's field list, as its header describes it (`parse_fields`): the format's field
//! type codes, each column's name, type and nullability, and the geometry field's
//! coordinate system (WKT) and precision.

use super::bytes::{Bytes, SHORT};
use crate::layer::FieldKind;

// Field type codes of the format.
pub(super) const T_INT16: u8 = 0;
pub(super) const T_INT32: u8 = 1;
pub(super) const T_FLOAT32: u8 = 2;
pub(super) const T_FLOAT64: u8 = 3;
pub(super) const T_STRING: u8 = 4;
pub(super) const T_DATETIME: u8 = 5;
pub(super) const T_OBJECTID: u8 = 6;
pub(super) const T_GEOMETRY: u8 = 7;
pub(super) const T_BINARY: u8 = 8;
const T_RASTER: u8 = 9;
pub(super) const T_GUID: u8 = 10;
pub(super) const T_GLOBALID: u8 = 11;
pub(super) const T_XML: u8 = 12;
pub(super) const T_INT64: u8 = 13;
pub(super) const T_DATE: u8 = 14;
pub(super) const T_TIME: u8 = 15;
pub(super) const T_DATETIME_OFFSET: u8 = 16;

/// A column of a table as its header describes it.
#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) name: String,
    pub(super) kind: u8,
    pub(super) nullable: bool,
    /// Its place among the layer's attribute fields (`None` for the object id and the shape).
    pub(super) slot: Option<usize>,
}

/// The geometry column's coordinate system and precision.
#[derive(Debug, Clone, Default)]
pub(super) struct GeometryDef {
    pub(super) wkt: String,
    pub(super) x_origin: f64,
    pub(super) y_origin: f64,
    pub(super) xy_scale: f64,
    pub(super) has_z: bool,
    pub(super) has_m: bool,
}

pub(super) type ParsedFields = (u8, Vec<Column>, Option<GeometryDef>);

/// The field list of a table header (after its size).
pub(super) fn parse_fields(desc: &[u8]) -> Result<ParsedFields, String> {
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

pub(super) fn field_kind(kind: u8) -> FieldKind {
    match kind {
        T_INT16 | T_INT32 | T_FLOAT32 | T_FLOAT64 | T_INT64 => FieldKind::Number,
        T_DATETIME | T_DATE | T_DATETIME_OFFSET => FieldKind::Date,
        _ => FieldKind::Text,
    }
}

/// The name of a table's geometry type, as the refusal says it.
pub(super) fn geometry_type_name(code: u8) -> &'static str {
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
