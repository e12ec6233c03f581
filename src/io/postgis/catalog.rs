//! What a database holds: its geometry and geography columns (PostGIS's `geometry_columns`
//! and `geography_columns` views, which show only tables the user may read), a table's
//! attribute columns and primary key, and a CRS from `spatial_ref_sys`. Every name goes to
//! the server as a bound parameter, never pasted into the SQL.

use std::path::Path;

use postgres::Client;

use super::connect::query_error;
use super::uri::TableName;
use crate::crs::Crs;
use crate::error::LayerError;
use crate::layer::FieldKind;

/// A geometry (or geography) column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct GeometryColumn {
    pub schema: String,
    pub table: String,
    pub column: String,
    /// The declared type, upper case (`MULTIPOLYGON`, `POLYGONM`, `GEOMETRY`...).
    pub kind: String,
    /// The declared SRID; 0 for a column that does not constrain it.
    pub srid: i32,
    /// A `geography` column rather than a `geometry` one.
    pub geography: bool,
}

impl GeometryColumn {
    /// Whether the declared type holds polygons (or may: `GEOMETRY`, a collection).
    pub fn may_be_polygons(&self) -> bool {
        let base = self.kind.trim_end_matches(['Z', 'M']);
        matches!(
            base,
            "POLYGON"
                | "MULTIPOLYGON"
                | "CURVEPOLYGON"
                | "MULTISURFACE"
                | "TRIANGLE"
                | "GEOMETRY"
                | "GEOMETRYCOLLECTION"
        )
    }

    /// `schema.table`.
    pub fn name(&self) -> TableName {
        TableName {
            schema: Some(self.schema.clone()),
            table: self.table.clone(),
        }
    }

    /// The type as WKB names it (`MultiPolygon`, `PolygonZ`), for `info`.
    pub fn type_label(&self) -> String {
        const NAMES: [&str; 10] = [
            "Geometry",
            "GeometryCollection",
            "MultiPolygon",
            "Polygon",
            "CurvePolygon",
            "MultiSurface",
            "Triangle",
            "MultiLineString",
            "LineString",
            "MultiPoint",
        ];
        let base = self.kind.trim_end_matches(['Z', 'M']);
        let suffix = &self.kind[base.len()..];
        let base = NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(base))
            .map_or_else(|| base.to_string(), |n| n.to_string());
        format!("{base}{suffix}")
    }
}

/// Every geometry and geography column the user can read, by schema, table and column.
pub fn geometry_columns(
    client: &mut Client,
    path: &Path,
) -> Result<Vec<GeometryColumn>, LayerError> {
    let rows = client
        .query(
            "SELECT f_table_schema::text, f_table_name::text, f_geometry_column::text, \
                    upper(type::text), srid, false \
             FROM geometry_columns \
             UNION ALL \
             SELECT f_table_schema::text, f_table_name::text, f_geography_column::text, \
                    upper(type::text), srid, true \
             FROM geography_columns \
             ORDER BY 1, 2, 3",
            &[],
        )
        .map_err(|e| query_error(path, "cannot list the database's geometry columns", &e))?;
    let bad = |e: postgres::Error| query_error(path, "cannot list the geometry columns", &e);
    rows.iter()
        .map(|r| {
            Ok(GeometryColumn {
                schema: r.try_get(0).map_err(bad)?,
                table: r.try_get(1).map_err(bad)?,
                column: r.try_get(2).map_err(bad)?,
                kind: r
                    .try_get::<_, Option<String>>(3)
                    .map_err(bad)?
                    .unwrap_or_default(),
                srid: r.try_get::<_, Option<i32>>(4).map_err(bad)?.unwrap_or(0),
                geography: r.try_get(5).map_err(bad)?,
            })
        })
        .collect()
}

/// The geometry column `name` (and `geom`) names: exact names first, then ignoring case (a
/// table created without quotes is folded to lower case); without a schema, `public` first,
/// else the one schema holding such a table. `exists` says whether a table of that name
/// exists at all (without a geometry column), asked only when no column matched.
pub fn choose(
    columns: &[GeometryColumn],
    name: &TableName,
    geom: Option<&str>,
    path: &Path,
    database: &str,
    exists: impl FnOnce() -> bool,
) -> Result<GeometryColumn, LayerError> {
    let same = |a: &str, b: &str, exact: bool| {
        if exact {
            a == b
        } else {
            a.to_lowercase() == b.to_lowercase()
        }
    };
    let mut found: Vec<&GeometryColumn> = Vec::new();
    for exact in [true, false] {
        found = columns
            .iter()
            .filter(|c| {
                same(&c.table, &name.table, exact)
                    && name
                        .schema
                        .as_deref()
                        .is_none_or(|s| same(&c.schema, s, exact))
            })
            .collect();
        if !found.is_empty() {
            break;
        }
    }
    if found.is_empty() {
        if geom.is_none() && exists() {
            return Err(LayerError::NotPolygons {
                path: path.to_path_buf(),
                kind: "the table",
                found: "no".into(),
            });
        }
        let polygons: Vec<String> = columns
            .iter()
            .filter(|c| c.may_be_polygons())
            .map(|c| c.name().text())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(LayerError::format(
            path,
            format!(
                "no table {} with a geometry column in the database {database} (its polygon \
                 tables: {})",
                name.text(),
                if polygons.is_empty() {
                    "none".to_string()
                } else {
                    polygons.join(", ")
                }
            ),
        ));
    }
    // Without a schema, a table in `public` is the one a bare name means.
    if name.schema.is_none() {
        let schemas: std::collections::BTreeSet<&str> =
            found.iter().map(|c| c.schema.as_str()).collect();
        if schemas.len() > 1 {
            if schemas.contains("public") {
                found.retain(|c| c.schema == "public");
            } else {
                return Err(LayerError::format(
                    path,
                    format!(
                        "tables called {} in several schemas ({}); name one as SCHEMA.TABLE",
                        name.table,
                        schemas.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    let chosen = match geom {
        Some(g) => found
            .iter()
            .find(|c| c.column == g)
            .or_else(|| {
                found
                    .iter()
                    .find(|c| c.column.to_lowercase() == g.to_lowercase())
            })
            .copied()
            .ok_or_else(|| {
                LayerError::format(
                    path,
                    format!(
                        "the table has no geometry column {g} (it has: {})",
                        found
                            .iter()
                            .map(|c| c.column.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
        None => {
            let polygons: Vec<&&GeometryColumn> =
                found.iter().filter(|c| c.may_be_polygons()).collect();
            match polygons.as_slice() {
                [one] => **one,
                [] => found[0],
                several => {
                    return Err(LayerError::format(
                        path,
                        format!(
                            "the table has {} polygon columns ({}); name one with &geom=COLUMN",
                            several.len(),
                            several
                                .iter()
                                .map(|c| c.column.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
    };
    if !chosen.may_be_polygons() {
        return Err(LayerError::NotPolygons {
            path: path.to_path_buf(),
            kind: "the geometry column",
            found: chosen.type_label(),
        });
    }
    Ok(chosen.clone())
}

/// An attribute column of a table.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: FieldKind,
    /// PostgreSQL's name of its type (`int4`, `varchar`, `timestamptz`...).
    pub typname: String,
}

impl Column {
    /// What is selected for it (of the table called `alias` in the query, where given): the
    /// column cast to what the reader decodes (`float8`, `text`, `boolean`).
    pub fn select(&self, alias: Option<&str>) -> String {
        let quoted = match alias {
            Some(a) => format!("{a}.{}", super::connect::quote_ident(&self.name)),
            None => super::connect::quote_ident(&self.name),
        };
        match (self.kind, self.typname.as_str()) {
            (FieldKind::Bool, _) => quoted,
            (FieldKind::Number, _) => format!("{quoted}::float8"),
            (FieldKind::Date, "timestamp" | "timestamptz") => {
                format!("to_char({quoted}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')")
            }
            _ => format!("{quoted}::text"),
        }
    }
}

/// A table's columns other than geometries, in their order, and its one-column primary key
/// (which orders the reading; an integer one is the fid, not a field, as in a GeoPackage).
pub fn columns(
    client: &mut Client,
    table: &GeometryColumn,
    path: &Path,
) -> Result<(Vec<Column>, Option<String>), LayerError> {
    let bad = |e: postgres::Error| query_error(path, "cannot read the table's columns", &e);
    let rows = client
        .query(
            "SELECT a.attname::text, t.typname::text, \
                    coalesce(a.attnum = ANY(i.indkey) AND array_length(i.indkey, 1) = 1, false) \
             FROM pg_attribute a \
             JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
             WHERE a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&table.schema, &table.table],
        )
        .map_err(bad)?;
    let mut out = Vec::new();
    let mut key = None;
    for r in &rows {
        let name: String = r.try_get(0).map_err(bad)?;
        let typname: String = r.try_get(1).map_err(bad)?;
        let primary: bool = r.try_get(2).map_err(bad)?;
        if matches!(typname.as_str(), "geometry" | "geography" | "raster") {
            continue;
        }
        if primary {
            key = Some(name.clone());
            if matches!(typname.as_str(), "int2" | "int4" | "int8") {
                continue;
            }
        }
        let kind = match typname.as_str() {
            "bool" => FieldKind::Bool,
            "int2" | "int4" | "int8" | "float4" | "float8" | "numeric" | "oid" => FieldKind::Number,
            "date" | "timestamp" | "timestamptz" => FieldKind::Date,
            _ => FieldKind::Text,
        };
        out.push(Column {
            name,
            kind,
            typname,
        });
    }
    Ok((out, key))
}

/// The SRIDs a column holds, when its declaration does not fix one (at most three, for the
/// message).
pub fn srids_in(
    client: &mut Client,
    table: &GeometryColumn,
    path: &Path,
) -> Result<Vec<i32>, LayerError> {
    let column = super::connect::quote_ident(&table.column);
    let sql = format!(
        "SELECT DISTINCT ST_SRID({column}{}) FROM {}.{} WHERE {column} IS NOT NULL ORDER BY 1 LIMIT 3",
        if table.geography { "::geometry" } else { "" },
        super::connect::quote_ident(&table.schema),
        super::connect::quote_ident(&table.table),
    );
    let rows = client
        .query(sql.as_str(), &[])
        .map_err(|e| query_error(path, "cannot read the geometries' SRIDs", &e))?;
    rows.iter()
        .map(|r| {
            r.try_get(0)
                .map_err(|e| query_error(path, "cannot read the geometries' SRIDs", &e))
        })
        .collect()
}

/// The CRS of `srid` from `spatial_ref_sys`: an EPSG code soilrisk knows, else its WKT; 0
/// (no SRID) is unknown, with a warning.
pub fn crs_of(
    client: &mut Client,
    srid: i32,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<Crs>, LayerError> {
    if srid <= 0 {
        warnings.push(format!(
            "{}: the geometries have no SRID (0); the CRS is unknown",
            path.display()
        ));
        return Ok(None);
    }
    let row = client
        .query_opt(
            "SELECT auth_name::text, auth_srid, srtext::text FROM spatial_ref_sys WHERE srid = $1",
            &[&srid],
        )
        .map_err(|e| query_error(path, "cannot read spatial_ref_sys", &e))?;
    let Some(row) = row else {
        return Err(LayerError::format(
            path,
            format!("the geometries' SRID {srid} is not in spatial_ref_sys"),
        ));
    };
    let bad = |e: postgres::Error| query_error(path, "cannot read spatial_ref_sys", &e);
    let auth: Option<String> = row.try_get(0).map_err(bad)?;
    let code: Option<i32> = row.try_get(1).map_err(bad)?;
    let wkt: Option<String> = row.try_get(2).map_err(bad)?;
    if auth
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("EPSG"))
        && let Some(crs) = code
            .and_then(|c| u32::try_from(c).ok())
            .and_then(Crs::from_epsg)
    {
        return Ok(Some(crs));
    }
    match wkt.as_deref().map(Crs::from_prj) {
        Some(Ok(c)) => Ok(Some(c)),
        Some(Err(e)) => {
            warnings.push(format!(
                "{}: SRID {srid} not understood ({e}); the CRS is unknown",
                path.display()
            ));
            Ok(None)
        }
        None => {
            warnings.push(format!(
                "{}: SRID {srid} has no definition in spatial_ref_sys; the CRS is unknown",
                path.display()
            ));
            Ok(None)
        }
    }
}

/// How many rows a table has: the planner's estimate where the table has been analysed,
/// else counted; and whether it is an estimate.
pub fn row_count(
    client: &mut Client,
    table: &GeometryColumn,
    path: &Path,
) -> Result<(u64, bool), LayerError> {
    let bad = |e: postgres::Error| query_error(path, "cannot count the table's rows", &e);
    let estimate: Option<f32> = client
        .query_opt(
            "SELECT reltuples FROM pg_class \
             WHERE oid = to_regclass(format('%I.%I', $1::text, $2::text)) AND relkind IN ('r', 'p', 'm')",
            &[&table.schema, &table.table],
        )
        .map_err(bad)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(bad)?
        .flatten();
    if let Some(n) = estimate.filter(|n| *n >= 0.0) {
        return Ok((n as u64, true));
    }
    let sql = format!(
        "SELECT count(*) FROM {}.{}",
        super::connect::quote_ident(&table.schema),
        super::connect::quote_ident(&table.table)
    );
    let n: i64 = client
        .query_one(sql.as_str(), &[])
        .and_then(|r| r.try_get(0))
        .map_err(bad)?;
    Ok((u64::try_from(n).unwrap_or(0), false))
}
