//! Errors of reading layers and writing outputs (the analysis's own are in
//! `pipeline::error`). Every message says what failed and ends with the file (and record,
//! where one is known), so the command line and the window can show it as one line.

use std::path::{Path, PathBuf};

/// An input layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{reason}: {}", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("{reason}: {}, record {record}", path.display())]
    Record {
        path: PathBuf,
        record: usize,
        reason: String,
    },
    #[error(
        "{} layers to choose from ({}); name one after the archive, geodatabase or GeoPackage, as in {}/{}: {}",
        members.len(),
        members.join(", "),
        path.display(),
        members.first().map(String::as_str).unwrap_or_default(),
        path.display()
    )]
    SeveralLayers { path: PathBuf, members: Vec<String> },
    #[error("{} holds {found} geometries; soilrisk needs polygons: {}", kind, path.display())]
    NotPolygons {
        path: PathBuf,
        kind: &'static str,
        found: String,
    },
}

impl LayerError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        LayerError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub fn format(path: &Path, reason: impl Into<String>) -> Self {
        LayerError::Format {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
    pub fn record(path: &Path, record: usize, reason: impl Into<String>) -> Self {
        LayerError::Record {
            path: path.to_path_buf(),
            record,
            reason: reason.into(),
        }
    }
}

/// An output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct ExportError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// An output could not be written, or would have replaced an input.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Write(#[from] ExportError),
    #[error(
        "{} would overwrite a file of an input layer ({})",
        output.display(),
        input.display()
    )]
    OverwritesInput { output: PathBuf, input: PathBuf },
    #[error("cannot convert to WGS 84 for GeoJSON ({reason}): {}", path.display())]
    Crs { path: PathBuf, reason: String },
    #[error("internal error while writing (please report it): {}", path.display())]
    Panicked { path: PathBuf },
}
