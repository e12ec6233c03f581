//! The inspector panel: everything about the selected parcel or risk area; a parcel at
//! risk's measure and compliance are edited here (`Command::Edit`).

use eframe::egui::{self, RichText};
use soilrisk::pipeline::Analysis;
use soilrisk::stats::{M2_PER_HA, M2_PER_MU, rate};
use soilrisk::vocab::RiskClass;

use super::command::Command;
use super::edits::{Treatment, compliance_text, measure_choices};
use super::map::Pick;
use super::state::Analysed;

/// An area as m², 亩 and ha.
pub fn area_text(m2: f64) -> String {
    format!(
        "{m2:.1} m² · {:.2} 亩 · {:.4} ha",
        m2 / M2_PER_MU,
        m2 / M2_PER_HA
    )
}

fn row(ui: &mut egui::Ui, k: &str, v: impl Into<egui::WidgetText>) {
    ui.label(k);
    ui.label(v);
    ui.end_row();
}

pub fn show(ui: &mut egui::Ui, s: &Analysed, selection: Option<Pick>, commands: &mut Vec<Command>) {
    match selection {
        None => {
            ui.label("Click a parcel or a risk area on the map.");
        }
        Some(Pick::Parcel(i)) => parcel(ui, s, i, commands),
        Some(Pick::Risk(i)) => risk(ui, &s.analysis, i, commands),
    }
}

/// The measure and compliance of parcel `i`, editable.
fn treatment(ui: &mut egui::Ui, s: &Analysed, i: usize, commands: &mut Vec<Command>) {
    let now = s.treatment(i);
    ui.horizontal(|ui| {
        let written = if now.text.is_empty() {
            "—".to_string()
        } else {
            now.text.to_string()
        };
        let label = ui.label("measure");
        egui::ComboBox::from_id_salt("measure-edit")
            .selected_text(format!("{written} ({})", now.measure.code()))
            .height(400.0)
            .show_ui(ui, |ui| {
                for (text, kind) in measure_choices() {
                    let chosen = &*now.text == text;
                    if ui.selectable_label(chosen, text).clicked() && !chosen {
                        commands.push(Command::Edit(
                            i,
                            Treatment {
                                measure: kind,
                                text: text.into(),
                                complied: now.complied,
                            },
                        ));
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    if s.compliance {
        ui.horizontal(|ui| {
            let label = ui.label("crop complied");
            egui::ComboBox::from_id_salt("compliance-edit")
                .selected_text(compliance_text(now.complied))
                .show_ui(ui, |ui| {
                    for complied in [true, false] {
                        if ui
                            .selectable_label(now.complied == complied, compliance_text(complied))
                            .clicked()
                            && now.complied != complied
                        {
                            commands.push(Command::Edit(
                                i,
                                Treatment {
                                    complied,
                                    ..now.clone()
                                },
                            ));
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        });
    }
    ui.horizontal(|ui| {
        if ui
            .add_enabled(s.edits.can_undo(), egui::Button::new("Undo"))
            .on_hover_text("Ctrl+Z")
            .clicked()
        {
            commands.push(Command::Undo);
        }
        if ui
            .add_enabled(s.edits.can_redo(), egui::Button::new("Redo"))
            .on_hover_text("Ctrl+Shift+Z")
            .clicked()
        {
            commands.push(Command::Redo);
        }
        if s.edits.unsaved() {
            ui.small("unsaved edits (File > Save measures)");
        }
    });
}

fn parcel(ui: &mut egui::Ui, s: &Analysed, i: usize, commands: &mut Vec<Command>) {
    let a: &Analysis = &s.analysis;
    let info = &a.parcel_info[i];
    let r = &a.parcel_results[i];
    let feature = &a.parcels.features[info.feature];
    let bcd = s.treated_by_class(i);
    let treated: f64 = bcd.iter().sum();
    ui.heading(format!("Parcel {}", info.id));
    ui.label(RichText::new(s.scene.status(i).label()).strong());
    ui.horizontal(|ui| {
        if ui.button("Zoom to").clicked() {
            commands.push(Command::ZoomTo(Pick::Parcel(i)));
        }
        if ui.button("Clear (Esc)").clicked() {
            commands.push(Command::Select(None));
        }
    });
    egui::Grid::new("parcel-areas")
        .striped(true)
        .show(ui, |ui| {
            row(ui, "area", area_text(r.area_m2));
            for c in RiskClass::ALL {
                row(
                    ui,
                    &format!("class {} {}", c.roman(), c.chinese()),
                    area_text(r.class_m2[c.index()]),
                );
            }
            row(ui, "contaminated", area_text(r.contaminated_m2()));
            row(ui, "treated", area_text(treated));
            for (c, m2) in RiskClass::ALL.into_iter().zip(bcd) {
                if r.class_m2[c.index()] > 0.0 {
                    row(
                        ui,
                        &format!("  {} counted", ["B", "C", "D"][c.index()]),
                        area_text(m2),
                    );
                }
            }
            row(
                ui,
                "untreated",
                area_text((r.contaminated_m2() - treated).max(0.0)),
            );
            row(ui, "region", info.region.to_string());
        });
    if r.contaminated_m2() > 0.0 {
        treatment(ui, s, i, commands);
    } else {
        let written = if info.measure_text.is_empty() {
            "—"
        } else {
            &info.measure_text
        };
        ui.label(format!("measure {written} ({})", info.measure.code()));
    }
    let overlaps = a.risk_overlaps(i);
    if !overlaps.is_empty() {
        ui.separator();
        ui.strong("Risk areas touched");
        egui::Grid::new("parcel-risks")
            .striped(true)
            .show(ui, |ui| {
                ui.label("id");
                ui.label("class");
                ui.label("pollutant");
                ui.label("overlap");
                ui.end_row();
                for (&ri, &m2) in &overlaps {
                    let ra = &a.risk_areas[ri as usize];
                    if ui.link(ra.id.to_string()).clicked() {
                        commands.push(Command::Select(Some(Pick::Risk(ri as usize))));
                    }
                    ui.label(ra.class.roman());
                    ui.label(ra.pollutant.to_string());
                    ui.label(format!("{m2:.1} m²"));
                    ui.end_row();
                }
            });
    }
    ui.separator();
    ui.strong(format!("Attributes (record {})", feature.record));
    egui::Grid::new("parcel-attrs")
        .striped(true)
        .show(ui, |ui| {
            for (f, v) in a.parcels.fields.iter().zip(&feature.values) {
                row(ui, &f.name, v.display());
            }
        });
}

fn risk(ui: &mut egui::Ui, a: &Analysis, i: usize, commands: &mut Vec<Command>) {
    let ra = &a.risk_areas[i];
    let r = &a.risk_results[i];
    let feature = &a.risk.features[ra.feature];
    ui.heading(format!("Risk area {}", ra.id));
    ui.label(RichText::new(format!("class {} {}", ra.class.roman(), ra.class.chinese())).strong());
    ui.horizontal(|ui| {
        if ui.button("Zoom to").clicked() {
            commands.push(Command::ZoomTo(Pick::Risk(i)));
        }
        if ui.button("Clear (Esc)").clicked() {
            commands.push(Command::Select(None));
        }
    });
    egui::Grid::new("risk-areas").striped(true).show(ui, |ui| {
        row(
            ui,
            "area",
            area_text(a.area_method.multi_polygon_m2(&feature.geometry)),
        );
        row(ui, "cultivated inside", area_text(r.cultivated_m2));
        row(ui, "treated", area_text(r.treated_m2));
        row(
            ui,
            "rate",
            rate(r.treated_m2, r.cultivated_m2)
                .map_or("n/a".into(), |x| format!("{:.2}%", x * 100.0)),
        );
        row(ui, "parcels", r.parcels.to_string());
    });
    ui.separator();
    ui.strong(format!("Attributes (record {})", feature.record));
    egui::Grid::new("risk-attrs").striped(true).show(ui, |ui| {
        for (f, v) in a.risk.fields.iter().zip(&feature.values) {
            row(ui, &f.name, v.display());
        }
    });
}
