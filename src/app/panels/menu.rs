//! The menu bar: File (open, recent, quit), Export, View, and the progress of a load with
//! its Cancel button.

use eframe::egui;

use crate::app::command::Command;
use crate::app::files::{ExportKind, Purpose};
use crate::app::job::Progress;
use crate::app::map::Pick;
use crate::app::postgis::layer_name;
use crate::app::state::{Session, Settings};

pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &Session,
    selection: Option<Pick>,
    commands: &mut Vec<Command>,
) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open risk layer…").clicked() {
                commands.push(Command::Ask(Purpose::OpenRisk));
            }
            if ui.button("Open parcel layer…").clicked() {
                commands.push(Command::Ask(Purpose::OpenParcels));
            }
            if ui
                .button("Open from PostGIS…")
                .on_hover_text(
                    "a table of a PostGIS database, as the risk areas or the parcels; the \
                     password comes from PGPASSWORD or ~/.pgpass",
                )
                .clicked()
            {
                commands.push(Command::AskPostgis);
            }
            ui.menu_button("Recent", |ui| {
                if settings.recent.is_empty() {
                    ui.label("(none yet)");
                }
                for (r, p) in &settings.recent {
                    if ui
                        .button(format!("{} + {}", layer_name(r), layer_name(p)))
                        .on_hover_text(format!("{}\n{}", r.display(), p.display()))
                        .clicked()
                    {
                        commands.push(Command::Open(r.clone(), p.clone()));
                    }
                }
            });
            ui.separator();
            let loaded = session.current().is_some();
            if ui
                .add_enabled(loaded, egui::Button::new("Add measure ledger…"))
                .on_hover_text(
                    "a county's ledger (台账): xlsx, xls, ods or csv, one row per parcel",
                )
                .clicked()
            {
                commands.push(Command::Ask(Purpose::AddLedger));
            }
            if ui
                .add_enabled(loaded, egui::Button::new("Add region boundaries…"))
                .clicked()
            {
                commands.push(Command::Ask(Purpose::AddRegions));
            }
            if ui
                .add_enabled(
                    loaded && session.comparing.is_none(),
                    egui::Button::new("Compare with another year…"),
                )
                .on_hover_text(
                    "another year's parcel layer, analysed as this one is: the change in the \
                     rate, the land by status in both years, and the parcels that changed",
                )
                .clicked()
            {
                commands.push(Command::AskCompare);
            }
            ui.separator();
            let edited = session.current().is_some_and(|a| !a.edits.net().is_empty());
            let idle = session.saving.is_none();
            if ui
                .add_enabled(edited && idle, egui::Button::new("Save measures"))
                .on_hover_text("into the ledger loaded, else into a new .xlsx or .csv")
                .clicked()
            {
                commands.push(Command::SaveMeasures {
                    as_new: false,
                    then_close: false,
                });
            }
            if ui
                .add_enabled(edited && idle, egui::Button::new("Save measures as…"))
                .clicked()
            {
                commands.push(Command::SaveMeasures {
                    as_new: true,
                    then_close: false,
                });
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            let (undo, redo) = session
                .current()
                .map_or((false, false), |a| (a.edits.can_undo(), a.edits.can_redo()));
            if ui
                .add_enabled(undo, egui::Button::new("Undo").shortcut_text("Ctrl+Z"))
                .clicked()
            {
                commands.push(Command::Undo);
            }
            if ui
                .add_enabled(
                    redo,
                    egui::Button::new("Redo").shortcut_text("Ctrl+Shift+Z"),
                )
                .clicked()
            {
                commands.push(Command::Redo);
            }
        });
        ui.menu_button("Export", |ui| {
            let checking = !session.checked();
            let ready = session.current().is_some() && session.export.is_none() && !checking;
            for k in ExportKind::all() {
                if ui
                    .add_enabled(ready, egui::Button::new(k.menu_label()))
                    .on_disabled_hover_text(if checking {
                        "checking the parcels for overlaps; the summary waits for it"
                    } else {
                        "open layers first, or wait for the export under way"
                    })
                    .clicked()
                {
                    commands.push(Command::Ask(Purpose::Export(k)));
                }
            }
            ui.separator();
            if ui
                .add_enabled(ready, egui::Button::new(ExportKind::Report.menu_label()))
                .on_hover_text(
                    "report.pdf: the cover with the rate and a province map, the county \
                     table, year over year when a comparison is loaded, a page per region",
                )
                .on_disabled_hover_text("open layers first, or wait for the export under way")
                .clicked()
            {
                commands.push(Command::AskReport);
            }
            ui.separator();
            let compared = ready && session.compared.is_some();
            for k in ExportKind::compared() {
                if ui
                    .add_enabled(compared, egui::Button::new(k.menu_label()))
                    .on_disabled_hover_text("compare with another year first (File menu)")
                    .clicked()
                {
                    commands.push(Command::Ask(Purpose::Export(k)));
                }
            }
        });
        ui.menu_button("View", |ui| {
            if ui.button("Zoom to full extent").clicked() {
                commands.push(Command::ZoomFull);
            }
            ui.checkbox(&mut settings.show_table, "Attribute table");
            if ui
                .add_enabled(selection.is_some(), egui::Button::new("Zoom to selection"))
                .clicked()
                && let Some(p) = selection
            {
                commands.push(Command::ZoomTo(p));
            }
        });
        if let Some(t) = &session.loading
            && job_progress(ui, t.title(), t.progress())
        {
            commands.push(Command::CancelLoad);
        }
        if let Some(t) = &session.comparing
            && job_progress(ui, t.title(), t.progress())
        {
            commands.push(Command::CancelCompare);
        }
    });
}

/// A background job's title, progress bar and Cancel button; whether Cancel was clicked.
fn job_progress(ui: &mut egui::Ui, title: &str, p: Progress) -> bool {
    ui.separator();
    ui.label(title);
    ui.add(
        egui::ProgressBar::new(p.fraction)
            .desired_width(200.0)
            .text(format!("{} {:.0}%", p.phase, p.fraction * 100.0)),
    );
    ui.button("Cancel").clicked()
}
