//! The details panel (right): a tab for the summary (`summary`), one for the inspector
//! of the selected parcel or risk area (`inspector`), and once the loaded year is compared
//! with another, one for the comparison (`compare_tab`).

use eframe::egui;

use crate::app::clock::Clock;
use crate::app::command::Command;
use crate::app::compare_tab;
use crate::app::inspector;
use crate::app::state::{RightTab, Session, View};
use crate::app::summary;

pub fn show(
    ui: &mut egui::Ui,
    tab: &mut RightTab,
    session: &Session,
    view: &mut View,
    clock: &Clock,
    target: f64,
    commands: &mut Vec<Command>,
) {
    // Saved between runs: the Compare tab of a comparison no longer there gives way to the
    // summary.
    if *tab == RightTab::Compare && session.compared.is_none() {
        *tab = RightTab::Summary;
    }
    ui.horizontal(|ui| {
        ui.selectable_value(tab, RightTab::Summary, "Summary");
        ui.selectable_value(tab, RightTab::Inspector, "Inspector");
        if session.compared.is_some() {
            ui.selectable_value(tab, RightTab::Compare, "Compare");
        }
    });
    ui.separator();
    egui::ScrollArea::vertical().show(ui, |ui| match (session.current(), *tab) {
        (None, _) => {
            ui.label(if session.loading.is_some() {
                "Loading…"
            } else {
                "No layers loaded."
            });
        }
        (Some(s), RightTab::Compare) => {
            if let Some(c) = &session.compared {
                compare_tab::show(
                    ui,
                    c,
                    s,
                    target,
                    view.change_map,
                    &mut view.compare_region,
                    commands,
                )
            }
        }
        (Some(s), RightTab::Summary) => summary::show(
            ui,
            &s.summary,
            &s.analysis,
            &mut view.target_pct,
            &mut view.region_sort,
            commands,
        ),
        (Some(s), RightTab::Inspector) => clock.timed("inspector", || {
            inspector::show(ui, s, session.compared.as_ref(), view.selection, commands)
        }),
    });
}
