//! The window's state, in three parts by how long each lives:
//!
//! - `Settings`: saved between runs (`#[serde(default)]`: older saves still load).
//! - `Session`: what the window holds while it runs: the analyses on screen, the request
//!   behind them, the background jobs under way, and what it is asking the user.
//! - `View`: how the user looks at it: the map camera, the selection, panel state.
//!
//! Nothing here changes itself: commands and finished jobs are applied in `command`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui;
use soilrisk::crs::{Crs, Transformer};
use soilrisk::pipeline::{Analysis, Request};
use soilrisk::stats::{DEFAULT_TARGET, Summary};

use super::dialogs::mapping::MappingDialog;
use super::dialogs::member::MemberChoice;
use super::files::{Dialogs, ExportJob, NativeDialogs, PendingDialog};
use super::load::{Loaded, Loading};
use super::map::{Camera, Pick};
use super::overlaps::OverlapCheck;
use super::render::MapScene;
use super::style::LayerStyle;
use super::summary::RegionSort;
use super::table::TableState;

/// Saved between runs (`#[serde(default)]`: older saves still load).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub target: f64,
    pub layers: LayerStyle,
    pub right_tab: RightTab,
    pub last_folder: Option<PathBuf>,
    pub show_table: bool,
    /// Layer pairs opened before, most recent first.
    pub recent: Vec<(PathBuf, PathBuf)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            target: DEFAULT_TARGET,
            layers: LayerStyle::default(),
            right_tab: RightTab::Summary,
            last_folder: None,
            show_table: false,
            recent: Vec::new(),
        }
    }
}

/// How many layer pairs File > Recent remembers.
const RECENT: usize = 8;

impl Settings {
    /// Puts a layer pair first in File > Recent.
    pub fn remember(&mut self, pair: (PathBuf, PathBuf)) {
        self.recent.retain(|p| *p != pair);
        self.recent.insert(0, pair);
        self.recent.truncate(RECENT);
    }
}

/// The tab of the right-hand panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RightTab {
    Inspector,
    Summary,
}

/// One analysis on screen, with what the window made of it.
pub struct Analysed {
    pub analysis: Arc<Analysis>,
    pub scene: Arc<MapScene>,
    /// At the target in `Settings`, with the overlap check's warning once it is done.
    pub summary: Summary,
    /// For the status bar's longitude and latitude.
    pub to_lonlat: Option<Transformer>,
    /// The check for overlapping parcels, run once the map is on screen; its warning goes
    /// into `summary`.
    pub overlaps: OverlapCheck,
}

impl Analysed {
    pub fn new(loaded: Loaded, target: f64) -> Analysed {
        let to_lonlat = loaded
            .analysis
            .crs
            .as_ref()
            .and_then(|c| Transformer::new(c, &Crs::wgs84()).ok());
        Analysed {
            summary: loaded.analysis.summary(target),
            analysis: loaded.analysis,
            scene: loaded.scene,
            to_lonlat,
            overlaps: OverlapCheck::new(),
        }
    }

    /// The summary at a new target; the warnings stay (the overlap check's is not in the
    /// analysis).
    pub fn set_target(&mut self, target: f64) {
        let warnings = std::mem::take(&mut self.summary.warnings);
        self.summary = self.analysis.summary(target);
        self.summary.warnings = warnings;
    }
}

/// What the window holds while it runs.
pub struct Session {
    /// The analyses on screen. One today (a new load replaces it); the list leaves room for
    /// a second to compare with.
    pub analyses: Vec<Analysed>,
    /// The last load asked for: paths, text encodings, field mapping.
    pub request: Request,
    /// The load that gave the analyses on screen, to go back to when a later one fails.
    pub loaded_request: Option<Request>,
    /// The load or analysis under way.
    pub loading: Option<Loading>,
    /// The layers being read, drawn while they are analysed (first open only).
    pub preview: Option<Arc<MapScene>>,
    /// File dialogs; tests put a double here.
    pub dialogs: Arc<dyn Dialogs>,
    /// The file dialog open now.
    pub dialog: Option<PendingDialog>,
    pub export: Option<ExportJob>,
    /// The map image asked of the window for an export, and where it goes.
    pub screenshot: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    pub png_target: Option<PathBuf>,
    /// An error to show until dismissed.
    pub error: Option<String>,
    /// A one-line message (an export written, a load cancelled), shown in the status bar.
    pub notice: Option<String>,
    /// A zip of several layers was opened: which one?
    pub choose_member: Option<MemberChoice>,
    /// The layers need their fields or values mapped.
    pub mapping: Option<MappingDialog>,
    /// A file dropped on the window: a risk layer or a parcel layer?
    pub dropped: Option<PathBuf>,
}

impl Session {
    /// Nothing loaded yet; `request` is what will be.
    pub fn new(request: Request) -> Session {
        Session {
            analyses: Vec::new(),
            request,
            loaded_request: None,
            loading: None,
            preview: None,
            dialogs: Arc::new(NativeDialogs),
            dialog: None,
            export: None,
            screenshot: Arc::default(),
            png_target: None,
            error: None,
            notice: None,
            choose_member: None,
            mapping: None,
            dropped: None,
        }
    }

    /// The analysis the panels show.
    pub fn current(&self) -> Option<&Analysed> {
        self.analyses.first()
    }

    /// The scene the map draws: the current analysis's, else the preview of a load.
    pub fn scene(&self) -> Option<&Arc<MapScene>> {
        match self.current() {
            Some(a) => Some(&a.scene),
            None => self.preview.as_ref(),
        }
    }

    /// The risk layer shown or being loaded.
    pub fn risk_path(&self) -> &PathBuf {
        &self.request.risk
    }

    /// The parcel layer shown or being loaded.
    pub fn parcels_path(&self) -> &PathBuf {
        &self.request.parcels
    }

    /// Every analysis has been checked for overlapping parcels.
    pub fn checked(&self) -> bool {
        self.analyses.iter().all(|a| a.overlaps.done())
    }
}

/// How the user looks at what is loaded.
pub struct View {
    pub camera: Camera,
    /// Fit the camera to the layers at the next frame.
    pub fit_pending: bool,
    /// The camera fitted to the preview, to know whether the user has moved since.
    pub preview_fit: Option<Camera>,
    pub selection: Option<Pick>,
    /// The map point under the mouse.
    pub hover_world: Option<[f64; 2]>,
    /// Where the map was drawn last frame (screen points), for tests and zooming.
    pub map_rect: egui::Rect,
    /// The target's field in the summary, in percent, as it is being typed.
    pub target_pct: f64,
    pub region_sort: RegionSort,
    pub table: TableState,
}

impl View {
    pub fn new(settings: &Settings) -> View {
        View {
            camera: Camera::default(),
            fit_pending: true,
            preview_fit: None,
            selection: None,
            hover_world: None,
            map_rect: egui::Rect::NOTHING,
            target_pct: settings.target * 100.0,
            region_sort: RegionSort::default(),
            table: TableState::default(),
        }
    }
}
