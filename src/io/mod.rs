//! Reading layers from files: shapefiles (`shp`, with `dbf`, `encoding`, `rings`), GeoJSON
//! (`geojson_in`), GeoPackages (`gpkg`, `gpkg_geom`) and File Geodatabases (`fgdb`), either
//! on disk or inside a zip archive (`archive`); and PostGIS tables (`postgis`). The formats are registered in `formats`;
//! `read_layer` and `LayerReader::open` pick one from the file name.

pub mod archive;
pub mod batch;
pub mod dbf;
pub mod encoding;
pub mod fgdb;
pub mod formats;
pub mod geojson_in;
pub mod gpkg;
pub mod gpkg_geom;
pub mod intern;
pub mod postgis;
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
    /// streamed layer holds in memory beyond what is kept. A GeoPackage reads one row per
    /// KiB of it, at most `gpkg::BATCH_ROWS` (16,384).
    pub batch_bytes: Option<usize>,
    /// Only these attribute fields are decoded (named as `Layer::field_index` finds them);
    /// the others come out as `Value::Null`. A streamed analysis needs three or four of a
    /// table's columns. Shapefiles and GeoPackages (which select only these columns); a
    /// GeoJSON layer is read whole.
    pub fields: Option<Vec<String>>,
    /// Only these records (1-based, ascending) are wanted: a shapefile skips the others'
    /// geometry unparsed (as if null); other formats read every record and the caller keeps
    /// the ones it wants. For reading back a few parcels of a layer already analysed.
    pub records: Option<std::sync::Arc<[usize]>>,
}

/// Reads a polygon layer from any format of the registry (`formats::FORMATS`), or a layer
/// of a container (`archive.zip/member.shp` names one of several).
pub fn read_layer(path: &Path, opts: &ReadOptions) -> Result<Layer, LayerError> {
    LayerReader::open(path, opts)?.read_all()
}

/// What a format's reader does: give a layer's header, then its features a batch at a time.
pub trait Batches: Send {
    /// The layer's name, type, fields, CRS and encoding (no features; its warnings may come
    /// only with `finish`).
    fn header(&self) -> &Layer;
    /// How many features the layer will give, as far as its headers tell: for reserving
    /// memory once instead of growing by doubling.
    fn size_hint(&self) -> usize;
    /// How much has been read, from 0 to 1.
    fn progress(&self) -> f32;
    /// The next features, or `None` at the end.
    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError>;
    /// The layer without features, with every warning.
    fn finish(self: Box<Self>) -> Layer;
    /// What a database measured of the features of the last batch, one each, in order
    /// (`analyze --engine postgis`); `None` from a reader that only reads.
    fn take_pushed(&mut self) -> Option<Vec<Pushed>> {
        None
    }
}

/// A parcel as a database measured it (`analyze --engine postgis`, see `postgis::pushdown`):
/// its area, its area in each risk class and in each risk area, in m² by the area method,
/// before any surveyed area replaces them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pushed {
    pub area_m2: f64,
    /// Area in class I, II and III, overlaps given to the highest class.
    pub class_m2: [f64; 3],
    pub pieces: Vec<PushedPiece>,
}

/// A parcel's area in one risk area, where it counts in one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PushedPiece {
    /// The risk area's record in the risk layer (as `Feature::record`).
    pub risk_record: usize,
    /// 0, 1, 2 for class I, II, III.
    pub class: usize,
    pub area_m2: f64,
}

/// A layer read a batch of features at a time: a shapefile streams (see
/// `shp::ShapefileReader`); a GeoJSON layer is read whole (its reader already streams the
/// text) and given as one batch.
pub struct LayerReader(Box<dyn Batches>);

/// A layer already read, given as one batch.
struct Whole {
    header: Layer,
    features: Option<Vec<Feature>>,
}

impl Batches for Whole {
    fn header(&self) -> &Layer {
        &self.header
    }
    fn size_hint(&self) -> usize {
        self.features.as_ref().map_or(0, Vec::len)
    }
    fn progress(&self) -> f32 {
        if self.features.is_some() { 0.0 } else { 1.0 }
    }
    fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        Ok(self.features.take())
    }
    fn finish(self: Box<Self>) -> Layer {
        self.header
    }
}

impl LayerReader {
    /// A reader of any format.
    pub fn new(reader: impl Batches + 'static) -> LayerReader {
        LayerReader(Box::new(reader))
    }

    /// Opens the layer at `path` through the format its extension names (a layer of a
    /// container through the container's), reading its headers only where it can.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<LayerReader, LayerError> {
        if postgis::is_url(path) {
            return postgis::open(path, opts);
        }
        let formats::Resolved {
            format,
            main,
            layer,
            ..
        } = formats::resolve(path)?;
        let mut beside = |ext: &str| Ok(shp::sibling(&main, ext).map(shp::Part::File));
        format.open(
            shp::Part::File(main.clone()),
            &mut beside,
            layer.as_deref(),
            opts,
        )
    }

    /// A layer already read, as one batch.
    pub fn whole(mut layer: Layer) -> LayerReader {
        let features = std::mem::take(&mut layer.features);
        LayerReader::new(Whole {
            header: layer,
            features: Some(features),
        })
    }

    /// See [`Batches::header`].
    pub fn header(&self) -> &Layer {
        self.0.header()
    }

    /// See [`Batches::size_hint`].
    pub fn size_hint(&self) -> usize {
        self.0.size_hint()
    }

    /// See [`Batches::progress`].
    pub fn progress(&self) -> f32 {
        self.0.progress()
    }

    /// See [`Batches::next_batch`].
    pub fn next_batch(&mut self) -> Result<Option<Vec<Feature>>, LayerError> {
        self.0.next_batch()
    }

    /// See [`Batches::take_pushed`].
    pub fn take_pushed(&mut self) -> Option<Vec<Pushed>> {
        self.0.take_pushed()
    }

    /// See [`Batches::finish`].
    pub fn finish(self) -> Layer {
        self.0.finish()
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
