//! Layers inside zip archives, as shapefiles are often passed around. `x.zip` opens the one
//! layer the archive holds; `x.zip/dir/name.shp` opens a named one, as GDAL's `/vsizip/` does.
//! Members are read into memory (a shapefile's parts are read whole anyway); nothing is
//! extracted to disk.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use zip::ZipArchive;

use super::formats::{self, Beside, LayerFormat};
use super::shp::Part;
use super::{LayerReader, ReadOptions};
use crate::error::LayerError;
use crate::layer::Layer;

/// Largest member read, uncompressed: a defence against zip bombs, far above real layers.
const MAX_MEMBER_BYTES: u64 = 8 << 30;

/// The layers an archive holds: its members that a single-layer format of the registry
/// opens, in archive order (macOS resource forks left out).
pub fn list_layers(path: &Path) -> Result<Vec<String>, LayerError> {
    let archive = open(path)?;
    Ok(layer_names(&archive))
}

fn layer_names(archive: &ZipArchive<File>) -> Vec<String> {
    archive
        .file_names()
        .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX/"))
        .filter(|n| formats::opens_inside_container(n))
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

    let Some(format) = formats::opening(&chosen) else {
        return Err(LayerError::format(
            &path.join(&chosen),
            "not a layer soilrisk reads",
        ));
    };
    let main = Part::Bytes {
        name: path.join(&chosen),
        bytes: read_member(&mut archive, path, &chosen)?,
    };
    // The other files of the layer: same directory and stem, any case of extension.
    let stem = chosen
        .rsplit_once('.')
        .map_or(chosen.as_str(), |(stem, _)| stem)
        .to_string();
    let mut beside = |ext: &str| -> Result<Option<Part>, LayerError> {
        let name = archive
            .file_names()
            .find(|n| {
                n.len() == stem.len() + 1 + ext.len()
                    && n.starts_with(&stem)
                    && n[stem.len()..].eq_ignore_ascii_case(&format!(".{ext}"))
            })
            .map(str::to_string);
        match name {
            None => Ok(None),
            Some(n) => Ok(Some(Part::Bytes {
                name: path.join(&n),
                bytes: read_member(&mut archive, path, &n)?,
            })),
        }
    };
    format.open(main, &mut beside, None, opts)
}

/// Zip archives of layers: a container whose members open through the registry's other
/// formats.
pub struct Zip;

impl LayerFormat for Zip {
    fn name(&self) -> &'static str {
        "ZIP archive"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["zip"]
    }
    fn is_container(&self) -> bool {
        true
    }
    fn layers(&self, path: &Path) -> Result<Vec<String>, LayerError> {
        list_layers(path)
    }
    fn open(
        &self,
        main: Part,
        _beside: &mut Beside<'_>,
        layer: Option<&str>,
        opts: &ReadOptions,
    ) -> Result<LayerReader, LayerError> {
        match main {
            Part::File(path) => open_zip(&path, layer, opts),
            Part::Bytes { name, .. } => Err(LayerError::format(
                &name,
                "an archive inside an archive; unpack the outer one first",
            )),
        }
    }
}
