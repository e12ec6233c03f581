//! A PostGIS table read in batches: one read-only transaction (a consistent snapshot), a
//! server-side cursor over `SELECT ST_AsEWKB(geom), key, fields... ORDER BY key`, fetched
//! `BATCH_ROWS` rows at a time over the extended protocol, so every value arrives in
//! PostgreSQL's binary format and the table is never loaded whole. The EWKB is decoded (in
//! parallel, as the GeoPackage reader decodes its blobs) by `gpkg_geom`, and each row's
//! SRID is checked against the layer's.

use std::path::Path;
use std::sync::Arc;

use geo::{Coord, Rect};
use std::sync::mpsc::Receiver;

use postgres::{Client, Row};
use rayon::prelude::*;

use super::catalog::{self, Column, GeometryColumn};
use super::connect::{self, query_error, quote_ident};
use super::pushdown::{self, Names, Spec};
use super::uri::TableUrl;
use crate::error::LayerError;
use crate::io::batch::Tally;
use crate::io::gpkg::{assemble_shape, date_text};
use crate::io::gpkg_geom;
use crate::io::intern::Interner;
use crate::io::rings::RingNotes;
use crate::io::{Pushed, PushedPiece, ReadOptions};
use crate::layer::{Feature, FieldDef, FieldKind, Layer, Value, find_field};

/// Rows fetched at a time (as many as a GeoPackage batch).
pub const BATCH_ROWS: usize = 16_384;

/// The cursor's name, inside the reader's own transaction.
const CURSOR: &str = "soilrisk_read";

/// One fetched row.
struct Fetched {
    /// 1-based, in reading order.
    number: usize,
    /// The key as text, where the table has one.
    key: Option<String>,
    ewkb: Option<Vec<u8>>,
    /// Under the pushdown: the parcel's numbers, and its box where it has a geometry.
    pushed: Option<(Pushed, Option<Rect<f64>>)>,
    values: Vec<Value>,
}

/// A row's number, polygons, what assembly repaired, whether it was empty.
type Decoded = (usize, geo::MultiPolygon<f64>, Vec<RingNotes>, bool);

/// A PostGIS table read a batch at a time.
pub struct PostGisReader {
    header: Layer,
    /// The batches of rows, fetched by the `postgis-fetch` thread (which owns the
    /// connection) one batch ahead of the one being decoded.
    batches: Receiver<Result<Vec<Row>, postgres::Error>>,
    /// The backend's process id.
    pid: i32,
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
    /// Reading `overlay.sql`'s rows (`open_pushdown`) rather than the table's.
    pushdown: bool,
    /// What the database measured of the last batch's features.
    pushed: Vec<Pushed>,
    /// Each feature's record and key, where asked for (`keeping_keys`).
    keys: Option<Vec<(usize, String)>>,
}

impl PostGisReader {
    /// Connects, finds the table and its geometry column, reads its schema and CRS, and
    /// opens the cursor; no row is fetched yet.
    pub fn open(
        url: &TableUrl,
        path: &Path,
        opts: &ReadOptions,
    ) -> Result<PostGisReader, LayerError> {
        Self::open_with(url, path, opts, None)
    }

    /// Opens the parcel table `url` for `analyze --engine postgis`: the overlay of
    /// `overlay.sql` is run first (see `pushdown`), and the rows read give each parcel's
    /// numbers (`Batches::take_pushed`) with the geometry of the parcels at risk; the others
    /// come as their boxes.
    pub fn open_pushdown(
        url: &TableUrl,
        path: &Path,
        opts: &ReadOptions,
        spec: &Spec,
    ) -> Result<PostGisReader, LayerError> {
        Self::open_with(url, path, opts, Some(spec))
    }

    fn open_with(
        url: &TableUrl,
        path: &Path,
        opts: &ReadOptions,
        pushdown: Option<&Spec>,
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
        match pushdown {
            None => {
                let sql = select_sql(&column, &columns, key.as_deref(), &selected);
                client
                    .batch_execute(&format!(
                        "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
                         DECLARE {CURSOR} NO SCROLL CURSOR FOR {sql}"
                    ))
                    .map_err(|e| query_error(path, "cannot read the table", &e))?;
            }
            Some(spec) => {
                let parcels = Table {
                    column: &column,
                    key: key.as_deref(),
                    srid,
                };
                let fields: String = selected
                    .iter()
                    .map(|&i| format!(", {}", columns[i].select(Some("p"))))
                    .collect();
                start_pushdown(&mut client, url, path, &all, &parcels, &fields, spec)?;
            }
        }
        let width = fields.len();
        let server_encoding = client
            .query_one("SHOW server_encoding", &[])
            .and_then(|r| r.try_get::<_, String>(0))
            .unwrap_or_else(|_| "?".into());
        let pid = client
            .query_one("SELECT pg_backend_pid()", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| query_error(path, "cannot ask the server", &e))?;
        let batch_rows = opts
            .batch_bytes
            .map_or(BATCH_ROWS, |b| (b / 1024).clamp(1, BATCH_ROWS));
        let batches = fetcher(client, batch_rows).map_err(|e| LayerError::io(path, e))?;
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
            batches,
            pid,
            key,
            selected,
            srid,
            rows: 0,
            count: usize::try_from(count).unwrap_or(usize::MAX),
            batch_rows,
            done: false,
            interners: (0..width).map(|_| Interner::default()).collect(),
            tally: Tally::new(warnings),
            pushdown: pushdown.is_some(),
            pushed: Vec::new(),
            keys: None,
        })
    }

    /// Keeps each feature's record and key as text (see `take_keys`): the pushdown names the
    /// risk areas it read to the database by their keys.
    pub fn keeping_keys(mut self) -> Self {
        self.keys = Some(Vec::new());
        self
    }

    /// The records and keys of the features read so far (with `keeping_keys`).
    pub fn take_keys(&mut self) -> Vec<(usize, String)> {
        self.keys.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The backend's process id, for a test that ends the session from outside.
    pub fn backend_pid(&self) -> i32 {
        self.pid
    }

    fn fetch(&mut self) -> Result<Vec<Fetched>, LayerError> {
        let path = &self.header.path;
        let rows = match self.batches.recv() {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                return Err(query_error(
                    path,
                    &format!("cannot read the table after row {}", self.rows),
                    &e,
                ));
            }
            // The fetcher has sent its last batch.
            Err(_) => Vec::new(),
        };
        let kinds: Vec<FieldKind> = self.header.fields.iter().map(|f| f.kind).collect();
        let width = kinds.len();
        // The pushdown's rows: key, area, EWKB, box (4), class areas (2), pieces (3).
        let first = if self.pushdown {
            12
        } else {
            1 + usize::from(self.key.is_some())
        };
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
            let (ewkb, key, pushed) = if self.pushdown {
                let key: Option<String> = row.try_get(0).map_err(bad)?;
                let ewkb: Option<&[u8]> = row.try_get(2).map_err(bad)?;
                (ewkb, key, Some(pushed_of(row).map_err(bad)?))
            } else {
                let ewkb: Option<&[u8]> = row.try_get(0).map_err(bad)?;
                let key: Option<String> = match self.key {
                    Some(_) => row.try_get(1).map_err(bad)?,
                    None => None,
                };
                (ewkb, key, None)
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
            out.push(Fetched {
                number,
                key,
                ewkb: ewkb.map(<[u8]>::to_vec),
                pushed,
                values,
            });
        }
        Ok(out)
    }

    /// Decodes a batch's geometries, in parallel, into features. Under the pushdown, a
    /// parcel without EWKB (not at risk) comes as its box, and its numbers go to `pushed`.
    fn features(&mut self, rows: Vec<Fetched>) -> Result<Vec<Feature>, LayerError> {
        let path = &self.header.path;
        let srid = self.srid;
        let key = self.key.as_deref();
        let decoded: Vec<Result<Option<Decoded>, LayerError>> = rows
            .par_iter()
            .map(|row| {
                let Some(ewkb) = &row.ewkb else {
                    return Ok(match &row.pushed {
                        Some((_, Some(bbox))) => {
                            Some((row.number, bbox.to_polygon().into(), Vec::new(), false))
                        }
                        _ => None,
                    });
                };
                let row_error = |reason: String| {
                    LayerError::record(
                        path,
                        row.number,
                        format!("{reason}{}", RowKey(key, row.key.as_deref())),
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
                Ok(Some((row.number, geometry, notes, empty)))
            })
            .collect();
        let mut features = Vec::with_capacity(rows.len());
        self.pushed.clear();
        for (d, row) in decoded.into_iter().zip(rows) {
            let Some((number, geometry, notes, empty)) = d? else {
                self.tally.null();
                continue;
            };
            if empty && geometry.0.is_empty() {
                self.tally.empty();
                continue;
            }
            let key = match (&self.keys, &row.key) {
                (Some(_), Some(k)) => Some(k.clone()),
                _ => None,
            };
            let shown = (number, Shown(number, self.key.as_deref(), row.key));
            if let Some(f) = self
                .tally
                .feature(path, shown, geometry, &notes, row.values)
            {
                if let (Some(keys), Some(k)) = (&mut self.keys, key) {
                    keys.push((number, k));
                }
                features.push(f);
                if let Some((p, _)) = row.pushed {
                    self.pushed.push(p);
                }
            }
        }
        Ok(features)
    }
}

/// A pushdown row's numbers (columns 1 and 3 to 11, see `overlay.sql`'s last statement).
fn pushed_of(row: &postgres::Row) -> Result<(Pushed, Option<Rect<f64>>), postgres::Error> {
    let area_m2: Option<f64> = row.try_get(1)?;
    let corner = |x: usize, y: usize| -> Result<Option<Coord<f64>>, postgres::Error> {
        let (x, y): (Option<f64>, Option<f64>) = (row.try_get(x)?, row.try_get(y)?);
        Ok(x.zip(y).map(|(x, y)| Coord { x, y }))
    };
    let bbox = corner(3, 4)?
        .zip(corner(5, 6)?)
        .map(|(a, b)| Rect::new(a, b));
    let mut pushed = Pushed {
        area_m2: area_m2.unwrap_or(0.0),
        ..Pushed::default()
    };
    let classes: Option<Vec<i32>> = row.try_get(7)?;
    let class_m2: Option<Vec<f64>> = row.try_get(8)?;
    for (c, m2) in classes
        .unwrap_or_default()
        .into_iter()
        .zip(class_m2.unwrap_or_default())
    {
        if let Some(slot) = usize::try_from(c - 1)
            .ok()
            .and_then(|c| pushed.class_m2.get_mut(c))
        {
            *slot += m2;
        }
    }
    let records: Option<Vec<i64>> = row.try_get(9)?;
    let classes: Option<Vec<i32>> = row.try_get(10)?;
    let m2: Option<Vec<f64>> = row.try_get(11)?;
    for ((r, c), a) in records
        .unwrap_or_default()
        .into_iter()
        .zip(classes.unwrap_or_default())
        .zip(m2.unwrap_or_default())
    {
        if let (Ok(risk_record), Ok(class)) = (usize::try_from(r), usize::try_from(c - 1)) {
            pushed.pieces.push(PushedPiece {
                risk_record,
                class: class.min(2),
                area_m2: a,
            });
        }
    }
    Ok((pushed, bbox))
}

/// A table as the pushdown joins it.
struct Table<'a> {
    column: &'a GeometryColumn,
    key: Option<&'a str>,
    srid: i32,
}

/// Finds the risk table beside the parcels, checks what the pushdown needs (one database,
/// primary keys, one SRID), runs `overlay.sql`'s statements and opens the cursor over its
/// last, in one transaction.
fn start_pushdown(
    client: &mut Client,
    url: &TableUrl,
    path: &Path,
    all: &[GeometryColumn],
    parcels: &Table<'_>,
    fields: &str,
    spec: &Spec,
) -> Result<(), LayerError> {
    let risk_path = spec.risk.as_path();
    let risk_url = super::parse(risk_path)?;
    if risk_url.server != url.server {
        return Err(LayerError::format(
            risk_path,
            format!(
                "--engine postgis needs both layers in one database, and the parcels are in {}",
                url.server.url()
            ),
        ));
    }
    let risk_column = catalog::choose(
        all,
        &risk_url.table,
        risk_url.geom.as_deref(),
        risk_path,
        &url.server.database,
        || table_exists(client, &risk_url),
    )?;
    let (_, risk_key) = catalog::columns(client, &risk_column, risk_path)?;
    let no_key = |p: &Path, c: &GeometryColumn| {
        LayerError::format(
            p,
            format!(
                "--engine postgis matches rows by their primary key, and {} has none \
                 (ogr2ogr and shp2pgsql create one; else ALTER TABLE ... ADD PRIMARY KEY)",
                c.name().text()
            ),
        )
    };
    let risk_key = risk_key.ok_or_else(|| no_key(risk_path, &risk_column))?;
    let parcel_key = parcels.key.ok_or_else(|| no_key(path, parcels.column))?;
    let risk_srid = match risk_column.srid {
        0 => catalog::srids_in(client, &risk_column, risk_path)?
            .first()
            .copied()
            .unwrap_or(0),
        s => s,
    };
    if risk_srid != parcels.srid {
        return Err(LayerError::format(
            risk_path,
            format!(
                "--engine postgis needs both tables in one SRID, and the risk areas are in {risk_srid}, \
                 the parcels in {} (ST_Transform one, or use the local engine)",
                parcels.srid
            ),
        ));
    }
    let geom = |c: &GeometryColumn| {
        let q = quote_ident(&c.column);
        if c.geography {
            format!("{q}::geometry")
        } else {
            q
        }
    };
    let qualified =
        |c: &GeometryColumn| format!("{}.{}", quote_ident(&c.schema), quote_ident(&c.table));
    let names = Names {
        risk: qualified(&risk_column),
        risk_key: quote_ident(&risk_key),
        risk_geom: geom(&risk_column),
        parcels: qualified(parcels.column),
        parcel_key: quote_ident(parcel_key),
        parcel_geom: geom(parcels.column),
        fields: fields.to_string(),
    };
    let (setup, query) = pushdown::statements(&names, spec.area);
    let keys: Vec<&str> = spec.risks.iter().map(|r| r.key.as_str()).collect();
    let records: Vec<i64> = spec.risks.iter().map(|r| r.record as i64).collect();
    let classes: Vec<i32> = spec.risks.iter().map(|r| r.class as i32 + 1).collect();
    let failed = |e: postgres::Error| query_error(path, "the overlay in PostGIS failed", &e);
    client
        .batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .map_err(failed)?;
    for (k, statement) in setup.iter().enumerate() {
        if k == 1 {
            client
                .execute(statement.as_str(), &[&keys, &records, &classes])
                .map_err(failed)?;
        } else {
            client.batch_execute(statement).map_err(failed)?;
        }
    }
    client
        .batch_execute(&format!("DECLARE {CURSOR} NO SCROLL CURSOR FOR {query}"))
        .map_err(failed)?;
    Ok(())
}

/// Starts the `postgis-fetch` thread: it fetches `batch_rows` rows at a time from the cursor
/// and sends them on, one batch ahead of the reader, while the reader decodes the batch
/// before (the server's time and the client's overlap). After the last batch it ends the
/// transaction; when the reader is gone (an error elsewhere, a cancel) it stops at its next
/// send, and the connection closes with it.
fn fetcher(
    mut client: Client,
    batch_rows: usize,
) -> std::io::Result<Receiver<Result<Vec<Row>, postgres::Error>>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("postgis-fetch".into())
        .spawn(move || {
            let sql = format!("FETCH FORWARD {batch_rows} FROM {CURSOR}");
            loop {
                let rows = client.query(sql.as_str(), &[]);
                let last = rows.as_ref().map_or(true, |r| r.len() < batch_rows);
                if last && rows.is_ok() {
                    // The snapshot is no longer needed; a failure to end it loses nothing.
                    let _ = client.batch_execute("COMMIT");
                }
                if tx.send(rows).is_err() || last {
                    break;
                }
            }
        })?;
    Ok(rx)
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
        sql.push_str(&columns[i].select(None));
    }
    sql.push_str(&format!(
        " FROM {}.{} AS t",
        quote_ident(&column.schema),
        quote_ident(&column.table)
    ));
    // Qualified: the key's name alone would name the text column selected above, and
    // order `10` before `2`.
    if let Some(k) = key {
        sql.push_str(&format!(" ORDER BY t.{}", quote_ident(k)));
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
        crate::io::batch::share_read(self.done, self.rows, self.count)
    }

    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        if self.done {
            return Ok(None);
        }
        let rows = self.fetch()?;
        self.rows += rows.len();
        if rows.len() < self.batch_rows {
            self.done = true;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        self.features(rows).map(Some)
    }

    fn take_pushed(&mut self) -> Option<Vec<Pushed>> {
        self.pushdown.then(|| std::mem::take(&mut self.pushed))
    }

    fn finish(self: Box<Self>) -> Layer {
        let mut layer = self.header;
        let path = layer.path.clone();
        layer.warnings = self.tally.into_warnings(&path);
        layer
    }
}
