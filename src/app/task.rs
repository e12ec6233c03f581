//! Long work off the UI thread: a named thread runs the engine's pipeline, reports its phase
//! and progress, can be cancelled, and wakes the UI when done. A panic in the thread is caught
//! and reported as an error; the window lives on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eframe::egui;
use geo::MultiPolygon;
use rayon::prelude::*;
use soilrisk::error::{AnalysisError, LayerError};
use soilrisk::io::read_layer;
use soilrisk::layer::Layer;
use soilrisk::pipeline::{
    Analysis, Arrival, Control, Phase, Request, analyse_layers, check_mapping, run,
};
use soilrisk::vocab::RiskClass;

use super::render::{MapScene, box_of};

/// What a finished load hands to the window.
pub struct Loaded {
    pub analysis: Arc<Analysis>,
    pub scene: Arc<MapScene>,
}

/// The check for parcels at risk that overlap one another. The window's loads leave it out
/// of the pipeline and run it on a thread of its own once the
/// analysed map is on screen: it only adds a warning, and took 0.4-0.7 s of a
/// million-parcel load. Exports wait for it, so that their summary holds the warning.
pub enum OverlapCheck {
    /// Not started; the analysis arrived at this instant.
    Waiting(Instant),
    Running(JoinHandle<Option<String>>),
    /// Finished: its warning, if any, is in the session's summary.
    Done,
}

impl OverlapCheck {
    /// How long the check waits for the analysed map before it starts anyway (a window too
    /// small to draw the map, say).
    const WAIT: Duration = Duration::from_secs(2);

    pub fn new() -> Self {
        OverlapCheck::Waiting(Instant::now())
    }

    pub fn done(&self) -> bool {
        matches!(self, OverlapCheck::Done)
    }

    /// Starts the check on `analysis` once `map_shown` (or after `WAIT`); gives its warnings
    /// once, when it has finished. The thread wakes the window when it is done.
    pub fn poll(
        &mut self,
        ctx: &egui::Context,
        analysis: &Arc<Analysis>,
        map_shown: bool,
    ) -> Option<Vec<String>> {
        match self {
            OverlapCheck::Waiting(since) if map_shown || since.elapsed() >= Self::WAIT => {
                let (a, ctx2) = (analysis.clone(), ctx.clone());
                let started = std::thread::Builder::new()
                    .name("parcel-overlaps".into())
                    .spawn(move || {
                        let warning = a.parcel_overlap_warning();
                        super::repaint_once(&ctx2);
                        warning
                    });
                match started {
                    Ok(h) => {
                        *self = OverlapCheck::Running(h);
                        None
                    }
                    Err(e) => {
                        *self = OverlapCheck::Done;
                        Some(vec![format!(
                            "parcels were not checked for overlapping one another: cannot start a background thread: {e}"
                        )])
                    }
                }
            }
            OverlapCheck::Waiting(since) => {
                ctx.request_repaint_after(Self::WAIT.saturating_sub(since.elapsed()));
                None
            }
            OverlapCheck::Running(h) if h.is_finished() => {
                let OverlapCheck::Running(h) = std::mem::replace(self, OverlapCheck::Done) else {
                    return None;
                };
                Some(match h.join() {
                    Ok(w) => w.into_iter().collect(),
                    Err(_) => vec![
                        "parcels were not checked for overlapping one another: the check stopped on an internal error"
                            .into(),
                    ],
                })
            }
            OverlapCheck::Running(_) | OverlapCheck::Done => None,
        }
    }
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
fn read_failed(e: LayerError, req: &Request) -> LoadError {
    match e {
        LayerError::SeveralLayers { path, members } => LoadError::ChooseMember {
            req: Box::new(req.clone()),
            risk_side: req.risk.starts_with(&path),
            archive: path,
            members,
        },
        e => LoadError::Failed(e.to_string()),
    }
}

/// Fields or values need the user: both layers are read whole for the mapping dialog (only
/// then; an analysis that needs no mapping streams the parcels instead).
fn needs_mapping(req: Request, e: AnalysisError) -> LoadError {
    let (risk, parcels) = rayon::join(
        || read_layer(&req.risk, &req.risk_read),
        || read_layer(&req.parcels, &req.parcel_read),
    );
    match (risk, parcels) {
        (Ok(risk), Ok(parcels)) => LoadError::NeedsMapping {
            reason: e.to_string(),
            req: Box::new(req),
            risk: Box::new(risk),
            parcels: Box::new(parcels),
        },
        (Err(e), _) | (_, Err(e)) => read_failed(e, &req),
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
    /// The newest preview of the layers being read, not yet taken.
    preview: Arc<Mutex<Option<Arc<MapScene>>>>,
    handle: Option<JoinHandle<Result<Loaded, LoadError>>>,
}

/// How often at most a new preview is made while the parcels stream in: each is drawn on
/// the `map-render` thread, which shares the cores with the analysis.
const PREVIEW_EVERY: Duration = Duration::from_secs(1);

/// How often at most progress redraws the window while loading. Once a second, as the
/// previews come: where the window is drawn in software (Mesa, no GPU), a frame of a
/// 1500 x 950 window costs about 0.2 s of CPU, and four a second took nearly half of two
/// cores away from the analysis.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Builds previews from what the analysis has read (on the load thread).
struct Previewer {
    risk: Arc<Vec<(MultiPolygon<f64>, RiskClass)>>,
    boxes: Vec<[f64; 4]>,
    last: Option<Instant>,
}

impl Previewer {
    fn arrived(&mut self, what: Arrival<'_>) -> Option<MapScene> {
        match what {
            Arrival::Risk(layer, areas) => {
                self.risk = Arc::new(
                    areas
                        .iter()
                        .map(|r| (layer.features[r.feature].geometry.clone(), r.class))
                        .collect(),
                );
            }
            Arrival::Parcels(batch) => {
                let boxes: Vec<[f64; 4]> = batch.par_iter().map(|f| box_of(&f.geometry)).collect();
                self.boxes.extend(boxes);
                if self.last.is_some_and(|t| t.elapsed() < PREVIEW_EVERY) {
                    return None;
                }
            }
        }
        self.last = Some(Instant::now());
        Some(MapScene::preview(self.risk.clone(), self.boxes.clone()))
    }
}

impl Task {
    /// Loads and analyses `req` on a thread named `soilrisk-load`. With `preview`, the layers
    /// are shown as they are read (see `take_preview`).
    pub fn load(ctx: &egui::Context, req: Request, preview: bool) -> Result<Task, String> {
        Self::start(ctx, req, Source::Read, preview)
    }

    /// A newer preview of the layers being read, if there is one.
    pub fn take_preview(&self) -> Option<Arc<MapScene>> {
        self.preview.lock().ok().and_then(|mut p| p.take())
    }

    /// Analyses layers already read (after the user mapped their fields).
    pub fn analyse(
        ctx: &egui::Context,
        req: Request,
        risk: Layer,
        parcels: Layer,
    ) -> Result<Task, String> {
        Self::start(
            ctx,
            req,
            Source::Layers(Box::new(risk), Box::new(parcels)),
            false,
        )
    }

    fn start(
        ctx: &egui::Context,
        req: Request,
        source: Source,
        preview: bool,
    ) -> Result<Task, String> {
        let previews: Arc<Mutex<Option<Arc<MapScene>>>> = Arc::default();
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
        let (c, p, ctx2, slot) = (
            cancel.clone(),
            progress.clone(),
            ctx.clone(),
            previews.clone(),
        );
        let handle = std::thread::Builder::new()
            .name("soilrisk-load".into())
            .spawn(move || {
                let work = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let report = |phase: Phase, fraction: f32| {
                        if let Ok(mut g) = p.lock() {
                            g.phase = phase.name().into();
                            g.fraction = fraction;
                        }
                        // Progress comes many times a second; the bar need not follow each.
                        ctx2.request_repaint_after(PROGRESS_EVERY);
                    };
                    let previewer = Mutex::new(Previewer {
                        risk: Arc::default(),
                        boxes: Vec::new(),
                        last: None,
                    });
                    let arrived = |what: Arrival<'_>| {
                        // The first preview (no earlier one made) gets a frame of its own.
                        let made = previewer.lock().ok().and_then(|mut p| {
                            let first = p.last.is_none();
                            p.arrived(what).map(|scene| (scene, first))
                        });
                        if let (Some((scene, first)), Ok(mut s)) = (made, slot.lock()) {
                            *s = Some(Arc::new(scene));
                            if first {
                                super::repaint_once(&ctx2);
                            } else {
                                // Shown with the next progress frame rather than one of its own.
                                ctx2.request_repaint_after(PROGRESS_EVERY);
                            }
                        }
                    };
                    let ctl = Control {
                        cancel: Some(&c),
                        progress: Some(&report),
                        arrived: preview.then_some(&arrived as _),
                    };
                    let started = Instant::now();
                    let result = match source {
                        // The parcels stream through the analysis as they are read.
                        Source::Read => run(&req, ctl),
                        Source::Layers(r, p) => check_mapping(&req, &r, &p)
                            .and_then(|()| analyse_layers(&req, *r, *p, ctl, started)),
                    };
                    let analysis = match result {
                        Ok(a) => a,
                        Err(
                            e @ (AnalysisError::MissingField { .. }
                            | AnalysisError::UnknownValues(_)),
                        ) => return Err(needs_mapping(req, e)),
                        Err(AnalysisError::Layer(e)) => return Err(read_failed(e, &req)),
                        Err(e) => return Err(LoadError::Failed(e.to_string())),
                    };
                    report(Phase::Index, 1.0);
                    let analysis = Arc::new(analysis);
                    Ok(Loaded {
                        scene: Arc::new(MapScene::build(analysis.clone())),
                        analysis,
                    })
                }));
                super::repaint_once(&ctx2);
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
            preview: previews,
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
