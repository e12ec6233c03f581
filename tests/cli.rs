//! The command line: each subcommand, its files, and exit statuses 0, 1 and 2 with their
//! messages.
#![allow(clippy::unwrap_used)] // test helpers: a failure is a failed test

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use common::{rect, write_geojson};

fn soilrisk(args: &[&OsStr]) -> Output {
    Command::new(common::bin()).args(args).output().unwrap()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// `soilrisk analyze --risk RISK --parcels PARCELS --out OUT`, then `extra`.
fn analyze(risk: &Path, parcels: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        os("analyze"),
        os("--risk"),
        risk.as_os_str(),
        os("--parcels"),
        parcels.as_os_str(),
        os("--out"),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(|a| os(a)));
    soilrisk(&args)
}

fn small_layers(dir: &std::path::Path, measure: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let risk = dir.join("risk.geojson");
    let parcels = dir.join("parcels.geojson");
    write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"2"}"#,
            vec![vec![rect(0., 0., 100., 100.)]],
        )],
    );
    let props = format!(r#"{{"PARCEL_ID":"P1","COUNTY":"双流区","MEASURE":"{measure}"}}"#);
    let props2 = r#"{"PARCEL_ID":"P2","COUNTY":"双流区","MEASURE":"施肥"}"#;
    write_geojson(
        &parcels,
        &[
            (&props, vec![vec![rect(50., 50., 150., 150.)]]),
            (props2, vec![vec![rect(-50., 0., 0., 50.)]]),
        ],
    );
    (risk, parcels)
}

#[test]
fn analyze_writes_its_files_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = small_layers(dir.path(), "休耕");
    let out = dir.path().join("out");
    let o = analyze(
        &risk,
        &parcels,
        &out,
        &[
            "--map-measure",
            "施肥=safe_use",
            "--timings",
            "--target",
            "0.5",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("safe-utilisation rate  100.00% (target 50.00%)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    for phase in ["read", "index", "overlay", "statistics", "export"] {
        assert!(
            stderr.contains(&format!("{phase} ")),
            "no {phase} timing in {stderr}"
        );
    }
    let files = [
        "summary.json",
        "parcels.geojson",
        "risk_areas.geojson",
        "regions.csv",
        "tables.xlsx",
        "results.gpkg",
    ];
    for f in files {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let first: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["target_rate"], 0.5);
    assert_eq!(summary["contaminated_area_m2"], 2500.0);
    // Deterministic bytes: a second run writes the same files.
    let o2 = analyze(
        &risk,
        &parcels,
        &out,
        &["--map-measure", "施肥=safe_use", "--target", "0.5"],
    );
    assert!(o2.status.success());
    for (f, bytes) in files.iter().zip(&first) {
        assert!(*bytes == std::fs::read(out.join(f)).unwrap(), "{f} changed");
    }
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), files.len());
}

#[test]
fn unknown_values_exit_1_listing_each_with_count_and_how_to_map() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = small_layers(dir.path(), "施肥");
    let out = dir.path().join("out");
    let o = analyze(&risk, &parcels, &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(r#""施肥" (2 records)"#), "{err}");
    assert!(err.contains("--map-measure VALUE=KIND"), "{err}");
    assert!(err.contains("parcels.geojson"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!out.exists(), "nothing written on failure");
}

#[test]
fn bad_input_exits_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, _) = small_layers(dir.path(), "休耕");
    let missing = dir.path().join("nope.shp");
    let not_json = dir.path().join("echarts.json");
    std::fs::write(&not_json, r#"{"type":"FeatureCollection","UTF8Encoding":true,"features":[{"geometry":{"type":"Polygon","coordinates":["@@AB"],"encodeOffsets":[[1,2]]}}]}"#).unwrap();
    for (parcels, needle) in [(&missing, "file not found"), (&not_json, "not GeoJSON")] {
        let o = analyze(&risk, parcels, &dir.path().join("o"), &[]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(needle) && err.contains(parcels.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
    }
    // A required field that is not there.
    let o = analyze(&risk, &risk, &dir.path().join("o"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(r#"field "PARCEL_ID" not found"#) && err.contains("RISK_ID, RISK_CLASS"),
        "{err}"
    );
}

#[test]
fn the_pollutant_role_is_read_where_the_layer_has_it_and_a_missing_named_field_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The small layers have no POLLUTANT field: the role is off, the export writes null.
    let (risk, parcels) = small_layers(dir.path(), "休耕");
    let out = dir.path().join("out");
    let map = ["--map-measure", "施肥=safe_use"];
    // The risk-area export of a run that must succeed.
    let exported = |args: &[&str]| {
        let o = analyze(&risk, &parcels, &out, args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read_to_string(out.join("risk_areas.geojson")).unwrap()
    };
    let text = exported(&map);
    assert!(text.contains(r#""pollutant":null"#), "{text}");
    // Named but missing: an error naming the field, the role and the file.
    let named = ["--pollutant-field", "WRRW", map[0], map[1]];
    let o = analyze(&risk, &parcels, &out, &named);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(r#"field "WRRW" not found"#)
            && err.contains("pollutant")
            && err.contains("risk.geojson"),
        "{err}"
    );
    // The field there: its values in the export.
    write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"2","WRRW":"镉;砷"}"#,
            vec![vec![rect(0., 0., 100., 100.)]],
        )],
    );
    let text = exported(&named);
    assert!(text.contains(r#""pollutant":"镉;砷""#), "{text}");
}

#[test]
fn the_help_names_every_format_of_the_registry() {
    let o = soilrisk(&[os("analyze"), os("--help")]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for ext in soilrisk::io::formats::extensions() {
        assert!(help.contains(&format!(".{ext}")), ".{ext} not in {help}");
    }
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        vec![os("analyze"), os("--risk"), os("a.shp")],
        vec![os("frobnicate")],
        vec![
            os("analyze"),
            os("--risk"),
            os("a"),
            os("--parcels"),
            os("b"),
            os("--out"),
            os("c"),
            os("--target"),
            os("94"),
        ],
        vec![
            os("sample"),
            os("--out"),
            os("x"),
            os("--parcels"),
            os("many"),
        ],
    ] {
        let o = soilrisk(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("Usage") || err.contains("error:"), "{err}");
    }
    let o = analyze(
        Path::new("a"),
        Path::new("b"),
        Path::new("c"),
        &["--target", "94"],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("0.94"));
}

#[test]
fn info_describes_a_layer() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, _) = small_layers(dir.path(), "休耕");
    let o = soilrisk(&[os("info"), risk.as_os_str()]);
    assert_eq!(o.status.code(), Some(0));
    let s = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "geometry:   MultiPolygon",
        "features:   1",
        "crs:        EPSG:4544",
        "RISK_CLASS",
        "extent:     (500000, 3300000) - (500100, 3300100)",
    ] {
        assert!(s.contains(needle), "{needle} not in {s}");
    }
    assert!(s.contains("format:     GeoJSON"), "{s}");
    let o = soilrisk(&[os("info"), dir.path().join("missing.shp").as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.shp"));
}

#[test]
fn an_export_never_overwrites_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let (_, parcels) = small_layers(dir.path(), "休耕");
    // The parcels file is called parcels.geojson: with --out its own folder it would be
    // overwritten by the export of the same name.
    let risk = dir.path().join("risk.geojson");
    let before = std::fs::read(&parcels).unwrap();
    let o = analyze(&risk, &parcels, dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("would overwrite a file of an input layer")
    );
    assert_eq!(before, std::fs::read(&parcels).unwrap());
}

#[test]
fn sample_writes_layers_that_info_and_analyze_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = soilrisk(&[
        os("sample"),
        os("--out"),
        data.as_os_str(),
        os("--parcels"),
        os("500"),
        os("--seed"),
        os("7"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("wrote 500 parcels"), "{out}");
    assert!(
        out.contains("second-year parcels") && out.contains("lineage rows"),
        "{out}"
    );
    let o = soilrisk(&[os("info"), data.join("parcels.shp").as_os_str()]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("features:   500") && s.contains("GBK (from .cpg)") && s.contains("EPSG:4544"),
        "{s}"
    );
    let o = analyze(
        &data.join("risk_areas.shp"),
        &data.join("parcels.shp"),
        &dir.path().join("out"),
        &["--compliance-field", "CROP_OK"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["parcels"], 500);
    assert_eq!(summary["risk_areas"], 3568);
    let o = soilrisk(&[
        os("sample"),
        os("--out"),
        data.as_os_str(),
        os("--parcels"),
        os("0"),
    ]);
    assert_eq!(o.status.code(), Some(1), "zero parcels is refused");
}

#[test]
fn wrongly_decoded_text_says_so_and_the_encoding_flag_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_sample(dir.path());
    // A .cpg that lies: the attributes are GBK.
    std::fs::write(dir.path().join("parcels.cpg"), "UTF-8").unwrap();
    let (risk, parcels) = (
        dir.path().join("risk_areas.shp"),
        dir.path().join("parcels.shp"),
    );
    let out = dir.path().join("out");
    let o = analyze(&risk, &parcels, &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("wrongly decoded (read as UTF-8 (from .cpg))")
            && err.contains("--parcel-encoding"),
        "{err}"
    );
    let o = analyze(&risk, &parcels, &out, &["--parcel-encoding", "GBK"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["parcels"], 30_000);
}

#[test]
fn analyze_warns_of_overlapping_parcels_in_the_summary_as_the_engine_does() {
    // `analyze` checks for overlapping parcels while it writes the parcels; its summary must
    // hold the engine's run's warnings, in the same order, then the check's.
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk.geojson");
    let parcels = dir.path().join("parcels.geojson");
    write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"2"}"#,
            vec![vec![rect(0., 0., 100., 100.)]],
        )],
    );
    let p = |id: &str| format!(r#"{{"PARCEL_ID":"{id}","COUNTY":"A","MEASURE":"none"}}"#);
    write_geojson(
        &parcels,
        &[
            (&p("P1"), vec![vec![rect(10., 10., 30., 20.)]]),
            (&p("P2"), vec![vec![rect(25., 10., 45., 20.)]]),
            // A repeated id: a warning that `run` gives before the overlap check's.
            (&p("P2"), vec![vec![rect(60., 10., 80., 20.)]]),
        ],
    );
    let out = dir.path().join("out");
    let o = analyze(&risk, &parcels, &out, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let written: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let engine = soilrisk::pipeline::run(
        &soilrisk::pipeline::Request::new(&risk, &parcels),
        soilrisk::pipeline::Control::default(),
    )
    .unwrap();
    let mut expected: Vec<String> = engine.warnings.clone();
    expected.extend(engine.parcel_overlap_warning());
    assert_eq!(written, expected);
    assert!(
        written
            .last()
            .is_some_and(|w| w.contains("overlap one another") && w.contains("P1 (record 1)")),
        "{written:?}"
    );
    assert!(
        written.iter().any(|w| w.contains("duplicate id")),
        "{written:?}"
    );
}
