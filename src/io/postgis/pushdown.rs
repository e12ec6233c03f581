//! `analyze --engine postgis`: the overlay run inside PostGIS by the statements of
//! `overlay.sql` (one readable file, with a note on Citus), over the risk-area table and the
//! parcel table of one database. soilrisk reads the risk layer itself (its classes go
//! through the same vocabularies as ever, and are sent as parameters), then reads the
//! parcels through the last statement's cursor: each parcel's area, class areas and
//! risk-area pieces as numbers, its box, and the geometry of the parcels at risk only.
//! `reader::PostGisReader` decodes the rows; `pipeline` turns the numbers into the same
//! results its own overlay gives.

use std::path::PathBuf;

/// The SQL, with `{names}` soilrisk fills (see its header).
pub const OVERLAY_SQL: &str = include_str!("overlay.sql");

/// How the database measures areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaSql {
    /// `ST_Area` in the tables' CRS (metres on a projection).
    Planar,
    /// `ST_Area` on the WGS 84 spheroid (`geography`), CGCS2000 being taken as WGS 84.
    Spheroid,
}

impl AreaSql {
    fn expression(self) -> &'static str {
        match self {
            AreaSql::Planar => "ST_Area(g)",
            AreaSql::Spheroid => "ST_Area(ST_Transform(g, 4326)::geography)",
        }
    }
}

/// What the pushdown needs besides the parcel table.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The risk-area table's URL (a table of the parcels' database).
    pub risk: PathBuf,
    /// The risk areas soilrisk read.
    pub risks: Vec<RiskKey>,
    pub area: AreaSql,
}

/// A risk area as the database is told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskKey {
    /// Its primary key, as text.
    pub key: String,
    /// Its record (as `Feature::record`).
    pub record: usize,
    /// 0, 1, 2 for class I, II, III.
    pub class: usize,
}

/// The names `overlay.sql` is filled with, each already quoted.
pub struct Names {
    pub risk: String,
    pub risk_key: String,
    pub risk_geom: String,
    pub parcels: String,
    pub parcel_key: String,
    pub parcel_geom: String,
    /// `, expr, expr...`: the parcel attributes read.
    pub fields: String,
}

/// The statements of `overlay.sql`, filled: those run first, in order, and the last, the
/// query the cursor reads. Comment lines are dropped; statements end with `;` at a line's end.
/// The template is split into statements first and each filled in one pass, so that no name
/// (which may hold `{`, `;` or a line break, quoted) is ever read as part of the template.
pub fn statements(names: &Names, area: AreaSql) -> (Vec<String>, String) {
    let text: String = OVERLAY_SQL
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    let value = |name: &str| -> Option<&str> {
        Some(match name {
            "area" => area.expression(),
            "risk" => &names.risk,
            "risk_key" => &names.risk_key,
            "risk_geom" => &names.risk_geom,
            "parcels" => &names.parcels,
            "parcel_key" => &names.parcel_key,
            "parcel_geom" => &names.parcel_geom,
            "fields" => &names.fields,
            _ => return None,
        })
    };
    let mut all: Vec<String> = text
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| fill(s, &value))
        .collect();
    let last = all.pop().unwrap_or_default();
    (all, last)
}

/// `template` with each `{name}` that `value` knows replaced, in one pass.
fn fill<'a>(template: &str, value: &impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, value(&after[..close])?)))
        {
            Some((close, v)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_splits_into_its_statements_with_every_name_filled() {
        let names = Names {
            risk: "\"public\".\"risk\"".into(),
            risk_key: "\"gid\"".into(),
            risk_geom: "\"geom\"".into(),
            parcels: "\"s\".\"p; x\"".into(),
            parcel_key: "\"ogc_fid\"".into(),
            parcel_geom: "\"geom\"".into(),
            fields: ", p.\"county\"::text".into(),
        };
        let (setup, query) = statements(&names, AreaSql::Spheroid);
        // The area; the risk areas; dissolved and zone, each with its index and analysis
        // (zone also a delete); the risk areas' index and analysis; share with its index and
        // analysis; class; piece.
        assert_eq!(setup.len(), 16, "{setup:#?}");
        assert!(setup[0].contains("ST_Transform(g, 4326)::geography"));
        assert!(setup[1].contains("$1::text[]") && setup[1].contains("\"public\".\"risk\""));
        assert!(query.starts_with("SELECT") && query.contains("ORDER BY p.\"ogc_fid\""));
        assert!(query.contains("p.\"county\"::text"));
        for s in setup.iter().chain([&query]) {
            assert!(!s.contains('{'), "a name left unfilled: {s}");
            assert!(!s.contains("--"), "a comment left: {s}");
        }
    }

    #[test]
    fn a_name_holding_a_placeholder_or_a_semicolon_stays_a_name() {
        let names = |parcel_key: &str, parcel_geom: &str| Names {
            risk: "\"r\"".into(),
            risk_key: "\"k\"".into(),
            risk_geom: "\"g\"".into(),
            parcels: "\"s\".\"p\"".into(),
            parcel_key: parcel_key.into(),
            parcel_geom: parcel_geom.into(),
            fields: String::new(),
        };
        let plain = statements(&names("\"k\"", "\"g\""), AreaSql::Planar);
        let odd = names(
            "\"x{parcel_geom}y{parcels}z\"",
            "\";\nDROP TABLE t;\n{fields}\"",
        );
        let (setup, query) = statements(&odd, AreaSql::Planar);
        assert_eq!(setup.len(), plain.0.len());
        assert!(
            query.contains("p.\"x{parcel_geom}y{parcels}z\"::text"),
            "{query}"
        );
        assert!(
            query.contains("\";\nDROP TABLE t;\n{fields}\" AS soilrisk_geometry"),
            "{query}"
        );
    }
}
