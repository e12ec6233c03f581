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
    /// Each risk area's record (as `Feature::record`) and class (0, 1, 2 for I, II, III).
    pub classes: Vec<(usize, usize)>,
    pub area: AreaSql,
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
pub fn statements(names: &Names, area: AreaSql) -> (Vec<String>, String) {
    let text: String = OVERLAY_SQL
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    let filled = text
        .replace("{area}", area.expression())
        .replace("{risk_key}", &names.risk_key)
        .replace("{risk_geom}", &names.risk_geom)
        .replace("{risk}", &names.risk)
        .replace("{parcel_key}", &names.parcel_key)
        .replace("{parcel_geom}", &names.parcel_geom)
        .replace("{parcels}", &names.parcels)
        .replace("{fields}", &names.fields);
    let mut all: Vec<String> = filled
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let last = all.pop().unwrap_or_default();
    (all, last)
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
        assert!(setup[1].contains("$1::bigint[]") && setup[1].contains("\"public\".\"risk\""));
        assert!(query.starts_with("SELECT") && query.contains("ORDER BY p.\"ogc_fid\""));
        assert!(query.contains("p.\"county\"::text"));
        for s in setup.iter().chain([&query]) {
            assert!(
                !s.contains('{') || s.contains("'{"),
                "a name left unfilled: {s}"
            );
            assert!(!s.contains("--"), "a comment left: {s}");
        }
    }
}
