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
use crate::layer::{Feature, Layer};

/// A reader that can also jump (a file, or an archive member in memory).
pub trait ReadSeek: std::io::Read + std::io::Seek + Send {}
impl<T: std::io::Read + std::io::Seek + Send> ReadSeek for T {}

/// Options that change how a file is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Text encoding of the attributes, overriding `.cpg` and detection (`GBK`, `UTF-8`, ...).
    pub encoding: Option<String>,
    /// Bytes of `.shp` records read at a time (default `shp::BATCH_BYTES`, 32 MiB): what a
    /// streamed layer holds in memory beyond what is kept.
    pub batch_bytes: Option<usize>,
    /// Only these attribute fields are decoded (named as `Layer::field_index` finds them);
    /// the others come out as `Value::Null`. A streamed analysis needs three or four of a
    /// table's columns. Shapefiles only: a GeoJSON layer is read whole.
    pub fields: Option<Vec<String>>,
}

/// Reads a polygon layer from a `.shp`, `.geojson` or `.json` file, or a `.zip` holding one
/// (`archive.zip/member.shp` names one of several).
pub fn read_layer(path: &Path, opts: &ReadOptions) -> Result<Layer, LayerError> {
    LayerReader::open(path, opts)?.read_all()
}

/// A layer read a batch of features at a time: a shapefile streams (see
/// `shp::ShapefileReader`); a GeoJSON layer is read whole (its reader already streams the
/// text) and given as one batch.
pub enum LayerReader {
    Shapefile(Box<shp::ShapefileReader>),
    Whole {
        header: Box<Layer>,
        features: Option<Vec<Feature>>,
    },
}

impl LayerReader {
    /// Opens `path` as `read_layer` would, reading its headers only where it can.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<LayerReader, LayerError> {
        if let Some((zip, member)) = archive::split_member(path) {
            return archive::open_zip(&zip, Some(&member), opts);
        }
        if !path.exists() {
            return Err(LayerError::format(path, "file not found"));
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let shapefile = |shp: &Path| {
            shp::ShapefileReader::open(shp::Parts::beside(shp), opts)
                .map(|r| LayerReader::Shapefile(Box::new(r)))
        };
        match ext.as_str() {
            "shp" => shapefile(path),
            "zip" => archive::open_zip(path, None, opts),
            "geojson" | "json" => geojson_in::read_geojson(path).map(LayerReader::whole),
            "dbf" | "shx" | "prj" | "cpg" => match shp::sibling(path, "shp") {
                Some(shp) => shapefile(&shp),
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

    /// A layer already read, as one batch.
    pub fn whole(mut layer: Layer) -> LayerReader {
        let features = std::mem::take(&mut layer.features);
        LayerReader::Whole {
            header: Box::new(layer),
            features: Some(features),
        }
    }

    /// The layer's name, type, fields, CRS and encoding (no features; its warnings may come
    /// only with `finish`).
    pub fn header(&self) -> &Layer {
        match self {
            LayerReader::Shapefile(r) => r.header(),
            LayerReader::Whole { header, .. } => header,
        }
    }

    /// How many features the layer will give, as far as its headers tell (a shapefile's
    /// `.dbf` record count): for reserving memory once instead of growing by doubling.
    pub fn size_hint(&self) -> usize {
        match self {
            LayerReader::Shapefile(r) => r.size_hint(),
            LayerReader::Whole { features, .. } => features.as_ref().map_or(0, Vec::len),
        }
    }

    /// How much has been read, from 0 to 1.
    pub fn progress(&self) -> f32 {
        match self {
            LayerReader::Shapefile(r) => r.progress(),
            LayerReader::Whole { features, .. } => {
                if features.is_some() {
                    0.0
                } else {
                    1.0
                }
            }
        }
    }

    /// The next features, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        match self {
            LayerReader::Shapefile(r) => r.next_batch(),
            LayerReader::Whole { features, .. } => Ok(features.take()),
        }
    }

    /// The layer without features, with every warning.
    pub fn finish(self) -> Layer {
        match self {
            LayerReader::Shapefile(r) => r.finish(),
            LayerReader::Whole { header, .. } => *header,
        }
    }

    /// The whole layer.
    pub fn read_all(mut self) -> Result<Layer, LayerError> {
        let mut features = Vec::new();
        while let Some(batch) = self.next_batch()? {
            features.extend(batch);
        }
        let mut layer = self.finish();
        layer.features = features;
        Ok(layer)
    }
}
