//! Decoding a row's blob (`decode_row`) into the layer's values: numbers, texts, dates and
//! times, GUIDs as GDAL writes them; the shape is handed to `shape`.

use geo::Coord;

use super::bytes::Bytes;
use super::fields::{
    T_BINARY, T_DATE, T_DATETIME, T_DATETIME_OFFSET, T_FLOAT32, T_FLOAT64, T_GEOMETRY, T_GLOBALID,
    T_GUID, T_INT16, T_INT32, T_INT64, T_OBJECTID, T_STRING, T_TIME, T_XML,
};
use super::shape::parse_polygon;
use super::table::Schema;
use crate::io::intern::Interner;
use crate::layer::Value;

/// One decoded row: its rings (`None` for a null shape), what densifying noted, and values.
pub(super) struct Row {
    pub(super) rings: Option<Vec<Vec<Coord<f64>>>>,
    pub(super) elliptic: usize,
    pub(super) values: Vec<Value>,
}

/// Decodes a row's blob: null flags, then each column present in order. Columns not
/// `wanted` are stepped over without decoding; with `shape` false the shape is skipped.
/// Texts already in `shared` (from earlier batches) are shared rather than allocated again.
pub(super) fn decode_row(
    t: &Schema,
    wanted: &[bool],
    blob: &[u8],
    shape: bool,
    shared: &[Interner<std::sync::Arc<str>>],
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
                let known = shared
                    .get(col.slot.unwrap_or(usize::MAX))
                    .and_then(|i| i.peek(s).cloned());
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
}
