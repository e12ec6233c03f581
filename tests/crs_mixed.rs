//! Layers in different CRSs are brought into one analysis CRS; geographic layers get geodesic
//! areas. The same hand-made squares (EPSG:4544) are written in longitude/latitude and the
//! numbers compared.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use common::{X0, Y0, rect};
use soilrisk::crs::{Crs, Transformer};
use soilrisk::pipeline::{Control, Request, run};

/// Writes squares as a GeoJSON layer in WGS 84 longitude/latitude (RFC 7946, no `crs`).
fn write_lonlat(path: &std::path::Path, features: &[(&str, Vec<(f64, f64)>)]) {
    let to = Transformer::new(&Crs::from_epsg(4544).unwrap(), &Crs::wgs84()).unwrap();
    let feats: Vec<String> = features
        .iter()
        .map(|(props, ring)| {
            // Densify edges so that straight lines in one CRS stay (nearly) straight in the other.
            let mut pts = Vec::new();
            for w in ring.windows(2) {
                for k in 0..20 {
                    let t = k as f64 / 20.0;
                    pts.push((w[0].0 + t * (w[1].0 - w[0].0), w[0].1 + t * (w[1].1 - w[0].1)));
                }
            }
            pts.push(ring[0]);
            let coords: Vec<String> = pts
                .iter()
                .map(|&(x, y)| {
                    let (mut x, mut y) = (X0 + x, Y0 + y);
                    to.transform(&mut x, &mut y).unwrap();
                    format!("[{x},{y}]")
                })
                .collect();
            format!(
                r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}"#,
                coords.join(",")
            )
        })
        .collect();
    std::fs::write(
        path,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            feats.join(",")
        ),
    )
    .unwrap();
}

fn contaminated(risk: &std::path::Path, parcels: &std::path::Path) -> (f64, f64, String, String) {
    let a = run(&Request::new(risk, parcels), Control::default()).unwrap();
    let s = a.summary(0.94);
    (
        s.cultivated_area_m2,
        s.contaminated_area_m2,
        s.crs,
        s.area_method,
    )
}

#[test]
fn reprojected_and_geodesic_results_agree_with_planar() {
    let dir = tempfile::tempdir().unwrap();
    let risk_gk = dir.path().join("risk_gk.geojson");
    let parcels_gk = dir.path().join("parcels_gk.geojson");
    let risk_ll = dir.path().join("risk_ll.geojson");
    let parcels_ll = dir.path().join("parcels_ll.geojson");
    let risk = r#"{"RISK_ID":"R1","RISK_CLASS":"2"}"#;
    let parcel = r#"{"PARCEL_ID":"P1","COUNTY":"X","MEASURE":"休耕"}"#;
    common::write_geojson(&risk_gk, &[(risk, vec![vec![rect(0., 0., 1000., 1000.)]])]);
    common::write_geojson(
        &parcels_gk,
        &[(parcel, vec![vec![rect(500., 500., 1500., 1500.)]])],
    );
    write_lonlat(&risk_ll, &[(risk, rect(0., 0., 1000., 1000.))]);
    write_lonlat(&parcels_ll, &[(parcel, rect(500., 500., 1500., 1500.))]);

    let planar = contaminated(&risk_gk, &parcels_gk);
    assert_eq!(planar.3, "planar");
    assert!((planar.0 - 1_000_000.0).abs() < 1e-6 && (planar.1 - 250_000.0).abs() < 1e-6);

    // Risk areas in lon/lat, parcels in Gauss-Kruger: analysed in Gauss-Kruger (projected wins).
    let mixed = contaminated(&risk_ll, &parcels_gk);
    assert!(mixed.2.starts_with("EPSG:4544"), "{}", mixed.2);
    assert_eq!(mixed.3, "planar");
    assert!(
        (mixed.1 - planar.1).abs() / planar.1 < 1e-6,
        "{} vs {}",
        mixed.1,
        planar.1
    );

    // Both geographic: geodesic areas on the ellipsoid. On the central meridian the
    // Gauss-Kruger scale is 1, so they match the planar areas closely.
    let geo = contaminated(&risk_ll, &parcels_ll);
    assert!(geo.2.starts_with("EPSG:4326"), "{}", geo.2);
    assert_eq!(geo.3, "geodesic");
    assert!(
        (geo.0 - planar.0).abs() / planar.0 < 1e-4,
        "{} vs {}",
        geo.0,
        planar.0
    );
    assert!(
        (geo.1 - planar.1).abs() / planar.1 < 1e-4,
        "{} vs {}",
        geo.1,
        planar.1
    );
}
