//! Hand-made layers whose numbers can be worked out on paper (see each comment), run through
//! the pipeline and the exported files. Coordinates are metres in EPSG:4544, so areas are
//! planar and exact.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use common::{Rings, rect, write_geojson};
use soilrisk::pipeline::{Control, Request, run};
use soilrisk::vocab::RiskClass;

/// Risk areas:
/// - R1 class II  [0,100]x[0,100]
/// - R2 class III [50,150]x[0,100]   (overlaps R1 on [50,100]x[0,100])
/// - R3 class I   two parts [300,400]x[0,100] and [500,600]x[0,100]
/// - R4 class II  [0,100]x[300,400]
///
/// Parcels:
/// - P1 wholly inside R1: [10,40]x[10,40] = 900, safe-use measure -> treated 900
/// - P2 half inside R3:   [250,350]x[20,60] = 4000, 2000 inside (class I), no measure
/// - P3 touching R3 only along x=400: [400,450]x[0,30] = 1500, nothing inside
/// - P4 straddling R1 and R2: [40,120]x[40,60] = 1600: class II 10x20=200 (R1 only),
///   class III 70x20=1400 (overlap and R2); safe-use measure treats the 200 only
/// - P5 with a hole over R4: [-20,120]x[280,420] minus [20,80]x[320,380] = 16000;
///   inside R4 100x100-60x60 = 6400 (class II), strict control -> treated 6400
/// - P6 across both parts of R3: [350,550]x[40,60] = 4000, 2x(50x20) = 2000 class I,
///   priority measure -> treated 2000
fn layers(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let risk = dir.join("risk.geojson");
    let parcels = dir.join("parcels.geojson");
    let sq = |a, b, c, d| -> Rings { vec![rect(a, b, c, d)] };
    write_geojson(
        &risk,
        &[
            (
                r#"{"RISK_ID":"R1","RISK_CLASS":"安全利用类"}"#,
                vec![sq(0., 0., 100., 100.)],
            ),
            (
                r#"{"RISK_ID":"R2","RISK_CLASS":"III"}"#,
                vec![sq(50., 0., 150., 100.)],
            ),
            (
                r#"{"RISK_ID":"R3","RISK_CLASS":"1"}"#,
                vec![sq(300., 0., 400., 100.), sq(500., 0., 600., 100.)],
            ),
            (
                r#"{"RISK_ID":"R4","RISK_CLASS":"safe_use"}"#,
                vec![sq(0., 300., 100., 400.)],
            ),
        ],
    );
    let mut holed = rect(-20., 280., 120., 420.);
    holed.reverse(); // any winding: the reader orients rings
    write_geojson(
        &parcels,
        &[
            (
                r#"{"PARCEL_ID":"P1","COUNTY":"双流区","MEASURE":"农艺调控","OK":"否"}"#,
                vec![sq(10., 10., 40., 40.)],
            ),
            (
                r#"{"PARCEL_ID":"P2","COUNTY":"郫都区","MEASURE":"","OK":"是"}"#,
                vec![sq(250., 20., 350., 60.)],
            ),
            (
                r#"{"PARCEL_ID":"P3","COUNTY":"郫都区","MEASURE":"无","OK":"是"}"#,
                vec![sq(400., 0., 450., 30.)],
            ),
            (
                r#"{"PARCEL_ID":"P4","COUNTY":"双流区","MEASURE":"替代种植","OK":"是"}"#,
                vec![sq(40., 40., 120., 60.)],
            ),
            (
                r#"{"PARCEL_ID":"P5","COUNTY":"新津区","MEASURE":"休耕","OK":"是"}"#,
                vec![vec![holed, rect(20., 320., 80., 380.)]],
            ),
            (
                r#"{"PARCEL_ID":"P6","COUNTY":"郫都区","MEASURE":"优先保护","OK":"是"}"#,
                vec![sq(350., 40., 550., 60.)],
            ),
        ],
    );
    (risk, parcels)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {
        assert!(
            close($a, $b),
            "{} = {} but expected {}",
            stringify!($a),
            $a,
            $b
        )
    };
}

#[test]
fn every_parcel_and_risk_area_number() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path());
    let a = run(&Request::new(&risk, &parcels), Control::default()).unwrap();
    assert_eq!(a.area_method.name(), "planar");
    // (id, area, [I, II, III], treated, risk ids, highest class)
    type Row<'a> = (
        &'a str,
        f64,
        [f64; 3],
        f64,
        &'a [&'a str],
        Option<RiskClass>,
    );
    let expected: [Row; 6] = [
        (
            "P1",
            900.,
            [0., 900., 0.],
            900.,
            &["R1"],
            Some(RiskClass::SafeUse),
        ),
        (
            "P2",
            4000.,
            [2000., 0., 0.],
            0.,
            &["R3"],
            Some(RiskClass::Priority),
        ),
        ("P3", 1500., [0., 0., 0.], 0., &[], None),
        (
            "P4",
            1600.,
            [0., 200., 1400.],
            200.,
            &["R1", "R2"],
            Some(RiskClass::StrictControl),
        ),
        (
            "P5",
            16000.,
            [0., 6400., 0.],
            6400.,
            &["R4"],
            Some(RiskClass::SafeUse),
        ),
        (
            "P6",
            4000.,
            [2000., 0., 0.],
            2000.,
            &["R3"],
            Some(RiskClass::Priority),
        ),
    ];
    for (i, (id, area, class, treated, ids, top)) in expected.iter().enumerate() {
        let r = &a.parcel_results[i];
        assert_eq!(&*a.parcel_info[i].id, *id);
        assert_close!(r.area_m2, *area);
        for (k, (got, want)) in r.class_m2.iter().zip(class).enumerate() {
            assert!(close(*got, *want), "{id} class {k}: {got} vs {want}");
        }
        assert_close!(r.treated_m2, *treated);
        assert_close!(r.untreated_m2(), class.iter().sum::<f64>() - treated);
        assert_eq!(a.risk_ids_of(i), *ids, "{id}");
        assert_eq!(r.risk_class(), *top, "{id}");
    }
    // Risk areas: (cultivated inside, treated inside, parcels)
    let risk_expected = [
        (2100., 1100., 2),
        (1400., 0., 1),
        (4000., 2000., 2),
        (6400., 6400., 1),
    ];
    for (i, (cult, treat, n)) in risk_expected.iter().enumerate() {
        let r = &a.risk_results[i];
        assert_close!(r.cultivated_m2, *cult);
        assert_close!(r.treated_m2, *treat);
        assert_eq!(r.parcels, *n, "risk area {}", a.risk_areas[i].id);
    }

    let s = a.summary(0.94);
    assert_eq!((s.parcels, s.risk_areas, s.parcels_at_risk), (6, 4, 5));
    assert_close!(s.cultivated_area_m2, 28000.);
    assert_close!(s.priority_area_m2, 4000.);
    assert_close!(s.safe_use_area_m2, 7500.);
    assert_close!(s.strict_control_area_m2, 1400.);
    assert_close!(s.contaminated_area_m2, 12900.);
    assert_close!(s.treated_area_m2, 9500.);
    assert_close!(s.untreated_area_m2, 3400.);
    assert_close!(s.safe_utilization_rate.unwrap(), 9500. / 12900.);
    assert_close!(s.gap_to_target_m2, 0.94 * 12900. - 9500.);
    assert_eq!(s.parcels_to_close_gap, 2);
    let ids: Vec<&str> = s
        .priority_parcels
        .iter()
        .map(|p| p.parcel_id.as_str())
        .collect();
    assert_eq!(ids, ["P2", "P4"]);
    assert_eq!(s.crs, a.crs.as_ref().unwrap().label());
    assert!(s.crs.starts_with("EPSG:4544"), "{}", s.crs);

    let regions: Vec<(&str, usize, usize, f64, f64, f64)> = s
        .by_region
        .iter()
        .map(|r| {
            (
                r.region.as_str(),
                r.parcels,
                r.parcels_at_risk,
                r.cultivated_area_m2,
                r.contaminated_area_m2,
                r.treated_area_m2,
            )
        })
        .collect();
    // Sorted by region name (Unicode order).
    let want = [
        ("双流区", 2, 2, 2500., 2500., 1100.),
        ("新津区", 1, 1, 16000., 6400., 6400.),
        ("郫都区", 3, 2, 9500., 4000., 2000.),
    ];
    assert_eq!(regions.len(), 3);
    for (got, want) in regions.iter().zip(want) {
        assert_eq!((got.0, got.1, got.2), (want.0, want.1, want.2));
        assert_close!(got.3, want.3);
        assert_close!(got.4, want.4);
        assert_close!(got.5, want.5);
    }
    assert_close!(s.by_region[0].safe_utilization_rate.unwrap(), 0.44);
    assert_close!(s.by_region[0].gap_to_target_m2, 0.94 * 2500. - 1100.);
    assert_close!(s.by_region[1].gap_to_target_m2, 0.0);
}

#[test]
fn compliance_field_withholds_class_two_treatment() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path());
    let mut req = Request::new(&risk, &parcels);
    req.fields
        .set(soilrisk::pipeline::Role::Compliance, Some("OK".into()));
    let a = run(&req, Control::default()).unwrap();
    // P1's crop did not comply: its 900 m² of class II are no longer treated.
    assert_close!(a.parcel_results[0].treated_m2, 0.0);
    // P5 complied; strict control treats class II either way.
    assert_close!(a.parcel_results[4].treated_m2, 6400.0);
    assert_close!(a.summary(0.94).treated_area_m2, 9500. - 900.);
}

#[test]
fn exported_files_carry_the_same_numbers_in_wgs84() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path());
    let out = dir.path().join("out");
    let status = std::process::Command::new(common::bin())
        .args(["analyze", "--risk"])
        .arg(&risk)
        .arg("--parcels")
        .arg(&parcels)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for (k, v) in [
        ("cultivated_area_m2", 28000.),
        ("contaminated_area_m2", 12900.),
        ("priority_area_m2", 4000.),
        ("safe_use_area_m2", 7500.),
        ("strict_control_area_m2", 1400.),
        ("treated_area_m2", 9500.),
        ("untreated_area_m2", 3400.),
        ("target_rate", 0.94),
    ] {
        assert_close!(summary[k].as_f64().unwrap(), v);
    }
    assert_eq!(summary["parcels_at_risk"], 5);
    assert_eq!(summary["area_method"], "planar");
    assert_eq!(summary["by_region"][0]["region"], "双流区");

    let parcels_out: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("parcels.geojson")).unwrap())
            .unwrap();
    let feats = parcels_out["features"].as_array().unwrap();
    let ids: Vec<&str> = feats
        .iter()
        .map(|f| f["properties"]["parcel_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["P1", "P2", "P4", "P5", "P6"],
        "parcels at risk only, sorted by id"
    );
    let p4 = &feats[2]["properties"];
    assert_eq!(p4["risk_class"], "strict_control");
    assert_eq!(p4["risk_ids"], serde_json::json!(["R1", "R2"]));
    assert_eq!(p4["measure"], "替代种植");
    assert_eq!(p4["region"], "双流区");
    for (k, v) in [
        ("area_m2", 1600.),
        ("priority_area_m2", 0.),
        ("safe_use_area_m2", 200.),
        ("strict_control_area_m2", 1400.),
        ("contaminated_area_m2", 1600.),
        ("treated_area_m2", 200.),
        ("untreated_area_m2", 1400.),
    ] {
        assert_close!(p4[k].as_f64().unwrap(), v);
    }
    // RFC 7946: lon/lat near 105°E, 29.8°N; exterior counter-clockwise, the hole clockwise.
    let p5 = &feats[3]["geometry"];
    assert_eq!(p5["type"], "Polygon");
    let ring_area = |r: &serde_json::Value| {
        let pts: Vec<(f64, f64)> = r
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        pts.windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum::<f64>()
    };
    let rings = p5["coordinates"].as_array().unwrap();
    assert_eq!(rings.len(), 2);
    assert!(ring_area(&rings[0]) > 0.0 && ring_area(&rings[1]) < 0.0);
    let lon = rings[0][0][0].as_f64().unwrap();
    let lat = rings[0][0][1].as_f64().unwrap();
    assert!(
        (104.99..105.01).contains(&lon) && (29.7..29.9).contains(&lat),
        "{lon},{lat}"
    );

    let risk_out: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("risk_areas.geojson")).unwrap())
            .unwrap();
    let r = &risk_out["features"];
    assert_eq!(r.as_array().unwrap().len(), 4);
    assert_eq!(r[0]["properties"]["risk_id"], "R1");
    assert_eq!(r[0]["properties"]["risk_class"], "safe_use");
    assert_close!(
        r[0]["properties"]["cultivated_area_m2"].as_f64().unwrap(),
        2100.
    );
    assert_close!(
        r[0]["properties"]["treated_area_m2"].as_f64().unwrap(),
        1100.
    );
    assert_close!(
        r[0]["properties"]["safe_utilization_rate"]
            .as_f64()
            .unwrap(),
        1100. / 2100.
    );
    assert_eq!(r[0]["properties"]["parcels"], 2);
    assert_eq!(r[2]["geometry"]["type"], "MultiPolygon");
    assert_eq!(r[1]["properties"]["safe_utilization_rate"], 0.0);
}

#[test]
fn parcel_index_finds_the_parcel_under_a_point() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path());
    let mut req = Request::new(&risk, &parcels);
    req.index_parcels = true;
    let a = run(&req, Control::default()).unwrap();
    let idx = a.parcel_index.as_ref().unwrap();
    assert_eq!(idx.len(), 6);
    // Inside P4's box only.
    let hits: Vec<u32> = idx.at_point(common::X0 + 110., common::Y0 + 50.).collect();
    assert_eq!(hits, vec![3]);
    // The faces index: the point (120, 50) lies only in R2.
    let faces: Vec<u32> = a
        .map
        .faces_near(&geo::Rect::new(
            (common::X0 + 120., common::Y0 + 50.),
            (common::X0 + 120., common::Y0 + 50.),
        ))
        .collect();
    assert_eq!(faces.len(), 1);
    assert_eq!(a.map.faces[faces[0] as usize].risks, vec![1]);
}
