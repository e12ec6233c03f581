//! The layers panel (left): each layer's visibility and opacity, the legend, and for the
//! layers loaded their file, count and text encoding.

use eframe::egui;
use soilrisk::compare::ChangeKind;
use soilrisk::vocab::RiskClass;

use crate::app::command::Command;
use crate::app::compare::Compared;
use crate::app::dialogs::mapping::encoding_menu;
use crate::app::postgis::layer_name;
use crate::app::state::Session;
use crate::app::style::{self, LayerStyle, ParcelStatus};

pub fn show(
    ui: &mut egui::Ui,
    l: &mut LayerStyle,
    session: &Session,
    change_map: bool,
    commands: &mut Vec<Command>,
) {
    ui.heading("Layers");
    ui.checkbox(&mut l.show_parcels, "Parcels 耕地图斑");
    ui.add(egui::Slider::new(&mut l.parcel_opacity, 0.0..=1.0).text("opacity"));
    if session.compared.is_some() {
        let mut on = change_map;
        if ui
            .checkbox(&mut on, "Change map 变化图")
            .on_hover_text("the parcels by how they changed since the year compared with")
            .changed()
        {
            commands.push(Command::ShowChanges(on));
        }
    }
    match &session.compared {
        Some(c) if change_map => change_legend(ui, c),
        _ => {
            for s in ParcelStatus::ALL {
                ui.horizontal(|ui| {
                    style::swatch(ui, s.fill());
                    ui.label(s.label());
                });
            }
        }
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
            layer_name(&layer.path),
            if risk_side { "risk areas" } else { "parcels" }
        ))
        .on_hover_text(layer.path.display().to_string());
        // A PostGIS table's text comes from the server in UTF-8: nothing to choose.
        if soilrisk::io::postgis::is_url(&layer.path) {
            continue;
        }
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

/// The change map's legend: the after year's parcels by how they changed, the removed ones.
fn change_legend(ui: &mut egui::Ui, c: &Compared) {
    let (before, after) = c
        .years()
        .map_or((0, 0), |(b, a)| (b.parcel_info.len(), a.parcel_info.len()));
    ui.small(format!(
        "change map: {after} parcels of the after year, {before} before"
    ));
    let counts = c.comparison.matches.counts();
    for (k, n) in ChangeKind::ALL.iter().zip(counts) {
        ui.horizontal(|ui| {
            if *k == ChangeKind::Removed {
                dashed_swatch(ui);
            } else {
                let (fill, _) = style::change_fill(Some(*k));
                style::swatch(ui, fill);
            }
            ui.label(format!("{} {} ({n})", k.code(), k.chinese()));
        });
    }
    ui.horizontal(|ui| {
        let (fill, _) = style::change_fill(None);
        style::swatch(ui, fill);
        ui.label("unchanged 未变化");
    });
}

/// The legend's square for the removed parcels' dashed outline.
fn dashed_swatch(ui: &mut egui::Ui) {
    let (r, p) = ui.allocate_painter(egui::vec2(14.0, 14.0), egui::Sense::hover());
    let stroke = egui::Stroke::new(1.5, style::REMOVED_OUTLINE);
    let rect = r.rect.shrink(1.0);
    let corners = [
        rect.left_top(),
        rect.right_top(),
        rect.right_bottom(),
        rect.left_bottom(),
        rect.left_top(),
    ];
    p.extend(egui::Shape::dashed_line(&corners, stroke, 3.0, 2.0));
}
