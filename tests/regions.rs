//! Regions from a code's first digits and from a boundary layer in another CRS (longitude and
//! latitude, and GCJ-02), by largest share, on hand-made parcels whose shares are worked out
//! on paper. Parcels are in EPSG:4544 (Gauss-Kruger CM 105°E), where the meridian 105°E is
//! the line x = 500000, so a county boundary along it is straight in both CRSs.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

mod common;

use common::{Rings, rect, write_geojson};
use soilrisk::crs::gcj02::to_gcj02;
use soilrisk::pipeline::{Control, RegionLayer, Request, run};

/// Two counties in longitude/latitude: 双流区 (510116) west of 105°E, 郫都区 (510117) east.
fn boundaries(path: &std::path::Path, shift: impl Fn(f64, f64) -> (f64, f64)) {
    boundaries_of(
        path,
        &[
            ("双流区", "510116", 104.0, 105.0),
            ("郫都区", "510117", 105.0, 106.0),
        ],
        shift,
    );
}

/// Counties (name, code, west and east longitude) from 30°N to 31.5°N.
fn boundaries_of(
    path: &std::path::Path,
    counties: &[(&str, &str, f64, f64)],
    shift: impl Fn(f64, f64) -> (f64, f64),
) {
    let ring = |x0: f64, x1: f64| -> String {
        // Densified so a GCJ-02 shift (which varies with position) stays a fine polygon.
        let mut pts = Vec::new();
        let n = 50;
        for k in 0..=n {
            pts.push((x0 + (x1 - x0) * k as f64 / n as f64, 30.0));
        }
        for k in 0..=n {
            pts.push((x1, 30.0 + 1.5 * k as f64 / n as f64));
        }
        for k in 0..=n {
            pts.push((x1 - (x1 - x0) * k as f64 / n as f64, 31.5));
        }
        for k in 0..=n {
            pts.push((x0, 31.5 - 1.5 * k as f64 / n as f64));
        }
        let coords: Vec<String> = pts
            .iter()
            .map(|&(x, y)| {
                let (x, y) = shift(x, y);
                format!("[{x},{y}]")
            })
            .collect();
        format!("[[{}]]", coords.join(","))
    };
    let feature = |name: &str, code: &str, x0, x1| {
        format!(
            r#"{{"type":"Feature","properties":{{"NAME":"{name}","CODE":"{code}"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}"#,
            ring(x0, x1)
        )
    };
    let features: Vec<String> = counties
        .iter()
        .map(|&(name, code, x0, x1)| feature(name, code, x0, x1))
        .collect();
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    std::fs::write(path, text).unwrap();
}

/// One risk area over all parcels near the meridian; parcels (areas in m²):
/// - P1 x in [499900, 499990], 20 m tall: all west → 双流区;
/// - P2 x in [499950, 500100]: 50 m west, 100 m east → 郫都区;
/// - P3 x in [499920, 500080]: 80 m and 80 m → the first in the layer, 双流区;
/// - P4 far south, in no county → "" with a warning.
fn layers(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (risk, parcels) = (dir.join("risk.geojson"), dir.join("parcels.geojson"));
    // Coordinates relative to (500000, 3300000), as `common::write_geojson` writes them.
    let y = 100_000.0;
    let sq = |a, b, c, d| -> Rings { vec![rect(a, b, c, d)] };
    write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"2"}"#,
            vec![sq(-1_000.0, y - 1000.0, 1_000.0, y + 1000.0)],
        )],
    );
    write_geojson(
        &parcels,
        &[
            (
                r#"{"PARCEL_ID":"P1","COUNTY":"x","MEASURE":"2","ZLDWDM":"5101160010010000000"}"#,
                vec![sq(-100.0, y, -10.0, y + 20.0)],
            ),
            (
                r#"{"PARCEL_ID":"P2","COUNTY":"x","MEASURE":"","ZLDWDM":"5101170020010000000"}"#,
                vec![sq(-50.0, y + 100.0, 100.0, y + 120.0)],
            ),
            (
                r#"{"PARCEL_ID":"P3","COUNTY":"x","MEASURE":"","ZLDWDM":"5101160030010000000"}"#,
                vec![sq(-80.0, y + 200.0, 80.0, y + 220.0)],
            ),
            (
                r#"{"PARCEL_ID":"P4","COUNTY":"x","MEASURE":"","ZLDWDM":"5101990040010000000"}"#,
                vec![sq(0.0, -2_300_000.0, 10.0, -2_299_990.0)],
            ),
        ],
    );
    (risk, parcels)
}

fn by_region(req: &Request) -> Vec<(String, Option<String>, usize, f64)> {
    let a = run(req, Control::default()).unwrap();
    let s = a.summary(0.94);
    s.by_region
        .iter()
        .map(|r| {
            (
                r.region.clone(),
                r.code.clone(),
                r.parcels,
                r.cultivated_area_m2,
            )
        })
        .collect()
}

fn boundary_request(
    dir: &std::path::Path,
    boundary: &std::path::Path,
    crs: Option<&str>,
) -> Request {
    let (risk, parcels) = layers(dir);
    let mut req = Request::new(&risk, &parcels);
    req.regions = Some(RegionLayer {
        path: boundary.to_path_buf(),
        name_field: "NAME".into(),
        code_field: Some("CODE".into()),
        crs: crs.map(String::from),
        read: Default::default(),
    });
    req
}

#[test]
fn regions_by_largest_share_of_a_boundary_layer_in_longitude_and_latitude() {
    let dir = tempfile::tempdir().unwrap();
    let boundary = dir.path().join("counties.geojson");
    boundaries(&boundary, |x, y| (x, y));
    let req = boundary_request(dir.path(), &boundary, Some("EPSG:4490"));
    let got = by_region(&req);
    let s = |t: &str| t.to_string();
    assert_eq!(
        got,
        vec![
            (s("双流区"), Some(s("510116")), 2, 1800.0 + 3200.0),
            (s("郫都区"), Some(s("510117")), 1, 3000.0),
            (s(""), None, 1, 100.0),
        ]
    );
    let a = run(&req, Control::default()).unwrap();
    let w = a.warnings.iter().find(|w| w.contains("no region")).unwrap();
    assert!(
        w.contains("1 parcel(s)") && w.contains("counties.geojson"),
        "{w}"
    );
    // The boundary layer is kept, in the analysis CRS, for the window to draw.
    let bnd = a.boundaries.as_ref().unwrap();
    assert!(bnd.layer.crs.as_ref().unwrap().label().contains("4544"));
}

#[test]
fn a_gcj02_boundary_layer_is_converted_before_the_join() {
    let dir = tempfile::tempdir().unwrap();
    let boundary = dir.path().join("web.geojson");
    boundaries(&boundary, to_gcj02);
    // Read as given, the layer is offset by some 500 m: P1..P3 would change county.
    let shifted = by_region(&boundary_request(dir.path(), &boundary, Some("EPSG:4490")));
    let converted = by_region(&boundary_request(dir.path(), &boundary, Some("gcj02")));
    // P1 and P2 fall as on the true boundary (P3's tie is within the millimetre the inverse
    // is found to, so either county may take it).
    let a = run(
        &boundary_request(dir.path(), &boundary, Some("gcj02")),
        Control::default(),
    )
    .unwrap();
    let region = |i: usize| a.parcel_info[i].region.to_string();
    assert_eq!(
        (region(0), region(1), region(3)),
        ("双流区".into(), "郫都区".into(), "".into())
    );
    assert_ne!(shifted, converted);
}

#[test]
fn regions_by_code_prefix_named_from_the_boundary_layer() {
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = layers(dir.path());
    let mut req = Request::new(&risk, &parcels);
    req.fields
        .set(soilrisk::pipeline::Role::Region, Some("ZLDWDM".into()));
    req.region_code_digits = Some(6);
    let s = |t: &str| t.to_string();
    // Without names, the code is the name.
    assert_eq!(
        by_region(&req),
        vec![
            (s("510116"), Some(s("510116")), 2, 1800.0 + 3200.0),
            (s("510117"), Some(s("510117")), 1, 3000.0),
            (s("510199"), Some(s("510199")), 1, 100.0),
        ]
    );
    let boundary = dir.path().join("counties.geojson");
    boundaries(&boundary, |x, y| (x, y));
    req.regions = boundary_request(dir.path(), &boundary, None).regions;
    let got = by_region(&req);
    assert_eq!(got[0].0, "双流区");
    assert_eq!(got[1].0, "郫都区");
    assert_eq!(
        (got[2].0.as_str(), got[2].1.as_deref()),
        ("510199", Some("510199"))
    );
    // The parcels carry the name too.
    let a = run(&req, Control::default()).unwrap();
    assert_eq!(&*a.parcel_info[0].region, "双流区");
}

/// The bundled sample's 30,000 parcels against its 24 counties, the county layer taken to
/// longitude and latitude first (a boundary layer in another CRS): each county's parcels and
/// cultivated area as GeoPandas 1.2.0 (GEOS) gives them by overlay and largest share, run
/// once on the same files (2026-12-03) with:
///   p = gpd.read_file("sample_data/parcels.shp")[["PARCEL_ID", "geometry"]]
///   c = gpd.read_file("sample_data/counties.shp")[["NAME", "CODE", "geometry"]]
///   p["parcel_area"] = p.area
///   o = gpd.overlay(p, c, how="intersection", keep_geom_type=True); o["share"] = o.area
///   best = o.sort_values(["PARCEL_ID", "share"], ascending=[True, False])
///           .drop_duplicates("PARCEL_ID")
///   best.groupby(["CODE", "NAME"]).agg(parcels=("PARCEL_ID", "size"),
///                                      area=("parcel_area", "sum"))
/// (no parcel was in no county).
#[test]
fn the_sample_by_county_boundaries_agrees_with_geopandas() {
    const GEOPANDAS: [(&str, &str, usize, f64); 23] = [
        ("510117", "郫都区", 563, 1802442.04292335),
        ("510121", "金堂县", 266, 495400.87244229234),
        ("510185", "简阳市", 448, 947763.0281453206),
        ("510321", "荣县", 432, 710857.4043240015),
        ("510322", "富顺县", 3681, 10648025.531928802),
        ("510623", "中江县", 1550, 4496561.500751195),
        ("510681", "广汉市", 551, 2295753.889723969),
        ("510682", "什邡市", 2013, 5417788.657417577),
        ("510683", "绵竹市", 795, 2500813.808364286),
        ("510722", "三台县", 459, 1388635.5539771586),
        ("510723", "盐亭县", 1600, 4019023.2602133807),
        ("510725", "梓潼县", 1767, 5961942.978036149),
        ("510781", "江油市", 1655, 5817207.255080008),
        ("510921", "蓬溪县", 1660, 7242842.714311418),
        ("510923", "大英县", 1519, 4155363.3507569428),
        ("510981", "射洪市", 811, 1843871.4468516852),
        ("511024", "威远县", 1557, 3770234.5326943262),
        ("511025", "资中县", 2348, 6179149.0745726265),
        ("511124", "井研县", 1179, 3231606.250093663),
        ("511403", "彭山区", 842, 1769007.299462932),
        ("511421", "仁寿县", 1991, 7070055.979472797),
        ("512021", "安岳县", 661, 3080544.1463174536),
        ("512022", "乐至县", 1652, 7008621.6957383575),
    ];
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let dir = tempfile::tempdir().unwrap();
    // The counties in longitude/latitude (CGCS2000), as GeoJSON.
    let counties =
        soilrisk::io::read_layer(&sample.join("counties.shp"), &Default::default()).unwrap();
    let to = soilrisk::crs::Crs::from_epsg(4490).unwrap();
    let tr = soilrisk::crs::Transformer::new(counties.crs.as_ref().unwrap(), &to).unwrap();
    let (name_at, code_at) = (
        counties.field_index("NAME").unwrap(),
        counties.field_index("CODE").unwrap(),
    );
    let features: Vec<String> = counties
        .features
        .iter()
        .map(|f| {
            let polys: Vec<String> = f
                .geometry
                .0
                .iter()
                .map(|p| {
                    let rings: Vec<String> = std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| {
                            let pts: Vec<String> = r
                                .0
                                .iter()
                                .map(|c| {
                                    let (mut x, mut y) = (c.x, c.y);
                                    tr.transform(&mut x, &mut y).unwrap();
                                    format!("[{x:.12},{y:.12}]")
                                })
                                .collect();
                            format!("[{}]", pts.join(","))
                        })
                        .collect();
                    format!("[{}]", rings.join(","))
                })
                .collect();
            format!(
                r#"{{"type":"Feature","properties":{{"NAME":"{}","CODE":"{}"}},"geometry":{{"type":"MultiPolygon","coordinates":[{}]}}}}"#,
                f.shared_text(name_at),
                f.shared_text(code_at),
                polys.join(",")
            )
        })
        .collect();
    let boundary = dir.path().join("counties_4490.geojson");
    std::fs::write(
        &boundary,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
    let mut req = Request::new(sample.join("risk_areas.shp"), sample.join("parcels.shp"));
    req.regions = Some(RegionLayer {
        path: boundary,
        name_field: "NAME".into(),
        code_field: Some("CODE".into()),
        crs: Some("EPSG:4490".into()),
        read: Default::default(),
    });
    let s = run(&req, Control::default()).unwrap().summary(0.94);
    let got: Vec<(&str, &str, usize, f64)> = s
        .by_region
        .iter()
        .map(|r| {
            (
                r.code.as_deref().unwrap_or(""),
                r.region.as_str(),
                r.parcels,
                r.cultivated_area_m2,
            )
        })
        .collect();
    assert_eq!(got.len(), GEOPANDAS.len(), "{got:?}");
    for (g, want) in got.iter().zip(GEOPANDAS) {
        assert_eq!(
            (g.0, g.1, g.2),
            (want.0, want.1, want.2),
            "{g:?} vs {want:?}"
        );
        assert!(((g.3 - want.3) / want.3).abs() < 1e-6, "{g:?} vs {want:?}");
    }

    // By the location code's first six digits instead, named from the same layer: each
    // county gets the parcels the sample coded into it, those its COUNTY field names.
    req.fields
        .set(soilrisk::pipeline::Role::Region, Some("ZLDWDM".into()));
    req.region_code_digits = Some(6);
    let by_code = run(&req, Control::default()).unwrap().summary(0.94);
    req.region_code_digits = None;
    req.regions = None;
    req.fields
        .set(soilrisk::pipeline::Role::Region, Some("COUNTY".into()));
    let by_field = run(&req, Control::default()).unwrap().summary(0.94);
    let mut named: Vec<(String, usize)> = by_code
        .by_region
        .iter()
        .map(|r| (r.region.clone(), r.parcels))
        .collect();
    let mut counted: Vec<(String, usize)> = by_field
        .by_region
        .iter()
        .map(|r| (r.region.clone(), r.parcels))
        .collect();
    named.sort();
    counted.sort();
    assert_eq!(named, counted);
    assert!(
        by_code
            .by_region
            .iter()
            .all(|r| r.code.as_ref().is_some_and(|c| c.len() == 6))
    );
}

/// Two counties of one name, told apart by their codes (鼓楼区 is a district of Nanjing,
/// 320106, and of Xuzhou, 320302), the second drawn as two features split at 105.0005°E
/// (some 48 m east of 105°E here). A parcel 60 m west and 100 m east of 105°E has its largest
/// share in no single feature of Xuzhou's (48 m and 52 m) but in Xuzhou's 鼓楼区 as a whole.
#[test]
fn regions_are_told_apart_by_code_and_a_region_adds_up_its_features() {
    let dir = tempfile::tempdir().unwrap();
    let boundary = dir.path().join("gulou.geojson");
    boundaries_of(
        &boundary,
        &[
            ("鼓楼区", "320106", 104.0, 105.0),
            ("鼓楼区", "320302", 105.0, 105.0005),
            ("鼓楼区", "320302", 105.0005, 106.0),
        ],
        |x, y| (x, y),
    );
    let (risk, parcels) = (dir.path().join("r.geojson"), dir.path().join("p.geojson"));
    let y = 100_000.0;
    let sq = |a, b, c, d| -> Rings { vec![rect(a, b, c, d)] };
    write_geojson(
        &risk,
        &[(
            r#"{"RISK_ID":"R1","RISK_CLASS":"2"}"#,
            vec![sq(-1_000.0, y - 1000.0, 1_000.0, y + 1000.0)],
        )],
    );
    write_geojson(
        &parcels,
        &[
            (
                r#"{"PARCEL_ID":"Q","COUNTY":"x","MEASURE":""}"#,
                vec![sq(-60.0, y, 100.0, y + 20.0)],
            ),
            (
                r#"{"PARCEL_ID":"W","COUNTY":"x","MEASURE":""}"#,
                vec![sq(-100.0, y + 100.0, -10.0, y + 120.0)],
            ),
        ],
    );
    let mut req = Request::new(&risk, &parcels);
    req.regions = Some(RegionLayer {
        path: boundary,
        name_field: "NAME".into(),
        code_field: Some("CODE".into()),
        crs: Some("EPSG:4490".into()),
        read: Default::default(),
    });
    let s = |t: &str| t.to_string();
    assert_eq!(
        by_region(&req),
        vec![
            (s("鼓楼区"), Some(s("320106")), 1, 1800.0),
            (s("鼓楼区"), Some(s("320302")), 1, 3200.0),
        ]
    );
    let a = run(&req, Control::default()).unwrap();
    assert_eq!(&*a.parcel_info[0].region, "鼓楼区");
}
