#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::layer::EXTS;
use super::*;
use dbase::FieldValue;
use dbase::encoding::EncodingRs;
use geo::{Area, Centroid, Coord, LineString, MultiPolygon, Polygon as GeoPolygon};
use geo::{BooleanOps, BoundingRect, Contains, Validation};
use shapefile::{Polygon, PolygonRing};
use std::collections::HashSet;
use std::path::Path;

fn read_dbf(path: &Path) -> Vec<dbase::Record> {
    dbase::ReaderBuilder::new()
        .with_encoding(EncodingRs::from(encoding_rs::GBK))
        .open(path)
        .unwrap()
        .read()
        .unwrap()
}

fn text(rec: &dbase::Record, field: &str) -> String {
    match rec.get(field) {
        Some(FieldValue::Character(Some(s))) => s.clone(),
        Some(FieldValue::Character(None)) => String::new(),
        other => panic!("{field}: unexpected {other:?}"),
    }
}

type Shell = (Vec<Coord<f64>>, Vec<LineString<f64>>);

fn read_shapes(path: &Path) -> Vec<(MultiPolygon<f64>, f64)> {
    shapefile::read_shapes_as::<_, Polygon>(path)
        .unwrap()
        .into_iter()
        .map(|p| {
            let mut polys: Vec<Shell> = Vec::new();
            let mut first_signed = None;
            for ring in p.rings() {
                let pts: Vec<Coord<f64>> = ring
                    .points()
                    .iter()
                    .map(|q| Coord { x: q.x, y: q.y })
                    .collect();
                let signed: f64 = pts
                    .windows(2)
                    .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
                    .sum();
                first_signed.get_or_insert(signed);
                match ring {
                    PolygonRing::Outer(_) => polys.push((pts, Vec::new())),
                    PolygonRing::Inner(_) => {
                        polys.last_mut().unwrap().1.push(LineString::from(pts))
                    }
                }
            }
            let mp = polys
                .into_iter()
                .map(|(o, h)| GeoPolygon::new(LineString::from(o), h))
                .collect();
            (MultiPolygon::new(mp), first_signed.unwrap())
        })
        .collect()
}

fn overlapping_pairs(shapes: &[MultiPolygon<f64>]) -> Vec<(usize, usize, f64)> {
    let boxes: Vec<_> = shapes.iter().map(|s| s.bounding_rect().unwrap()).collect();
    let mut order: Vec<usize> = (0..shapes.len()).collect();
    order.sort_by(|&a, &b| boxes[a].min().x.total_cmp(&boxes[b].min().x));
    let mut out = Vec::new();
    for (k, &a) in order.iter().enumerate() {
        for &b in &order[k + 1..] {
            if boxes[b].min().x > boxes[a].max().x {
                break;
            }
            if boxes[b].min().y > boxes[a].max().y || boxes[a].min().y > boxes[b].max().y {
                continue;
            }
            let area = shapes[a].intersection(&shapes[b]).unsigned_area();
            if area > 0.0 {
                out.push((a.min(b), a.max(b), area));
            }
        }
    }
    out
}

fn write(parcels: usize) -> (tempfile::TempDir, SampleReport) {
    let dir = tempfile::tempdir().unwrap();
    let report = write_sample(
        dir.path(),
        &SampleOptions {
            parcels,
            seed: 2023,
        },
    )
    .unwrap();
    (dir, report)
}

#[test]
fn same_options_give_identical_files() {
    let (a, _) = write(2000);
    let (b, _) = write(2000);
    let ledger = |d: &tempfile::TempDir| fs::read(d.path().join(LEDGER_FILE)).unwrap();
    assert!(ledger(&a) == ledger(&b), "{LEDGER_FILE} differs");
    for stem in ["risk_areas", "parcels", "counties"] {
        for ext in EXTS {
            let name = format!("{stem}.{ext}");
            let (x, y) = (
                fs::read(a.path().join(&name)).unwrap(),
                fs::read(b.path().join(&name)).unwrap(),
            );
            assert!(x == y, "{name} differs");
            if ext == "dbf" {
                assert_eq!(&x[1..4], &DBF_DATE);
            }
        }
    }
    assert_eq!(
        fs::read_to_string(a.path().join("parcels.prj")).unwrap(),
        PRJ_WKT
    );
    let crs = crate::crs::Crs::from_epsg(4544).unwrap();
    assert_eq!(crs.to_prj_wkt(), PRJ_WKT, "one WKT for EPSG:4544");
    assert_eq!(
        fs::read_to_string(a.path().join("risk_areas.cpg")).unwrap(),
        "GBK"
    );
    let leftovers = fs::read_dir(a.path()).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    });
    assert_eq!(leftovers.count(), 0);
}

#[test]
fn risk_areas_read_back() {
    let (dir, report) = write(100);
    assert_eq!(report.risk_areas, RISK_AREA_COUNT);
    let shapes = read_shapes(&report.risk_path);
    let recs = read_dbf(&dir.path().join("risk_areas.dbf"));
    assert_eq!(
        (shapes.len(), recs.len()),
        (RISK_AREA_COUNT, RISK_AREA_COUNT)
    );
    let ids: HashSet<String> = recs.iter().map(|r| text(r, "RISK_ID")).collect();
    assert_eq!(ids.len(), RISK_AREA_COUNT);
    let mut class_counts = [0usize; 3];
    for (rec, (shape, first_signed)) in recs.iter().zip(&shapes) {
        let id = text(rec, "RISK_ID");
        let county = text(rec, "COUNTY");
        let (code, name) = COUNTIES.iter().find(|c| c.1 == county).unwrap();
        assert!(
            id.starts_with(&format!("SC-{code}-")) && id.len() == 14,
            "{id}"
        );
        let c = shape.centroid().unwrap();
        assert_eq!(COUNTIES[county_of(c.x(), c.y())].1, *name);
        let class = CLASS_NAMES
            .iter()
            .position(|n| *n == text(rec, "RISK_CLASS"))
            .unwrap();
        class_counts[class] += 1;
        assert!(POLLUTANTS.iter().any(|p| p.0 == text(rec, "POLLUTANT")));
        let Some(FieldValue::Numeric(Some(ha))) = rec.get("AREA_HA") else {
            panic!()
        };
        assert!((ha - shape.unsigned_area() / 1e4).abs() < 0.006);
        assert!((1.0..600.0).contains(ha), "{ha}");
        assert!(
            shape.is_valid(),
            "{id} invalid: {:?}",
            shape.check_validation()
        );
        assert!(*first_signed < 0.0, "{id}: outer ring not clockwise");
        let n = shape
            .0
            .iter()
            .map(|p| p.exterior().0.len() - 1)
            .sum::<usize>();
        assert!(
            (20..=300).contains(&n) || shape.0.len() > 1,
            "{id}: {n} vertices"
        );
    }
    let share = class_counts.map(|c| c as f64 / RISK_AREA_COUNT as f64);
    let holes = shapes
        .iter()
        .filter(|s| s.0.0.iter().any(|p| !p.interiors().is_empty()))
        .count();
    let multi = shapes.iter().filter(|s| s.0.0.len() > 1).count();
    let pairs = overlapping_pairs(&shapes.iter().map(|s| s.0.clone()).collect::<Vec<_>>());
    let mut in_overlap = HashSet::new();
    for &(a, b, area) in &pairs {
        assert!(area > 1.0, "sliver overlap {a} {b}");
        assert!(
            in_overlap.insert(a) && in_overlap.insert(b),
            "area overlaps more than one neighbour"
        );
    }
    println!(
        "class shares {share:?}, holes {holes}, multipart {multi}, overlapping pairs {}",
        pairs.len()
    );
    assert!((0.03..0.07).contains(&share[0]) && (0.55..0.65).contains(&share[1]));
    assert!((0.30..0.40).contains(&share[2]));
    for n in [holes, multi, in_overlap.len()] {
        assert!(
            (0.02..0.08).contains(&(n as f64 / RISK_AREA_COUNT as f64)),
            "{n}"
        );
    }
}

#[test]
fn parcels_read_back() {
    let (dir, report) = write(2000);
    let shapes: Vec<_> = read_shapes(&report.parcels_path)
        .into_iter()
        .map(|s| s.0)
        .collect();
    let recs = read_dbf(&dir.path().join("parcels.dbf"));
    assert_eq!(
        (shapes.len(), recs.len(), report.parcels),
        (2000, 2000, 2000)
    );
    let ids: HashSet<String> = recs.iter().map(|r| text(r, "PARCEL_ID")).collect();
    assert_eq!(ids.len(), 2000);
    for (rec, shape) in recs.iter().zip(&shapes) {
        let county = text(rec, "COUNTY");
        let (code, _) = COUNTIES.iter().find(|c| c.1 == county).unwrap();
        assert!(text(rec, "PARCEL_ID").starts_with(&format!("{code}-")));
        assert!(CROPS.iter().any(|c| c.0 == text(rec, "CROP")));
        let m = text(rec, "MEASURE");
        assert!(
            m.is_empty()
                || m == "无"
                || m == PRIORITY_MEASURE
                || SAFE_USE_MEASURES.contains(&m.as_str())
                || STRICT_MEASURES.contains(&m.as_str()),
            "{m}"
        );
        assert!(["是", "否"].contains(&text(rec, "CROP_OK").as_str()));
        let zl = text(rec, "ZLDWDM");
        assert!(
            zl.len() == 19 && zl.starts_with(code) && zl.bytes().all(|b| b.is_ascii_digit()),
            "{zl}"
        );
        assert_eq!(shape.0.len(), 1);
        let ext = &shape.0[0].exterior().0;
        let distinct: HashSet<(u64, u64)> =
            ext.iter().map(|c| (c.x.to_bits(), c.y.to_bits())).collect();
        assert!(
            (8..=20).contains(&distinct.len()),
            "{} vertices",
            distinct.len()
        );
        let ha = shape.unsigned_area() / 1e4;
        assert!((0.05..0.8).contains(&ha), "{ha} ha");
        assert!(shape.is_valid(), "{:?}", shape.check_validation());
    }
    let overlaps = overlapping_pairs(&shapes);
    assert!(
        overlaps.iter().all(|o| o.2 < 1e-6),
        "{:?}",
        &overlaps[..overlaps.len().min(5)]
    );
}

#[test]
fn safe_utilisation_rate_near_target() {
    let (dir, report) = write(30_000);
    let risks: Vec<_> = read_shapes(&report.risk_path)
        .into_iter()
        .map(|s| s.0)
        .collect();
    let classes: Vec<usize> = read_dbf(&dir.path().join("risk_areas.dbf"))
        .iter()
        .map(|r| {
            CLASS_NAMES
                .iter()
                .position(|n| *n == text(r, "RISK_CLASS"))
                .unwrap()
                + 1
        })
        .collect();
    let boxes: Vec<_> = risks.iter().map(|s| s.bounding_rect().unwrap()).collect();
    let parcels = read_shapes(&report.parcels_path);
    let recs = read_dbf(&dir.path().join("parcels.dbf"));
    let (mut total, mut treated, mut ponds) = ([0.0; 4], [0.0; 4], 0);
    for (rec, (shape, _)) in recs.iter().zip(&parcels) {
        ponds += usize::from(!shape.0[0].interiors().is_empty());
        assert!(shape.is_valid(), "{:?}", shape.check_validation());
        let c = shape.centroid().unwrap();
        let class = (0..risks.len())
            .filter(|&i| boxes[i].contains(&c) && risks[i].contains(&c))
            .map(|i| classes[i])
            .max()
            .unwrap_or(0);
        let m = text(rec, "MEASURE");
        let strict = STRICT_MEASURES.contains(&m.as_str());
        let safe = SAFE_USE_MEASURES.contains(&m.as_str());
        let ok = match class {
            1 => !(m.is_empty() || m == "无"),
            2 => (safe || strict) && text(rec, "CROP_OK") == "是",
            3 => strict,
            _ => false,
        };
        let a = shape.unsigned_area();
        total[class] += a;
        treated[class] += if ok { a } else { 0.0 };
    }
    let rate = treated[1..].iter().sum::<f64>() / total[1..].iter().sum::<f64>();
    let in_risk = total[1..].iter().sum::<f64>() / total.iter().sum::<f64>();
    println!(
        "safe-utilisation rate {rate:.3}, parcel area in risk areas {in_risk:.3}, ponds {ponds}"
    );
    assert!((0.85..0.95).contains(&rate), "{rate}");
    assert!(in_risk > 0.05, "{in_risk}");
    assert!((50..250).contains(&ponds), "{ponds}");
}

#[test]
fn errors_name_the_path_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not_a_dir");
    fs::write(&blocker, "x").unwrap();
    let err = write_sample(&blocker, &SampleOptions::default()).unwrap_err();
    assert!(err.to_string().contains("not_a_dir"), "{err}");
    let opts = SampleOptions {
        parcels: 0,
        seed: 1,
    };
    assert!(matches!(
        write_sample(dir.path(), &opts),
        Err(SampleError::Options(_))
    ));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn small_counts_are_exact() {
    for n in [1, 137] {
        let (_dir, report) = write(n);
        assert_eq!(
            shapefile::read_shapes_as::<_, Polygon>(&report.parcels_path)
                .unwrap()
                .len(),
            n
        );
    }
}

#[test]
fn counties_tile_the_extent_and_hold_their_parcels() {
    let (dir, report) = write(2000);
    let cells: Vec<_> = read_shapes(&report.counties_path);
    let recs = read_dbf(&dir.path().join("counties.dbf"));
    assert_eq!((cells.len(), recs.len(), report.counties), (24, 24, 24));
    let total: f64 = cells.iter().map(|c| c.0.unsigned_area()).sum();
    assert!(
        (total - (X_MAX - X_MIN) * (Y_MAX - Y_MIN)).abs() < 1.0,
        "{total}"
    );
    for (i, rec) in recs.iter().enumerate() {
        assert_eq!((text(rec, "CODE"), text(rec, "NAME")), {
            let (c, n) = COUNTIES[i];
            (c.to_string(), n.to_string())
        });
    }
    // Each parcel's centroid lies in the county its COUNTY names.
    let parcels = read_shapes(&report.parcels_path);
    for (rec, (shape, _)) in read_dbf(&dir.path().join("parcels.dbf"))
        .iter()
        .zip(&parcels)
    {
        let c = shape.centroid().unwrap();
        let i = recs
            .iter()
            .position(|r| text(r, "NAME") == text(rec, "COUNTY"))
            .unwrap();
        assert!(cells[i].0.contains(&c), "{}", text(rec, "PARCEL_ID"));
    }
}
