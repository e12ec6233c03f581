//! PostGIS tables as layers: `postgresql://USER@HOST:PORT/DB?table=SCHEMA.TABLE[&geom=COLUMN]`
//! (`uri`) opens a table through the `postgres` crate, the maintained PostgreSQL client,
//! and reads it in batches through a server-side cursor with results in binary (`reader`).
//! The password comes from `PGPASSWORD` or the password file (`pgpass`); `connect` words the
//! errors a user can act on; `catalog` finds tables, columns and CRSs.
//!
//! What is written by hand here, and why: the password file (the client crate reads none,
//! libpq's format is a few lines) and the URL's `table=`/`geom=` (no crate knows them).

pub mod catalog;
pub mod connect;
pub mod pgpass;
pub mod pushdown;
pub mod reader;
pub mod uri;

use std::path::Path;

pub use reader::PostGisReader;
pub use uri::{Server, TableName, TableUrl, is_url};

use crate::error::LayerError;

/// The format's name, as `info` gives it.
pub const FORMAT_NAME: &str = "PostgreSQL/PostGIS";

/// Parses the URL `path` names, naming it in the error.
pub fn parse(path: &Path) -> Result<TableUrl, LayerError> {
    let text = path.to_string_lossy();
    uri::parse(&text).map_err(|reason| LayerError::format(Path::new(&uri::redacted(&text)), reason))
}

/// Opens the table `path` names for reading in batches.
pub fn open(
    path: &Path,
    opts: &crate::io::ReadOptions,
) -> Result<crate::io::LayerReader, LayerError> {
    let url = parse(path)?;
    PostGisReader::open(&url, path, opts).map(crate::io::LayerReader::new)
}

/// A table a database offers as a layer: one geometry column of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub name: TableName,
    pub column: String,
    /// `MultiPolygon`, `Polygon`, `Geometry`...
    pub geometry_type: String,
    pub srid: i32,
    pub rows: u64,
    /// Whether `rows` is the planner's estimate (a table analysed since it was loaded).
    pub estimated: bool,
    /// The URL that opens it.
    pub url: String,
}

/// The database's polygon tables (and tables whose column may hold polygons), with their
/// row counts and SRIDs: what File > Open from PostGIS… lists.
pub fn tables(server: &Server) -> Result<Vec<TableInfo>, LayerError> {
    let url = server.url();
    let path = Path::new(&url);
    let mut conn = connect::connect(server, path)?;
    connect::postgis_version(&mut conn.client, server, path)?;
    let columns = catalog::geometry_columns(&mut conn.client, path)?;
    let mut out = Vec::new();
    for c in columns.iter().filter(|c| c.may_be_polygons()) {
        let several = columns
            .iter()
            .filter(|o| o.schema == c.schema && o.table == c.table && o.may_be_polygons())
            .count()
            > 1;
        let (rows, estimated) = catalog::row_count(&mut conn.client, c, path)?;
        let name = c.name();
        out.push(TableInfo {
            url: server.table_url(&name, several.then_some(c.column.as_str())),
            name,
            column: c.column.clone(),
            geometry_type: c.type_label(),
            srid: c.srid,
            rows,
            estimated,
        });
    }
    Ok(out)
}
