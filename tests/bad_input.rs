//! Rows of the bad-input matrix: damaged record framing (zero padding, garbage between
//! records, trailing garbage, record numbers from 0), a DBF renamed `.shp`, and GeoJSON with
//! other geometry types mixed in. Each opens with the right features and a warning naming
//! what was skipped, or is refused naming the file.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};

use soilrisk::error::LayerError;
use soilrisk::io::{ReadOptions, read_layer};

/// Size of one square's record in `write_shp_squares` files: header 8 + content 128.
const RECORD: usize = 136;

/// Three squares; returns the .shp path and its bytes.
fn three_squares(dir: &Path) -> (PathBuf, Vec<u8>) {
    let shp = dir.join("p.shp");
    common::write_shp_squares(
        &shp,
        &[(0.0, 0.0, 10.0), (20.0, 0.0, 10.0), (40.0, 0.0, 10.0)],
    );
    let bytes = std::fs::read(&shp).unwrap();
    assert_eq!(bytes.len(), 100 + 3 * RECORD);
    (shp, bytes)
}

fn record(bytes: &[u8], k: usize) -> &[u8] {
    &bytes[100 + k * RECORD..100 + (k + 1) * RECORD]
}

#[test]
fn zero_padding_and_garbage_between_records_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (shp, bytes) = three_squares(dir.path());
    let mut damaged = bytes[..100].to_vec();
    damaged.extend(record(&bytes, 0));
    damaged.extend([0u8; 40]); // zero padding
    damaged.extend(record(&bytes, 1));
    damaged.extend(b"<garbage between records>"); // 25 bytes, odd
    damaged.extend(record(&bytes, 2));
    std::fs::write(&shp, &damaged).unwrap();
    std::fs::remove_file(shp.with_extension("shx")).unwrap(); // read sequentially

    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 3);
    let records: Vec<usize> = layer.features.iter().map(|f| f.record).collect();
    assert_eq!(records, [1, 2, 3]);
    let skipped: Vec<&String> = layer
        .warnings
        .iter()
        .filter(|w| w.contains("not a record skipped"))
        .collect();
    assert_eq!(skipped.len(), 2, "{:?}", layer.warnings);
    assert!(skipped[0].contains("40 byte(s)") && skipped[0].contains("before record 2"));
    assert!(skipped[1].contains("25 byte(s)") && skipped[1].contains("before record 3"));
    // The header's file length no longer matches: said, not fatal.
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("header gives the file length"))
    );
    // Read one record a batch (as a streamed layer is, in larger batches), the damage falls
    // between batches: the same features and warnings.
    let one_by_one = ReadOptions {
        batch_bytes: Some(1),
        ..Default::default()
    };
    let streamed = read_layer(&shp, &one_by_one).unwrap();
    assert_eq!(
        format!("{:?}", streamed.features),
        format!("{:?}", layer.features)
    );
    assert_eq!(streamed.warnings, layer.warnings);
}

#[test]
fn trailing_garbage_is_ignored_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (shp, mut bytes) = three_squares(dir.path());
    bytes.extend(b"\x00\x00\x00\x09garbage at the end of the file");
    std::fs::write(&shp, &bytes).unwrap();
    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 3);
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("after record 3 are not a record")),
        "{:?}",
        layer.warnings
    );
}

#[test]
fn record_numbers_counted_from_zero_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let (shp, mut bytes) = three_squares(dir.path());
    for k in 0..3 {
        let at = 100 + k * RECORD;
        bytes[at..at + 4].copy_from_slice(&(k as i32).to_be_bytes());
    }
    std::fs::write(&shp, &bytes).unwrap();
    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 3);
    assert!(layer.warnings.iter().all(|w| !w.contains("not a record")));
}

#[test]
fn a_dbf_renamed_shp_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (shp, _) = three_squares(dir.path());
    common::write_dbf(
        &dir.path().join("t.dbf"),
        &[("ID", 4)],
        &[vec![b"1".to_vec()]],
        0,
    );
    std::fs::rename(dir.path().join("t.dbf"), dir.path().join("table.shp")).unwrap();
    let err = read_layer(&dir.path().join("table.shp"), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a shapefile") && err.ends_with("table.shp"),
        "{err}"
    );
    drop(shp);
}

#[test]
fn other_geometry_types_in_geojson_are_skipped_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("mixed.geojson");
    std::fs::write(
        &mixed,
        r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":1},"geometry":{"type":"Point","coordinates":[104,30]}},
          {"type":"Feature","properties":{"id":2},"geometry":{"type":"Polygon","coordinates":[[[104,30],[104.1,30],[104.1,30.1],[104,30]]]}},
          {"type":"Feature","properties":{"id":3},"geometry":{"type":"LineString","coordinates":[[104,30],[105,31]]}},
          {"type":"Feature","properties":{"id":4},"geometry":{"type":"Point","coordinates":[105,30]}}
        ]}"#,
    )
    .unwrap();
    let layer = read_layer(&mixed, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 1);
    assert_eq!(layer.features[0].record, 2);
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("1 LineString, 2 Point feature(s) skipped")),
        "{:?}",
        layer.warnings
    );

    let points = dir.path().join("points.geojson");
    std::fs::write(
        &points,
        r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[104,30]}}]}"#,
    )
    .unwrap();
    let err = read_layer(&points, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, LayerError::NotPolygons { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("1 Point") && msg.ends_with("points.geojson"),
        "{msg}"
    );
}

#[test]
fn nan_and_infinite_coordinates_are_dropped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (shp, mut bytes) = three_squares(dir.path());
    // Second square: its third point's x is NaN; third square: a y is infinite.
    let point = |k: usize, i: usize| 100 + k * RECORD + 8 + 48 + 16 * i;
    let at = point(1, 2);
    bytes[at..at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
    let at = point(2, 1) + 8;
    bytes[at..at + 8].copy_from_slice(&f64::INFINITY.to_le_bytes());
    std::fs::write(&shp, &bytes).unwrap();
    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    for f in &layer.features {
        for p in &f.geometry.0 {
            assert!(
                p.exterior()
                    .0
                    .iter()
                    .all(|c| c.x.is_finite() && c.y.is_finite())
            );
        }
    }
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("record 2") && w.contains("not finite")),
        "{:?}",
        layer.warnings
    );
}

#[test]
fn a_bow_tie_parcel_is_repaired_counted_and_reported_in_summary_json() {
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk.geojson");
    let parcels = dir.path().join("parcels.geojson");
    common::write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#,
            vec![vec![common::rect(0., 0., 100., 100.)]],
        )],
    );
    // Crossing itself at (5, 5): two triangles of 25 m² each. Its signed area is 0, so
    // without the repair it would vanish.
    let bowtie = vec![(0., 0.), (0., 10.), (10., 0.), (10., 10.), (0., 0.)];
    common::write_geojson(
        &parcels,
        &[
            (
                r#"{"PARCEL_ID":"P1","COUNTY":"A","MEASURE":"safe_use"}"#,
                vec![vec![common::rect(20., 20., 30., 30.)]],
            ),
            (
                r#"{"PARCEL_ID":"P2","COUNTY":"A","MEASURE":"none"}"#,
                vec![vec![bowtie]],
            ),
        ],
    );
    let out = dir.path().join("out");
    let o = std::process::Command::new(common::bin())
        .args(["analyze", "--risk"])
        .arg(&risk)
        .arg("--parcels")
        .arg(&parcels)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!((s["contaminated_area_m2"].as_f64().unwrap() - 150.0).abs() < 1e-9);
    assert!((s["untreated_area_m2"].as_f64().unwrap() - 50.0).abs() < 1e-9);
    let warnings: Vec<&str> = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("feature 2")
                && w.contains("self-intersecting boundary made valid")),
        "{warnings:?}"
    );
}

fn one_square(path: &Path, props: &str, x: f64) {
    common::write_geojson(
        path,
        &[(props, vec![vec![common::rect(x, 0., x + 10., 10.)]])],
    );
}

#[test]
fn empty_layers_are_refused_naming_the_layer_and_file() {
    use soilrisk::pipeline::{Control, Request, run};
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk.geojson");
    one_square(&risk, r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#, 0.);
    let empty = dir.path().join("empty.geojson");
    std::fs::write(&empty, r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    for (r, p, what) in [(&risk, &empty, "parcel"), (&empty, &risk, "risk-area")] {
        let msg = run(&Request::new(r, p), Control::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(&format!("the {what} layer holds no features"))
                && msg.ends_with("empty.geojson"),
            "{msg}"
        );
    }
}

#[test]
fn layers_that_do_not_overlap_analyse_with_a_warning_about_it() {
    use soilrisk::pipeline::{Control, Request, run};
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk.geojson");
    let parcels = dir.path().join("parcels.geojson");
    one_square(&risk, r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#, 0.);
    one_square(
        &parcels,
        r#"{"PARCEL_ID":"P1","COUNTY":"A","MEASURE":"none"}"#,
        1000.,
    );
    let a = run(&Request::new(&risk, &parcels), Control::default()).unwrap();
    let s = a.summary(0.94);
    assert_eq!(s.parcels_at_risk, 0);
    assert_eq!(s.safe_utilization_rate, None);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("the layers do not overlap")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn an_html_page_saved_as_prj_warns_and_the_other_layers_crs_is_used() {
    use soilrisk::pipeline::{Control, Request, run};
    let dir = tempfile::tempdir().unwrap();
    let (shp, _) = three_squares(dir.path());
    common::write_dbf(
        &shp.with_extension("dbf"),
        &[("PARCEL_ID", 4), ("COUNTY", 4), ("MEASURE", 10)],
        &[
            vec![b"P1".to_vec(), b"A".to_vec(), b"none".to_vec()],
            vec![b"P2".to_vec(), b"A".to_vec(), b"none".to_vec()],
            vec![b"P3".to_vec(), b"A".to_vec(), b"none".to_vec()],
        ],
        0,
    );
    std::fs::write(
        shp.with_extension("prj"),
        "<!DOCTYPE html><html><body>404 Not Found</body></html>",
    )
    .unwrap();
    let risk = dir.path().join("risk.geojson");
    // In EPSG:4544 (the helper's CRS), around the three squares' coordinates.
    common::write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#,
            vec![vec![common::rect(
                -common::X0 - 5.0,
                -common::Y0 - 5.0,
                -common::X0 + 25.0,
                -common::Y0 + 15.0,
            )]],
        )],
    );
    let a = run(&Request::new(&risk, &shp), Control::default()).unwrap();
    let s = a.summary(0.94);
    assert!(s.crs.starts_with("EPSG:4544"), "{}", s.crs);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("p.prj: CRS not understood")),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("has no CRS; assumed to be that of the risk layer")),
        "{:?}",
        s.warnings
    );
    // The risk area spans x -5..25: the first square (10 x 10 m) whole, half the second.
    assert!(
        (s.contaminated_area_m2 - 150.0).abs() < 1e-6,
        "{}",
        s.contaminated_area_m2
    );
}

#[test]
fn overlapping_parcels_in_risk_areas_are_named_and_duplicate_risk_polygons_counted_once() {
    use soilrisk::pipeline::{Control, Request, run};
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk.geojson");
    let parcels = dir.path().join("parcels.geojson");
    let area = vec![vec![common::rect(0., 0., 100., 100.)]];
    // The same polygon three times: twice as class II, once as class III.
    common::write_geojson(
        &risk,
        &[
            (r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#, area.clone()),
            (r#"{"RISK_ID":"R2","RISK_CLASS":"safe_use"}"#, area.clone()),
            (r#"{"RISK_ID":"R3","RISK_CLASS":"strict_control"}"#, area),
        ],
    );
    let p = |id: &str| format!(r#"{{"PARCEL_ID":"{id}","COUNTY":"A","MEASURE":"none"}}"#);
    common::write_geojson(
        &parcels,
        &[
            // P1 and P2 overlap by 5 x 10 m inside the risk area.
            (&p("P1"), vec![vec![common::rect(10., 10., 30., 20.)]]),
            (&p("P2"), vec![vec![common::rect(25., 10., 45., 20.)]]),
            // P3 only shares an edge with P2: no overlap.
            (&p("P3"), vec![vec![common::rect(45., 10., 65., 20.)]]),
            // P4 and P5 overlap far outside any risk area: no figure changes, not reported.
            (&p("P4"), vec![vec![common::rect(500., 0., 520., 10.)]]),
            (&p("P5"), vec![vec![common::rect(510., 0., 530., 10.)]]),
        ],
    );
    let a = run(&Request::new(&risk, &parcels), Control::default()).unwrap();
    let s = a.summary(0.94);
    // Each parcel's 200 m² once, all class III (the highest), whatever the duplicates.
    assert!(
        (s.contaminated_area_m2 - 600.0).abs() < 1e-9,
        "{}",
        s.contaminated_area_m2
    );
    assert!((s.strict_control_area_m2 - 600.0).abs() < 1e-9);
    assert_eq!(s.safe_use_area_m2, 0.0);
    // The check is not part of the run (each front end runs it beside other work)...
    let overlap = |w: &String| w.contains("overlap one another");
    assert!(!s.warnings.iter().any(overlap), "{:?}", s.warnings);
    let w = a.parcel_overlap_warning().expect("the overlapping pair");
    assert!(
        w.contains("1 pair(s)") && w.contains("P1 (record 1) and P2 (record 2)"),
        "{w}"
    );
    assert!(!w.contains("P3") && !w.contains("P4"), "{w}");

    // ... and the written summary holds it, last, after the run's own warnings.
    let out = dir.path().join("out");
    let (written, files) =
        soilrisk::outputs::write_set(&out, &a, 0.94, &[&risk, &parcels]).unwrap();
    assert_eq!(written.warnings.last(), Some(&w));
    assert_eq!(
        written.warnings[..written.warnings.len() - 1],
        s.warnings[..]
    );
    let json = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(json.contains("P1 (record 1) and P2 (record 2)"), "{json}");
    assert_eq!(files, soilrisk::outputs::set_paths(&out));
}

#[test]
fn without_a_dbf_the_geometry_reads_and_the_analysis_names_the_missing_field() {
    use soilrisk::pipeline::{Control, Request, run};
    let dir = tempfile::tempdir().unwrap();
    let (shp, _) = three_squares(dir.path());
    assert!(!shp.with_extension("dbf").exists());
    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 3);
    assert!(layer.fields.is_empty());
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("no .dbf beside it"))
    );
    let risk = dir.path().join("risk.geojson");
    one_square(&risk, r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#, 0.);
    let msg = run(&Request::new(&risk, &shp), Control::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("field \"PARCEL_ID\" not found")
            && msg.contains("(none)")
            && msg.contains("p.shp"),
        "{msg}"
    );
}

#[test]
fn geojson_members_in_any_order_and_columns_that_appear_late() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.geojson");
    // "features" before "type" and "crs"; AREA is null first, then a number; NOTE appears
    // only in the second feature.
    std::fs::write(
        &path,
        r#"{"features":[
          {"type":"Feature","properties":{"ID":"a","AREA":null},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}},
          {"type":"Feature","properties":{"ID":"b","AREA":12.5,"NOTE":"双流"},"geometry":{"type":"Polygon","coordinates":[[[20,0],[30,0],[30,10],[20,0]]]}}
        ],
        "crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4544"}},
        "type":"FeatureCollection"}"#,
    )
    .unwrap();
    let layer = read_layer(&path, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 2);
    assert!(layer.crs.unwrap().label().starts_with("EPSG:4544"));
    let names: Vec<&str> = layer.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["ID", "AREA", "NOTE"]);
    assert_eq!(layer.fields[1].kind, soilrisk::layer::FieldKind::Number);
    assert_eq!(layer.features[0].values.len(), 3);
    assert_eq!(layer.features[0].values[2], soilrisk::layer::Value::Null);
    assert_eq!(
        layer.features[1].values[2],
        soilrisk::layer::Value::Text("双流".into())
    );

    // A TopoJSON (features, but not a FeatureCollection) is refused, naming the file.
    let topo = dir.path().join("topo.json");
    std::fs::write(&topo, r#"{"type":"Topology","features":[]}"#).unwrap();
    let msg = read_layer(&topo, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("not GeoJSON") && msg.ends_with("topo.json"),
        "{msg}"
    );
}

#[test]
fn a_parcel_layer_cut_short_late_in_the_file_stops_the_analysis_naming_file_and_record() {
    use soilrisk::pipeline::AnalysisError;
    use soilrisk::pipeline::{Control, KeepParcels, Request, run};

    // The sample parcels, cut in the middle of a record near the end: the analysis reads them
    // in small batches on its reader thread, so the error comes from a batch read ahead.
    let sample = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/sample_data"));
    let dir = tempfile::tempdir().unwrap();
    for ext in ["shp", "dbf", "prj", "cpg"] {
        std::fs::copy(
            sample.join(format!("parcels.{ext}")),
            dir.path().join(format!("parcels.{ext}")),
        )
        .unwrap();
    }
    let shp = dir.path().join("parcels.shp");
    let bytes = std::fs::read(&shp).unwrap();
    // The record holding the byte 95 % of the way through: walk the record headers to it.
    let mut at = 100;
    let mut no = 0;
    while at < bytes.len() * 95 / 100 {
        let len = u32::from_be_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize * 2;
        at += 8 + len;
        no += 1;
    }
    std::fs::write(&shp, &bytes[..at + 8 + 20]).unwrap();

    let mut req = Request::new(sample.join("risk_areas.shp"), &shp);
    req.parcel_read.batch_bytes = Some(64 << 10);
    req.keep_parcels = KeepParcels::AtRisk;
    let err = run(&req, Control::default()).unwrap_err();
    assert!(matches!(err, AnalysisError::Layer(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("parcels.shp"), "{text}");
    assert!(text.ends_with(&format!("record {}", no + 1)), "{text}");
    assert!(text.contains("truncated"), "{text}");
}

#[test]
fn the_risk_layers_error_comes_first_and_stops_the_parcels_being_read() {
    use soilrisk::pipeline::AnalysisError;
    use soilrisk::pipeline::{Control, Request, run};
    use std::sync::atomic::AtomicBool;
    // The parcel layer is opened and read on its own thread from the start, while the risk
    // layer is read: errors still come in the order of a sequential run, and a run that
    // stops early stops that thread (a hang would fail the test by timeout).
    let dir = tempfile::tempdir().unwrap();
    common::copy_sample(dir.path());
    let (risk, parcels) = (
        dir.path().join("risk_areas.shp"),
        dir.path().join("parcels.shp"),
    );
    let (no_risk, no_parcels) = (
        dir.path().join("no_risk.shp"),
        dir.path().join("no_parcels.shp"),
    );
    // 30,000 parcels in batches of 64 KiB of records: about 60 batches.
    let request = |r: &Path, p: &Path| {
        let mut req = Request::new(r, p);
        req.parcel_read.batch_bytes = Some(64 << 10);
        req
    };
    let error = |req: &Request, ctl: Control| run(req, ctl).unwrap_err();

    let msg = error(&request(&no_risk, &no_parcels), Control::default()).to_string();
    assert!(
        msg.contains("no_risk.shp") && !msg.contains("no_parcels"),
        "{msg}"
    );
    let msg = error(&request(&risk, &no_parcels), Control::default()).to_string();
    assert!(msg.contains("no_parcels.shp"), "{msg}");

    let mut req = request(&risk, &parcels);
    req.fields
        .set(soilrisk::pipeline::Role::RiskId, Some("NO_SUCH_ID".into()));
    match error(&req, Control::default()) {
        AnalysisError::MissingField { field, path, .. } => {
            assert_eq!(
                (field.as_str(), path.as_path()),
                ("NO_SUCH_ID", risk.as_path())
            );
        }
        e => panic!("expected the missing risk id field, got {e}"),
    }

    let cancel = AtomicBool::new(true);
    let ctl = Control {
        cancel: Some(&cancel),
        ..Control::default()
    };
    assert!(matches!(
        error(&request(&risk, &parcels), ctl),
        AnalysisError::Cancelled
    ));
    // And the same request, not cancelled, reads every parcel.
    let a = run(&request(&risk, &parcels), Control::default()).unwrap();
    assert_eq!(a.parcel_info.len(), 30_000);
}
