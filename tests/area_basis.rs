//! The area basis (`--area planar|ellipsoidal|field:NAME`): ellipsoidal areas from projected
//! coordinates against GeographicLib's geodesic polygon area on the same vertices taken back
//! to longitude and latitude, on real files; surveyed areas split by planar shares on
//! hand-made parcels whose numbers are worked out on paper; B + C + D = treated.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use common::{Rings, rect, write_geojson};
use geographiclib_rs::{Geodesic, PolygonArea, Winding};
use soilrisk::crs::{Crs, Transformer};
use soilrisk::io::{ReadOptions, read_layer};
use soilrisk::pipeline::{AreaBasis, Control, Request, run};

/// The geodesic area (m², GeographicLib) of every polygon of `layer`, its vertices taken to
/// longitude and latitude on the CRS's own ellipsoid, against the engine's ellipsoidal area
/// from the projected coordinates. Returns the largest relative difference and the total.
///
/// GeographicLib sums each edge's area down to the equator (some 10⁸ m² an edge at 30°N), so
/// on a parcel of a few thousand m² its own rounding is some 1e-5 m² (geographiclib-rs and the
/// C library behind pyproj differ by up to 3e-5 m² there): differences below `floor_m2` are
/// that noise, not counted.
fn compare_with_geographiclib(
    path: &std::path::Path,
    limit: usize,
    floor_m2: f64,
) -> (f64, f64, usize) {
    let layer = read_layer(path, &ReadOptions::default()).unwrap();
    let crs = layer.crs.clone().unwrap();
    assert!(!crs.is_geographic());
    let method = AreaBasis::Ellipsoidal.method(Some(&crs)).unwrap();
    assert_eq!(method.name(), "ellipsoidal");
    let (a, f) = crs.ellipsoid();
    let geod = Geodesic::new(a, f);
    // Longitude and latitude on the same ellipsoid: the CRS's own geographic CRS.
    let geographic = Crs::from_epsg(if f == 1.0 / 298.257_222_101 {
        4490
    } else {
        4326
    })
    .unwrap();
    let to_lonlat = Transformer::new(&crs, &geographic).unwrap();
    let (mut worst, mut total, mut n) = (0.0f64, 0.0, 0);
    for feat in layer.features.iter().take(limit) {
        let mut want = 0.0;
        for poly in &feat.geometry.0 {
            for (k, ring) in std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .enumerate()
            {
                let mut pa = PolygonArea::new(&geod, Winding::CounterClockwise);
                for c in &ring.0[..ring.0.len() - 1] {
                    let (mut x, mut y) = (c.x, c.y);
                    to_lonlat.transform(&mut x, &mut y).unwrap();
                    pa.add_point(y, x);
                }
                let ring_area = pa.compute(true).1.abs();
                want += if k == 0 { ring_area } else { -ring_area };
            }
        }
        let got = method.multi_polygon_m2(&feat.geometry);
        if want > 1.0 {
            let off = ((got - want).abs() - floor_m2).max(0.0);
            worst = worst.max(off / want);
            total += got;
            n += 1;
        }
    }
    (worst, total, n)
}

/// Real census tracts in UTM zone 18N (WGS 84), 281 polygons up to tens of kilometres across,
/// some self-intersecting.
#[test]
fn ellipsoidal_area_agrees_with_geographiclib_on_real_utm_tracts() {
    let Some(real) = common::realdata() else {
        return;
    };
    let path = real.join("deb-r-cran-spdata-2.2.1/NY8_utm18.shp");
    if !path.exists() {
        eprintln!("notice: {} is absent; skipped", path.display());
        return;
    }
    let (worst, _, n) = compare_with_geographiclib(&path, usize::MAX, 0.0);
    assert!(n > 270, "{n}");
    assert!(worst < 1e-9, "worst relative difference {worst:e}");
}

/// The bundled sample's parcels, in CGCS2000 / 3-degree Gauss-Kruger CM 105E (EPSG:4544):
/// Chinese land-survey coordinates, up to 2° off the central meridian.
#[test]
fn ellipsoidal_area_agrees_with_geographiclib_on_gauss_kruger_parcels() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/parcels.shp");
    let (worst, _, n) = compare_with_geographiclib(&path, 5_000, 1e-4);
    assert!(n > 4_000, "{n}");
    assert!(worst < 1e-9, "worst relative difference {worst:e}");

    // pyproj 3.7.2 (PROJ and GeographicLib in C), run once on the same file (2026-12-03):
    //   g = geopandas.read_file("sample_data/parcels.shp")
    //   geod = pyproj.Geod(a=6378137, rf=298.257222101)
    //   t = pyproj.Transformer.from_crs("EPSG:4544", "EPSG:4490", always_xy=True)
    //   [abs(geod.geometry_area_perimeter(shapely.ops.transform(t.transform, p))[0])
    //    for p in g.geometry[:5]]
    let pyproj = [
        4982.074366146699,
        4407.591240385547,
        4088.0992781333625,
        4355.222085334361,
        4336.620958171785,
    ];
    let layer = read_layer(&path, &ReadOptions::default()).unwrap();
    let method = AreaBasis::Ellipsoidal.method(layer.crs.as_ref()).unwrap();
    for (feat, want) in layer.features.iter().zip(pyproj) {
        let got = method.multi_polygon_m2(&feat.geometry);
        assert!((got - want).abs() < 1e-9 * want + 1e-4, "{got} vs {want}");
        // Planar Gauss-Kruger area is some 0.01 % larger than on the ellipsoid here, 65 km
        // east of the central meridian: a different number.
        let planar = soilrisk::geom::area::AreaMethod::Planar.multi_polygon_m2(&feat.geometry);
        assert!(((planar - want) / want).abs() > 1e-5, "{planar} vs {want}");
    }
}

/// Risk area R1, class II, [0,100]×[0,100]; R2, class III, [100,200]×[0,100].
/// Parcels (planar areas on paper):
/// - P1 [50,150]×[0,20] = 2000 m², half in each class; surveyed TBDLMJ 1800 → 900 + 900;
///   strict control treats both: C = 900, D = 900;
/// - P2 [0,50]×[50,70] = 1000 m² in class II; TBDLMJ 0 → its planar 1000 counts, with a
///   warning naming record 2; safe use: C = 1000;
/// - P3 [300,400]×[0,10] = 1000 m², outside; TBDLMJ "950.5" as text → 950.5 cultivated.
#[test]
fn a_surveyed_area_is_split_by_planar_shares() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = (dir.path().join("r.geojson"), dir.path().join("p.geojson"));
    let sq = |a, b, c, d| -> Rings { vec![rect(a, b, c, d)] };
    write_geojson(
        &risk,
        &[
            (
                r#"{"RISK_ID":"R1","RISK_CLASS":"2"}"#,
                vec![sq(0., 0., 100., 100.)],
            ),
            (
                r#"{"RISK_ID":"R2","RISK_CLASS":"3"}"#,
                vec![sq(100., 0., 200., 100.)],
            ),
        ],
    );
    write_geojson(
        &parcels,
        &[
            (
                r#"{"PARCEL_ID":"P1","COUNTY":"A","MEASURE":"休耕","TBDLMJ":1800}"#,
                vec![sq(50., 0., 150., 20.)],
            ),
            (
                r#"{"PARCEL_ID":"P2","COUNTY":"A","MEASURE":"农艺调控","TBDLMJ":0}"#,
                vec![sq(0., 50., 50., 70.)],
            ),
            (
                r#"{"PARCEL_ID":"P3","COUNTY":"B","MEASURE":"","TBDLMJ":"950.5"}"#,
                vec![sq(300., 0., 400., 10.)],
            ),
        ],
    );
    let mut req = Request::new(&risk, &parcels);
    req.area = Some("field:TBDLMJ".parse().unwrap());
    let a = run(&req, Control::default()).unwrap();
    let s = a.summary(0.94);
    assert_eq!(s.area_basis, "field:TBDLMJ");
    assert_eq!(s.area_method, "planar");
    let close = |x: f64, y: f64| (x - y).abs() < 1e-9 * y.abs().max(1.0);
    assert!(
        close(s.cultivated_area_m2, 1800.0 + 1000.0 + 950.5),
        "{s:?}"
    );
    assert!(close(s.safe_use_area_m2, 900.0 + 1000.0));
    assert!(close(s.strict_control_area_m2, 900.0));
    assert!(close(s.safe_use_treated_area_m2, 1900.0));
    assert!(close(s.strict_control_treated_area_m2, 900.0));
    assert_eq!(s.priority_treated_area_m2, 0.0);
    assert!(close(
        s.treated_area_m2,
        s.priority_treated_area_m2 + s.safe_use_treated_area_m2 + s.strict_control_treated_area_m2
    ));
    let p1 = &a.parcel_results[0];
    assert!(
        close(p1.class_m2[1], 900.0) && close(p1.class_m2[2], 900.0),
        "{p1:?}"
    );
    let warning = s.warnings.iter().find(|w| w.contains("TBDLMJ")).unwrap();
    assert!(
        warning.contains("1 parcel(s)") && warning.contains("record 2"),
        "{warning}"
    );
    assert!(warning.contains("p.geojson"), "{warning}");

    // The same parcels on the other bases: planar gives the paper areas, ellipsoidal a little
    // more (EPSG:4544's scale is below 1 this far, 500 km, west of its central meridian).
    req.area = Some(AreaBasis::Planar);
    let planar = run(&req, Control::default()).unwrap().summary(0.94);
    assert!(close(planar.cultivated_area_m2, 4000.0));
    assert_eq!(planar.area_basis, "planar");
    req.area = Some(AreaBasis::Ellipsoidal);
    let ell = run(&req, Control::default()).unwrap().summary(0.94);
    assert_eq!(ell.area_basis, "ellipsoidal");
    let ratio = ell.cultivated_area_m2 / planar.cultivated_area_m2;
    assert!(ratio < 1.0 && ratio > 0.99, "{ratio}");

    // A field that is not there names the file and the basis.
    req.area = Some("field:MJ".parse().unwrap());
    let e = run(&req, Control::default()).unwrap_err().to_string();
    assert!(
        e.contains("\"MJ\"") && e.contains("p.geojson") && e.contains("TBDLMJ"),
        "{e}"
    );
}
