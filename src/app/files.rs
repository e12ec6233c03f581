//! Files in and out of the window: native dialogs (rfd) on a named thread so a frame never
//! waits for one, behind a trait so tests can answer them; and exports written on a named
//! thread through the engine's atomic writers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;

use eframe::egui;
use soilrisk::export::{
    ToWgs84, write_parcels, write_regions_csv, write_risk_areas, write_summary,
};
use soilrisk::pipeline::Analysis;
use soilrisk::stats::Summary;

/// Asks the user for files. `None` is a cancelled dialog.
pub trait Dialogs: Send + Sync {
    /// Whether dialogs can be shown at all; the reason when not.
    fn available(&self) -> Result<(), String>;
    fn open_layer(&self, title: &str, folder: Option<&Path>) -> Option<PathBuf>;
    fn save(&self, title: &str, file_name: &str, folder: Option<&Path>) -> Option<PathBuf>;
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
            .add_filter("Layers (shp, geojson)", &["shp", "geojson", "json"])
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
}

/// What the file chosen in a dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    OpenRisk,
    OpenParcels,
    Export(ExportKind),
}

/// The files the Export menu writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Parcels,
    RiskAreas,
    Summary,
    RegionsCsv,
    MapPng,
}

impl ExportKind {
    pub const ALL: [ExportKind; 5] = [
        ExportKind::Parcels,
        ExportKind::RiskAreas,
        ExportKind::Summary,
        ExportKind::RegionsCsv,
        ExportKind::MapPng,
    ];

    pub fn menu_label(self) -> &'static str {
        match self {
            ExportKind::Parcels => "Parcels at risk (GeoJSON)…",
            ExportKind::RiskAreas => "Risk areas (GeoJSON)…",
            ExportKind::Summary => "Summary (JSON)…",
            ExportKind::RegionsCsv => "Regions (CSV)…",
            ExportKind::MapPng => "Map image (PNG)…",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            ExportKind::Parcels => "parcels.geojson",
            ExportKind::RiskAreas => "risk_areas.geojson",
            ExportKind::Summary => "summary.json",
            ExportKind::RegionsCsv => "regions.csv",
            ExportKind::MapPng => "map.png",
        }
    }
}

/// A dialog open on its own thread.
pub struct PendingDialog {
    pub purpose: Purpose,
    rx: Receiver<Option<PathBuf>>,
}

impl PendingDialog {
    /// Shows the dialog for `purpose` on a thread named `soilrisk-dialog`.
    pub fn ask(
        ctx: &egui::Context,
        dialogs: Arc<dyn Dialogs>,
        purpose: Purpose,
        folder: Option<PathBuf>,
    ) -> Result<PendingDialog, String> {
        dialogs.available()?;
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name("soilrisk-dialog".into())
            .spawn(move || {
                let folder = folder.as_deref();
                let path = match purpose {
                    Purpose::OpenRisk => dialogs.open_layer("Open risk-area layer", folder),
                    Purpose::OpenParcels => dialogs.open_layer("Open parcel layer", folder),
                    Purpose::Export(k) => dialogs.save("Export", k.file_name(), folder),
                };
                let _ = tx.send(path);
                ctx.request_repaint();
            })
            .map_err(|e| format!("cannot open a file dialog: {e}"))?;
        Ok(PendingDialog { purpose, rx })
    }

    /// `Some(choice)` once the dialog has closed.
    pub fn poll(&self) -> Option<Option<PathBuf>> {
        match self.rx.try_recv() {
            Ok(p) => Some(p),
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(None),
        }
    }
}

/// An export running on a thread named `soilrisk-export`.
pub struct ExportJob {
    pub path: PathBuf,
    handle: Option<JoinHandle<Result<(), String>>>,
}

/// What an export writes from.
pub enum ExportSource {
    Analysis(Arc<Analysis>, Box<Summary>),
    Image(Arc<egui::ColorImage>),
}

impl ExportJob {
    pub fn start(
        ctx: &egui::Context,
        kind: ExportKind,
        path: PathBuf,
        source: ExportSource,
        inputs: Vec<PathBuf>,
    ) -> Result<ExportJob, String> {
        let ctx = ctx.clone();
        let target = path.clone();
        let handle = std::thread::Builder::new()
            .name("soilrisk-export".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    write(kind, &target, source, &inputs)
                }))
                .unwrap_or_else(|_| {
                    Err("internal error while exporting (please report it)".into())
                });
                ctx.request_repaint();
                r
            })
            .map_err(|e| format!("cannot start the export: {e}"))?;
        Ok(ExportJob {
            path,
            handle: Some(handle),
        })
    }

    /// The outcome once the thread has finished.
    pub fn poll(&mut self) -> Option<Result<(), String>> {
        if !self.handle.as_ref().is_some_and(JoinHandle::is_finished) {
            return None;
        }
        let h = self.handle.take()?;
        Some(
            h.join()
                .unwrap_or_else(|_| Err("the export thread stopped".into())),
        )
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn write(
    kind: ExportKind,
    path: &Path,
    source: ExportSource,
    inputs: &[PathBuf],
) -> Result<(), String> {
    if inputs.iter().any(|i| same_file(i, path)) {
        return Err(format!(
            "{} is an input layer; an export never overwrites one",
            path.display()
        ));
    }
    match (kind, source) {
        (ExportKind::MapPng, ExportSource::Image(img)) => write_png(path, &img),
        (_, ExportSource::Analysis(a, summary)) => {
            let to = ToWgs84::new(a.crs.as_ref())?;
            match kind {
                ExportKind::Parcels => write_parcels(path, &a, &to),
                ExportKind::RiskAreas => write_risk_areas(path, &a, &to),
                ExportKind::Summary => write_summary(path, &summary),
                ExportKind::RegionsCsv => write_regions_csv(path, &summary),
                ExportKind::MapPng => return Err("the map image comes from the screen".into()),
            }
            .map_err(|e| e.to_string())
        }
        (_, ExportSource::Image(_)) => Err("nothing to export".into()),
    }
}

/// Writes an RGBA PNG atomically.
fn write_png(path: &Path, img: &egui::ColorImage) -> Result<(), String> {
    soilrisk::export::write_atomic(path, |w| {
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
