//! Long work off the UI thread: a named thread runs the engine's pipeline, reports its phase
//! and progress, can be cancelled, and wakes the UI when done. A panic in the thread is caught
//! and reported as an error; the window lives on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use eframe::egui;
use soilrisk::error::{AnalysisError, LayerError};
use soilrisk::io::read_layer;
use soilrisk::layer::Layer;
use soilrisk::pipeline::{
    Analysis, Control, Phase, Request, Timings, analyse_layers, check_mapping,
};

use super::mesh::MapLayers;

/// What a finished load hands to the window.
pub struct Loaded {
    pub analysis: Arc<Analysis>,
    pub layers: MapLayers,
}

/// Why a load did not give an analysis.
pub enum LoadError {
    /// The layers were read, but fields or values need mapping by the user.
    NeedsMapping {
        req: Box<Request>,
        risk: Box<Layer>,
        parcels: Box<Layer>,
        reason: String,
    },
    /// A zip holds several layers; the user picks one.
    ChooseMember {
        req: Box<Request>,
        /// The risk layer (true) or the parcel layer (false).
        risk_side: bool,
        archive: std::path::PathBuf,
        members: Vec<String>,
    },
    Failed(String),
}

/// A read error as the window handles it: a zip of several layers asks which one.
fn read_failed(e: LayerError, req: &Request, risk_side: bool) -> LoadError {
    match e {
        LayerError::SeveralLayers { path, members } => LoadError::ChooseMember {
            req: Box::new(req.clone()),
            risk_side,
            archive: path,
            members,
        },
        e => LoadError::Failed(e.to_string()),
    }
}

/// The layers to analyse: read them, or use these already read.
enum Source {
    Read,
    Layers(Box<Layer>, Box<Layer>),
}

#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub phase: String,
    pub fraction: f32,
}

/// A running background job.
pub struct Task {
    pub title: String,
    cancel: Arc<AtomicBool>,
    progress: Arc<Mutex<Progress>>,
    handle: Option<JoinHandle<Result<Loaded, LoadError>>>,
}

impl Task {
    /// Loads and analyses `req` on a thread named `soilrisk-load`.
    pub fn load(ctx: &egui::Context, req: Request) -> Result<Task, String> {
        Self::start(ctx, req, Source::Read)
    }

    /// Analyses layers already read (after the user mapped their fields).
    pub fn analyse(
        ctx: &egui::Context,
        req: Request,
        risk: Layer,
        parcels: Layer,
    ) -> Result<Task, String> {
        Self::start(ctx, req, Source::Layers(Box::new(risk), Box::new(parcels)))
    }

    fn start(ctx: &egui::Context, req: Request, source: Source) -> Result<Task, String> {
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Mutex::new(Progress {
            phase: "read".into(),
            fraction: 0.0,
        }));
        let title = format!(
            "Opening {} and {}",
            file_name(&req.risk),
            file_name(&req.parcels)
        );
        let (c, p, ctx2) = (cancel.clone(), progress.clone(), ctx.clone());
        let handle = std::thread::Builder::new()
            .name("soilrisk-load".into())
            .spawn(move || {
                let work = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let report = |phase: Phase, fraction: f32| {
                        if let Ok(mut g) = p.lock() {
                            g.phase = phase.name().into();
                            g.fraction = fraction;
                        }
                        ctx2.request_repaint();
                    };
                    let ctl = Control {
                        cancel: Some(&c),
                        progress: Some(&report),
                    };
                    let started = std::time::Instant::now();
                    let (risk, parcels) = match source {
                        Source::Layers(r, p) => (*r, *p),
                        Source::Read => {
                            let (r, p) = rayon::join(
                                || read_layer(&req.risk, &req.risk_read),
                                || read_layer(&req.parcels, &req.parcel_read),
                            );
                            (
                                r.map_err(|e| read_failed(e, &req, true))?,
                                p.map_err(|e| read_failed(e, &req, false))?,
                            )
                        }
                    };
                    // Checked first so that, if the user must map fields, the layers read
                    // go to the dialog as they are instead of being copied for it.
                    match check_mapping(&req, &risk, &parcels) {
                        Ok(()) => {}
                        Err(
                            e @ (AnalysisError::MissingField { .. }
                            | AnalysisError::UnknownValues { .. }),
                        ) => {
                            return Err(LoadError::NeedsMapping {
                                reason: e.to_string(),
                                req: Box::new(req),
                                risk: Box::new(risk),
                                parcels: Box::new(parcels),
                            });
                        }
                        Err(e) => return Err(LoadError::Failed(e.to_string())),
                    }
                    let analysis =
                        analyse_layers(&req, risk, parcels, ctl, &mut Timings::default(), started)
                            .map_err(|e| LoadError::Failed(e.to_string()))?;
                    report(Phase::Index, 1.0);
                    let layers = MapLayers::build(&analysis);
                    Ok(Loaded {
                        analysis: Arc::new(analysis),
                        layers,
                    })
                }));
                ctx2.request_repaint();
                match work {
                    Ok(r) => r,
                    Err(panic) => Err(LoadError::Failed(format!(
                        "internal error while loading (please report it): {}",
                        panic
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| panic.downcast_ref::<&str>().copied())
                            .unwrap_or("panic")
                    ))),
                }
            })
            .map_err(|e| format!("cannot start a background thread: {e}"))?;
        Ok(Task {
            title,
            cancel,
            progress,
            handle: Some(handle),
        })
    }

    pub fn progress(&self) -> Progress {
        self.progress.lock().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The result once the thread has finished.
    pub fn poll(&mut self) -> Option<Result<Loaded, LoadError>> {
        if !self.handle.as_ref().is_some_and(JoinHandle::is_finished) {
            return None;
        }
        let handle = self.handle.take()?;
        Some(handle.join().unwrap_or_else(|_| {
            Err(LoadError::Failed(
                "the background thread stopped unexpectedly".into(),
            ))
        }))
    }
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| p.display().to_string())
}
