//! The Compare tab (right-hand panel), once the loaded year is compared with another: the
//! rate before and after against the target, by region (chart and table), the land by
//! status in both years (the transition matrix, in 亩, for the province or a region), why the
//! rate moved (the causes, in 亩 and in rate points), the parcels that changed by kind, and
//! the comparison's warnings. All of it is read off `Compared` (`compare.json`'s content).

use eframe::egui::{self, Color32, RichText};
use egui_plot::{Bar, BarChart, HLine, Plot};
use soilrisk::compare::output::CompareSummary;
use soilrisk::compare::{Causes, ChangeKind, STATUSES, Transitions};
use soilrisk::stats::M2_PER_MU;

use super::command::Command;
use super::compare::Compared;
use super::state::Analysed;
use super::style;

/// A rate in percent, two decimals.
pub fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{:.2}%", r * 100.0))
}

/// A change of the rate in percentage points.
pub fn points(d: Option<f64>) -> String {
    d.map_or_else(|| "n/a".into(), |d| format!("{:+.2} points", d * 100.0))
}

/// The province's rates as the tab's headline shows them: `before → after`.
pub fn rates_text(s: &CompareSummary) -> String {
    format!(
        "{} → {}",
        pct(s.before.safe_utilization_rate),
        pct(s.after.safe_utilization_rate)
    )
}

fn mu(m2: f64) -> String {
    format!("{:.1}", m2 / M2_PER_MU)
}

/// The rates bars: the year before in grey, the year after in blue.
const BEFORE_BAR: Color32 = Color32::from_rgb(160, 160, 160);
const AFTER_BAR: Color32 = Color32::from_rgb(46, 134, 193);

pub fn show(
    ui: &mut egui::Ui,
    c: &Compared,
    loaded: &Analysed,
    target: f64,
    change_map: bool,
    region: &mut Option<usize>,
    commands: &mut Vec<Command>,
) {
    let s = &c.summary;
    let name = |p: &std::path::Path| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().to_string())
    };
    let (before_file, after_file) = match c.years() {
        Some((b, a)) => (name(&b.parcels.path), name(&a.parcels.path)),
        None => (String::new(), String::new()),
    };
    ui.heading("Year over year");
    ui.small(format!("before: {before_file} · after: {after_file}"));
    let up = s.rate_change.unwrap_or(0.0) >= 0.0;
    ui.label(RichText::new(rates_text(s)).size(24.0));
    ui.horizontal(|ui| {
        ui.label(RichText::new(points(s.rate_change)).color(if up {
            Color32::from_rgb(30, 130, 60)
        } else {
            Color32::from_rgb(180, 40, 40)
        }));
        ui.label(format!("· target {:.2}%", target * 100.0));
    });
    ui.label(format!(
        "contaminated {} → {} 亩 · treated {} → {} 亩",
        mu(s.before.contaminated_area_m2),
        mu(s.after.contaminated_area_m2),
        mu(s.before.treated_area_m2),
        mu(s.after.treated_area_m2)
    ));
    if loaded.edits.net() != c.edits_at {
        ui.colored_label(
            Color32::from_rgb(180, 110, 0),
            "measures were edited since the comparison: compare again to count them",
        );
    }
    let mut shown = change_map;
    if ui
        .checkbox(&mut shown, "Change map")
        .on_hover_text(
            "the after year's parcels by how they changed, the removed ones as dashed outlines",
        )
        .changed()
    {
        commands.push(Command::ShowChanges(shown));
    }

    ui.separator();
    ui.strong("By region");
    region_chart(ui, s, target);
    region_table(ui, s);

    ui.separator();
    ui.horizontal(|ui| {
        ui.strong("Land by status (亩)");
        let label = |r: Option<usize>| match r {
            None => "province 全省".to_string(),
            Some(i) => s
                .by_region
                .get(i)
                .map_or_else(String::new, |r| r.region.clone()),
        };
        egui::ComboBox::from_id_salt("compare-region")
            .selected_text(label(*region))
            .show_ui(ui, |ui| {
                ui.selectable_value(region, None, label(None));
                for i in 0..s.by_region.len() {
                    ui.selectable_value(region, Some(i), label(Some(i)));
                }
            });
    });
    let (t, causes) = match region.and_then(|i| s.by_region.get(i)) {
        Some(r) => (r.transitions, r.causes),
        None => (s.transitions, s.causes),
    };
    matrix(ui, &t);

    ui.separator();
    ui.strong("Why the rate moved");
    causes_grid(ui, &causes);

    ui.separator();
    ui.strong("Parcels changed");
    egui::Grid::new("compare-changes")
        .striped(true)
        .show(ui, |ui| {
            for (k, n) in ChangeKind::ALL.iter().zip(c.comparison.matches.counts()) {
                ui.label(format!("{} {}", k.code(), k.chinese()));
                ui.label(n.to_string());
                ui.end_row();
            }
        });
    if !s.warnings.is_empty() {
        ui.collapsing(format!("{} warning(s)", s.warnings.len()), |ui| {
            for w in s.warnings.iter().take(200) {
                ui.small(w);
            }
        });
    }
}

/// Two bars per region, the rate before and after, with the target as a line.
fn region_chart(ui: &mut egui::Ui, s: &CompareSummary, target: f64) {
    let bars = |after: bool| -> Vec<Bar> {
        s.by_region
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let (rate, dx) = if after {
                    (r.rate_after, 0.2)
                } else {
                    (r.rate_before, -0.2)
                };
                rate.map(|x| {
                    Bar::new(i as f64 + dx, x * 100.0)
                        .width(0.38)
                        .name(r.region.clone())
                })
            })
            .collect()
    };
    // The legend above the chart rather than in it, where it would hide the bars.
    ui.horizontal(|ui| {
        style::swatch(ui, BEFORE_BAR);
        ui.small("before");
        style::swatch(ui, AFTER_BAR);
        ui.small("after");
        let (r, p) = ui.allocate_painter(egui::vec2(14.0, 14.0), egui::Sense::hover());
        p.hline(r.rect.x_range(), r.rect.center().y, (2.0, Color32::RED));
        ui.small("target");
    });
    Plot::new("compare-rates")
        .height(150.0)
        .include_y(0.0)
        .include_y(100.0)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("before", bars(false)).color(BEFORE_BAR));
            plot.bar_chart(BarChart::new("after", bars(true)).color(AFTER_BAR));
            plot.hline(HLine::new("target", target * 100.0).color(Color32::RED));
        });
}

fn region_table(ui: &mut egui::Ui, s: &CompareSummary) {
    egui::ScrollArea::vertical()
        .id_salt("compare-regions")
        .max_height(200.0)
        .show(ui, |ui| {
            egui::Grid::new("compare-regions-grid")
                .striped(true)
                .show(ui, |ui| {
                    for h in ["region", "before", "after", "change"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for r in &s.by_region {
                        ui.label(&r.region);
                        ui.label(pct(r.rate_before));
                        ui.label(pct(r.rate_after));
                        ui.label(
                            r.rate_change
                                .map_or_else(|| "n/a".into(), |d| format!("{:+.2}", d * 100.0)),
                        );
                        ui.end_row();
                    }
                });
        });
}

/// The transition matrix in 亩: rows the status before, columns the status after, with
/// totals.
fn matrix(ui: &mut egui::Ui, t: &Transitions) {
    egui::Grid::new("compare-matrix")
        .striped(true)
        .min_col_width(40.0)
        .show(ui, |ui| {
            ui.small("before ↓ after →");
            for st in STATUSES {
                ui.strong(st.chinese());
            }
            ui.strong("合计");
            ui.end_row();
            for b in STATUSES {
                ui.strong(b.chinese());
                for a in STATUSES {
                    ui.label(mu(t.get(b, a)));
                }
                ui.label(mu(t.before_total(b)));
                ui.end_row();
            }
            ui.strong("合计");
            for a in STATUSES {
                ui.label(mu(t.after_total(a)));
            }
            let all: f64 = STATUSES.iter().map(|&b| t.before_total(b)).sum();
            ui.label(mu(all));
            ui.end_row();
        });
}

/// The causes of the change: land in 亩, and each one's effect on the rate in points.
fn causes_grid(ui: &mut egui::Ui, c: &Causes) {
    let e = c.rate_effects;
    let effect = |f: fn(&soilrisk::compare::causes::RateEffects) -> f64| {
        e.as_ref()
            .map_or_else(|| "n/a".into(), |e| format!("{:+.2}", f(e) * 100.0))
    };
    let signed = |m2: f64| format!("{:+.1}", m2 / M2_PER_MU);
    egui::Grid::new("compare-causes")
        .striped(true)
        .show(ui, |ui| {
            ui.label("");
            ui.strong("亩");
            ui.strong("points");
            ui.end_row();
            ui.label("newly treated 新增落实");
            ui.label(signed(c.newly_treated_m2));
            ui.label(effect(|e| e.newly_treated));
            ui.end_row();
            ui.label("lost treatment 不再落实");
            ui.label(signed(-c.lost_treatment_m2));
            ui.label(effect(|e| e.lost_treatment));
            ui.end_row();
            ui.label("new contaminated land 新增受污染耕地");
            ui.label(signed(c.new_risk_m2 + c.new_parcels_m2));
            ui.label(effect(|e| e.new_contaminated));
            ui.end_row();
            ui.label("    from new risk areas 新增风险区");
            ui.label(signed(c.new_risk_m2));
            ui.label("");
            ui.end_row();
            ui.label("    from new parcels 新增图斑");
            ui.label(signed(c.new_parcels_m2));
            ui.label("");
            ui.end_row();
            ui.label("contaminated land that left 退出");
            ui.label(signed(-(c.risk_lifted_m2 + c.removed_parcels_m2)));
            ui.label(effect(|e| e.contaminated_left));
            ui.end_row();
            ui.label("    risk lifted 风险解除");
            ui.label(signed(-c.risk_lifted_m2));
            ui.label("");
            ui.end_row();
            ui.label("    removed parcels 灭失图斑");
            ui.label(signed(-c.removed_parcels_m2));
            ui.label("");
            ui.end_row();
            ui.strong("change of the rate");
            ui.label("");
            ui.strong(effect(|e| e.sum()));
            ui.end_row();
        });
}
