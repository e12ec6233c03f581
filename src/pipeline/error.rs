//! Why an analysis could not run: a layer that could not be read, a field that is not there,
//! values outside the vocabularies, a CRS that cannot be converted, an empty layer, or a
//! cancel. Each message names the file.

use std::path::PathBuf;

use crate::error::LayerError;

use super::roles::Role;

/// The analysis could not run on the layers given.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(
        "field {field:?} not found in {} (wanted as the {}); fields are: {available}",
        path.display(),
        role.def().label
    )]
    MissingField {
        field: String,
        /// The role it was to play.
        role: Role,
        path: PathBuf,
        available: String,
    },
    #[error(
        "field {field:?} not found in {} (wanted for the area basis field:{field}); fields are: {available}",
        path.display()
    )]
    MissingAreaField {
        field: String,
        path: PathBuf,
        available: String,
    },
    #[error(
        "field {field:?} not found in the region layer {}; fields are: {available}",
        path.display()
    )]
    MissingRegionField {
        field: String,
        path: PathBuf,
        available: String,
    },
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("ledger rows disagree for parcel {id:?}: {first} and {second}")]
    LedgerConflict {
        id: String,
        first: String,
        second: String,
    },
    /// The area basis cannot be had in the layers' CRS.
    #[error("{reason}: {}", path.display())]
    AreaBasis { path: PathBuf, reason: String },
    #[error(transparent)]
    UnknownValues(Box<UnknownValues>),
    #[error("{reason}: {}", path.display())]
    Crs { path: PathBuf, reason: String },
    #[error("the {what} layer holds no features; there is nothing to analyse: {}", path.display())]
    Empty { what: &'static str, path: PathBuf },
    /// Two years that cannot be compared (the message names both files).
    #[error("{0}")]
    Compare(String),
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
