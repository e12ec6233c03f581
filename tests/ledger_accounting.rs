//! Ledgers applied to an analysis (`--ledger`): rows override the layer's measures and
//! compliance by parcel id, across several ledgers in different formats and encodings, with
//! the product contract's rules for unmatched ids, repeats and conflicts. Hand-made layers
//! whose numbers are worked out on paper; the `.xlsx` is written by rust_xlsxwriter and the
//! GBK text by encoding_rs, neither of them ours.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Rings, rect, write_geojson};
use rust_xlsxwriter::Workbook;
use soilrisk::pipeline::{AnalysisError, Control, Request, Role, run};

/// Risk areas: R1 class II [0,100]², R2 class III [100,200]×[0,100], R3 class I
/// [300,400]×[0,100]. Parcels, each 30×30 = 900 m² inside one class:
/// - P1 in class II, no measure in the layer;
/// - P2 in class III, 农艺调控 (safe use: not enough for class III);
/// - P3 in class I, 优先保护;
/// - P4 in class II, 替代种植.
///
/// E = 3600. From the layer alone: P3 (B 900) and P4 (C 900) treated, rate 0.5.
fn layers(dir: &Path, with_measure: bool) -> (PathBuf, PathBuf) {
    let (risk, parcels) = (dir.join("risk.geojson"), dir.join("parcels.geojson"));
    let sq = |a, b, c, d| -> Rings { vec![rect(a, b, c, d)] };
    write_geojson(
        &risk,
        &[
            (
                r#"{"RISK_ID":"R1","RISK_CLASS":"2"}"#,
                vec![sq(0., 0., 100., 100.)],
            ),
            (
                r#"{"RISK_ID":"R2","RISK_CLASS":"3"}"#,
                vec![sq(100., 0., 200., 100.)],
            ),
            (
                r#"{"RISK_ID":"R3","RISK_CLASS":"1"}"#,
                vec![sq(300., 0., 400., 100.)],
            ),
        ],
    );
    let props = |id: &str, m: &str| {
        if with_measure {
            format!(r#"{{"PARCEL_ID":"{id}","COUNTY":"A","MEASURE":"{m}"}}"#)
        } else {
            format!(r#"{{"PARCEL_ID":"{id}","COUNTY":"A"}}"#)
        }
    };
    let (p1, p2, p3, p4) = (
        props("P1", ""),
        props("P2", "农艺调控"),
        props("P3", "优先保护"),
        props("P4", "替代种植"),
    );
    write_geojson(
        &parcels,
        &[
            (&p1, vec![sq(10., 10., 40., 40.)]),
            (&p2, vec![sq(110., 10., 140., 40.)]),
            (&p3, vec![sq(310., 10., 340., 40.)]),
            (&p4, vec![sq(10., 60., 40., 90.)]),
        ],
    );
    (risk, parcels)
}

/// Ledger A, an .xlsx: P1 农艺调控 complied; P4 替代种植 not complied; X9 matches nothing; P1
/// again, identical.
fn ledger_a(dir: &Path) -> PathBuf {
    let path = dir.join("双流区台账.xlsx");
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let rows = [
        ["图斑编号", "措施类型", "是否达标"],
        ["P1", "农艺调控", "是"],
        ["P4", "替代种植", "否"],
        ["X9", "无", "是"],
        ["P1", "农艺调控", "是"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    book.save(&path).unwrap();
    path
}

/// Ledger B, a GBK .csv without BOM, as Excel saves it on a Chinese Windows: P2 休耕; X8.
fn ledger_b(dir: &Path) -> PathBuf {
    let path = dir.join("郫都区台账.csv");
    let text = "TBBH,措施\r\nP2,休耕\r\nX8,无\r\n";
    let (bytes, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    std::fs::write(&path, &bytes).unwrap();
    path
}

fn write_utf8_bom(path: &Path, text: &str) {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(text.as_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn two_ledgers_override_the_layer_by_parcel_id() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path(), true);
    let base = run(&Request::new(&risk, &parcels), Control::default())
        .unwrap()
        .summary(0.94);
    assert_eq!(base.treated_area_m2, 1800.0);

    let mut req = Request::new(&risk, &parcels);
    req.ledgers = vec![ledger_a(dir.path()), ledger_b(dir.path())];
    let a = run(&req, Control::default()).unwrap();
    let s = a.summary(0.94);
    // P1 now treated (C), P2 strict control (D), P3 kept from the layer (B), P4 not complied.
    assert_eq!(
        (
            s.priority_treated_area_m2,
            s.safe_use_treated_area_m2,
            s.strict_control_treated_area_m2
        ),
        (900.0, 900.0, 900.0)
    );
    assert_eq!(s.treated_area_m2, 2700.0);
    assert_eq!(s.safe_utilization_rate, Some(0.75));
    let p2 = a.parcel_info.iter().find(|i| &*i.id == "P2").unwrap();
    assert_eq!(&*p2.measure_text, "休耕");
    // One warning per ledger for the ids that match no parcel; the repeat of P1 is silent.
    let unmatched: Vec<&String> = a
        .warnings
        .iter()
        .filter(|w| w.contains("match no parcel"))
        .collect();
    assert_eq!(unmatched.len(), 2, "{:?}", a.warnings);
    assert!(unmatched[0].contains("双流区台账.xlsx") && unmatched[0].contains("1 parcel id(s)"));
    assert!(unmatched[0].contains("\"X9\""), "{}", unmatched[0]);
    assert!(unmatched[1].contains("郫都区台账.csv") && unmatched[1].contains("\"X8\""));
    assert_eq!(a.ledgers.len(), 2);
    assert_eq!(a.ledgers[0].measure_column.as_deref(), Some("措施类型"));
}

#[test]
fn a_layer_without_measures_takes_them_from_a_utf8_ledger_with_bom() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path(), false);
    // Without a ledger the missing measure field is an error naming the field.
    let e = run(&Request::new(&risk, &parcels), Control::default()).unwrap_err();
    assert!(
        matches!(
            e,
            AnalysisError::MissingField {
                role: Role::Measure,
                ..
            }
        ),
        "{e}"
    );
    let ledger = dir.path().join("ledger.csv");
    write_utf8_bom(
        &ledger,
        "PARCEL_ID;MEASURE\nP3;优先保护\n\"P4\";\"替代种植\"\n",
    );
    let mut req = Request::new(&risk, &parcels);
    req.ledgers = vec![ledger];
    let s = run(&req, Control::default()).unwrap().summary(0.94);
    // P3 (B) and P4 (C); P1 and P2 have no row and so no measure.
    assert_eq!(s.treated_area_m2, 1800.0);
    assert_eq!(s.priority_treated_area_m2, 900.0);
    assert!(s.warnings.iter().all(|w| !w.contains("match no parcel")));
}

#[test]
fn rows_that_disagree_are_an_error_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path(), true);
    let other = dir.path().join("other.csv");
    write_utf8_bom(&other, "PARCEL_ID,MEASURE\nP9,无\nP2,农艺调控\n");
    let mut req = Request::new(&risk, &parcels);
    req.ledgers = vec![ledger_b(dir.path()), other];
    let e = run(&req, Control::default()).unwrap_err().to_string();
    assert!(e.contains("\"P2\""), "{e}");
    assert!(
        e.contains("郫都区台账.csv row 2") && e.contains("other.csv row 3"),
        "{e}"
    );
    assert!(e.contains("休耕") && e.contains("农艺调控"), "{e}");
}

#[test]
fn an_unknown_measure_in_a_ledger_is_the_mapping_error() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path(), true);
    let ledger = dir.path().join("ledger.csv");
    write_utf8_bom(&ledger, "图斑编号,措施\nP1,施用钝化剂\nP2,施用钝化剂\n");
    let mut req = Request::new(&risk, &parcels);
    req.ledgers = vec![ledger.clone()];
    match run(&req, Control::default()).unwrap_err() {
        AnalysisError::UnknownValues(u) => {
            assert_eq!(u.path, ledger);
            assert_eq!(u.role, Role::Measure);
            assert_eq!(u.field, "措施");
            assert_eq!(u.values, vec![("施用钝化剂".to_string(), 2)]);
        }
        e => panic!("{e}"),
    }
    // The user's mapping applies to ledgers as to layers.
    req.maps.add_measure("施用钝化剂=safe_use").unwrap();
    let s = run(&req, Control::default()).unwrap().summary(0.94);
    assert_eq!(s.safe_use_treated_area_m2, 1800.0); // P1 and P4
}

/// The command line: `--ledger` twice gives the ledgers' rate; a damaged workbook fails with
/// its name and leaves the outputs of the run before as they were.
#[test]
fn the_command_line_takes_ledgers_and_a_damaged_one_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path(), true);
    let out = dir.path().join("out");
    let analyze = |ledgers: &[&Path]| {
        let mut cmd = Command::new(common::bin());
        cmd.args(["analyze", "--risk"])
            .arg(&risk)
            .arg("--parcels")
            .arg(&parcels)
            .arg("--out")
            .arg(&out);
        for l in ledgers {
            cmd.arg("--ledger").arg(l);
        }
        cmd.output().unwrap()
    };
    let (a, b) = (ledger_a(dir.path()), ledger_b(dir.path()));
    let ok = analyze(&[&a, &b]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let summary = std::fs::read(out.join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&summary).unwrap();
    assert_eq!(json["safe_utilization_rate"], 0.75);
    assert_eq!(json["strict_control_treated_area_m2"], 900.0);

    let damaged = dir.path().join("坏的.xlsx");
    let bytes = std::fs::read(&a).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let failed = analyze(&[&damaged]);
    assert_eq!(failed.status.code(), Some(1));
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("坏的.xlsx"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), summary);
}

/// A measure from one ledger and the compliance from another, for the same parcels, add up:
/// they do not disagree.
#[test]
fn a_measure_ledger_and_a_compliance_ledger_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path(), true);
    let measures = dir.path().join("measures.csv");
    write_utf8_bom(&measures, "PARCEL_ID,MEASURE\nP1,农艺调控\nP4,替代种植\n");
    let compliance = dir.path().join("compliance.csv");
    write_utf8_bom(&compliance, "PARCEL_ID,是否达标\nP1,是\nP4,否\n");
    let mut req = Request::new(&risk, &parcels);
    req.ledgers = vec![measures, compliance];
    let s = run(&req, Control::default()).unwrap().summary(0.94);
    // P1 treated (C 900), P4 not complied; P3 from the layer (B 900).
    assert_eq!(s.safe_use_treated_area_m2, 900.0);
    assert_eq!(s.treated_area_m2, 1800.0);
}

/// The window's own saved edits (`Request::measure_edits`) win over the ledgers' rows instead
/// of disagreeing with them.
#[test]
fn saved_edits_override_the_ledgers() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path(), true);
    let edits = dir.path().join("edits.csv");
    write_utf8_bom(&edits, "PARCEL_ID,MEASURE\nP2,农艺调控\n");
    let mut req = Request::new(&risk, &parcels);
    req.ledgers = vec![ledger_b(dir.path())];
    req.measure_edits = vec![edits];
    let a = run(&req, Control::default()).unwrap();
    let p2 = a.parcel_info.iter().find(|i| &*i.id == "P2").unwrap();
    assert_eq!(&*p2.measure_text, "农艺调控");
    assert_eq!(a.summary(0.94).strict_control_treated_area_m2, 0.0);
}
