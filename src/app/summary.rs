//! The summary panel: provincial rate against the target with the national method's B, C
//! and D and the area basis they are counted on (a choice that analyses again), by class and
//! by region (table and chart with the target line), the gap in 亩, and the parcels that
//! close it fastest.

use eframe::egui::{self, Color32, RichText};
use egui_plot::{Bar, BarChart, HLine, Plot};
use soilrisk::layer::FieldKind;
use soilrisk::pipeline::{Analysis, AreaBasis};
use soilrisk::stats::{M2_PER_MU, Summary};
use soilrisk::vocab::RiskClass;

use super::command::Command;
use super::map::Pick;
use super::style;

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{:.2}%", r * 100.0))
}

/// Region table order, chosen by clicking a column header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegionSort {
    #[default]
    Name,
    Rate,
    Gap,
}

/// B, C and D of the national method (A = (B + C + D) / E), in 亩 and as shares of E, and
/// the area basis they are counted on.
fn accounting(ui: &mut egui::Ui, s: &Summary, a: &Analysis, commands: &mut Vec<Command>) {
    let e = s.contaminated_area_m2;
    let share = |m2: f64| {
        if e > 0.0 {
            format!("{:.2}%", m2 / e * 100.0)
        } else {
            "n/a".into()
        }
    };
    egui::Grid::new("bcd").striped(true).show(ui, |ui| {
        for (letter, name, m2) in [
            ("B", "优先保护类已落实", s.priority_treated_area_m2),
            ("C", "安全利用类已落实且达标", s.safe_use_treated_area_m2),
            ("D", "严格管控类已落实", s.strict_control_treated_area_m2),
            ("E", "受污染耕地", e),
        ] {
            ui.strong(letter);
            ui.label(name);
            ui.label(format!("{:.2} 亩", m2 / M2_PER_MU));
            ui.label(share(m2));
            ui.end_row();
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("area basis");
        let geographic = a.crs.as_ref().is_some_and(|c| c.is_geographic());
        let mut choices = vec![AreaBasis::Planar, AreaBasis::Ellipsoidal];
        choices.extend(
            a.parcels
                .fields
                .iter()
                .filter(|f| f.kind == FieldKind::Number)
                .map(|f| AreaBasis::Field(f.name.clone())),
        );
        egui::ComboBox::from_id_salt("area-basis")
            .selected_text(a.area_basis.to_string())
            .show_ui(ui, |ui| {
                for b in choices {
                    // Plane degrees mean nothing: in longitude/latitude only the ellipsoid.
                    let enabled = !(geographic && b == AreaBasis::Planar);
                    let chosen = b == a.area_basis;
                    if ui
                        .add_enabled(enabled, egui::Button::selectable(chosen, b.to_string()))
                        .clicked()
                        && !chosen
                    {
                        commands.push(Command::SetAreaBasis(Some(b)));
                    }
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(
                "planar: in the projected CRS; ellipsoidal: on the CRS's ellipsoid; \
                 field: a surveyed area attribute in m², split by the geometric shares",
            );
        ui.small(format!("({})", a.area_method.name()));
    });
}

pub fn show(
    ui: &mut egui::Ui,
    s: &Summary,
    a: &Analysis,
    target_pct: &mut f64,
    sort: &mut RegionSort,
    commands: &mut Vec<Command>,
) {
    ui.heading("Safe-utilisation rate");
    ui.label(
        RichText::new(pct(s.safe_utilization_rate))
            .size(28.0)
            .color(if s.safe_utilization_rate.unwrap_or(0.0) >= s.target_rate {
                Color32::from_rgb(30, 130, 60)
            } else {
                Color32::from_rgb(180, 40, 40)
            }),
    );
    ui.horizontal(|ui| {
        let label = ui.label("target");
        let r = ui
            .add(
                egui::DragValue::new(target_pct)
                    .range(0.0..=100.0)
                    .speed(0.1)
                    .suffix(" %"),
            )
            .labelled_by(label.id);
        if r.changed() {
            commands.push(Command::SetTarget(*target_pct / 100.0));
        }
    });
    ui.label(format!(
        "gap to target: {:.1} 亩 ({:.0} m²), closed by {} parcels",
        s.gap_to_target_m2 / M2_PER_MU,
        s.gap_to_target_m2,
        s.parcels_to_close_gap
    ));
    ui.label(format!(
        "contaminated {:.1} 亩 · treated {:.1} 亩 · untreated {:.1} 亩",
        s.contaminated_area_m2 / M2_PER_MU,
        s.treated_area_m2 / M2_PER_MU,
        s.untreated_area_m2 / M2_PER_MU
    ));
    accounting(ui, s, a, commands);
    ui.separator();
    egui::Grid::new("by-class").striped(true).show(ui, |ui| {
        for c in RiskClass::ALL {
            // The legend's square and plain text: class III's dark red is hard to read as
            // text on a dark panel.
            ui.horizontal(|ui| {
                style::swatch(ui, style::risk_fill(c));
                ui.label(format!("class {} {}", c.roman(), c.chinese()));
            });
            ui.label(format!("{:.1} 亩", s.class_m2()[c.index()] / M2_PER_MU));
            ui.end_row();
        }
    });

    ui.separator();
    ui.strong("By region");
    let mut regions: Vec<&soilrisk::stats::RegionSummary> = s.by_region.iter().collect();
    match sort {
        RegionSort::Name => {}
        RegionSort::Rate => regions.sort_by(|a, b| {
            a.safe_utilization_rate
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.safe_utilization_rate.unwrap_or(f64::INFINITY))
        }),
        RegionSort::Gap => {
            regions.sort_by(|a, b| b.gap_to_target_m2.total_cmp(&a.gap_to_target_m2))
        }
    }
    let bars: Vec<Bar> = regions
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.safe_utilization_rate.map(|x| {
                Bar::new(i as f64, x * 100.0)
                    .width(0.7)
                    .name(r.region.clone())
            })
        })
        .collect();
    Plot::new("region-rates")
        .height(140.0)
        .include_y(0.0)
        .include_y(100.0)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("rate %", bars).color(Color32::from_rgb(46, 134, 193)));
            plot.hline(HLine::new("target", s.target_rate * 100.0).color(Color32::RED));
        });
    egui::ScrollArea::vertical()
        .id_salt("regions")
        .max_height(220.0)
        .show(ui, |ui| {
            egui::Grid::new("regions-grid")
                .striped(true)
                .show(ui, |ui| {
                    if ui
                        .selectable_label(*sort == RegionSort::Name, "region")
                        .clicked()
                    {
                        *sort = RegionSort::Name;
                    }
                    ui.label("at risk");
                    if ui
                        .selectable_label(*sort == RegionSort::Rate, "rate")
                        .clicked()
                    {
                        *sort = RegionSort::Rate;
                    }
                    if ui
                        .selectable_label(*sort == RegionSort::Gap, "gap (亩)")
                        .clicked()
                    {
                        *sort = RegionSort::Gap;
                    }
                    ui.end_row();
                    for r in &regions {
                        ui.label(&r.region);
                        ui.label(r.parcels_at_risk.to_string());
                        ui.label(pct(r.safe_utilization_rate));
                        ui.label(format!("{:.1}", r.gap_to_target_m2 / M2_PER_MU));
                        ui.end_row();
                    }
                });
        });

    ui.separator();
    ui.strong("Parcels that close the gap fastest");
    egui::ScrollArea::vertical()
        .id_salt("priority")
        .max_height(200.0)
        .show(ui, |ui| {
            for p in s
                .priority_parcels
                .iter()
                .take(s.parcels_to_close_gap.max(10))
            {
                let text = format!(
                    "{}  {}  {:.2} 亩",
                    p.parcel_id,
                    p.region,
                    p.untreated_area_m2 / M2_PER_MU
                );
                if ui.link(text).clicked() {
                    commands.push(Command::Select(Some(Pick::Parcel(p.index))));
                    commands.push(Command::ZoomTo(Pick::Parcel(p.index)));
                }
            }
        });
}
