//! `--write-back SCHEMA`: the results as two tables of the parcel layer's PostGIS database,
//! `SCHEMA.soilrisk_parcels` (the parcels at risk, with the fields of `parcels.geojson`,
//! `export::PARCEL_FIELDS`, their status and geometry in the analysis CRS, a GiST index) and
//! `SCHEMA.soilrisk_regions` (the rows of `summary.json`'s `by_region`, [`REGION_COLUMNS`]),
//! so that a web map or a colleague's QGIS reads them where they are.
//!
//! Both are written in one transaction: the schema created if missing, an earlier run's
//! tables dropped, the new ones created and filled with `COPY` (text format, geometries as
//! hex EWKB), then committed. PostgreSQL's DDL is transactional, so readers see the earlier
//! tables until the commit and the new ones after it; a failure anywhere (a lost
//! connection, a full disk) rolls back and leaves the earlier tables as they were.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use geo::MultiPolygon;

use crate::compare::ParcelState;
use crate::error::LayerError;
use crate::export::{OutKind, OutValue, PARCEL_FIELDS, parcel_order, parcel_values};
use crate::io::postgis::connect::{self, query_error, quote_ident};
use crate::io::postgis::{self, Server};
use crate::pipeline::{Analysis, Control, Phase};
use crate::stats::Summary;

/// The parcels' table.
pub const PARCELS_TABLE: &str = "soilrisk_parcels";
/// The regions' table.
pub const REGIONS_TABLE: &str = "soilrisk_regions";

/// The columns of `soilrisk_regions`: the fields of `summary.json`'s `by_region` rows
/// (`stats::RegionSummary`), in order (a test holds them to the struct).
pub const REGION_COLUMNS: [(&str, OutKind); 14] = [
    ("region", OutKind::Text),
    ("code", OutKind::Text),
    ("parcels", OutKind::Count),
    ("parcels_at_risk", OutKind::Count),
    ("cultivated_area_m2", OutKind::Number),
    ("contaminated_area_m2", OutKind::Number),
    ("priority_treated_area_m2", OutKind::Number),
    ("safe_use_treated_area_m2", OutKind::Number),
    ("strict_control_treated_area_m2", OutKind::Number),
    ("treated_area_m2", OutKind::Number),
    ("untreated_area_m2", OutKind::Number),
    ("safe_utilization_rate", OutKind::Number),
    ("gap_to_target_m2", OutKind::Number),
    ("untreated_parcels", OutKind::Count),
];

/// Rows sent between checks for cancellation and reports of progress.
const BLOCK: usize = 4096;

/// What was written: the tables, with their row counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// `SCHEMA.soilrisk_parcels` and `SCHEMA.soilrisk_regions`, as a URL names them.
    pub tables: [String; 2],
    pub parcels: usize,
    pub regions: usize,
}

/// PostgreSQL's longest identifier, in bytes (a longer one is cut short by the server).
const MAX_IDENTIFIER: usize = 63;

/// The database `--write-back` writes into (the parcel layer's, which must be a PostGIS
/// table), once `schema` is found a name the server keeps as it is: checked before the
/// analysis, so that a bad name costs no run.
pub fn server_of(parcels: &Path, schema: &str) -> Result<Server, LayerError> {
    if schema.is_empty() || schema.len() > MAX_IDENTIFIER {
        return Err(LayerError::format(
            parcels,
            format!(
                "--write-back needs a schema name of 1 to {MAX_IDENTIFIER} bytes, not {schema:?}"
            ),
        ));
    }
    if !postgis::is_url(parcels) {
        return Err(LayerError::format(
            parcels,
            "--write-back writes into the parcel layer's PostGIS database; this parcel layer \
             is a file (name a postgresql:// table as --parcels)",
        ));
    }
    Ok(postgis::parse(parcels)?.server)
}

/// Writes both tables into `schema` of `server`'s database (see the module's
/// documentation). Errors name the tables' URL.
pub fn write_back(
    server: &Server,
    schema: &str,
    a: &Analysis,
    summary: &Summary,
    ctl: Control,
) -> Result<Written, LayerError> {
    let table = |t: &str| postgis::TableName {
        schema: Some(schema.to_string()),
        table: t.to_string(),
    };
    let url = server.table_url(&table(PARCELS_TABLE), None);
    let path = Path::new(&url);
    let mut conn = connect::connect(server, path)?;
    connect::postgis_version(&mut conn.client, server, path)?;
    let srid = srid_of(&mut conn.client, a, path)?;
    let order = parcel_order(a);
    let s = quote_ident(schema);
    let parcels = format!("{s}.{}", quote_ident(PARCELS_TABLE));
    let regions = format!("{s}.{}", quote_ident(REGIONS_TABLE));

    let mut tx = conn
        .client
        .transaction()
        .map_err(|e| query_error(path, "cannot begin the write-back", &e))?;
    let mut ddl = format!(
        "CREATE SCHEMA IF NOT EXISTS {s}; DROP TABLE IF EXISTS {parcels}; \
         DROP TABLE IF EXISTS {regions}; CREATE TABLE {parcels} (fid bigint PRIMARY KEY"
    );
    for (field, kind) in PARCEL_FIELDS {
        let _ = write!(ddl, ", {} {}", quote_ident(field), sql_type(kind));
    }
    let _ = write!(
        ddl,
        ", status text, geom geometry(MultiPolygon, {srid})); CREATE TABLE {regions} (fid bigint PRIMARY KEY"
    );
    for (field, kind) in REGION_COLUMNS {
        let _ = write!(ddl, ", {} {}", quote_ident(field), sql_type(kind));
    }
    ddl.push_str(");");
    tx.batch_execute(&ddl)
        .map_err(|e| query_error(path, "cannot create the tables", &e))?;

    // The parcels, a block of COPY lines at a time.
    let mut columns: Vec<String> = vec!["fid".into()];
    columns.extend(PARCEL_FIELDS.iter().map(|(f, _)| quote_ident(f)));
    columns.extend(["status".into(), "geom".into()]);
    let copy = format!("COPY {parcels} ({}) FROM STDIN", columns.join(", "));
    {
        let mut writer = tx
            .copy_in(copy.as_str())
            .map_err(|e| query_error(path, "cannot write the parcels", &e))?;
        let mut line = String::new();
        let mut block = String::new();
        let total = order.len().max(1) as f32;
        for (k, &i) in order.iter().enumerate() {
            line.clear();
            let _ = write!(line, "{}", k + 1);
            for v in parcel_values(a, i) {
                line.push('\t');
                push_value(&mut line, &v);
            }
            let r = &a.parcel_results[i];
            line.push('\t');
            line.push_str(ParcelState::from_areas(r.contaminated_m2(), r.treated_m2).code());
            line.push('\t');
            push_ewkb_hex(
                &mut line,
                &a.parcels.features[a.parcel_info[i].feature].geometry,
                srid,
            );
            line.push('\n');
            block.push_str(&line);
            if (k + 1) % BLOCK == 0 {
                writer.write_all(block.as_bytes()).map_err(|e| {
                    LayerError::format(path, format!("cannot write the parcels ({e})"))
                })?;
                block.clear();
                ctl.report(Phase::WriteBack, (k + 1) as f32 / total);
                if ctl.cancelled() {
                    // Dropping the writer and the transaction rolls everything back.
                    return Err(LayerError::format(path, "the write-back was cancelled"));
                }
            }
        }
        writer
            .write_all(block.as_bytes())
            .map_err(|e| LayerError::format(path, format!("cannot write the parcels ({e})")))?;
        writer
            .finish()
            .map_err(|e| query_error(path, "cannot write the parcels", &e))?;
    }

    // The regions, from `summary.json`'s rows.
    let mut text = String::new();
    for (k, row) in summary.by_region.iter().enumerate() {
        let value = serde_json::to_value(row).unwrap_or_default();
        let _ = write!(text, "{}", k + 1);
        for (field, kind) in REGION_COLUMNS {
            text.push('\t');
            let v = &value[field];
            let out = match kind {
                OutKind::Count => OutValue::Count(v.as_u64().unwrap_or(0) as usize),
                OutKind::Number => OutValue::Number(v.as_f64()),
                _ => OutValue::text_or_null(v.as_str()),
            };
            push_value(&mut text, &out);
        }
        text.push('\n');
    }
    let mut columns: Vec<String> = vec!["fid".into()];
    columns.extend(REGION_COLUMNS.iter().map(|(f, _)| quote_ident(f)));
    let copy = format!("COPY {regions} ({}) FROM STDIN", columns.join(", "));
    let mut writer = tx
        .copy_in(copy.as_str())
        .map_err(|e| query_error(path, "cannot write the regions", &e))?;
    writer
        .write_all(text.as_bytes())
        .map_err(|e| LayerError::format(path, format!("cannot write the regions ({e})")))?;
    writer
        .finish()
        .map_err(|e| query_error(path, "cannot write the regions", &e))?;

    tx.batch_execute(&format!(
        "CREATE INDEX ON {parcels} USING GIST (geom); ANALYZE {parcels}; ANALYZE {regions};"
    ))
    .map_err(|e| query_error(path, "cannot index the parcels", &e))?;
    tx.commit()
        .map_err(|e| query_error(path, "cannot commit the write-back", &e))?;
    ctl.report(Phase::WriteBack, 1.0);
    Ok(Written {
        tables: [table(PARCELS_TABLE).text(), table(REGIONS_TABLE).text()],
        parcels: order.len(),
        regions: summary.by_region.len(),
    })
}

/// The SRID the geometries are written with: the analysis CRS's EPSG code where the
/// database knows it, else 0 (no SRID), as a GeoPackage writes an unknown CRS.
fn srid_of(client: &mut postgres::Client, a: &Analysis, path: &Path) -> Result<i32, LayerError> {
    let Some(code) = a.crs.as_ref().and_then(|c| c.epsg()) else {
        return Ok(0);
    };
    let code = i32::try_from(code).unwrap_or(0);
    let known = client
        .query_opt(
            "SELECT srid FROM spatial_ref_sys WHERE srid = $1 AND auth_name = 'EPSG'",
            &[&code],
        )
        .map_err(|e| query_error(path, "cannot read spatial_ref_sys", &e))?
        .is_some();
    Ok(if known { code } else { 0 })
}

/// The SQL type of an output field.
fn sql_type(kind: OutKind) -> &'static str {
    match kind {
        OutKind::Text => "text",
        OutKind::TextList => "text[]",
        OutKind::Number => "double precision",
        OutKind::Count => "bigint",
    }
}

/// Appends a value as `COPY`'s text format writes it (`\N` for null).
fn push_value(out: &mut String, v: &OutValue<'_>) {
    match v {
        OutValue::Text(None) | OutValue::Number(None) => out.push_str("\\N"),
        OutValue::Text(Some(s)) => push_copy_text(out, s),
        OutValue::Number(Some(x)) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        OutValue::Number(Some(_)) => out.push_str("\\N"),
        OutValue::Count(n) => {
            let _ = write!(out, "{n}");
        }
        OutValue::TextList(list) => {
            // An array literal (`{"a","b"}`, each element quoted with `\` and `"` escaped),
            // then escaped as COPY text.
            let mut literal = String::from("{");
            for (k, s) in list.iter().enumerate() {
                if k > 0 {
                    literal.push(',');
                }
                literal.push('"');
                for c in s.chars() {
                    if matches!(c, '"' | '\\') {
                        literal.push('\\');
                    }
                    literal.push(c);
                }
                literal.push('"');
            }
            literal.push('}');
            push_copy_text(out, &literal);
        }
    }
}

/// Text escaped for `COPY`'s text format: backslash, tab, newline and carriage return.
fn push_copy_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// A multipolygon as hex EWKB (little endian, with its SRID), which PostGIS's geometry
/// input reads.
fn push_ewkb_hex(out: &mut String, mp: &MultiPolygon<f64>, srid: i32) {
    let mut b: Vec<u8> = Vec::with_capacity(64);
    b.push(1);
    b.extend_from_slice(&(6u32 | 0x2000_0000).to_le_bytes());
    b.extend_from_slice(&srid.to_le_bytes());
    b.extend_from_slice(&(mp.0.len() as u32).to_le_bytes());
    for p in &mp.0 {
        b.push(1);
        b.extend_from_slice(&3u32.to_le_bytes());
        let rings = std::iter::once(p.exterior()).chain(p.interiors());
        b.extend_from_slice(&(1 + p.interiors().len() as u32).to_le_bytes());
        for r in rings {
            b.extend_from_slice(&(r.0.len() as u32).to_le_bytes());
            for c in &r.0 {
                b.extend_from_slice(&c.x.to_le_bytes());
                b.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(b.len() * 2);
    for byte in b {
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 15)] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_columns_are_summary_json_s_row_fields() {
        let row = serde_json::to_value(crate::stats::RegionSummary::default()).unwrap();
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let columns: Vec<&str> = REGION_COLUMNS.iter().map(|(n, _)| *n).collect();
        assert_eq!(keys, columns);
    }

    #[test]
    fn copy_text_escapes_what_it_must() {
        let mut s = String::new();
        push_value(&mut s, &OutValue::text("a\tb\\c\nd"));
        assert_eq!(s, "a\\tb\\\\c\\nd");
        s.clear();
        push_value(&mut s, &OutValue::TextList(vec!["R\"1", "x\\y"]));
        assert_eq!(s, "{\"R\\\\\"1\",\"x\\\\\\\\y\"}");
        s.clear();
        push_value(&mut s, &OutValue::Number(Some(f64::NAN)));
        assert_eq!(s, "\\N");
    }

    #[test]
    fn ewkb_round_trips_through_the_reader() {
        let mp = MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 0.0)]),
            vec![],
        )]);
        let mut hex = String::new();
        push_ewkb_hex(&mut hex, &mp, 4544);
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let (srid, shape) = crate::io::gpkg_geom::decode_ewkb(&bytes).unwrap();
        assert_eq!(srid, Some(4544));
        let (back, _, _) = crate::io::gpkg::assemble_shape(shape).unwrap();
        assert_eq!(back, mp);
    }
}
