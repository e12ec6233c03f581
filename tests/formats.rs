//! Reading layers: GBK attributes with and without `.cpg`, encoding override, ring assembly
//! from a real multi-ring file, CRS from `.prj` and from a GeoJSON `crs` member.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use common::{write_dbf, write_shp_squares};
use soilrisk::io::{ReadOptions, read_layer};
use soilrisk::layer::Value;

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

fn gbk_layer(dir: &std::path::Path, ldid: u8) -> std::path::PathBuf {
    let shp = dir.join("risk.shp");
    write_shp_squares(
        &shp,
        &[
            (500_000.0, 3_300_000.0, 100.0),
            (500_200.0, 3_300_000.0, 50.0),
        ],
    );
    write_dbf(
        &shp.with_extension("dbf"),
        &[("RISK_ID", 10), ("RISK_CLASS", 20), ("POLLUTANT", 10)],
        &[
            vec![b"R1".to_vec(), gbk("严格管控类"), gbk("镉")],
            vec![b"R2".to_vec(), gbk("安全利用类"), gbk("镉;铅")],
        ],
        ldid,
    );
    shp
}

fn texts(path: &std::path::Path, opts: &ReadOptions) -> (Vec<String>, String) {
    let layer = read_layer(path, opts).unwrap();
    let class = layer.field_index("RISK_CLASS").unwrap();
    let pol = layer.field_index("POLLUTANT").unwrap();
    let v: Vec<String> = layer
        .features
        .iter()
        .flat_map(|f| [layer.text(f, class), layer.text(f, pol)])
        .collect();
    (v, layer.encoding.unwrap_or_default())
}

#[test]
fn gbk_dbf_with_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let shp = gbk_layer(dir.path(), 0);
    for label in ["GBK", "936", "CP936", "GB2312", "GB18030"] {
        std::fs::write(shp.with_extension("cpg"), label).unwrap();
        let (v, enc) = texts(&shp, &ReadOptions::default());
        assert_eq!(
            v,
            ["严格管控类", "镉", "安全利用类", "镉;铅"],
            "cpg {label}"
        );
        assert!(enc.contains("from .cpg"), "{enc}");
    }
}

#[test]
fn gbk_dbf_without_cpg_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let shp = gbk_layer(dir.path(), 0);
    let (v, enc) = texts(&shp, &ReadOptions::default());
    assert_eq!(v, ["严格管控类", "镉", "安全利用类", "镉;铅"]);
    assert!(
        enc.starts_with("gb18030") && enc.contains("detected"),
        "{enc}"
    );
}

#[test]
fn gbk_language_driver_byte_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let shp = gbk_layer(dir.path(), 0x4D);
    let (v, enc) = texts(&shp, &ReadOptions::default());
    assert_eq!(v[0], "严格管控类");
    assert!(enc.contains("language driver 0x4D"), "{enc}");
}

#[test]
fn wrong_cpg_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let shp = gbk_layer(dir.path(), 0);
    std::fs::write(shp.with_extension("cpg"), "UTF-8").unwrap();
    let (v, _) = texts(&shp, &ReadOptions::default());
    assert_ne!(v[0], "严格管控类", "a wrong .cpg gives mojibake");
    let (v, enc) = texts(
        &shp,
        &ReadOptions {
            encoding: Some("GBK".into()),
            ..Default::default()
        },
    );
    assert_eq!(v[0], "严格管控类");
    assert!(enc.contains("chosen by the user"), "{enc}");
    let err = read_layer(
        &shp,
        &ReadOptions {
            encoding: Some("klingon".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("klingon") && err.to_string().contains("risk.shp"),
        "{err}"
    );
}

#[test]
fn garbage_cpg_warns_then_detects() {
    let dir = tempfile::tempdir().unwrap();
    let shp = gbk_layer(dir.path(), 0);
    std::fs::write(shp.with_extension("cpg"), "<html><body>404</body></html>").unwrap();
    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("risk.cpg") && w.contains("not recognised"))
    );
    assert_eq!(layer.text(&layer.features[0], 1), "严格管控类");
}

#[test]
fn shapefile_without_prj_warns_and_geometry_reads() {
    let dir = tempfile::tempdir().unwrap();
    let shp = gbk_layer(dir.path(), 0);
    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    assert!(layer.crs.is_none());
    assert!(layer.warnings.iter().any(|w| w.contains("no .prj")));
    use geo::Area;
    assert_eq!(layer.features[0].geometry.unsigned_area(), 10_000.0);
    assert_eq!(layer.features[1].geometry.unsigned_area(), 2_500.0);
    assert_eq!(layer.features[1].record, 2);
    assert_eq!(layer.features[0].values[0], Value::Text("R1".into()));
}

#[test]
fn prj_of_each_family_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let shp = gbk_layer(dir.path(), 0);
    for code in [4490u32, 4326, 4544, 4523, 32648] {
        let crs = soilrisk::crs::Crs::from_epsg(code).unwrap();
        std::fs::write(shp.with_extension("prj"), crs.to_prj_wkt()).unwrap();
        let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
        assert_eq!(layer.crs.as_ref().and_then(|c| c.epsg()), Some(code));
    }
}

#[test]
fn real_multi_ring_polygons_keep_every_hole() {
    let Some(real) = common::realdata() else {
        return;
    };
    // 663 census block groups, 6 with holes and 8 multipart (MANIFEST.md).
    let layer = read_layer(
        &real.join("pyshp/tests-3.1.6/blockgroups.shp"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(layer.features.len(), 663);
    let holed = layer
        .features
        .iter()
        .filter(|f| f.geometry.0.iter().any(|p| !p.interiors().is_empty()))
        .count();
    let multi = layer
        .features
        .iter()
        .filter(|f| f.geometry.0.len() > 1)
        .count();
    assert_eq!((holed, multi), (6, 8));
}

#[test]
fn geojson_crs_member_and_default_wgs84() {
    let Some(real) = common::realdata() else {
        return;
    };
    let layer = read_layer(&real.join("fiona/rmnp.geojson"), &ReadOptions::default()).unwrap();
    assert_eq!(layer.crs.as_ref().and_then(|c| c.epsg()), Some(4326));
    assert_eq!(layer.features.len(), 1);
    // rmnp.geojson has a CW exterior and a CCW hole (not RFC 7946); both are kept as rings.
    assert_eq!(
        layer.features[0]
            .geometry
            .0
            .iter()
            .map(|p| p.interiors().len())
            .sum::<usize>(),
        1
    );
    let point_layer = read_layer(
        &real.join("deb-r-cran-spdata-2.2.1/cycle_hire_osm.geojson"),
        &ReadOptions::default(),
    );
    let err = point_layer.unwrap_err().to_string();
    assert!(
        err.contains("Point") && err.contains("cycle_hire_osm.geojson"),
        "{err}"
    );
}

#[test]
fn latin_and_cyrillic_real_files_decode() {
    let Some(real) = common::realdata() else {
        return;
    };
    let l = read_layer(
        &real.join("pyshp/tests-3.1.6/latin1.shp"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        l.text(&l.features[0], l.field_index("Name").unwrap()),
        "Ñandú"
    );
    let g = read_layer(&real.join("fiona/gre.shp"), &ReadOptions::default()).unwrap();
    assert_eq!(
        g.text(&g.features[0], g.field_index("name_ru").unwrap()),
        "Гренада"
    );
    let w = read_layer(
        &real.join("deb-r-cran-spdata-2.2.1/world.shp"),
        &ReadOptions::default(),
    )
    .unwrap();
    let name = w.field_index("name_long").unwrap();
    assert!(
        w.features
            .iter()
            .any(|f| w.text(f, name) == "Côte d'Ivoire")
    );
}

#[test]
fn polygon_z_and_m_read_other_types_refused_by_name() {
    let Some(real) = common::realdata() else {
        return;
    };
    let z = read_layer(
        &real.join("pyshp/test-2.3.1/MyPolyZ.shp"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (z.geometry_type.as_str(), z.features.len()),
        ("PolygonZ", 1)
    );
    // Its header gives a wrong file length: read anyway, with a warning.
    assert!(
        z.warnings.iter().any(|w| w.contains("file length")),
        "{:?}",
        z.warnings
    );
    for (file, kind) in [
        ("pyshp/test-2.3.1/multipatch.shp", "MultiPatch"),
        ("pyshp/test-2.3.1/line.shp", "PolyLine"),
        ("pyshp/test-2.3.1/point.shp", "Point"),
        ("fiona/test_tin.shp", "MultiPatch"),
    ] {
        let err = read_layer(&real.join(file), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(kind) && err.contains(file.rsplit('/').next().unwrap()),
            "{err}"
        );
    }
}

#[test]
fn null_shapes_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("nulls.shp");
    write_shp_squares(&shp, &[(0.0, 0.0, 10.0), (20.0, 0.0, 10.0)]);
    // Append a null record (type 0) and fix the header length.
    let mut bytes = std::fs::read(&shp).unwrap();
    bytes.extend(3i32.to_be_bytes());
    bytes.extend(2i32.to_be_bytes());
    bytes.extend(0i32.to_le_bytes());
    let words = (bytes.len() / 2) as i32;
    bytes[24..28].copy_from_slice(&words.to_be_bytes());
    std::fs::write(&shp, &bytes).unwrap();
    let layer = read_layer(&shp, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 2);
    assert!(
        layer
            .warnings
            .iter()
            .any(|w| w.contains("1 feature(s) without geometry skipped")),
        "{:?}",
        layer.warnings
    );
}

#[test]
fn truncated_shapefile_is_an_error_naming_file_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("cut.shp");
    write_shp_squares(&shp, &[(0.0, 0.0, 10.0), (20.0, 0.0, 10.0)]);
    let bytes = std::fs::read(&shp).unwrap();
    std::fs::write(&shp, &bytes[..bytes.len() - 20]).unwrap();
    let err = read_layer(&shp, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cut.shp") && err.contains("record 2") && err.contains("truncated"),
        "{err}"
    );
    std::fs::write(&shp, b"<html>not a shapefile</html>").unwrap();
    let err = read_layer(&shp, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a shapefile") && err.contains("cut.shp"),
        "{err}"
    );
}
