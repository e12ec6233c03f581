//! The field-mapping dialog: when the default fields are missing or values fall outside the
//! vocabularies, the user picks a field for each role (with a preview of its values) and maps
//! each unknown value; the analysis then runs on the layers already read. Also the text-encoding
//! dropdown it shares with the layers panel (`encoding_menu`).

use eframe::egui;
use soilrisk::io::encoding::ENCODING_CHOICES;
use soilrisk::layer::Layer;
use soilrisk::pipeline::{FieldMapping, ROLES, Request, RoleDef, Side, role_field, unknown_values};
use soilrisk::vocab::{Measure, RiskClass, ValueMaps, Vocabulary, normalise};

/// The dialog's state: the layers read, the request being edited, and why it was opened.
pub struct MappingDialog {
    pub req: Request,
    pub risk: Layer,
    pub parcels: Layer,
    pub reason: String,
}

/// What the user decided.
pub enum MappingAction {
    None,
    Analyse,
    /// Read the layers again (a text encoding was changed); the mapping is kept.
    Reread,
    Cancel,
}

/// A few distinct values of a field, for the preview.
fn preview(layer: &Layer, field: &str) -> String {
    let Some(f) = layer.field_index(field) else {
        return String::new();
    };
    let mut seen: Vec<String> = Vec::new();
    for feat in &layer.features {
        let t = layer.text(feat, f);
        if !seen.contains(&t) {
            seen.push(t);
            if seen.len() == 4 {
                break;
            }
        }
    }
    seen.join(", ")
}

/// A dropdown of `layer`'s fields for `role`; an optional role also offers "(none)".
fn field_combo(ui: &mut egui::Ui, role: &RoleDef, layer: &Layer, fields: &mut FieldMapping) {
    let label = ui.label(role.label);
    let mut value = fields.get(role.role).map(str::to_string);
    let shown = match &value {
        Some(v) if layer.field_index(v).is_some() => v.as_str(),
        _ if role_field(layer, fields, role.role).is_ok_and(|f| f.is_none()) => "(none)",
        _ => "(choose)",
    };
    egui::ComboBox::from_id_salt(("mapping-field", role.label))
        .selected_text(shown.to_string())
        .show_ui(ui, |ui| {
            if !role.required {
                ui.selectable_value(&mut value, None, "(none)");
            }
            for f in &layer.fields {
                ui.selectable_value(&mut value, Some(f.name.clone()), &f.name);
            }
        })
        .response
        .labelled_by(label.id);
    ui.small(
        value
            .as_deref()
            .map_or_else(String::new, |v| preview(layer, v)),
    );
    ui.end_row();
    if value.as_deref() != fields.get(role.role) {
        fields.set(role.role, value);
    }
}

/// A button for each answer of `vocabulary`; a click maps `value` (normalised) to it.
fn value_buttons(ui: &mut egui::Ui, vocabulary: Vocabulary, value: &str, maps: &mut ValueMaps) {
    match vocabulary {
        Vocabulary::RiskClass => {
            for c in RiskClass::ALL {
                if ui
                    .button(format!("{} {}", c.roman(), c.chinese()))
                    .clicked()
                {
                    maps.class.insert(value.to_string(), c);
                }
            }
        }
        Vocabulary::Measure => {
            for m in Measure::ALL {
                if ui.button(m.code()).clicked() {
                    maps.measure.insert(value.to_string(), m);
                }
            }
        }
        Vocabulary::Compliance => {
            for (label, complied) in [("complied", true), ("not complied", false)] {
                if ui.button(label).clicked() {
                    maps.compliance.insert(value.to_string(), complied);
                }
            }
        }
    }
}

impl MappingDialog {
    /// Every role has a field and every value is known.
    pub fn ready(&self) -> bool {
        let f = &self.req.fields;
        ROLES.iter().all(|r| {
            let layer = self.layer(r.side);
            match f.get(r.role) {
                None => !r.required,
                Some(name) => {
                    role_field(layer, f, r.role).is_ok()
                        && r.vocabulary.is_none_or(|v| {
                            unknown_values(layer, name, v, &self.req.maps).is_empty()
                        })
                }
            }
        })
    }

    fn layer(&self, side: Side) -> &Layer {
        match side {
            Side::Risk => &self.risk,
            Side::Parcels => &self.parcels,
        }
    }

    pub fn show(&mut self, ctx: &egui::Context) -> MappingAction {
        let mut action = MappingAction::None;
        egui::Window::new("Field mapping")
            .collapsible(false)
            .default_width(520.0)
            .show(ctx, |ui| {
                ui.label(&self.reason);
                ui.separator();
                ui.strong("Text encoding");
                ui.small(
                    "If names look garbled (锟斤拷, Ã©), choose the encoding the files were \
                     written in; the layers are read again.",
                );
                for (risk_side, id, label, layer) in [
                    (true, "map-risk-encoding", "risk layer encoding", &self.risk),
                    (
                        false,
                        "map-parcel-encoding",
                        "parcel layer encoding",
                        &self.parcels,
                    ),
                ] {
                    let chosen = if risk_side {
                        &mut self.req.risk_read.encoding
                    } else {
                        &mut self.req.parcel_read.encoding
                    };
                    if let Some(e) =
                        encoding_menu(ui, id, label, layer.encoding.as_deref(), chosen.as_deref())
                    {
                        *chosen = e;
                        action = MappingAction::Reread;
                    }
                }
                ui.separator();
                let (risk, parcels, req) = (&self.risk, &self.parcels, &mut self.req);
                egui::Grid::new("mapping-fields")
                    .striped(true)
                    .show(ui, |ui| {
                        for role in &ROLES {
                            let layer = match role.side {
                                Side::Risk => risk,
                                Side::Parcels => parcels,
                            };
                            field_combo(ui, role, layer, &mut req.fields);
                        }
                    });
                // Each role read through a vocabulary: its unknown values, a button per answer.
                for role in ROLES.iter() {
                    let (Some(vocabulary), Some(field)) =
                        (role.vocabulary, req.fields.get(role.role))
                    else {
                        continue;
                    };
                    let layer = match role.side {
                        Side::Risk => risk,
                        Side::Parcels => parcels,
                    };
                    let values = unknown_values(layer, field, vocabulary, &req.maps);
                    if values.is_empty() {
                        continue;
                    }
                    ui.separator();
                    ui.strong(format!("Values of the {} to map", role.label));
                    for (v, n) in &values {
                        ui.horizontal(|ui| {
                            ui.label(format!("{v:?} ({n})"));
                            value_buttons(ui, vocabulary, &normalise(v), &mut req.maps);
                        });
                    }
                }
                ui.separator();
                ui.horizontal(|ui| {
                    let ready = self.ready();
                    if ui
                        .add_enabled(ready, egui::Button::new("Analyse"))
                        .clicked()
                    {
                        action = MappingAction::Analyse;
                    }
                    if ui.button("Cancel").clicked() {
                        action = MappingAction::Cancel;
                    }
                });
            });
        action
    }
}

/// A text-encoding dropdown for a layer: "Automatic" (the `.cpg`, else detection) or one of
/// `ENCODING_CHOICES`. `read_as` is what the reader used. Returns the new choice when the user
/// changes it.
pub fn encoding_menu(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    read_as: Option<&str>,
    chosen: Option<&str>,
) -> Option<Option<String>> {
    let mut changed = None;
    ui.horizontal(|ui| {
        let l = ui.small(label);
        egui::ComboBox::from_id_salt(id)
            .selected_text(chosen.map_or_else(
                || {
                    // "GBK (from .cpg)" -> "auto: GBK"; the source is in the tooltip.
                    let name = read_as.and_then(|r| r.split(" (").next()).unwrap_or("-");
                    format!("auto: {name}")
                },
                str::to_string,
            ))
            .show_ui(ui, |ui| {
                if ui.selectable_label(chosen.is_none(), "Automatic").clicked() && chosen.is_some()
                {
                    changed = Some(None);
                }
                for e in ENCODING_CHOICES {
                    if ui.selectable_label(chosen == Some(*e), *e).clicked() && chosen != Some(*e) {
                        changed = Some(Some((*e).to_string()));
                    }
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text(format!(
                "read as {}; choose another to read the layer again",
                read_as.unwrap_or("- (no attributes)")
            ));
    });
    changed
}
