//! Reading a ledger: its file (a workbook through calamine, or CSV text) becomes one table
//! of [`Cell`]s, and the columns of the id, the measure and the compliance are picked from
//! its header row.

use std::fs::File;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use calamine::{Data, Ods, Range, Reader, Sheets, Xls, Xlsx, open_workbook};

use super::{
    Cell, ColumnRole, Ledger, LedgerColumns, LedgerError, LedgerInfo, LedgerRow, Table, extension,
    find_named, number_text, recognise, source_text, split_sheet,
};

/// A ledger file's chosen sheet, as read, before its columns are picked.
struct Loaded {
    format: &'static str,
    /// A workbook's sheets, in order; empty for CSV.
    sheets: Vec<String>,
    sheet: Option<String>,
    table: Table,
    encoding: Option<String>,
    delimiter: Option<char>,
}

/// Reads a ledger: `FILE.xlsx` (its first sheet), `FILE.xlsx/SHEET`, or `FILE.csv`.
///
/// The first non-empty row is the header. The id column is the one `columns.id` names, else
/// the first header [`super::ROLES`] recognises; so are the measure and compliance columns,
/// of which at least one must be found. Rows without an id, and rows entirely empty, are
/// skipped.
pub fn read_ledger(src: &Path, columns: &LedgerColumns) -> Result<Ledger, LedgerError> {
    read(src, columns, true)
}

/// As [`read_ledger`], without keeping the sheet's cells ([`Ledger::table`] is empty): the
/// rows' texts are moved out of the cells as they are read, so a ledger of a million rows
/// costs its rows once in memory, not twice. For applying a ledger; saving into one needs
/// `read_ledger`.
pub fn read_ledger_rows(src: &Path, columns: &LedgerColumns) -> Result<Ledger, LedgerError> {
    read(src, columns, false)
}

/// The id, measure and compliance columns of a header: named by the user, else recognised.
fn pick_columns(
    header: &[String],
    columns: &LedgerColumns,
    described: &str,
) -> Result<(usize, Option<usize>, Option<usize>), LedgerError> {
    // A blank name (`--ledger-id-field ""`) names no column: the header decides.
    let pick = |role: ColumnRole, named: &Option<String>| match named
        .as_ref()
        .filter(|n| !n.trim().is_empty())
    {
        Some(name) => find_named(header, name)
            .map(Some)
            .ok_or_else(|| LedgerError::NoSuchColumn {
                source_text: described.to_string(),
                column: name.clone(),
                flag: role.def().flag,
                header: header.to_vec(),
            }),
        None => Ok(recognise(header, role)),
    };
    let id = pick(ColumnRole::Id, &columns.id)?.ok_or_else(|| LedgerError::MissingColumn {
        source_text: described.to_string(),
        role: "parcel id",
        flag: ColumnRole::Id.def().flag,
        header: header.to_vec(),
    })?;
    let measure = pick(ColumnRole::Measure, &columns.measure)?;
    let compliance = pick(ColumnRole::Compliance, &columns.compliance)?;
    if measure.is_none() && compliance.is_none() {
        return Err(LedgerError::NoValueColumn {
            source_text: described.to_string(),
            header: header.to_vec(),
        });
    }
    Ok((id, measure, compliance))
}

fn read(src: &Path, columns: &LedgerColumns, keep_table: bool) -> Result<Ledger, LedgerError> {
    let (file, _) = split_sheet(src);
    if !keep_table && file.is_file() && matches!(extension(&file).as_deref(), Some("xlsx" | "xlsm"))
    {
        return stream_xlsx(src, columns);
    }
    let (mut loaded, described, hi, header) = load_headed(src)?;
    let (id, measure, compliance) = pick_columns(&header, columns, &described)?;

    let text_at = |row: &[Cell], col: Option<usize>| {
        col.and_then(|c| row.get(c))
            .map(Cell::text)
            .filter(|t| !t.is_empty())
    };
    let rows = if keep_table {
        loaded
            .table
            .iter()
            .enumerate()
            .skip(hi + 1)
            .filter_map(|(i, row)| {
                Some(LedgerRow {
                    row: i + 1,
                    id: text_at(row, Some(id))?,
                    measure: text_at(row, measure),
                    compliance: text_at(row, compliance),
                })
            })
            .collect()
    } else {
        // Each row's cells are freed as the row is read; texts already trimmed move.
        let take = |row: &mut Vec<Cell>, col: Option<usize>| -> Option<String> {
            let cell = col.and_then(|c| row.get_mut(c))?;
            let text = match std::mem::replace(cell, Cell::Empty) {
                Cell::Text(t) if t.trim().len() == t.len() => t,
                other => other.text(),
            };
            (!text.is_empty()).then_some(text)
        };
        std::mem::take(&mut loaded.table)
            .into_iter()
            .enumerate()
            .skip(hi + 1)
            .filter_map(|(i, mut row)| {
                Some(LedgerRow {
                    row: i + 1,
                    id: take(&mut row, Some(id))?,
                    measure: take(&mut row, measure),
                    compliance: take(&mut row, compliance),
                })
            })
            .collect()
    };
    let name = |c: Option<usize>| c.map(|c| header[c].clone());
    Ok(Ledger {
        path: src.to_path_buf(),
        sheet: loaded.sheet,
        id_column: header[id].clone(),
        measure_column: name(measure),
        compliance_column: name(compliance),
        header,
        rows,
        table: loaded.table,
    })
}

/// Describes a ledger for `soilrisk info`: its sheets, the chosen sheet's header and data
/// rows, a CSV file's encoding and delimiter, and the columns recognised by header. An
/// empty sheet is described as such, not refused.
pub fn describe_ledger(src: &Path) -> Result<LedgerInfo, LedgerError> {
    let loaded = load(src)?;
    let hi = header_index(&loaded.table);
    let header: Vec<String> = hi
        .map(|hi| loaded.table[hi].iter().map(Cell::text).collect())
        .unwrap_or_default();
    let rows = hi.map_or(0, |hi| {
        loaded.table[hi + 1..]
            .iter()
            .filter(|r| !is_blank_row(r))
            .count()
    });
    Ok(LedgerInfo {
        path: src.to_path_buf(),
        format: loaded.format.to_string(),
        sheets: loaded.sheets,
        sheet: loaded.sheet,
        id_column: recognise(&header, ColumnRole::Id),
        measure_column: recognise(&header, ColumnRole::Measure),
        compliance_column: recognise(&header, ColumnRole::Compliance),
        header,
        rows,
        encoding: loaded.encoding,
        delimiter: loaded.delimiter,
    })
}

fn is_blank_row(row: &[Cell]) -> bool {
    row.iter().all(Cell::is_blank)
}

/// The header: the first row that is not entirely empty.
/// Rows of cells, each with its row number (1-based).
pub type NumberedRows = Vec<(usize, Vec<Cell>)>;

/// A table of a workbook's sheet or a CSV file (`FILE.xlsx`, `FILE.xlsx/SHEET`, `FILE.csv`):
/// how it is described in messages, its header (the first row not blank) and the rows under
/// it, each with its row number (1-based, as a spreadsheet shows it). For tables other than
/// ledgers (a comparison's lineage table).
pub fn read_table(src: &Path) -> Result<(String, Vec<String>, NumberedRows), LedgerError> {
    let (loaded, described, hi, header) = load_headed(src)?;
    let rows = loaded
        .table
        .into_iter()
        .enumerate()
        .skip(hi + 1)
        .map(|(i, r)| (i + 1, r))
        .collect();
    Ok((described, header, rows))
}

/// A table loaded, how messages describe it, its header row's index and the header.
fn load_headed(src: &Path) -> Result<(Loaded, String, usize, Vec<String>), LedgerError> {
    let loaded = load(src)?;
    // `FILE.xlsx/SHEET` names its sheet already; `FILE.xlsx` gets `, sheet S`.
    let named_sheet = split_sheet(src).1.is_some();
    let described = source_text(src, loaded.sheet.as_deref().filter(|_| !named_sheet));
    let Some(hi) = header_index(&loaded.table) else {
        return Err(LedgerError::Empty {
            source_text: described,
        });
    };
    let header: Vec<String> = loaded.table[hi].iter().map(Cell::text).collect();
    Ok((loaded, described, hi, header))
}

fn header_index(table: &[Vec<Cell>]) -> Option<usize> {
    table.iter().position(|r| !is_blank_row(r))
}

/// The format's name as `info` gives it.
fn format_name(ext: &str) -> &'static str {
    match ext {
        "xlsx" => "Excel workbook (xlsx)",
        "xlsm" => "Excel macro-enabled workbook (xlsm)",
        "xls" => "Excel 97-2003 workbook (xls)",
        "ods" => "OpenDocument spreadsheet (ods)",
        _ => "CSV text",
    }
}

fn load(src: &Path) -> Result<Loaded, LedgerError> {
    let (file, sheet) = split_sheet(src);
    if !file.exists() {
        return Err(LedgerError::NotFound {
            path: src.to_path_buf(),
        });
    }
    let ext = extension(&file).unwrap_or_default();
    if !super::LEDGER_EXTENSIONS.contains(&ext.as_str()) {
        return Err(LedgerError::Unsupported {
            path: src.to_path_buf(),
        });
    }
    if ext == "csv" {
        let bytes = std::fs::read(&file).map_err(|source| LedgerError::Io {
            path: file.clone(),
            source,
        })?;
        let csv = super::csv::parse_csv(&file, &bytes)?;
        let table = csv
            .records
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|f| {
                        if f.is_empty() {
                            Cell::Empty
                        } else {
                            Cell::Text(f)
                        }
                    })
                    .collect()
            })
            .collect();
        return Ok(Loaded {
            format: format_name("csv"),
            sheets: Vec::new(),
            sheet: None,
            table,
            encoding: Some(csv.encoding),
            delimiter: Some(csv.delimiter),
        });
    }
    let mut book = open_book(&file)?;
    let sheets = book.sheet_names();
    let chosen = choose_sheet(&file, &sheets, sheet)?;
    let table = sheet_table(&file, &mut book, &chosen)?;
    Ok(Loaded {
        format: format_name(&ext),
        sheets,
        sheet: Some(chosen),
        table,
        encoding: None,
        delimiter: None,
    })
}

/// The sheet named (exactly, else ignoring case), or the first.
fn choose_sheet(
    file: &Path,
    sheets: &[String],
    sheet: Option<String>,
) -> Result<String, LedgerError> {
    Ok(match sheet {
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| LedgerError::NoSheets {
                path: file.to_path_buf(),
            })?,
        Some(name) => sheets
            .iter()
            .find(|s| **s == name)
            .or_else(|| {
                sheets
                    .iter()
                    .find(|s| s.to_lowercase() == name.to_lowercase())
            })
            .cloned()
            .ok_or_else(|| LedgerError::NoSuchSheet {
                path: file.to_path_buf(),
                sheet: name,
                sheets: sheets.to_vec(),
            })?,
    })
}

/// A workbook's sheet read row by row through calamine's cell reader, keeping no cell: the
/// rows of [`read_ledger_rows`] from `.xlsx`, without the whole sheet in memory at once (a
/// 500,000-row ledger once took 100 MB more as a sheet of cells).
fn stream_xlsx(src: &Path, columns: &LedgerColumns) -> Result<Ledger, LedgerError> {
    let (file, sheet) = split_sheet(src);
    let damaged = |reason: String| LedgerError::Damaged {
        path: file.clone(),
        reason,
    };
    let opened = catch_unwind(AssertUnwindSafe(|| open_workbook::<Xlsx<_>, _>(&file)));
    let mut book = match opened {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return Err(damaged(e.to_string())),
        Err(_) => return Err(damaged("the reader failed on it".into())),
    };
    let sheets = book.sheet_names();
    let chosen = choose_sheet(&file, &sheets, sheet.clone())?;
    let described = source_text(src, Some(chosen.as_str()).filter(|_| sheet.is_none()));
    let streamed = catch_unwind(AssertUnwindSafe(|| -> Result<_, LedgerError> {
        let mut cells = book
            .worksheet_cells_reader(&chosen)
            .map_err(|e| damaged(format!("sheet {chosen}: {e}")))?;
        // The header: the first row with a cell that is not blank.
        let mut header: Vec<String> = Vec::new();
        let mut header_row: Option<u32> = None;
        let mut picked: Option<(usize, Option<usize>, Option<usize>)> = None;
        let mut rows: Vec<LedgerRow> = Vec::new();
        let mut current: Option<(u32, [Option<String>; 3])> = None;
        let finish = |cur: Option<(u32, [Option<String>; 3])>, rows: &mut Vec<LedgerRow>| {
            if let Some((r, [Some(id), measure, compliance])) = cur {
                rows.push(LedgerRow {
                    row: r as usize + 1,
                    id,
                    measure,
                    compliance,
                });
            }
        };
        while let Some(cell) = cells
            .next_cell()
            .map_err(|e| damaged(format!("sheet {chosen}: {e}")))?
        {
            let (r, c) = cell.get_position();
            let text = text_of(cell.get_value());
            if header_row.is_none_or(|h| h == r) && picked.is_none() {
                if text.is_empty() && header_row.is_none() {
                    continue;
                }
                header_row = Some(r);
                if header.len() <= c as usize {
                    header.resize(c as usize + 1, String::new());
                }
                header[c as usize] = text;
                continue;
            }
            let (id, measure, compliance) = match picked {
                Some(p) => p,
                None => {
                    let p = pick_columns(&header, columns, &described)?;
                    picked = Some(p);
                    p
                }
            };
            if current.as_ref().is_none_or(|(cr, _)| *cr != r) {
                finish(current.take(), &mut rows);
                current = Some((r, [None, None, None]));
            }
            let slot = match c as usize {
                x if x == id => 0,
                x if Some(x) == measure => 1,
                x if Some(x) == compliance => 2,
                _ => continue,
            };
            if let Some((_, values)) = current.as_mut() {
                values[slot] = (!text.is_empty()).then_some(text);
            }
        }
        finish(current, &mut rows);
        if header_row.is_none() {
            return Err(LedgerError::Empty {
                source_text: described.clone(),
            });
        }
        // A header with no row under it: its columns must still be there.
        let (id, measure, compliance) = match picked {
            Some(p) => p,
            None => pick_columns(&header, columns, &described)?,
        };
        Ok((header, id, measure, compliance, rows))
    }));
    let (header, id, measure, compliance, rows) = match streamed {
        Ok(r) => r?,
        Err(_) => return Err(damaged(format!("sheet {chosen}: the reader failed on it"))),
    };
    let name = |c: Option<usize>| c.map(|c| header[c].clone());
    Ok(Ledger {
        path: src.to_path_buf(),
        sheet: Some(chosen),
        id_column: header[id].clone(),
        measure_column: name(measure),
        compliance_column: name(compliance),
        header,
        rows,
        table: Vec::new(),
    })
}

/// A cell as a ledger's text, as [`Cell::text`] gives it.
fn text_of(d: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef as D;
    match d {
        D::Empty => String::new(),
        D::Int(i) => number_text(*i as f64),
        D::Float(f) => number_text(*f),
        D::String(s) => s.trim().to_string(),
        D::SharedString(s) => s.trim().to_string(),
        D::Bool(b) => b.to_string(),
        D::DateTime(dt) => {
            let data = Data::DateTime(*dt);
            cell_of(&data).text()
        }
        D::DateTimeIso(s) | D::DurationIso(s) => s.trim().to_string(),
        D::Error(e) => e.to_string(),
    }
}

/// An open workbook.
pub(crate) type Book = Sheets<BufReader<File>>;

/// Opens a workbook by its extension (any case; calamine's own dispatch wants lower case).
/// A reader that panics on a damaged file is a damaged file, not a crash.
pub(crate) fn open_book(file: &Path) -> Result<Book, LedgerError> {
    let ext = extension(file).unwrap_or_default();
    let damaged = |reason: String| LedgerError::Damaged {
        path: file.to_path_buf(),
        reason,
    };
    let opened = catch_unwind(AssertUnwindSafe(|| match ext.as_str() {
        "xlsx" | "xlsm" => open_workbook::<Xlsx<_>, _>(file)
            .map(Sheets::Xlsx)
            .map_err(|e| damaged(e.to_string())),
        "xls" => open_workbook::<Xls<_>, _>(file)
            .map(Sheets::Xls)
            .map_err(|e| damaged(e.to_string())),
        "ods" => open_workbook::<Ods<_>, _>(file)
            .map(Sheets::Ods)
            .map_err(|e| damaged(e.to_string())),
        _ => Err(LedgerError::Unsupported {
            path: file.to_path_buf(),
        }),
    }));
    opened.unwrap_or_else(|_| Err(damaged("the reader failed on it".into())))
}

/// A sheet of an open workbook as a table from cell A1 (row 1 is `table[0]`).
pub(crate) fn sheet_table(file: &Path, book: &mut Book, sheet: &str) -> Result<Table, LedgerError> {
    let range = catch_unwind(AssertUnwindSafe(|| book.worksheet_range(sheet)));
    let range = match range {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return Err(LedgerError::Damaged {
                path: file.to_path_buf(),
                reason: format!("sheet {sheet}: {e}"),
            });
        }
        Err(_) => {
            return Err(LedgerError::Damaged {
                path: file.to_path_buf(),
                reason: format!("sheet {sheet}: the reader failed on it"),
            });
        }
    };
    Ok(table_of(&range))
}

fn table_of(range: &Range<Data>) -> Table {
    let (Some((r0, c0)), Some((r1, c1))) = (range.start(), range.end()) else {
        return Vec::new();
    };
    (0..=r1)
        .map(|r| {
            if r < r0 {
                return Vec::new();
            }
            (0..=c1)
                .map(|c| {
                    if c < c0 {
                        Cell::Empty
                    } else {
                        range.get_value((r, c)).map_or(Cell::Empty, cell_of)
                    }
                })
                .collect()
        })
        .collect()
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            let text = if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            };
            Cell::Date {
                serial: dt.as_f64(),
                text,
            }
        }
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(e.to_string()),
    }
}

/// Every sheet of a workbook, in order, as tables: what saving into it keeps.
pub(crate) fn all_sheets(file: &Path) -> Result<Vec<(String, Table)>, LedgerError> {
    let mut book = open_book(file)?;
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|n| {
            let t = sheet_table(file, &mut book, &n)?;
            Ok((n, t))
        })
        .collect()
}

/// The file of a ledger source (`FILE.xlsx/SHEET` is `FILE.xlsx`).
pub(crate) fn file_of(src: &Path) -> PathBuf {
    split_sheet(src).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_ledger(text: &str, columns: &LedgerColumns) -> Result<Ledger, LedgerError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        std::fs::write(&p, text).unwrap();
        read_ledger(&p, columns)
    }

    #[test]
    fn rows_without_an_id_and_empty_rows_are_skipped() {
        let l = csv_ledger(
            "\n序号,图斑编号,措施,备注\n1,5101,休耕,\n2,,2,no id\n,,,\n4, 5103 ,,\n",
            &LedgerColumns::default(),
        )
        .unwrap();
        assert_eq!(l.id_column, "图斑编号");
        assert_eq!(l.measure_column.as_deref(), Some("措施"));
        assert_eq!(l.compliance_column, None);
        let got: Vec<_> = l
            .rows
            .iter()
            .map(|r| (r.row, r.id.as_str(), r.measure.as_deref()))
            .collect();
        assert_eq!(got, vec![(3, "5101", Some("休耕")), (6, "5103", None)]);
        assert_eq!(l.header_index(), 1);
    }

    #[test]
    fn named_columns_win_and_must_exist() {
        let cols = LedgerColumns {
            id: Some("zldwdm".into()),
            measure: Some("CQCS".into()),
            compliance: None,
        };
        let l = csv_ledger("ZLDWDM,CQCS,是否达标\nA,3,是\n", &cols).unwrap();
        assert_eq!(l.rows[0].measure.as_deref(), Some("3"));
        assert_eq!(l.rows[0].compliance.as_deref(), Some("是"));
        assert_eq!(l.id_column, "ZLDWDM");

        // A blank name leaves the column to the header.
        let cols = LedgerColumns {
            id: Some(" ".into()),
            ..Default::default()
        };
        let l = csv_ledger(",TBBH,措施\n,A,3\n", &cols).unwrap();
        assert_eq!((l.id_column.as_str(), l.rows[0].id.as_str()), ("TBBH", "A"));

        let cols = LedgerColumns {
            measure: Some("ZLLB".into()),
            ..Default::default()
        };
        let e = csv_ledger("TBBH,CQCS\nA,3\n", &cols)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"ZLLB\"")
                && e.contains("--ledger-measure-field")
                && e.contains("TBBH, CQCS"),
            "{e}"
        );
    }

    #[test]
    fn a_header_without_values_says_which_flags_name_them() {
        let e = csv_ledger("TBBH,备注\nA,x\n", &LedgerColumns::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--ledger-measure-field") && e.contains("--ledger-compliance-field"),
            "{e}"
        );
        let e = csv_ledger(",,\n", &LedgerColumns::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
    }
}
