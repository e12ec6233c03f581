//! Layers inside zip archives, as shapefiles are often passed around. `x.zip` opens the one
//! layer the archive holds; `x.zip/dir/name.shp` opens a named one, as GDAL's `/vsizip/` does.
//! Members are read into memory (a shapefile's parts are read whole anyway); nothing is
//! extracted to disk. A File Geodatabase folder in the archive (`x.gdb.zip`,
//! `x.zip/folder.gdb/LAYER`, or `x.zip/LAYER` when one geodatabase holds it) is read by
//! `fgdb` through `GdbDir::Zip`, one table's files in memory at a time; a container member of
//! one file (a GeoPackage) is handed its bytes and the layer name that follows it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use zip::ZipArchive;

use super::fgdb;
use super::formats::{self, Beside, LayerFormat};
use super::shp::Part;
use super::{LayerReader, ReadOptions};
use crate::error::LayerError;
use crate::layer::Layer;

/// Largest member read, uncompressed: a defence against zip bombs, far above real layers.
const MAX_MEMBER_BYTES: u64 = 8 << 30;

/// The layers an archive holds: its members that a single-layer format of the registry
/// opens, and its containers (a GeoPackage), in archive order (macOS resource forks left
/// out); then the tables of each File Geodatabase folder in it, as `folder.gdb/LAYER`.
pub fn list_layers(path: &Path) -> Result<Vec<String>, LayerError> {
    let archive = open(path)?;
    let mut names = layer_names(&archive);
    names.extend(container_members(&archive));
    for folder in gdb_folders(&archive) {
        let dir = gdb_dir(path, &folder);
        for entry in fgdb::catalog(&dir)? {
            names.push(format!("{folder}/{}", entry.name));
        }
    }
    Ok(names)
}

/// Members that are containers of layers in one file (a GeoPackage): opened from memory
/// with the layer name that follows them in the path. Archives inside archives are not.
fn container_members(archive: &ZipArchive<File>) -> Vec<String> {
    archive
        .file_names()
        .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX/"))
        .filter(|n| {
            formats::opening(n).is_some_and(|f| f.is_container() && !f.is_folder())
                && !n.to_ascii_lowercase().ends_with(".zip")
        })
        .map(str::to_string)
        .collect()
}

/// The File Geodatabase folders of an archive (`dir/x.gdb`, no trailing `/`): folders named
/// `*.gdb` holding a catalog table, in archive order.
fn gdb_folders(archive: &ZipArchive<File>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in archive.file_names() {
        if n.starts_with("__MACOSX/") {
            continue;
        }
        let Some((folder, file)) = n.rsplit_once('/') else {
            continue;
        };
        if file.eq_ignore_ascii_case("a00000001.gdbtable")
            && folder.to_ascii_lowercase().ends_with(".gdb")
            && !out.iter().any(|f| f == folder)
        {
            out.push(folder.to_string());
        }
    }
    out
}

fn gdb_dir(path: &Path, folder: &str) -> fgdb::GdbDir {
    fgdb::GdbDir::Zip {
        archive: path.to_path_buf(),
        prefix: format!("{folder}/"),
    }
}

/// The first `n` bytes (or fewer) of the member `name` (any case) of the zip at `path`,
/// `None` when there is no such member.
pub fn read_member_head(path: &Path, name: &str, n: u64) -> Result<Option<Vec<u8>>, LayerError> {
    let mut archive = open(path)?;
    let Some(found) = archive
        .file_names()
        .find(|m| m.eq_ignore_ascii_case(name))
        .map(str::to_string)
    else {
        return Ok(None);
    };
    let shown = path.join(&found);
    let entry = archive
        .by_name(&found)
        .map_err(|e| LayerError::format(&shown, format!("cannot read from the archive ({e})")))?;
    let mut bytes = Vec::new();
    entry
        .take(n)
        .read_to_end(&mut bytes)
        .map_err(|e| LayerError::io(&shown, e))?;
    Ok(Some(bytes))
}

/// Whether the zip at `path` has a member `name` (any case).
pub fn has_member_named(path: &Path, name: &str) -> Result<bool, LayerError> {
    Ok(open(path)?
        .file_names()
        .any(|n| n.eq_ignore_ascii_case(name)))
}

/// Reads the member `name` (any case) of the zip at `path` whole, `None` when the archive
/// has no such member: a File Geodatabase's tables, one at a time.
pub fn read_member_named(path: &Path, name: &str) -> Result<Option<Vec<u8>>, LayerError> {
    let mut archive = open(path)?;
    let found = archive
        .file_names()
        .find(|n| n.eq_ignore_ascii_case(name))
        .map(str::to_string);
    match found {
        Some(n) => read_member(&mut archive, path, &n).map(Some),
        None => Ok(None),
    }
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
    let folders = gdb_folders(&archive);
    let containers = container_members(&archive);
    let chosen = match member {
        Some(m) => {
            let wanted = m.trim_start_matches('/');
            // Exact name first, then the one member with that file name.
            let exact = layers.iter().find(|n| n.as_str() == wanted);
            let by_file_name: Vec<&String> = layers
                .iter()
                .filter(|n| n.rsplit('/').next() == Some(wanted))
                .collect();
            // A layer of a container inside the archive: `folder.gdb/LAYER`, `x.gpkg/LAYER`.
            let inside = |c: &String| {
                if wanted == c.as_str() {
                    Some(None)
                } else {
                    wanted
                        .strip_prefix(c.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                        .map(Some)
                }
            };
            if exact.is_none() {
                for folder in &folders {
                    if let Some(layer) = inside(folder) {
                        return fgdb::open_layer(gdb_dir(path, folder), layer, opts);
                    }
                }
                for c in &containers {
                    if let Some(layer) = inside(c) {
                        return open_container_member(&mut archive, path, c, layer, opts);
                    }
                }
            }
            match (exact, by_file_name.as_slice()) {
                (Some(n), _) => n.clone(),
                (None, [n]) => (*n).clone(),
                (None, []) if !folders.is_empty() => {
                    // `data.zip/LAYER`: the one geodatabase in the archive holding it.
                    let mut holding = Vec::new();
                    for folder in &folders {
                        let entries = fgdb::catalog(&gdb_dir(path, folder))?;
                        if entries.iter().any(|e| e.name.eq_ignore_ascii_case(wanted)) {
                            holding.push(folder);
                        }
                    }
                    if let [folder] = holding.as_slice() {
                        return fgdb::open_layer(gdb_dir(path, folder), Some(wanted), opts);
                    }
                    return Err(LayerError::format(
                        &path.join(wanted),
                        format!(
                            "no such layer in the archive (it holds: {})",
                            list_layers(path)?.join(", ")
                        ),
                    ));
                }
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
        None if !folders.is_empty() || !containers.is_empty() => {
            // Every layer the archive could open: its single-layer members, its containers
            // (each as one, opened without a layer name) and each geodatabase's polygon
            // layers.
            let mut all: Vec<String> = layers.clone();
            all.extend(containers.iter().cloned());
            let mut only_gdb = None;
            for folder in &folders {
                for l in fgdb::polygon_layers(&gdb_dir(path, folder))? {
                    only_gdb = Some((folder.clone(), l.clone()));
                    all.push(format!("{folder}/{l}"));
                }
            }
            match all.as_slice() {
                [one] if layers.contains(one) => one.clone(),
                [one] if containers.contains(one) => {
                    let one = one.clone();
                    return open_container_member(&mut archive, path, &one, None, opts);
                }
                [_] => {
                    let Some((folder, l)) = only_gdb else {
                        return Err(LayerError::format(path, "the archive changed while read"));
                    };
                    return fgdb::open_layer(gdb_dir(path, &folder), Some(&l), opts);
                }
                [] => {
                    return Err(LayerError::format(
                        path,
                        format!(
                            "the archive holds no polygon layer (it holds: {})",
                            list_layers(path)?.join(", ")
                        ),
                    ));
                }
                _ => {
                    return Err(LayerError::SeveralLayers {
                        path: path.to_path_buf(),
                        members: all,
                    });
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

/// Opens the layer `layer` of the container `member` of the archive (a GeoPackage), handing
/// its bytes to its format.
fn open_container_member(
    archive: &mut ZipArchive<File>,
    path: &Path,
    member: &str,
    layer: Option<&str>,
    opts: &ReadOptions,
) -> Result<LayerReader, LayerError> {
    let Some(format) = formats::opening(member) else {
        return Err(LayerError::format(
            &path.join(member),
            "not a layer soilrisk reads",
        ));
    };
    let main = Part::Bytes {
        name: path.join(member),
        bytes: read_member(archive, path, member)?,
    };
    let mut beside = |_: &str| -> Result<Option<Part>, LayerError> { Ok(None) };
    format.open(main, &mut beside, layer, opts)
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
