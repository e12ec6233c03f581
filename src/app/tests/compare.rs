//! Year over year in the window: the bundled sample compared with its second year through
//! File > Compare with another year…, the Compare tab's numbers against the engine's, a split
//! parcel clicked on the change map showing both years, compare.json exported, a measure
//! edited while compared; and a comparison that fails.

use soilrisk::compare::output::CompareSummary;
use soilrisk::compare::{ChangeKind, Comparison, Lineage, LineageColumns};
use soilrisk::pipeline::{Control, Request, run};
use soilrisk::vocab::Measure;

use super::*;
use crate::app::command::Command;
use crate::app::compare_tab::{pct, rates_text};
use crate::app::edits::Treatment;

/// `compare.json`'s content as the engine makes it for the bundled two years, the way
/// `soilrisk compare` does, independently of the window.
fn expected_summary(target: f64) -> CompareSummary {
    let before = run(
        &Request::new(sample("risk_areas.shp"), sample("parcels.shp")),
        Control::default(),
    )
    .unwrap();
    let after = run(
        &Request::new(sample("risk_areas_2024.shp"), sample("parcels_2024.shp")),
        Control::default(),
    )
    .unwrap();
    let lineage = Lineage::read(&sample("lineage_2024.csv"), &LineageColumns::default()).unwrap();
    let c = Comparison::new(&before, &after, false, Some(&lineage), Control::default()).unwrap();
    CompareSummary::new(&before, &after, &c, target)
}

/// Opens File > Compare with another year…, fills it in as the file dialogs would, and runs
/// the comparison; waits for it.
pub(super) fn compare_with_2024(h: &mut Harness<'_, SoilriskApp>) {
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Compare with another year…").click();
    h.run_steps(2);
    {
        let d = h.state_mut().session.compare_dialog.as_mut().unwrap();
        d.set_parcels(sample("parcels_2024.shp"));
        d.own_risk = true;
        d.risk = Some(sample("risk_areas_2024.shp"));
        d.lineage = Some(sample("lineage_2024.csv"));
        // `parcels.shp` names no year: the other one is taken to be later.
        assert!(!d.other_is_before);
    }
    h.run_steps(2);
    h.get_by_label("Run comparison").click();
    h.run_steps(2);
    wait_until(h, "the comparison", |a| {
        a.session.comparing.is_none() && (a.session.compared.is_some() || a.session.error.is_some())
    });
    assert_eq!(h.state().session.error, None);
    h.run_steps(2);
}

#[test]
fn comparing_with_the_second_year_shows_both_rates_and_a_split_parcel_in_both_years() {
    let mut h = loaded();
    compare_with_2024(&mut h);
    assert_eq!(h.state().settings.right_tab, RightTab::Compare);
    assert!(h.state().view.change_map);

    // The Compare tab shows the engine's numbers.
    let expected = expected_summary(h.state().settings.target);
    assert_eq!(
        h.state().session.compared.as_ref().unwrap().summary,
        expected
    );
    let headline = rates_text(&expected);
    assert!(headline.starts_with(&pct(expected.before.safe_utilization_rate)));
    h.get_by_label(&headline);
    h.get_by_label(&format!(
        "{:+.2} points",
        expected.rate_change.unwrap() * 100.0
    ));
    let r = &expected.by_region[0];
    h.get_by_label(&r.region);
    assert!(h.query_all_by_label(&pct(r.rate_after)).count() >= 1);
    let splits = expected.changes["split"].as_u64().unwrap();
    assert!(splits > 0);

    // A parcel split in two (or more), clicked where it is on the change map.
    let (after_k, after_id, before_id, at) = {
        let c = h.state().session.compared.as_ref().unwrap();
        let (before, after) = c.years().unwrap();
        let ch = c
            .comparison
            .matches
            .changes
            .iter()
            .find(|ch| ch.kind == ChangeKind::Split)
            .unwrap();
        let k = ch.after.unwrap() as usize;
        let g = &after.parcels.features[after.parcel_info[k].feature].geometry;
        let p = geo::InteriorPoint::interior_point(g).unwrap();
        (
            k,
            after.parcel_info[k].id.to_string(),
            before.parcel_info[ch.before[0] as usize].id.to_string(),
            [p.x(), p.y()],
        )
    };
    let pos = screen_pos(&mut h, Pick::After(after_k), at);
    click_at(&mut h, pos);
    assert_eq!(h.state().view.selection, Some(Pick::After(after_k)));
    assert_eq!(h.state().settings.right_tab, RightTab::Inspector);
    h.get_by_label("split 分割");
    h.get_by_label(&format!("Parcel {after_id}"));
    // The before id in its column, the after id in its own.
    assert!(h.query_all_by_label(&before_id).count() >= 1);
    assert!(h.query_all_by_label(&after_id).count() >= 1);
    h.get_by_label("before");
    h.get_by_label("after");

    // `SOILRISK_DOCS_SHOTS=DIR` writes the README's picture: the Compare tab beside the
    // change map around the split parcel, selected.
    if let Some(out) = std::env::var_os("SOILRISK_DOCS_SHOTS") {
        let app = h.state_mut();
        app.settings.right_tab = RightTab::Compare;
        // Framed on the parcels around it (the sample's parcels lie in clusters).
        let near = {
            let (_, after) = app.session.compared.as_ref().unwrap().years().unwrap();
            after
                .parcel_info
                .iter()
                .filter_map(|i| {
                    soilrisk::geom::boxes::bounds(&after.parcels.features[i.feature].geometry)
                })
                .filter(|b| (b.center().x - at[0]).hypot(b.center().y - at[1]) < 700.0)
                .reduce(soilrisk::geom::boxes::union_rect)
                .unwrap()
        };
        app.view.camera = super::super::map::Camera::fit(&near, app.view.map_rect);
        wait_for_picture(&mut h);
        h.render()
            .unwrap()
            .save(PathBuf::from(&out).join("window_compare.png"))
            .unwrap();
        // And the inspector: the split parcel in both years.
        h.state_mut().settings.right_tab = RightTab::Inspector;
        h.run_steps(2);
        wait_for_picture(&mut h);
        h.render()
            .unwrap()
            .save(PathBuf::from(out).join("window_compare_parcel.png"))
            .unwrap();
    }

    // The comparison's files through the Export menu.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("compare.json");
    export_through_menu(&mut h, "Comparison (compare.json)…", json.clone());
    // The same bytes as `soilrisk compare` writes.
    let written = std::fs::read_to_string(&json).unwrap();
    assert_eq!(
        written,
        serde_json::to_string_pretty(&expected).unwrap() + "\n"
    );

    // A measure of the loaded year edited while compared: the change map, which holds its
    // analysis too, lends it for the edit, and the tab says the comparison predates it.
    let k = h
        .state()
        .session
        .current()
        .unwrap()
        .summary
        .priority_parcels[0]
        .index;
    h.state_mut().commands.push(Command::Edit(
        k,
        Treatment {
            measure: Measure::StrictControl,
            text: "严格管控".into(),
            complied: true,
        },
    ));
    h.run_steps(2);
    wait_until(&mut h, "the edit applied", |a| {
        a.session.current().unwrap().pending.is_empty()
    });
    {
        let app = h.state();
        let a = &app.session.current().unwrap().analysis;
        assert_eq!(a.parcel_info[k].measure, Measure::StrictControl);
        let (before, _) = app.session.compared.as_ref().unwrap().years().unwrap();
        assert!(Arc::ptr_eq(
            &app.session
                .compared
                .as_ref()
                .unwrap()
                .scene
                .before
                .clone()
                .unwrap(),
            a
        ));
        assert_eq!(before.parcel_info[k].measure, Measure::StrictControl);
    }
    h.state_mut().settings.right_tab = RightTab::Compare;
    h.run_steps(2);
    h.get_by_label("measures were edited since the comparison: compare again to count them");

    // Back to the parcels by status: the selection (of the change map) goes.
    h.state_mut().commands.push(Command::ShowChanges(false));
    h.run_steps(2);
    assert!(!h.state().view.change_map);
    assert_eq!(h.state().view.selection, None);
}

#[test]
fn a_comparison_that_fails_says_why_and_what_is_loaded_stays() {
    let mut h = loaded();
    let id = h.state().session.current().unwrap().scene.id();
    h.state_mut().commands.push(Command::AskCompare);
    h.run_steps(2);
    let missing = sample("parcels_2019.shp");
    h.state_mut()
        .session
        .compare_dialog
        .as_mut()
        .unwrap()
        .set_parcels(missing.clone());
    h.run_steps(2);
    h.get_by_label("Run comparison").click();
    h.run_steps(2);
    wait_until(&mut h, "the comparison", |a| {
        a.session.comparing.is_none() && a.session.error.is_some()
    });
    let s = &h.state().session;
    let error = s.error.as_deref().unwrap();
    assert!(error.contains("parcels_2019.shp"), "{error}");
    assert!(s.compared.is_none());
    assert_eq!(s.current().unwrap().scene.id(), id);
    assert_ne!(h.state().settings.right_tab, RightTab::Compare);
}
