//! Loading: reading and analysing two layers as a background `Job` (thread `soilrisk-load`)
//! that runs the engine's pipeline, with its phase and progress, a cancel button, and a
//! preview of the layers as they are read (first open only). A load that needs the user
//! (fields to map, a layer to pick in a zip) ends with a `LoadError` saying so.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui;
use geo::MultiPolygon;
use rayon::prelude::*;
use soilrisk::error::LayerError;
use soilrisk::io::read_layer;
use soilrisk::layer::Layer;
use soilrisk::pipeline::AnalysisError;
use soilrisk::pipeline::{
    Analysis, Arrival, Control, Phase, Request, analyse_layers, check_mapping, run,
};
use soilrisk::vocab::RiskClass;

use super::job::{Job, Progress, repaint_once};
use super::postgis::layer_name;
use super::render::{MapScene, box_of};

/// What a finished load hands to the window.
pub struct Loaded {
    pub analysis: Arc<Analysis>,
    pub scene: Arc<MapScene>,
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
    /// A container (zip, GeoPackage, File Geodatabase) holds several layers; the user picks one.
    ChooseMember {
        req: Box<Request>,
        /// The risk layer (true) or the parcel layer (false).
        risk_side: bool,
        archive: std::path::PathBuf,
        members: Vec<String>,
    },
    Failed(String),
}

/// A read error as the window handles it: a container of several layers asks which one.
fn read_failed(e: LayerError, req: &Request) -> LoadError {
    match e {
        LayerError::SeveralLayers { path, members } => LoadError::ChooseMember {
            req: Box::new(req.clone()),
            // Both layers may be in one container (a GeoPackage holding the risk areas and
            // the parcels): the side named by the container alone is the one to choose for.
            risk_side: req.risk == path || (req.parcels != path && req.risk.starts_with(&path)),
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

/// How often at most a new preview is made while the parcels stream in: each is drawn on
/// the `map-render` thread, which shares the cores with the analysis.
const PREVIEW_EVERY: Duration = Duration::from_secs(1);

/// How often at most progress redraws the window while loading: once a second, as the
/// previews come. Where the window is drawn in software (Mesa, no GPU) each frame takes CPU
/// from the analysis.
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

/// A load or an analysis under way.
pub struct Loading {
    job: Job<Result<Loaded, LoadError>>,
    /// The newest preview of the layers being read, not yet taken.
    preview: Arc<Mutex<Option<Arc<MapScene>>>>,
}

impl Loading {
    /// Loads and analyses `req`. With `preview`, the layers are shown as they are read (see
    /// `take_preview`).
    pub fn load(ctx: &egui::Context, req: Request, preview: bool) -> Result<Loading, String> {
        Self::start(ctx, req, Source::Read, preview)
    }

    /// Analyses layers already read (after the user mapped their fields).
    pub fn analyse(
        ctx: &egui::Context,
        req: Request,
        risk: Layer,
        parcels: Layer,
    ) -> Result<Loading, String> {
        Self::start(
            ctx,
            req,
            Source::Layers(Box::new(risk), Box::new(parcels)),
            false,
        )
    }

    /// A newer preview of the layers being read, if there is one.
    pub fn take_preview(&self) -> Option<Arc<MapScene>> {
        self.preview.lock().ok().and_then(|mut p| p.take())
    }

    pub fn title(&self) -> &str {
        self.job.title()
    }

    pub fn progress(&self) -> Progress {
        self.job.progress()
    }

    pub fn cancel(&self) {
        self.job.cancel();
    }

    /// The result once the load is over.
    pub fn poll(&mut self) -> Option<Result<Loaded, LoadError>> {
        Some(self.job.poll()?.unwrap_or_else(|p| {
            Err(LoadError::Failed(format!(
                "internal error while loading (please report it): {}",
                p.0
            )))
        }))
    }

    fn start(
        ctx: &egui::Context,
        req: Request,
        source: Source,
        preview: bool,
    ) -> Result<Loading, String> {
        let previews: Arc<Mutex<Option<Arc<MapScene>>>> = Arc::default();
        let title = format!(
            "Opening {} and {}",
            layer_name(&req.risk),
            layer_name(&req.parcels)
        );
        let slot = previews.clone();
        let job = Job::spawn(ctx, "soilrisk-load", title, move |w| {
            w.report(Phase::Read.name(), 0.0);
            analyse(w, req, source, preview.then_some(&slot))
        })
        .map_err(|e| format!("cannot start a background thread: {e}"))?;
        Ok(Loading {
            job,
            preview: previews,
        })
    }
}

/// The work of a load, on its thread: previews go into `previews` when there is one.
fn analyse(
    w: &super::job::Worker,
    req: Request,
    source: Source,
    previews: Option<&Arc<Mutex<Option<Arc<MapScene>>>>>,
) -> Result<Loaded, LoadError> {
    let ctx = w.ctx();
    let report = |phase: Phase, fraction: f32| {
        w.report(phase.name(), fraction);
        // Progress comes many times a second; the bar need not follow each.
        ctx.request_repaint_after(PROGRESS_EVERY);
    };
    let previewer = Mutex::new(Previewer {
        risk: Arc::default(),
        boxes: Vec::new(),
        last: None,
    });
    let arrived = |what: Arrival<'_>| {
        let Some(slot) = previews else { return };
        // The first preview (no earlier one made) gets a frame of its own.
        let made = previewer.lock().ok().and_then(|mut p| {
            let first = p.last.is_none();
            p.arrived(what).map(|scene| (scene, first))
        });
        if let (Some((scene, first)), Ok(mut s)) = (made, slot.lock()) {
            *s = Some(Arc::new(scene));
            if first {
                repaint_once(ctx);
            } else {
                // Shown with the next progress frame rather than one of its own.
                ctx.request_repaint_after(PROGRESS_EVERY);
            }
        }
    };
    let ctl = Control {
        cancel: Some(w.cancel_flag()),
        progress: Some(&report),
        arrived: previews.is_some().then_some(&arrived as _),
    };
    let started = Instant::now();
    let result = match source {
        // The parcels stream through the analysis as they are read.
        Source::Read => run(&req, ctl),
        Source::Layers(r, p) => {
            check_mapping(&req, &r, &p).and_then(|()| analyse_layers(&req, *r, *p, ctl, started))
        }
    };
    let analysis = match result {
        Ok(a) => a,
        Err(e @ (AnalysisError::MissingField { .. } | AnalysisError::UnknownValues(_))) => {
            return Err(needs_mapping(req, e));
        }
        Err(AnalysisError::Layer(e)) => return Err(read_failed(e, &req)),
        Err(e) => return Err(LoadError::Failed(e.to_string())),
    };
    report(Phase::Index, 1.0);
    let analysis = Arc::new(analysis);
    Ok(Loaded {
        scene: Arc::new(MapScene::build(analysis.clone())),
        analysis,
    })
}
