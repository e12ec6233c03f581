//! The window's state, in three parts by how long each lives:
//!
//! - `Settings`: saved between runs (`#[serde(default)]`: older saves still load).
//! - `Session`: what the window holds while it runs: the analyses on screen, the request
//!   behind them, the background jobs under way, and what it is asking the user.
//! - `View`: how the user looks at it: the map camera, the selection, panel state.
//!
//! Nothing here changes itself: commands and finished jobs are applied in `command`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui;
use geo::MultiPolygon;
use soilrisk::crs::{Crs, Transformer};
use soilrisk::io::postgis::Server;
use soilrisk::pipeline::{Analysis, Request};
use soilrisk::report::{CompareInput as ReportCompare, Input as ReportInput, ReportOptions};
use soilrisk::stats::{Accounts, DEFAULT_TARGET, Summary};

use super::compare::{CompareJob, Compared};
use super::dialogs::compare::CompareDialog;
use super::dialogs::mapping::MappingDialog;
use super::dialogs::member::MemberChoice;
use super::dialogs::postgis::PostgisDialog;
use super::dialogs::regions::RegionsDialog;
use super::dialogs::report::ReportDialog;
use super::edits::{Edit, Edits, SaveJob, Treatment};
use super::files::{Dialogs, ExportJob, NativeDialogs, PendingDialog};
use super::load::{Loaded, Loading};
use super::map::{Camera, Pick};
use super::overlaps::OverlapCheck;
use super::postgis::layer_name;
use super::render::{MapScene, status_of};
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
    /// PostGIS servers whose tables were listed, most recent first: host, port, database
    /// and user only (a password is never typed into the window, so never kept).
    pub servers: Vec<Server>,
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
            servers: Vec::new(),
        }
    }
}

/// How many layer pairs File > Recent remembers.
const RECENT: usize = 8;

/// How many PostGIS servers File > Open from PostGIS… remembers.
const SERVERS: usize = 5;

impl Settings {
    /// Puts a layer pair first in File > Recent.
    pub fn remember(&mut self, pair: (PathBuf, PathBuf)) {
        self.recent.retain(|p| *p != pair);
        self.recent.insert(0, pair);
        self.recent.truncate(RECENT);
    }

    /// Puts a PostGIS server first among those File > Open from PostGIS… offers.
    pub fn remember_server(&mut self, server: Server) {
        self.servers.retain(|s| *s != server);
        self.servers.insert(0, server);
        self.servers.truncate(SERVERS);
    }
}

/// The tab of the right-hand panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RightTab {
    Inspector,
    Summary,
    /// Year over year, once a comparison exists.
    Compare,
}

/// One analysis on screen, with what the window made of it.
pub struct Analysed {
    pub analysis: Arc<Analysis>,
    pub scene: Arc<MapScene>,
    /// At the target in `Settings`, with the overlap check's warning once it is done; from
    /// `accounts`, so it follows the measures edited.
    pub summary: Summary,
    /// The totals, kept up to date edit by edit.
    pub accounts: Accounts,
    /// The measures edited, with undo and redo.
    pub edits: Edits,
    /// Treatments edited but not yet given to `analysis` (a background job was reading it),
    /// by parcel: the latest of each. `treatment` reads through them.
    pub pending: BTreeMap<usize, Treatment>,
    /// The compliance of a crop is in play (a compliance field, or a ledger's column): the
    /// inspector lets it be edited.
    pub compliance: bool,
    /// Warnings added after the analysis (the overlap check's).
    pub late_warnings: Vec<String>,
    /// For the status bar's longitude and latitude.
    pub to_lonlat: Option<Transformer>,
    /// The check for overlapping parcels, run once the map is on screen; its warning goes
    /// into `summary`.
    pub overlaps: OverlapCheck,
}

impl Analysed {
    pub fn new(loaded: Loaded, target: f64, compliance: bool) -> Analysed {
        let to_lonlat = loaded
            .analysis
            .crs
            .as_ref()
            .and_then(|c| Transformer::new(c, &Crs::wgs84()).ok());
        let accounts = Accounts::new(&loaded.analysis, target);
        Analysed {
            summary: accounts.summary(),
            accounts,
            edits: Edits::new(),
            pending: BTreeMap::new(),
            compliance,
            late_warnings: Vec::new(),
            analysis: loaded.analysis,
            scene: loaded.scene,
            to_lonlat,
            overlaps: OverlapCheck::new(),
        }
    }

    /// The summary at a new target; the warnings stay (the overlap check's is not in the
    /// analysis).
    pub fn set_target(&mut self, target: f64) {
        self.accounts.set_target(target);
        self.refresh();
    }

    /// Adds warnings found after the analysis.
    pub fn add_warnings(&mut self, lines: impl IntoIterator<Item = String>) {
        self.late_warnings.extend(lines);
        self.refresh();
    }

    /// The summary from the accounts.
    fn refresh(&mut self) {
        self.summary = self.accounts.summary();
        self.summary
            .warnings
            .extend(self.late_warnings.iter().cloned());
    }

    /// Kept parcel `k`'s measure and compliance now, edits included.
    pub fn treatment(&self, k: usize) -> Treatment {
        if let Some(t) = self.pending.get(&k) {
            return t.clone();
        }
        let i = &self.analysis.parcel_info[k];
        Treatment {
            measure: i.measure,
            text: i.measure_text.clone(),
            complied: i.complied,
        }
    }

    /// Kept parcel `k`'s treated area (m²) in each class (B, C, D), edits included.
    pub fn treated_by_class(&self, k: usize) -> [f64; 3] {
        let t = self.treatment(k);
        self.analysis.parcel_results[k].treated_by_class(t.measure, t.complied)
    }

    /// An edit of the user: parcel `k` to `after`, undoable.
    pub fn edit(&mut self, k: usize, after: Treatment) {
        let before = self.treatment(k);
        if before == after {
            return;
        }
        let id = self.analysis.parcel_info[k].id.clone();
        self.edits.push(Edit {
            parcel: k,
            id,
            before,
            after: after.clone(),
        });
        self.set_treatment(k, after);
    }

    /// Undoes the last edit; false when there is none.
    pub fn undo(&mut self) -> bool {
        let Some(e) = self.edits.undo().cloned() else {
            return false;
        };
        self.set_treatment(e.parcel, e.before);
        true
    }

    /// Redoes the last edit undone; false when there is none.
    pub fn redo(&mut self) -> bool {
        let Some(e) = self.edits.redo().cloned() else {
            return false;
        };
        self.set_treatment(e.parcel, e.after);
        true
    }

    /// Gives parcel `k` a treatment: the accounts, the summary and the parcel's colour now,
    /// the analysis as soon as no background job shares it (`apply_pending`).
    fn set_treatment(&mut self, k: usize, t: Treatment) {
        let before = self.treatment(k);
        let r = &self.analysis.parcel_results[k];
        let id = &self.analysis.parcel_info[k].id;
        self.accounts.apply(
            k,
            r,
            id,
            (before.measure, before.complied),
            (t.measure, t.complied),
        );
        let [b, c, d] = r.treated_by_class(t.measure, t.complied);
        self.scene.set_status(k, status_of(r, b + c + d));
        self.pending.insert(k, t);
        self.refresh();
        self.apply_pending();
    }

    /// Gives the pending treatments to the analysis if nothing else holds it now (the map's
    /// drawing thread, an export or the overlap check may, for a while); true when none are
    /// left pending.
    pub fn apply_pending(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        // The scene holds the analysis too: lend it back once the analysis is changed.
        let Some(scene) = Arc::get_mut(&mut self.scene) else {
            return false;
        };
        let held = scene.analysis.take();
        drop(held);
        if let Some(a) = Arc::get_mut(&mut self.analysis) {
            for (k, t) in std::mem::take(&mut self.pending) {
                a.set_treatment(k, t.measure, t.text, t.complied);
            }
        }
        scene.analysis = Some(self.analysis.clone());
        self.pending.is_empty()
    }
}

/// What the window holds while it runs.
pub struct Session {
    /// The analyses on screen. One today (a new load replaces it); the other year of a
    /// comparison is held by `compared`.
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
    /// Warnings of an export that wrote its file (the report's), shown until dismissed.
    pub warning: Option<String>,
    /// A one-line message (an export written, a load cancelled), shown in the status bar.
    pub notice: Option<String>,
    /// A zip of several layers was opened: which one?
    pub choose_member: Option<MemberChoice>,
    /// The layers need their fields or values mapped.
    pub mapping: Option<MappingDialog>,
    /// A file dropped on the window: a risk layer or a parcel layer?
    pub dropped: Option<PathBuf>,
    /// Measures being saved.
    pub saving: Option<SaveJob>,
    /// The window was asked to close with unsaved edits: save, discard or cancel?
    pub confirm_close: bool,
    /// The user chose to close without saving (or saved): let the window close.
    pub allow_close: bool,
    /// A boundary layer chosen: its fields to name, its CRS.
    pub regions: Option<RegionsDialog>,
    /// File > Compare with another year… open.
    pub compare_dialog: Option<CompareDialog>,
    /// The other year being analysed and compared.
    pub comparing: Option<CompareJob>,
    /// The loaded year compared with another; dropped when the loaded year is analysed
    /// again.
    pub compared: Option<Compared>,
    /// Export > Report (PDF)… open.
    pub report_dialog: Option<ReportDialog>,
    /// The report's options while its save dialog is open.
    pub report_options: Option<ReportOptions>,
    /// File > Open from PostGIS… open.
    pub postgis_dialog: Option<PostgisDialog>,
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
            warning: None,
            notice: None,
            choose_member: None,
            mapping: None,
            dropped: None,
            saving: None,
            confirm_close: false,
            allow_close: false,
            regions: None,
            compare_dialog: None,
            comparing: None,
            compared: None,
            report_dialog: None,
            report_options: None,
            postgis_dialog: None,
        }
    }

    /// What a report is of: the loaded year and its summary; with a comparison, its after
    /// year, that year's summary in `compare.json` and the comparison.
    pub fn report_input(&self) -> Option<ReportInput<'_>> {
        let a = self.current()?;
        if let Some(c) = &self.compared
            && let Some((before, after)) = c.years()
        {
            return Some(ReportInput {
                analysis: after,
                summary: &c.summary.after,
                compare: Some(ReportCompare {
                    before,
                    comparison: &c.comparison,
                    summary: &c.summary,
                }),
                footprints: None,
            });
        }
        Some(ReportInput {
            analysis: &a.analysis,
            summary: &a.summary,
            compare: None,
            // The window keeps every parcel: the land with no risk is drawn from them.
            footprints: None,
        })
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

    /// The scene the map draws: the change map of the comparison when `changes` asks for
    /// it and there is one, else `scene`.
    pub fn map_scene(&self, changes: bool) -> Option<&Arc<MapScene>> {
        match &self.compared {
            Some(c) if changes => Some(&c.scene),
            _ => self.scene(),
        }
    }

    /// The polygon of something selected.
    pub fn geometry(&self, p: Pick) -> Option<&MultiPolygon<f64>> {
        match p {
            Pick::Parcel(i) => {
                let a = &self.current()?.analysis;
                Some(&a.parcels.features[a.parcel_info.get(i)?.feature].geometry)
            }
            Pick::Risk(i) => {
                let a = &self.current()?.analysis;
                Some(&a.risk.features[a.risk_areas.get(i)?.feature].geometry)
            }
            Pick::After(i) => {
                let (_, a) = self.compared.as_ref()?.years()?;
                Some(&a.parcels.features[a.parcel_info.get(i)?.feature].geometry)
            }
            Pick::Removed(k) => self.compared.as_ref()?.scene.removed_geometry(k),
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

    /// Measures were edited and not saved.
    pub fn unsaved(&self) -> bool {
        self.analyses.iter().any(|a| a.edits.unsaved())
    }

    /// The window's title: the parcel layer, and `*` while edits are unsaved.
    pub fn title(&self) -> String {
        let name = self
            .current()
            .map(|a| a.analysis.parcels.path.clone())
            .unwrap_or_else(|| self.request.parcels.clone());
        let name = layer_name(&name);
        format!(
            "soilrisk — {name}{}",
            if self.unsaved() { " *" } else { "" }
        )
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
    /// The window title last set.
    pub title: String,
    /// The map shows the comparison's change map (when there is one).
    pub change_map: bool,
    /// The region whose transition matrix the Compare tab shows (`None`: the province).
    pub compare_region: Option<usize>,
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
            title: String::new(),
            change_map: false,
            compare_region: None,
        }
    }
}
