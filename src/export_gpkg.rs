//! Writing `results.gpkg`: the parcels at risk and the risk areas as two GeoPackage layers,
//! `parcels` and `risk_areas`, with the fields of `parcels.geojson` and `risk_areas.geojson`
//! (`export::PARCEL_FIELDS`, `export::RISK_FIELDS`: the same names and values, in the same
//! order), in the analysis' own CRS rather than WGS 84, each with an R-tree spatial index as
//! GDAL writes it (`rtree_<table>_geom`, its `gpkg_extensions` row and triggers), so QGIS and
//! GDAL open it as it is.
//!
//! Everything is written in one transaction through prepared statements, the R-tree filled
//! after its table, into a temporary file renamed when complete. Nothing in the file depends
//! on the clock or on the machine (`last_change` is fixed), so the same input gives the same
//! bytes under the same SQLite.

use std::path::Path;

use geo::Rect;
use rusqlite::Connection;

use crate::atomic::write_atomic_path;
use crate::crs::Crs;
use crate::error::ExportError;
use crate::export::{
    OutKind, OutValue, PARCEL_FIELDS, RISK_FIELDS, parcel_order, parcel_values, risk_order,
    risk_values,
};
use crate::geom::boxes::{bounds, union_rect};
use crate::io::gpkg::quote;
use crate::io::gpkg_geom::{APPLICATION_ID, encode_multipolygon};
use crate::pipeline::{Analysis, Control, Phase};

/// GeoPackage 1.3 in SQLite's `user_version` (GDAL 3.6 reads 1.3 without a word; 1.4 only
/// renamed triggers).
const USER_VERSION: i32 = 10300;

/// What `last_change` says in `gpkg_contents`: fixed, so that two runs give the same bytes.
const LAST_CHANGE: &str = "1970-01-01T00:00:00.000Z";

/// The `srs_id` of a CRS without an EPSG code soilrisk knows (GDAL starts its own at
/// 100000 too).
const CUSTOM_SRS_ID: i64 = 100_000;

/// The tables every GeoPackage has, as GDAL creates them, and the three spatial reference
/// systems the specification requires.
const SCHEMA: &str = r#"
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,srs_id INTEGER NOT NULL PRIMARY KEY,organization TEXT NOT NULL,organization_coordsys_id INTEGER NOT NULL,definition  TEXT NOT NULL,description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,data_type TEXT NOT NULL,identifier TEXT UNIQUE,description TEXT DEFAULT '',last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),min_x DOUBLE, min_y DOUBLE,max_x DOUBLE, max_y DOUBLE,srs_id INTEGER,CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL,column_name TEXT NOT NULL,geometry_type_name TEXT NOT NULL,srs_id INTEGER NOT NULL,z TINYINT NOT NULL,m TINYINT NOT NULL,CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),CONSTRAINT uk_gc_table_name UNIQUE (table_name),CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (table_name TEXT,column_name TEXT,extension_name TEXT NOT NULL,definition TEXT NOT NULL,scope TEXT NOT NULL,CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS',-1,'NONE',-1,'undefined','undefined cartesian coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS',0,'NONE',0,'undefined','undefined geographic coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic',4326,'EPSG',4326,'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]','longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
"#;

/// The R-tree triggers of the GeoPackage specification (1.2 to 1.3, as GDAL writes them),
/// with `T` the table and `G` the geometry column: they keep the index right when another
/// program edits the layer.
const RTREE_TRIGGERS: &str = r#"
CREATE TRIGGER "rtree_T_G_insert" AFTER INSERT ON "T" WHEN (new."G" NOT NULL AND NOT ST_IsEmpty(NEW."G")) BEGIN INSERT OR REPLACE INTO "rtree_T_G" VALUES (NEW."fid",ST_MinX(NEW."G"), ST_MaxX(NEW."G"),ST_MinY(NEW."G"), ST_MaxY(NEW."G")); END;
CREATE TRIGGER "rtree_T_G_update1" AFTER UPDATE OF "G" ON "T" WHEN OLD."fid" = NEW."fid" AND (NEW."G" NOTNULL AND NOT ST_IsEmpty(NEW."G")) BEGIN INSERT OR REPLACE INTO "rtree_T_G" VALUES (NEW."fid",ST_MinX(NEW."G"), ST_MaxX(NEW."G"),ST_MinY(NEW."G"), ST_MaxY(NEW."G")); END;
CREATE TRIGGER "rtree_T_G_update2" AFTER UPDATE OF "G" ON "T" WHEN OLD."fid" = NEW."fid" AND (NEW."G" ISNULL OR ST_IsEmpty(NEW."G")) BEGIN DELETE FROM "rtree_T_G" WHERE id = OLD."fid"; END;
CREATE TRIGGER "rtree_T_G_update3" AFTER UPDATE ON "T" WHEN OLD."fid" != NEW."fid" AND (NEW."G" NOTNULL AND NOT ST_IsEmpty(NEW."G")) BEGIN DELETE FROM "rtree_T_G" WHERE id = OLD."fid"; INSERT OR REPLACE INTO "rtree_T_G" VALUES (NEW."fid",ST_MinX(NEW."G"), ST_MaxX(NEW."G"),ST_MinY(NEW."G"), ST_MaxY(NEW."G")); END;
CREATE TRIGGER "rtree_T_G_update4" AFTER UPDATE ON "T" WHEN OLD."fid" != NEW."fid" AND (NEW."G" ISNULL OR ST_IsEmpty(NEW."G")) BEGIN DELETE FROM "rtree_T_G" WHERE id IN (OLD."fid", NEW."fid"); END;
CREATE TRIGGER "rtree_T_G_delete" AFTER DELETE ON "T" WHEN old."G" NOT NULL BEGIN DELETE FROM "rtree_T_G" WHERE id = OLD."fid"; END;
"#;

/// The geometry column of both layers.
const GEOM: &str = "geom";

/// Features written between checks for cancellation and reports of progress.
const BLOCK: usize = 4096;

/// The `srs_id` written for the analysis CRS, and the row of `gpkg_spatial_ref_sys` to add
/// for it (none for WGS 84, which every GeoPackage has, or an unknown CRS, written as the
/// undefined cartesian system `-1`).
fn srs_row(crs: Option<&Crs>) -> (i64, Option<(String, String, i64, String)>) {
    match crs {
        None => (-1, None),
        Some(c) => match c.epsg() {
            Some(4326) => (4326, None),
            Some(code) => (
                i64::from(code),
                Some((c.label(), "EPSG".into(), i64::from(code), c.to_prj_wkt())),
            ),
            None => (
                CUSTOM_SRS_ID,
                Some((c.label(), "NONE".into(), CUSTOM_SRS_ID, c.to_prj_wkt())),
            ),
        },
    }
}

/// Writes `results.gpkg` at `path` (see the module's documentation). A cancelled write
/// leaves `path` as it was (`export::is_cancelled`).
pub fn write_results_gpkg(path: &Path, a: &Analysis, ctl: Control) -> Result<(), ExportError> {
    write_atomic_path(path, |tmp| {
        write_into(tmp, a, ctl).map_err(|e| match e {
            Failure::Sql(e) => std::io::Error::other(e),
            Failure::Io(e) => e,
        })
    })
}

/// Why writing stopped.
enum Failure {
    Sql(rusqlite::Error),
    Io(std::io::Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sql(e)
    }
}

fn write_into(tmp: &Path, a: &Analysis, ctl: Control) -> Result<(), Failure> {
    let mut conn = Connection::open(tmp)?;
    // The file is temporary until renamed: no journal to keep it safe meanwhile, and it is
    // synced once, whole, before the rename.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
         PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
    ))?;
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    let (srs_id, row) = srs_row(a.crs.as_ref());
    if let Some((name, org, code, definition)) = row {
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            rusqlite::params![name, srs_id, org, code, definition],
        )?;
    }
    let parcels = parcel_order(a);
    let risks = risk_order(a);
    let total = (parcels.len() + risks.len()).max(1) as f32;
    let parcel_layer = LayerOut {
        table: "parcels",
        fields: &PARCEL_FIELDS,
        order: &parcels,
        values: &|i| parcel_values(a, i).to_vec(),
        geometry: &|i| &a.parcels.features[a.parcel_info[i].feature].geometry,
    };
    write_layer(&tx, &parcel_layer, srs_id, &ctl, &|done| {
        ctl.report(Phase::Export, done as f32 / total)
    })?;
    let risk_layer = LayerOut {
        table: "risk_areas",
        fields: &RISK_FIELDS,
        order: &risks,
        values: &|i| risk_values(a, i).to_vec(),
        geometry: &|i| &a.risk.features[a.risk_areas[i].feature].geometry,
    };
    write_layer(&tx, &risk_layer, srs_id, &ctl, &|done| {
        ctl.report(Phase::Export, (parcels.len() + done) as f32 / total)
    })?;
    tx.commit()?;
    conn.close().map_err(|(_, e)| Failure::Sql(e))?;
    ctl.report(Phase::Export, 1.0);
    Ok(())
}

/// One layer to write: its table, its fields, the features in order (positions that
/// `values` and `geometry` take).
#[derive(Clone, Copy)]
struct LayerOut<'a, 'f> {
    table: &'static str,
    fields: &'static [(&'static str, OutKind)],
    order: &'f [usize],
    values: &'f dyn Fn(usize) -> Vec<OutValue<'a>>,
    geometry: &'f dyn Fn(usize) -> &'a geo::MultiPolygon<f64>,
}

/// Creates and fills one layer: its table, its rows in `order` (fid 1, 2, ...), its
/// `gpkg_contents` and `gpkg_geometry_columns` rows, and its R-tree with extension row and
/// triggers. `progress` is told how many features are written.
fn write_layer(
    tx: &rusqlite::Transaction<'_>,
    layer: &LayerOut<'_, '_>,
    srs_id: i64,
    ctl: &Control,
    progress: &dyn Fn(usize),
) -> Result<(), Failure> {
    let LayerOut {
        table,
        fields,
        order,
        values,
        geometry,
    } = *layer;
    let t = quote(table);
    let mut create = format!(
        "CREATE TABLE {t} ( \"fid\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {} MULTIPOLYGON",
        quote(GEOM)
    );
    for (name, kind) in fields {
        let sql_type = match kind {
            OutKind::Text | OutKind::TextList => "TEXT",
            OutKind::Number => "REAL",
            OutKind::Count => "INTEGER",
        };
        create.push_str(&format!(", {} {sql_type}", quote(name)));
    }
    create.push(')');
    tx.execute_batch(&create)?;

    let marks: Vec<String> = (1..=fields.len() + 2).map(|k| format!("?{k}")).collect();
    let mut insert = tx.prepare(&format!("INSERT INTO {t} VALUES ({})", marks.join(", ")))?;
    let rtree = quote(&format!("rtree_{table}_{GEOM}"));
    // Created empty here; its shadow tables are filled at the end by `fill_rtree`.
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy)"
    ))?;
    let mut boxes: Vec<(i64, [f64; 4])> = Vec::with_capacity(order.len());
    let mut extent: Option<Rect<f64>> = None;
    let mut blob = Vec::new();
    let mut list = String::new();
    for (k, &i) in order.iter().enumerate() {
        if k % BLOCK == 0 {
            if ctl.cancelled() {
                return Err(Failure::Io(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "cancelled",
                )));
            }
            progress(k);
        }
        let fid = k as i64 + 1;
        let mp = geometry(i);
        blob.clear();
        encode_multipolygon(mp, srs_id as i32, &mut blob);
        insert.raw_bind_parameter(1, fid)?;
        insert.raw_bind_parameter(2, &blob[..])?;
        for (c, v) in values(i).iter().enumerate() {
            let at = c + 3;
            match v {
                OutValue::Text(s) => insert.raw_bind_parameter(at, s.as_deref())?,
                OutValue::TextList(l) => {
                    list.clear();
                    list.push_str(&serde_json::to_string(l).unwrap_or_default());
                    insert.raw_bind_parameter(at, list.as_str())?
                }
                OutValue::Number(x) => {
                    insert.raw_bind_parameter(at, x.filter(|x| x.is_finite()))?
                }
                OutValue::Count(n) => insert.raw_bind_parameter(at, *n as i64)?,
            }
        }
        insert.raw_execute()?;
        if let Some(b) = bounds(mp) {
            boxes.push((fid, [b.min().x, b.max().x, b.min().y, b.max().y]));
            extent = Some(extent.map_or(b, |e| union_rect(e, b)));
        }
    }
    drop(insert);
    fill_rtree(tx, &format!("rtree_{table}_{GEOM}"), boxes)?;
    let (min_x, min_y, max_x, max_y) = match extent {
        Some(e) => (
            Some(e.min().x),
            Some(e.min().y),
            Some(e.max().x),
            Some(e.max().y),
        ),
        None => (None, None, None, None),
    };
    tx.execute(
        "INSERT INTO gpkg_contents VALUES (?1, 'features', ?1, '', ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![table, LAST_CHANGE, min_x, min_y, max_x, max_y, srs_id],
    )?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, 'MULTIPOLYGON', ?3, 0, 0)",
        rusqlite::params![table, GEOM, srs_id],
    )?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index', \
         'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        rusqlite::params![table, GEOM],
    )?;
    tx.execute_batch(
        &RTREE_TRIGGERS
            .replace("rtree_T_G", &format!("rtree_{table}_{GEOM}"))
            .replace("\"T\"", &t)
            .replace("\"G\"", &quote(GEOM)),
    )?;
    Ok(())
}

/// An entry of an R-tree node: a fid (or a child node's number) and its box in single
/// precision, `[min x, max x, min y, max y]`.
type Cell = (i64, [f32; 4]);

/// Entries (or child nodes) in one node of an R-tree: SQLite's most (`RTREE_MAXCELLS`), which
/// a 4096-byte page holds.
const RTREE_FANOUT: usize = 51;

/// The size of a node blob of a 2-dimensional R-tree in a database of 4096-byte pages:
/// 4 bytes of header and 51 cells of 24 bytes (SQLite's rtree.c: `getNodeSize`).
const RTREE_NODE_BYTES: usize = 4 + 24 * RTREE_FANOUT;

/// The nearest `f32` at or below `x` (SQLite's `rtreeValueDown`), so a box stored in single
/// precision still contains the geometry.
fn f32_down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x { f.next_down() } else { f }
}

/// The nearest `f32` at or above `x` (`rtreeValueUp`).
fn f32_up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x { f.next_up() } else { f }
}

/// Fills the empty R-tree `name` with `boxes` (fid, [min x, max x, min y, max y]) at once:
/// packed by Sort-Tile-Recursive (slices by x, then runs by y, level by level up to the
/// root), its nodes written straight into the shadow tables `_node`, `_rowid` and `_parent`
/// as SQLite's rtree module lays them out (GDAL bulk-loads its R-trees the same way).
/// Inserting a million boxes one by one through the virtual table takes seconds; this takes
/// a fraction of one. `rtreecheck()` finds the result consistent at every depth, and after
/// later deletes and inserts through the module (the tests below).
///
/// The layout assumes the node size of 4096-byte pages, which SQLite fixes when it creates
/// the tree (node 1, empty); should it differ, the boxes go in one by one instead.
fn fill_rtree(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    boxes: Vec<(i64, [f64; 4])>,
) -> Result<(), rusqlite::Error> {
    if boxes.is_empty() {
        return Ok(());
    }
    let node_bytes: i64 = tx.query_row(
        &format!(
            "SELECT length(data) FROM {} WHERE nodeno = 1",
            quote(&format!("{name}_node"))
        ),
        [],
        |r| r.get(0),
    )?;
    if usize::try_from(node_bytes).ok() != Some(RTREE_NODE_BYTES) {
        let mut insert = tx.prepare(&format!(
            "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
            quote(name)
        ))?;
        for (id, b) in boxes {
            insert.execute(rusqlite::params![id, b[0], b[1], b[2], b[3]])?;
        }
        return Ok(());
    }
    // Each level: its nodes, each a list of (id or child node number, box).
    let mut level: Vec<Cell> = boxes
        .into_iter()
        .map(|(id, b)| {
            (
                id,
                [f32_down(b[0]), f32_up(b[1]), f32_down(b[2]), f32_up(b[3])],
            )
        })
        .collect();
    let mut levels: Vec<Vec<Vec<Cell>>> = Vec::new();
    loop {
        let nodes = str_pack(level);
        if nodes.len() == 1 {
            levels.push(nodes);
            break;
        }
        // Node numbers: the root is 1; the others are numbered from 2, level by level.
        let first = 2 + levels.iter().map(Vec::len).sum::<usize>() as i64;
        level = nodes
            .iter()
            .enumerate()
            .map(|(k, cells)| (first + k as i64, cover(cells)))
            .collect();
        levels.push(nodes);
    }
    let depth = levels.len() - 1;
    let mut node = tx.prepare(&format!(
        "INSERT OR REPLACE INTO {} VALUES (?1, ?2)",
        quote(&format!("{name}_node"))
    ))?;
    let mut rowid = tx.prepare(&format!(
        "INSERT INTO {} VALUES (?1, ?2)",
        quote(&format!("{name}_rowid"))
    ))?;
    let mut parent = tx.prepare(&format!(
        "INSERT INTO {} VALUES (?1, ?2)",
        quote(&format!("{name}_parent"))
    ))?;
    let mut number = 2i64;
    let mut blob = vec![0u8; RTREE_NODE_BYTES];
    for (height, nodes) in levels.iter().enumerate() {
        let is_root = height == depth;
        for cells in nodes {
            let no = if is_root { 1 } else { number };
            if !is_root {
                number += 1;
            }
            blob.fill(0);
            if is_root {
                blob[..2].copy_from_slice(&(depth as u16).to_be_bytes());
            }
            blob[2..4].copy_from_slice(&(cells.len() as u16).to_be_bytes());
            for (k, (id, b)) in cells.iter().enumerate() {
                let at = 4 + 24 * k;
                blob[at..at + 8].copy_from_slice(&id.to_be_bytes());
                for (j, v) in b.iter().enumerate() {
                    blob[at + 8 + 4 * j..at + 12 + 4 * j].copy_from_slice(&v.to_be_bytes());
                }
                if height == 0 {
                    rowid.execute(rusqlite::params![id, no])?;
                } else {
                    parent.execute(rusqlite::params![id, no])?;
                }
            }
            node.execute(rusqlite::params![no, &blob[..]])?;
        }
    }
    Ok(())
}

/// The box covering the boxes of `cells`.
fn cover(cells: &[Cell]) -> [f32; 4] {
    cells.iter().fold(
        [
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ],
        |a, (_, b)| {
            [
                a[0].min(b[0]),
                a[1].max(b[1]),
                a[2].min(b[2]),
                a[3].max(b[3]),
            ]
        },
    )
}

/// Packs entries into nodes of at most `RTREE_FANOUT` by Sort-Tile-Recursive: sorted by the
/// x of their centres into vertical slices, each slice by y into nodes.
fn str_pack(mut entries: Vec<Cell>) -> Vec<Vec<Cell>> {
    let centre = |b: &[f32; 4], axis: usize| b[2 * axis] + b[2 * axis + 1];
    let nodes = entries.len().div_ceil(RTREE_FANOUT);
    let slices = (nodes as f64).sqrt().ceil().max(1.0) as usize;
    let per_slice = slices * RTREE_FANOUT;
    // Ties by id, so the order (and the file) is the same every run.
    entries.sort_unstable_by(|a, b| {
        centre(&a.1, 0)
            .total_cmp(&centre(&b.1, 0))
            .then(a.0.cmp(&b.0))
    });
    let mut out = Vec::with_capacity(nodes);
    for slice in entries.chunks_mut(per_slice) {
        slice.sort_unstable_by(|a, b| {
            centre(&a.1, 1)
                .total_cmp(&centre(&b.1, 1))
                .then(a.0.cmp(&b.0))
        });
        out.extend(slice.chunks(RTREE_FANOUT).map(<[_]>::to_vec));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_rounded_outwards_to_single_precision() {
        for x in [0.1, -0.1, 3_300_000.123, -512.000_000_1, 1e-40, 0.0, 5.0] {
            let (lo, hi) = (f32_down(x), f32_up(x));
            assert!(f64::from(lo) <= x && f64::from(hi) >= x, "{x}");
            assert!(
                f64::from(hi) - f64::from(lo)
                    <= f64::from(f32::EPSILON) * x.abs().max(1e-38) * 2.0 + 1e-44,
                "{x}"
            );
        }
        assert_eq!(f32_down(1.0 - 1e-12), 1.0 - f32::EPSILON / 2.0);
        assert_eq!(f32_up(1.0 + 1e-12), 1.0 + f32::EPSILON);
    }

    /// Trees of depth 0 to 3 (51 boxes fill a leaf; 52 need a root above two) pass SQLite's
    /// own `rtreecheck()`, answer a window query as a scan of the boxes does, and stay
    /// consistent after deletes and an insert through the rtree module, as QGIS and GDAL
    /// make them when the layer is edited.
    #[test]
    fn bulk_loaded_rtrees_of_every_depth_check_and_answer_queries() {
        for n in [0usize, 1, 51, 52, 2601, 2602, 140_000] {
            let mut conn = Connection::open_in_memory().unwrap();
            let tx = conn.transaction().unwrap();
            tx.execute_batch("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
                .unwrap();
            let boxes: Vec<(i64, [f64; 4])> = (0..n)
                .map(|k| {
                    let (x, y) = ((k % 397) as f64 * 3.1, (k / 397) as f64 * 2.7);
                    (k as i64 + 1, [x, x + 2.0, y, y + 1.5])
                })
                .collect();
            fill_rtree(&tx, "r", boxes.clone()).unwrap();
            tx.commit().unwrap();
            let check = |conn: &Connection| -> String {
                conn.query_row("SELECT rtreecheck('r')", [], |r| r.get(0))
                    .unwrap()
            };
            assert_eq!(check(&conn), "ok", "{n} boxes");
            let q = [100.0, 180.0, 20.0, 60.0];
            let want = boxes
                .iter()
                .filter(|(_, b)| b[0] <= q[1] && b[1] >= q[0] && b[2] <= q[3] && b[3] >= q[2])
                .count() as i64;
            let got: i64 = conn
                .query_row(
                    "SELECT count(*) FROM r \
                     WHERE minx <= ?2 AND maxx >= ?1 AND miny <= ?4 AND maxy >= ?3",
                    q,
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(got, want, "{n} boxes");
            conn.execute("DELETE FROM r WHERE id % 3 = 0", []).unwrap();
            conn.execute("INSERT INTO r VALUES (999999999, 1, 2, 3, 4)", [])
                .unwrap();
            assert_eq!(check(&conn), "ok", "{n} boxes, after edits");
        }
    }

    #[test]
    fn sort_tile_recursive_packs_full_nodes_covering_their_entries() {
        let entries: Vec<Cell> = (0..1000)
            .map(|k| {
                let (x, y) = ((k % 40) as f32 * 10.0, (k / 40) as f32 * 10.0);
                (k as i64 + 1, [x, x + 5.0, y, y + 5.0])
            })
            .collect();
        let nodes = str_pack(entries);
        assert_eq!(nodes.len(), 1000usize.div_ceil(RTREE_FANOUT));
        assert_eq!(nodes.iter().map(Vec::len).sum::<usize>(), 1000);
        assert!(
            nodes
                .iter()
                .all(|n| n.len() <= RTREE_FANOUT && !n.is_empty())
        );
        let mut ids: Vec<i64> = nodes.iter().flatten().map(|c| c.0).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=1000).collect::<Vec<_>>());
        // Nodes of a tiling are compact: none spans more than half the layer.
        for n in &nodes {
            let b = cover(n);
            assert!(b[1] - b[0] <= 200.0 && b[3] - b[2] <= 130.0, "{b:?}");
        }
    }
}
