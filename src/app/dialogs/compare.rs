//! File > Compare with another year…: the other year's parcel layer, its own risk layer or
//! the loaded one's, a lineage table if there is one, and whether that year is earlier or
//! later than the loaded one (guessed from the years in the file names).

use std::path::{Path, PathBuf};

use eframe::egui;

use crate::app::compare::{CompareInput, guess_other_is_before};
use crate::app::files::Purpose;

/// The dialog's state; files come from native dialogs (`Purpose::CompareParcels`, ...) or
/// are dropped on the window.
#[derive(Debug, Clone)]
pub struct CompareDialog {
    /// The loaded year's parcel layer, to guess which year is earlier.
    pub loaded: PathBuf,
    pub parcels: Option<PathBuf>,
    /// The other year has its own risk layer (`risk`); else the loaded one's.
    pub own_risk: bool,
    pub risk: Option<PathBuf>,
    pub lineage: Option<PathBuf>,
    pub other_is_before: bool,
}

/// What the user chose.
pub enum CompareAction {
    None,
    Cancel,
    /// Show a file dialog for one of the files.
    Choose(Purpose),
    Run(CompareInput),
}

fn shown(p: Option<&Path>) -> String {
    p.map_or_else(
        || "(none)".into(),
        |p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().to_string(),
            )
        },
    )
}

impl CompareDialog {
    pub fn new(loaded: PathBuf) -> CompareDialog {
        CompareDialog {
            loaded,
            parcels: None,
            own_risk: false,
            risk: None,
            lineage: None,
            other_is_before: false,
        }
    }

    /// The other year's parcel layer chosen; the years' order guessed anew from its name.
    pub fn set_parcels(&mut self, p: PathBuf) {
        self.other_is_before = guess_other_is_before(&self.loaded, &p);
        self.parcels = Some(p);
    }

    /// The comparison asked for, once a parcel layer (and, if asked for, a risk layer) is
    /// chosen.
    pub fn input(&self) -> Option<CompareInput> {
        let risk = if self.own_risk {
            Some(self.risk.clone()?)
        } else {
            None
        };
        Some(CompareInput {
            parcels: self.parcels.clone()?,
            risk,
            lineage: self.lineage.clone(),
            other_is_before: self.other_is_before,
        })
    }

    pub fn show(&mut self, ctx: &egui::Context) -> CompareAction {
        let mut action = CompareAction::None;
        egui::Modal::new(egui::Id::unique("compare-dialog")).show(ctx, |ui| {
            ui.heading("Compare with another year");
            ui.label(format!("loaded: {}", shown(Some(&self.loaded))));
            egui::Grid::new("compare-grid").show(ui, |ui| {
                ui.label("parcel layer");
                ui.horizontal(|ui| {
                    ui.label(shown(self.parcels.as_deref()))
                        .on_hover_text("choose a file, or drop it on the window");
                    if ui.button("Choose…").clicked() {
                        action = CompareAction::Choose(Purpose::CompareParcels);
                    }
                });
                ui.end_row();
                ui.label("risk layer");
                ui.vertical(|ui| {
                    ui.radio_value(
                        &mut self.own_risk,
                        false,
                        "the loaded one (same risk areas)",
                    );
                    ui.horizontal(|ui| {
                        ui.radio_value(&mut self.own_risk, true, "its own:");
                        ui.label(shown(self.risk.as_deref()));
                        if ui.button("Choose…").clicked() {
                            action = CompareAction::Choose(Purpose::CompareRisk);
                        }
                    });
                });
                ui.end_row();
                ui.label("lineage table");
                ui.horizontal(|ui| {
                    ui.label(shown(self.lineage.as_deref())).on_hover_text(
                        "optional: the land change survey's update-process table \
                         (BGQTBBH before id, BGHTBBH after id); without it parcels are \
                         matched by id, else by largest overlap",
                    );
                    if ui.button("Choose…").clicked() {
                        action = CompareAction::Choose(Purpose::CompareLineage);
                    }
                    if self.lineage.is_some() && ui.button("Clear").clicked() {
                        self.lineage = None;
                    }
                });
                ui.end_row();
                ui.label("the other year is");
                ui.horizontal(|ui| {
                    ui.radio_value(&mut self.other_is_before, true, "earlier");
                    ui.radio_value(&mut self.other_is_before, false, "later");
                });
                ui.end_row();
            });
            ui.horizontal(|ui| {
                let input = self.input();
                if ui
                    .add_enabled(input.is_some(), egui::Button::new("Run comparison"))
                    .clicked()
                    && let Some(i) = input
                {
                    action = CompareAction::Run(i);
                }
                if ui.button("Cancel").clicked() {
                    action = CompareAction::Cancel;
                }
            });
        });
        action
    }
}
