//! The catalog (table 1, `a00000001`): one row per table, its object id naming the table's
//! files and its `Name` the layer. Lists the user tables ([`catalog`]), finds the one a
//! layer name picks (`find_entry`), and tells the polygon layers ([`polygon_layers`]) from
//! each table's header alone, without reading its rows.

use super::bytes::{Bytes, SHORT};
use super::dir::GdbDir;
use super::fields::parse_fields;
use super::row::decode_row;
use super::table::Table;
use crate::error::LayerError;
use crate::layer::Value;

/// One table of the catalog: its layer name and the stem of its files (`a00000009`).
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub name: String,
    pub stem: String,
}

/// The user tables of a geodatabase, in catalog order (the `GDB_*` system tables and tables
/// whose files are missing left out).
pub fn catalog(dir: &GdbDir) -> Result<Vec<CatalogEntry>, LayerError> {
    let shown = dir.shown();
    let mut table = Table::open(dir, "a00000001", shown.clone())?;
    let name_at = table.schema.fields.iter().position(|f| f.name == "Name");
    let Some(name_at) = name_at else {
        return Err(LayerError::format(
            &shown,
            "not a File Geodatabase (its catalog a00000001.gdbtable has no Name field)",
        ));
    };
    let wanted: Vec<bool> = (0..table.schema.fields.len())
        .map(|i| i == name_at)
        .collect();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let Some((oid, a, b)) = table.next_row(&mut buf)? else {
            break;
        };
        let row = decode_row(&table.schema, &wanted, &buf[a..b], false, &[])
            .map_err(|reason| table.schema.row_error(oid, reason))?;
        let name = match row
            .values
            .get(table.schema.fields[name_at].slot.unwrap_or(usize::MAX))
        {
            Some(Value::Text(t)) => t.to_string(),
            _ => continue,
        };
        if name.starts_with("GDB_") || name.is_empty() {
            continue;
        }
        let stem = format!("a{oid:08x}");
        if dir.has(&format!("{stem}.gdbtable"))? {
            out.push(CatalogEntry { name, stem });
        }
    }
    Ok(out)
}

/// The catalog entry a layer name picks: the exact name, else ignoring case (the format's
/// names are case-insensitive); `DATASET/LAYER` and `\DATASET\LAYER` name `LAYER`.
pub(super) fn find_entry<'a>(entries: &'a [CatalogEntry], layer: &str) -> Option<&'a CatalogEntry> {
    let name = layer
        .trim_matches(|c| c == '/' || c == '\\')
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(layer);
    entries
        .iter()
        .find(|e| e.name == name)
        .or_else(|| entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)))
}

/// The polygon layers of a geodatabase, by name: the tables whose header says polygons and
/// parses (a damaged one is left for opening it by name to explain).
pub fn polygon_layers(dir: &GdbDir) -> Result<Vec<String>, LayerError> {
    let mut out = Vec::new();
    for e in catalog(dir)? {
        if geometry_type(dir, &e.stem)? == Some(4) {
            out.push(e.name);
        }
    }
    Ok(out)
}

/// The geometry type a table's header declares, read from the start of its file (the field
/// list follows the 40-byte header in the files ArcGIS and GDAL write); `None` when it cannot
/// be told.
fn geometry_type(dir: &GdbDir, stem: &str) -> Result<Option<u8>, LayerError> {
    const HEAD: usize = 1 << 16;
    let Some(head) = dir.head(&format!("{stem}.gdbtable"), HEAD)? else {
        return Ok(None);
    };
    let mut c = Bytes::new(&head);
    let parsed = (|| -> Result<u8, String> {
        if c.u32()? != 3 {
            return Err("version".into());
        }
        c.take(28)?;
        let at = usize::try_from(c.u64()?).map_err(|_| SHORT)?;
        let desc = head.get(at.checked_add(4).ok_or(SHORT)?..).ok_or(SHORT)?;
        Ok(parse_fields(desc)?.0)
    })();
    Ok(parsed.ok())
}
