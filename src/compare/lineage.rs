//! The lineage table: which parcel of the before year became which of the after year. The
//! land change survey keeps it as its update-process table (更新过程), one row per (before
//! id, after id): a split gives a row per half, a merge a row per parcel merged.
//!
//! It is read from a workbook's sheet or a CSV file (as ledgers are, `ledger::read_table`),
//! a `.dbf`, or the attribute table of any layer of the registry (`x.gdb/GXGC`). The two
//! columns are named by the user, else recognised by their headers ([`BEFORE_HEADERS`],
//! [`AFTER_HEADERS`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::LayerError;
use crate::io::dbf::DbfReader;
use crate::io::{ReadOptions, read_layer};
use crate::layer::{FieldDef, Value};
use crate::ledger::{self, Cell, LedgerError, find_named};
use crate::pipeline::AnalysisError;

/// Headers of the before id's column, in order of preference (Latin ones in any case).
pub const BEFORE_HEADERS: &[&str] = &[
    "BGQTBBH",
    "变更前图斑编号",
    "BEFORE_ID",
    "OLD_ID",
    "BGQBSM",
    "变更前标识码",
];
/// Headers of the after id's column.
pub const AFTER_HEADERS: &[&str] = &[
    "BGHTBBH",
    "变更后图斑编号",
    "AFTER_ID",
    "NEW_ID",
    "BGHBSM",
    "变更后标识码",
];

/// The two columns, where the user names them (`--lineage-before-field`,
/// `--lineage-after-field`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineageColumns {
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A lineage table as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lineage {
    pub path: PathBuf,
    pub before_column: String,
    pub after_column: String,
    /// (before id, after id, row): ids trimmed; either may be empty (a parcel removed, or
    /// new). Rows count from 1 as the table's own numbering does (a spreadsheet's row, a
    /// record).
    pub rows: Vec<(String, String, usize)>,
}

impl Lineage {
    /// Reads `src`'s rows through the columns named, else recognised.
    pub fn read(src: &Path, columns: &LineageColumns) -> Result<Lineage, AnalysisError> {
        let ext = src
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let (file, _) = ledger::split_sheet(src);
        let file_ext = file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let spreadsheet = |e: &Option<String>| {
            e.as_deref()
                .is_some_and(|e| ledger::LEDGER_EXTENSIONS.contains(&e))
        };
        if spreadsheet(&ext) || spreadsheet(&file_ext) {
            let (described, header, rows) = ledger::read_table(src).map_err(|e| match e {
                LedgerError::Empty { source_text } => AnalysisError::Compare(format!(
                    "the lineage table is empty (no header row): {source_text}"
                )),
                e => e.into(),
            })?;
            let (b, a) = pick(&header, columns, &described)?;
            let text = |r: &[Cell], c: usize| r.get(c).map(Cell::text).unwrap_or_default();
            let rows = rows
                .into_iter()
                .map(|(i, r)| (text(&r, b), text(&r, a), i))
                .filter(|(x, y, _)| !x.is_empty() || !y.is_empty())
                .collect();
            return Ok(Lineage {
                path: src.to_path_buf(),
                before_column: header[b].clone(),
                after_column: header[a].clone(),
                rows,
            });
        }
        let (fields, records) = if ext.as_deref() == Some("dbf") {
            read_dbf(src)?
        } else {
            let layer = read_layer(src, &ReadOptions::default())?;
            let records = layer.features.into_iter().map(|f| f.values).collect();
            (layer.fields, records)
        };
        let header: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
        let described = src.display().to_string();
        let (b, a) = pick(&header, columns, &described)?;
        let text = |v: Option<&Value>| v.map(|v| v.display().trim().to_string());
        let rows = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    text(r.get(b)).unwrap_or_default(),
                    text(r.get(a)).unwrap_or_default(),
                    i + 1,
                )
            })
            .filter(|(x, y, _)| !x.is_empty() || !y.is_empty())
            .collect();
        Ok(Lineage {
            path: src.to_path_buf(),
            before_column: header[b].clone(),
            after_column: header[a].clone(),
            rows,
        })
    }

    /// Where a row is, for messages: `lineage.csv, row 7`.
    pub fn row_text(&self, row: usize) -> String {
        format!("{}, row {row}", self.path.display())
    }
}

fn read_dbf(path: &Path) -> Result<(Vec<FieldDef>, Vec<Vec<Value>>), AnalysisError> {
    let file = File::open(path).map_err(|e| LayerError::io(path, e))?;
    let len = file.metadata().map_err(|e| LayerError::io(path, e))?.len();
    let mut dbf = DbfReader::open(path, Box::new(std::io::BufReader::new(file)), len, None)?;
    let fields = dbf.fields();
    let records = dbf.read(dbf.count())?;
    Ok((fields, records))
}

/// The before and after columns of a header.
fn pick(
    header: &[String],
    columns: &LineageColumns,
    described: &str,
) -> Result<(usize, usize), AnalysisError> {
    let one = |named: &Option<String>, known: &[&str], what: &str, flag: &str| {
        let found = match named.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(name) => find_named(header, name),
            None => known.iter().find_map(|k| find_named(header, k)),
        };
        found.ok_or_else(|| {
            let asked = match named {
                Some(n) => format!("no column {n:?}"),
                None => format!(
                    "no {what} id column (none of {} in its header)",
                    known.join(", ")
                ),
            };
            AnalysisError::Compare(format!(
                "{asked} in the lineage table {described}; its columns are: {}; name the \
                 column with {flag}",
                header.join(", ")
            ))
        })
    };
    let b = one(
        &columns.before,
        BEFORE_HEADERS,
        "before",
        "--lineage-before-field",
    )?;
    let a = one(
        &columns.after,
        AFTER_HEADERS,
        "after",
        "--lineage-after-field",
    )?;
    Ok((b, a))
}
