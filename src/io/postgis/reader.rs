//! A PostGIS table read in batches: one read-only transaction (a consistent snapshot), a
//! server-side cursor over `SELECT ST_AsEWKB(geom), key, fields... ORDER BY key`, fetched
//! `BATCH_ROWS` rows at a time over the extended protocol, so every value arrives in
//! PostgreSQL's binary format and the table is never loaded whole. The EWKB is decoded (in
//! parallel, as the GeoPackage reader decodes its blobs) by `gpkg_geom`, and each row's
//! SRID is checked against the layer's.

use std::path::Path;
use std::sync::Arc;

use postgres::Client;
use rayon::prelude::*;

use super::catalog::{self, Column, GeometryColumn};
use super::connect::{self, query_error, quote_ident};
use super::uri::TableUrl;
use crate::error::LayerError;
use crate::io::ReadOptions;
use crate::io::batch::Tally;
use crate::io::gpkg::{assemble_shape, date_text};
use crate::io::gpkg_geom;
use crate::io::intern::Interner;
use crate::io::rings::RingNotes;
use crate::layer::{Feature, FieldDef, FieldKind, Layer, Value, find_field};

/// Rows fetched at a time (as many as a GeoPackage batch).
pub const BATCH_ROWS: usize = 16_384;

/// The cursor's name, inside the reader's own transaction.
const CURSOR: &str = "soilrisk_read";

/// One fetched row: its number (1-based, in reading order), its key as text where the table
/// has one, its EWKB, its values.
type Fetched = (usize, Option<String>, Option<Vec<u8>>, Vec<Value>);

/// A row's number, polygons, what assembly repaired, whether it was empty.
type Decoded = (usize, geo::MultiPolygon<f64>, Vec<RingNotes>, bool);

/// A PostGIS table read a batch at a time.
pub struct PostGisReader {
    header: Layer,
    client: Client,
    key: Option<String>,
    /// Which field each selected column after the geometry (and key) fills.
    selected: Vec<usize>,
    srid: i32,
    rows: usize,
    count: usize,
    batch_rows: usize,
    done: bool,
    interners: Vec<Interner<Arc<str>>>,
    tally: Tally,
    empties: usize,
}

impl PostGisReader {
    /// Connects, finds the table and its geometry column, reads its schema and CRS, and
    /// opens the cursor; no row is fetched yet.
    pub fn open(
        url: &TableUrl,
        path: &Path,
        opts: &ReadOptions,
    ) -> Result<PostGisReader, LayerError> {
        let connect::Connection {
            mut client,
            warnings,
        } = connect::connect(&url.server, path)?;
        let mut warnings = warnings;
        connect::postgis_version(&mut client, &url.server, path)?;
        let all = catalog::geometry_columns(&mut client, path)?;
        let column = catalog::choose(
            &all,
            &url.table,
            url.geom.as_deref(),
            path,
            &url.server.database,
            || table_exists(&mut client, url),
        )?;
        let (columns, key) = catalog::columns(&mut client, &column, path)?;
        let fields: Vec<FieldDef> = columns
            .iter()
            .map(|c| FieldDef {
                name: c.name.clone(),
                kind: c.kind,
            })
            .collect();
        let selected: Vec<usize> = match &opts.fields {
            Some(names) => {
                let mut s: Vec<usize> = names
                    .iter()
                    .filter_map(|n| find_field(&fields, n))
                    .collect();
                s.sort_unstable();
                s.dedup();
                s
            }
            None => (0..fields.len()).collect(),
        };
        let srid = match column.srid {
            0 => match catalog::srids_in(&mut client, &column, path)?.as_slice() {
                [] => 0,
                [one] => *one,
                several => {
                    return Err(LayerError::format(
                        path,
                        format!(
                            "the geometry column {} holds several SRIDs ({}); soilrisk needs \
                             one CRS per layer (ST_Transform them to one)",
                            column.column,
                            several
                                .iter()
                                .map(i32::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            },
            s => s,
        };
        let crs = catalog::crs_of(&mut client, srid, path, &mut warnings)?;
        let (count, _) = catalog::row_count(&mut client, &column, path)?;
        let sql = select_sql(&column, &columns, key.as_deref(), &selected);
        client
            .batch_execute(&format!(
                "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
                 DECLARE {CURSOR} NO SCROLL CURSOR FOR {sql}"
            ))
            .map_err(|e| query_error(path, "cannot read the table", &e))?;
        let width = fields.len();
        let server_encoding = client
            .query_one("SHOW server_encoding", &[])
            .and_then(|r| r.try_get::<_, String>(0))
            .unwrap_or_else(|_| "?".into());
        Ok(PostGisReader {
            header: Layer {
                path: path.to_path_buf(),
                geometry_type: column.type_label(),
                fields,
                features: Vec::new(),
                crs,
                encoding: Some(format!(
                    "UTF-8 (PostgreSQL; the server's encoding is {server_encoding})"
                )),
                warnings: Vec::new(),
            },
            client,
            key,
            selected,
            srid,
            rows: 0,
            count: usize::try_from(count).unwrap_or(usize::MAX),
            batch_rows: opts
                .batch_bytes
                .map_or(BATCH_ROWS, |b| (b / 1024).clamp(1, BATCH_ROWS)),
            done: false,
            interners: (0..width).map(|_| Interner::default()).collect(),
            tally: Tally::new(warnings),
            empties: 0,
        })
    }

    /// The backend's process id, for a test that ends the session from outside.
    pub fn backend_pid(&mut self) -> Result<i32, LayerError> {
        self.client
            .query_one("SELECT pg_backend_pid()", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| query_error(&self.header.path, "cannot ask the server", &e))
    }

    fn fetch(&mut self) -> Result<Vec<Fetched>, LayerError> {
        let path = &self.header.path;
        let sql = format!("FETCH FORWARD {} FROM {CURSOR}", self.batch_rows);
        let rows = self.client.query(sql.as_str(), &[]).map_err(|e| {
            query_error(
                path,
                &format!("cannot read the table after row {}", self.rows),
                &e,
            )
        })?;
        let kinds: Vec<FieldKind> = self.header.fields.iter().map(|f| f.kind).collect();
        let width = kinds.len();
        let first = 1 + usize::from(self.key.is_some());
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let number = self.rows + i + 1;
            let bad = |e: postgres::Error| {
                LayerError::record(
                    path,
                    number,
                    format!("cannot read the row ({})", connect::describe(&e)),
                )
            };
            let ewkb: Option<&[u8]> = row.try_get(0).map_err(bad)?;
            let key: Option<String> = match self.key {
                Some(_) => row.try_get(1).map_err(bad)?,
                None => None,
            };
            let mut values = vec![Value::Null; width];
            for (k, &field) in self.selected.iter().enumerate() {
                let at = first + k;
                values[field] = match kinds[field] {
                    FieldKind::Bool => row
                        .try_get::<_, Option<bool>>(at)
                        .map_err(bad)?
                        .map_or(Value::Null, Value::Bool),
                    FieldKind::Number => row
                        .try_get::<_, Option<f64>>(at)
                        .map_err(bad)?
                        .map_or(Value::Null, Value::Number),
                    FieldKind::Date => row
                        .try_get::<_, Option<&str>>(at)
                        .map_err(bad)?
                        .map_or(Value::Null, |t| Value::Date(date_text(t))),
                    FieldKind::Text => match row.try_get::<_, Option<&str>>(at).map_err(bad)? {
                        None => Value::Null,
                        Some(t) => Value::Text(self.interners[field].get(t.as_bytes(), |raw| {
                            String::from_utf8_lossy(raw).as_ref().into()
                        })),
                    },
                };
            }
            out.push((number, key, ewkb.map(<[u8]>::to_vec), values));
        }
        Ok(out)
    }

    /// Decodes a batch's geometries, in parallel, into features.
    fn features(&mut self, rows: Vec<Fetched>) -> Result<Vec<Feature>, LayerError> {
        let path = &self.header.path;
        let srid = self.srid;
        let key = self.key.as_deref();
        let decoded: Vec<Result<Option<Decoded>, LayerError>> = rows
            .par_iter()
            .map(|(number, k, ewkb, _)| {
                let Some(ewkb) = ewkb else { return Ok(None) };
                let row_error = |reason: String| {
                    LayerError::record(
                        path,
                        *number,
                        format!("{reason}{}", RowKey(key, k.as_deref())),
                    )
                };
                let (row_srid, shape) = gpkg_geom::decode_ewkb(ewkb)
                    .map_err(|r| row_error(format!("damaged geometry ({r})")))?;
                if srid != 0 && row_srid.is_some_and(|s| s != srid) {
                    return Err(row_error(format!(
                        "a geometry with SRID {} in a layer of SRID {srid}; soilrisk needs \
                         one CRS per layer",
                        row_srid.unwrap_or_default()
                    )));
                }
                let (geometry, notes, empty) = assemble_shape(shape).map_err(row_error)?;
                Ok(Some((*number, geometry, notes, empty)))
            })
            .collect();
        let mut features = Vec::with_capacity(rows.len());
        for (d, (_, k, _, values)) in decoded.into_iter().zip(rows) {
            let Some((number, geometry, notes, empty)) = d? else {
                self.tally.null();
                continue;
            };
            if empty && geometry.0.is_empty() {
                self.empties += 1;
                continue;
            }
            let shown = (number, Shown(number, self.key.as_deref(), k));
            features.extend(self.tally.feature(path, shown, geometry, &notes, values));
        }
        Ok(features)
    }
}

/// `, key 12` after a row's reason, where the table has a key.
struct RowKey<'a>(Option<&'a str>, Option<&'a str>);

impl std::fmt::Display for RowKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0, self.1) {
            (Some(name), Some(v)) => write!(f, " ({name} = {v})"),
            _ => Ok(()),
        }
    }
}

/// A row as a warning names it: `record 12 (ogc_fid = 40)`.
struct Shown<'a>(usize, Option<&'a str>, Option<String>);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}{}", self.0, RowKey(self.1, self.2.as_deref()))
    }
}

/// The reading query: the geometry as EWKB, the key as text, the selected fields cast to
/// what the reader decodes; in key order where there is a key. Every name is quoted.
fn select_sql(
    column: &GeometryColumn,
    columns: &[Column],
    key: Option<&str>,
    selected: &[usize],
) -> String {
    let geom = quote_ident(&column.column);
    let mut sql = format!(
        "SELECT ST_AsEWKB({geom}{})",
        if column.geography { "::geometry" } else { "" }
    );
    if let Some(k) = key {
        sql.push_str(&format!(", {}::text", quote_ident(k)));
    }
    for &i in selected {
        sql.push_str(", ");
        sql.push_str(&columns[i].select);
    }
    sql.push_str(&format!(
        " FROM {}.{}",
        quote_ident(&column.schema),
        quote_ident(&column.table)
    ));
    if let Some(k) = key {
        sql.push_str(&format!(" ORDER BY {}", quote_ident(k)));
    }
    sql
}

/// Whether the table the URL names exists (with or without a geometry column).
fn table_exists(client: &mut Client, url: &TableUrl) -> bool {
    let name = match &url.table.schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&url.table.table)),
        None => quote_ident(&url.table.table),
    };
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .and_then(|r| r.try_get::<_, bool>(0))
        .unwrap_or(false)
}

impl crate::io::Batches for PostGisReader {
    fn header(&self) -> &Layer {
        &self.header
    }

    fn size_hint(&self) -> usize {
        self.count
    }

    fn progress(&self) -> f32 {
        if self.done {
            1.0
        } else {
            (self.rows as f32 / self.count.max(1) as f32).min(1.0)
        }
    }

    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        if self.done {
            return Ok(None);
        }
        let rows = self.fetch()?;
        self.rows += rows.len();
        if rows.len() < self.batch_rows {
            self.done = true;
            // The snapshot is no longer needed; a failure to end it loses nothing read.
            let _ = self.client.batch_execute("COMMIT");
        }
        if rows.is_empty() {
            return Ok(None);
        }
        self.features(rows).map(Some)
    }

    fn finish(self: Box<Self>) -> Layer {
        let mut layer = self.header;
        let path = layer.path.clone();
        layer.warnings = self.tally.into_warnings(&path);
        if self.empties > 0 {
            layer.warnings.push(format!(
                "{}: {} empty geometries skipped",
                path.display(),
                self.empties
            ));
        }
        layer
    }
}
