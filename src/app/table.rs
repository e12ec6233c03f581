//! The attribute table of parcels: all, at risk or untreated; filtered by text; sorted by any
//! column; a click selects the parcel and zooms to it. Only the rows in view are laid out, so a
//! million rows scroll as smoothly as a hundred.

use eframe::egui;
use egui_extras::{Column, TableBuilder};
use rayon::prelude::*;
use soilrisk::pipeline::Analysis;
use soilrisk::stats::M2_PER_MU;

use super::command::Command;
use super::map::Pick;
use super::render::MapScene;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subset {
    #[default]
    All,
    AtRisk,
    Untreated,
}

/// The rows' order: the layer's own (as QGIS opens its attribute table; nothing to sort, so a
/// million rows open at once), or by a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Layer,
    Id,
    Region,
    Measure,
    Area,
    Contaminated,
    Untreated,
}

const COLUMNS: [(SortBy, &str); 6] = [
    (SortBy::Id, "parcel"),
    (SortBy::Region, "region"),
    (SortBy::Measure, "measure"),
    (SortBy::Area, "area (亩)"),
    (SortBy::Contaminated, "contaminated (亩)"),
    (SortBy::Untreated, "untreated (亩)"),
];

/// The table's choices and the rows they give (recomputed only when a choice changes).
#[derive(Default)]
pub struct TableState {
    pub subset: Subset,
    pub filter: String,
    pub sort: SortBy,
    pub descending: bool,
    rows: Vec<usize>,
    /// The scene the rows were computed for, so new layers refresh them.
    built_for: u64,
    dirty: bool,
    /// The selected parcel the table last scrolled to: it scrolls when the selection
    /// changes, and is free to scroll away from it otherwise.
    scrolled_to: Option<usize>,
}

impl TableState {
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// Filters and sorts the rows, in parallel (on the UI thread, when a choice changes).
    fn refresh(&mut self, a: &Analysis, scene: u64) {
        if !self.dirty && self.built_for == scene {
            return;
        }
        let needle = self.filter.trim().to_lowercase();
        let n = a.parcel_info.len();
        let mut rows: Vec<usize> = if self.subset == Subset::All && needle.is_empty() {
            // Nothing to filter out (the table as it opens).
            (0..n).collect()
        } else {
            (0..n)
                .into_par_iter()
                .filter(|&i| {
                    let r = &a.parcel_results[i];
                    match self.subset {
                        Subset::All => true,
                        Subset::AtRisk => r.contaminated_m2() > 0.0,
                        Subset::Untreated => r.untreated_m2() > 0.0,
                    }
                })
                .filter(|&i| {
                    if needle.is_empty() {
                        return true;
                    }
                    let p = &a.parcel_info[i];
                    [&*p.id, &*p.region, &*p.measure_text]
                        .iter()
                        .any(|t| t.to_lowercase().contains(&needle))
                })
                .collect()
        };
        let num = |i: usize| -> f64 {
            let r = &a.parcel_results[i];
            match self.sort {
                SortBy::Area => r.area_m2,
                SortBy::Contaminated => r.contaminated_m2(),
                SortBy::Untreated => r.untreated_m2(),
                _ => 0.0,
            }
        };
        let order = |&x: &usize, &y: &usize| {
            let (px, py) = (&a.parcel_info[x], &a.parcel_info[y]);
            let o = match self.sort {
                SortBy::Layer => x.cmp(&y),
                SortBy::Id => px.id.cmp(&py.id),
                SortBy::Region => px.region.cmp(&py.region).then(px.id.cmp(&py.id)),
                SortBy::Measure => px
                    .measure_text
                    .cmp(&py.measure_text)
                    .then(px.id.cmp(&py.id)),
                _ => num(x).total_cmp(&num(y)).then(px.id.cmp(&py.id)),
            };
            if self.descending { o.reverse() } else { o }
        };
        // The rows are in record order, and layers often come in id order: a pass to check
        // is much cheaper than a sort.
        if self.sort != SortBy::Layer && !rows.is_sorted_by(|x, y| order(x, y).is_le()) {
            rows.par_sort_by(order);
        }
        self.rows = rows;
        self.built_for = scene;
        self.dirty = false;
    }
}

/// A cell's text; not selectable, so a click reaches the row.
fn cell(ui: &mut egui::Ui, text: &str) {
    ui.add(egui::Label::new(text).selectable(false));
}

pub fn show(
    ui: &mut egui::Ui,
    a: &Analysis,
    scene: &MapScene,
    state: &mut TableState,
    selection: Option<Pick>,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.strong("Parcels");
        for (s, label) in [
            (Subset::All, "all"),
            (Subset::AtRisk, "at risk"),
            (Subset::Untreated, "untreated"),
        ] {
            if ui.selectable_label(state.subset == s, label).clicked() && state.subset != s {
                state.subset = s;
                state.dirty = true;
            }
        }
        ui.separator();
        if ui
            .selectable_label(state.sort == SortBy::Layer, "layer order")
            .on_hover_text("the rows in the order of the layer's records")
            .clicked()
            && state.sort != SortBy::Layer
        {
            state.sort = SortBy::Layer;
            state.descending = false;
            state.dirty = true;
        }
        ui.separator();
        let label = ui.label("filter");
        if ui
            .add(egui::TextEdit::singleline(&mut state.filter).desired_width(160.0))
            .labelled_by(label.id)
            .changed()
        {
            state.dirty = true;
        }
        state.refresh(a, scene.id());
        ui.label(format!("{} rows", state.rows().len()));
    });
    let selected = match selection {
        Some(Pick::Parcel(i)) => Some(i),
        _ => None,
    };
    let mut table = TableBuilder::new(ui)
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(130.0).at_least(60.0))
        .column(Column::initial(90.0))
        .column(Column::initial(110.0))
        .columns(Column::initial(110.0), 3)
        .column(Column::remainder());
    if selected != state.scrolled_to {
        state.scrolled_to = selected;
        if let Some(row) = selected.and_then(|i| state.rows.iter().position(|&r| r == i)) {
            table = table.scroll_to_row(row, None);
        }
    }
    table
        .header(20.0, |mut header| {
            for (col, name) in COLUMNS {
                header.col(|ui| {
                    let arrow = match (state.sort == col, state.descending) {
                        (false, _) => "",
                        (true, false) => " ▲",
                        (true, true) => " ▼",
                    };
                    if ui.button(format!("{name}{arrow}")).clicked() {
                        if state.sort == col {
                            state.descending = !state.descending;
                        } else {
                            state.sort = col;
                            state.descending = false;
                        }
                        state.dirty = true;
                    }
                });
            }
            header.col(|ui| {
                ui.strong("status");
            });
        })
        .body(|body| {
            body.rows(18.0, state.rows.len(), |mut row| {
                let i = state.rows[row.index()];
                let p = &a.parcel_info[i];
                let r = &a.parcel_results[i];
                row.set_selected(selected == Some(i));
                row.col(|ui| cell(ui, &p.id));
                row.col(|ui| cell(ui, &p.region));
                row.col(|ui| cell(ui, &p.measure_text));
                for v in [r.area_m2, r.contaminated_m2(), r.untreated_m2()] {
                    row.col(|ui| cell(ui, &format!("{:.2}", v / M2_PER_MU)));
                }
                row.col(|ui| cell(ui, scene.status(i).label()));
                if row.response().clicked() {
                    commands.push(Command::Select(Some(Pick::Parcel(i))));
                    commands.push(Command::ZoomTo(Pick::Parcel(i)));
                }
            });
        });
}
