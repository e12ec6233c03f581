//! Errors of reading and saving ledgers. Each message says what failed and names the file
//! (and sheet, and row, where they are known), so it can be shown as one line.

use std::path::PathBuf;

/// A ledger could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger not found: {}", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "not a ledger soilrisk reads (.xlsx, .xlsm, .xls, .ods or .csv): {}",
        path.display()
    )]
    Unsupported { path: PathBuf },
    /// A workbook the reader could not make sense of: truncated, damaged, or not a workbook.
    #[error("unreadable or damaged workbook ({reason}): {}", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "no sheet named {sheet:?}; the workbook's sheets are {}: {}",
        list(sheets),
        path.display()
    )]
    NoSuchSheet {
        path: PathBuf,
        sheet: String,
        sheets: Vec<String>,
    },
    #[error("the workbook holds no sheet: {}", path.display())]
    NoSheets { path: PathBuf },
    /// No header row: the sheet or file holds no non-empty row.
    #[error("the ledger is empty (no header row): {source_text}")]
    Empty { source_text: String },
    #[error(
        "no {role} column in the ledger's header ({}); name it with {flag}: {source_text}",
        list(header)
    )]
    MissingColumn {
        source_text: String,
        role: &'static str,
        flag: &'static str,
        header: Vec<String>,
    },
    #[error(
        "no measure or compliance column in the ledger's header ({}); name one with \
         --ledger-measure-field or --ledger-compliance-field: {source_text}",
        list(header)
    )]
    NoValueColumn {
        source_text: String,
        header: Vec<String>,
    },
    #[error(
        "no column {column:?} (named with {flag}) in the ledger; its columns are {}: {source_text}",
        list(header)
    )]
    NoSuchColumn {
        source_text: String,
        column: String,
        flag: &'static str,
        header: Vec<String>,
    },
    /// CSV text that cannot be read: binary data, or a quote never closed.
    #[error("{reason}: {}, row {row}", path.display())]
    Csv {
        path: PathBuf,
        row: usize,
        reason: String,
    },
    #[error("cannot save measures as {} (soilrisk saves .xlsx or .csv)", path.display())]
    UnsupportedTarget { path: PathBuf },
    #[error("cannot write {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

/// Header names as a message lists them: `标识码, 措施, (blank)`.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| if n.is_empty() { "(blank)" } else { n.as_str() })
        .collect::<Vec<_>>()
        .join(", ")
}
