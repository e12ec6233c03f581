//! Measures edited in the inspector: the rate, B/C/D, the region row and the title follow in
//! the frame of the edit; Ctrl+Z and Ctrl+Shift+Z undo and redo; File > Save measures
//! writes a ledger that a fresh analysis reads back to the same rate; a dropped ledger is
//! added to the analysis; the summary's area basis analyses again.

use std::sync::Arc;

use eframe::egui::{self, Modifiers};
use egui_kittest::kittest::Queryable as _;
use soilrisk::pipeline::{AreaBasis, Control, Request, run};
use soilrisk::stats::{M2_PER_MU, Summary};
use soilrisk::vocab::Measure;

use super::{Answer, DroppedPath, loaded, sample, wait_until};
use crate::app::command::Command;
use crate::app::map::Pick;
use crate::app::window::SoilriskApp;
use egui_kittest::Harness;

fn summary(h: &Harness<'_, SoilriskApp>) -> Summary {
    h.state().session.current().unwrap().summary.clone()
}

fn region_row<'a>(s: &'a Summary, region: &str) -> &'a soilrisk::stats::RegionSummary {
    s.by_region.iter().find(|r| r.region == region).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

/// Selects parcel `k` and chooses `measure` in the inspector's measure dropdown.
fn choose_measure(h: &mut Harness<'_, SoilriskApp>, k: usize, measure: &str) {
    h.state_mut()
        .commands
        .push(Command::Select(Some(Pick::Parcel(k))));
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "measure")
        .click();
    h.run_steps(2);
    h.get_by_label(measure).click();
    h.run_steps(1);
}

#[test]
fn a_measure_edited_in_the_inspector_changes_the_rate_at_once_and_undoes() {
    let mut h = loaded();
    let (k, region, contaminated) = {
        let s = h.state().session.current().unwrap();
        let p = &s.summary.priority_parcels[0];
        (
            p.index,
            p.region.clone(),
            s.analysis.parcel_results[p.index].contaminated_m2(),
        )
    };
    let before = summary(&h);
    assert_eq!(h.state().view.title, "soilrisk — parcels.shp");
    // Strict control through the inspector's measure dropdown.
    choose_measure(&mut h, k, "严格管控");
    let edited = summary(&h);
    // Strict control treats every class: the whole contaminated area is treated now.
    assert!(close(
        edited.treated_area_m2,
        before.treated_area_m2 + contaminated
    ));
    assert!(edited.safe_utilization_rate > before.safe_utilization_rate);
    let (b0, r0) = (region_row(&before, &region), region_row(&edited, &region));
    assert!(close(r0.treated_area_m2, b0.treated_area_m2 + contaminated));
    assert!(edited.priority_parcels.iter().all(|p| p.index != k));
    // The panels show the new numbers in the same frame: the region row's rate, D, the title.
    h.run_steps(1);
    assert_eq!(h.state().view.title, "soilrisk — parcels.shp *");
    h.get_by_label("Summary").click();
    h.run_steps(2);
    h.get_by_label(&format!(
        "{:.2} 亩",
        edited.strict_control_treated_area_m2 / M2_PER_MU
    ));
    assert!(
        h.query_all_by_label(&format!(
            "{:.2}%",
            r0.safe_utilization_rate.unwrap() * 100.0
        ))
        .count()
            >= 1
    );

    // Ctrl+Z restores everything; Ctrl+Shift+Z does it again.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    let undone = summary(&h);
    assert!(close(undone.treated_area_m2, before.treated_area_m2));
    assert_eq!(undone.priority_parcels, before.priority_parcels);
    assert!(close(
        region_row(&undone, &region).treated_area_m2,
        b0.treated_area_m2
    ));
    assert_eq!(h.state().view.title, "soilrisk — parcels.shp");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::Z);
    h.run_steps(2);
    assert!(close(summary(&h).treated_area_m2, edited.treated_area_m2));
    assert_eq!(h.state().view.title, "soilrisk — parcels.shp *");

    // The analysis itself follows once the map thread lets go of it.
    wait_until(&mut h, "the edit applied", |a| {
        a.session.current().unwrap().pending.is_empty()
    });
    let a = &h.state().session.current().unwrap().analysis;
    assert_eq!(a.parcel_info[k].measure, Measure::StrictControl);
    assert_eq!(&*a.parcel_info[k].measure_text, "严格管控");

    // File > Save measures, into a new ledger (none was loaded): the edits are saved.
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("measures.xlsx");
    h.state_mut().session.dialogs = Arc::new(Answer(ledger.clone()));
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Save measures").click();
    wait_until(&mut h, "the save", |a| {
        a.session.dialog.is_none() && a.session.saving.is_none() && !a.session.unsaved()
    });
    h.run_steps(2);
    assert_eq!(h.state().view.title, "soilrisk — parcels.shp");
    assert!(ledger.is_file());

    // A fresh analysis with that ledger counts the same rate.
    let mut req = Request::new(sample("risk_areas.shp"), sample("parcels.shp"));
    req.ledgers.push(ledger);
    let fresh = run(&req, Control::default()).unwrap().summary(0.94);
    assert!(close(
        fresh.safe_utilization_rate.unwrap(),
        edited.safe_utilization_rate.unwrap()
    ));
    assert!(close(fresh.treated_area_m2, edited.treated_area_m2));
}

#[test]
fn a_dropped_ledger_is_applied_and_a_bad_one_keeps_the_analysis() {
    let mut h = loaded();
    let (id, contaminated, before) = {
        let s = h.state().session.current().unwrap();
        let p = &s.summary.priority_parcels[0];
        (
            p.parcel_id.clone(),
            s.analysis.parcel_results[p.index].contaminated_m2(),
            s.summary.treated_area_m2,
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "PARCEL_ID,MEASURE\nX1,nonsense\n").unwrap();
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(bad.clone())));
    wait_until(&mut h, "the bad ledger", |a| {
        a.session.loading.is_none() && (a.session.error.is_some() || a.session.mapping.is_some())
    });
    assert!(close(summary(&h).treated_area_m2, before));
    h.state_mut().session.error = None;
    h.state_mut().session.mapping = None;

    let good = dir.path().join("ledger.csv");
    std::fs::write(&good, format!("PARCEL_ID,MEASURE\n{id},休耕\n")).unwrap();
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(good.clone())));
    wait_until(&mut h, "the ledger applied", |a| {
        a.session.loading.is_none()
            && a.session
                .current()
                .is_some_and(|s| !s.analysis.ledgers.is_empty())
    });
    assert!(h.state().session.error.is_none());
    assert!(close(summary(&h).treated_area_m2, before + contaminated));
}

#[test]
fn the_summary_shows_b_c_d_and_reanalyses_on_another_area_basis() {
    let mut h = loaded();
    let s = summary(&h);
    h.get_by_label("Summary").click();
    h.run_steps(2);
    for (name, m2) in [
        ("优先保护类已落实", s.priority_treated_area_m2),
        ("安全利用类已落实且达标", s.safe_use_treated_area_m2),
        ("严格管控类已落实", s.strict_control_treated_area_m2),
    ] {
        h.get_by_label(name);
        h.get_by_label(&format!("{:.2} 亩", m2 / M2_PER_MU));
        h.get_by_label(&format!("{:.2}%", m2 / s.contaminated_area_m2 * 100.0));
    }
    assert_eq!(s.area_basis, "planar");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "area basis")
        .click();
    h.run_steps(2);
    h.get_by_label("ellipsoidal").click();
    h.run_steps(2);
    wait_until(&mut h, "the analysis on the ellipsoid", |a| {
        a.session.loading.is_none()
            && a.session
                .current()
                .is_some_and(|s| s.analysis.area_basis == AreaBasis::Ellipsoidal)
    });
    let e = summary(&h);
    assert_eq!(e.area_basis, "ellipsoidal");
    assert!(e.contaminated_area_m2 != s.contaminated_area_m2);
}

/// Four regions over the sample, the quadrants of its extent, written as GeoJSON in the
/// sample's CRS (EPSG:4544, said in the dialog: the file has no CRS of its own that fits).
fn quadrants(h: &Harness<'_, SoilriskApp>, path: &std::path::Path) {
    let e = h.state().session.current().unwrap().scene.extent.unwrap();
    let (x0, y0, x1, y1) = (e.min().x, e.min().y, e.max().x, e.max().y);
    let (xm, ym) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let features: Vec<String> = [
        ("西北区", "510101", [x0, ym, xm, y1]),
        ("东北区", "510102", [xm, ym, x1, y1]),
        ("西南区", "510103", [x0, y0, xm, ym]),
        ("东南区", "510104", [xm, y0, x1, ym]),
    ]
    .iter()
    .map(|(name, code, b)| {
        format!(
            r#"{{"type":"Feature","properties":{{"NAME":"{name}","CODE":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[[[{},{}],[{},{}],[{},{}],[{},{}],[{},{}]]]}}}}"#,
            b[0], b[1], b[2], b[1], b[2], b[3], b[0], b[3], b[0], b[1]
        )
    })
    .collect();
    std::fs::write(
        path,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
}

/// File > Add region boundaries… on `path` (the dialog answered by a test double), the name
/// and code fields as the dialog recognises them (NAME, CODE), the CRS `crs` or the layer's;
/// waits for the analysis by region.
fn add_regions(
    h: &mut Harness<'_, SoilriskApp>,
    path: &std::path::Path,
    crs: Option<crate::app::dialogs::regions::CrsChoice>,
) {
    h.state_mut().session.dialogs = Arc::new(Answer(path.to_path_buf()));
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Add region boundaries…").click();
    wait_until(h, "the regions dialog", |a| a.session.regions.is_some());
    h.run_steps(1);
    {
        let d = h.state_mut().session.regions.as_mut().unwrap();
        assert_eq!(d.name_field, "NAME");
        assert_eq!(d.code_field.as_deref(), Some("CODE"));
        if let Some(crs) = crs {
            d.crs = crs;
        }
    }
    h.run_steps(1);
    h.get_by_label("Use these regions").click();
    h.run_steps(1);
    wait_until(h, "the analysis by region", |a| {
        a.session.loading.is_none()
            && a.session
                .current()
                .is_some_and(|s| s.analysis.boundaries.is_some())
    });
    assert!(h.state().session.error.is_none());
}

#[test]
fn a_boundary_layer_is_added_listed_drawn_and_toggled() {
    let mut h = loaded();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counties.geojson");
    quadrants(&h, &path);
    add_regions(
        &mut h,
        &path,
        Some(crate::app::dialogs::regions::CrsChoice::Epsg("4544".into())),
    );
    let s = summary(&h);
    let names: Vec<&str> = s.by_region.iter().map(|r| r.region.as_str()).collect();
    assert!(
        names.contains(&"东北区") && names.contains(&"西南区"),
        "{names:?}"
    );
    assert_eq!(
        h.state()
            .session
            .current()
            .unwrap()
            .scene
            .region_labels
            .len(),
        4
    );
    super::wait_for_picture(&mut h);
    h.get_by_label("Regions 行政区");
    h.get_by_label("Regions 行政区").click();
    h.run_steps(2);
    assert!(!h.state().settings.layers.show_regions);
    h.get_by_label("Regions 行政区").click();
    h.run_steps(2);
    assert!(h.state().settings.layers.show_regions);

    // `SOILRISK_DOCS_SHOTS=DIR` writes the README's pictures of the window: the regions with
    // the summary, and a parcel's measure edited in the inspector.
    if let Some(out) = std::env::var_os("SOILRISK_DOCS_SHOTS") {
        let out = std::path::PathBuf::from(out);
        h.get_by_label("Summary").click();
        h.state_mut().view.fit_pending = true;
        super::wait_for_picture(&mut h);
        h.render()
            .unwrap()
            .save(out.join("window_regions.png"))
            .unwrap();
        let k = summary(&h).priority_parcels[0].index;
        h.state_mut()
            .commands
            .push(Command::Select(Some(Pick::Parcel(k))));
        h.run_steps(2);
        let app = h.state_mut();
        crate::app::update::zoom_to(&app.session, &mut app.view, Pick::Parcel(k));
        h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "measure")
            .click();
        h.run_steps(2);
        h.get_by_label("休耕").click();
        super::wait_for_picture(&mut h);
        h.render()
            .unwrap()
            .save(out.join("window_edit.png"))
            .unwrap();
    }
}

/// The tour of the README: the bundled sample, its ledger dropped on the window and its
/// county layer added from the File menu. The ledger moves the rate as `analyze --ledger`
/// does; the counties come with their codes, sorted by code.
#[test]
fn the_sample_with_its_ledger_and_counties() {
    let mut h = loaded();
    let before = summary(&h).safe_utilization_rate.unwrap();
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(sample("ledger.xlsx"))));
    wait_until(&mut h, "the sample ledger applied", |a| {
        a.session.loading.is_none()
            && a.session
                .current()
                .is_some_and(|s| !s.analysis.ledgers.is_empty())
    });
    assert!(h.state().session.error.is_none());
    let mut req = Request::new(sample("risk_areas.shp"), sample("parcels.shp"));
    req.ledgers = vec![sample("ledger.xlsx")];
    let want = run(&req, Control::default()).unwrap().summary(0.94);
    let with_ledger = summary(&h).safe_utilization_rate.unwrap();
    assert!(close(with_ledger, want.safe_utilization_rate.unwrap()));
    assert!(with_ledger > before, "{before} -> {with_ledger}");

    add_regions(&mut h, &sample("counties.shp"), None);
    let s = summary(&h);
    assert!(close(s.safe_utilization_rate.unwrap(), with_ledger));
    let codes: Vec<&str> = s
        .by_region
        .iter()
        .map(|r| r.code.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(codes.len(), 23, "{codes:?}");
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "{codes:?}");
    if let Some(out) = std::env::var_os("SOILRISK_DOCS_SHOTS") {
        h.get_by_label("Summary").click();
        h.state_mut().view.fit_pending = true;
        super::wait_for_picture(&mut h);
        h.render()
            .unwrap()
            .save(std::path::PathBuf::from(out).join("window_sample_counties.png"))
            .unwrap();
    }
}

/// Closing the window with unsaved edits asks first: Cancel keeps the window and the edits,
/// Discard lets it close. With nothing unsaved it closes without asking.
#[test]
fn closing_with_unsaved_edits_asks_first() {
    let mut h = loaded();
    let close_request = |h: &mut Harness<'_, SoilriskApp>| {
        h.input_mut()
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .events
            .push(egui::ViewportEvent::Close);
        h.run_steps(2);
    };
    // Nothing edited: no question.
    close_request(&mut h);
    assert!(!h.state().session.confirm_close);

    let k = summary(&h).priority_parcels[0].index;
    choose_measure(&mut h, k, "严格管控");
    h.run_steps(1);
    assert!(h.state().session.unsaved());

    close_request(&mut h);
    assert!(h.state().session.confirm_close);
    h.get_by_label("Measures were edited and not saved.");
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(!h.state().session.confirm_close);
    assert!(h.state().session.unsaved() && !h.state().session.allow_close);

    close_request(&mut h);
    h.get_by_label("Discard").click();
    h.run_steps(2);
    assert!(h.state().session.allow_close);
}
