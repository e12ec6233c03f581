//! The bundled sample: it is exactly what `soilrisk sample --out sample_data` writes, and its
//! totals agree with an independent computation by GEOS.
//!
//! Reference numbers: GeoPandas 1.2.0 / shapely 2.2.0 (GEOS), dissolve per class with overlaps
//! given to the highest class, `gpd.overlay` intersection, run once with
//!   python3 scripts/reference_overlay.py --risk sample_data/risk_areas.shp \
//!       --parcels sample_data/parcels.shp
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

use std::path::Path;

use soilrisk::pipeline::{Control, Request, run};
use soilrisk::sample::{SampleOptions, write_sample};

fn sample_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/sample_data"))
}

#[test]
fn totals_agree_with_geos() {
    let dir = sample_dir();
    let a = run(
        &Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp")),
        Control::default(),
    )
    .unwrap();
    let s = a.summary(0.94);
    assert_eq!(
        (s.parcels, s.risk_areas, s.parcels_at_risk),
        (30_000, 3_568, 4_952)
    );
    let geos = [
        ("cultivated", s.cultivated_area_m2, 91_853_512.273_599_7),
        (
            "contaminated",
            s.contaminated_area_m2,
            11_279_975.971_370_805,
        ),
        ("class I", s.priority_area_m2, 332_579.985_900_590_55),
        ("class II", s.safe_use_area_m2, 7_475_573.486_980_995),
        (
            "class III",
            s.strict_control_area_m2,
            3_471_822.498_489_219_7,
        ),
        ("treated", s.treated_area_m2, 9_918_603.844_473_593),
        ("untreated", s.untreated_area_m2, 1_361_372.126_897_212_1),
        (
            "rate",
            s.safe_utilization_rate.unwrap(),
            0.879_310_724_566_040_9,
        ),
        ("gap", s.gap_to_target_m2, 684_573.568_614_963_4),
    ];
    for (name, got, want) in geos {
        let rel = ((got - want) / want).abs();
        assert!(
            rel < 1e-9,
            "{name}: soilrisk {got}, GEOS {want}, relative {rel:e}"
        );
    }
    assert_eq!(s.area_method, "planar");
    assert!(s.crs.starts_with("EPSG:4544"));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // Regions add up to the province.
    let sum: f64 = s.by_region.iter().map(|r| r.contaminated_area_m2).sum();
    assert!((sum - s.contaminated_area_m2).abs() < 1e-6);
    assert_eq!(s.by_region.iter().map(|r| r.parcels).sum::<usize>(), 30_000);
}

#[test]
fn bundled_files_are_what_the_generator_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let report = write_sample(tmp.path(), &SampleOptions::default()).unwrap();
    assert_eq!((report.risk_areas, report.parcels), (3_568, 30_000));
    let mut names = vec!["ledger.xlsx".to_string(), "lineage_2024.csv".to_string()];
    for layer in [
        "risk_areas",
        "parcels",
        "counties",
        "parcels_2024",
        "risk_areas_2024",
    ] {
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            names.push(format!("{layer}.{ext}"));
        }
    }
    for name in names {
        let bundled = std::fs::read(sample_dir().join(&name)).unwrap();
        let fresh = std::fs::read(tmp.path().join(&name)).unwrap();
        assert!(
            bundled == fresh,
            "{name} differs from `soilrisk sample` output"
        );
    }
}

#[test]
fn the_county_layer_gives_each_parcel_its_own_county_with_codes() {
    use soilrisk::pipeline::RegionLayer;
    let dir = sample_dir();
    let by_field = run(
        &Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp")),
        Control::default(),
    )
    .unwrap()
    .summary(0.94);
    let mut req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    req.regions = Some(RegionLayer {
        path: dir.join("counties.shp"),
        name_field: "NAME".into(),
        code_field: Some("CODE".into()),
        crs: None,
        read: Default::default(),
    });
    let by_layer = run(&req, Control::default()).unwrap().summary(0.94);
    assert!(by_layer.warnings.is_empty(), "{:?}", by_layer.warnings);
    // The same 24 counties with the same numbers: every parcel lies mostly in the county
    // its COUNTY field names. Sorted by code now. (One county of the 24 holds no parcel,
    // and a region without parcels is not listed.)
    assert_eq!(by_layer.by_region.len(), by_field.by_region.len());
    assert_eq!(by_layer.by_region.len(), 23);
    let mut codes: Vec<&str> = by_layer
        .by_region
        .iter()
        .map(|r| r.code.as_deref().unwrap())
        .collect();
    assert!(codes.is_sorted());
    codes.dedup();
    assert_eq!(codes.len(), 23);
    for r in &by_layer.by_region {
        let f = by_field
            .by_region
            .iter()
            .find(|f| f.region == r.region)
            .unwrap();
        assert_eq!(
            (r.parcels, r.parcels_at_risk, r.untreated_parcels),
            (f.parcels, f.parcels_at_risk, f.untreated_parcels),
            "{}",
            r.region
        );
        assert_eq!(
            r.contaminated_area_m2, f.contaminated_area_m2,
            "{}",
            r.region
        );
    }
    // The parcels' location codes begin with their county's code.
    let mut req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    req.fields
        .set(soilrisk::pipeline::Role::Region, Some("ZLDWDM".into()));
    req.region_code_digits = Some(6);
    let by_code = run(&req, Control::default()).unwrap().summary(0.94);
    let pairs = |s: &soilrisk::stats::Summary| -> Vec<(Option<String>, usize)> {
        s.by_region
            .iter()
            .map(|r| (r.code.clone(), r.parcels))
            .collect()
    };
    assert_eq!(pairs(&by_code), pairs(&by_layer));
}

#[test]
fn the_ledger_names_parcels_at_risk_and_moves_the_rate() {
    use soilrisk::ledger::{LedgerColumns, read_ledger};
    use soilrisk::vocab::{Measure, parse_compliance};
    let dir = sample_dir();
    let req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    let a = run(&req, Control::default()).unwrap();
    let before = a.summary(0.94);
    let ledger = read_ledger(&dir.join("ledger.xlsx"), &LedgerColumns::default()).unwrap();
    assert_eq!(ledger.sheet.as_deref(), Some("台账"));
    assert_eq!(ledger.header, ["图斑编号", "措施类型", "是否达标"]);
    assert_eq!(ledger.id_column, "图斑编号");
    assert_eq!(ledger.measure_column.as_deref(), Some("措施类型"));
    assert_eq!(ledger.compliance_column.as_deref(), Some("是否达标"));
    // About a third of the parcels in risk areas (a third of those whose centroid is).
    let n = ledger.rows.len();
    assert!(
        n * 4 > before.parcels_at_risk && n * 3 < before.parcels_at_risk,
        "{n} rows for {} parcels at risk",
        before.parcels_at_risk
    );
    let index: std::collections::HashMap<&str, usize> = a
        .parcel_info
        .iter()
        .enumerate()
        .map(|(k, p)| (&*p.id, k))
        .collect();
    let mut differing = 0;
    let mut ids = std::collections::HashSet::new();
    for row in &ledger.rows {
        assert!(ids.insert(row.id.clone()), "{} twice", row.id);
        let k = index[row.id.as_str()];
        assert!(a.parcel_results[k].contaminated_m2() > 0.0, "{}", row.id);
        let text = row.measure.as_deref().unwrap();
        let measure = Measure::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert!(parse_compliance(row.compliance.as_deref().unwrap()).is_some());
        differing += usize::from(measure != a.parcel_info[k].measure);
    }
    assert!(
        differing > n / 20 && differing < n / 2,
        "{differing} of {n} rows change the measure"
    );

    // Applied as `--ledger` applies it: the rate moves up, every row matched.
    let mut with = req.clone();
    with.ledgers = vec![dir.join("ledger.xlsx")];
    let after = run(&with, Control::default()).unwrap().summary(0.94);
    assert!(after.warnings.is_empty(), "{:?}", after.warnings);
    let (r0, r1) = (
        before.safe_utilization_rate.unwrap(),
        after.safe_utilization_rate.unwrap(),
    );
    println!(
        "ledger: {n} rows, {differing} changing the measure; rate {:.2}% -> {:.2}%, untreated parcels {} -> {}",
        r0 * 100.0,
        r1 * 100.0,
        before.untreated_parcels,
        after.untreated_parcels
    );
    assert!(r1 > r0 + 0.01, "{r0} -> {r1}");
    assert!(after.untreated_parcels < before.untreated_parcels);
}

#[test]
fn a_cancelled_export_leaves_the_destination_as_it_was() {
    use soilrisk::export::{ToWgs84, is_cancelled, write_parcels};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let dir = sample_dir();
    let a = run(
        &Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp")),
        Control::default(),
    )
    .unwrap();
    let to = ToWgs84::new(a.crs.as_ref()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("parcels.geojson");
    std::fs::write(&dest, "the previous export").unwrap();

    // Cancelled once the first block has been reported.
    let cancel = AtomicBool::new(false);
    let reports = AtomicUsize::new(0);
    let progress = |_, _| {
        reports.fetch_add(1, Ordering::Relaxed);
        cancel.store(true, Ordering::Relaxed);
    };
    let ctl = Control {
        cancel: Some(&cancel),
        progress: Some(&progress),
        ..Control::default()
    };
    let err = write_parcels(&dest, &a, &to, ctl).unwrap_err();
    assert!(is_cancelled(&err), "{err}");
    assert_eq!(reports.load(Ordering::Relaxed), 1);
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        "the previous export"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");

    // Not cancelled: progress runs to 1 and the file is replaced.
    let last = std::sync::Mutex::new(0.0f32);
    let progress = |_, f| *last.lock().unwrap() = f;
    write_parcels(
        &dest,
        &a,
        &to,
        Control {
            cancel: None,
            progress: Some(&progress),
            ..Control::default()
        },
    )
    .unwrap();
    assert_eq!(*last.lock().unwrap(), 1.0);
    assert!(
        std::fs::read_to_string(&dest)
            .unwrap()
            .starts_with("{\"type\"")
    );
}

#[test]
fn streaming_the_parcels_in_small_batches_gives_the_same_results_and_exports() {
    use soilrisk::export::{ToWgs84, write_parcels};
    use soilrisk::pipeline::KeepParcels;

    let dir = sample_dir();
    let whole_req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    let whole = run(&whole_req, Control::default()).unwrap();
    // 64 KiB of records a batch: the 30,000 parcels come in about 140 batches, and only the
    // parcels at risk are kept: their geometry, and of their attributes only those the
    // analysis uses (in `parcel_info`). The others leave their tally only.
    let mut req = whole_req.clone();
    req.parcel_read.batch_bytes = Some(64 << 10);
    req.keep_parcels = KeepParcels::AtRisk;
    let streamed = run(&req, Control::default()).unwrap();

    assert_eq!(streamed.risk_results, whole.risk_results);
    assert_eq!(streamed.warnings, whole.warnings);
    // The same totals to the bit (the summary's priority list points into each analysis's
    // own records, which JSON leaves out).
    let (a, b) = (whole.summary(0.94), streamed.summary(0.94));
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.parcels, 30_000);

    // Every parcel's tally, kept or not; the regions named in the same order.
    assert_eq!(streamed.regions, whole.regions);
    assert_eq!(streamed.tally.len(), whole.tally.len());
    for (s, w) in streamed.tally.iter().zip(&whole.tally) {
        assert_eq!((s.area_m2, s.region), (w.area_m2, w.region));
        let wr = &whole.parcel_results[w.kept().unwrap()];
        assert_eq!(s.kept().is_some(), wr.contaminated_m2() > 0.0);
        if let Some(k) = s.kept() {
            assert_eq!(&streamed.parcel_results[k], wr);
        }
    }
    // Every parcel's id and region, kept or not, as the layer gives them: what a comparison
    // of two years matches parcels by.
    assert_eq!(streamed.parcel_ids, whole.parcel_ids);
    assert_eq!(streamed.parcel_ids.len(), 30_000);
    for (i, info) in whole.parcel_info.iter().enumerate() {
        assert_eq!(streamed.parcel_key(i), (&*info.id, &*info.region));
    }
    // The parcels kept: those at risk, in layer order, with their geometry and records.
    let at_risk: Vec<usize> = (0..whole.parcel_info.len())
        .filter(|&i| whole.parcel_results[i].contaminated_m2() > 0.0)
        .collect();
    assert_eq!(at_risk.len(), b.parcels_at_risk);
    assert_eq!(streamed.parcel_info.len(), at_risk.len());
    assert_eq!(streamed.parcels.features.len(), at_risk.len());
    for (k, &i) in at_risk.iter().enumerate() {
        let (a, w) = (&streamed.parcel_info[k], &whole.parcel_info[i]);
        assert_eq!(
            (&a.id, &a.region, &a.measure_text, a.measure, a.complied),
            (&w.id, &w.region, &w.measure_text, w.measure, w.complied)
        );
        let (f, g) = (
            &streamed.parcels.features[a.feature],
            &whole.parcels.features[w.feature],
        );
        assert_eq!((f.record, &f.geometry), (g.record, &g.geometry));
        assert!(f.values.is_empty());
    }

    let out = tempfile::tempdir().unwrap();
    let to = ToWgs84::new(whole.crs.as_ref()).unwrap();
    let (p1, p2) = (
        out.path().join("whole.geojson"),
        out.path().join("streamed.geojson"),
    );
    write_parcels(&p1, &whole, &to, Control::default()).unwrap();
    write_parcels(&p2, &streamed, &to, Control::default()).unwrap();
    assert!(std::fs::read(&p1).unwrap() == std::fs::read(&p2).unwrap());
}

#[test]
fn streaming_reads_a_field_that_plays_two_roles_for_both() {
    // A column named for two roles (here the ids as regions, named in another case than
    // the file's) is read for both when the attributes are moved out of the features.
    use soilrisk::pipeline::KeepParcels;
    let dir = sample_dir();
    let mut whole_req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    whole_req
        .fields
        .set(soilrisk::pipeline::Role::Region, Some("parcel_id".into())); // the ids as regions: both roles
    let whole = run(&whole_req, Control::default()).unwrap();
    let mut req = whole_req.clone();
    req.keep_parcels = KeepParcels::AtRisk;
    let streamed = run(&req, Control::default()).unwrap();
    let at_risk = whole
        .parcel_info
        .iter()
        .zip(&whole.parcel_results)
        .filter(|(_, r)| r.contaminated_m2() > 0.0);
    assert_eq!(streamed.parcel_info.len(), at_risk.clone().count());
    for (a, (b, _)) in streamed.parcel_info.iter().zip(at_risk) {
        assert!(!a.id.is_empty());
        assert_eq!((&a.id, &a.region), (&b.id, &b.region));
        assert_eq!(a.id, a.region);
    }
    assert_eq!(streamed.regions.len(), 30_000);
    assert_eq!(
        serde_json::to_string(&streamed.summary(0.94)).unwrap(),
        serde_json::to_string(&whole.summary(0.94)).unwrap()
    );
}

#[test]
fn the_layers_are_handed_over_as_they_are_read() {
    use soilrisk::pipeline::Arrival;
    use std::sync::Mutex;

    let dir = sample_dir();
    let mut req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    req.parcel_read.batch_bytes = Some(256 << 10);
    // What arrived, in order: the risk areas' count, then each batch's length and the box of
    // its first parcel.
    type Entry = (&'static str, usize, Option<geo::Rect<f64>>);
    let log: Mutex<Vec<Entry>> = Mutex::default();
    let arrived = |what: Arrival<'_>| {
        let entry = match what {
            Arrival::Risk(layer, areas) => {
                assert_eq!(layer.features.len(), areas.len());
                ("risk", areas.len(), None)
            }
            Arrival::Parcels(batch) => (
                "parcels",
                batch.len(),
                geo::BoundingRect::bounding_rect(&batch[0].geometry),
            ),
        };
        log.lock().unwrap().push(entry);
    };
    let a = run(
        &req,
        Control {
            arrived: Some(&arrived),
            ..Control::default()
        },
    )
    .unwrap();
    let log = log.into_inner().unwrap();
    assert_eq!(log[0].0, "risk", "the risk layer comes first");
    assert_eq!(log[0].1, a.risk_areas.len());
    assert!(log[1..].iter().all(|e| e.0 == "parcels"));
    assert!(log.len() > 10, "{} batches", log.len() - 1);
    let total: usize = log[1..].iter().map(|e| e.1).sum();
    assert_eq!(total, a.parcels.features.len());
    // Each batch starts where the previous ended, with the geometry the analysis keeps.
    let mut start = 0;
    for e in &log[1..] {
        let kept = geo::BoundingRect::bounding_rect(&a.parcels.features[start].geometry);
        assert_eq!(e.2, kept);
        start += e.1;
    }
}

#[test]
fn cancelling_while_the_parcels_stream_in_stops_the_analysis() {
    use soilrisk::pipeline::AnalysisError;
    use soilrisk::pipeline::Arrival;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let dir = sample_dir();
    let mut req = Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp"));
    req.parcel_read.batch_bytes = Some(64 << 10);
    let cancel = AtomicBool::new(false);
    let batches = AtomicUsize::new(0);
    // The third batch cancels: the reader thread has a batch ready or in hand by then.
    let arrived = |what: Arrival<'_>| {
        if let Arrival::Parcels(_) = what
            && batches.fetch_add(1, Ordering::Relaxed) + 1 == 3
        {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let result = run(
        &req,
        Control {
            cancel: Some(&cancel),
            arrived: Some(&arrived),
            ..Control::default()
        },
    );
    assert!(
        matches!(result, Err(AnalysisError::Cancelled)),
        "{result:?}"
    );
    // About 140 batches in all; the run stopped at the batch that cancelled it.
    assert_eq!(batches.load(Ordering::Relaxed), 3);
}

#[test]
fn the_second_year_has_the_counts_its_readme_gives() {
    let dir = sample_dir();
    let a = run(
        &Request::new(
            dir.join("risk_areas_2024.shp"),
            dir.join("parcels_2024.shp"),
        ),
        Control::default(),
    )
    .unwrap();
    let s = a.summary(0.94);
    assert_eq!(
        (s.parcels, s.risk_areas, s.parcels_at_risk),
        (30_950, 3_608, 5_760)
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let lineage = std::fs::read_to_string(dir.join("lineage_2024.csv")).unwrap();
    assert!(lineage.starts_with("\u{feff}BGQTBBH,BGHTBBH\r\n"));
    assert_eq!(lineage.lines().count(), 1 + 2_604);
}
