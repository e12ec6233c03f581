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
    let lineage = |d: &tempfile::TempDir| fs::read(d.path().join(LINEAGE_FILE)).unwrap();
    assert!(lineage(&a) == lineage(&b), "{LINEAGE_FILE} differs");
    for stem in [
        "risk_areas",
        "parcels",
        "counties",
        SECOND_YEAR_PARCELS,
        SECOND_YEAR_RISK,
    ] {
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

/// Parcels by id: the shape as written (for bit-identical comparisons), as geo, and the record.
fn parcels_by_id(
    shp: &Path,
) -> std::collections::BTreeMap<String, (Polygon, MultiPolygon<f64>, dbase::Record)> {
    let raw = shapefile::read_shapes_as::<_, Polygon>(shp).unwrap();
    let shapes = read_shapes(shp);
    let recs = read_dbf(&shp.with_extension("dbf"));
    assert_eq!((raw.len(), shapes.len()), (recs.len(), recs.len()));
    let mut out = std::collections::BTreeMap::new();
    for ((r, (s, _)), rec) in raw.into_iter().zip(shapes).zip(recs) {
        let id = text(&rec, "PARCEL_ID");
        assert!(out.insert(id.clone(), (r, s, rec)).is_none(), "{id} twice");
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    ((a - b) / b).abs() < 1e-6
}

#[test]
fn second_year_follows_the_lineage() {
    let n = 3000;
    let (dir, report) = write(n);
    let second = &report.second_year;
    let one = parcels_by_id(&report.parcels_path);
    let two = parcels_by_id(&second.parcels_path);
    assert_eq!((one.len(), two.len()), (n, second.parcels));

    let csv = fs::read_to_string(&second.lineage_path).unwrap();
    let mut lines = csv.split("\r\n");
    assert_eq!(lines.next(), Some("\u{feff}BGQTBBH,BGHTBBH"));
    let rows: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.to_string(), b.to_string())
        })
        .collect();
    assert!(rows.is_sorted(), "lineage not sorted");
    assert_eq!(rows.len(), second.lineage_rows);
    assert_eq!(rows.len(), 2 * (second.splits + second.merges));
    let mut afters: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    let mut befores: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (b, a) in &rows {
        assert!(one.contains_key(b) && !two.contains_key(b), "{b}");
        assert!(two.contains_key(a) && !one.contains_key(a), "{a}");
        afters.entry(b).or_default().push(a);
        befores.entry(a).or_default().push(b);
    }
    let area = |s: &MultiPolygon<f64>| s.unsigned_area();
    let (mut splits, mut merges, mut half_treated) = (0, 0, 0);
    for (b, halves) in &afters {
        if halves.len() == 1 {
            continue; // one of a merge's two
        }
        assert_eq!(halves.len(), 2, "{b}");
        splits += 1;
        let orig = &one[*b].1;
        let parts: Vec<&MultiPolygon<f64>> = halves.iter().map(|h| &two[*h].1).collect();
        assert!(close(area(parts[0]) + area(parts[1]), area(orig)), "{b}");
        for p in &parts {
            assert!(
                p.is_valid() && p.0.len() == 1,
                "{b}: {:?}",
                p.check_validation()
            );
            assert!(
                close(area(&p.intersection(orig)), area(p)),
                "{b}: half outside"
            );
        }
        let measures: Vec<String> = halves.iter().map(|h| text(&two[*h].2, "MEASURE")).collect();
        half_treated += usize::from(measures[0] != measures[1]);
    }
    for (a, parts) in &befores {
        if parts.len() == 1 {
            continue;
        }
        assert_eq!(parts.len(), 2, "{a}");
        merges += 1;
        let m = &two[*a].1;
        assert!(
            m.is_valid() && m.0.len() == 1,
            "{a}: {:?}",
            m.check_validation()
        );
        assert!(m.0[0].interiors().is_empty());
        let sum = area(&one[parts[0]].1) + area(&one[parts[1]].1);
        assert!(close(area(m), sum), "{a}");
        // The first cell's attributes.
        let first = &one[parts[0]].2;
        assert_eq!(text(&two[*a].2, "CROP"), text(first, "CROP"));
    }
    assert_eq!((splits, merges), (second.splits, second.merges));
    assert!(half_treated > 0, "no split parcel with one half treated");

    // Kept parcels: same geometry to the bit, same attributes but (sometimes) the measure.
    let (mut kept, mut changed, mut removed) = (0, 0, 0);
    for (id, (raw, _, rec)) in &one {
        let Some((raw2, _, rec2)) = two.get(id) else {
            removed += usize::from(!afters.contains_key(id.as_str()));
            continue;
        };
        kept += 1;
        assert!(raw == raw2, "{id}: geometry changed");
        for f in ["COUNTY", "CROP", "ZLDWDM"] {
            assert_eq!(text(rec, f), text(rec2, f), "{id}");
        }
        changed += usize::from(text(rec, "MEASURE") != text(rec2, "MEASURE"));
    }
    assert_eq!(
        (removed, changed),
        (second.removals, second.measure_changes)
    );
    // New farmland: new ids without lineage, serials from 500001.
    let new = two
        .keys()
        .filter(|id| !one.contains_key(*id) && !befores.contains_key(id.as_str()))
        .count();
    assert_eq!(new, second.new_parcels);
    assert!(new > 0);
    for id in two.keys().filter(|id| !one.contains_key(*id)) {
        let serial: usize = id.split_once('-').unwrap().1.parse().unwrap();
        assert!(serial >= NEW_SERIAL_START, "{id}");
    }
    assert_eq!(
        kept + 2 * splits + merges + new,
        second.parcels,
        "every second-year parcel accounted for"
    );
    let rate = |k: usize| k as f64 / n as f64;
    println!(
        "splits {splits}, merges {merges}, removed {removed}, measures changed {changed}, new {new}"
    );
    assert!((0.03..0.05).contains(&rate(splits)), "{splits} splits");
    assert!(
        (0.006..0.014).contains(&rate(2 * merges)),
        "{merges} merges"
    );
    assert!((0.006..0.014).contains(&rate(removed)), "{removed} removed");
    assert!(changed > 0);
    drop(dir);
}

#[test]
fn second_year_risk_areas_add_to_the_first() {
    let (dir, report) = write(3000);
    let second = &report.second_year;
    let one = read_shapes(&report.risk_path);
    let two = read_shapes(&second.risk_path);
    let recs1 = read_dbf(&dir.path().join("risk_areas.dbf"));
    let recs2 = read_dbf(&dir.path().join(format!("{SECOND_YEAR_RISK}.dbf")));
    assert_eq!(
        (two.len(), recs2.len()),
        (second.risk_areas, second.risk_areas)
    );
    assert_eq!(second.risk_areas, RISK_AREA_COUNT + second.new_risk_areas);
    assert!(
        (30..=40).contains(&second.new_risk_areas),
        "{}",
        second.new_risk_areas
    );
    for k in 0..RISK_AREA_COUNT {
        assert!(
            one[k].0 == two[k].0 && recs1[k] == recs2[k],
            "area {k} changed"
        );
    }
    let ids: HashSet<String> = recs2.iter().map(|r| text(r, "RISK_ID")).collect();
    assert_eq!(ids.len(), second.risk_areas);
    let boxes: Vec<_> = one.iter().map(|s| s.0.bounding_rect().unwrap()).collect();
    let mut strict_or_safe = 0;
    for (rec, (shape, _)) in recs2.iter().zip(&two).skip(RISK_AREA_COUNT) {
        let id = text(rec, "RISK_ID");
        let serial: usize = id.rsplit_once('-').unwrap().1.parse().unwrap();
        assert!(serial >= 9001, "{id}");
        assert!(shape.is_valid(), "{id}");
        let b = shape.bounding_rect().unwrap();
        for (k, (old, _)) in one.iter().enumerate() {
            let ob = boxes[k];
            if ob.min().x > b.max().x || b.min().x > ob.max().x {
                continue;
            }
            if ob.min().y > b.max().y || b.min().y > ob.max().y {
                continue;
            }
            assert!(
                shape.intersection(old).unsigned_area() < 1.0,
                "{id} overlaps"
            );
        }
        strict_or_safe += usize::from(text(rec, "RISK_CLASS") != CLASS_NAMES[0]);
    }
    assert!(strict_or_safe * 10 >= second.new_risk_areas * 8);
    // They lie on farmland outside the first year's risk areas.
    let new: Vec<_> = two[RISK_AREA_COUNT..].iter().map(|s| &s.0).collect();
    let covered = read_shapes(&second.parcels_path)
        .iter()
        .filter(|(p, _)| {
            let c = p.centroid().unwrap();
            new.iter().any(|a| a.contains(&c))
        })
        .count();
    println!("{covered} second-year parcels in new risk areas");
    assert!(covered > 20, "{covered}");
}

#[test]
fn second_year_files_that_cannot_be_written_are_named() {
    for blocked in [".parcels_2024.dbf.partial", ".lineage_2024.csv.partial"] {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the temporary file goes: creating the file fails.
        fs::create_dir(dir.path().join(blocked)).unwrap();
        let opts = SampleOptions {
            parcels: 50,
            seed: 1,
        };
        let err = write_sample(dir.path(), &opts).unwrap_err();
        assert!(err.to_string().contains(blocked), "{err}");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }
}
