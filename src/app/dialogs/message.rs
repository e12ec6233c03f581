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

/// Shows an export's warnings in a window; true once the user dismisses them.
pub fn warning(ctx: &egui::Context, w: &str) -> bool {
    let mut dismissed = false;
    egui::Window::new(RichText::new("Warnings").strong())
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(w);
            if ui.button("OK").clicked() {
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

/// What to do with unsaved measures when the window closes.
pub enum CloseAnswer {
    Save,
    Discard,
    Cancel,
}

/// Asks whether to save the edited measures before closing; the answer, once given.
pub fn unsaved_on_close(ctx: &egui::Context) -> Option<CloseAnswer> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique("unsaved-on-close")).show(ctx, |ui| {
        ui.strong("Measures were edited and not saved.");
        ui.label("Save them into a ledger before closing?");
        ui.horizontal(|ui| {
            if ui.button("Save").clicked() {
                answer = Some(CloseAnswer::Save);
            }
            if ui.button("Discard").clicked() {
                answer = Some(CloseAnswer::Discard);
            }
            if ui.button("Cancel").clicked() {
                answer = Some(CloseAnswer::Cancel);
            }
        });
    });
    answer
}
