//! Measure ledgers (台账) as counties keep them: workbooks written by another library
//! (rust_xlsxwriter), GBK and UTF-8 CSV files, sheets by name, damaged files, saving edited
//! measures back, and `soilrisk info` on a ledger.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Reader};
use rust_xlsxwriter::Workbook;
use soilrisk::ledger::{
    Cell, LedgerColumns, MeasureEdit, describe_ledger, is_ledger_path, read_ledger, save_measures,
};

/// A value of a test workbook's cell.
enum V<'a> {
    S(&'a str),
    N(f64),
    B(bool),
    E,
}
use V::{B, E, N, S};

/// Writes a workbook of named sheets, each a grid of values from A1.
fn write_book(path: &Path, sheets: &[(&str, &[&[V]])]) {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match v {
                    S(s) => drop(ws.write_string(r, c, *s).unwrap()),
                    N(n) => drop(ws.write_number(r, c, *n).unwrap()),
                    B(b) => drop(ws.write_boolean(r, c, *b).unwrap()),
                    E => {}
                }
            }
        }
    }
    book.save(path).unwrap();
}

/// The county ledger of the tests: Chinese headers, numeric ids, a numeric and a text
/// measure, a row without an id, an empty row, and a note column.
fn county_book(path: &Path) {
    write_book(
        path,
        &[
            (
                "台账",
                &[
                    &[S("图斑编号"), S("措施类型"), S("是否达标"), S("备注")],
                    &[N(5101.0), N(2.0), S("是"), S("村道旁")],
                    &[N(5102.0), S("休耕"), B(false), E],
                    &[E, S("农艺调控"), E, S("无编号")],
                    &[E, E, E, E],
                    &[N(5103.0), E, E, S("待核实")],
                ],
            ),
            ("说明", &[&[S("填表说明")], &[S("措施按名录填写")]]),
        ],
    );
}

fn rows_of(l: &soilrisk::ledger::Ledger) -> Vec<(usize, String, Option<String>, Option<String>)> {
    l.rows
        .iter()
        .map(|r| (r.row, r.id.clone(), r.measure.clone(), r.compliance.clone()))
        .collect()
}

fn row(
    n: usize,
    id: &str,
    m: Option<&str>,
    c: Option<&str>,
) -> (usize, String, Option<String>, Option<String>) {
    (n, id.into(), m.map(String::from), c.map(String::from))
}

#[test]
fn an_xlsx_with_chinese_headers_and_numeric_ids_reads_ids_as_integers() {
    let dir = tempfile::tempdir().unwrap();
    // An upper-case extension, as Windows users name files.
    let path = dir.path().join("双流区台账.XLSX");
    county_book(&path);
    let l = read_ledger(&path, &LedgerColumns::default()).unwrap();
    assert_eq!(l.sheet.as_deref(), Some("台账"));
    assert_eq!(l.id_column, "图斑编号");
    assert_eq!(l.measure_column.as_deref(), Some("措施类型"));
    assert_eq!(l.compliance_column.as_deref(), Some("是否达标"));
    assert_eq!(
        rows_of(&l),
        vec![
            row(2, "5101", Some("2"), Some("是")),
            row(3, "5102", Some("休耕"), Some("false")),
            row(6, "5103", None, None),
        ]
    );
    assert_eq!(l.header, vec!["图斑编号", "措施类型", "是否达标", "备注"]);
    assert_eq!(l.table[1][3], Cell::Text("村道旁".into()));
    assert!(is_ledger_path(&path));
}

#[test]
fn a_gbk_csv_without_bom_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.csv");
    let text = "TBBH,措施\r\nA001,休耕\r\nA002,农艺调控\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the test needs non-UTF-8 bytes"
    );
    std::fs::write(&path, &gbk).unwrap();
    let l = read_ledger(&path, &LedgerColumns::default()).unwrap();
    assert_eq!(l.id_column, "TBBH");
    assert_eq!(l.measure_column.as_deref(), Some("措施"));
    assert_eq!(
        rows_of(&l),
        vec![
            row(2, "A001", Some("休耕"), None),
            row(3, "A002", Some("农艺调控"), None)
        ]
    );
    let info = describe_ledger(&path).unwrap();
    assert_eq!(info.encoding.as_deref(), Some("gb18030"));
    assert_eq!(info.delimiter, Some(','));
    assert_eq!(info.rows, 2);
}

#[test]
fn a_utf8_csv_with_bom_semicolons_and_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.csv");
    let text = "\u{feff}标识码;措施;农产品是否达标;备注\n\
                510104001;2;是;\"含分号; 和\"\"引号\"\"\n第二行\"\n\
                510104002;\"严格管控\";否;\n";
    std::fs::write(&path, text).unwrap();
    let l = read_ledger(&path, &LedgerColumns::default()).unwrap();
    assert_eq!(
        rows_of(&l),
        vec![
            row(2, "510104001", Some("2"), Some("是")),
            row(3, "510104002", Some("严格管控"), Some("否")),
        ]
    );
    assert_eq!(
        l.table[1][3],
        Cell::Text("含分号; 和\"引号\"\n第二行".into())
    );
    let info = describe_ledger(&path).unwrap();
    assert_eq!(info.encoding.as_deref(), Some("UTF-8 with BOM"));
    assert_eq!(info.delimiter, Some(';'));
}

#[test]
fn a_sheet_by_name_and_an_unknown_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.xlsx");
    write_book(
        &path,
        &[
            ("说明", &[&[S("填表说明")], &[S("见第二页")]]),
            ("2023年", &[&[S("BSM"), S("MEASURE")], &[N(7.0), S("休耕")]]),
        ],
    );
    let l = read_ledger(&path.join("2023年"), &LedgerColumns::default()).unwrap();
    assert_eq!(l.sheet.as_deref(), Some("2023年"));
    assert_eq!(l.path, path.join("2023年"));
    assert_eq!(rows_of(&l), vec![row(2, "7", Some("休耕"), None)]);
    assert!(is_ledger_path(&path.join("2023年")));

    let e = read_ledger(&path.join("2024年"), &LedgerColumns::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"2024年\"") && e.contains("说明, 2023年"),
        "{e}"
    );
    assert!(e.ends_with(&path.display().to_string()), "{e}");

    // The first sheet is the notes: no id column there, and the message says so.
    let e = read_ledger(&path, &LedgerColumns::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sheet 说明") && e.contains("--ledger-id-field"),
        "{e}"
    );
}

#[test]
fn damaged_workbooks_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xlsx");
    county_book(&good);
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.path().join("truncated.xlsx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let garbage = dir.path().join("garbage.xlsx");
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(&garbage, &noise).unwrap();
    let old_xls = dir.path().join("garbage.xls");
    std::fs::write(&old_xls, &noise).unwrap();
    let ods = dir.path().join("garbage.ods");
    std::fs::write(&ods, &bytes[..bytes.len() / 3]).unwrap();

    for path in [&truncated, &garbage, &old_xls, &ods] {
        let e = read_ledger(path, &LedgerColumns::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("damaged") && e.ends_with(&path.display().to_string()),
            "{e}"
        );
        assert!(describe_ledger(path).is_err());
    }
    let e = read_ledger(&dir.path().join("none.xlsx"), &LedgerColumns::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found") && e.contains("none.xlsx"), "{e}");
}

#[test]
fn a_ledger_without_an_id_column_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.xlsx");
    write_book(
        &path,
        &[("Sheet1", &[&[S("编号"), S("措施")], &[S("A"), S("休耕")]])],
    );
    let e = read_ledger(&path, &LedgerColumns::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--ledger-id-field") && e.contains("编号, 措施") && e.contains("l.xlsx"),
        "{e}"
    );
    // Named, it reads.
    let cols = LedgerColumns {
        id: Some("编号".into()),
        ..Default::default()
    };
    assert_eq!(read_ledger(&path, &cols).unwrap().rows[0].id, "A");
}

fn edit(id: &str, measure: &str, compliance: Option<&str>) -> MeasureEdit {
    MeasureEdit {
        id: id.into(),
        measure: measure.into(),
        compliance: compliance.map(String::from),
    }
}

fn calamine_sheet(path: &Path, sheet: &str) -> calamine::Range<Data> {
    let mut book = calamine::open_workbook_auto(path).unwrap();
    book.worksheet_range(sheet).unwrap()
}

#[test]
fn saving_into_an_xlsx_ledger_keeps_its_cells_and_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("台账.xlsx");
    county_book(&path);
    let base = read_ledger(&path, &LedgerColumns::default()).unwrap();
    let edits = [
        edit("5101", "3", None),
        edit("5102", "严格管控", Some("否")),
        edit("5109", "休耕", Some("是")),
    ];
    save_measures(&path, Some(&base), &edits).unwrap();

    let back = read_ledger(&path, &LedgerColumns::default()).unwrap();
    assert_eq!(
        rows_of(&back),
        vec![
            row(2, "5101", Some("3"), Some("是")),
            row(3, "5102", Some("严格管控"), Some("否")),
            row(6, "5103", None, None),
            row(7, "5109", Some("休耕"), Some("是")),
        ]
    );

    // As another reader sees it: both sheets in order, numbers still numbers, the other
    // columns and rows as they were.
    let book = calamine::open_workbook_auto(&path).unwrap();
    assert_eq!(book.sheet_names(), vec!["台账", "说明"]);
    let s = calamine_sheet(&path, "台账");
    assert_eq!(s.get_value((0, 0)), Some(&Data::String("图斑编号".into())));
    assert_eq!(s.get_value((1, 0)), Some(&Data::Float(5101.0)));
    assert_eq!(
        s.get_value((1, 1)),
        Some(&Data::Float(3.0)),
        "a numeric measure stays numeric"
    );
    assert_eq!(s.get_value((1, 3)), Some(&Data::String("村道旁".into())));
    assert_eq!(s.get_value((3, 1)), Some(&Data::String("农艺调控".into())));
    assert_eq!(s.get_value((5, 3)), Some(&Data::String("待核实".into())));
    assert_eq!(
        s.get_value((6, 0)),
        Some(&Data::Float(5109.0)),
        "appended like the other ids"
    );
    let notes = calamine_sheet(&path, "说明");
    assert_eq!(
        notes.get_value((1, 0)),
        Some(&Data::String("措施按名录填写".into()))
    );
    assert_eq!(only_file(dir.path()), path);
}

#[test]
fn saving_into_a_csv_ledger_adds_a_compliance_column_when_needed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.csv");
    std::fs::write(&path, "TBBH\t措施\t备注\nA1\t休耕\t旧\nA2\t\t\n").unwrap();
    let base = read_ledger(&path, &LedgerColumns::default()).unwrap();
    save_measures(
        &path,
        Some(&base),
        &[edit("A2", "农艺调控", Some("是")), edit("A0", "3", None)],
    )
    .unwrap();
    let back = read_ledger(&path, &LedgerColumns::default()).unwrap();
    assert_eq!(back.compliance_column.as_deref(), Some("COMPLIANCE"));
    assert_eq!(
        rows_of(&back),
        vec![
            row(2, "A1", Some("休耕"), None),
            row(3, "A2", Some("农艺调控"), Some("是")),
            row(4, "A0", Some("3"), None),
        ]
    );
    assert_eq!(back.table[1][2], Cell::Text("旧".into()));
    let info = describe_ledger(&path).unwrap();
    assert_eq!(info.encoding.as_deref(), Some("UTF-8 with BOM"));
    assert_eq!(info.delimiter, Some(','));
}

#[test]
fn a_new_xlsx_ledger_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.xlsx");
    save_measures(
        &path,
        None,
        &[edit("P2", "休耕", None), edit("P1", "安全利用", Some("是"))],
    )
    .unwrap();
    let l = read_ledger(&path, &LedgerColumns::default()).unwrap();
    assert_eq!(l.header, vec!["PARCEL_ID", "MEASURE", "COMPLIANCE"]);
    assert_eq!(
        rows_of(&l),
        vec![
            row(2, "P1", Some("安全利用"), Some("是")),
            row(3, "P2", Some("休耕"), None)
        ]
    );
}

/// A part of an `.xlsx` file (a zip of XML), as text.
fn xlsx_part(path: &Path, part: &str) -> String {
    use std::io::Read as _;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name(part)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The width of each column a worksheet's `<col>` elements set, in order (a `<col>`
/// covers columns `min..=max`).
fn col_widths(sheet_xml: &str) -> Vec<f64> {
    sheet_xml
        .split("<col ")
        .skip(1)
        .flat_map(|c| {
            let attr = |name: &str| {
                let at = c.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                c[at..c[at..].find('"').unwrap() + at].to_string()
            };
            let (min, max): (usize, usize) =
                (attr("min").parse().unwrap(), attr("max").parse().unwrap());
            vec![attr("width").parse::<f64>().unwrap(); max + 1 - min]
        })
        .collect()
}

#[test]
fn a_saved_xlsx_has_a_bold_frozen_header_and_columns_as_wide_as_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.xlsx");
    save_measures(
        &path,
        None,
        &[
            edit("abcdefghijklmnopqrst", "特定农产品禁止生产区", None),
            edit("P1", "2", None),
        ],
    )
    .unwrap();
    let sheet = xlsx_part(&path, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains("ySplit=\"1\"") && sheet.contains("state=\"frozen\""),
        "{sheet}"
    );
    let widths = col_widths(&sheet);
    // 20 Latin characters against 10 CJK ones, which take as much room.
    assert_eq!(widths.len(), 2, "{widths:?}");
    assert!(
        (widths[0] - widths[1]).abs() < 0.01 && widths[0] >= 20.0,
        "{widths:?}"
    );
    let styles = xlsx_part(&path, "xl/styles.xml");
    assert!(styles.contains("<b/>"), "a bold font: {styles}");
}

/// The one file in `dir`.
fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn a_failed_save_leaves_nothing_behind_and_the_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such folder").join("l.xlsx");
    let e = save_measures(&missing, None, &[edit("P1", "休耕", None)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no such folder"), "{e}");
    assert!(!missing.parent().unwrap().exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // A cell longer than Excel allows fails the save before the file is touched.
    let path = dir.path().join("l.xlsx");
    county_book(&path);
    let before = std::fs::read(&path).unwrap();
    let base = read_ledger(&path, &LedgerColumns::default()).unwrap();
    let long = "休".repeat(40_000);
    assert!(save_measures(&path, Some(&base), &[edit("5101", &long, None)]).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // Renaming onto a folder fails after the temporary file is written: it is removed.
    let folder = dir.path().join("folder.csv");
    std::fs::create_dir(&folder).unwrap();
    assert!(save_measures(&folder, None, &[edit("P1", "休耕", None)]).is_err());
    assert!(folder.is_dir());
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, vec!["folder.csv", "l.xlsx"]);
}

fn info(path: &Path) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_soilrisk"))
        .arg("info")
        .arg(path)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn info_describes_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("台账.xlsx");
    county_book(&path);
    let (code, out, err) = info(&path);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.contains(&"format:     Excel workbook (xlsx)"),
        "{out}"
    );
    assert!(lines.contains(&"sheets:     台账, 说明"), "{out}");
    assert!(lines.contains(&"sheet:      台账"), "{out}");
    assert!(lines.contains(&"rows:       4"), "{out}");
    assert!(lines.contains(&"columns:    4"), "{out}");
    let marked = |name: &str, role: &str| {
        lines
            .iter()
            .any(|l| l.trim_start().starts_with(name) && l.ends_with(role))
    };
    assert!(marked("图斑编号", "[id]"), "{out}");
    assert!(marked("措施类型", "[measure]"), "{out}");
    assert!(marked("是否达标", "[compliance]"), "{out}");
    assert!(lines.iter().any(|l| l.trim() == "备注"), "{out}");

    let (code, out, _) = info(&path.join("说明"));
    assert_eq!(code, 0);
    assert!(
        out.contains("sheet:      说明\n") && out.contains("rows:       1\n"),
        "{out}"
    );
    assert!(out.contains("--ledger-id-field"), "{out}");

    let csv = dir.path().join("l.csv");
    std::fs::write(&csv, encoding_rs::GBK.encode("TBBH;措施\nA;休耕\n").0).unwrap();
    let (code, out, _) = info(&csv);
    assert_eq!(code, 0);
    assert!(
        out.contains("encoding:   gb18030\n") && out.contains("delimiter:  semicolon\n"),
        "{out}"
    );

    // The encoding of a ledger is detected, never a layer's flag silently ignored.
    let o = Command::new(env!("CARGO_BIN_EXE_soilrisk"))
        .args(["info", "--encoding", "GBK"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("detected"));

    let (code, _, err) = info(&dir.path().join("x.xlsx/台账"));
    assert_eq!(code, 1);
    assert!(err.contains("not found"), "{err}");
}

/// Applying a ledger reads `.xlsx` row by row (`read_ledger_rows`, calamine's cell reader);
/// saving reads the whole sheet (`read_ledger`). Both give the same rows and columns, on the
/// county ledger, on a sheet by name whose header is not on the first row, and on a sheet
/// of only a header.
#[test]
fn reading_row_by_row_gives_what_the_whole_sheet_gives() {
    let dir = tempfile::tempdir().unwrap();
    let county = dir.path().join("county.xlsx");
    county_book(&county);
    let late = dir.path().join("late.xlsx");
    write_book(
        &late,
        &[
            ("封面", &[&[S("某县台账")]]),
            (
                "数据",
                &[
                    &[E, E],
                    &[E, S("标识码"), S("措施")],
                    &[E, S(" A-1 "), N(3.0)],
                    &[E, E, S("无")],
                    &[E, S("A-2"), S("替代种植")],
                ],
            ),
            ("空", &[&[S("TBBH"), S("MEASURE")]]),
        ],
    );
    let columns = LedgerColumns::default();
    for src in [
        county.clone(),
        dir.path().join("late.xlsx/数据"),
        dir.path().join("late.xlsx/空"),
    ] {
        let whole = read_ledger(&src, &columns).unwrap();
        let rows = soilrisk::ledger::read_ledger_rows(&src, &columns).unwrap();
        assert_eq!(rows_of(&rows), rows_of(&whole), "{}", src.display());
        assert_eq!(
            (
                &rows.id_column,
                &rows.measure_column,
                &rows.compliance_column,
                &rows.sheet
            ),
            (
                &whole.id_column,
                &whole.measure_column,
                &whole.compliance_column,
                &whole.sheet
            ),
        );
        assert!(rows.table.is_empty());
    }
    let late_rows =
        soilrisk::ledger::read_ledger_rows(&dir.path().join("late.xlsx/数据"), &columns).unwrap();
    assert_eq!(
        rows_of(&late_rows),
        vec![
            row(3, "A-1", Some("3"), None),
            row(5, "A-2", Some("替代种植"), None)
        ]
    );
    // Errors name the file as the whole-sheet reader's do.
    let bad = dir.path().join("late.xlsx/无此表");
    let e = soilrisk::ledger::read_ledger_rows(&bad, &columns)
        .unwrap_err()
        .to_string();
    assert!(e.contains("late.xlsx") && e.contains("数据"), "{e}");
    let named = LedgerColumns {
        id: Some("编号".into()),
        ..Default::default()
    };
    let e = soilrisk::ledger::read_ledger_rows(&county, &named)
        .unwrap_err()
        .to_string();
    assert!(e.contains("编号") && e.contains("county.xlsx"), "{e}");
}
