//! GeoPackage layers read (`io::gpkg`) and `results.gpkg` written (`export_gpkg`): the bundled
//! sample converted by GDAL gives the shapefiles' numbers, curves are densified as GDAL
//! densifies them, other geometry types are refused by name, attributes of every type read
//! with their nulls, the written file reads back in GDAL as `parcels.geojson` reads, and
//! damaged files give a message naming the file, the layer and the fid.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use geo::{Area, Coord, LineString, MultiPolygon, Polygon};
use rusqlite::Connection;
use serde_json::Value as Json;
use soilrisk::error::LayerError;
use soilrisk::io::formats;
use soilrisk::io::gpkg_geom::encode_multipolygon;
use soilrisk::io::shp::Part;
use soilrisk::io::{LayerReader, ReadOptions, read_layer};
use soilrisk::layer::{FieldKind, Value};

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

/// Every number of two JSON documents agrees to `rel` relative, everything else exactly.
fn assert_close(a: &Json, b: &Json, rel: f64, at: &str) {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= rel * x.abs().max(y.abs()),
                "{at}: {x} against {y}"
            );
        }
        (Json::Array(x), Json::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (k, (x, y)) in x.iter().zip(y).enumerate() {
                assert_close(x, y, rel, &format!("{at}[{k}]"));
            }
        }
        (Json::Object(x), Json::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, v) in x {
                assert_close(v, &y[k], rel, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn json(path: &Path) -> Json {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_sample_converted_by_gdal_gives_the_shapefiles_numbers() {
    if !common::tool("ogr2ogr") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gpkg = d.join("s.gpkg");
    run(Command::new("ogr2ogr")
        .args(["-f", "GPKG"])
        .arg(&gpkg)
        .arg(sample().join("parcels.shp"))
        .args(["-nln", "地类图斑"]));
    run(Command::new("ogr2ogr")
        .args(["-f", "GPKG", "-update", "-nlt", "MULTIPOLYGON"])
        .arg(&gpkg)
        .arg(sample().join("risk_areas.shp"))
        .args(["-nln", "风险区"]));

    // Two polygon layers: the file alone is refused with the names and how to give one.
    let out = common::analyze(&gpkg, &gpkg.join("地类图斑"), &d.join("o"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "2 layers to choose from (地类图斑, 风险区); name one after the archive, geodatabase \
             or GeoPackage, as in"
        ),
        "{err}"
    );
    assert!(err.contains("s.gpkg/地类图斑"), "{err}");

    let out = common::analyze(
        &gpkg.join("风险区"),
        &gpkg.join("地类图斑"),
        &d.join("g"),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::analyze(
        &sample().join("risk_areas.shp"),
        &sample().join("parcels.shp"),
        &d.join("s"),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_close(
        &json(&d.join("g/summary.json")),
        &json(&d.join("s/summary.json")),
        1e-9,
        "summary",
    );

    // Chinese layer and field names, read exactly.
    let named = d.join("named.gpkg");
    run(Command::new("ogr2ogr")
        .args(["-f", "GPKG"])
        .arg(&named)
        .arg(sample().join("parcels.shp"))
        .args([
            "-nln",
            "耕地图斑",
            "-sql",
            "SELECT PARCEL_ID AS \"图斑编号\", COUNTY AS \"县名\", MEASURE AS \"措施\" FROM parcels",
        ]));
    let layer = read_layer(&named, &ReadOptions::default()).unwrap();
    assert_eq!(layer.path, named.join("耕地图斑"));
    let names: Vec<&str> = layer.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["图斑编号", "县名", "措施"]);
    let shp = read_layer(&sample().join("parcels.shp"), &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), shp.features.len());
    assert_eq!(layer.features[0].values[1], shp.features[0].values[1]);
    assert_eq!(layer.features[0].record, 1);
    assert_eq!(layer.crs.as_ref().and_then(|c| c.epsg()), Some(4544));
}

/// The area of every feature of a layer (planar, in the layer's units).
fn area(path: &Path) -> f64 {
    read_layer(path, &ReadOptions::default())
        .unwrap()
        .features
        .iter()
        .map(|f| f.geometry.unsigned_area())
        .sum()
}

/// The area of a layer as GDAL densifies it: `ogr2ogr -f GeoJSON -nlt CONVERT_TO_LINEAR`,
/// read back.
fn gdal_linear_area(src: &Path, dir: &Path) -> f64 {
    let out = dir.join(format!(
        "{}.geojson",
        src.file_stem().unwrap().to_string_lossy()
    ));
    run(Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "-nlt", "CONVERT_TO_LINEAR"])
        .arg(&out)
        .arg(src));
    area(&out)
}

#[test]
fn curves_are_densified_as_gdal_densifies_them() {
    if !common::tool("ogr2ogr") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Arcs: a half disc of radius 100 (a CompoundCurve of an arc and its chord) with a hole
    // of radius 10 (a full circle), and a MultiSurface of it and a plain square.
    let csv = d.join("arcs.csv");
    std::fs::write(
        &csv,
        "id,WKT\n\
         1,\"CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(500000 3300000,500100 3300100,500200 3300000),(500200 3300000,500000 3300000)),CIRCULARSTRING(500090 3300030,500110 3300030,500090 3300030))\"\n\
         2,\"MULTISURFACE(CURVEPOLYGON(CIRCULARSTRING(600000 3300000,600050 3300050,600100 3300000,600050 3299950,600000 3300000)),((700000 3300000,700010 3300000,700010 3300010,700000 3300010,700000 3300000)))\"\n",
    )
    .unwrap();
    let arcs = d.join("arcs.gpkg");
    run(Command::new("ogr2ogr")
        .args(["-f", "GPKG", "-a_srs", "EPSG:4544", "-nlt", "MULTISURFACE"])
        .arg(&arcs)
        .arg(&csv)
        .args(["-nln", "arcs"]));
    let layer = read_layer(&arcs, &ReadOptions::default()).unwrap();
    assert_eq!(layer.geometry_type, "MultiSurface");
    let half_disc = std::f64::consts::PI * 100.0 * 100.0 / 2.0 - std::f64::consts::PI * 100.0;
    let circle = std::f64::consts::PI * 50.0 * 50.0 + 100.0;
    let ours: Vec<f64> = layer
        .features
        .iter()
        .map(|f| f.geometry.unsigned_area())
        .collect();
    // Chords of 4 degrees lose 0.05% of a circle's area.
    assert!((ours[0] - half_disc).abs() / half_disc < 1e-3, "{ours:?}");
    assert!((ours[1] - circle).abs() / circle < 1e-3, "{ours:?}");
    let gdal = gdal_linear_area(&arcs, d);
    let total: f64 = ours.iter().sum();
    eprintln!(
        "arcs: soilrisk {ours:?} (total {total}), GDAL CONVERT_TO_LINEAR {gdal}, exact {half_disc} + {circle}"
    );
    assert!(
        (total - gdal).abs() / gdal < 5e-4,
        "{total} against GDAL's {gdal}"
    );

    // The real files: a CurvePolygon and a MultiSurface (of line rings) from GDAL's tests.
    let Some(real) = common::realdata() else {
        return;
    };
    for name in ["curvepolygon.gpkg", "multisurface.gpkg"] {
        let src = real.join("filegdb-gpkg").join(name);
        let (ours, gdal) = (area(&src), gdal_linear_area(&src, d));
        eprintln!("{name}: soilrisk {ours}, GDAL CONVERT_TO_LINEAR {gdal} (square degrees)");
        assert!(ours > 0.0);
        assert!(
            (ours - gdal).abs() / gdal < 1e-6,
            "{name}: {ours} against {gdal}"
        );
    }
}

#[test]
fn lines_and_points_are_refused_by_name() {
    let Some(real) = common::realdata() else {
        return;
    };
    let dir = real.join("filegdb-gpkg");
    for (file, layer, kind) in [
        ("curve.gpkg", "curve", "CompoundCurve"),
        ("test_gpkg_nulls.gpkg", "test_gpkg_nulls", "Point"),
    ] {
        let e = read_layer(&dir.join(file), &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, LayerError::NotPolygons { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains(kind), "{text}");
        assert!(text.ends_with(&format!("{file}/{layer}")), "{text}");
    }
}

/// A square of side 1 at `x`.
fn square(x: f64) -> MultiPolygon<f64> {
    let ring: LineString<f64> = vec![
        Coord { x, y: 0.0 },
        Coord { x: x + 1.0, y: 0.0 },
        Coord { x: x + 1.0, y: 1.0 },
        Coord { x, y: 1.0 },
        Coord { x, y: 0.0 },
    ]
    .into();
    MultiPolygon::new(vec![Polygon::new(ring, vec![])])
}

fn blob(mp: &MultiPolygon<f64>, srs: i32) -> Vec<u8> {
    let mut b = Vec::new();
    encode_multipolygon(mp, srs, &mut b);
    b
}

#[test]
fn attributes_of_every_type_read_with_their_nulls() {
    let Some(real) = common::realdata() else {
        return;
    };
    // GDAL's test file of a Point layer with a column of each type, its last row all null,
    // made a polygon layer: its points become squares (its triggers call SpatiaLite's
    // functions, so they go first).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nulls.gpkg");
    std::fs::copy(real.join("filegdb-gpkg/test_gpkg_nulls.gpkg"), &path).unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        let triggers: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for t in triggers {
            conn.execute_batch(&format!("DROP TRIGGER \"{t}\""))
                .unwrap();
        }
        for fid in 1..=4 {
            conn.execute(
                "UPDATE test_gpkg_nulls SET geom = ?1 WHERE fid = ?2",
                rusqlite::params![blob(&square(fid as f64 * 2.0), 4326), fid],
            )
            .unwrap();
        }
        conn.execute_batch("UPDATE gpkg_geometry_columns SET geometry_type_name = 'MULTIPOLYGON'")
            .unwrap();
    }
    let layer = read_layer(&path, &ReadOptions::default()).unwrap();
    let kinds: Vec<(&str, FieldKind)> = layer
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.kind))
        .collect();
    assert_eq!(kinds[0], ("col_bool", FieldKind::Bool));
    assert!(
        kinds[1..].iter().all(|(_, k)| *k == FieldKind::Number),
        "{kinds:?}"
    );
    assert_eq!(layer.fields.len(), 11);
    assert_eq!(layer.features.len(), 4);
    let row = |i: usize| &layer.features[i].values;
    assert_eq!(row(0)[0], Value::Bool(true));
    assert_eq!(row(1)[0], Value::Bool(false));
    assert_eq!(row(1)[4], Value::Number(2.0));
    assert_eq!(row(2)[9], Value::Number(3.5));
    assert_eq!(row(2)[10], Value::Number(3.5));
    assert!(row(3).iter().all(|v| *v == Value::Null), "{:?}", row(3));
    assert_eq!(layer.crs.as_ref().and_then(|c| c.epsg()), Some(4326));
    assert_eq!(layer.features[3].record, 4);
}

/// A GeoPackage with one layer `land` (a text and a real column) of `rows` (fid, geometry
/// blob, name) in `srs`, made by hand as the specification lays it out.
fn make_gpkg(path: &Path, srs: i64, rows: &[(i64, Option<Vec<u8>>, &str)]) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA application_id = 1196444487;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
           organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
           definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES ('CGCS2000 / 3-degree Gauss-Kruger CM 105E',
           4544, 'EPSG', 4544, 'undefined', NULL);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
           identifier TEXT, description TEXT, last_change DATETIME, min_x DOUBLE, min_y DOUBLE,
           max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
           geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT, m TINYINT);
         CREATE TABLE land (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON,
           name TEXT, share REAL);",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO gpkg_contents VALUES ('land', 'features', 'land', '', '', 0, 0, 1, 1, ?1)",
        [srs],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES ('land', 'geom', 'MULTIPOLYGON', ?1, 0, 0)",
        [srs],
    )
    .unwrap();
    for (fid, geom, name) in rows {
        conn.execute(
            "INSERT INTO land VALUES (?1, ?2, ?3, 0.5)",
            rusqlite::params![fid, geom, name],
        )
        .unwrap();
    }
}

fn squares(n: i64) -> Vec<(i64, Option<Vec<u8>>, &'static str)> {
    (1..=n)
        .map(|k| (k * 3, Some(blob(&square(k as f64 * 2.0), 4544)), "梓潼县"))
        .collect()
}

#[test]
fn a_layer_streams_in_fid_ranges_and_from_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("land.gpkg");
    let mut rows = squares(10);
    rows.push((40, None, "null geometry"));
    make_gpkg(&path, 4544, &rows);
    // Three rows a batch (1 KiB a row), only `name` decoded.
    let opts = ReadOptions {
        batch_bytes: Some(3 * 1024),
        fields: Some(vec!["NAME".into()]),
        ..Default::default()
    };
    let mut reader = LayerReader::open(&path, &opts).unwrap();
    assert_eq!(reader.size_hint(), 11);
    let mut batches = 0;
    let mut records = Vec::new();
    while let Some(batch) = reader.next_batch().unwrap() {
        batches += 1;
        for f in batch {
            assert_eq!(f.values, [Value::Text("梓潼县".into()), Value::Null]);
            records.push(f.record);
        }
    }
    assert_eq!(batches, 4);
    assert_eq!(records, (1..=10).map(|k| k * 3).collect::<Vec<_>>());
    let layer = reader.finish();
    assert_eq!(layer.crs.as_ref().and_then(|c| c.epsg()), Some(4544));
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("1 feature(s) without geometry")),
        "{:?}",
        layer.warnings
    );

    // The same file as bytes, as a member of a zip arrives.
    let format = formats::opening("x.gpkg").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let name = dir.path().join("a.zip/land.gpkg");
    let layer = format
        .open(
            Part::Bytes {
                name: name.clone(),
                bytes,
            },
            &mut |_| Ok(None),
            None,
            &ReadOptions::default(),
        )
        .unwrap()
        .read_all()
        .unwrap();
    assert_eq!(layer.features.len(), 10);
    assert_eq!(layer.path, name.join("land"));
    assert_eq!(layer.features[0].values[1], Value::Number(0.5));
}

#[test]
fn damaged_geopackages_are_refused_naming_file_layer_and_fid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = |path: &Path| {
        read_layer(path, &ReadOptions::default())
            .unwrap_err()
            .to_string()
    };

    let text = d.join("text.gpkg");
    std::fs::write(&text, "not a database at all").unwrap();
    let e = err(&text);
    assert!(
        e.starts_with("not a GeoPackage (not an SQLite database): "),
        "{e}"
    );
    assert!(e.ends_with("text.gpkg"), "{e}");

    let plain = d.join("plain.gpkg");
    Connection::open(&plain)
        .unwrap()
        .execute_batch("CREATE TABLE t (a INTEGER)")
        .unwrap();
    let e = err(&plain);
    assert!(
        e.contains("an SQLite database but not a GeoPackage (no gpkg_contents table)"),
        "{e}"
    );

    let mut rows = squares(3);
    rows[1].1 = Some(b"GP\0\x01\0\0\0\0\x01\x06\0\0\0\xff\xff".to_vec());
    let broken = d.join("broken.gpkg");
    make_gpkg(&broken, 4544, &rows);
    let e = err(&broken);
    assert!(
        e.starts_with("damaged geometry (the geometry is cut short"),
        "{e}"
    );
    assert!(e.ends_with("broken.gpkg/land, record 6"), "{e}");

    let mut rows = squares(2);
    rows[0].1 = Some({
        let mut b = b"GP\0\x01\0\0\0\0".to_vec();
        b.extend_from_slice(&[1, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    });
    let line = d.join("line.gpkg");
    make_gpkg(&line, 4544, &rows);
    let e = err(&line);
    assert!(
        e.contains("a LineString geometry in a polygon layer"),
        "{e}"
    );
    assert!(e.ends_with("line.gpkg/land, record 3"), "{e}");

    let no_srs = d.join("no_srs.gpkg");
    make_gpkg(&no_srs, 9999, &squares(1));
    let e = err(&no_srs);
    assert_eq!(
        e,
        format!(
            "the layer's srs_id 9999 is not in gpkg_spatial_ref_sys: {}",
            no_srs.join("land").display()
        )
    );

    let no_table = d.join("no_table.gpkg");
    make_gpkg(&no_table, 4544, &squares(1));
    Connection::open(&no_table)
        .unwrap()
        .execute_batch("DROP TABLE land")
        .unwrap();
    let e = err(&no_table);
    assert!(
        e.starts_with("the layer's table is missing from the GeoPackage"),
        "{e}"
    );
    assert!(e.ends_with("no_table.gpkg/land"), "{e}");

    let e = err(&no_srs.join("forest"));
    assert!(
        e.starts_with("no such layer in the GeoPackage (it holds: land)"),
        "{e}"
    );

    // An attribute table beside the polygon layer: the file opens the polygons, the table by
    // name is refused.
    let with_table = d.join("with_table.gpkg");
    make_gpkg(&with_table, 4544, &squares(2));
    Connection::open(&with_table)
        .unwrap()
        .execute_batch(
            "CREATE TABLE notes (fid INTEGER PRIMARY KEY, note TEXT);
             INSERT INTO gpkg_contents VALUES ('notes', 'attributes', 'notes', '', '', NULL,
               NULL, NULL, NULL, NULL);",
        )
        .unwrap();
    let layer = read_layer(&with_table, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 2);
    let e = err(&with_table.join("notes"));
    assert_eq!(
        e,
        format!(
            "the attribute table holds no geometries; soilrisk needs polygons: {}",
            with_table.join("notes").display()
        )
    );

    let no_columns = d.join("no_columns.gpkg");
    make_gpkg(&no_columns, 4544, &squares(1));
    Connection::open(&no_columns)
        .unwrap()
        .execute_batch("DROP TABLE gpkg_geometry_columns")
        .unwrap();
    let e = err(&no_columns);
    assert!(e.contains("(no gpkg_geometry_columns table)"), "{e}");
}

#[test]
fn results_gpkg_reads_back_in_gdal_as_parcels_geojson_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::copy_sample(d);
    let (risk, parcels) = (d.join("risk_areas.shp"), d.join("parcels.shp"));
    let out = common::analyze(&risk, &parcels, &d.join("a"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::analyze(&risk, &parcels, &d.join("b"), &[]);
    assert!(out.status.success());
    let gpkg = d.join("a/results.gpkg");
    assert_eq!(
        std::fs::read(&gpkg).unwrap(),
        std::fs::read(d.join("b/results.gpkg")).unwrap(),
        "two runs write the same bytes"
    );

    // soilrisk reads its own file: both layers, in the analysis CRS.
    let geojson = json(&d.join("a/parcels.geojson"));
    let features = geojson["features"].as_array().unwrap();
    let layer = read_layer(&gpkg.join("parcels"), &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), features.len());
    assert_eq!(layer.crs.as_ref().and_then(|c| c.epsg()), Some(4544));
    let risk_layer = read_layer(&gpkg.join("risk_areas"), &ReadOptions::default()).unwrap();
    let risk_json = json(&d.join("a/risk_areas.geojson"));
    assert_eq!(
        risk_layer.features.len(),
        risk_json["features"].as_array().unwrap().len()
    );
    // The areas of the parcels layer are the GeoJSON's (to serde_json's parsing of the
    // shortest form, which may be one unit in the last place off).
    let area = layer.field_index("contaminated_area_m2").unwrap();
    for (g, f) in layer.features.iter().zip(features) {
        let Value::Number(ours) = g.values[area] else {
            panic!("{:?}", g.values[area])
        };
        let json = f["properties"]["contaminated_area_m2"].as_f64().unwrap();
        assert!(
            (ours - json).abs() <= 2.0 * f64::EPSILON * json.abs(),
            "{ours} {json}"
        );
    }
    let e = read_layer(&gpkg, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(e, LayerError::SeveralLayers { ref members, .. } if members == &["parcels", "risk_areas"])
    );

    if !common::tool("ogrinfo") {
        return;
    }
    let info = run(Command::new("ogrinfo").args(["-al", "-so"]).arg(&gpkg));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&info.stdout),
        String::from_utf8_lossy(&info.stderr),
    );
    assert!(stderr.trim().is_empty(), "ogrinfo said: {stderr}");
    assert!(
        !stdout.contains("Warning") && !stdout.contains("ERROR"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Feature Count: {}", features.len())),
        "{stdout}"
    );
    let index = run(Command::new("ogrinfo")
        .arg(&gpkg)
        .args(["-sql", "SELECT HasSpatialIndex('parcels','geom')"]));
    assert!(
        String::from_utf8_lossy(&index.stdout).contains("= 1"),
        "{}",
        String::from_utf8_lossy(&index.stdout)
    );

    // GDAL's reading of the parcels layer has every field of parcels.geojson, with its values.
    let back = d.join("back.geojson");
    run(Command::new("ogr2ogr")
        .args(["-f", "GeoJSON"])
        .arg(&back)
        .arg(&gpkg)
        .arg("parcels"));
    let back = json(&back);
    let back = back["features"].as_array().unwrap();
    assert_eq!(back.len(), features.len());
    for (b, f) in back.iter().zip(features) {
        let mut props = b["properties"].clone();
        // A list is a JSON text in a GeoPackage (which GDAL may give back as the list).
        if let Some(ids) = props["risk_ids"].as_str().map(str::to_string) {
            props["risk_ids"] = serde_json::from_str(&ids).unwrap();
        }
        // GDAL's GeoJSON writer prints 15 significant digits.
        assert_close(&props, &f["properties"], 1e-14, "properties");
    }
}
