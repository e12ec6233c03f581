//! Small dialogs: an error shown until dismissed, and the question a dropped file asks.

use std::path::Path;

use eframe::egui::{self, RichText};

/// Shows the error in a window; true once the user dismisses it.
pub fn error(ctx: &egui::Context, e: &str) -> bool {
    let mut dismissed = false;
    egui::Window::new(RichText::new("Error").strong())
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(e);
            if ui.button("Dismiss").clicked() {
                dismissed = true;
            }
        });
    dismissed
}

/// What a dropped file is to be.
pub enum DroppedAs {
    Risk,
    Parcels,
    /// Not opened after all.
    Nothing,
}

/// Asks what the dropped file `p` is, as a modal; the answer, once given.
pub fn dropped(ctx: &egui::Context, p: &Path) -> Option<DroppedAs> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique("dropped")).show(ctx, |ui| {
        ui.label(format!("Open {} as:", p.display()));
        ui.horizontal(|ui| {
            if ui.button("Risk areas").clicked() {
                answer = Some(DroppedAs::Risk);
            }
            if ui.button("Parcels").clicked() {
                answer = Some(DroppedAs::Parcels);
            }
            if ui.button("Cancel").clicked() {
                answer = Some(DroppedAs::Nothing);
            }
        });
    });
    answer
}
