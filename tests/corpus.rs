//! The real-file corpus in `../shared/realdata`: every file its MANIFEST lists either opens
//! with the feature count, geometry and CRS the manifest gives (and its non-ASCII text decoded
//! to the manifest's sample value), or is refused with the specific reason; every other file
//! in the folder opens or is refused without a panic; and `soilrisk info` and `analyze` say
//! the same in one line naming the file. The manifest was written by others (from GDAL and
//! pyshp), so it is an independent reference.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};

use soilrisk::error::LayerError;
use soilrisk::io::shp::read_table;
use soilrisk::io::{ReadOptions, read_layer};
use soilrisk::layer::{Layer, Value};

/// One row of a MANIFEST table.
#[derive(Debug)]
struct Row {
    path: PathBuf,
    geometry: String,
    n: Option<usize>,
    crs: String,
    edge: String,
}

fn manifest(root: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(root.join("MANIFEST.md")).unwrap();
    let mut section = String::new();
    let mut rows = Vec::new();
    // Only the tables of layers (file, size, geometry, ...): a section may hold other tables
    // (the File Geodatabase and GeoPackage notes list sources and contents).
    let mut layer_table = false;
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("## ") {
            section = s.split_whitespace().next().unwrap_or_default().to_string();
        } else if line.starts_with("| file |") {
            layer_table = line.starts_with("| file | size | geometry | n |");
        } else if layer_table && line.starts_with("| `") {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // | file | size | geometry | n | CRS | encoding | edge cases |
            rows.push(Row {
                path: root.join(&section).join(cells[1].trim_matches('`')),
                geometry: cells[3].to_string(),
                n: cells[4].parse().ok(),
                crs: cells[5].to_string(),
                edge: cells[7].to_string(),
            });
        }
    }
    rows
}

/// "null shapes ×2" / "null geometry ×4" in the edge cases.
fn nulls(edge: &str) -> usize {
    edge.split(';')
        .map(str::trim)
        .find_map(|e| {
            e.strip_prefix("null shapes ×")
                .or_else(|| e.strip_prefix("null geometry ×"))
        })
        .and_then(|k| k.parse().ok())
        .unwrap_or(0)
}

/// The sample value of "non-ASCII attrs (cp1252: “Côte d'Ivoire”)" or "non-ASCII props".
/// A sample holding C1 control characters is the manifest's own mis-decoding (cp850.dbf read
/// as Latin-1), not a value to expect, and is left out.
fn sample_text(edge: &str) -> Option<String> {
    let start = edge.find('“')? + '“'.len_utf8();
    let end = edge[start..].find('”')? + start;
    let text = &edge[start..end];
    (!text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c))).then(|| text.to_string())
}

fn texts(values: &[Vec<Value>]) -> impl Iterator<Item = String> + '_ {
    values.iter().flatten().map(Value::display)
}

const POLYGONAL: &[&str] = &[
    "Polygon",
    "PolygonZ",
    "PolygonM",
    "MultiPolygon",
    "Polygon/MultiPolygon",
];

#[derive(Debug, PartialEq)]
enum Expect {
    /// Opens with this many features.
    Opens(usize),
    /// Refused; the message holds this.
    Refused(&'static str),
    /// Refused as not polygons, naming this type.
    NotPolygons(String),
}

fn expectation(row: &Row) -> Expect {
    let g = row.geometry.as_str();
    let n = row.n.unwrap_or(0);
    if let Some(zip) = g.strip_prefix("zip: ") {
        return if zip.contains("no .shp") {
            Expect::Refused("no shapefile or GeoJSON")
        } else if zip.contains(';') {
            Expect::Refused("layers")
        } else {
            Expect::Opens(n)
        };
    }
    match g {
        "dbf-only" => Expect::Refused("without its .shp"),
        "Null" | "-" => Expect::Opens(0),
        g if POLYGONAL.contains(&g) => Expect::Opens(n - nulls(&row.edge)),
        // Mixed GeoJSON: the polygons are the layer.
        "Point/LineString/Polygon" => Expect::Opens(1),
        g => Expect::NotPolygons(g.split('/').find(|t| *t != "null").unwrap_or(g).to_string()),
    }
}

fn check_crs(row: &Row, layer: &Layer) {
    let what = row.path.display();
    let c = &row.crs;
    if c.starts_with("GEOGCS:") || c.contains("RFC 7946") {
        let crs = layer
            .crs
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no CRS"));
        assert!(crs.is_geographic(), "{what}: {}", crs.label());
    } else if let Some(name) = c.strip_prefix("PROJCS:") {
        let crs = layer
            .crs
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no CRS"));
        assert!(!crs.is_geographic(), "{what}: {}", crs.label());
        // Known projections are labelled by their EPSG code; others by the .prj's name.
        let label = crs.label();
        assert!(
            label.starts_with("EPSG:") || label.starts_with(&name[..name.len().min(30)]),
            "{what}: {label} vs {name}"
        );
    } else if c == "no .prj" {
        assert!(layer.crs.is_none(), "{what}");
        assert!(
            layer.warnings.iter().any(|w| w.contains("no .prj")),
            "{what}"
        );
    } else if c.starts_with("crs member") {
        assert!(layer.crs.is_some(), "{what}");
    }
}

#[test]
fn every_manifest_file_opens_as_described_or_is_refused_with_the_reason() {
    let Some(root) = common::realdata() else {
        return;
    };
    let rows = manifest(&root);
    assert!(rows.len() > 100, "{} rows in the manifest", rows.len());
    let (mut opened, mut refused) = (0, 0);
    for row in &rows {
        let what = row.path.display();
        let expect = expectation(row);
        let got = std::panic::catch_unwind(|| read_layer(&row.path, &ReadOptions::default()))
            .unwrap_or_else(|_| panic!("{what}: panicked"));
        match (&expect, got) {
            (Expect::Opens(n), Ok(layer)) => {
                opened += 1;
                assert_eq!(layer.features.len(), *n, "{what}");
                let geometry = row.geometry.rsplit(' ').next().unwrap_or_default();
                if POLYGONAL[..3].contains(&geometry) && row.path.extension().unwrap() == "shp" {
                    assert_eq!(layer.geometry_type, geometry, "{what}");
                }
                check_crs(row, &layer);
                if let Some(text) = sample_text(&row.edge) {
                    let values: Vec<Vec<Value>> =
                        layer.features.iter().map(|f| f.values.clone()).collect();
                    assert!(
                        texts(&values).any(|t| t == text),
                        "{what}: {text:?} not among the decoded values ({:?})",
                        layer.encoding
                    );
                }
            }
            (Expect::Refused(reason), Err(e)) => {
                refused += 1;
                let msg = e.to_string();
                assert!(msg.contains(reason), "{what}: {msg}");
                assert!(!msg.contains('\n'), "{what}: one line: {msg}");
                assert!(msg.ends_with(&*row.path.to_string_lossy()), "{what}: {msg}");
            }
            (Expect::NotPolygons(kind), Err(e)) => {
                refused += 1;
                assert!(matches!(e, LayerError::NotPolygons { .. }), "{what}: {e}");
                let msg = e.to_string();
                assert!(msg.contains(kind.as_str()), "{what}: {msg}");
                assert!(!msg.contains('\n'), "{what}: one line: {msg}");
            }
            (expect, got) => panic!(
                "{what}: expected {expect:?}, got {:?}",
                got.map(|l| l.features.len()).map_err(|e| e.to_string())
            ),
        }
    }
    println!(
        "corpus: {opened} opened, {refused} refused, of {} listed",
        rows.len()
    );
}

#[test]
fn non_ascii_text_decodes_in_every_table_even_where_the_geometry_is_refused() {
    let Some(root) = common::realdata() else {
        return;
    };
    let mut checked = 0;
    for row in manifest(&root) {
        let Some(text) = sample_text(&row.edge) else {
            continue;
        };
        let ext = row.path.extension().unwrap().to_ascii_lowercase();
        if ext != "shp" && ext != "dbf" {
            continue; // GeoJSON is UTF-8 by definition; opened ones are checked above
        }
        let (_, records, encoding) = read_table(&row.path, &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", row.path.display()));
        assert!(
            texts(&records).any(|t| t == text),
            "{}: {text:?} not decoded (read as {encoding:?})",
            row.path.display()
        );
        checked += 1;
    }
    // Latin-1, cp1252, UTF-8 Cyrillic and Greek, GBK.
    assert!(checked >= 10, "{checked} tables checked");
}

#[test]
fn every_file_in_the_folder_opens_or_is_refused_without_a_panic() {
    let Some(root) = common::realdata() else {
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 250, "{} files", files.len());
    for f in &files {
        match std::panic::catch_unwind(|| read_layer(f, &ReadOptions::default())) {
            Err(_) => panic!("{}: panicked", f.display()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "{}: {msg}", f.display());
                // A sidecar's error names the .shp it belongs to.
                assert!(
                    msg.contains(&*f.file_stem().unwrap().to_string_lossy()),
                    "{}: {msg}",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn info_and_analyze_answer_in_one_line_for_every_listed_file() {
    let Some(root) = common::realdata() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let risk = out.path().join("risk.geojson");
    common::write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#,
            vec![vec![common::rect(0.0, 0.0, 100.0, 100.0)]],
        )],
    );
    for row in manifest(&root) {
        let what = row.path.display();
        let info = std::process::Command::new(common::bin())
            .arg("info")
            .arg(&row.path)
            .output()
            .unwrap();
        let code = info.status.code();
        assert!(matches!(code, Some(0 | 1)), "{what}: info exit {code:?}");
        if code == Some(1) {
            let err = String::from_utf8_lossy(&info.stderr);
            assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
        }
        // The file as the parcel layer, against a one-square risk layer.
        let analyze = std::process::Command::new(common::bin())
            .arg("analyze")
            .arg("--risk")
            .arg(&risk)
            .arg("--parcels")
            .arg(&row.path)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        let code = analyze.status.code();
        assert!(matches!(code, Some(0 | 1)), "{what}: analyze exit {code:?}");
        let err = String::from_utf8_lossy(&analyze.stderr);
        if code == Some(1) {
            assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
            assert!(err.contains("soilrisk: error: "), "{what}: {err}");
        }
    }
}

#[test]
fn self_intersecting_real_polygons_are_repaired_as_geos_make_valid_does() {
    use geo::Area;
    let Some(root) = common::realdata() else {
        return;
    };
    // NY8_utm18.shp holds five invalid polygons (the manifest's count). Reference areas:
    // shapely 2.2.0 `make_valid` (GEOS, linework method) of the same records, read by pyogrio.
    let geos = [
        (24, 34_120_281.459_367),
        (28, 75_449_463.716_687),
        (173, 13_711_997.743_592),
        (210, 2_957_491.505_375),
        (224, 9_642_620.177_604),
    ];
    let path = root.join("deb-r-cran-spdata-2.2.1/NY8_utm18.shp");
    let layer = read_layer(&path, &ReadOptions::default()).unwrap();
    let repaired: Vec<&String> = layer
        .warnings
        .iter()
        .filter(|w| w.contains("self-intersecting boundary made valid"))
        .collect();
    assert_eq!(repaired.len(), 5, "{repaired:?}");
    for (record, want) in geos {
        assert!(
            repaired
                .iter()
                .any(|w| w.contains(&format!("record {record}:"))),
            "record {record} not reported"
        );
        let f = layer.features.iter().find(|f| f.record == record).unwrap();
        let got = f.geometry.unsigned_area();
        assert!(
            ((got - want) / want).abs() < 1e-9,
            "record {record}: {got} vs GEOS {want}"
        );
        assert!(geo::Validation::is_valid(&f.geometry), "record {record}");
    }
}
