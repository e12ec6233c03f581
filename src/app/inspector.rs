//! The inspector panel: everything about the selected parcel or risk area; a parcel at
//! risk's measure and compliance are edited here (`Command::Edit`).

use eframe::egui::{self, RichText};
use soilrisk::compare::matching::state;
use soilrisk::compare::{ChangeKind, ParcelState};
use soilrisk::pipeline::Analysis;
use soilrisk::stats::{M2_PER_HA, M2_PER_MU, rate};
use soilrisk::vocab::RiskClass;

use super::command::Command;
use super::compare::Compared;
use super::edits::{Treatment, compliance_text, measure_choices};
use super::map::Pick;
use super::state::Analysed;
use super::style::ParcelStatus;

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

pub fn show(
    ui: &mut egui::Ui,
    s: &Analysed,
    compared: Option<&Compared>,
    selection: Option<Pick>,
    commands: &mut Vec<Command>,
) {
    match selection {
        None => {
            ui.label("Click a parcel or a risk area on the map.");
        }
        Some(Pick::Parcel(i)) => parcel(ui, s, i, commands),
        Some(Pick::Risk(i)) => risk(ui, &s.analysis, i, commands),
        Some(p @ (Pick::After(_) | Pick::Removed(_))) => match compared {
            Some(c) => both_years(ui, c, p, commands),
            None => {
                ui.label("Click a parcel or a risk area on the map.");
            }
        },
    }
}

/// A parcel's state in words, as the map's legend names it.
fn state_label(st: ParcelState) -> &'static str {
    match st {
        ParcelState::NoRisk => ParcelStatus::NoRisk.label(),
        ParcelState::Treated => ParcelStatus::Treated.label(),
        ParcelState::PartlyTreated => ParcelStatus::PartlyTreated.label(),
        ParcelState::Untreated => ParcelStatus::Untreated.label(),
    }
}

/// A parcel of the change map in both years: an after-year parcel (`Pick::After`) with the
/// before-year parcels it came from, or a removed before-year parcel (`Pick::Removed`).
fn both_years(ui: &mut egui::Ui, c: &Compared, p: Pick, commands: &mut Vec<Command>) {
    let Some((before, after)) = c.years() else {
        ui.label("…");
        return;
    };
    let m = &c.comparison.matches;
    let (after_k, befores, kind) = match p {
        Pick::After(k) => {
            let befores: Vec<usize> = m.before_of(k).collect();
            (Some(k), befores, m.change_of_after(k).map(|ch| ch.kind))
        }
        Pick::Removed(k) => (None, vec![k], Some(ChangeKind::Removed)),
        Pick::Parcel(_) | Pick::Risk(_) => return,
    };
    let id = match after_k {
        Some(k) => &after.parcel_info[k].id,
        None => &before.parcel_info[befores[0]].id,
    };
    ui.heading(format!("Parcel {id}"));
    ui.label(
        RichText::new(kind.map_or_else(
            || "unchanged 未变化".to_string(),
            |k| format!("{} {}", k.code(), k.chinese()),
        ))
        .strong(),
    );
    ui.horizontal(|ui| {
        if ui.button("Zoom to").clicked() {
            commands.push(Command::ZoomTo(p));
        }
        if ui.button("Clear (Esc)").clicked() {
            commands.push(Command::Select(None));
        }
    });
    // One column per parcel: those of the year before, then the one after.
    let columns: Vec<(&str, &Analysis, usize)> = befores
        .iter()
        .map(|&b| ("before", before, b))
        .chain(after_k.map(|k| ("after", after, k)))
        .collect();
    egui::ScrollArea::horizontal()
        .id_salt("both-years")
        .show(ui, |ui| {
            egui::Grid::new("both-years-grid")
                .striped(true)
                .show(ui, |ui| {
                    ui.label("");
                    for (year, _, _) in &columns {
                        ui.strong(*year);
                    }
                    if after_k.is_none() {
                        ui.strong("after");
                    }
                    ui.end_row();
                    let none = after_k.is_none();
                    let line =
                        |ui: &mut egui::Ui, name: &str, f: &dyn Fn(&Analysis, usize) -> String| {
                            ui.label(name);
                            for (_, a, k) in &columns {
                                ui.label(f(a, *k));
                            }
                            if none {
                                ui.label("—");
                            }
                            ui.end_row();
                        };
                    line(ui, "id", &|a, k| a.parcel_info[k].id.to_string());
                    line(ui, "measure", &|a, k| {
                        let i = &a.parcel_info[k];
                        if i.measure_text.is_empty() {
                            format!("— ({})", i.measure.code())
                        } else {
                            format!("{} ({})", i.measure_text, i.measure.code())
                        }
                    });
                    line(ui, "state", &|a, k| state_label(state(a, k)).to_string());
                    line(ui, "contaminated", &|a, k| {
                        format!(
                            "{:.2} 亩",
                            a.parcel_results[k].contaminated_m2() / M2_PER_MU
                        )
                    });
                    line(ui, "area", &|a, k| {
                        format!("{:.2} 亩", a.parcel_results[k].area_m2 / M2_PER_MU)
                    });
                    line(ui, "region", &|a, k| a.parcel_info[k].region.to_string());
                });
        });
    // A split: what else the parcel before became.
    if let [b] = befores[..] {
        let others: Vec<String> = m
            .after_of(b)
            .filter(|&k| Some(k) != after_k)
            .map(|k| after.parcel_info[k].id.to_string())
            .collect();
        if !others.is_empty() {
            ui.small(format!(
                "{} also became {}",
                before.parcel_info[b].id,
                others.join(", ")
            ));
        }
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
