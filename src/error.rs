//! Engine error types. Every message says what failed and ends with the file (and record,
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
        "the archive holds {} layers ({}); name one after the archive, as in {}/{}: {}",
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

/// The analysis could not run on the layers given.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error("field {field:?} not found in {}; fields are: {available}", path.display())]
    MissingField {
        field: String,
        path: PathBuf,
        available: String,
    },
    #[error("{message}: {}", path.display())]
    UnknownValues { path: PathBuf, message: String },
    #[error("{reason}: {}", path.display())]
    Crs { path: PathBuf, reason: String },
    #[error("the {what} layer holds no features; there is nothing to analyse: {}", path.display())]
    Empty { what: &'static str, path: PathBuf },
    #[error("cancelled")]
    Cancelled,
}

/// An output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct ExportError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}
