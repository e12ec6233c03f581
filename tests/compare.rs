//! `soilrisk compare`: two hand-made years whose numbers can be worked out on paper, the
//! outputs it writes, its agreement with two `analyze` runs, and its errors.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::{Rings, bin, rect, write_geojson};
use serde_json::Value;

/// Two years of one county (甲) and a parcel of another (乙), in EPSG:4544 metres.
///
/// Risk areas: before, R1 class II [0,200]x[0,200]; after, R1 and a new R2 class III
/// [300,400]x[0,100].
///
/// Parcels (areas in m²):
/// - A [0,100]x[0,100] = 10000 in R1, safe-use measure: treated. Split into A1 (the west half,
///   measure kept: treated 5000) and A2 (the east half, no measure: untreated 5000).
/// - B [100,150]x[0,100] = 5000 in R1, no measure (untreated), and C [150,200]x[0,100] = 5000,
///   strict control (treated), merged into BC [100,200]x[0,100] under strict control: treated
///   10000.
/// - D [0,100]x[200,300] = 10000, no risk: removed.
/// - E [300,400]x[0,100] = 10000, no risk, no measure; after, inside the new R2: untreated.
/// - F [0,100]x[100,200] = 10000 in R1, safe use before (treated), no measure after: lost.
/// - G [100,200]x[100,200] = 10000 in R1 (乙), safe use both years: unchanged.
/// - N [500,600]x[0,100] = 10000, new, no risk.
///
/// Before: treated 35000 (A, C, F, G), untreated 5000 (B): rate 0.875. After: treated 25000
/// (A1, BC, G), untreated 25000 (A2, E, F): rate 0.5.
///
/// The land, before × after: treated→treated 20000 (A1, C, G), treated→untreated 15000 (A2,
/// F), untreated→treated 5000 (B), no_risk→not_cultivated 10000 (D), no_risk→untreated 10000
/// (E), not_cultivated→no_risk 10000 (N).
struct Years {
    risk_before: PathBuf,
    risk_after: PathBuf,
    before: PathBuf,
    after: PathBuf,
    lineage: PathBuf,
}

fn years(dir: &Path) -> Years {
    let sq = |a, b, c, d| -> Rings { vec![rect(a, b, c, d)] };
    let y = Years {
        risk_before: dir.join("risk_2023.geojson"),
        risk_after: dir.join("risk_2024.geojson"),
        before: dir.join("parcels_2023.geojson"),
        after: dir.join("parcels_2024.geojson"),
        lineage: dir.join("lineage.csv"),
    };
    let r1 = (
        r#"{"RISK_ID":"R1","RISK_CLASS":"安全利用类"}"#,
        vec![sq(0., 0., 200., 200.)],
    );
    write_geojson(&y.risk_before, std::slice::from_ref(&r1));
    write_geojson(
        &y.risk_after,
        &[
            r1,
            (
                r#"{"RISK_ID":"R2","RISK_CLASS":"严格管控类"}"#,
                vec![sq(300., 0., 400., 100.)],
            ),
        ],
    );
    let p = |id: &str, county: &str, measure: &str| {
        format!(r#"{{"PARCEL_ID":"{id}","COUNTY":"{county}","MEASURE":"{measure}"}}"#)
    };
    let before = [
        (p("A", "甲", "农艺调控"), sq(0., 0., 100., 100.)),
        (p("B", "甲", "无"), sq(100., 0., 150., 100.)),
        (p("C", "甲", "休耕"), sq(150., 0., 200., 100.)),
        (p("D", "甲", "无"), sq(0., 200., 100., 300.)),
        (p("E", "甲", "无"), sq(300., 0., 400., 100.)),
        (p("F", "甲", "农艺调控"), sq(0., 100., 100., 200.)),
        (p("G", "乙", "农艺调控"), sq(100., 100., 200., 200.)),
    ];
    let after = [
        (p("A1", "甲", "农艺调控"), sq(0., 0., 50., 100.)),
        (p("A2", "甲", "无"), sq(50., 0., 100., 100.)),
        (p("BC", "甲", "休耕"), sq(100., 0., 200., 100.)),
        (p("E", "甲", "无"), sq(300., 0., 400., 100.)),
        (p("F", "甲", "无"), sq(0., 100., 100., 200.)),
        (p("G", "乙", "农艺调控"), sq(100., 100., 200., 200.)),
        (p("N", "甲", "无"), sq(500., 0., 600., 100.)),
    ];
    let write = |path: &Path, list: &[(String, Rings)]| {
        let features: Vec<(&str, Vec<Rings>)> = list
            .iter()
            .map(|(props, rings)| (props.as_str(), vec![rings.clone()]))
            .collect();
        write_geojson(path, &features);
    };
    write(&y.before, &before);
    write(&y.after, &after);
    std::fs::write(
        &y.lineage,
        "\u{feff}BGQTBBH,BGHTBBH\nA,A1\nA,A2\nB,BC\nC,BC\n",
    )
    .unwrap();
    y
}

fn compare(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(bin())
        .arg("compare")
        .args(args)
        .output()
        .unwrap()
}

/// `compare`'s arguments for the two years into `out`, with the before year's own risk layer
/// or not, then `extra`.
fn years_args<'a>(
    y: &'a Years,
    out: &'a Path,
    before_risk: bool,
    extra: &[&'a std::ffi::OsStr],
) -> Vec<&'a std::ffi::OsStr> {
    let mut args: Vec<&std::ffi::OsStr> = vec!["--risk".as_ref(), y.risk_after.as_os_str()];
    if before_risk {
        args.extend(["--before-risk".as_ref(), y.risk_before.as_os_str()]);
    }
    args.extend([
        "--before".as_ref(),
        y.before.as_os_str(),
        "--after".as_ref(),
        y.after.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    args.extend(extra);
    args
}

/// Runs `compare`, which must succeed: the `compare.json` it wrote into `out`.
fn compare_ok(args: &[&std::ffi::OsStr], out: &Path) -> Value {
    let o = compare(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("compare.json")).unwrap()).unwrap()
}

fn run_years(y: &Years, out: &Path, lineage: bool) -> Value {
    let mut args = years_args(y, out, true, &[]);
    if lineage {
        args.extend(["--lineage".as_ref(), y.lineage.as_os_str()]);
    }
    compare_ok(&args, out)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn assert_matrix(m: &Value, want: &[(&str, &str, f64)]) {
    let statuses = ["not_cultivated", "no_risk", "treated", "untreated"];
    for b in statuses {
        for a in statuses {
            let expected = want
                .iter()
                .find(|(x, y, _)| *x == b && *y == a)
                .map_or(0.0, |w| w.2);
            let got = m[b][a].as_f64().unwrap();
            assert!(close(got, expected), "{b} -> {a}: {got} against {expected}");
        }
    }
}

/// The changes of `changes.geojson` as (kind, after id, before ids), sorted.
fn changes(out: &Path) -> Vec<(String, String, Vec<String>)> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(out.join("changes.geojson")).unwrap()).unwrap();
    let mut list: Vec<(String, String, Vec<String>)> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["change"].as_str().unwrap().to_string(),
                p["after_id"].as_str().unwrap_or("").to_string(),
                p["before_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    list.sort();
    list
}

fn expected_changes() -> Vec<(String, String, Vec<String>)> {
    let c = |k: &str, a: &str, b: &[&str]| {
        (
            k.to_string(),
            a.to_string(),
            b.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    let mut v = vec![
        c("split", "A1", &["A"]),
        c("split", "A2", &["A"]),
        c("merged", "BC", &["B", "C"]),
        c("removed", "", &["D"]),
        c("status", "E", &["E"]),
        c("measure", "F", &["F"]),
        c("new", "N", &[]),
    ];
    v.sort();
    v
}

#[test]
fn paper_numbers_with_a_lineage_table() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    let out = dir.path().join("out");
    let j = run_years(&y, &out, true);

    assert!(close(
        j["before"]["treated_area_m2"].as_f64().unwrap(),
        35000.0
    ));
    assert!(close(
        j["before"]["contaminated_area_m2"].as_f64().unwrap(),
        40000.0
    ));
    assert!(close(
        j["after"]["treated_area_m2"].as_f64().unwrap(),
        25000.0
    ));
    assert!(close(
        j["after"]["contaminated_area_m2"].as_f64().unwrap(),
        50000.0
    ));
    assert!(close(j["rate_change"].as_f64().unwrap(), 0.5 - 0.875));
    assert_matrix(
        &j["transitions"],
        &[
            ("treated", "treated", 20000.0),
            ("treated", "untreated", 15000.0),
            ("untreated", "treated", 5000.0),
            ("no_risk", "not_cultivated", 10000.0),
            ("no_risk", "untreated", 10000.0),
            ("not_cultivated", "no_risk", 10000.0),
        ],
    );
    let c = &j["causes"];
    for (k, v) in [
        ("newly_treated_m2", 5000.0),
        ("lost_treatment_m2", 15000.0),
        ("new_risk_m2", 10000.0),
        ("new_parcels_m2", 0.0),
        ("risk_lifted_m2", 0.0),
        ("removed_parcels_m2", 0.0),
        ("treated_change_m2", -10000.0),
        ("contaminated_change_m2", 10000.0),
    ] {
        assert!(close(c[k].as_f64().unwrap(), v), "{k}: {}", c[k]);
    }
    let e = &c["rate_effects"];
    for (k, v) in [
        ("newly_treated", 0.1),
        ("lost_treatment", -0.3),
        ("new_contaminated", -0.175),
        ("contaminated_left", 0.0),
    ] {
        assert!(close(e[k].as_f64().unwrap(), v), "{k}: {}", e[k]);
    }

    // By region: 乙 holds only G, treated both years; 甲 the rest.
    let regions = j["by_region"].as_array().unwrap();
    let region = |name: &str| regions.iter().find(|r| r["region"] == name).unwrap();
    assert_matrix(
        &region("乙")["transitions"],
        &[("treated", "treated", 10000.0)],
    );
    let jia = region("甲");
    assert!(close(
        jia["rate_before"].as_f64().unwrap(),
        25000.0 / 30000.0
    ));
    assert!(close(
        jia["rate_after"].as_f64().unwrap(),
        15000.0 / 40000.0
    ));
    assert!(close(
        jia["transitions"]["treated"]["treated"].as_f64().unwrap(),
        10000.0
    ));
    assert_eq!(
        j["warnings"].as_array().unwrap().len(),
        0,
        "{}",
        j["warnings"]
    );

    assert_eq!(changes(&out), expected_changes());
    assert_eq!(j["changes"]["split"], 2);
    assert_eq!(j["changes"]["merged"], 1);

    // The county table adds last year's rate, the change and the land behind it.
    let csv = std::fs::read_to_string(out.join("regions.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.ends_with(
            "上年安全利用率,安全利用率变化,新增落实(亩),失去落实(亩),新增受污染(亩),移出受污染(亩)"
        ),
        "{header}"
    );
    let jia_row = lines.find(|l| l.starts_with("甲,")).unwrap();
    let cells: Vec<&str> = jia_row.split(',').collect();
    assert_eq!(cells[6], "37.50%");
    assert_eq!(cells[10], "83.33%");
    assert_eq!(cells[11], "-45.83%");
    let mu = |m2: f64| format!("{:.2}", m2 / (10000.0 / 15.0));
    assert_eq!(cells[12], mu(5000.0));
    assert_eq!(cells[13], mu(15000.0));
}

/// Without the lineage table the parcels are matched by id, then by largest overlap: the
/// split and the merge are found all the same, and the land does not depend on matching.
#[test]
fn without_a_lineage_table_overlaps_match_the_parcels() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    let with = run_years(&y, &dir.path().join("with"), true);
    let out = dir.path().join("without");
    let without = run_years(&y, &out, false);
    assert_eq!(changes(&out), expected_changes());
    assert_eq!(with["transitions"], without["transitions"]);
}

/// `compare`'s two summaries are the two `analyze` runs' `summary.json`, bit for bit.
#[test]
fn before_and_after_are_what_analyze_writes() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    let j = run_years(&y, &dir.path().join("cmp"), true);
    let sb = common::analyze_summary(&y.risk_before, &y.before, &dir.path().join("b"));
    let sa = common::analyze_summary(&y.risk_after, &y.after, &dir.path().join("a"));
    assert_eq!(j["before"], sb);
    assert_eq!(j["after"], sa);
}

#[test]
fn a_lineage_table_without_its_columns_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    std::fs::write(&y.lineage, "OLD,NEW\nA,A1\n").unwrap();
    let out = dir.path().join("out");
    let o = compare(&years_args(
        &y,
        &out,
        false,
        &["--lineage".as_ref(), y.lineage.as_os_str()],
    ));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("lineage.csv"), "{err}");
    assert!(err.contains("--lineage-before-field"), "{err}");
    assert!(!out.join("compare.json").exists());

    // Named, the columns are found.
    let o = compare(&years_args(
        &y,
        &out,
        false,
        &[
            "--lineage".as_ref(),
            y.lineage.as_os_str(),
            "--lineage-before-field".as_ref(),
            "old".as_ref(),
            "--lineage-after-field".as_ref(),
            "NEW".as_ref(),
        ],
    ));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn ids_of_the_lineage_table_in_neither_year_are_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    std::fs::write(&y.lineage, "BGQTBBH,BGHTBBH\nA,A1\nA,A2\nX9,BC\n").unwrap();
    let j = run_years(&y, &dir.path().join("out"), true);
    let w = j["warnings"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|w| w.as_str().unwrap().contains("\"X9\" (")
                && w.as_str().unwrap().contains("row 4")),
        "{w:?}"
    );
}

#[test]
fn outputs_never_replace_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    // An output folder holding the lineage table under an output's name.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lineage = out.join("regions.csv");
    std::fs::copy(&y.lineage, &lineage).unwrap();
    let before = std::fs::read(&lineage).unwrap();
    let o = compare(&years_args(
        &y,
        &out,
        false,
        &["--lineage".as_ref(), lineage.as_os_str()],
    ));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&lineage).unwrap(), before);
}

/// A generated second year: `compare` finds every change the generator made (with the
/// lineage table and without it), the land's rows and columns add up to each year's totals,
/// and the two summaries are `analyze`'s.
#[test]
fn a_generated_second_year() {
    use soilrisk::sample::{SampleOptions, write_sample};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let report = write_sample(
        &data,
        &SampleOptions {
            parcels: 3000,
            seed: 7,
        },
    )
    .unwrap();
    let second = &report.second_year;
    let run = |out: &Path, lineage: bool| -> Value {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--risk".as_ref(),
            second.risk_path.as_os_str(),
            "--before-risk".as_ref(),
            report.risk_path.as_os_str(),
            "--before".as_ref(),
            report.parcels_path.as_os_str(),
            "--after".as_ref(),
            second.parcels_path.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        if lineage {
            args.extend(["--lineage".as_ref(), second.lineage_path.as_os_str()]);
        }
        compare_ok(&args, out)
    };
    let with = run(&dir.path().join("with"), true);
    let without = run(&dir.path().join("without"), false);
    for j in [&with, &without] {
        let n = |k: &str| j["changes"][k].as_u64().unwrap() as usize;
        assert_eq!(n("split"), 2 * second.splits);
        assert_eq!(n("merged"), second.merges);
        assert_eq!(n("removed"), second.removals);
        assert_eq!(n("new"), second.new_parcels);
        assert_eq!(n("measure"), second.measure_changes);
        assert_eq!(n("geometry"), 0);
        assert!(
            n("status") > 0,
            "new risk areas change some parcels' status"
        );
    }
    assert_eq!(with["transitions"], without["transitions"]);
    assert_eq!(
        with["warnings"].as_array().unwrap().len(),
        0,
        "{}",
        with["warnings"]
    );

    // Rows and columns against each year's own totals.
    let t = &with["transitions"];
    let statuses = ["not_cultivated", "no_risk", "treated", "untreated"];
    let row = |s: &str| {
        statuses
            .iter()
            .map(|a| t[s][a].as_f64().unwrap())
            .sum::<f64>()
    };
    let col = |s: &str| {
        statuses
            .iter()
            .map(|b| t[b][s].as_f64().unwrap())
            .sum::<f64>()
    };
    for (year, side) in [("before", &row as &dyn Fn(&str) -> f64), ("after", &col)] {
        let s = &with[year];
        let scale = s["contaminated_area_m2"].as_f64().unwrap();
        let treated = s["treated_area_m2"].as_f64().unwrap();
        let untreated = s["untreated_area_m2"].as_f64().unwrap();
        let no_risk = s["cultivated_area_m2"].as_f64().unwrap() - treated - untreated;
        for (status, want) in [
            ("treated", treated),
            ("untreated", untreated),
            ("no_risk", no_risk),
        ] {
            let got = side(status);
            assert!(
                (got - want).abs() <= 1e-6 * scale,
                "{year} {status}: {got} against {want}"
            );
        }
    }
    // The causes add up to each year's change.
    let c = &with["causes"];
    let (b, a) = (&with["before"], &with["after"]);
    let d = |k: &str| a[k].as_f64().unwrap() - b[k].as_f64().unwrap();
    let scale = a["contaminated_area_m2"].as_f64().unwrap();
    assert!(
        (c["treated_change_m2"].as_f64().unwrap() - d("treated_area_m2")).abs() <= 1e-6 * scale
    );
    assert!(
        (c["contaminated_change_m2"].as_f64().unwrap() - d("contaminated_area_m2")).abs()
            <= 1e-6 * scale
    );

    // Each year as `analyze` writes it, bit for bit.
    let sb = common::analyze_summary(
        &report.risk_path,
        &report.parcels_path,
        &dir.path().join("b"),
    );
    let sa = common::analyze_summary(
        &second.risk_path,
        &second.parcels_path,
        &dir.path().join("a"),
    );
    assert_eq!(with["before"], sb);
    assert_eq!(with["after"], sa);
}

/// The lineage table read from a workbook (a named sheet), a `.dbf` and a layer's attribute
/// table (the land change survey's update-process layer has polygons) gives the same
/// changes as the CSV.
#[test]
fn lineage_tables_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    let rows = [("A", "A1"), ("A", "A2"), ("B", "BC"), ("C", "BC")];

    let xlsx = dir.path().join("lineage.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("更新过程").unwrap();
    ws.write_string(0, 0, "说明").unwrap(); // a first column the table does not use
    ws.write_string(0, 1, "变更前图斑编号").unwrap();
    ws.write_string(0, 2, "变更后图斑编号").unwrap();
    for (i, (b, a)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 1, *b).unwrap();
        ws.write_string(r, 2, *a).unwrap();
    }
    book.save(&xlsx).unwrap();

    let dbf = dir.path().join("gxgc.dbf");
    common::write_dbf(
        &dbf,
        &[("BGQTBBH", 10), ("BGHTBBH", 10)],
        &rows
            .iter()
            .map(|(b, a)| vec![b.as_bytes().to_vec(), a.as_bytes().to_vec()])
            .collect::<Vec<_>>(),
        0x57,
    );

    let layer = dir.path().join("gxgc.geojson");
    let props: Vec<String> = rows
        .iter()
        .map(|(b, a)| format!(r#"{{"BGQTBBH":"{b}","BGHTBBH":"{a}"}}"#))
        .collect();
    let features: Vec<(&str, Vec<Rings>)> = props
        .iter()
        .map(|p| (p.as_str(), vec![vec![rect(0., 0., 1., 1.)]]))
        .collect();
    write_geojson(&layer, &features);

    for (k, table) in [xlsx.join("更新过程"), dbf.clone(), layer.clone()]
        .iter()
        .enumerate()
    {
        let out = dir.path().join(format!("out{k}"));
        let o = compare(&years_args(
            &y,
            &out,
            true,
            &["--lineage".as_ref(), table.as_os_str()],
        ));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            table.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(changes(&out), expected_changes(), "{}", table.display());
    }
}

/// Each year takes its own ledgers: an after-year ledger giving F back its measure leaves F
/// treated, so no treatment is lost there.
#[test]
fn each_year_takes_its_own_ledgers() {
    let dir = tempfile::tempdir().unwrap();
    let y = years(dir.path());
    let ledger = dir.path().join("ledger_2024.csv");
    std::fs::write(&ledger, "图斑编号,措施类型\nF,农艺调控\n").unwrap();
    let out = dir.path().join("out");
    let j: Value = compare_ok(
        &years_args(
            &y,
            &out,
            true,
            &["--after-ledger".as_ref(), ledger.as_os_str()],
        ),
        &out,
    );
    assert!(close(
        j["after"]["treated_area_m2"].as_f64().unwrap(),
        35000.0
    ));
    assert!(close(
        j["causes"]["lost_treatment_m2"].as_f64().unwrap(),
        5000.0
    ));
    assert!(close(
        j["transitions"]["treated"]["treated"].as_f64().unwrap(),
        30000.0
    ));
    assert!(!changes(&out).iter().any(|c| c.1 == "F"));
}

/// The window compares analyses that keep every parcel (`KeepParcels::All`); the command line
/// keeps shapes and reads back the geometry it needs (`KeepParcels::Shapes`). Both give the
/// same land and the same changes, bit for bit, on the bundled sample's two years.
#[test]
fn keeping_shapes_compares_as_keeping_everything() {
    use soilrisk::compare::{Comparison, Lineage, LineageColumns, restore_needed};
    use soilrisk::pipeline::{Control, KeepParcels, Request, run};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let lineage = Lineage::read(&dir.join("lineage_2024.csv"), &LineageColumns::default()).unwrap();
    let years = |keep: KeepParcels| {
        let mut before = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
        let mut after = Request::new(
            dir.join("risk_areas_2024.shp"),
            dir.join("parcels_2024.shp"),
        );
        before.keep_parcels = keep;
        after.keep_parcels = keep;
        let mut b = run(&before, Control::default()).unwrap();
        let mut a = run(&after, Control::default()).unwrap();
        restore_needed(
            &before,
            &mut b,
            &after,
            &mut a,
            Some(&lineage),
            Control::default(),
        )
        .unwrap();
        let c = Comparison::new(&b, &a, false, Some(&lineage), Control::default()).unwrap();
        let ids =
            |y: &soilrisk::pipeline::Analysis, k: u32| y.parcel_info[k as usize].id.to_string();
        let changes: Vec<(String, Option<String>, Vec<String>)> = c
            .matches
            .changes
            .iter()
            .map(|ch| {
                (
                    ch.kind.code().to_string(),
                    ch.after.map(|k| ids(&a, k)),
                    ch.before.iter().map(|&k| ids(&b, k)).collect(),
                )
            })
            .collect();
        (c.transitions, c.by_region, c.regions, changes)
    };
    let all = years(KeepParcels::All);
    let shapes = years(KeepParcels::Shapes);
    assert_eq!(all.0, shapes.0);
    assert_eq!(all.1, shapes.1);
    assert_eq!(all.2, shapes.2);
    assert_eq!(all.3, shapes.3);
    assert!(all.3.len() > 3000);
}

/// Parcels of one year that overlap: their shared land is counted once for each (as the
/// accounting counts it), and the warning names that year, its layer and the area.
#[test]
fn overlapping_parcels_are_warned_of_in_their_own_year() {
    let dir = tempfile::tempdir().unwrap();
    let sq = |a, b, c, d| -> Rings { vec![rect(a, b, c, d)] };
    let risk = dir.path().join("risk.geojson");
    write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R","RISK_CLASS":"2"}"#,
            vec![sq(1000., 1000., 1100., 1100.)],
        )],
    );
    let before = dir.path().join("before_year.geojson");
    let after = dir.path().join("after_year.geojson");
    // X and Y share [50,100]x[0,100] = 5000 m²; Z covers both once.
    write_geojson(
        &before,
        &[
            (
                r#"{"PARCEL_ID":"X","COUNTY":"甲","MEASURE":"无"}"#,
                vec![sq(0., 0., 100., 100.)],
            ),
            (
                r#"{"PARCEL_ID":"Y","COUNTY":"甲","MEASURE":"无"}"#,
                vec![sq(50., 0., 150., 100.)],
            ),
        ],
    );
    write_geojson(
        &after,
        &[(
            r#"{"PARCEL_ID":"Z","COUNTY":"甲","MEASURE":"无"}"#,
            vec![sq(0., 0., 150., 100.)],
        )],
    );
    let out = dir.path().join("out");
    let j: Value = compare_ok(
        &[
            "--risk".as_ref(),
            risk.as_os_str(),
            "--before".as_ref(),
            before.as_os_str(),
            "--after".as_ref(),
            after.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        &out,
    );
    assert!(close(
        j["transitions"]["no_risk"]["no_risk"].as_f64().unwrap(),
        20000.0
    ));
    assert!(close(
        j["before"]["cultivated_area_m2"].as_f64().unwrap(),
        20000.0
    ));
    let w: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        w.iter().any(|w| w.contains("before year")
            && w.contains("before_year.geojson")
            && w.contains("5000.0 m²")),
        "{w:?}"
    );
    assert!(!w.iter().any(|w| w.contains("after year overlap")), "{w:?}");
    // Z came from both.
    assert_eq!(
        changes(&out),
        vec![(
            "merged".to_string(),
            "Z".to_string(),
            vec!["X".to_string(), "Y".to_string()]
        )]
    );
}
