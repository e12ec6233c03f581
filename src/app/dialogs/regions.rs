//! The boundary layer of regions (File > Add region boundaries…): which field names each
//! region, which holds its code, and what CRS the layer is in (its `.prj`, an EPSG code, or
//! GCJ-02, the offset coordinates of Chinese web maps).

use std::path::PathBuf;

use eframe::egui;
use soilrisk::layer::FieldDef;
use soilrisk::pipeline::RegionLayer;

/// What CRS the boundary layer is read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrsChoice {
    /// The layer's own `.prj` (or longitude/latitude detected).
    Prj,
    /// `EPSG:N`, as typed.
    Epsg(String),
    Gcj02,
}

/// The dialog's state.
#[derive(Debug, Clone)]
pub struct RegionsDialog {
    pub path: PathBuf,
    pub fields: Vec<FieldDef>,
    pub name_field: String,
    pub code_field: Option<String>,
    pub crs: CrsChoice,
}

/// Headers that usually name a region, and hold its code (the land survey's and common
/// ones), in order of preference.
const NAME_HINTS: &[&str] = &["XZQMC", "NAME", "名称", "COUNTY", "QXMC"];
const CODE_HINTS: &[&str] = &["XZQDM", "CODE", "代码", "ADCODE", "QXDM"];

fn hinted(fields: &[FieldDef], hints: &[&str]) -> Option<String> {
    hints.iter().find_map(|h| {
        fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(h))
            .map(|f| f.name.clone())
    })
}

/// What the user chose.
pub enum RegionsAction {
    None,
    Cancel,
    Use(RegionLayer),
}

impl RegionsDialog {
    pub fn new(path: PathBuf, fields: Vec<FieldDef>) -> RegionsDialog {
        let name_field = hinted(&fields, NAME_HINTS)
            .or_else(|| fields.first().map(|f| f.name.clone()))
            .unwrap_or_default();
        let code_field = hinted(&fields, CODE_HINTS);
        RegionsDialog {
            path,
            fields,
            name_field,
            code_field,
            crs: CrsChoice::Prj,
        }
    }

    /// The request's boundary layer as chosen.
    pub fn layer(&self) -> RegionLayer {
        RegionLayer {
            path: self.path.clone(),
            name_field: self.name_field.clone(),
            code_field: self.code_field.clone(),
            crs: match &self.crs {
                CrsChoice::Prj => None,
                CrsChoice::Epsg(code) => {
                    let code = code.trim();
                    Some(if code.to_ascii_uppercase().starts_with("EPSG:") {
                        code.to_string()
                    } else {
                        format!("EPSG:{code}")
                    })
                }
                CrsChoice::Gcj02 => Some("gcj02".into()),
            },
            read: Default::default(),
        }
    }

    pub fn show(&mut self, ctx: &egui::Context) -> RegionsAction {
        let mut action = RegionsAction::None;
        egui::Modal::new(egui::Id::unique("regions-dialog")).show(ctx, |ui| {
            ui.heading("Region boundaries");
            ui.label(self.path.display().to_string());
            egui::Grid::new("regions-grid").show(ui, |ui| {
                ui.label("name field");
                egui::ComboBox::from_id_salt("regions-name")
                    .selected_text(&self.name_field)
                    .show_ui(ui, |ui| {
                        for f in &self.fields {
                            ui.selectable_value(&mut self.name_field, f.name.clone(), &f.name);
                        }
                    });
                ui.end_row();
                ui.label("code field");
                egui::ComboBox::from_id_salt("regions-code")
                    .selected_text(self.code_field.as_deref().unwrap_or("(none)"))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.code_field, None, "(none)");
                        for f in &self.fields {
                            ui.selectable_value(
                                &mut self.code_field,
                                Some(f.name.clone()),
                                &f.name,
                            );
                        }
                    });
                ui.end_row();
                ui.label("CRS");
                ui.vertical(|ui| {
                    ui.radio_value(&mut self.crs, CrsChoice::Prj, "as its .prj says");
                    let epsg = matches!(self.crs, CrsChoice::Epsg(_));
                    ui.horizontal(|ui| {
                        if ui.radio(epsg, "EPSG code").clicked() && !epsg {
                            self.crs = CrsChoice::Epsg("4490".into());
                        }
                        if let CrsChoice::Epsg(code) = &mut self.crs {
                            ui.add(egui::TextEdit::singleline(code).desired_width(70.0));
                        }
                    });
                    ui.radio_value(
                        &mut self.crs,
                        CrsChoice::Gcj02,
                        "GCJ-02 (Chinese web maps; converted to CGCS2000)",
                    );
                });
                ui.end_row();
            });
            ui.horizontal(|ui| {
                let ready = !self.name_field.is_empty();
                if ui
                    .add_enabled(ready, egui::Button::new("Use these regions"))
                    .clicked()
                {
                    action = RegionsAction::Use(self.layer());
                }
                if ui.button("Cancel").clicked() {
                    action = RegionsAction::Cancel;
                }
            });
        });
        action
    }
}
