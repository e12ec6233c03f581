//! Reading layers from files: shapefiles (`shp`, with `dbf`, `encoding`, `rings`) and GeoJSON
//! (`geojson_in`), either on disk or inside a zip archive (`archive`). `read_layer` picks the
//! reader from the file name.

pub mod archive;
pub mod dbf;
pub mod encoding;
pub mod geojson_in;
pub mod rings;
pub mod shp;

use std::path::Path;

use crate::error::LayerError;
use crate::layer::Layer;

/// Options that change how a file is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Text encoding of the attributes, overriding `.cpg` and detection (`GBK`, `UTF-8`, ...).
    pub encoding: Option<String>,
}

/// Reads a polygon layer from a `.shp`, `.geojson` or `.json` file, or a `.zip` holding one
/// (`archive.zip/member.shp` names one of several).
pub fn read_layer(path: &Path, opts: &ReadOptions) -> Result<Layer, LayerError> {
    if let Some((zip, member)) = archive::split_member(path) {
        return archive::read_zip(&zip, Some(&member), opts);
    }
    if !path.exists() {
        return Err(LayerError::format(path, "file not found"));
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "shp" => shp::read_shapefile(path, opts),
        "zip" => archive::read_zip(path, None, opts),
        "geojson" | "json" => geojson_in::read_geojson(path),
        "dbf" | "shx" | "prj" | "cpg" => match shp::sibling(path, "shp") {
            Some(shp) => shp::read_shapefile(&shp, opts),
            None => Err(LayerError::format(
                path,
                "a shapefile sidecar without its .shp; open the .shp",
            )),
        },
        _ => Err(LayerError::format(
            path,
            "unsupported file type (soilrisk reads .shp, .geojson and .zip)",
        )),
    }
}
