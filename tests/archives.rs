//! Layers inside zip archives: one layer, several (chosen by `archive.zip/member`), none, a
//! layer in a sub-folder with upper-case sidecars, GeoJSON, a damaged archive; the same
//! analysis from a zipped sample as from the files; and the real archives in realdata.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use soilrisk::error::LayerError;
use soilrisk::io::{ReadOptions, read_layer};
use soilrisk::pipeline::{Control, Request, run};

/// Writes a zip at `path` holding each (name in the archive, file on disk), stored.
fn zip_files(path: &Path, members: &[(&str, PathBuf)]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, file) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(&std::fs::read(file).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn sample_members(layer: &str, prefix: &str, upper_sidecars: bool) -> Vec<(String, PathBuf)> {
    ["shp", "shx", "dbf", "prj", "cpg"]
        .iter()
        .map(|ext| {
            let in_zip = if upper_sidecars && *ext != "shp" {
                ext.to_ascii_uppercase()
            } else {
                ext.to_string()
            };
            (
                format!("{prefix}{layer}.{in_zip}"),
                sample().join(format!("{layer}.{ext}")),
            )
        })
        .collect()
}

fn zip_of(path: &Path, members: &[(String, PathBuf)]) {
    let refs: Vec<(&str, PathBuf)> = members
        .iter()
        .map(|(n, p)| (n.as_str(), p.clone()))
        .collect();
    zip_files(path, &refs);
}

#[test]
fn zipped_sample_analyses_exactly_like_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let risk_zip = tmp.path().join("risk.zip");
    let parcels_zip = tmp.path().join("parcels.zip");
    // A sub-folder and upper-case sidecars, as Windows tools write them.
    zip_of(&risk_zip, &sample_members("risk_areas", "data/", true));
    zip_of(&parcels_zip, &sample_members("parcels", "", false));

    // `info` names the one layer's format inside the archive.
    let o = std::process::Command::new(common::bin())
        .arg("info")
        .arg(&risk_zip)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("format:     ESRI Shapefile in a ZIP archive")
            && out.contains("features:   3568"),
        "{out}"
    );

    let from_zip = run(&Request::new(risk_zip, parcels_zip), Control::default())
        .unwrap()
        .summary(0.94);
    let from_files = run(
        &Request::new(
            sample().join("risk_areas.shp"),
            sample().join("parcels.shp"),
        ),
        Control::default(),
    )
    .unwrap()
    .summary(0.94);
    assert_eq!(from_zip.parcels, 30_000);
    assert_eq!(from_zip.risk_areas, 3_568);
    assert_eq!(
        from_zip.contaminated_area_m2,
        from_files.contaminated_area_m2
    );
    assert_eq!(from_zip.treated_area_m2, from_files.treated_area_m2);
    assert_eq!(from_zip.crs, from_files.crs);
    assert!(from_zip.warnings.is_empty(), "{:?}", from_zip.warnings);
}

#[test]
fn zipped_layer_keeps_encoding_crs_and_names_itself_inside_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("risk.zip");
    zip_of(&z, &sample_members("risk_areas", "data/", true));
    let layer = read_layer(&z, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 3_568);
    assert_eq!(layer.path, z.join("data/risk_areas.shp"));
    assert_eq!(layer.encoding.as_deref(), Some("GBK (from .cpg)"));
    assert!(layer.crs.as_ref().unwrap().label().contains("4544"));
    let class = layer.field_index("RISK_CLASS").unwrap();
    let first = layer.text(&layer.features[0], class);
    assert!(first.ends_with('类'), "decoded class {first:?}");
}

#[test]
fn several_layers_are_listed_and_one_is_chosen_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let z = tmp.path().join("both.zip");
    let mut members = sample_members("risk_areas", "", false);
    members.extend(sample_members("parcels", "", false));
    zip_of(&z, &members);

    let err = read_layer(&z, &ReadOptions::default()).unwrap_err();
    match &err {
        LayerError::SeveralLayers { path, members } => {
            assert_eq!(path, &z);
            assert_eq!(members, &["risk_areas.shp", "parcels.shp"]);
        }
        other => panic!("expected SeveralLayers, got {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("2 layers") && msg.ends_with("both.zip"),
        "{msg}"
    );

    // `info` lists them, as ogrinfo does, and describes one named inside the archive.
    let o = std::process::Command::new(common::bin())
        .arg("info")
        .arg(&z)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("format:     ZIP archive")
            && out.contains("layers:     2")
            && out.contains(&z.join("parcels.shp").display().to_string()),
        "{out}"
    );
    let o = std::process::Command::new(common::bin())
        .arg("info")
        .arg(z.join("risk_areas.shp"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("format:     ESRI Shapefile in a ZIP archive") && out.contains("RISK_CLASS"),
        "{out}"
    );

    let parcels = read_layer(&z.join("parcels.shp"), &ReadOptions::default()).unwrap();
    assert_eq!(parcels.features.len(), 30_000);
    let missing = read_layer(&z.join("roads.shp"), &ReadOptions::default()).unwrap_err();
    let msg = missing.to_string();
    assert!(
        msg.contains("no such layer") && msg.contains("parcels.shp") && msg.ends_with("roads.shp"),
        "{msg}"
    );
}

#[test]
fn geojson_in_a_zip() {
    let tmp = tempfile::tempdir().unwrap();
    let gj = tmp.path().join("risk.geojson");
    common::write_geojson(
        &gj,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"安全利用类"}"#,
            vec![vec![common::rect(0.0, 0.0, 10.0, 10.0)]],
        )],
    );
    let z = tmp.path().join("gj.zip");
    zip_files(&z, &[("readme.txt", gj.clone()), ("risk.geojson", gj)]);
    let layer = read_layer(&z, &ReadOptions::default()).unwrap();
    assert_eq!(layer.features.len(), 1);
    let class = layer.field_index("RISK_CLASS").unwrap();
    assert_eq!(layer.text(&layer.features[0], class), "安全利用类");
}

#[test]
fn empty_and_damaged_archives_are_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.zip");
    let txt = tmp.path().join("notes.txt");
    std::fs::write(&txt, "no layers here").unwrap();
    zip_files(&empty, &[("notes.txt", txt)]);
    let msg = read_layer(&empty, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("no shapefile or GeoJSON") && msg.contains("notes.txt"),
        "{msg}"
    );

    let damaged = tmp.path().join("damaged.zip");
    std::fs::write(&damaged, b"PK\x03\x04 this is not really a zip").unwrap();
    let msg = read_layer(&damaged, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("not a readable zip archive") && msg.ends_with("damaged.zip"),
        "{msg}"
    );
}

#[test]
fn real_archives() {
    let Some(real) = common::realdata() else {
        return;
    };
    let rel = read_layer(
        &real.join("pyshp/tests-3.1.6/REL.zip"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(rel.features.len(), 1);
    assert_eq!(rel.geometry_type, "PolygonZ");
    assert!(rel.crs.unwrap().label().contains("MGI_Austria_Lambert"));
    assert!(rel.path.ends_with("REL.zip/REL/releaseArea20090407.shp"));

    let multi = real.join("pyshp/tests-3.1.6/blockgroups_multishapefile.zip");
    assert!(matches!(
        read_layer(&multi, &ReadOptions::default()),
        Err(LayerError::SeveralLayers { ref members, .. }) if members.len() == 2
    ));
    let second = read_layer(&multi.join("blockgroups2.shp"), &ReadOptions::default()).unwrap();
    assert_eq!(second.features.len(), 663);
    assert!(second.crs.is_none());
    assert!(second.warnings.iter().any(|w| w.contains("no .prj")));

    let msg = read_layer(
        &real.join("pyshp/tests-3.1.6/empty_zipfile.zip"),
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("dummyfile.txt"), "{msg}");

    let nybb = read_layer(
        &real.join("geopandas-0.14.4/nybb_16a.zip"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(nybb.features.len(), 5);
}
