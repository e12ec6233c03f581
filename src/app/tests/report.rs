//! Export > Report (PDF)… in the window: the dialog opens from the menu with a preview of
//! the cover (the province's rate on it, the title following the field), Save writes
//! `report.pdf` through the save dialog, a cancelled write leaves no file, and a date that
//! is not one disables saving.

use soilrisk::pipeline::Control;
use soilrisk::report::DEFAULT_TITLE;

use egui_kittest::kittest::NodeT as _;

use super::*;

/// Opens Export > Report (PDF)… and waits for the preview.
fn open_report_dialog(h: &mut Harness<'_, SoilriskApp>) {
    h.get_by_label("Export").click();
    h.run_steps(2);
    h.get_by_label("Report (PDF)…").click();
    h.run_steps(3);
    assert!(h.state().session.report_dialog.is_some());
}

/// The texts of the cover previewed, line by line.
fn preview_texts(h: &Harness<'_, SoilriskApp>) -> Vec<String> {
    let d = h.state().session.report_dialog.as_ref().unwrap();
    d.preview
        .as_ref()
        .unwrap()
        .page
        .texts()
        .map(|t| t.text())
        .collect()
}

/// Types `text` into the text field labelled `label`, replacing what it holds.
fn type_into(h: &mut Harness<'_, SoilriskApp>, label: &str, text: &str) {
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label)
        .click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    h.event(Event::Text(text.into()));
    h.run_steps(3);
}

#[test]
fn the_report_dialog_previews_the_cover_and_follows_the_title() {
    let mut h = loaded();
    open_report_dialog(&mut h);
    let rate = h
        .state()
        .session
        .current()
        .unwrap()
        .summary
        .safe_utilization_rate
        .unwrap();
    let texts = preview_texts(&h);
    // The province's rate as the cover prints it, under the default title.
    let shown = format!("{:.2}%", rate * 100.0);
    assert!(texts.contains(&shown), "{shown} not in {texts:?}");
    assert!(texts.iter().any(|t| t == DEFAULT_TITLE), "{texts:?}");
    // The preview is drawn: the page's fills and texts as shapes.
    let shapes = {
        let d = h.state().session.report_dialog.as_ref().unwrap();
        d.preview
            .as_ref()
            .unwrap()
            .shapes
            .as_ref()
            .unwrap()
            .shape_count()
    };
    assert!(shapes > 50, "{shapes} shapes");

    type_into(&mut h, "Title", "双流区2025年度报告");
    let texts = preview_texts(&h);
    assert!(texts.iter().any(|t| t == "双流区2025年度报告"), "{texts:?}");
    assert!(!texts.iter().any(|t| t == DEFAULT_TITLE));

    if let Some(out) = std::env::var_os("SOILRISK_DOCS_SHOTS") {
        type_into(&mut h, "Title", DEFAULT_TITLE);
        type_into(&mut h, "Date", "2025-12-01");
        h.state_mut().session.report_dialog.as_mut().unwrap().year = 2025;
        // No text cursor in the picture.
        h.key_press(egui::Key::Escape);
        h.hover_at(Pos2::new(1300.0, 893.0));
        h.run_steps(3);
        h.render()
            .unwrap()
            .save(PathBuf::from(out).join("window_report.png"))
            .unwrap();
    }

    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(h.state().session.report_dialog.is_none());
}

#[test]
fn saving_the_report_writes_a_pdf_and_a_cancelled_one_leaves_no_file() {
    let mut h = loaded();
    let dir = tempfile::tempdir().unwrap();

    let pdf = dir.path().join("report.pdf");
    h.state_mut().session.dialogs = Arc::new(Answer(pdf.clone()));
    open_report_dialog(&mut h);
    h.get_by_label("Save…").click();
    wait_for_export(&mut h);
    assert_eq!(h.state().session.error, None);
    assert!(
        h.state().session.report_dialog.is_none(),
        "closed once saving"
    );
    assert_eq!(
        h.state().session.notice.as_deref(),
        Some(format!("wrote {}", pdf.display()).as_str())
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    assert!(bytes.len() > 10_000, "{} bytes", bytes.len());

    // Cancelled as soon as it starts: no file, and the window says so.
    let cancelled = dir.path().join("cancelled.pdf");
    h.state_mut().session.notice = None;
    h.state_mut().session.dialogs = Arc::new(Answer(cancelled.clone()));
    open_report_dialog(&mut h);
    h.get_by_label("Save…").click();
    wait_until(&mut h, "the report's export", |a| {
        a.session.export.is_some()
    });
    h.state().session.export.as_ref().unwrap().cancel();
    wait_for_export(&mut h);
    let notice = h.state().session.notice.clone().unwrap_or_default();
    assert!(notice.contains("cancelled"), "{notice}");
    assert!(!cancelled.exists());
    // Nothing left behind beside it either (the atomic writer's temporary file).
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["report.pdf"], "{left:?}");
}

#[test]
fn a_date_that_is_not_one_disables_saving() {
    let mut h = loaded();
    open_report_dialog(&mut h);
    assert!(!h.get_by_label("Save…").accesskit_node().is_disabled());
    type_into(&mut h, "Date", "2025-13-40");
    h.get_by_label_contains("is not a date (YYYY-MM-DD)");
    assert!(h.get_by_label("Save…").accesskit_node().is_disabled());
    // Clicking it does nothing: no file dialog is asked for.
    h.get_by_label("Save…").click();
    h.run_steps(2);
    assert!(h.state().session.dialog.is_none());
    assert!(h.state().session.report_options.is_none());

    type_into(&mut h, "Date", "2025-03-01");
    assert!(!h.get_by_label("Save…").accesskit_node().is_disabled());
    let texts = preview_texts(&h);
    assert!(
        texts.iter().any(|t| t.contains("2025年3月1日")),
        "{texts:?}"
    );
}

#[test]
fn a_report_with_characters_no_font_has_is_written_and_says_so() {
    let mut h = loaded();
    // The title's last character is in no font: drawn as a box here, as in the PDF.
    h.ctx
        .set_missing_glyph_policy(egui::MissingGlyphPolicy::Tofu);
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    h.state_mut().session.dialogs = Arc::new(Answer(pdf.clone()));
    open_report_dialog(&mut h);
    h.state_mut().session.report_dialog.as_mut().unwrap().title = "报告\u{10FFFD}".into();
    h.run_steps(2);
    h.get_by_label("Save…").click();
    wait_for_export(&mut h);
    assert_eq!(h.state().session.error, None);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let w = h.state().session.warning.clone().unwrap_or_default();
    assert!(w.contains("U+10FFFD") && w.contains("report.pdf"), "{w}");
    h.get_by_label("Warnings");
    h.get_by_label("OK").click();
    h.run_steps(2);
    assert!(h.state().session.warning.is_none());
}

#[test]
fn with_a_comparison_loaded_the_report_is_of_the_after_year_with_its_pages() {
    let mut h = loaded();
    super::compare::compare_with_2024(&mut h);
    let after_rate = h
        .state()
        .session
        .compared
        .as_ref()
        .unwrap()
        .summary
        .after
        .safe_utilization_rate
        .unwrap();
    open_report_dialog(&mut h);
    h.get_by_label("with the comparison loaded: two pages of year over year");
    let texts = preview_texts(&h);
    let shown = format!("{:.2}%", after_rate * 100.0);
    assert!(texts.contains(&shown), "{shown} not in {texts:?}");

    // The pages the engine lays out for the same input, and without the comparison: two
    // fewer.
    let (pages, without) = {
        let app = h.state();
        let opts = app
            .session
            .report_dialog
            .as_ref()
            .unwrap()
            .options()
            .unwrap();
        let input = app.session.report_input().unwrap();
        let n = |i: &soilrisk::report::Input<'_>| {
            soilrisk::report::build(i, &opts, Control::default())
                .unwrap()
                .pages
                .len()
        };
        let plain = soilrisk::report::Input {
            compare: None,
            ..input
        };
        (n(&input), n(&plain))
    };
    assert_eq!(pages, without + 2);

    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    h.state_mut().session.notice = None;
    h.state_mut().session.dialogs = Arc::new(Answer(pdf.clone()));
    h.get_by_label("Save…").click();
    wait_for_export(&mut h);
    assert_eq!(h.state().session.error, None);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF") && bytes.len() > 10_000);
    let count = format!("/Count {pages}");
    assert!(
        bytes.windows(count.len()).any(|w| w == count.as_bytes()),
        "not {pages} pages"
    );
}
