//! Reading ESRI File Geodatabases (`folder.gdb`, read only): the land survey's deliverable
//! format. Written by hand because no Rust crate reads the format (the `gdal` crate binds the C
//! library, which soilrisk does not link); the facts come from Even Rouault's published
//! reverse-engineered description (the "FGDB Spec" of `dump_gdbtable`) and GDAL's
//! `OpenFileGDB` driver documentation.
//!
//! A geodatabase is a folder of tables. Table `N` is the pair `aNNNNNNNN.gdbtable` (rows) and
//! `aNNNNNNNN.gdbtablx` (the offset of each row by object id, 0 for a deleted row), `N` in
//! lower-case hex. Table 1 is the catalog: one row per table, its object id naming the files
//! and its `Name` the layer, whether the table sits at the root or in a feature dataset (so a
//! layer of a feature dataset is found by its own name; `x.gdb/DATASET/LAYER` is accepted too).
//! Tables named `GDB_*` are the geodatabase's own and are not listed.
//!
//! What is read, and how:
//! - field names are UTF-16 in the table's header and kept exactly (Chinese included); text
//!   values are UTF-8;
//! - integers and reals are `Number`; dates (days since 1899-12-30) are `Date` in ISO form,
//!   `YYYY-MM-DD`, with `THH:MM:SS` when the time is not midnight; GUIDs are text as GDAL
//!   writes them (`{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`); XML is text; binary (blob)
//!   fields are listed but always read as null; a table with a raster field is refused;
//! - polygon shapes (plain, Z, M, ZM and general polygons): x and y, Z and M dropped;
//!   circular arcs and cubic Béziers are densified (arcs by at most 4° a step, Béziers in 100
//!   steps, as GDAL does); an elliptic arc is taken as its chord, with a warning; rings are
//!   assembled and repaired as a shapefile's are (`rings::assemble`);
//! - the CRS is the geometry field's WKT (ESRI's), through `Crs::from_prj`;
//! - point, line, multipoint and multipatch layers and tables without geometry are refused by
//!   name (`LayerError::NotPolygons`).
//!
//! `folder.gdb` alone opens its one polygon layer; with several, the error lists them.
//! `layers()` lists every table of the catalog (as `ogrinfo` does), so a refusal can be
//! named. Rows are read in object-id order a batch at a time (`ReadOptions::batch_bytes`) and
//! decoded in parallel; `Feature::record` is the object id. Every count and offset read from
//! a file is checked against the file's length before use: damage is a `LayerError` naming
//! the layer (`x.gdb/LAYER`), the table file and the row, never a panic or an allocation
//! sized by the file's claims.
//!
//! The files come through [`GdbDir`]: a folder on disk, a folder inside a zip archive
//! (members read into memory one table at a time) or files in memory (the fuzz target).
//!
//! The files, in the order a read goes through them:
//! - `mod.rs` (here): the format's registration ([`FileGdb`]), [`open_layer`] (which layer a
//!   name, or none, picks) and [`read_table_bytes`];
//! - `dir.rs`: [`GdbDir`], where the files are;
//! - `catalog.rs`: the catalog's tables and the polygon layers among them;
//! - `table.rs`: a table file opened: its header, then its rows one at a time;
//! - `fields.rs`: the header's field list and the format's field types;
//! - `index.rs`: the row index (`.gdbtablx`);
//! - `row.rs`: a row's values;
//! - `shape.rs`: a row's polygon, its curves densified;
//! - `reader.rs`: [`FgdbReader`], the layer's features a batch at a time;
//! - `bytes.rs`: the bounds-checked cursor every parser reads through.

mod bytes;
mod catalog;
mod dir;
mod fields;
mod index;
mod reader;
mod row;
mod shape;
mod table;

use std::path::Path;

use super::formats::{Beside, LayerFormat};
use super::shp::Part;
use super::{LayerReader, ReadOptions};
use crate::error::LayerError;
use crate::layer::Layer;
use catalog::find_entry;

pub use catalog::{CatalogEntry, catalog, polygon_layers};
pub use dir::GdbDir;
pub use reader::FgdbReader;

/// The File Geodatabase format of the registry.
pub struct FileGdb;

impl LayerFormat for FileGdb {
    fn name(&self) -> &'static str {
        "OpenFileGDB"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["gdb"]
    }
    fn is_container(&self) -> bool {
        true
    }
    fn is_folder(&self) -> bool {
        true
    }
    fn files_inside(&self) -> &'static [&'static str] {
        &["gdbtable"]
    }
    fn layers(&self, path: &Path) -> Result<Vec<String>, LayerError> {
        let dir = GdbDir::Disk(path.to_path_buf());
        Ok(catalog(&dir)?.into_iter().map(|t| t.name).collect())
    }
    fn open(
        &self,
        main: Part,
        _beside: &mut Beside<'_>,
        layer: Option<&str>,
        opts: &ReadOptions,
    ) -> Result<LayerReader, LayerError> {
        match main {
            Part::File(path) => open_layer(GdbDir::Disk(path), layer, opts),
            Part::Bytes { name, .. } => Err(LayerError::format(
                &name,
                "a File Geodatabase is a folder, not one file",
            )),
        }
    }
}

/// Opens the layer `layer` of the geodatabase in `dir` (its only polygon layer when `None`).
pub fn open_layer(
    dir: GdbDir,
    layer: Option<&str>,
    opts: &ReadOptions,
) -> Result<LayerReader, LayerError> {
    let shown = dir.shown();
    let entries = catalog(&dir)?;
    let entry = match layer {
        Some(l) => find_entry(&entries, l).ok_or_else(|| {
            let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
            LayerError::format(
                &shown.join(l),
                format!(
                    "no such layer in the geodatabase (it holds: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })?,
        None => {
            let polygons = polygon_layers(&dir)?;
            match polygons.as_slice() {
                [one] => find_entry(&entries, one).ok_or_else(|| {
                    LayerError::format(&shown, "the catalog changed while it was read")
                })?,
                [] => {
                    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
                    return Err(LayerError::format(
                        &shown,
                        format!(
                            "the geodatabase holds no polygon layer (it holds: {})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    ));
                }
                _ => {
                    return Err(LayerError::SeveralLayers {
                        path: shown,
                        members: polygons,
                    });
                }
            }
        }
    };
    let shown_layer = shown.join(&entry.name);
    FgdbReader::open(&dir, &entry.stem, shown_layer, opts).map(LayerReader::new)
}

/// Reads one table given as its two files in memory, as a layer: for the fuzz target and
/// tests of the decoder.
pub fn read_table_bytes(
    name: &Path,
    gdbtable: Vec<u8>,
    gdbtablx: Vec<u8>,
    opts: &ReadOptions,
) -> Result<Layer, LayerError> {
    let dir = GdbDir::Memory {
        name: name.to_path_buf(),
        files: vec![
            ("a00000009.gdbtable".into(), gdbtable),
            ("a00000009.gdbtablx".into(), gdbtablx),
        ],
    };
    LayerReader::new(FgdbReader::open(
        &dir,
        "a00000009",
        name.to_path_buf(),
        opts,
    )?)
    .read_all()
}
