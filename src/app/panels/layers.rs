//! The layers panel (left): each layer's visibility and opacity, the legend, and for the
//! layers loaded their file, count and text encoding.

use std::path::Path;

use eframe::egui;
use soilrisk::vocab::RiskClass;

use crate::app::command::Command;
use crate::app::dialogs::mapping::encoding_menu;
use crate::app::state::Session;
use crate::app::style::{self, LayerStyle, ParcelStatus};

pub fn show(ui: &mut egui::Ui, l: &mut LayerStyle, session: &Session, commands: &mut Vec<Command>) {
    ui.heading("Layers");
    ui.checkbox(&mut l.show_parcels, "Parcels 耕地图斑");
    ui.add(egui::Slider::new(&mut l.parcel_opacity, 0.0..=1.0).text("opacity"));
    for s in ParcelStatus::ALL {
        ui.horizontal(|ui| {
            style::swatch(ui, s.fill());
            ui.label(s.label());
        });
    }
    ui.separator();
    ui.checkbox(&mut l.show_risk, "Risk areas 风险区");
    ui.add(egui::Slider::new(&mut l.risk_opacity, 0.0..=1.0).text("opacity"));
    for c in RiskClass::ALL {
        ui.horizontal(|ui| {
            style::swatch(ui, style::risk_fill(c));
            ui.label(format!("class {} {}", c.roman(), c.chinese()));
        });
    }
    let Some(s) = session.current() else { return };
    let a = &s.analysis;
    if let Some(b) = &a.boundaries {
        ui.separator();
        ui.checkbox(&mut l.show_regions, "Regions 行政区");
        ui.add(egui::Slider::new(&mut l.region_opacity, 0.0..=1.0).text("region opacity"));
        ui.horizontal(|ui| {
            style::swatch(ui, style::REGION_OUTLINE);
            ui.small(format!(
                "{}: {} regions",
                b.layer
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().to_string()),
                b.names.len()
            ));
        });
    }
    ui.separator();
    let name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().to_string(),
        )
    };
    for (risk_side, layer, count, what, id) in [
        (
            false,
            &a.parcels,
            a.parcel_info.len(),
            "parcel",
            "parcel-encoding",
        ),
        (true, &a.risk, a.risk_areas.len(), "risk", "risk-encoding"),
    ] {
        ui.small(format!(
            "{}: {count} {}",
            name(&layer.path),
            if risk_side { "risk areas" } else { "parcels" }
        ))
        .on_hover_text(layer.path.display().to_string());
        let chosen = if risk_side {
            &session.request.risk_read.encoding
        } else {
            &session.request.parcel_read.encoding
        };
        if let Some(e) = encoding_menu(
            ui,
            id,
            &format!("{what} text encoding"),
            layer.encoding.as_deref(),
            chosen.as_deref(),
        ) {
            commands.push(Command::SetEncoding(risk_side, e));
        }
    }
    let warnings = &s.summary.warnings;
    if !warnings.is_empty() {
        ui.collapsing(format!("{} warning(s)", warnings.len()), |ui| {
            for w in warnings.iter().take(200) {
                ui.small(w);
            }
        });
    }
    if !s.overlaps.done() {
        ui.small("checking the parcels for overlaps…");
    }
}
