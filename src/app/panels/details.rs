//! The details panel (right): a tab for the summary (`summary`) and one for the inspector
//! of the selected parcel or risk area (`inspector`).

use eframe::egui;

use crate::app::clock::Clock;
use crate::app::command::Command;
use crate::app::inspector;
use crate::app::state::{RightTab, Session, View};
use crate::app::summary;

pub fn show(
    ui: &mut egui::Ui,
    tab: &mut RightTab,
    session: &Session,
    view: &mut View,
    clock: &Clock,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.selectable_value(tab, RightTab::Summary, "Summary");
        ui.selectable_value(tab, RightTab::Inspector, "Inspector");
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
        (Some(s), RightTab::Summary) => summary::show(
            ui,
            &s.summary,
            &s.analysis,
            &mut view.target_pct,
            &mut view.region_sort,
            commands,
        ),
        (Some(s), RightTab::Inspector) => clock.timed("inspector", || {
            inspector::show(ui, s, view.selection, commands)
        }),
    });
}
