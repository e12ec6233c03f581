//! The window driven as a person would, with egui_kittest: open the bundled sample, click a
//! parcel and a risk area where they are on screen, toggle a layer, change the target.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, Event, Modifiers, PointerButton, Pos2, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use std::sync::Arc;

use soilrisk::pipeline::Role;

use super::files::Dialogs;
use super::inspector::area_text;
use super::map::Pick;
use super::state::RightTab;
use super::window::SoilriskApp;

mod compare;
mod containers;
mod edits;
mod postgis;
mod report;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(name)
}

/// A window on the bundled sample, after loading has finished.
fn loaded() -> Harness<'static, SoilriskApp> {
    loaded_from(sample("risk_areas.shp"), sample("parcels.shp"))
}

fn loaded_from(risk: PathBuf, parcels: PathBuf) -> Harness<'static, SoilriskApp> {
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(move |cc| SoilriskApp::new(cc, risk, parcels));
    wait_until(&mut h, "loading", |a| {
        a.session.loading.is_none() && a.session.current().is_some()
    });
    wait_for_picture(&mut h);
    wait_until(&mut h, "the overlap check", |a| {
        a.session.current().is_some_and(|s| s.overlaps.done())
    });
    h
}

/// Runs frames until the map picture of the current view is on screen.
fn wait_for_picture(h: &mut Harness<'_, SoilriskApp>) {
    h.run_steps(2);
    wait_until(h, "the map picture", |a| a.renderer.up_to_date());
    h.run_steps(1);
}

/// Runs frames until `done` holds (background threads report between frames).
fn wait_until(h: &mut Harness<'_, SoilriskApp>, what: &str, done: impl Fn(&SoilriskApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "waited too long for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many parcels the loaded analysis holds.
fn parcels_loaded(h: &Harness<'_, SoilriskApp>) -> usize {
    h.state()
        .session
        .current()
        .map_or(0, |s| s.analysis.parcel_info.len())
}

fn click_at(h: &mut Harness<'_, SoilriskApp>, pos: Pos2) {
    h.hover_at(pos);
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    h.run_steps(3);
}

/// Zooms to a map point and returns where it is on screen.
fn screen_pos(h: &mut Harness<'_, SoilriskApp>, pick: Pick, at: [f64; 2]) -> Pos2 {
    let app = h.state_mut();
    super::update::zoom_to(&app.session, &mut app.view, pick);
    h.run_steps(2);
    let s = h.state();
    s.view.camera.to_screen(s.view.map_rect, at[0], at[1])
}

#[test]
fn clicking_a_parcel_shows_its_id_and_contaminated_area() {
    let mut h = loaded();
    // The parcel that would close the gap first: a parcel at risk, untreated.
    let (index, id, contaminated) = {
        let s = h.state().session.current().unwrap();
        let p = &s.summary.priority_parcels[0];
        let r = &s.analysis.parcel_results[p.index];
        (p.index, p.parcel_id.clone(), r.contaminated_m2())
    };
    let at = {
        let a = &h.state().session.current().unwrap().analysis;
        let g = &a.parcels.features[a.parcel_info[index].feature].geometry;
        let p = geo::InteriorPoint::interior_point(g).unwrap();
        [p.x(), p.y()]
    };
    let pos = screen_pos(&mut h, Pick::Parcel(index), at);
    click_at(&mut h, pos);
    assert_eq!(h.state().view.selection, Some(Pick::Parcel(index)));
    assert_eq!(h.state().settings.right_tab, RightTab::Inspector);
    h.get_by_label(&format!("Parcel {id}"));
    // Contaminated (and, untreated, the same figure again as the untreated area).
    assert!(h.query_all_by_label(&area_text(contaminated)).count() >= 1);

    // Esc clears the selection.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().view.selection, None);
}

#[test]
fn with_parcels_hidden_a_click_selects_the_risk_area() {
    let mut h = loaded();
    // Hide the parcels through the layer panel.
    h.get_by_label("Parcels 耕地图斑").click();
    h.run_steps(2);
    assert!(!h.state().settings.layers.show_parcels);

    let (index, id, at) = {
        let a = &h.state().session.current().unwrap().analysis;
        // The risk area with the most cultivated land inside.
        let i = (0..a.risk_areas.len())
            .max_by(|&x, &y| {
                a.risk_results[x]
                    .cultivated_m2
                    .total_cmp(&a.risk_results[y].cultivated_m2)
            })
            .unwrap();
        let g = &a.risk.features[a.risk_areas[i].feature].geometry;
        let p = geo::InteriorPoint::interior_point(g).unwrap();
        (i, a.risk_areas[i].id.to_string(), [p.x(), p.y()])
    };
    let pos = screen_pos(&mut h, Pick::Risk(index), at);
    click_at(&mut h, pos);
    // Another (overlapping, higher-class) risk area may be on top; it must be a risk area.
    let Some(Pick::Risk(got)) = h.state().view.selection else {
        panic!("no risk area selected: {:?}", h.state().view.selection)
    };
    let label = {
        let a = &h.state().session.current().unwrap().analysis;
        format!("Risk area {}", a.risk_areas[got].id)
    };
    h.get_by_label(&label);
    if got == index {
        assert!(label.ends_with(&id));
    }

    // Shown again, the same click finds a parcel or the risk area, never nothing.
    h.get_by_label("Parcels 耕地图斑").click();
    h.run_steps(2);
    assert!(h.state().settings.layers.show_parcels);
}

#[test]
fn changing_the_target_updates_the_gap() {
    let mut h = loaded();
    let before = h
        .state()
        .session
        .current()
        .unwrap()
        .summary
        .gap_to_target_m2;
    let label = |gap: f64, n: usize| {
        format!(
            "gap to target: {:.1} 亩 ({:.0} m²), closed by {n} parcels",
            gap / soilrisk::stats::M2_PER_MU,
            gap
        )
    };
    let n = h
        .state()
        .session
        .current()
        .unwrap()
        .summary
        .parcels_to_close_gap;
    h.get_by_label(&label(before, n));

    // Type a new target into the target field.
    h.get_by_role_and_label(egui::accesskit::Role::SpinButton, "target")
        .click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    h.event(Event::Text("90".into()));
    h.key_press(egui::Key::Enter);
    h.run_steps(3);

    let s = &h.state().session.current().unwrap().summary;
    assert!(
        (s.target_rate - 0.90).abs() < 1e-9,
        "target {}",
        s.target_rate
    );
    let expected = (0.90 * s.contaminated_area_m2 - s.treated_area_m2).max(0.0);
    assert!((s.gap_to_target_m2 - expected).abs() < 1e-6);
    assert!(s.gap_to_target_m2 < before);
    let (gap, n) = (s.gap_to_target_m2, s.parcels_to_close_gap);
    h.get_by_label(&label(gap, n));
}

/// A file dialog that always answers with the same path.
struct Answer(PathBuf);

impl Dialogs for Answer {
    fn available(&self) -> Result<(), String> {
        Ok(())
    }
    fn open_layer(&self, _: &str, _: Option<&std::path::Path>) -> Option<PathBuf> {
        Some(self.0.clone())
    }
    fn save(&self, _: &str, _: &str, _: Option<&std::path::Path>) -> Option<PathBuf> {
        Some(self.0.clone())
    }
}

/// Runs frames until the file dialog has answered and the export has finished (the dialog
/// runs on a thread of its own, so the export may start some frames later).
fn wait_for_export(h: &mut Harness<'_, SoilriskApp>) {
    wait_until(h, "the export", |a| {
        a.session.dialog.is_none()
            && a.session.export.is_none()
            && (a.session.notice.is_some() || a.session.error.is_some())
    });
    h.run_steps(2);
}

fn export_through_menu(h: &mut Harness<'_, SoilriskApp>, item: &str, to: PathBuf) {
    h.state_mut().session.notice = None;
    h.state_mut().session.dialogs = Arc::new(Answer(to));
    h.get_by_label("Export").click();
    h.run_steps(2);
    h.get_by_label(item).click();
    wait_for_export(h);
}

#[test]
fn exporting_through_the_menu_writes_the_files() {
    let mut h = loaded();
    let dir = tempfile::tempdir().unwrap();

    let summary = dir.path().join("summary.json");
    export_through_menu(&mut h, "Summary (JSON)…", summary.clone());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let s = h.state().session.current().unwrap().summary.clone();
    assert_eq!(json["parcels"], 30_000);
    assert_eq!(
        json["contaminated_area_m2"].as_f64().unwrap(),
        s.contaminated_area_m2
    );
    assert_eq!(
        h.state().session.notice.as_deref(),
        Some(format!("wrote {}", summary.display()).as_str())
    );

    let csv = dir.path().join("regions.csv");
    export_through_menu(&mut h, "Regions (CSV)…", csv.clone());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 1 + soilrisk::table::rows(&s).len());
    assert!(text.contains(&s.by_region[0].region));

    let parcels = dir.path().join("parcels.geojson");
    export_through_menu(&mut h, "Parcels at risk (GeoJSON)…", parcels.clone());
    let gj: serde_json::Value = serde_json::from_slice(&std::fs::read(&parcels).unwrap()).unwrap();
    assert_eq!(gj["features"].as_array().unwrap().len(), s.parcels_at_risk);
}

#[test]
fn overlapping_parcels_are_warned_of_once_the_map_is_shown_and_in_the_exported_summary() {
    let dir = tempfile::tempdir().unwrap();
    let crs = r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4544"}}"#;
    let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
        format!("[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]")
    };
    let feature = |props: &str, coords: String| {
        format!(
            r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Polygon","coordinates":{coords}}}}}"#
        )
    };
    let (x, y) = (500_000.0, 3_300_000.0);
    let risk = dir.path().join("risk.geojson");
    let parcels = dir.path().join("parcels.geojson");
    std::fs::write(
        &risk,
        format!(
            r#"{{"type":"FeatureCollection",{crs},"features":[{}]}}"#,
            feature(
                r#"{"RISK_ID":"R1","RISK_CLASS":"safe_use"}"#,
                rect(x, y, x + 100.0, y + 100.0)
            )
        ),
    )
    .unwrap();
    let p = |id: &str| format!(r#"{{"PARCEL_ID":"{id}","COUNTY":"A","MEASURE":"safe_use"}}"#);
    std::fs::write(
        &parcels,
        format!(
            r#"{{"type":"FeatureCollection",{crs},"features":[{},{},{}]}}"#,
            // P1 and P2 overlap by 5 x 10 m; P3 only shares an edge with P2.
            feature(&p("P1"), rect(x + 10.0, y + 10.0, x + 30.0, y + 20.0)),
            feature(&p("P2"), rect(x + 25.0, y + 10.0, x + 45.0, y + 20.0)),
            feature(&p("P3"), rect(x + 45.0, y + 10.0, x + 65.0, y + 20.0)),
        ),
    )
    .unwrap();
    let mut h = loaded_from(risk, parcels);
    let overlap = |w: &String| w.contains("overlap one another");
    {
        let s = h.state().session.current().unwrap();
        // The load left the check out; it ran after the map was drawn.
        assert!(!s.analysis.warnings.iter().any(overlap));
        let late: Vec<&String> = s.summary.warnings.iter().filter(|w| overlap(w)).collect();
        assert_eq!(late.len(), 1, "{:?}", s.summary.warnings);
        assert!(
            late[0].contains("P1 (record 1) and P2 (record 2)"),
            "{}",
            late[0]
        );
        assert!(!late[0].contains("P3"), "{}", late[0]);
    }
    // The summary panel lists it.
    h.get_by_label(&format!(
        "{} warning(s)",
        h.state().session.current().unwrap().summary.warnings.len()
    ))
    .click();
    h.run_steps(2);
    assert!(
        h.query_all_by_label_contains("overlap one another")
            .next()
            .is_some()
    );

    // A new target recomputes the summary and keeps the warning; the export writes it.
    h.state_mut()
        .commands
        .push(super::command::Command::SetTarget(0.9));
    h.run_steps(2);
    let out = dir.path().join("summary.json");
    export_through_menu(&mut h, "Summary (JSON)…", out.clone());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["target_rate"].as_f64(), Some(0.9), "{json}");
    let written: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| w.contains("overlap one another"))
        .collect();
    assert_eq!(written.len(), 1, "{json}");
}

#[test]
fn an_export_onto_an_input_layer_is_refused_and_the_layer_kept() {
    // Work on a copy, so that a failure here could never damage the bundled sample.
    let dir = tempfile::tempdir().unwrap();
    copy_sample(dir.path());
    let parcels = dir.path().join("parcels.shp");
    let mut h = loaded_from(dir.path().join("risk_areas.shp"), parcels.clone());
    let before = std::fs::read(&parcels).unwrap();
    export_through_menu(&mut h, "Parcels at risk (GeoJSON)…", parcels.clone());
    let err = h.state().session.error.clone().unwrap_or_default();
    assert!(err.contains("input layer"), "{err}");
    assert_eq!(before, std::fs::read(&parcels).unwrap());
    assert!(
        h.state().session.current().is_some(),
        "what was loaded stays loaded"
    );
}

#[test]
fn opening_a_bad_file_keeps_the_loaded_layers() {
    let mut h = loaded();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, "<html>not a layer</html>").unwrap();
    h.state_mut().session.dialogs = Arc::new(Answer(bad));
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Open parcel layer…").click();
    h.run_steps(3);
    wait_until(&mut h, "an error message", |a| {
        a.session.loading.is_none() && a.session.error.is_some()
    });
    h.run_steps(2);
    let err = h.state().session.error.clone().unwrap();
    assert!(
        err.contains("bad.geojson") && err.contains("not GeoJSON"),
        "{err}"
    );
    assert_eq!(
        h.state()
            .session
            .current()
            .unwrap()
            .analysis
            .parcel_info
            .len(),
        30_000
    );
    h.get_by_label("Dismiss").click();
    h.run_steps(2);
    assert!(h.state().session.error.is_none());
}

#[test]
fn attribute_table_filters_sorts_and_selects() {
    let mut h = loaded();
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Attribute table").click();
    h.run_steps(2);
    h.key_press(egui::Key::Escape); // close the menu
    h.run_steps(2);
    assert!(h.state().settings.show_table);
    // In the layer's order at first, as QGIS opens it.
    let n = parcels_loaded(&h);
    assert_eq!(h.state().view.table.rows(), (0..n).collect::<Vec<_>>());
    assert_eq!(n, 30_000);

    h.get_by_label("untreated").click();
    h.run_steps(2);
    h.get_by_label("untreated (亩)").click(); // sort ascending
    h.run_steps(2);
    h.get_by_label("untreated (亩) ▲").click(); // and descending
    h.run_steps(2);
    let (first, id, n_untreated) = {
        let s = h.state().session.current().unwrap();
        let p = &s.summary.priority_parcels[0];
        let n = s
            .analysis
            .parcel_results
            .iter()
            .filter(|r| r.untreated_m2() > 0.0)
            .count();
        (p.index, p.parcel_id.clone(), n)
    };
    assert_eq!(h.state().view.table.rows().len(), n_untreated);
    assert_eq!(
        h.state().view.table.rows()[0],
        first,
        "most untreated first"
    );

    // A click on the row selects the parcel.
    h.get_by_label(&id).click();
    h.run_steps(3);
    assert_eq!(h.state().view.selection, Some(Pick::Parcel(first)));

    // Filtering by text.
    let region = h.state().session.current().unwrap().analysis.parcel_info[first]
        .region
        .to_string();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "filter")
        .click();
    h.run_steps(1);
    h.event(Event::Text(region.clone()));
    h.run_steps(3);
    let a = h.state().session.current().unwrap().analysis.clone();
    assert!(!h.state().view.table.rows().is_empty());
    assert!(
        h.state()
            .view
            .table
            .rows()
            .iter()
            .all(|&i| *a.parcel_info[i].region == *region)
    );

    // Back to the layer's order: the filtered rows in record order.
    h.get_by_label("layer order").click();
    h.run_steps(2);
    let rows = h.state().view.table.rows().to_vec();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "in record order");
    assert!(rows.iter().all(|&i| *a.parcel_info[i].region == *region));
}

#[test]
fn main_window_snapshot() {
    // Rendered by wgpu on the CPU (Mesa lavapipe in CI): the sample with a parcel selected.
    let mut h = loaded();
    let (index, at) = {
        let s = h.state().session.current().unwrap();
        let i = s.summary.priority_parcels[0].index;
        let g = &s.analysis.parcels.features[s.analysis.parcel_info[i].feature].geometry;
        let p = geo::InteriorPoint::interior_point(g).unwrap();
        (i, [p.x(), p.y()])
    };
    let pos = screen_pos(&mut h, Pick::Parcel(index), at);
    click_at(&mut h, pos);
    h.hover_at(Pos2::new(1300.0, 893.0)); // on the status bar: no tooltip in the picture
    wait_for_picture(&mut h);
    h.snapshot("main_window");
}

#[test]
fn other_field_names_and_unknown_values_go_through_the_mapping_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let crs = r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4544"}}"#;
    let square = |x: f64, y: f64, s: f64| {
        format!(
            "[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]",
            x + s,
            x + s,
            y + s,
            y + s
        )
    };
    let risk = dir.path().join("fxq.geojson");
    let parcels = dir.path().join("tb.geojson");
    std::fs::write(
        &risk,
        format!(
            r#"{{"type":"FeatureCollection",{crs},"features":[{{"type":"Feature","properties":{{"FXQBH":"F1","FXDJ":"重度"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
            square(500000.0, 3300000.0, 100.0)
        ),
    )
    .unwrap();
    std::fs::write(
        &parcels,
        format!(
            r#"{{"type":"FeatureCollection",{crs},"features":[{{"type":"Feature","properties":{{"TBBH":"T1","XZQMC":"双流区","CQCS":"施肥","DBQK":"待查"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
            square(500050.0, 3300000.0, 100.0)
        ),
    )
    .unwrap();
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(move |cc| SoilriskApp::new(cc, risk, parcels));
    wait_until(&mut h, "the mapping dialog", |a| {
        a.session.mapping.is_some()
    });
    h.run_steps(2);
    assert!(h.state().session.current().is_none());
    assert!(
        h.state()
            .session
            .mapping
            .as_ref()
            .unwrap()
            .reason
            .contains("RISK_ID")
    );
    // Choose the fields: one through its dropdown, the others directly.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "risk area id")
        .click();
    h.run_steps(2);
    h.get_by_label("FXQBH").click();
    h.run_steps(2);
    assert_eq!(
        h.state()
            .session
            .mapping
            .as_ref()
            .unwrap()
            .req
            .fields
            .get(Role::RiskId),
        Some("FXQBH")
    );
    {
        let f = &mut h.state_mut().session.mapping.as_mut().unwrap().req.fields;
        f.set(Role::RiskClass, Some("FXDJ".into()));
        f.set(Role::ParcelId, Some("TBBH".into()));
        f.set(Role::Region, Some("XZQMC".into()));
        f.set(Role::Measure, Some("CQCS".into()));
    }
    h.run_steps(2);
    h.get_by_label("\"重度\" (1)");
    h.get_by_label("III 严格管控类").click();
    h.run_steps(2);
    h.get_by_label("strict_control").click();
    h.run_steps(2);
    assert!(h.state().session.mapping.as_ref().unwrap().ready());
    // The optional crop-compliance role, from the same table: a field, then its values.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "crop compliance")
        .click();
    h.run_steps(2);
    h.get_by_label("DBQK").click();
    h.run_steps(2);
    assert!(!h.state().session.mapping.as_ref().unwrap().ready());
    h.get_by_label("\"待查\" (1)");
    h.get_by_label("not complied").click();
    h.run_steps(2);
    let m = h.state().session.mapping.as_ref().unwrap();
    assert_eq!(m.req.fields.get(Role::Compliance), Some("DBQK"));
    assert_eq!(m.req.maps.compliance("待查"), Some(false));
    assert!(m.ready());
    h.get_by_label("Analyse").click();
    h.run_steps(2);
    wait_until(&mut h, "the analysis", |a| a.session.current().is_some());
    let s = &h.state().session.current().unwrap().summary;
    // Half the parcel (50 x 100 m) lies in the class III area, under strict control.
    assert!((s.strict_control_area_m2 - 5000.0).abs() < 1e-6);
    assert!((s.treated_area_m2 - 5000.0).abs() < 1e-6);
    // The mapped load is the one on screen, fields and all.
    assert!(h.state().session.request.parcels.ends_with("tb.geojson"));
    assert_eq!(
        h.state().session.request.fields.get(Role::Measure),
        Some("CQCS")
    );
}

/// Copies the bundled sample into `dir`.
fn copy_sample(dir: &std::path::Path) {
    for layer in ["risk_areas", "parcels"] {
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            let name = format!("{layer}.{ext}");
            std::fs::copy(sample(&name), dir.join(&name)).unwrap();
        }
    }
}

/// A file dropped on the window, as the desktop hands it over.
#[derive(Debug)]
struct DroppedPath(PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropping_a_file_no_format_opens_says_so_and_keeps_the_layers() {
    let mut h = loaded();
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a layer").unwrap();
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(notes.clone())));
    h.run_steps(3);
    let err = h.state().session.error.clone().unwrap_or_default();
    assert!(
        err.contains("notes.txt") && err.contains(".shp") && err.contains(".zip"),
        "{err}"
    );
    assert!(
        h.state().session.dropped.is_none(),
        "no risk-or-parcels question"
    );
    assert_eq!(
        h.state()
            .session
            .current()
            .unwrap()
            .analysis
            .risk_areas
            .len(),
        3_568
    );
}

#[test]
fn dropping_a_zip_of_two_layers_asks_which_layer_then_opens_it() {
    let mut h = loaded();
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("both.zip");
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for layer in ["risk_areas", "parcels"] {
            for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
                let name = format!("{layer}.{ext}");
                w.start_file(format!("layers/{name}"), opts).unwrap();
                w.write_all(&std::fs::read(sample(&name)).unwrap()).unwrap();
            }
        }
        w.finish().unwrap();
    }
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(zip_path.clone())));
    h.run_steps(3);
    h.get_by_label("Risk areas").click();
    h.run_steps(2);
    wait_until(&mut h, "the layer question", |a| {
        a.session.choose_member.is_some()
    });
    h.run_steps(2);
    assert_eq!(
        h.state().session.choose_member.as_ref().unwrap().members,
        ["layers/risk_areas.shp", "layers/parcels.shp"]
    );
    h.get_by_label("layers/risk_areas.shp").click();
    h.run_steps(2);
    wait_until(&mut h, "the zipped layer", |a| {
        a.session.loading.is_none() && a.session.choose_member.is_none()
    });
    h.run_steps(2);
    let a = h.state().session.current().unwrap().analysis.clone();
    assert_eq!(a.risk.path, zip_path.join("layers/risk_areas.shp"));
    assert_eq!(a.risk_areas.len(), 3_568);
    assert!(
        h.state().session.error.is_none(),
        "{:?}",
        h.state().session.error
    );
}

#[test]
fn choosing_the_text_encoding_in_the_mapping_dialog_reads_the_layer_again() {
    let dir = tempfile::tempdir().unwrap();
    copy_sample(dir.path());
    // A .cpg that lies: the parcel attributes are GBK, so the measures read as garbage and
    // the mapping dialog opens.
    std::fs::write(dir.path().join("parcels.cpg"), "UTF-8").unwrap();
    let (risk, parcels) = (
        dir.path().join("risk_areas.shp"),
        dir.path().join("parcels.shp"),
    );
    // Wrongly decoded text holds characters no font has: drawn as boxes, on purpose.
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .allow_missing_glyphs()
        .build_eframe(move |cc| SoilriskApp::new(cc, risk, parcels));
    wait_until(&mut h, "the mapping dialog", |a| {
        a.session.mapping.is_some()
    });
    h.run_steps(2);
    assert!(
        h.state()
            .session
            .mapping
            .as_ref()
            .unwrap()
            .reason
            .contains("wrongly decoded")
    );
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "parcel layer encoding")
        .click();
    h.run_steps(2);
    h.get_by_label("GBK").click();
    h.run_steps(2);
    wait_until(&mut h, "the analysis", |a| {
        a.session.loading.is_none() && a.session.current().is_some()
    });
    h.run_steps(2);
    let st = h.state();
    assert!(st.session.mapping.is_none());
    assert_eq!(
        st.session.request.parcel_read.encoding.as_deref(),
        Some("GBK")
    );
    let a = &st.session.current().unwrap().analysis;
    assert_eq!(
        a.parcels.encoding.as_deref(),
        Some("GBK (chosen by the user)")
    );
    assert_eq!(a.parcel_info.len(), 30_000);
    assert!(a.parcel_info.iter().all(|p| !p.region.contains('\u{FFFD}')));
    // The layer panel offers the same choice, and shows it.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "parcel text encoding");
}

#[test]
fn the_map_exports_as_a_png_of_the_map_area() {
    let mut h = loaded();
    let dir = tempfile::tempdir().unwrap();
    let png_path = dir.path().join("map.png");
    export_through_menu(&mut h, "Map image (PNG)…", png_path.clone());
    // The picture is taken by the renderer first, then written.
    wait_until(&mut h, "the PNG", |a| {
        a.session.notice.is_some() || a.session.error.is_some()
    });
    assert!(
        h.state().session.error.is_none(),
        "{:?}",
        h.state().session.error
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let rect = h.state().view.map_rect;
    // The map panel only, not the whole window.
    let (w, h_px) = (rect.width(), rect.height());
    assert!(
        (info.width as f32 - w).abs() <= 1.0 && (info.height as f32 - h_px).abs() <= 1.0,
        "{}x{} for a map of {w}x{h_px}",
        info.width,
        info.height
    );
    assert!(info.width < 1400);
    // A map, not a blank: many distinct colours, among them the class II fill blended in.
    let colours: std::collections::HashSet<&[u8]> = buf.chunks(4).collect();
    assert!(colours.len() > 50, "{} colours", colours.len());
}

#[test]
fn refused_real_files_say_why_in_the_window_and_the_layers_stay() {
    let real = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata");
    if !real.is_dir() {
        eprintln!("notice: ../shared/realdata is absent; real-file window checks skipped");
        return;
    }
    let mut h = loaded();
    for (file, reason) in [
        ("deb-go-shp-0.1.1/pointz.shp", "PointZ"),
        ("fiona/test_tin.shp", "MultiPatch"),
        ("crate-dbase-0.8.0/cp936.dbf", "without its .shp"),
        (
            "pyshp/tests-3.1.6/empty_zipfile.zip",
            "no shapefile or GeoJSON",
        ),
        ("mbostock-shapefile/test/polylines.json", "LineString"),
    ] {
        let path = real.join(file);
        h.state_mut().session.dialogs = Arc::new(Answer(path.clone()));
        h.get_by_label("File").click();
        h.run_steps(2);
        h.get_by_label("Open parcel layer…").click();
        h.run_steps(3);
        wait_until(&mut h, "an error message", |a| {
            a.session.loading.is_none() && a.session.error.is_some()
        });
        h.run_steps(2);
        let err = h.state().session.error.clone().unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(err.contains(reason), "{file}: {err}");
        assert!(
            err.contains(name.trim_end_matches(".dbf")),
            "{file}: names the file: {err}"
        );
        let s = h.state().session.current().unwrap();
        assert_eq!(
            s.analysis.parcel_info.len(),
            30_000,
            "{file}: the sample stays"
        );
        // What the next File > Open pairs with is the layer on screen.
        assert_eq!(
            h.state().session.request.parcels,
            sample("parcels.shp"),
            "{file}"
        );
        h.get_by_label("Dismiss").click();
        h.run_steps(2);
    }
}

#[test]
fn the_first_open_draws_the_layers_while_they_are_analysed() {
    let (risk, parcels) = (sample("risk_areas.shp"), sample("parcels.shp"));
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(move |cc| SoilriskApp::new(cc, risk, parcels));
    // Frames while loading: the preview (risk areas, parcels read so far) is what the map shows.
    let mut previews = 0;
    let start = Instant::now();
    while h.state().session.current().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "waited too long"
        );
        h.step();
        if let Some(p) = &h.state().session.preview {
            previews += 1;
            assert!(p.analysis.is_none());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(previews > 0, "no preview while loading");
    assert!(
        h.state().session.preview.is_none(),
        "the preview goes once analysed"
    );
    wait_for_picture(&mut h);
    let s = h.state();
    let scene = &s.session.current().unwrap().scene;
    assert_eq!(s.renderer.shown().map(|p| p.2), Some(scene.id()));
}

/// A window whose first load failed (the files do not exist): nothing loaded.
fn after_a_failed_open() -> Harness<'static, SoilriskApp> {
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(|cc| {
            SoilriskApp::new(
                cc,
                PathBuf::from("/nonexistent/risk.shp"),
                PathBuf::from("/nonexistent/parcels.shp"),
            )
        });
    wait_until(&mut h, "the failed load", |a| a.session.loading.is_none());
    h
}

#[test]
fn a_preview_is_drawn_but_not_picked_from() {
    // No layers loaded (the files do not exist), then a preview of the sample's risk areas.
    let mut h = after_a_failed_open();
    assert!(h.state().session.error.is_some());
    let sample_layers = soilrisk::pipeline::run(
        &soilrisk::pipeline::Request::new(sample("risk_areas.shp"), sample("parcels.shp")),
        soilrisk::pipeline::Control::default(),
    )
    .unwrap();
    let risk: Vec<_> = sample_layers
        .risk_areas
        .iter()
        .map(|r| {
            (
                sample_layers.risk.features[r.feature].geometry.clone(),
                r.class,
            )
        })
        .collect();
    let preview = Arc::new(super::render::MapScene::preview(Arc::new(risk), Vec::new()));
    h.state_mut().session.error = None;
    h.state_mut().session.preview = Some(preview.clone());
    wait_for_picture(&mut h);
    assert_eq!(h.state().renderer.shown().map(|p| p.2), Some(preview.id()));
    // Fitted to the risk areas; a click in the middle selects nothing and panics nowhere.
    let centre = h.state().view.map_rect.center();
    click_at(&mut h, centre);
    assert_eq!(h.state().view.selection, None);
    assert!(h.state().session.error.is_none());
}

#[test]
fn after_a_failed_first_open_the_next_layers_are_fitted_while_they_load() {
    let mut h = after_a_failed_open();
    h.state_mut().session.error = None;
    // As after a preview of a load that then failed (a field to map, say): the camera was
    // fitted to it, then moved somewhere else entirely.
    h.state_mut().view.fit_pending = false;
    h.state_mut().view.camera.center = [0.0, 0.0];
    let ctx = h.ctx.clone();
    h.state_mut()
        .open(&ctx, sample("risk_areas.shp"), sample("parcels.shp"));
    // The first frame that shows a preview has the camera on it.
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "waited too long"
        );
        h.step();
        let a = h.state();
        if let Some(p) = a.session.preview.as_ref().filter(|_| !a.view.fit_pending) {
            let e = p.extent.unwrap();
            let view = a.view.camera.view(a.view.map_rect);
            assert!(view.min().x <= e.center().x && e.center().x <= view.max().x);
            assert!(view.max().y >= e.center().y && e.center().y >= view.min().y);
            break;
        }
        assert!(
            a.session.current().is_none(),
            "loaded before any preview was seen"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether the last frame painted the map's background over the whole map area.
fn map_background_painted(h: &Harness<'_, SoilriskApp>) -> bool {
    let map = h.state().view.map_rect;
    h.output().shapes.iter().any(|c| {
        matches!(&c.shape, egui::Shape::Rect(r)
            if r.fill == super::style::MAP_BACKGROUND && r.rect == map)
    })
}

#[test]
fn the_map_paints_its_background_only_where_its_picture_leaves_it_uncovered() {
    // Where the window is drawn in software each layer of paint over the map costs CPU every
    // frame: a picture that covers the map is drawn alone.
    let mut h = loaded();
    wait_for_picture(&mut h);
    h.step();
    assert!(h.state().renderer.up_to_date());
    assert!(
        !map_background_painted(&h),
        "background under a covering picture"
    );
    // Panned by a quarter of the map: until the new picture comes, the old one is drawn
    // where it now lies, and the background fills the rest.
    let width = f64::from(h.state().view.map_rect.width());
    let cam = &mut h.state_mut().view.camera;
    cam.center[0] += width / 4.0 * cam.scale;
    h.step();
    assert!(
        map_background_painted(&h),
        "no background beside a moved picture"
    );
    wait_for_picture(&mut h);
    h.step();
    assert!(!map_background_painted(&h));
}
