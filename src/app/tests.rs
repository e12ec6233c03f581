//! The window driven as a person would, with egui_kittest: open the bundled sample, click a
//! parcel and a risk area where they are on screen, toggle a layer, change the target.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, Event, Modifiers, PointerButton, Pos2, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::inspector::area_text;
use super::map::Pick;
use super::{RightTab, SoilriskApp};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(name)
}

/// A window on the bundled sample, after loading has finished.
fn loaded() -> Harness<'static, SoilriskApp> {
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(|cc| SoilriskApp::new(cc, sample("risk_areas.shp"), sample("parcels.shp")));
    let start = Instant::now();
    while h.state().task.is_some() || h.state().session.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "loading took too long"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(3);
    h
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
    h.state_mut().zoom_to(pick);
    h.run_steps(2);
    let s = h.state();
    s.camera.to_screen(s.map_rect, at[0], at[1])
}

#[test]
fn clicking_a_parcel_shows_its_id_and_contaminated_area() {
    let mut h = loaded();
    // The parcel that would close the gap first: a parcel at risk, untreated.
    let (index, id, contaminated) = {
        let s = h.state().session.as_ref().unwrap();
        let p = &s.summary.priority_parcels[0];
        let r = &s.analysis.parcel_results[p.index];
        (p.index, p.parcel_id.clone(), r.contaminated_m2())
    };
    let at = {
        let a = &h.state().session.as_ref().unwrap().analysis;
        let g = &a.parcels.features[a.parcel_info[index].feature].geometry;
        let p = geo::InteriorPoint::interior_point(g).unwrap();
        [p.x(), p.y()]
    };
    let pos = screen_pos(&mut h, Pick::Parcel(index), at);
    click_at(&mut h, pos);
    assert_eq!(h.state().selection, Some(Pick::Parcel(index)));
    assert_eq!(h.state().settings.right_tab, RightTab::Inspector);
    h.get_by_label(&format!("Parcel {id}"));
    // Contaminated (and, untreated, the same figure again as the untreated area).
    assert!(h.query_all_by_label(&area_text(contaminated)).count() >= 1);

    // Esc clears the selection.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().selection, None);
}

#[test]
fn with_parcels_hidden_a_click_selects_the_risk_area() {
    let mut h = loaded();
    // Hide the parcels through the layer panel.
    h.get_by_label("Parcels 耕地图斑").click();
    h.run_steps(2);
    assert!(!h.state().settings.layers.show_parcels);

    let (index, id, at) = {
        let a = &h.state().session.as_ref().unwrap().analysis;
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
    let Some(Pick::Risk(got)) = h.state().selection else {
        panic!("no risk area selected: {:?}", h.state().selection)
    };
    let label = {
        let a = &h.state().session.as_ref().unwrap().analysis;
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
    let before = h.state().session.as_ref().unwrap().summary.gap_to_target_m2;
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
        .as_ref()
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

    let s = &h.state().session.as_ref().unwrap().summary;
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
