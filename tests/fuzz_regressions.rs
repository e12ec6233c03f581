//! Every input the fuzzers (`fuzz/`) made crash, replayed as the fuzz targets feed them:
//! each must now open or be refused, without a panic. The inputs are in
//! `tests/fuzz_regressions/<target>/`, named by libFuzzer.
//!
//! Findings, 2026-11-29:
//! - parse_geojson: nine inputs whose first feature holds self-intersecting rings with holes
//!   outside their shell made geo's `MakeValid` panic inside its sweep (`assertion failed:
//!   intervals_overlap`, geo 0.33.1 `algorithm/sweep/mod.rs:169`).
//! - read_shapefile: twenty inputs with one self-intersecting ring of thousands of points took
//!   3 to 5 s each (over libFuzzer's 10 s limit in its slower build) in `MakeValid`'s
//!   triangulation; three are kept here.
//!
//! - read_shapefile, on the i_overlay repair: three inputs made the clipper overflow `i64`
//!   (`attempt to multiply with overflow`, i_float 1.16 `fix_vec.rs:143`): a ring whose
//!   coordinates run from 1e-61 to 1e285, and one about 1e-307 across (an infinite scale
//!   factor). Coordinates beyond ±1e12 are now dropped as damage, operands under 1e-200 across
//!   hold no area, and every clip gets headroom (`src/clip.rs`).
//!
//! - parse_geojson, on the confirmation run: one input (`crash-576b0b76…`, minimal form
//!   `minimized-from-crash-576b0b76`: one self-crossing ring with a vertex ten million
//!   degrees out and the rest within a degree) broke an invariant of i_overlay's OGC contour
//!   extraction (`assertion failed: overlay_rule.is_fill_top(link.fill)`, i_overlay 4.5.2
//!   `core/extract_ogc.rs:121`, a debug assertion) in the widened frame of `src/clip.rs`.
//!   The repair now takes the clipper's plain extraction and cuts self-touching rings itself
//!   (`io::rings::ogc_form`).
//!
//! - read_filegdb: no finding yet; its directory holds seeds (a real polygon table with
//!   deleted rows, a point table), replayed as the target feeds them.
//!
//! The other two `minimized-from-*` are libFuzzer's minimal forms of the first and the last (55 and 253
//! bytes).
//!
//! The repair now goes through i_overlay (one even-odd union of the record's rings), which the
//! overlay already relies on: no panic, milliseconds on those rings, and the same areas as
//! GEOS `make_valid` on the real invalid polygons (`tests/corpus.rs`).
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

use std::path::{Path, PathBuf};

use soilrisk::io::ReadOptions;
use soilrisk::io::fgdb::read_table_bytes;
use soilrisk::io::formats::opening;
use soilrisk::io::geojson_in::parse_geojson;
use soilrisk::io::gpkg::polygons_of;
use soilrisk::io::shp::{Part, Parts, read_parts};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn geojson_crashes_now_open_or_are_refused() {
    let files = inputs("parse_geojson");
    assert!(files.len() >= 9);
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        let r = std::panic::catch_unwind(|| parse_geojson(Path::new("fuzz.geojson"), text));
        let r = r.unwrap_or_else(|_| panic!("{}: panicked", f.display()));
        if let Err(e) = r {
            assert!(e.to_string().ends_with("fuzz.geojson"), "{e}");
        }
    }
}

#[test]
fn the_polygon_behind_the_geojson_crashes_is_repaired() {
    // The first feature of crash-8e1dd6fe…: a crossing shell, a hole with a one-number
    // position, a ring through the origin twice.
    let text = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":
        [[[2,0],[6,8],[4,0],[0,0]],[[1,1],[4],[5,1],[0,0]],
         [[1,12],[3,1],[6,3],[2,3],[0,0],[0,5],[40,1],[1,1],[1,1],[-0,0]]]}}"#;
    let layer = parse_geojson(Path::new("crash.geojson"), text.to_string()).unwrap();
    assert_eq!(layer.features.len(), 1);
    let g = &layer.features[0].geometry;
    assert!(
        geo::Validation::is_valid(g),
        "{:?} {:?}",
        geo::Validation::validation_errors(g),
        g
    );
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("self-intersecting boundary made valid")),
        "{:?}",
        layer.warnings
    );
}

/// The packed format of the read_shapefile target (`fuzz/src/lib.rs`): flags, then the
/// lengths of the .shp, .dbf and .prj, then the files, the .cpg last.
fn unpack(data: &[u8]) -> Parts {
    let mut h = [0u8; 13];
    let n = data.len().min(13);
    h[..n].copy_from_slice(&data[..n]);
    let len = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]) as usize;
    let mut rest = &data[n..];
    let mut take = |l: usize| {
        let (a, b) = rest.split_at(l.min(rest.len()));
        rest = b;
        a.to_vec()
    };
    let (shp, dbf, prj) = (take(len(1)), take(len(5)), take(len(9)));
    let part = |ext: &str, bytes: Vec<u8>| Part::Bytes {
        name: PathBuf::from(format!("fuzz.{ext}")),
        bytes,
    };
    Parts {
        shp: part("shp", shp),
        dbf: (h[0] & 1 != 0).then(|| part("dbf", dbf)),
        prj: (h[0] & 2 != 0).then(|| part("prj", prj)),
        cpg: (h[0] & 4 != 0).then(|| part("cpg", rest.to_vec())),
    }
}

#[test]
fn shapefile_crashes_now_open_or_are_refused() {
    for f in inputs("read_shapefile") {
        let parts = unpack(&std::fs::read(&f).unwrap());
        let r = std::panic::catch_unwind(move || read_parts(parts, &Default::default()));
        assert!(r.is_ok(), "{}: panicked", f.display());
    }
}

/// The read_geopackage target's input: a whole `.gpkg` (SQLite's magic first), read from
/// memory, or one geometry blob.
fn read_geopackage(data: Vec<u8>) -> Result<usize, String> {
    if data.starts_with(b"SQLite format 3\0") {
        let format = opening("fuzz.gpkg").unwrap();
        let part = Part::Bytes {
            name: PathBuf::from("fuzz.gpkg"),
            bytes: data,
        };
        format
            .open(part, &mut |_| Ok(None), None, &ReadOptions::default())
            .and_then(|r| r.read_all())
            .map(|l| l.features.len())
            .map_err(|e| e.to_string())
    } else {
        polygons_of(&data).map(|(mp, _, _)| mp.0.len())
    }
}

#[test]
fn geopackage_inputs_open_or_are_refused() {
    let files = inputs("read_geopackage");
    assert!(files.len() >= 3);
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let r = std::panic::catch_unwind(move || read_geopackage(data));
        let r = r.unwrap_or_else(|_| panic!("{}: panicked", f.display()));
        // The seeds are valid: a blob of one polygon, one of a MultiSurface of arcs, and a
        // GeoPackage of both.
        let name = f.file_name().unwrap().to_string_lossy();
        if name.starts_with("seed-") {
            assert!(r.as_ref().is_ok_and(|&n| n >= 1), "{name}: {r:?}");
        }
    }
}

#[test]
fn filegdb_inputs_open_or_are_refused() {
    let files = inputs("read_filegdb");
    assert!(files.len() >= 2);
    for f in files {
        // The packed format of the read_filegdb target (`fuzz/src/lib.rs`): the length of the
        // .gdbtable, the .gdbtable, the .gdbtablx.
        let data = std::fs::read(&f).unwrap();
        let mut h = [0u8; 4];
        let n = data.len().min(4);
        h[..n].copy_from_slice(&data[..n]);
        let rest = &data[n..];
        let len = (u32::from_le_bytes(h) as usize).min(rest.len());
        let (table, tablx) = (rest[..len].to_vec(), rest[len..].to_vec());
        let r = std::panic::catch_unwind(move || {
            read_table_bytes(
                Path::new("fuzz.gdb/layer"),
                table,
                tablx,
                &Default::default(),
            )
        });
        let r = r.unwrap_or_else(|_| panic!("{}: panicked", f.display()));
        let name = f.file_name().unwrap().to_string_lossy();
        if name == "seed-test_fgdb-test_areas" {
            assert_eq!(r.unwrap().features.len(), 2);
        } else if let Err(e) = r {
            assert!(e.to_string().contains("fuzz.gdb/layer"), "{e}");
        }
    }
}
