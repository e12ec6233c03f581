//! Measure ledgers (台账): the spreadsheets in which counties keep, one row per parcel, the
//! measure taken on it and whether its crop met the standard. Reading them, describing them
//! for `soilrisk info`, and saving measures edited in the window back into one.
//!
//! The tour:
//! - this file: the types ([`Ledger`], [`LedgerRow`], [`Cell`], [`LedgerColumns`],
//!   [`MeasureEdit`], [`LedgerInfo`]), source naming ([`is_ledger_path`]: `FILE.xlsx` for the
//!   first sheet, `FILE.xlsx/SHEET` for a sheet by name), and the column roles, recognised by
//!   header through the one table [`ROLES`];
//! - [`read`]: [`read_ledger`] and [`describe_ledger`]; a workbook or CSV file becomes one
//!   table of [`Cell`]s, and the roles' columns are picked from its header row;
//! - [`csv`]: CSV text: the encoding (UTF-8 with or without BOM, else GB18030, which covers
//!   GBK, else Windows-1252, the rule [`crate::io::encoding::Detector`] applies to DBFs), the
//!   delimiter (comma, semicolon or tab, from the header line), quoted fields; and writing;
//! - [`write`]: [`save_measures`], into `.xlsx` or `.csv`, atomically
//!   ([`crate::atomic::write_atomic`]).
//!
//! Crates: `calamine` reads `.xlsx`, `.xlsm`, `.xls` and `.ods` (values only: a formula gives
//! its cached result); `rust_xlsxwriter` writes `.xlsx`; `encoding_rs` decodes CSV bytes. CSV
//! is parsed and written here, by hand.
//!
//! Values are kept as the ledger holds them: mapping a measure or a compliance value to its
//! kind is the vocabulary's job ([`crate::vocab`]), applying a ledger to parcels the
//! pipeline's.

pub mod csv;
mod error;
pub mod read;
pub mod write;

use std::path::{Path, PathBuf};

pub use error::LedgerError;
pub use read::{describe_ledger, read_ledger, read_ledger_rows, read_table};
pub use write::save_measures;

/// Extensions (lower case) of workbooks: files of sheets, named as `FILE.xlsx/SHEET`.
pub const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "ods"];
/// Extensions (lower case) of every file a ledger is read from.
pub const LEDGER_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "ods", "csv"];

/// One cell of a ledger's sheet, as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date or time: Excel's serial day number, and the text it is read as
    /// (`2023-05-01`, `2023-05-01 08:30:00`).
    Date {
        serial: f64,
        text: String,
    },
}

impl Cell {
    /// The cell as text, trimmed: an integral number without decimals (`5101.0` is `5101`),
    /// a boolean as `true`/`false`, a date as `YYYY-MM-DD`; empty for an empty cell.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => b.to_string(),
            Cell::Date { text, .. } => text.clone(),
        }
    }

    /// Whether the cell holds nothing but blanks.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

/// A number as a ledger's text: integral values without decimals (ids and measure codes
/// come from Excel as floats), others in the shortest form that reads back the same.
pub fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        // Exact below 2^53; `as` of an integral f64 in range is exact (and -0.0 is 0).
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The columns a user named (`--ledger-id-field` and the others); `None` (or a blank
/// name): recognise the column by its header ([`ROLES`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerColumns {
    pub id: Option<String>,
    pub measure: Option<String>,
    pub compliance: Option<String>,
}

/// A column's part in a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    Id,
    Measure,
    Compliance,
}

/// What a role is called, the headers that name it (in order of preference) and the
/// command-line flag that names its column.
pub struct RoleDef {
    pub role: ColumnRole,
    /// As `info` marks the column.
    pub name: &'static str,
    /// Recognised headers, trimmed; Latin ones compare case-insensitively.
    pub headers: &'static [&'static str],
    pub flag: &'static str,
}

/// The column roles: the one table that recognition, the error messages and `info` read.
pub const ROLES: &[RoleDef] = &[
    RoleDef {
        role: ColumnRole::Id,
        name: "id",
        headers: &["标识码", "图斑编号", "TBBH", "BSM", "PARCEL_ID"],
        flag: "--ledger-id-field",
    },
    RoleDef {
        role: ColumnRole::Measure,
        name: "measure",
        headers: &["措施", "措施类型", "MEASURE"],
        flag: "--ledger-measure-field",
    },
    RoleDef {
        role: ColumnRole::Compliance,
        name: "compliance",
        headers: &["农产品是否达标", "是否达标", "COMPLIANCE"],
        flag: "--ledger-compliance-field",
    },
];

impl ColumnRole {
    pub fn def(self) -> &'static RoleDef {
        match self {
            ColumnRole::Id => &ROLES[0],
            ColumnRole::Measure => &ROLES[1],
            ColumnRole::Compliance => &ROLES[2],
        }
    }
}

/// The index of the column a role's header names in `header` (its first such column):
/// by the headers of [`ROLES`], in their order of preference.
pub fn recognise(header: &[String], role: ColumnRole) -> Option<usize> {
    role.def()
        .headers
        .iter()
        .find_map(|name| header.iter().position(|h| same_name(h, name)))
}

/// The index of the column a user named: the exact (trimmed) header first, else one that
/// differs only in the case of Latin letters.
pub fn find_named(header: &[String], name: &str) -> Option<usize> {
    let name = name.trim();
    header
        .iter()
        .position(|h| h.trim() == name)
        .or_else(|| header.iter().position(|h| same_name(h, name)))
}

fn same_name(header: &str, name: &str) -> bool {
    header.trim().eq_ignore_ascii_case(name.trim())
}

/// A sheet's cells by row, from cell A1.
pub type Table = Vec<Vec<Cell>>;

/// A ledger read from a file: its sheet as a table, and the rows that give a parcel's
/// measure or compliance.
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    /// The source as given, `/SHEET` included.
    pub path: PathBuf,
    /// The sheet read (the first one unless named); `None` for a CSV file.
    pub sheet: Option<String>,
    /// The header row's texts, trimmed, one per column of [`Ledger::table`] (empty for a
    /// column without a header).
    pub header: Vec<String>,
    pub id_column: String,
    pub measure_column: Option<String>,
    pub compliance_column: Option<String>,
    /// The data rows with an id, in sheet order; an id on several rows is on each of them
    /// (whether they agree is for the one applying the ledger to say).
    pub rows: Vec<LedgerRow>,
    /// The whole sheet as read, from its first row (`table[0]` is spreadsheet row 1) and
    /// first column, header included: saving measures into it keeps every other cell.
    pub table: Table,
}

/// One row of a ledger that names a parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// The row number as the spreadsheet shows it (the header is row 1); in a CSV file the
    /// record's number, the header being 1.
    pub row: usize,
    /// The parcel id, trimmed; never empty.
    pub id: String,
    /// The measure; `None` when the cell is empty or there is no measure column.
    pub measure: Option<String>,
    /// The compliance; `None` when the cell is empty or there is no compliance column.
    pub compliance: Option<String>,
}

impl Ledger {
    /// The row index in [`Ledger::table`] of the header.
    pub fn header_index(&self) -> usize {
        self.table
            .iter()
            .position(|r| r.iter().any(|c| !c.is_blank()))
            .unwrap_or(0)
    }

    /// The column index of a header, as [`Ledger::header`] holds it.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Where the ledger is, for messages: `FILE`, or `FILE, sheet S`.
    pub fn describe_source(&self) -> String {
        source_text(&self.path, self.sheet.as_deref())
    }
}

pub(crate) fn source_text(path: &Path, sheet: Option<&str>) -> String {
    match sheet {
        Some(s) => format!("{}, sheet {s}", path.display()),
        None => path.display().to_string(),
    }
}

/// What `soilrisk info` tells of a ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerInfo {
    pub path: PathBuf,
    /// `Excel workbook (xlsx)`, `CSV text`, ...
    pub format: String,
    /// The workbook's sheets, in order; empty for CSV.
    pub sheets: Vec<String>,
    /// The sheet described; `None` for CSV.
    pub sheet: Option<String>,
    pub header: Vec<String>,
    /// Data rows: rows after the header that are not entirely empty.
    pub rows: usize,
    /// For CSV: the encoding (`UTF-8 with BOM`, `GB18030`, ...).
    pub encoding: Option<String>,
    /// For CSV: the delimiter.
    pub delimiter: Option<char>,
    /// The columns recognised by header, by role (indices into `header`).
    pub id_column: Option<usize>,
    pub measure_column: Option<usize>,
    pub compliance_column: Option<usize>,
}

impl LedgerInfo {
    /// The role recognised for column `i`, if any.
    pub fn role_of(&self, i: usize) -> Option<ColumnRole> {
        [
            (self.id_column, ColumnRole::Id),
            (self.measure_column, ColumnRole::Measure),
            (self.compliance_column, ColumnRole::Compliance),
        ]
        .into_iter()
        .find(|(c, _)| *c == Some(i))
        .map(|(_, r)| r)
    }
}

/// A parcel's measure (and compliance) as edited in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureEdit {
    pub id: String,
    pub measure: String,
    /// `None`: the edit says nothing of compliance, and a ledger's compliance cell is kept.
    pub compliance: Option<String>,
}

/// The lower-case extension of a path.
pub(crate) fn extension(p: &Path) -> Option<String> {
    Some(p.extension()?.to_string_lossy().to_ascii_lowercase())
}

fn is_workbook_name(p: &Path) -> bool {
    extension(p).is_some_and(|e| WORKBOOK_EXTENSIONS.contains(&e.as_str()))
}

/// Whether a path names a ledger: a `.xlsx`, `.xlsm`, `.xls`, `.ods` or `.csv` file (any
/// case), or a sheet of a workbook (`FILE.xlsx/SHEET`).
pub fn is_ledger_path(p: &Path) -> bool {
    if extension(p).is_some_and(|e| LEDGER_EXTENSIONS.contains(&e.as_str())) {
        return true;
    }
    p.parent()
        .is_some_and(|parent| is_workbook_name(parent) && !parent.is_dir())
}

/// Splits a ledger source into its file and sheet: `FILE.xlsx/SHEET` into `FILE.xlsx` and
/// `SHEET` when `FILE.xlsx` is a file and the whole path is not. Anything else is the file
/// itself.
pub fn split_sheet(src: &Path) -> (PathBuf, Option<String>) {
    if !src.is_file()
        && let (Some(parent), Some(name)) = (src.parent(), src.file_name())
        && is_workbook_name(parent)
        && parent.is_file()
    {
        return (
            parent.to_path_buf(),
            Some(name.to_string_lossy().into_owned()),
        );
    }
    (src.to_path_buf(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbers_read_as_ledgers_write_them() {
        assert_eq!(number_text(5101.0), "5101");
        assert_eq!(number_text(2.0), "2");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(0.94), "0.94");
        assert_eq!(number_text(510_104_000_001.0), "510104000001");
        assert_eq!(Cell::Text("  休耕 ".into()).text(), "休耕");
        assert_eq!(Cell::Bool(true).text(), "true");
        assert!(Cell::Text(" \t".into()).is_blank());
        assert!(!Cell::Number(0.0).is_blank());
    }

    #[test]
    fn headers_are_recognised_in_order_of_preference() {
        let h = header(&["序号", " tbbh ", "标识码", "措施类型", "Compliance"]);
        assert_eq!(recognise(&h, ColumnRole::Id), Some(2), "标识码 before TBBH");
        assert_eq!(recognise(&h, ColumnRole::Measure), Some(3));
        assert_eq!(recognise(&h, ColumnRole::Compliance), Some(4));
        let h = header(&["TBBH", "备注"]);
        assert_eq!(recognise(&h, ColumnRole::Id), Some(0));
        assert_eq!(recognise(&h, ColumnRole::Measure), None);
    }

    #[test]
    fn a_named_column_prefers_the_exact_header() {
        let h = header(&["cqcs", "CQCS"]);
        assert_eq!(find_named(&h, "CQCS"), Some(1));
        assert_eq!(find_named(&h, "Cqcs"), Some(0));
        assert_eq!(find_named(&h, "ZLLB"), None);
    }

    #[test]
    fn ledger_paths_by_extension_and_sheet() {
        assert!(is_ledger_path(Path::new("a/台账.XLSX")));
        assert!(is_ledger_path(Path::new("a/b.csv")));
        assert!(is_ledger_path(Path::new("a/b.ods/台账")));
        assert!(!is_ledger_path(Path::new("a/b.shp")));
        assert!(!is_ledger_path(Path::new("a/b.zip/c.shp")));

        let dir = tempfile::tempdir().unwrap();
        let book = dir.path().join("b.xlsx");
        std::fs::write(&book, b"x").unwrap();
        assert_eq!(split_sheet(&book), (book.clone(), None));
        assert_eq!(
            split_sheet(&book.join("2023年")),
            (book.clone(), Some("2023年".to_string()))
        );
        let missing = dir.path().join("none.xlsx/S");
        assert_eq!(split_sheet(&missing), (missing.clone(), None));
    }
}
