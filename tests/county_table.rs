//! The county table (`regions.csv`, `tables.xlsx`) that `analyze` writes for the bundled
//! sample, read back by readers we did not write (calamine for the workbook, a plain split
//! for the CSV) and checked against `summary.json` row by row.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use serde_json::Value;
use soilrisk::stats::M2_PER_MU;

const HEADERS: [&str; 10] = [
    "行政区",
    "代码",
    "受污染耕地面积(亩)",
    "优先保护类已落实(亩)",
    "安全利用类已落实且达标(亩)",
    "严格管控类已落实(亩)",
    "安全利用率",
    "目标",
    "距目标缺口(亩)",
    "未落实图斑数",
];

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(name)
}

/// `analyze` on the bundled sample into `out`, with `extra` flags.
fn analyze(out: &Path, extra: &[&str]) {
    let o = common::analyze(
        &sample("risk_areas.shp"),
        &sample("parcels.shp"),
        out,
        extra,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    for f in ["regions.csv", "tables.xlsx"] {
        assert!(stdout.contains(&format!("wrote {}", out.join(f).display())));
    }
}

fn summary_json(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// The `汇总` sheet as calamine reads it.
fn sheet(path: &Path) -> calamine::Range<Data> {
    let mut book = calamine::open_workbook_auto(path).unwrap();
    assert_eq!(book.sheet_names(), vec!["汇总", "说明"]);
    // The notes say which area basis the table counts, as summary.json does.
    let notes = book.worksheet_range("说明").unwrap();
    let basis = notes
        .rows()
        .find(|r| matches!(r.first(), Some(Data::String(s)) if s == "面积口径"))
        .and_then(|r| r.get(1).map(|c| c.to_string()))
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path.with_file_name("summary.json")).unwrap())
            .unwrap();
    let want = format!("[{}]", json["area_basis"].as_str().unwrap());
    assert!(basis.ends_with(&want), "{basis} vs {want}");
    book.worksheet_range("汇总").unwrap()
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("{other:?} is not a number"),
    }
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("{other:?} is not text"),
    }
}

/// A table row as numbers: E, B, C, D (亩), rate (fraction, or None), target, gap (亩),
/// untreated parcels.
#[derive(Debug, Clone, PartialEq)]
struct Numbers {
    name: String,
    code: String,
    e: f64,
    b: f64,
    c: f64,
    d: f64,
    rate: Option<f64>,
    target: f64,
    gap: f64,
    untreated: f64,
}

fn xlsx_rows(range: &calamine::Range<Data>) -> Vec<Numbers> {
    range
        .rows()
        .skip(1)
        .map(|r| Numbers {
            name: text(&r[0]),
            code: text(&r[1]),
            e: number(&r[2]),
            b: number(&r[3]),
            c: number(&r[4]),
            d: number(&r[5]),
            rate: (r[6] != Data::Empty).then(|| number(&r[6])),
            target: number(&r[7]),
            gap: number(&r[8]),
            untreated: number(&r[9]),
        })
        .collect()
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Numbers>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\xef\xbb\xbf"),
        "regions.csv starts with a BOM"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let pct = |s: &str| -> Option<f64> {
        (!s.is_empty()).then(|| s.strip_suffix('%').unwrap().parse::<f64>().unwrap() / 100.0)
    };
    let rows = lines
        .map(|l| {
            // The sample's names hold no comma, so no field is quoted.
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 10, "{l}");
            for area in [f[2], f[3], f[4], f[5], f[8]] {
                let decimals = area.split('.').nth(1).map_or(0, str::len);
                assert_eq!(decimals, 2, "{area} in {l}");
            }
            Numbers {
                name: f[0].into(),
                code: f[1].into(),
                e: f[2].parse().unwrap(),
                b: f[3].parse().unwrap(),
                c: f[4].parse().unwrap(),
                d: f[5].parse().unwrap(),
                rate: pct(f[6]),
                target: pct(f[7]).unwrap(),
                gap: f[8].parse().unwrap(),
                untreated: f[9].parse().unwrap(),
            }
        })
        .collect();
    (header, rows)
}

/// A `summary.json` object (a region, or the province) as a row, in 亩.
fn from_json(name: &str, code: &str, o: &Value, target: f64) -> Numbers {
    let mu = |k: &str| o[k].as_f64().unwrap() / M2_PER_MU;
    Numbers {
        name: name.into(),
        code: code.into(),
        e: mu("contaminated_area_m2"),
        b: mu("priority_treated_area_m2"),
        c: mu("safe_use_treated_area_m2"),
        d: mu("strict_control_treated_area_m2"),
        rate: o["safe_utilization_rate"].as_f64(),
        target,
        gap: mu("gap_to_target_m2"),
        untreated: o["untreated_parcels"].as_f64().unwrap(),
    }
}

/// Whether two rows agree to `tol` (亩, and fractions of it for rates).
fn agree(a: &Numbers, b: &Numbers, tol: f64) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= tol;
    a.name == b.name
        && a.code == b.code
        && close(a.e, b.e)
        && close(a.b, b.b)
        && close(a.c, b.c)
        && close(a.d, b.d)
        && match (a.rate, b.rate) {
            (Some(x), Some(y)) => (x - y).abs() <= tol / 100.0,
            (x, y) => x == y,
        }
        && close(a.target, b.target)
        && close(a.gap, b.gap)
        && a.untreated == b.untreated
}

#[test]
fn the_table_is_the_summary_row_by_row_in_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze(&out, &[]);
    let json = summary_json(&out);
    let target = json["target_rate"].as_f64().unwrap();
    let regions = json["by_region"].as_array().unwrap();
    let mut expected: Vec<Numbers> = regions
        .iter()
        .map(|r| from_json(r["region"].as_str().unwrap(), "", r, target))
        .collect();
    expected.push(from_json("合计", "", &json, target));
    // The sample's regions are names without codes: no subtotals.
    assert_eq!(expected.len(), regions.len() + 1);
    assert!(json["untreated_parcels"].as_u64().unwrap() > 0);

    let range = sheet(&out.join("tables.xlsx"));
    let header: Vec<String> = range.rows().next().unwrap().iter().map(text).collect();
    assert_eq!(header, HEADERS);
    let book = xlsx_rows(&range);
    assert_eq!(book.len(), expected.len());
    for (got, want) in book.iter().zip(&expected) {
        // Numbers as numbers, at full precision.
        assert!(agree(got, want, 1e-9), "{got:?}\n{want:?}");
        // B + C + D = treated.
        let treated = got.b + got.c + got.d;
        if let Some(rate) = got.rate {
            assert!((treated / got.e - rate).abs() < 1e-12, "{got:?}");
        }
    }
    for r in regions {
        let json_treated = r["treated_area_m2"].as_f64().unwrap();
        let bcd: f64 = [
            "priority_treated_area_m2",
            "safe_use_treated_area_m2",
            "strict_control_treated_area_m2",
        ]
        .iter()
        .map(|k| r[k].as_f64().unwrap())
        .sum();
        assert!((json_treated - bcd).abs() < 1e-6);
    }
    // The counties' untreated parcels add up to the province's.
    let counted: f64 = book[..regions.len()].iter().map(|r| r.untreated).sum();
    assert_eq!(counted, book.last().unwrap().untreated);

    let (csv_header, csv) = csv_rows(&out.join("regions.csv"));
    assert_eq!(csv_header, HEADERS);
    assert_eq!(csv.len(), expected.len());
    for (got, want) in csv.iter().zip(&expected) {
        // Two decimals: within half a hundredth of a 亩, of a percentage point.
        assert!(agree(got, want, 0.005 + 1e-9), "{got:?}\n{want:?}");
    }

    // The number formats the cells are shown in, in the workbook's styles.
    let styles = zip_member(&out.join("tables.xlsx"), "xl/styles.xml");
    for f in ["formatCode=\"0.00\"", "formatCode=\"0.00%\""] {
        assert!(styles.contains(f), "{f} in {styles}");
    }
    let sheet_xml = zip_member(&out.join("tables.xlsx"), "xl/worksheets/sheet1.xml");
    assert!(
        sheet_xml.contains(
            "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
        ),
        "the header row is frozen: {sheet_xml}"
    );
}

fn zip_member(path: &Path, member: &str) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(member).unwrap(), &mut text).unwrap();
    text
}

#[test]
fn prefecture_subtotals_are_the_sums_of_their_counties() {
    // The sample's county layer gives names and codes, and with them subtotals per
    // prefecture.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let counties = sample("counties.shp");
    analyze(
        &out,
        &[
            "--regions",
            counties.to_str().unwrap(),
            "--regions-name-field",
            "NAME",
            "--regions-code-field",
            "CODE",
        ],
    );
    let json = summary_json(&out);
    let regions = json["by_region"].as_array().unwrap();
    let book = xlsx_rows(&sheet(&out.join("tables.xlsx")));
    let (counties, rest) = book.split_at(regions.len());
    let (subtotals, total) = rest.split_at(rest.len() - 1);
    assert!(counties.iter().all(|r| r.code.len() == 6));
    assert_eq!(
        (counties[0].name.as_str(), counties[0].code.as_str()),
        ("郫都区", "510117")
    );
    let mut prefectures: Vec<&str> = counties.iter().map(|r| &r.code[..4]).collect();
    prefectures.dedup();
    assert!(prefectures.len() > 1, "{prefectures:?}");
    assert_eq!(
        subtotals.iter().map(|s| s.code.clone()).collect::<Vec<_>>(),
        prefectures
            .iter()
            .map(|p| format!("{p}00"))
            .collect::<Vec<_>>(),
        "one subtotal per prefecture, by code"
    );
    assert_eq!(subtotals[0].name, "成都市小计");
    for s in subtotals {
        assert!(s.name.ends_with("小计"), "{}", s.name);
        let mine: Vec<&Numbers> = counties
            .iter()
            .filter(|c| c.code[..4] == s.code[..4])
            .collect();
        let sum = |f: fn(&Numbers) -> f64| mine.iter().map(|r| f(r)).sum::<f64>();
        for (what, got, want) in [
            ("E", s.e, sum(|r| r.e)),
            ("B", s.b, sum(|r| r.b)),
            ("C", s.c, sum(|r| r.c)),
            ("D", s.d, sum(|r| r.d)),
            ("untreated parcels", s.untreated, sum(|r| r.untreated)),
        ] {
            assert!(
                (got - want).abs() < 1e-6,
                "{} {what}: {got} vs {want}",
                s.name
            );
        }
        let treated = s.b + s.c + s.d;
        if s.e > 0.0 {
            assert!((s.rate.unwrap() - treated / s.e).abs() < 1e-12);
        }
        let gap = (s.target * s.e - treated).max(0.0);
        assert!((s.gap - gap).abs() < 1e-6, "{}", s.name);
    }
    // The subtotals cover every county, so they add up to the total.
    let e: f64 = subtotals.iter().map(|s| s.e).sum();
    assert!((e - total[0].e).abs() < 1e-6);
    assert_eq!(total[0].name, "合计");
    let target = json["target_rate"].as_f64().unwrap();
    assert!(agree(
        &total[0],
        &from_json("合计", "", &json, target),
        1e-9
    ));
}

#[test]
fn analyze_twice_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    analyze(&a, &[]);
    // rust_xlsxwriter stamps the time to the second unless told otherwise.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    analyze(&b, &[]);
    for f in ["tables.xlsx", "regions.csv", "summary.json"] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs"
        );
    }
}
