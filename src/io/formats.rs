//! The formats soilrisk reads, in one registry: [`FORMATS`]. Each entry says which files open
//! a layer of it, whether it is a container of named layers, and opens a layer for reading in
//! batches. Opening a path (`LayerReader::open`), the layers inside a zip archive, `info`, the
//! command line's help and the window's file dialogs and drag and drop all read this table:
//! a new format is one file implementing [`LayerFormat`] and one line in [`FORMATS`].

use std::path::{Path, PathBuf};

use crate::error::LayerError;

use super::shp::{Part, Parts, ShapefileReader};
use super::{LayerReader, ReadOptions, archive, fgdb, geojson_in, gpkg};

/// Gives the file beside a layer's main file with the same stem and this extension (any
/// case), if there is one: on disk, or in the same archive.
pub type Beside<'a> = dyn FnMut(&str) -> Result<Option<Part>, LayerError> + 'a;

/// A format of layer files.
pub trait LayerFormat: Sync {
    /// The format's name, as GDAL's drivers call it.
    fn name(&self) -> &'static str;
    /// Extensions (lower case, no dot) of the file that opens a layer.
    fn extensions(&self) -> &'static [&'static str];
    /// Extensions of files that belong to a layer but do not open alone (a shapefile's
    /// `.dbf`): opening one opens the layer through its main file.
    fn companions(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether a file of this format holds layers named after its path
    /// (`archive.zip/member.shp`).
    fn is_container(&self) -> bool {
        false
    }
    /// Whether a layer of this format is a folder rather than a file (a File Geodatabase).
    fn is_folder(&self) -> bool {
        false
    }
    /// For a folder format, extensions of the files inside it that a file dialog offers:
    /// picking one opens the folder (a File Geodatabase's `.gdbtable`).
    fn files_inside(&self) -> &'static [&'static str] {
        &[]
    }
    /// The layers a container at `path` holds, in its order.
    fn layers(&self, path: &Path) -> Result<Vec<String>, LayerError> {
        Ok(vec![path.display().to_string()])
    }
    /// Opens the layer in `main` (for a container, the one named `layer`, or its only one).
    fn open(
        &self,
        main: Part,
        beside: &mut Beside<'_>,
        layer: Option<&str>,
        opts: &ReadOptions,
    ) -> Result<LayerReader, LayerError>;
}

/// Every format soilrisk reads.
pub static FORMATS: &[&dyn LayerFormat] = &[
    &Shapefile,
    &GeoJson,
    &gpkg::GeoPackage,
    &archive::Zip,
    &fgdb::FileGdb,
];

/// ESRI shapefiles: `.shp` with `.dbf`, `.shx`, `.prj` and `.cpg` beside it.
pub struct Shapefile;

impl LayerFormat for Shapefile {
    fn name(&self) -> &'static str {
        "ESRI Shapefile"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["shp"]
    }
    fn companions(&self) -> &'static [&'static str] {
        &["dbf", "shx", "prj", "cpg"]
    }
    fn open(
        &self,
        main: Part,
        beside: &mut Beside<'_>,
        _layer: Option<&str>,
        opts: &ReadOptions,
    ) -> Result<LayerReader, LayerError> {
        let parts = Parts {
            shp: main,
            dbf: beside("dbf")?,
            prj: beside("prj")?,
            cpg: beside("cpg")?,
        };
        ShapefileReader::open(parts, opts).map(LayerReader::new)
    }
}

/// GeoJSON (RFC 7946, and the older `crs` member): read whole, as one batch.
pub struct GeoJson;

impl LayerFormat for GeoJson {
    fn name(&self) -> &'static str {
        "GeoJSON"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["geojson", "json"]
    }
    fn open(
        &self,
        main: Part,
        _beside: &mut Beside<'_>,
        _layer: Option<&str>,
        _opts: &ReadOptions,
    ) -> Result<LayerReader, LayerError> {
        let layer = match main {
            Part::File(path) => geojson_in::read_geojson(&path)?,
            Part::Bytes { name, bytes } => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    LayerError::format(&name, "not GeoJSON (the text is not UTF-8)")
                })?;
                geojson_in::parse_geojson(&name, text)?
            }
        };
        Ok(LayerReader::whole(layer))
    }
}

/// The lower-case extension of a file name.
fn extension(name: &str) -> Option<String> {
    let ext = Path::new(name).extension()?;
    Some(ext.to_string_lossy().to_ascii_lowercase())
}

/// The format whose layers a file of this name opens (its extension), if any.
pub fn opening(name: &str) -> Option<&'static dyn LayerFormat> {
    let ext = extension(name)?;
    FORMATS
        .iter()
        .copied()
        .find(|f| f.extensions().contains(&ext.as_str()))
}

/// The format a companion file of this name belongs to (`x.dbf`: shapefiles), if any.
pub fn companion_of(name: &str) -> Option<(&'static dyn LayerFormat, &'static str)> {
    let ext = extension(name)?;
    FORMATS
        .iter()
        .copied()
        .find(|f| f.companions().contains(&ext.as_str()))
        .map(|f| (f, f.extensions()[0]))
}

/// Every extension that opens a layer, in registry order: for file dialogs and drag and drop.
pub fn extensions() -> Vec<&'static str> {
    FORMATS
        .iter()
        .flat_map(|f| f.extensions())
        .copied()
        .collect()
}

/// The extensions a file dialog for layers offers: those that open a layer, then those of
/// files inside a folder layer (picking one opens the folder).
pub fn dialog_extensions() -> Vec<&'static str> {
    let mut all = extensions();
    all.extend(FORMATS.iter().flat_map(|f| f.files_inside()).copied());
    all
}

/// The extensions as a user reads them: `.shp, .geojson, .json, .zip or .gdb`.
pub fn extensions_text() -> String {
    let all: Vec<String> = extensions().iter().map(|e| format!(".{e}")).collect();
    match all.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Whether `name` opens a layer inside a container (a member of a zip): single-layer formats
/// only, so an archive inside an archive is not followed.
pub fn opens_inside_container(name: &str) -> bool {
    opening(name).is_some_and(|f| !f.is_container())
}

/// Splits `archive.zip/inner/x.shp` into the container and the layer's name inside it, when
/// a leading part of the path is a container file or folder. A path that exists as it is is
/// not split.
pub fn split_container(path: &Path) -> Option<(PathBuf, String)> {
    if path.exists() {
        return None;
    }
    let mut container = path.to_path_buf();
    while container.pop() {
        let format = container
            .file_name()
            .and_then(|n| opening(&n.to_string_lossy()))
            .filter(|f| f.is_container());
        let present = format.is_some_and(|f| {
            if f.is_folder() {
                container.is_dir()
            } else {
                container.is_file()
            }
        });
        if present {
            let inner = path.strip_prefix(&container).ok()?;
            let inner = inner
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            return Some((container, inner));
        }
    }
    None
}

/// How a path opens: the format, the file that opens the layer, and the layer's name inside
/// a container.
pub struct Resolved {
    pub format: &'static dyn LayerFormat,
    /// The file (or folder) the format opens: the container for a layer inside one, the
    /// `.shp` for a shapefile's companion.
    pub main: PathBuf,
    /// The layer's name inside a container (`member.shp` of `archive.zip/member.shp`).
    pub layer: Option<String>,
    /// The format of the layer inside a container, as far as its name tells.
    pub inner: Option<&'static dyn LayerFormat>,
}

impl Resolved {
    /// The formats as `info` names them: `ESRI Shapefile in a ZIP archive`.
    pub fn describe(&self) -> String {
        match self.inner {
            Some(inner) => format!("{} in a {}", inner.name(), self.format.name()),
            None => self.format.name().to_string(),
        }
    }
}

/// Which format opens `path`, and through which file: the one rule that opening, `info` and
/// the window's drag and drop follow. Says why when no format does, or the file is missing.
pub fn resolve(path: &Path) -> Result<Resolved, LayerError> {
    if let Some((container, layer)) = split_container(path) {
        let format = file_name(&container)
            .and_then(|n| opening(&n))
            .ok_or_else(|| LayerError::format(path, "not a container soilrisk reads"))?;
        // `x.shp`, or a container inside (`folder.gdb/LAYER`, `x.gpkg/LAYER`).
        let inner = opening(&layer).or_else(|| {
            layer
                .split('/')
                .find_map(|c| opening(c).filter(|f| f.is_container()))
        });
        return Ok(Resolved {
            format,
            main: container,
            layer: Some(layer),
            inner,
        });
    }
    if !path.exists() {
        return Err(LayerError::format(path, "file not found"));
    }
    if let Some((format, folder)) = inside_folder_layer(path) {
        return Ok(Resolved {
            format,
            main: folder,
            layer: None,
            inner: None,
        });
    }
    let name = file_name(path).unwrap_or_default();
    if let Some(format) = opening(&name) {
        return Ok(Resolved {
            format,
            main: path.to_path_buf(),
            layer: None,
            inner: None,
        });
    }
    match companion_of(&name) {
        Some((format, main_ext)) => match super::shp::sibling(path, main_ext) {
            Some(main) => Ok(Resolved {
                format,
                main,
                layer: None,
                inner: None,
            }),
            None => Err(LayerError::format(
                path,
                format!(
                    "a .{} file without its .{main_ext}; open the .{main_ext}",
                    extension(&name).unwrap_or_default()
                ),
            )),
        },
        None => Err(LayerError::format(
            path,
            format!(
                "unsupported file type (soilrisk reads {})",
                extensions_text()
            ),
        )),
    }
}

/// A file inside a layer that is a folder (`x.gdb/a00000009.gdbtable`, `x.gdb/gdb`): file
/// dialogs pick files, so picking any file of a File Geodatabase opens the geodatabase, as
/// QGIS's browser treats the folder as one source.
fn inside_folder_layer(path: &Path) -> Option<(&'static dyn LayerFormat, PathBuf)> {
    if !path.is_file() {
        return None;
    }
    let folder = path.parent()?;
    let format = opening(&file_name(folder)?).filter(|f| f.is_folder())?;
    folder.is_dir().then(|| (format, folder.to_path_buf()))
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// The files an output must not replace for an input layer at `path`: the path, the file
/// that opens it (its container), and, for a layer of its own file, its companions (a
/// shapefile's `.dbf`, `.shx`, `.prj` and `.cpg`).
pub fn files_of(path: &Path) -> Vec<PathBuf> {
    let Ok(r) = resolve(path) else {
        return vec![path.to_path_buf()];
    };
    let mut out = vec![r.main.clone()];
    if r.layer.is_none() {
        out.push(path.to_path_buf());
        for ext in r.format.companions() {
            out.extend(super::shp::sibling(&r.main, ext));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_finds_formats_by_extension_in_any_case() {
        assert_eq!(opening("a/B.SHP").map(|f| f.name()), Some("ESRI Shapefile"));
        assert_eq!(opening("x.json").map(|f| f.name()), Some("GeoJSON"));
        assert!(opening("x.zip").is_some_and(|f| f.is_container()));
        assert!(opening("x.dbf").is_none());
        assert_eq!(companion_of("x.DBF").map(|(_, main)| main), Some("shp"));
        assert!(opens_inside_container("d/x.shp"));
        assert!(!opens_inside_container("inner.zip"));
        assert_eq!(
            extensions_text(),
            ".shp, .geojson, .json, .gpkg, .zip or .gdb"
        );
        assert!(opening("x.GPKG").is_some_and(|f| f.is_container() && f.name() == "GPKG"));
        assert!(opening("x.GDB").is_some_and(|f| f.is_container() && f.is_folder()));
    }

    #[test]
    fn a_path_inside_a_container_splits_at_the_container() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("layers.zip");
        std::fs::write(&zip, b"PK").unwrap();
        assert_eq!(
            split_container(&zip.join("in/x.shp")),
            Some((zip.clone(), "in/x.shp".to_string()))
        );
        assert_eq!(split_container(&zip), None);
        assert_eq!(split_container(&dir.path().join("no.zip/x.shp")), None);
        assert_eq!(files_of(&zip.join("x.shp")), vec![zip.clone()]);
        let shp = dir.path().join("p.shp");
        for ext in ["shp", "dbf", "prj"] {
            std::fs::write(shp.with_extension(ext), b"").unwrap();
        }
        let files = files_of(&shp);
        assert_eq!(files.len(), 3, "{files:?}");
        assert!(files.contains(&shp.with_extension("dbf")));
        assert_eq!(files_of(&shp.with_extension("dbf")), files);

        // A geodatabase is a folder: `x.gdb/LAYER` splits at it, and a file inside it
        // resolves to it.
        let gdb = dir.path().join("x.gdb");
        std::fs::create_dir(&gdb).unwrap();
        std::fs::write(gdb.join("a00000001.gdbtable"), b"").unwrap();
        assert_eq!(
            split_container(&gdb.join("地类图斑")),
            Some((gdb.clone(), "地类图斑".to_string()))
        );
        let r = resolve(&gdb.join("a00000001.gdbtable")).unwrap();
        assert_eq!(
            (r.format.name(), r.main, r.layer),
            ("OpenFileGDB", gdb, None)
        );
    }
}
