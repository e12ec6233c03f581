//! The status bar: the map point under the mouse (in the layers' CRS and as longitude and
//! latitude), the map scale, and the export under way or the last notice.

use eframe::egui;

use crate::app::command::Command;
use crate::app::state::{Session, View};

pub fn show(ui: &mut egui::Ui, session: &Session, view: &View, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if let (Some(s), Some(w)) = (session.current(), view.hover_world) {
            let crs = s
                .analysis
                .crs
                .as_ref()
                .map_or("unknown CRS".into(), |c| c.label());
            ui.label(format!("{:.1}, {:.1}  ({crs})", w[0], w[1]));
            if let Some(t) = &s.to_lonlat {
                let (mut x, mut y) = (w[0], w[1]);
                if t.transform(&mut x, &mut y).is_ok() {
                    ui.separator();
                    ui.label(format!("{x:.6}°E, {y:.6}°N"));
                }
            }
        }
        ui.separator();
        ui.label(format!("1 px = {:.2} m", view.camera.scale));
        if let Some(j) = &session.export {
            ui.separator();
            ui.label(format!("writing {}", j.path.display()));
            ui.add(
                egui::ProgressBar::new(j.progress())
                    .desired_width(160.0)
                    .show_percentage(),
            );
            if ui.button("Cancel export").clicked() {
                commands.push(Command::CancelExport);
            }
        } else if let Some(n) = &session.notice {
            ui.separator();
            ui.label(n);
        }
    });
}
