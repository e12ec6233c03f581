//! Engine error types. Every message says what failed and ends with the file (and record,
//! where one is known), so the command line and the window can show it as one line.

use std::path::{Path, PathBuf};

use crate::pipeline::Role;

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
    #[error(
        "field {field:?} not found in {} (wanted as the {role}); fields are: {available}",
        path.display()
    )]
    MissingField {
        field: String,
        /// The role it was to play, as `ROLES` labels it.
        role: &'static str,
        path: PathBuf,
        available: String,
    },
    #[error(transparent)]
    UnknownValues(Box<UnknownValues>),
    #[error("{reason}: {}", path.display())]
    Crs { path: PathBuf, reason: String },
    #[error("the {what} layer holds no features; there is nothing to analyse: {}", path.display())]
    Empty { what: &'static str, path: PathBuf },
    #[error("cancelled")]
    Cancelled,
}

/// Values of a field outside its vocabulary and the user's value mappings. The engine says
/// what they are; how to map them is each front end's to word (a flag, a dialog).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", self.describe(), path.display())]
pub struct UnknownValues {
    pub path: PathBuf,
    pub role: Role,
    pub field: String,
    /// Each value with its count, most frequent first.
    pub values: Vec<(String, usize)>,
    /// Where values hold bytes the layer's text encoding could not decode: that encoding. The
    /// encoding is then wrong, not the vocabulary.
    pub garbled: Option<String>,
}

impl UnknownValues {
    /// What is wrong, without the file: `unknown measure value(s) in field M: "x" (2 records)`.
    pub fn describe(&self) -> String {
        let shown: Vec<String> = self
            .values
            .iter()
            .map(|(v, n)| format!("{v:?} ({n} record{})", if *n == 1 { "" } else { "s" }))
            .collect();
        let mut out = format!(
            "unknown {} value(s) in field {}: {}",
            self.role.def().label,
            self.field,
            shown.join(", ")
        );
        if let Some(enc) = &self.garbled {
            out.push_str(&format!("; the text looks wrongly decoded (read as {enc})"));
        }
        out
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
        "{} would overwrite an input layer ({}); choose another destination",
        output.display(),
        input.display()
    )]
    OverwritesInput { output: PathBuf, input: PathBuf },
    #[error("cannot convert to WGS 84 for GeoJSON ({reason}): {}", path.display())]
    Crs { path: PathBuf, reason: String },
    #[error("internal error while writing (please report it): {}", path.display())]
    Panicked { path: PathBuf },
}
