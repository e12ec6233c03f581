//! Export > Report (PDF)…: the report's title, year and date, and a preview of its cover
//! page, laid out by the engine (`soilrisk::report::layout::cover`) and drawn by `page_view`
//! as the PDF writer draws it. The cover is laid out again only when the title, year or date
//! change (or the analysis does), and turned into shapes again only when it or its place on
//! screen does.

use eframe::egui::{self, RichText};
use soilrisk::report::page::Page;
use soilrisk::report::text::Fonts;
use soilrisk::report::{DEFAULT_TITLE, Input, ReportDate, ReportOptions, layout};

use crate::app::page_view::PageShapes;

/// The preview's height on screen, in points (its width follows A4's proportions).
const PREVIEW_HEIGHT: f32 = 640.0;

/// The cover laid out, and for what.
pub struct Preview {
    /// The options and the analysis (its address) it was laid out for.
    key: (ReportOptions, usize),
    pub page: Page,
    /// The page's shapes where it was drawn last.
    pub shapes: Option<PageShapes>,
}

/// The dialog's state.
pub struct ReportDialog {
    pub title: String,
    pub year: u16,
    /// As typed: `YYYY-MM-DD`.
    pub date: String,
    fonts: Fonts,
    pub preview: Option<Preview>,
}

/// What the user chose.
pub enum ReportAction {
    None,
    Cancel,
    /// Ask where to save the report, written with these options.
    Save(ReportOptions),
}

impl ReportDialog {
    /// The default title, this year, today.
    pub fn new() -> ReportDialog {
        let today = ReportDate::today();
        let system_fonts = soilrisk::fonts::system_fonts_allowed();
        ReportDialog {
            title: DEFAULT_TITLE.to_string(),
            year: today.year(),
            date: today.iso(),
            fonts: Fonts::new(system_fonts),
            preview: None,
        }
    }

    /// The options as filled in, or why they cannot be used (the date).
    pub fn options(&self) -> Result<ReportOptions, String> {
        let date = ReportDate::parse(&self.date)?;
        let title = match self.title.trim() {
            "" => DEFAULT_TITLE,
            t => t,
        };
        let mut o = ReportOptions::new(title, self.year);
        o.date = date;
        Ok(o)
    }

    /// Lays the cover out again when the options or the analysis changed.
    pub fn refresh(&mut self, input: &Input<'_>) {
        let Ok(opts) = self.options() else { return };
        let key = (opts, std::ptr::from_ref(input.analysis) as usize);
        if self.preview.as_ref().is_some_and(|p| p.key == key) {
            return;
        }
        let page = layout::cover(input, &key.0, &self.fonts);
        self.preview = Some(Preview {
            key,
            page,
            shapes: None,
        });
    }

    /// Shows the dialog; `input` is what the report is of, `busy` that a file dialog or an
    /// export is under way (no saving then).
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        input: Option<&Input<'_>>,
        busy: bool,
    ) -> ReportAction {
        if let Some(i) = input {
            self.refresh(i);
        }
        let mut action = ReportAction::None;
        egui::Modal::new(egui::Id::unique("report-dialog")).show(ctx, |ui| {
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(300.0);
                    ui.heading("Report (PDF)");
                    ui.label(
                        "report.pdf: the cover, the county table, year over year when a \
                         comparison is loaded, and a page for each region",
                    );
                    ui.add_space(8.0);
                    let options = self.options();
                    egui::Grid::new("report-grid")
                        .num_columns(2)
                        .show(ui, |ui| {
                            let l = ui.label("Title");
                            ui.add(
                                egui::TextEdit::singleline(&mut self.title).desired_width(220.0),
                            )
                            .labelled_by(l.id);
                            ui.end_row();
                            let l = ui.label("Year");
                            ui.add(egui::DragValue::new(&mut self.year).range(1900..=2199))
                                .labelled_by(l.id);
                            ui.end_row();
                            let l = ui.label("Date");
                            ui.add(
                                egui::TextEdit::singleline(&mut self.date)
                                    .desired_width(110.0)
                                    .hint_text("YYYY-MM-DD"),
                            )
                            .labelled_by(l.id);
                            ui.end_row();
                        });
                    if let Err(e) = &options {
                        ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
                    }
                    if input.is_some_and(|i| i.compare.is_some()) {
                        ui.label("with the comparison loaded: two pages of year over year");
                    }
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        let save = ui
                            .add_enabled(
                                options.is_ok() && input.is_some() && !busy,
                                egui::Button::new("Save…"),
                            )
                            .on_disabled_hover_text(if busy {
                                "wait for the file dialog or the export under way"
                            } else {
                                "give a date as YYYY-MM-DD"
                            });
                        if save.clicked()
                            && let Ok(o) = self.options()
                        {
                            action = ReportAction::Save(o);
                        }
                        if ui.button("Cancel").clicked() {
                            action = ReportAction::Cancel;
                        }
                    });
                });
                if let Some(p) = &mut self.preview {
                    let size = egui::vec2(
                        PREVIEW_HEIGHT * p.page.size[0] / p.page.size[1].max(1.0),
                        PREVIEW_HEIGHT,
                    );
                    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
                    if p.shapes.as_ref().is_none_or(|s| s.rect != rect) {
                        p.shapes = Some(PageShapes::new(ui.ctx(), &p.page, rect));
                    }
                    let painter = ui.painter_at(rect.expand(1.0));
                    if let Some(s) = &p.shapes {
                        s.paint(&painter);
                    }
                    painter.rect_stroke(
                        rect,
                        0.0,
                        ui.visuals().widgets.noninteractive.bg_stroke,
                        egui::StrokeKind::Outside,
                    );
                }
            });
        });
        action
    }
}

impl Default for ReportDialog {
    fn default() -> Self {
        ReportDialog::new()
    }
}
