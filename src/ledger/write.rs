//! Saving edited measures into a ledger, as `.xlsx` (rust_xlsxwriter) or `.csv` (UTF-8 with
//! BOM, comma), chosen by the target's extension, and always atomically: the file is
//! written whole beside the target and renamed over it, so a failed save leaves the old
//! file as it was and no temporary file behind.
//!
//! Into a loaded ledger (`base`), every cell of its sheet is kept: the measure and
//! compliance cells of the edited parcels are replaced (a number stays a number when the
//! new value is one), parcels it has no row for are appended (sorted by id), and a
//! measure or compliance column it lacks is added after its last column. Saving `.xlsx`
//! over a workbook keeps its other sheets, in their order, by value: each cell's value
//! (a formula's last result) is kept, while formulas, formatting, merged cells and charts
//! are not. Without a base, a new ledger has the header `PARCEL_ID, MEASURE` (and
//! `COMPLIANCE` when an edit gives one), one row per parcel sorted by id.
//!
//! In `.xlsx` the ledger's header row is bold and frozen, numbers are numbers, text is
//! text, dates are dates, and columns are as wide as their text (a CJK character counting
//! as two).

use std::collections::BTreeMap;
use std::path::Path;

use rust_xlsxwriter::{Format, XlsxError};

use super::read::{all_sheets, file_of};
use super::{
    Cell, Ledger, LedgerError, MeasureEdit, Table, WORKBOOK_EXTENSIONS, extension, number_text,
};
use crate::atomic::write_atomic;
use crate::xlsx::{display_width, header_format, set_widths};

/// Headers of a new ledger (and of a column added to a loaded one).
pub const NEW_ID_HEADER: &str = "PARCEL_ID";
pub const NEW_MEASURE_HEADER: &str = "MEASURE";
pub const NEW_COMPLIANCE_HEADER: &str = "COMPLIANCE";
/// The sheet name of a new workbook ledger.
pub const NEW_SHEET: &str = "台账";

/// Saves `edits` into `target` (`.xlsx` or `.csv`), into the table of `base` when given
/// (the ledger loaded from that file, or from another for "save as"), else as a new
/// ledger. Of several edits of one parcel, the last counts. See the module doc for what is
/// kept.
pub fn save_measures(
    target: &Path,
    base: Option<&Ledger>,
    edits: &[MeasureEdit],
) -> Result<(), LedgerError> {
    let ext = extension(target).unwrap_or_default();
    if ext != "xlsx" && ext != "csv" {
        return Err(LedgerError::UnsupportedTarget {
            path: target.to_path_buf(),
        });
    }
    // The last edit of each parcel, by id.
    let mut last: BTreeMap<&str, &MeasureEdit> = BTreeMap::new();
    for e in edits {
        last.insert(e.id.trim(), e);
    }
    let sheet = match base {
        Some(b) => edited_table(b, &last),
        None => new_table(&last),
    };
    let bytes = if ext == "csv" {
        let rows: Vec<Vec<String>> = sheet
            .table
            .iter()
            .map(|r| r.iter().map(raw_text).collect())
            .collect();
        super::csv::write_csv(&rows)
    } else {
        let others = match base {
            Some(b) => other_sheets(b)?,
            None => Vec::new(),
        };
        xlsx_bytes(&sheet, others).map_err(|e| LedgerError::Write {
            path: target.to_path_buf(),
            reason: e.to_string(),
        })?
    };
    write_atomic(target, |w| w.write_all(&bytes)).map_err(|e| LedgerError::Write {
        path: e.path,
        reason: e.source.to_string(),
    })
}

/// A sheet of a workbook, by name.
type NamedSheet = (String, Table);

/// The ledger's sheet as it will be written.
struct Sheet {
    name: String,
    table: Table,
    header: usize,
}

fn new_table(edits: &BTreeMap<&str, &MeasureEdit>) -> Sheet {
    let with_compliance = edits.values().any(|e| e.compliance.is_some());
    let mut header = vec![NEW_ID_HEADER, NEW_MEASURE_HEADER];
    if with_compliance {
        header.push(NEW_COMPLIANCE_HEADER);
    }
    let mut table = vec![header.iter().map(|h| Cell::Text(h.to_string())).collect()];
    for (id, e) in edits {
        let mut row = vec![text_cell(id), text_cell(&e.measure)];
        if with_compliance {
            row.push(text_cell(e.compliance.as_deref().unwrap_or_default()));
        }
        table.push(row);
    }
    Sheet {
        name: NEW_SHEET.into(),
        table,
        header: 0,
    }
}

fn edited_table(base: &Ledger, edits: &BTreeMap<&str, &MeasureEdit>) -> Sheet {
    let mut table = base.table.clone();
    let hi = base.header_index();
    if table.is_empty() {
        table.push(Vec::new());
    }
    let width = |t: &Table| t.iter().map(Vec::len).max().unwrap_or(0);
    let add_column = |table: &mut Table, name: &str| {
        let at = width(table).max(base.header.len());
        set(&mut table[hi], at, Cell::Text(name.into()));
        at
    };
    // The columns, by the names `read_ledger` found (the header as read).
    let id_col = base.column_index(&base.id_column).unwrap_or(0);
    let measure_col = match base
        .measure_column
        .as_deref()
        .and_then(|m| base.column_index(m))
    {
        Some(c) => c,
        None => add_column(&mut table, NEW_MEASURE_HEADER),
    };
    let compliance_col = match base
        .compliance_column
        .as_deref()
        .and_then(|c| base.column_index(c))
    {
        Some(c) => Some(c),
        None if edits.values().any(|e| e.compliance.is_some()) => {
            Some(add_column(&mut table, NEW_COMPLIANCE_HEADER))
        }
        None => None,
    };

    // Rows by id, from the table itself.
    let mut rows_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, row) in table.iter().enumerate().skip(hi + 1) {
        let id = row.get(id_col).map(Cell::text).unwrap_or_default();
        if !id.is_empty() {
            rows_of.entry(id).or_default().push(i);
        }
    }
    // An appended id is a number where the column's ids are numbers.
    let id_template = rows_of
        .values()
        .next()
        .and_then(|rows| table[rows[0]].get(id_col))
        .cloned()
        .unwrap_or(Cell::Empty);

    for (id, e) in edits {
        let rows = match rows_of.get(*id) {
            Some(rows) => rows.clone(),
            None => {
                let mut row = Vec::new();
                set(&mut row, id_col, typed(&id_template, id));
                table.push(row);
                vec![table.len() - 1]
            }
        };
        for r in rows {
            let row = &mut table[r];
            let old = row.get(measure_col).cloned().unwrap_or(Cell::Empty);
            set(row, measure_col, typed(&old, &e.measure));
            if let (Some(c), Some(value)) = (compliance_col, &e.compliance) {
                let old = row.get(c).cloned().unwrap_or(Cell::Empty);
                set(row, c, typed(&old, value));
            }
        }
    }
    Sheet {
        name: base.sheet.clone().unwrap_or_else(|| NEW_SHEET.into()),
        table,
        header: hi,
    }
}

/// Sets a cell, widening the row as needed.
fn set(row: &mut Vec<Cell>, col: usize, cell: Cell) {
    if row.len() <= col {
        row.resize(col + 1, Cell::Empty);
    }
    row[col] = cell;
}

fn text_cell(text: &str) -> Cell {
    let t = text.trim();
    if t.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(t.to_string())
    }
}

/// A new value for a cell that held `old`: a number where the old value was a number and
/// the new one reads as one (a column of measure codes 1, 2, 3 stays numeric), else text.
fn typed(old: &Cell, new: &str) -> Cell {
    let t = new.trim();
    if let Cell::Number(_) = old
        && let Ok(n) = t.parse::<f64>()
        && n.is_finite()
        && number_text(n) == t
    {
        return Cell::Number(n);
    }
    text_cell(t)
}

/// A cell as CSV text: text as it was (untrimmed), numbers as `Cell::text` gives them.
fn raw_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        other => other.text(),
    }
}

/// The base workbook's sheets, with `None` in the place of the ledger's own; empty when
/// the base is not a workbook, or its file is gone.
fn other_sheets(base: &Ledger) -> Result<Vec<Option<NamedSheet>>, LedgerError> {
    let file = file_of(&base.path);
    let is_book = extension(&file).is_some_and(|e| WORKBOOK_EXTENSIONS.contains(&e.as_str()));
    if !is_book || !file.is_file() {
        return Ok(Vec::new());
    }
    Ok(all_sheets(&file)?
        .into_iter()
        .map(|(name, table)| (Some(&name) != base.sheet.as_ref()).then_some((name, table)))
        .collect())
}

/// The workbook: the other sheets in their order, the ledger's where it was (or alone).
fn xlsx_bytes(sheet: &Sheet, others: Vec<Option<NamedSheet>>) -> Result<Vec<u8>, XlsxError> {
    let mut book = crate::xlsx::workbook()?;
    let ledger_placed = others.iter().any(Option::is_none);
    let mut order = others;
    if !ledger_placed {
        order.insert(0, None);
    }
    let bold = header_format();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let date_time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for entry in &order {
        let (name, table, header) = match entry {
            Some((name, table)) => (name.as_str(), table, None),
            None => (sheet.name.as_str(), &sheet.table, Some(sheet.header)),
        };
        let ws = book.add_worksheet();
        ws.set_name(name)?;
        let mut widths: Vec<usize> = Vec::new();
        for (r, row) in table.iter().enumerate() {
            let r32 = u32::try_from(r).unwrap_or(u32::MAX);
            let is_header = header == Some(r);
            for (c, cell) in row.iter().enumerate() {
                let c16 = u16::try_from(c).unwrap_or(u16::MAX);
                match cell {
                    Cell::Empty => continue,
                    Cell::Text(t) if is_header => {
                        ws.write_string_with_format(r32, c16, t.as_str(), &bold)?;
                    }
                    Cell::Text(t) => {
                        ws.write_string(r32, c16, t.as_str())?;
                    }
                    Cell::Number(n) if is_header => {
                        ws.write_number_with_format(r32, c16, *n, &bold)?;
                    }
                    Cell::Number(n) => {
                        ws.write_number(r32, c16, *n)?;
                    }
                    Cell::Bool(b) => {
                        ws.write_boolean(r32, c16, *b)?;
                    }
                    Cell::Date { serial, .. } => {
                        let f = if serial.fract() == 0.0 {
                            &date
                        } else {
                            &date_time
                        };
                        ws.write_number_with_format(r32, c16, *serial, f)?;
                    }
                }
                if widths.len() <= c {
                    widths.resize(c + 1, 0);
                }
                let w = cell.text().lines().map(display_width).max().unwrap_or(0);
                widths[c] = widths[c].max(w + usize::from(is_header));
            }
        }
        set_widths(ws, &widths)?;
        if let Some(h) = header {
            ws.set_freeze_panes(u32::try_from(h + 1).unwrap_or(u32::MAX), 0)?;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{LedgerColumns, read_ledger};

    fn edit(id: &str, measure: &str, compliance: Option<&str>) -> MeasureEdit {
        MeasureEdit {
            id: id.into(),
            measure: measure.into(),
            compliance: compliance.map(String::from),
        }
    }

    #[test]
    fn typed_cells_keep_numbers_numeric() {
        assert_eq!(typed(&Cell::Number(2.0), "3"), Cell::Number(3.0));
        assert_eq!(typed(&Cell::Number(2.0), "休耕"), Cell::Text("休耕".into()));
        assert_eq!(typed(&Cell::Text("2".into()), "3"), Cell::Text("3".into()));
        // Leading zeros are an id's text, not a number.
        assert_eq!(typed(&Cell::Number(7.0), "007"), Cell::Text("007".into()));
        assert_eq!(typed(&Cell::Text("x".into()), " "), Cell::Empty);
    }

    #[test]
    fn csv_edits_keep_other_columns_and_append_new_ids() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("台账.csv");
        std::fs::write(
            &p,
            "序号;TBBH;措施;备注\n1;A1;;\"保留, 这个\"\n2;A2;休耕;\n2;A2;休耕;\n",
        )
        .unwrap();
        let base = read_ledger(&p, &LedgerColumns::default()).unwrap();
        let edits = [
            edit("A2", "轮作休耕", None),
            edit("B9", "2", Some("是")),
            edit("A1", "0", None),
            edit("A1", "农艺调控", Some("否")),
        ];
        save_measures(&p, Some(&base), &edits).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("\u{feff}序号,TBBH,措施,备注,COMPLIANCE\r\n"),
            "{text}"
        );
        assert!(
            text.contains("1,A1,农艺调控,\"保留, 这个\",否\r\n"),
            "{text}"
        );
        let back = read_ledger(&p, &LedgerColumns::default()).unwrap();
        let got: Vec<_> = back
            .rows
            .iter()
            .map(|r| (r.id.as_str(), r.measure.as_deref(), r.compliance.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A1", Some("农艺调控"), Some("否")),
                ("A2", Some("轮作休耕"), None),
                ("A2", Some("轮作休耕"), None),
                ("B9", Some("2"), Some("是")),
            ]
        );
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() == 1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_new_ledger_without_compliance_has_two_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("new.csv");
        save_measures(&p, None, &[edit("P2", "休耕", None), edit("P1", "2", None)]).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text, "\u{feff}PARCEL_ID,MEASURE\r\nP1,2\r\nP2,休耕\r\n");
        let e = save_measures(&dir.path().join("x.ods"), None, &[]).unwrap_err();
        assert!(e.to_string().contains(".xlsx or .csv"), "{e}");
    }
}
