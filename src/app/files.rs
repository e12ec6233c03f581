//! Files in and out of the window: native dialogs (rfd) behind a trait so tests can answer
//! them, shown as a background `Job` (thread `soilrisk-dialog`) so a frame never waits for
//! one; and exports, a `Job` too (thread `soilrisk-export`), written through the engine's
//! atomic writers: the engine's outputs, the map as a PNG, a comparison's files and
//! `report.pdf` (with the options of Export > Report (PDF)…).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eframe::egui;
use soilrisk::compare::Comparison;
use soilrisk::compare::output::{
    CHANGES_GEOJSON, COMPARE_JSON, CompareSummary, write_changes, write_compare_json,
};
use soilrisk::export::is_cancelled;
use soilrisk::io::formats;
use soilrisk::ledger::LEDGER_EXTENSIONS;
use soilrisk::outputs::{self, Output};
use soilrisk::pipeline::{Analysis, Control, Phase};
use soilrisk::report::{self, REPORT_PDF, ReportOptions};
use soilrisk::stats::Summary;

use super::job::Job;

/// Asks the user for files. `None` is a cancelled dialog.
pub trait Dialogs: Send + Sync {
    /// Whether dialogs can be shown at all; the reason when not.
    fn available(&self) -> Result<(), String>;
    fn open_layer(&self, title: &str, folder: Option<&Path>) -> Option<PathBuf>;
    fn save(&self, title: &str, file_name: &str, folder: Option<&Path>) -> Option<PathBuf>;
    /// A measure ledger (`.xlsx`, `.xls`, `.ods`, `.csv`) to open.
    fn open_ledger(&self, title: &str, folder: Option<&Path>) -> Option<PathBuf> {
        self.open_layer(title, folder)
    }
}

/// The desktop's own dialogs, through rfd (XDG portal or zenity on Linux).
pub struct NativeDialogs;

impl Dialogs for NativeDialogs {
    fn available(&self) -> Result<(), String> {
        if cfg!(target_os = "linux") {
            let portal = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
            let zenity = std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()));
            if !portal && !zenity {
                return Err(
                    "no file dialog is available here (no desktop portal and no zenity): \
                            drop files on the window, or start it with `soilrisk open RISK PARCELS`"
                        .into(),
                );
            }
        }
        Ok(())
    }

    fn open_layer(&self, title: &str, folder: Option<&Path>) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new()
            .set_title(title)
            .add_filter(
                format!("Layers ({})", formats::extensions().join(", ")),
                &formats::dialog_extensions(),
            )
            .add_filter("All files", &["*"]);
        if let Some(f) = folder {
            d = d.set_directory(f);
        }
        d.pick_file()
    }

    fn save(&self, title: &str, file_name: &str, folder: Option<&Path>) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new()
            .set_title(title)
            .set_file_name(file_name);
        if let Some(f) = folder {
            d = d.set_directory(f);
        }
        d.save_file()
    }

    fn open_ledger(&self, title: &str, folder: Option<&Path>) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new()
            .set_title(title)
            .add_filter("Measure ledgers (xlsx, xls, ods, csv)", LEDGER_EXTENSIONS)
            .add_filter("All files", &["*"]);
        if let Some(f) = folder {
            d = d.set_directory(f);
        }
        d.pick_file()
    }
}

/// What the file chosen in a dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    OpenRisk,
    OpenParcels,
    Export(ExportKind),
    /// A new ledger to save the edited measures into (then close the window, when true).
    SaveMeasures(bool),
    AddLedger,
    AddRegions,
    /// The other year's parcel layer, risk layer, lineage table (File > Compare with
    /// another year…).
    CompareParcels,
    CompareRisk,
    CompareLineage,
}

/// The files the Export menu writes: the engine's outputs (`outputs::OUTPUTS`), the map
/// as the window shows it, a comparison's files, and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Output(Output),
    MapPng,
    Compared(CompareFile),
    /// `report.pdf`, with the comparison's pages when one is loaded.
    Report,
}

/// The files of a comparison, as `soilrisk compare` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareFile {
    /// `compare.json`.
    Json,
    /// `changes.geojson`.
    Changes,
    /// The county table with the previous year's rate and the causes (`regions.csv`).
    TableCsv,
    /// The same as `tables.xlsx`.
    TableXlsx,
}

impl CompareFile {
    pub const ALL: [CompareFile; 4] = [
        CompareFile::Json,
        CompareFile::Changes,
        CompareFile::TableCsv,
        CompareFile::TableXlsx,
    ];
}

impl ExportKind {
    /// Every export of one analysis, in menu order.
    pub fn all() -> impl Iterator<Item = ExportKind> {
        outputs::OUTPUTS
            .iter()
            .map(|o| ExportKind::Output(o.output))
            .chain([ExportKind::MapPng])
    }

    /// The exports of a comparison, in menu order.
    pub fn compared() -> impl Iterator<Item = ExportKind> {
        CompareFile::ALL.into_iter().map(ExportKind::Compared)
    }

    pub fn menu_label(self) -> &'static str {
        match self {
            ExportKind::Output(o) => o.def().label,
            ExportKind::MapPng => "Map image (PNG)…",
            ExportKind::Report => "Report (PDF)…",
            ExportKind::Compared(CompareFile::Json) => "Comparison (compare.json)…",
            ExportKind::Compared(CompareFile::Changes) => "Changed parcels (changes.geojson)…",
            ExportKind::Compared(CompareFile::TableCsv) => {
                "County table with the previous year (CSV)…"
            }
            ExportKind::Compared(CompareFile::TableXlsx) => {
                "County table with the previous year (XLSX)…"
            }
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            ExportKind::Output(o) => o.def().file_name,
            ExportKind::MapPng => "map.png",
            ExportKind::Report => REPORT_PDF,
            ExportKind::Compared(CompareFile::Json) => COMPARE_JSON,
            ExportKind::Compared(CompareFile::Changes) => CHANGES_GEOJSON,
            ExportKind::Compared(CompareFile::TableCsv) => "regions.csv",
            ExportKind::Compared(CompareFile::TableXlsx) => "tables.xlsx",
        }
    }
}

/// A file dialog open on its own thread.
pub struct PendingDialog {
    pub purpose: Purpose,
    job: Job<Option<PathBuf>>,
}

impl PendingDialog {
    /// Shows the dialog for `purpose`.
    pub fn ask(
        ctx: &egui::Context,
        dialogs: Arc<dyn Dialogs>,
        purpose: Purpose,
        folder: Option<PathBuf>,
    ) -> Result<PendingDialog, String> {
        dialogs.available()?;
        let job = Job::spawn(ctx, "soilrisk-dialog", "file dialog", move |_| {
            let folder = folder.as_deref();
            match purpose {
                Purpose::OpenRisk => dialogs.open_layer("Open risk-area layer", folder),
                Purpose::OpenParcels => dialogs.open_layer("Open parcel layer", folder),
                Purpose::Export(k) => dialogs.save("Export", k.file_name(), folder),
                Purpose::SaveMeasures(_) => dialogs.save("Save measures", "measures.xlsx", folder),
                Purpose::AddLedger => dialogs.open_ledger("Add measure ledger", folder),
                Purpose::AddRegions => dialogs.open_layer("Add region boundaries", folder),
                Purpose::CompareParcels => {
                    dialogs.open_layer("The other year's parcel layer", folder)
                }
                Purpose::CompareRisk => dialogs.open_layer("The other year's risk layer", folder),
                Purpose::CompareLineage => {
                    dialogs.open_ledger("Lineage table (before id, after id)", folder)
                }
            }
        })
        .map_err(|e| format!("cannot open a file dialog: {e}"))?;
        Ok(PendingDialog { purpose, job })
    }

    /// `Some(choice)` once the dialog has closed; a dialog that failed chose nothing.
    pub fn poll(&mut self) -> Option<Option<PathBuf>> {
        Some(self.job.poll()?.unwrap_or(None))
    }
}

/// How an export ended, when it did not write its file.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportFailure {
    /// Stopped by the user; the destination is as it was.
    Cancelled,
    Failed(String),
}

/// An export under way, with its progress (0 to 1) and a cancel button. Once over it gives
/// the export's warnings (the report's characters no font has, say).
pub struct ExportJob {
    pub path: PathBuf,
    job: Job<Result<Vec<String>, ExportFailure>>,
}

/// What an export writes from.
pub enum ExportSource {
    Analysis(Arc<Analysis>, Box<Summary>),
    Image(Arc<egui::ColorImage>),
    /// A comparison: the years before and after, what was found, `compare.json`'s content.
    Compared {
        before: Arc<Analysis>,
        after: Arc<Analysis>,
        comparison: Arc<Comparison>,
        summary: Box<CompareSummary>,
    },
    /// The report: of `analysis` (the after year, with a comparison) and its summary, with
    /// the comparison's pages when `compare` is given.
    Report {
        analysis: Arc<Analysis>,
        summary: Box<Summary>,
        compare: Option<ReportCompare>,
        options: Box<ReportOptions>,
    },
}

/// A comparison in a report: the before year, what was found, `compare.json`'s content.
pub struct ReportCompare {
    pub before: Arc<Analysis>,
    pub comparison: Arc<Comparison>,
    pub summary: Box<CompareSummary>,
}

impl ExportJob {
    pub fn start(
        ctx: &egui::Context,
        kind: ExportKind,
        path: PathBuf,
        source: ExportSource,
        inputs: Vec<PathBuf>,
    ) -> Result<ExportJob, String> {
        let target = path.clone();
        let title = format!("writing {}", path.display());
        let job = Job::spawn(ctx, "soilrisk-export", title, move |w| {
            let report = |_: Phase, f: f32| {
                w.report("write", f);
                w.ctx().request_repaint();
            };
            let ctl = Control {
                cancel: Some(w.cancel_flag()),
                progress: Some(&report),
                ..Control::default()
            };
            write(kind, &target, source, &inputs, ctl)
        })
        .map_err(|e| format!("cannot start the export: {e}"))?;
        Ok(ExportJob { path, job })
    }

    /// Asks the export to stop; it ends with `ExportFailure::Cancelled`.
    pub fn cancel(&self) {
        self.job.cancel();
    }

    /// How far the export is, 0 to 1.
    pub fn progress(&self) -> f32 {
        self.job.progress().fraction
    }

    /// The outcome once the export is over: its warnings, or why it wrote nothing.
    pub fn poll(&mut self) -> Option<Result<Vec<String>, ExportFailure>> {
        Some(self.job.poll()?.unwrap_or_else(|_| {
            Err(ExportFailure::Failed(
                "internal error while exporting (please report it)".into(),
            ))
        }))
    }
}

fn write(
    kind: ExportKind,
    path: &Path,
    source: ExportSource,
    inputs: &[PathBuf],
    ctl: Control,
) -> Result<Vec<String>, ExportFailure> {
    let failed = ExportFailure::Failed;
    let none = |()| Vec::new();
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    outputs::refuse_overwriting_inputs(&[path.to_path_buf()], &inputs).map_err(|e| {
        failed(format!(
            "{e}; an export never replaces one, choose another file"
        ))
    })?;
    match (kind, source) {
        (ExportKind::MapPng, ExportSource::Image(img)) => {
            write_png(path, &img).map(none).map_err(failed)
        }
        (ExportKind::Output(o), ExportSource::Analysis(a, summary)) => {
            let to = outputs::to_wgs84(&a).map_err(|e| failed(e.to_string()))?;
            outputs::write(o, path, &a, &summary, &to, ctl)
                .map(none)
                .map_err(|e| {
                    if is_cancelled(&e) {
                        ExportFailure::Cancelled
                    } else {
                        failed(e.to_string())
                    }
                })
        }
        (
            ExportKind::Compared(f),
            ExportSource::Compared {
                before,
                after,
                comparison,
                summary,
            },
        ) => {
            let written = match f {
                CompareFile::Json => write_compare_json(path, &summary),
                CompareFile::Changes => {
                    let to = outputs::to_wgs84(&after).map_err(|e| failed(e.to_string()))?;
                    write_changes(path, &before, &after, &comparison, &to, ctl)
                }
                CompareFile::TableCsv => soilrisk::table::write_csv_compared(path, &summary),
                CompareFile::TableXlsx => soilrisk::table::write_xlsx_compared(path, &summary),
            };
            written.map(none).map_err(|e| {
                if is_cancelled(&e) {
                    ExportFailure::Cancelled
                } else {
                    failed(e.to_string())
                }
            })
        }
        (
            ExportKind::Report,
            ExportSource::Report {
                analysis,
                summary,
                compare,
                options,
            },
        ) => {
            let input = report::Input {
                analysis: &analysis,
                summary: &summary,
                compare: compare.as_ref().map(|c| report::CompareInput {
                    before: &c.before,
                    comparison: &c.comparison,
                    summary: &c.summary,
                }),
                // The window keeps every parcel: the land with no risk is drawn from them.
                footprints: None,
            };
            report::write(path, &input, &options, ctl).map_err(|e| {
                if is_cancelled(&e) {
                    ExportFailure::Cancelled
                } else {
                    failed(e.to_string())
                }
            })
        }
        (ExportKind::MapPng, _) => Err(failed("the map image comes from the screen".into())),
        _ => Err(failed("nothing to export".into())),
    }
}

/// Writes an RGBA PNG atomically.
fn write_png(path: &Path, img: &egui::ColorImage) -> Result<(), String> {
    soilrisk::atomic::write_atomic(path, |w| {
        let mut enc = png::Encoder::new(w, img.size[0] as u32, img.size[1] as u32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(std::io::Error::other)?;
        writer
            .write_image_data(img.as_raw())
            .map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)
    })
    .map_err(|e| e.to_string())
}
