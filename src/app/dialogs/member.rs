//! A container of several layers was opened (a zip archive, a GeoPackage, a File
//! Geodatabase): the user picks the one to use.

use std::path::PathBuf;

use eframe::egui;
use soilrisk::pipeline::Request;

/// A container of several layers, waiting for the user to pick one.
pub struct MemberChoice {
    pub req: Request,
    /// The archive was opened as the risk layer (true) or the parcel layer (false).
    pub risk_side: bool,
    pub archive: PathBuf,
    pub members: Vec<String>,
}

/// What the user chose.
pub enum MemberAction {
    Open(String),
    Cancel,
}

/// Shows the question as a modal; the choice, once made.
pub fn show(ctx: &egui::Context, c: &MemberChoice) -> Option<MemberAction> {
    let mut action = None;
    egui::Modal::new(egui::Id::unique("choose-member")).show(ctx, |ui| {
        ui.label(format!(
            "{} holds {} layers. Open which as the {} layer?",
            c.archive.display(),
            c.members.len(),
            if c.risk_side { "risk" } else { "parcel" }
        ));
        for m in &c.members {
            if ui.button(m).clicked() {
                action = Some(MemberAction::Open(m.clone()));
            }
        }
        if ui.button("Cancel").clicked() {
            action = Some(MemberAction::Cancel);
        }
    });
    action
}
