//! Layers inside zip archives, as shapefiles are often passed around. `x.zip` opens the one
//! layer the archive holds; `x.zip/dir/name.shp` opens a named one, as GDAL's `/vsizip/` does.
//! Members are read into memory (a shapefile's parts are read whole anyway); nothing is
//! extracted to disk.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::LayerReader;
use super::ReadOptions;
use super::geojson_in::parse_geojson;
use super::shp::{Part, Parts, ShapefileReader};
use crate::error::LayerError;
use crate::layer::Layer;

/// Largest member read, uncompressed: a defence against zip bombs, far above real layers.
const MAX_MEMBER_BYTES: u64 = 8 << 30;

/// Splits `archive.zip/inner/x.shp` into the archive and the member, when a leading part of
/// the path is a zip file. A path that exists as it is is not split.
pub fn split_member(path: &Path) -> Option<(PathBuf, String)> {
    if path.exists() {
        return None;
    }
    let mut archive = path.to_path_buf();
    while archive.pop() {
        let is_zip = archive
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if is_zip && archive.is_file() {
            let member = path.strip_prefix(&archive).ok()?;
            let member = member
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            return Some((archive, member));
        }
    }
    None
}

fn has_ext(name: &str, exts: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    exts.iter().any(|e| lower.ends_with(&format!(".{e}")))
}

/// The layers an archive holds: its `.shp`, `.geojson` and `.json` members, in archive order
/// (macOS resource forks left out).
pub fn list_layers(path: &Path) -> Result<Vec<String>, LayerError> {
    let archive = open(path)?;
    Ok(layer_names(&archive))
}

fn layer_names(archive: &ZipArchive<File>) -> Vec<String> {
    archive
        .file_names()
        .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX/"))
        .filter(|n| has_ext(n, &["shp", "geojson", "json"]))
        .map(str::to_string)
        .collect::<Vec<_>>()
}

fn open(path: &Path) -> Result<ZipArchive<File>, LayerError> {
    let file = File::open(path).map_err(|e| LayerError::io(path, e))?;
    ZipArchive::new(file)
        .map_err(|e| LayerError::format(path, format!("not a readable zip archive ({e})")))
}

/// Reads one member whole, refusing one that claims more than `MAX_MEMBER_BYTES`.
fn read_member(
    archive: &mut ZipArchive<File>,
    path: &Path,
    name: &str,
) -> Result<Vec<u8>, LayerError> {
    let shown = path.join(name);
    let mut entry = archive
        .by_name(name)
        .map_err(|e| LayerError::format(&shown, format!("cannot read from the archive ({e})")))?;
    if entry.size() > MAX_MEMBER_BYTES {
        return Err(LayerError::format(
            &shown,
            format!("the member unpacks to {} bytes; refused", entry.size()),
        ));
    }
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry
        .by_ref()
        .take(MAX_MEMBER_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LayerError::io(&shown, e))?;
    Ok(bytes)
}

/// Reads the layer `member` of the zip at `path`, or its only layer when `member` is `None`.
pub fn read_zip(
    path: &Path,
    member: Option<&str>,
    opts: &ReadOptions,
) -> Result<Layer, LayerError> {
    open_zip(path, member, opts)?.read_all()
}

/// Opens the layer `member` of the zip at `path` (its only layer when `member` is `None`) for
/// reading in batches. The members are unpacked into memory, not onto disk.
pub fn open_zip(
    path: &Path,
    member: Option<&str>,
    opts: &ReadOptions,
) -> Result<LayerReader, LayerError> {
    let mut archive = open(path)?;
    let layers = layer_names(&archive);
    let chosen = match member {
        Some(m) => {
            let wanted = m.trim_start_matches('/');
            // Exact name first, then the one member with that file name.
            let exact = layers.iter().find(|n| n.as_str() == wanted);
            let by_file_name: Vec<&String> = layers
                .iter()
                .filter(|n| n.rsplit('/').next() == Some(wanted))
                .collect();
            match (exact, by_file_name.as_slice()) {
                (Some(n), _) => n.clone(),
                (None, [n]) => (*n).clone(),
                _ => {
                    return Err(LayerError::format(
                        &path.join(wanted),
                        format!(
                            "no such layer in the archive (it holds: {})",
                            if layers.is_empty() {
                                "none".to_string()
                            } else {
                                layers.join(", ")
                            }
                        ),
                    ));
                }
            }
        }
        None => match layers.as_slice() {
            [one] => one.clone(),
            [] => {
                let all: Vec<&str> = archive.file_names().take(10).collect();
                return Err(LayerError::format(
                    path,
                    format!(
                        "the archive holds no shapefile or GeoJSON (contents: {})",
                        if all.is_empty() {
                            "empty".to_string()
                        } else {
                            all.join(", ")
                        }
                    ),
                ));
            }
            _ => {
                return Err(LayerError::SeveralLayers {
                    path: path.to_path_buf(),
                    members: layers,
                });
            }
        },
    };

    let shown = path.join(&chosen);
    if has_ext(&chosen, &["geojson", "json"]) {
        let bytes = read_member(&mut archive, path, &chosen)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| LayerError::format(&shown, "not GeoJSON (the text is not UTF-8)"))?;
        return parse_geojson(&shown, text).map(LayerReader::whole);
    }

    // The sidecars: same directory and stem, any case of extension.
    let stem = &chosen[..chosen.len() - 4];
    let sidecar = |archive: &mut ZipArchive<File>, ext: &str| -> Result<Option<Part>, LayerError> {
        let name = archive
            .file_names()
            .find(|n| {
                n.len() == stem.len() + 4
                    && n.starts_with(stem)
                    && n[stem.len()..].eq_ignore_ascii_case(&format!(".{ext}"))
            })
            .map(str::to_string);
        match name {
            None => Ok(None),
            Some(n) => Ok(Some(Part::Bytes {
                name: path.join(&n),
                bytes: read_member(archive, path, &n)?,
            })),
        }
    };
    let parts = Parts {
        shp: Part::Bytes {
            name: shown,
            bytes: read_member(&mut archive, path, &chosen)?,
        },
        dbf: sidecar(&mut archive, "dbf")?,
        prj: sidecar(&mut archive, "prj")?,
        cpg: sidecar(&mut archive, "cpg")?,
    };
    ShapefileReader::open(parts, opts).map(|r| LayerReader::Shapefile(Box::new(r)))
}
