//! ESRI File Geodatabases (`io::fgdb`): the real ArcGIS-written geodatabases of realdata read
//! as GDAL reads them (zipped and unzipped), the bundled sample converted by GDAL analysed as
//! the shapefiles are, Chinese layer and field names, and damaged tables refused with the
//! file, layer and row.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use geo::Area;
use serde_json::Value as Json;
use soilrisk::error::LayerError;
use soilrisk::io::fgdb::read_table_bytes;
use soilrisk::io::{LayerReader, ReadOptions, read_layer};
use soilrisk::layer::{Layer, Value};

/// Writes a zip at `path` holding the folder `dir` as `prefix/...`, stored.
fn zip_folder(path: &Path, dir: &Path, prefix: &str) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for file in names {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        w.start_file(format!("{prefix}/{name}"), opts).unwrap();
        w.write_all(&std::fs::read(&file).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

fn unzip(zip: &Path, into: &Path) {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let out = into.join(f.name());
        if f.is_dir() {
            std::fs::create_dir_all(&out).unwrap();
            continue;
        }
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        std::fs::write(out, bytes).unwrap();
    }
}

/// The features of `layer` of `src` as GDAL reads them, through `ogr2ogr -f GeoJSON`.
fn gdal_features(src: &Path, layer: &str) -> Vec<Json> {
    let o = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "/vsistdout/"])
        .arg(src)
        .arg(layer)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Json = serde_json::from_slice(&o.stdout).unwrap();
    v["features"].as_array().unwrap().clone()
}

/// Planar area of a GeoJSON (Multi)Polygon: shells minus holes, by the shoelace formula
/// about each ring's first point (as geo computes it: degrees squared lose digits otherwise).
fn json_area(g: &Json) -> f64 {
    let ring = |r: &Json| {
        let p: Vec<(f64, f64)> = r
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
            .collect();
        let (x0, y0) = p[0];
        let s: f64 = p
            .windows(2)
            .map(|w| (w[0].0 - x0) * (w[1].1 - y0) - (w[1].0 - x0) * (w[0].1 - y0))
            .sum();
        (s / 2.0).abs()
    };
    let polygon = |rings: &Json| {
        let rs = rings.as_array().unwrap();
        ring(&rs[0]) - rs[1..].iter().map(ring).sum::<f64>()
    };
    match g["type"].as_str().unwrap() {
        "Polygon" => polygon(&g["coordinates"]),
        "MultiPolygon" => g["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(polygon)
            .sum(),
        other => panic!("not a polygon: {other}"),
    }
}

/// Each feature's attributes and area equal GDAL's, in the same order.
fn assert_same_as_gdal(layer: &Layer, gdal: &[Json]) {
    assert_eq!(layer.features.len(), gdal.len(), "{}", layer.path.display());
    for (f, g) in layer.features.iter().zip(gdal) {
        let props = g["properties"].as_object().unwrap();
        for (def, v) in layer.fields.iter().zip(&f.values) {
            let want = &props[&def.name];
            match v {
                Value::Null => assert!(want.is_null(), "{}: {want}", def.name),
                // GDAL's GeoJSON writes 15 significant digits.
                Value::Number(n) => {
                    let w = want.as_f64().unwrap();
                    assert!((n - w).abs() <= 1e-14 * w.abs(), "{}: {n} vs {w}", def.name);
                }
                Value::Text(t) => assert_eq!(&**t, want.as_str().unwrap(), "{}", def.name),
                other => panic!("{}: unexpected {other:?}", def.name),
            }
        }
        // The same area (to the rounding of two summations) from the same vertices.
        let ours = f.geometry.unsigned_area();
        let theirs = json_area(&g["geometry"]);
        assert!(
            (ours - theirs).abs() <= 1e-9 * theirs.abs(),
            "record {}: {ours} vs GDAL {theirs}",
            f.record
        );
        let mut ours: Vec<(f64, f64)> = f
            .geometry
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().map(|c| (c.x, c.y)))
            .collect();
        let mut theirs: Vec<(f64, f64)> = Vec::new();
        let mut stack = vec![&g["geometry"]["coordinates"]];
        while let Some(v) = stack.pop() {
            let a = v.as_array().unwrap();
            if a.first().is_some_and(Json::is_number) {
                theirs.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()));
            } else {
                stack.extend(a);
            }
        }
        let by_xy = |a: &(f64, f64), b: &(f64, f64)| a.partial_cmp(b).unwrap();
        ours.sort_by(by_xy);
        theirs.sort_by(by_xy);
        assert_eq!(ours.len(), theirs.len(), "record {}", f.record);
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(
                (a.0 - b.0).abs() <= 1e-12 * b.0.abs() && (a.1 - b.1).abs() <= 1e-12 * b.1.abs(),
                "record {}: {a:?} vs GDAL {b:?}",
                f.record
            );
        }
    }
}

fn not_polygons(r: Result<Layer, LayerError>, name: &str, found: &str) {
    match r {
        Err(e @ LayerError::NotPolygons { .. }) => {
            let m = e.to_string();
            assert!(m.contains(found) && m.ends_with(name), "{m}");
        }
        other => panic!("{name}: {:?}", other.map(|l| l.features.len())),
    }
}

#[test]
fn arcgis_geodatabases_read_as_gdal_reads_them_zipped_or_not() {
    let Some(real) = common::realdata() else {
        return;
    };
    let zipped = real.join("filegdb-gpkg/test_fgdb.gdb.zip");
    let tmp = tempfile::tempdir().unwrap();
    unzip(&zipped, tmp.path());
    let folder = tmp.path().join("test_fgdb.gdb");
    let opts = ReadOptions::default();

    for (gdb, shown) in [
        (folder.clone(), folder.clone()),
        (zipped.join("test_fgdb.gdb"), zipped.join("test_fgdb.gdb")),
    ] {
        // The feature dataset's polygon layer, by its name and by its dataset path; the
        // geodatabase alone opens it, as its one polygon layer.
        let areas = read_layer(&gdb.join("test_areas"), &opts).unwrap();
        assert_eq!(areas.path, shown.join("test_areas"));
        assert_eq!(areas.geometry_type, "MultiPolygonZM");
        assert_eq!(areas.features.len(), 2);
        // Rows 1 to 855 were deleted in ArcGIS: the object ids are GDAL's FIDs.
        let ids: Vec<usize> = areas.features.iter().map(|f| f.record).collect();
        assert_eq!(ids, [856, 857]);
        let crs = areas.crs.as_ref().unwrap();
        assert!(
            format!("{crs:?}").contains("North_American_1983"),
            "{crs:?}"
        );
        let by_path = read_layer(&gdb.join("MyTestDatabase/test_areas"), &opts).unwrap();
        assert_eq!(by_path.features.len(), 2);
        if common::tool("ogr2ogr") {
            assert_same_as_gdal(&areas, &gdal_features(&folder, "test_areas"));
        }
        let feature_na = areas.field_index("FEATURE_NA").unwrap();
        assert_eq!(
            areas.features[1].values[feature_na],
            Value::Text("Some river in the middle of nowhere, usa".into())
        );

        // Lines, points and tables are refused by name.
        not_polygons(
            read_layer(&gdb.join("test_lines"), &opts),
            "test_lines",
            "Line",
        );
        not_polygons(
            read_layer(&gdb.join("test_points"), &opts),
            "test_points",
            "Point",
        );
        not_polygons(read_layer(&gdb.join("basetable"), &opts), "basetable", "no");
    }
    let whole = read_layer(&folder, &opts).unwrap();
    assert_eq!(whole.path, folder.join("test_areas"));
    let whole = read_layer(&zipped, &opts).unwrap();
    assert_eq!(whole.path, zipped.join("test_fgdb.gdb/test_areas"));
    // `data.zip/LAYER` when one geodatabase of the archive holds it.
    assert_eq!(
        read_layer(&zipped.join("test_areas"), &opts)
            .unwrap()
            .features
            .len(),
        2
    );

    // The layers, as ogrinfo lists them.
    let fmt = soilrisk::io::formats::opening("x.gdb").unwrap();
    let mut layers = fmt.layers(&folder).unwrap();
    layers.sort();
    let mut want = vec![
        "another_relationship",
        "base_table1",
        "basetable",
        "basetable_2",
        "more_test_lines",
        "test_areas",
        "test_lines",
        "test_points",
    ];
    want.sort();
    assert_eq!(layers, want);
    if common::tool("ogrinfo") {
        let o = Command::new("ogrinfo")
            .args(["-ro", "-q"])
            .arg(&folder)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        for l in &want {
            assert!(text.contains(&format!("Layer: {l} ")), "{l}: {text}");
        }
    }
}

#[test]
fn a_geodatabase_without_polygons_says_what_it_holds() {
    let Some(real) = common::realdata() else {
        return;
    };
    let zipped = real.join("filegdb-gpkg/Test1.gdb.zip");
    let tmp = tempfile::tempdir().unwrap();
    unzip(&zipped, tmp.path());
    let opts = ReadOptions::default();
    for gdb in [tmp.path().join("Test1.gdb"), zipped.join("Test1.gdb")] {
        not_polygons(read_layer(&gdb.join("TABLE1"), &opts), "TABLE1", "no");
        not_polygons(read_layer(&gdb.join("POINT1"), &opts), "POINT1", "Point");
        let e = read_layer(&gdb, &opts).unwrap_err().to_string();
        assert!(
            e.contains("no polygon layer") && e.contains("TABLE1, POINT1"),
            "{e}"
        );
    }
    let e = read_layer(&zipped, &opts).unwrap_err().to_string();
    assert!(
        e.contains("no polygon layer") && e.contains("Test1.gdb/POINT1"),
        "{e}"
    );
}

/// The bundled sample converted by GDAL into `dir/sample.gdb`: parcels as `地类图斑`, risk
/// areas as `risk_areas`, with a grid fine enough (1e-9 m from an origin at 0, so that the
/// integers stay within a double's 53 bits) to keep the shapefiles' coordinates.
fn sample_gdb(dir: &Path) -> Option<PathBuf> {
    if !common::tool("ogr2ogr") {
        return None;
    }
    common::copy_sample(dir);
    let gdb = dir.join("sample.gdb");
    for (shp, name) in [
        ("parcels.shp", "地类图斑"),
        ("risk_areas.shp", "risk_areas"),
    ] {
        let mut c = Command::new("ogr2ogr");
        c.args(["-f", "OpenFileGDB"]);
        if gdb.exists() {
            c.arg("-update");
        }
        let o = c
            .arg(&gdb)
            .arg(dir.join(shp))
            .args(["-nln", name, "-lco", "XYSCALE=1e9"])
            .args(["-lco", "XORIGIN=0", "-lco", "YORIGIN=0"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    Some(gdb)
}

/// Numbers equal to 1e-9 relative, everything else exactly; warnings (which name the files)
/// only counted.
fn assert_close(a: &Json, b: &Json, at: &str) {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()) + 1e-9,
                "{at}: {x} vs {y}"
            );
        }
        (Json::Object(x), Json::Object(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (k, v) in x {
                if k == "warnings" {
                    assert_eq!(v.as_array().map(Vec::len), y[k].as_array().map(Vec::len));
                    continue;
                }
                assert_close(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Json::Array(x), Json::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_close(v, w, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn the_sample_converted_by_gdal_analyzes_as_the_shapefiles() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(gdb) = sample_gdb(tmp.path()) else {
        return;
    };
    let want = common::analyze_summary(
        &tmp.path().join("risk_areas.shp"),
        &tmp.path().join("parcels.shp"),
        &tmp.path().join("out_shp"),
    );
    let got = common::analyze_summary(
        &gdb.join("risk_areas"),
        &gdb.join("地类图斑"),
        &tmp.path().join("out_gdb"),
    );
    assert_close(&want, &got, "summary");

    let zipped = tmp.path().join("sample.gdb.zip");
    zip_folder(&zipped, &gdb, "sample.gdb");
    let got = common::analyze_summary(
        &zipped.join("sample.gdb/risk_areas"),
        &zipped.join("地类图斑"),
        &tmp.path().join("out_zip"),
    );
    assert_close(&want, &got, "summary");

    // The geodatabase alone holds two polygon layers: both named.
    let e = read_layer(&gdb, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, LayerError::SeveralLayers { members, .. } if members == &["地类图斑", "risk_areas"]),
        "{e}"
    );

    // The sample's Chinese text, its fields and CRS as the shapefile gives them.
    let shp = read_layer(&tmp.path().join("parcels.shp"), &ReadOptions::default()).unwrap();
    let layer = read_layer(&gdb.join("地类图斑"), &ReadOptions::default()).unwrap();
    assert_eq!(layer.path, gdb.join("地类图斑"));
    assert_eq!(layer.fields, shp.fields);
    assert_eq!(
        layer.crs.as_ref().and_then(|c| c.epsg()),
        shp.crs.as_ref().and_then(|c| c.epsg())
    );
    assert_eq!(layer.features.len(), shp.features.len());
    for (a, b) in layer.features.iter().zip(&shp.features).step_by(997) {
        assert_eq!(a.values, b.values);
        assert_eq!(a.record, b.record);
    }
}

#[test]
fn only_the_fields_asked_for_are_decoded_in_batches() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(gdb) = sample_gdb(tmp.path()) else {
        return;
    };
    let opts = ReadOptions {
        fields: Some(vec!["county".into()]),
        batch_bytes: Some(64 << 10),
        ..Default::default()
    };
    let mut r = LayerReader::open(&gdb.join("地类图斑"), &opts).unwrap();
    assert_eq!(r.size_hint(), 30_000);
    let mut batches = 0;
    let mut n = 0;
    let county = r.header().field_index("COUNTY").unwrap();
    let crop = r.header().field_index("CROP").unwrap();
    while let Some(b) = r.next_batch().unwrap() {
        batches += 1;
        for f in &b {
            assert!(matches!(f.values[county], Value::Text(_)));
            assert_eq!(f.values[crop], Value::Null);
        }
        n += b.len();
    }
    assert!(batches > 10, "{batches}");
    assert_eq!(n, 30_000);
    assert!(r.finish().warnings.is_empty());
}

#[test]
fn chinese_layer_and_field_names_read_exactly() {
    if !common::tool("ogr2ogr") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src.geojson");
    common::write_geojson(
        &src,
        &[
            (
                r#"{"图斑编号":"P1","权属单位名称":"双流区","地类名称":"水田","图斑面积":1234.5,"调查日期":"2024-05-06"}"#,
                vec![vec![common::rect(0., 0., 100., 100.)]],
            ),
            (
                r#"{"图斑编号":"P2","权属单位名称":null,"地类名称":"旱地","图斑面积":7,"调查日期":"2024-05-07T08:30:00"}"#,
                vec![vec![
                    common::rect(0., 0., 50., 50.),
                    common::rect(10., 10., 20., 20.),
                ]],
            ),
            // No polygon: written by GDAL as a null shape.
            (r#"{"图斑编号":"P3"}"#, vec![]),
        ],
    );
    let gdb = tmp.path().join("调查.gdb");
    let o = Command::new("ogr2ogr")
        .args(["-f", "OpenFileGDB"])
        .arg(&gdb)
        .arg(&src)
        .args(["-nln", "地类图斑"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let layer = read_layer(&gdb.join("地类图斑"), &ReadOptions::default()).unwrap();
    let names: Vec<&str> = layer.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "图斑编号",
            "权属单位名称",
            "地类名称",
            "图斑面积",
            "调查日期"
        ]
    );
    let v = |i: usize| layer.features[i].values.clone();
    assert_eq!(v(0)[1], Value::Text("双流区".into()));
    assert_eq!(v(1)[1], Value::Null);
    assert_eq!(v(0)[3], Value::Number(1234.5));
    assert_eq!(v(0)[4], Value::Date("2024-05-06".into()));
    assert_eq!(v(1)[4], Value::Date("2024-05-07T08:30:00".into()));
    assert!((layer.features[1].geometry.unsigned_area() - 2400.0).abs() < 1e-6);
    assert_eq!(layer.crs.as_ref().and_then(|c| c.epsg()), Some(4544));
    assert_eq!(layer.features.len(), 2);
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.ends_with("地类图斑: 1 feature(s) without geometry skipped")),
        "{:?}",
        layer.warnings
    );
}

/// A copy of the sample's geodatabase to damage, and the parcels table's files in it.
fn damaged_copy(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let gdb = sample_gdb(dir)?;
    // The parcels were written first: the first table after the system tables.
    let table = gdb.join("a00000009.gdbtable");
    let index = gdb.join("a00000009.gdbtablx");
    assert!(table.is_file() && index.is_file());
    Some((gdb, table, index))
}

#[test]
fn damaged_tables_are_refused_naming_file_layer_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((gdb, table, index)) = damaged_copy(tmp.path()) else {
        return;
    };
    let layer = gdb.join("地类图斑");
    let opts = ReadOptions::default();
    let bytes = std::fs::read(&table).unwrap();
    let tablx = std::fs::read(&index).unwrap();

    // Truncated: the rows past the end are missing.
    std::fs::write(&table, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let e = read_layer(&layer, &opts).unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, LayerError::Record { .. }), "{m}");
    assert!(
        m.contains("a00000009.gdbtable")
            && m.contains("truncated")
            && m.contains("地类图斑, record "),
        "{m}"
    );
    // Truncated inside the header.
    std::fs::write(&table, &bytes[..30]).unwrap();
    let m = read_layer(&layer, &opts).unwrap_err().to_string();
    assert!(
        m.contains("a00000009.gdbtable") && m.ends_with("地类图斑"),
        "{m}"
    );

    // The row index missing.
    std::fs::write(&table, &bytes).unwrap();
    std::fs::remove_file(&index).unwrap();
    let m = read_layer(&layer, &opts).unwrap_err().to_string();
    assert!(
        m.contains("a00000009.gdbtablx") && m.ends_with("地类图斑"),
        "{m}"
    );
    // The row index claiming a billion rows in blocks it does not hold.
    let mut big = tablx.clone();
    big[4..8].copy_from_slice(&1_000_000u32.to_le_bytes());
    big[8..12].copy_from_slice(&1_000_000_000u32.to_le_bytes());
    std::fs::write(&index, &big).unwrap();
    let m = read_layer(&layer, &opts).unwrap_err().to_string();
    assert!(
        m.contains("a00000009.gdbtablx") && m.contains("truncated"),
        "{m}"
    );
    // An offset past the end of the table.
    let mut bad = tablx.clone();
    let w = u32::from_le_bytes(tablx[12..16].try_into().unwrap()) as usize;
    let at = 16 + 99 * w; // row 100
    bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&index, &bad).unwrap();
    let m = read_layer(&layer, &opts).unwrap_err().to_string();
    assert!(m.ends_with("地类图斑, record 100"), "{m}");
    std::fs::write(&index, &tablx).unwrap();

    // A geometry blob whose point count is absurd: row 1's shape (the first value after one
    // byte of null flags: its length, then its type, 5, then the count).
    let offset = u32::from_le_bytes(tablx[16..20].try_into().unwrap()) as usize;
    let mut bad = bytes.clone();
    let mut at = offset + 4 + 1;
    while bad[at] & 0x80 != 0 {
        at += 1;
    }
    at += 1;
    assert_eq!(
        bad[at], 5,
        "row 1's shape is not where this test expects it"
    );
    bad[at + 1..at + 5].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0x0F]);
    std::fs::write(&table, &bad).unwrap();
    let e = read_layer(&layer, &opts).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("a00000009.gdbtable: damaged polygon shape")
            && m.ends_with("地类图斑, record 1"),
        "{m}"
    );
    // Its type made a point's: refused as not a polygon, by row.
    let mut bad = bytes.clone();
    bad[at] = 1;
    std::fs::write(&table, &bad).unwrap();
    let m = read_layer(&layer, &opts).unwrap_err().to_string();
    assert!(
        m.contains("a Point shape") && m.ends_with("record 1"),
        "{m}"
    );
}

#[test]
fn circular_arcs_are_densified_as_gdal_densifies_them() {
    if !common::tool("ogr2ogr") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // A circle as two arcs, and a square with one side bulged by an arc through a point.
    let csv = tmp.path().join("arcs.csv");
    std::fs::write(
        &csv,
        "id,WKT\n\
         1,\"CURVEPOLYGON(CIRCULARSTRING(400000 3000000,400100 3000100,400200 3000000,400100 2999900,400000 3000000))\"\n\
         2,\"CURVEPOLYGON(COMPOUNDCURVE((500000 3000000,500100 3000000),CIRCULARSTRING(500100 3000000,500150 3000050,500100 3000100),(500100 3000100,500000 3000100,500000 3000000)))\"\n",
    )
    .unwrap();
    let gdb = tmp.path().join("arcs.gdb");
    let o = Command::new("ogr2ogr")
        .args(["-f", "OpenFileGDB"])
        .arg(&gdb)
        .arg(&csv)
        .args([
            "-nln",
            "arcs",
            "-a_srs",
            "EPSG:4544",
            "-nlt",
            "CURVEPOLYGON",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let layer = read_layer(&gdb.join("arcs"), &ReadOptions::default()).unwrap();
    assert!(layer.warnings.is_empty(), "{:?}", layer.warnings);
    let gdal = gdal_features(&gdb, "arcs");
    assert_same_as_gdal(&layer, &gdal);
    let circle = layer.features[0].geometry.unsigned_area();
    let pi_r2 = std::f64::consts::PI * 100.0 * 100.0;
    assert!((circle / pi_r2 - 1.0).abs() < 2e-3, "{circle}");
}

#[test]
fn random_damage_to_a_real_table_is_refused_or_read_never_a_panic() {
    let Some(real) = common::realdata() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    unzip(&real.join("filegdb-gpkg/test_fgdb.gdb.zip"), tmp.path());
    let dir = tmp.path().join("test_fgdb.gdb");
    let table = std::fs::read(dir.join("a00000024.gdbtable")).unwrap();
    let tablx = std::fs::read(dir.join("a00000024.gdbtablx")).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..3000 {
        let (mut t, mut x) = (table.clone(), tablx.clone());
        let target = if i % 5 == 0 { &mut x } else { &mut t };
        match next() % 4 {
            0 => target.truncate((next() % target.len() as u64) as usize),
            _ => {
                for _ in 0..1 + next() % 4 {
                    let at = (next() % target.len() as u64) as usize;
                    target[at] = next() as u8;
                }
            }
        }
        let r = std::panic::catch_unwind(|| {
            read_table_bytes(Path::new("x.gdb/test_areas"), t, x, &ReadOptions::default())
        });
        match r {
            Err(_) => panic!("mutation {i} panicked"),
            Ok(Err(e)) => assert!(e.to_string().contains("x.gdb/test_areas"), "{e}"),
            Ok(Ok(_)) => {}
        }
    }
}

#[test]
fn a_sparse_row_index_gives_the_object_ids_gdal_gives() {
    if !common::tool("ogr2ogr") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("s.geojson");
    // Object ids far apart: GDAL writes a row index holding only the blocks of 1024 rows
    // that have rows, with a bitmap of them.
    let features: Vec<String> = [1, 5000, 5001, 200_000]
        .iter()
        .enumerate()
        .map(|(i, fid)| {
            let x = 400_000 + 200 * i;
            format!(
                r#"{{"type":"Feature","id":{fid},"properties":{{"n":{fid}}},"geometry":{{"type":"Polygon","coordinates":[[[{x},3000000],[{},3000000],[{},3000100],[{x},3000100],[{x},3000000]]]}}}}"#,
                x + 100,
                x + 100
            )
        })
        .collect();
    std::fs::write(
        &src,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
    let gdb = tmp.path().join("s.gdb");
    let o = Command::new("ogr2ogr")
        .args(["-f", "OpenFileGDB"])
        .arg(&gdb)
        .arg(&src)
        .args(["-nln", "sparse", "-preserve_fid", "-a_srs", "EPSG:4544"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let layer = read_layer(&gdb.join("sparse"), &ReadOptions::default()).unwrap();
    let ids: Vec<usize> = layer.features.iter().map(|f| f.record).collect();
    assert_eq!(ids, [1, 5000, 5001, 200_000]);
    let n: Vec<Value> = layer.features.iter().map(|f| f.values[0].clone()).collect();
    assert_eq!(
        n,
        ids.iter()
            .map(|&i| Value::Number(i as f64))
            .collect::<Vec<_>>()
    );
    assert!(layer.warnings.is_empty(), "{:?}", layer.warnings);
}

/// Found by review: a field added after the table was written (GDAL's and ArcGIS's ALTER
/// TABLE) moves the field list to the end of the file, far past the header. The layer must
/// still count as a polygon layer, so that opening the geodatabase alone is the
/// several-layers error rather than a silent choice of the other layer.
#[test]
fn a_field_list_moved_to_the_end_still_counts_its_layer() {
    let dir = tempfile::tempdir().unwrap();
    let Some(gdb) = sample_gdb(dir.path()) else {
        return;
    };
    let o = Command::new("ogrinfo")
        .arg(&gdb)
        .args(["-sql", "ALTER TABLE \"地类图斑\" ADD COLUMN 备注 TEXT"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The field list of the parcels' table now lies beyond the first 64 KiB.
    let table = std::fs::read_dir(&gdb)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gdbtable"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let bytes = std::fs::read(&table).unwrap();
    let at = u64::from_le_bytes(bytes[32..40].try_into().unwrap());
    assert!(at > 1 << 16, "the field list is at byte {at}");

    let err = read_layer(&gdb, &ReadOptions::default()).unwrap_err();
    match &err {
        LayerError::SeveralLayers { members, .. } => {
            let mut m = members.clone();
            m.sort();
            assert_eq!(m, ["risk_areas", "地类图斑"], "{err}");
        }
        other => panic!("{other}"),
    }
    let parcels = read_layer(&gdb.join("地类图斑"), &ReadOptions::default()).unwrap();
    assert_eq!(parcels.features.len(), 30_000);
    assert!(
        parcels.field_index("备注").is_some(),
        "{}",
        parcels.field_list()
    );
}
