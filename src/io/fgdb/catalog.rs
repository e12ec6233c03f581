//! The catalog (table 1, `a00000001`): one row per table, its object id naming the table's
//! files and its `Name` the layer. Lists the user tables ([`catalog`]), finds the one a
//! layer name picks (`find_entry`), and tells the polygon layers ([`polygon_layers`]) from
//! each table's header alone, without reading its rows.

use super::bytes::Bytes;
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

/// The polygon layers of a geodatabase, by name: the tables whose header says polygons, and
/// those whose header cannot be read (so that a damaged table makes the choice ambiguous
/// rather than silently leaving the other layer; opening it by name explains the damage).
pub fn polygon_layers(dir: &GdbDir) -> Result<Vec<String>, LayerError> {
    let mut out = Vec::new();
    for e in catalog(dir)? {
        if matches!(geometry_type(dir, &e.stem)?, Some(4) | None) {
            out.push(e.name);
        }
    }
    Ok(out)
}

/// The geometry type a table's header declares, from its field list: found right after the
/// 40-byte header in the files ArcGIS and GDAL write, but at the end of the file once fields
/// have been added (both rewrite the list there). `None` when it cannot be told.
fn geometry_type(dir: &GdbDir, stem: &str) -> Result<Option<u8>, LayerError> {
    const HEAD: usize = 1 << 16;
    let name = format!("{stem}.gdbtable");
    let Some(head) = dir.head(&name, HEAD)? else {
        return Ok(None);
    };
    let mut c = Bytes::new(&head);
    let at = (|| -> Result<u64, String> {
        if c.u32()? != 3 {
            return Err("version".into());
        }
        c.take(28)?;
        c.u64()
    })();
    let Ok(at) = at else {
        return Ok(None);
    };
    let in_head = usize::try_from(at)
        .ok()
        .and_then(|a| head.get(a.checked_add(4)?..))
        .and_then(|desc| parse_fields(desc).ok());
    if let Some(parsed) = in_head {
        return Ok(Some(parsed.0));
    }
    Ok(dir
        .range(&name, at.saturating_add(4), HEAD)?
        .and_then(|desc| parse_fields(&desc).ok())
        .map(|p| p.0))
}
