//! The desktop window (eframe/egui) over the engine's pipeline. It computes nothing itself:
//! it runs `soilrisk::pipeline::run` on a background thread and shows the `Analysis`.
//!
//! State is split as the house style asks: `Settings` are saved between runs, `Session` is
//! what is loaded now, `Camera` is the map view. Panels never change the world while drawing:
//! they push `Command`s, applied once per frame in `apply`.
//!
//! - `map`: the canvas, camera, picking; `render`: the map picture, drawn on its own thread;
//!   `style`: colours.
//! - `inspector`: the selected parcel or risk area; `summary`: rates, regions, priorities.
//! - `task`: background loading with progress and cancel; `fonts`: the bundled CJK font.
//! - `bench`: the window measuring itself (`SOILRISK_WINDOW_BENCH=1`).

pub mod bench;
pub mod files;
pub mod fonts;
pub mod inspector;
pub mod map;
pub mod mapping;
pub mod render;
pub mod style;
pub mod summary;
pub mod table;
pub mod task;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui::{self, RichText};
use geo::BoundingRect;
use soilrisk::crs::{Crs, Transformer};
use soilrisk::pipeline::{Analysis, Request};
use soilrisk::stats::{DEFAULT_TARGET, Summary};

use files::{
    Dialogs, ExportFailure, ExportJob, ExportKind, ExportSource, NativeDialogs, PendingDialog,
    Purpose,
};
use map::{Camera, LayerStyle, Pick};
use render::{MapScene, Renderer};
use task::Task;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RightTab {
    Inspector,
    Summary,
}

/// What is loaded now.
pub struct Session {
    pub analysis: Arc<Analysis>,
    pub scene: Arc<MapScene>,
    pub summary: Summary,
    to_lonlat: Option<Transformer>,
    /// The check for overlapping parcels, run once the map is on screen; its warning goes
    /// into `summary`.
    pub overlaps: task::OverlapCheck,
}

/// A change requested by a panel, applied after drawing.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Select(Option<Pick>),
    ZoomTo(Pick),
    ZoomFull,
    SetTarget(f64),
    CancelTask,
    /// Show a file dialog.
    Ask(Purpose),
    /// Use a dropped file as the risk layer (true) or the parcel layer (false).
    UseDropped(bool),
    /// Open a risk layer and a parcel layer.
    Open(PathBuf, PathBuf),
    /// Re-read the risk layer (true) or the parcel layer (false) in this text encoding
    /// (`None`: from the `.cpg`, else detected).
    SetEncoding(bool, Option<String>),
    /// Open this layer of the zip archive the user was asked about.
    OpenMember(String),
}

/// A zip archive of several layers, waiting for the user to pick one.
pub struct MemberChoice {
    pub req: Request,
    pub risk_side: bool,
    pub archive: PathBuf,
    pub members: Vec<String>,
}

/// How many layer pairs File > Recent remembers.
const RECENT: usize = 8;

pub struct SoilriskApp {
    pub settings: Settings,
    pub session: Option<Session>,
    pub task: Option<Task>,
    pub camera: Camera,
    fit_pending: bool,
    pub selection: Option<Pick>,
    pub error: Option<String>,
    pub hover_world: Option<[f64; 2]>,
    /// Where the map was drawn last frame (screen points), for tests and zooming.
    pub map_rect: egui::Rect,
    target_pct: f64,
    region_sort: summary::RegionSort,
    commands: Vec<Command>,
    /// The layers shown (or being loaded).
    pub risk_path: PathBuf,
    pub parcels_path: PathBuf,
    /// The last load asked for: paths, text encodings, field mapping.
    pub request: Request,
    /// The load that gave the layers shown, to go back to when a later one fails.
    loaded_request: Option<Request>,
    /// A zip of several layers was opened: which one?
    pub choose_member: Option<MemberChoice>,
    /// File dialogs; tests put a double here.
    pub dialogs: Arc<dyn Dialogs>,
    dialog: Option<PendingDialog>,
    pub export: Option<ExportJob>,
    /// A one-line message after an export, shown in the status bar.
    pub notice: Option<String>,
    screenshot: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    png_target: Option<PathBuf>,
    dropped: Option<PathBuf>,
    pub table: table::TableState,
    pub mapping: Option<mapping::MappingDialog>,
    /// `SOILRISK_FRAME_LOG=1`: print load and per-frame map times to stderr (benchmarks).
    frame_log: bool,
    created: std::time::Instant,
    /// CPU time of the last map frame.
    pub map_ms: f32,
    /// The UI thread's CPU time in the map last frame, in ms, while the window measures
    /// itself (`bench`); NaN otherwise.
    pub map_cpu_ms: f32,
    /// Draws the map picture off the UI thread.
    pub renderer: Renderer,
    /// The layers being read, drawn while they are analysed (first open only).
    pub preview: Option<Arc<render::MapScene>>,
    /// The camera fitted to the preview, to know whether the user has moved since.
    preview_fit: Option<Camera>,
    /// `SOILRISK_WINDOW_BENCH=1`: the window measures itself, prints and closes.
    bench: Option<bench::WindowBench>,
}

impl SoilriskApp {
    /// Opens the window state and starts loading `risk` and `parcels`.
    pub fn new(cc: &eframe::CreationContext<'_>, risk: PathBuf, parcels: PathBuf) -> Self {
        fonts::install(&cc.egui_ctx);
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        let mut app = SoilriskApp {
            target_pct: settings.target * 100.0,
            settings,
            session: None,
            task: None,
            camera: Camera::default(),
            fit_pending: true,
            selection: None,
            error: None,
            hover_world: None,
            map_rect: egui::Rect::NOTHING,
            region_sort: summary::RegionSort::default(),
            commands: Vec::new(),
            risk_path: risk.clone(),
            parcels_path: parcels.clone(),
            request: Request::new(risk.clone(), parcels.clone()),
            loaded_request: None,
            choose_member: None,
            dialogs: Arc::new(NativeDialogs),
            dialog: None,
            export: None,
            notice: None,
            screenshot: Arc::default(),
            png_target: None,
            dropped: None,
            table: table::TableState::default(),
            mapping: None,
            frame_log: std::env::var_os("SOILRISK_FRAME_LOG").is_some(),
            created: std::time::Instant::now(),
            map_ms: 0.0,
            map_cpu_ms: f32::NAN,
            renderer: Renderer::start(&cc.egui_ctx),
            bench: bench::WindowBench::from_env(),
            preview: None,
            preview_fit: None,
        };
        app.open(&cc.egui_ctx, risk, parcels);
        app
    }

    /// Starts loading two layers; what is loaded now stays until the new ones are ready. A
    /// layer opened again keeps the text encoding chosen for it.
    pub fn open(&mut self, ctx: &egui::Context, risk: PathBuf, parcels: PathBuf) {
        let mut req = Request::new(risk, parcels);
        if req.risk == self.request.risk {
            req.risk_read = self.request.risk_read.clone();
        }
        if req.parcels == self.request.parcels {
            req.parcel_read = self.request.parcel_read.clone();
        }
        self.load(ctx, req);
    }

    /// Starts a load as asked, field mapping and encodings included.
    pub fn load(&mut self, ctx: &egui::Context, req: Request) {
        if let Some(t) = &self.task {
            t.cancel();
        }
        self.risk_path = req.risk.clone();
        self.parcels_path = req.parcels.clone();
        self.request = req.clone();
        // On the first open the layers are drawn as they are read (the previews of a load
        // given up go with it); later, the layers on screen stay until the new ones are
        // analysed.
        if self.session.is_none() {
            self.preview = None;
            self.preview_fit = None;
            self.fit_pending = true;
        }
        match Task::load(ctx, req, self.session.is_none()) {
            Ok(t) => self.task = Some(t),
            Err(e) => self.error = Some(e),
        }
    }

    fn restore_loaded_request(&mut self) {
        if let Some(r) = &self.loaded_request {
            self.request = r.clone();
            self.risk_path = r.risk.clone();
            self.parcels_path = r.parcels.clone();
        }
    }

    fn poll_task(&mut self) {
        let Some(task) = &mut self.task else { return };
        if let Some(p) = task.take_preview() {
            self.preview = Some(p);
        }
        let Some(result) = task.poll() else { return };
        self.task = None;
        self.preview = None;
        // Fitted to a preview and not moved since: fit again to the whole layers.
        let refit = self.preview_fit.take().is_none_or(|c| c == self.camera);
        if result.is_err() {
            // The layers shown stay, and so do their paths: the next File > Open pairs the
            // new layer with the one on screen, not with the one that failed.
            self.restore_loaded_request();
        }
        match result {
            Ok(loaded) => {
                self.loaded_request = Some(self.request.clone());
                let summary = loaded.analysis.summary(self.settings.target);
                let to_lonlat = loaded
                    .analysis
                    .crs
                    .as_ref()
                    .and_then(|c| Transformer::new(c, &Crs::wgs84()).ok());
                let pair = (
                    loaded.analysis.risk.path.clone(),
                    loaded.analysis.parcels.path.clone(),
                );
                self.settings.recent.retain(|p| *p != pair);
                self.settings.recent.insert(0, pair);
                self.settings.recent.truncate(RECENT);
                // The parcels' R-tree (for picking and for drawing close up) is built once the
                // map is on screen; until then both scan the boxes.
                let scene = loaded.scene.clone();
                let _ = std::thread::Builder::new()
                    .name("map-index".into())
                    .spawn(move || {
                        scene.build_index();
                    });
                self.session = Some(Session {
                    scene: loaded.scene,
                    analysis: loaded.analysis,
                    summary,
                    to_lonlat,
                    overlaps: task::OverlapCheck::new(),
                });
                self.selection = None;
                self.fit_pending = refit;
                if self.frame_log {
                    let phases: Vec<String> = self
                        .session
                        .iter()
                        .flat_map(|s| &s.analysis.timings.phases)
                        .map(|(p, d)| format!("{} {:.2} s", p.name(), d.as_secs_f64()))
                        .collect();
                    eprintln!(
                        "frame-log: ready {:.3} s after start ({})",
                        self.created.elapsed().as_secs_f64(),
                        phases.join(", ")
                    );
                }
            }
            // The previous layers stay loaded.
            Err(task::LoadError::Failed(e)) if e == "cancelled" => {
                self.notice = Some("loading cancelled".into());
            }
            Err(task::LoadError::Failed(e)) => self.error = Some(e),
            Err(task::LoadError::ChooseMember {
                req,
                risk_side,
                archive,
                members,
            }) => {
                self.choose_member = Some(MemberChoice {
                    req: *req,
                    risk_side,
                    archive,
                    members,
                })
            }
            Err(task::LoadError::NeedsMapping {
                req,
                risk,
                parcels,
                reason,
            }) => {
                self.mapping = Some(mapping::MappingDialog {
                    req: *req,
                    risk: *risk,
                    parcels: *parcels,
                    reason,
                })
            }
        }
    }

    /// Starts the overlap check once the analysed map is on screen; adds its warning to the
    /// summary when it is done.
    fn poll_overlap_check(&mut self, ctx: &egui::Context) {
        let Some(s) = &mut self.session else { return };
        let shown = self.renderer.up_to_date()
            && self.renderer.shown().is_some_and(|p| p.2 == s.scene.id());
        if let Some(lines) = s.overlaps.poll(ctx, &s.analysis, shown) {
            s.summary.warnings.extend(lines);
            if self.frame_log {
                eprintln!(
                    "frame-log: overlap check done {:.3} s after start",
                    self.created.elapsed().as_secs_f64()
                );
            }
        }
    }

    fn apply(&mut self, ctx: &egui::Context) {
        for c in std::mem::take(&mut self.commands) {
            match c {
                Command::Select(p) => {
                    self.selection = p;
                    if p.is_some() {
                        self.settings.right_tab = RightTab::Inspector;
                    }
                }
                Command::ZoomTo(p) => self.zoom_to(p),
                Command::ZoomFull => self.fit_pending = true,
                Command::SetTarget(t) => {
                    self.settings.target = t;
                    if let Some(s) = &mut self.session {
                        // The warnings stay: the overlap check's is not in the analysis.
                        let warnings = std::mem::take(&mut s.summary.warnings);
                        s.summary = s.analysis.summary(t);
                        s.summary.warnings = warnings;
                    }
                }
                Command::CancelTask => {
                    if let Some(t) = &self.task {
                        t.cancel();
                    }
                }
                Command::Ask(purpose) => {
                    if self.dialog.is_none() {
                        match PendingDialog::ask(
                            ctx,
                            self.dialogs.clone(),
                            purpose,
                            self.settings.last_folder.clone(),
                        ) {
                            Ok(d) => self.dialog = Some(d),
                            Err(e) => self.error = Some(e),
                        }
                    }
                }
                Command::Open(r, p) => self.open(ctx, r, p),
                Command::SetEncoding(risk_side, encoding) => {
                    let mut req = self.request.clone();
                    if risk_side {
                        req.risk_read.encoding = encoding;
                    } else {
                        req.parcel_read.encoding = encoding;
                    }
                    self.load(ctx, req);
                }
                Command::OpenMember(member) => {
                    if let Some(c) = self.choose_member.take() {
                        let mut req = c.req;
                        let path = c.archive.join(member);
                        if c.risk_side {
                            req.risk = path;
                        } else {
                            req.parcels = path;
                        }
                        self.load(ctx, req);
                    }
                }
                Command::UseDropped(as_risk) => {
                    if let Some(p) = self.dropped.take() {
                        let (r, q) = if as_risk {
                            (p, self.parcels_path.clone())
                        } else {
                            (self.risk_path.clone(), p)
                        };
                        self.open(ctx, r, q);
                    }
                }
            }
        }
    }

    /// Acts on a closed dialog, a finished export, a screenshot or a dropped file.
    fn poll_files(&mut self, ctx: &egui::Context) {
        if let Some(d) = &self.dialog
            && let Some(choice) = d.poll()
        {
            let purpose = d.purpose;
            self.dialog = None;
            if let Some(path) = choice {
                self.settings.last_folder = path.parent().map(PathBuf::from);
                match purpose {
                    Purpose::OpenRisk => self.open(ctx, path, self.parcels_path.clone()),
                    Purpose::OpenParcels => self.open(ctx, self.risk_path.clone(), path),
                    Purpose::Export(ExportKind::MapPng) => {
                        self.png_target = Some(path);
                        let slot = self.screenshot.clone();
                        let ctx2 = ctx.clone();
                        ctx.request_screenshot(move |img| {
                            if let Ok(mut s) = slot.lock() {
                                *s = Some(img);
                            }
                            ctx2.request_repaint();
                        });
                    }
                    Purpose::Export(kind) => self.start_export(ctx, kind, path),
                }
            }
        }
        // The picture arrives a frame or more after it was asked for.
        let shot = self.screenshot.lock().ok().and_then(|mut s| s.take());
        if let Some(img) = shot
            && let Some(path) = self.png_target.take()
        {
            let map = img.region(&self.map_rect, Some(ctx.pixels_per_point()));
            self.start_job(
                ctx,
                ExportKind::MapPng,
                path,
                ExportSource::Image(Arc::new(map)),
            );
        }
        if let Some(job) = &mut self.export
            && let Some(r) = job.poll()
        {
            match r {
                Ok(()) => self.notice = Some(format!("wrote {}", job.path.display())),
                Err(ExportFailure::Cancelled) => {
                    self.notice = Some(format!(
                        "export cancelled; {} left as it was",
                        job.path.display()
                    ))
                }
                Err(ExportFailure::Failed(e)) => self.error = Some(e),
            }
            self.export = None;
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.dropped = Some(p);
        }
    }

    fn start_export(&mut self, ctx: &egui::Context, kind: ExportKind, path: PathBuf) {
        let Some(s) = &self.session else { return };
        let source = ExportSource::Analysis(s.analysis.clone(), Box::new(s.summary.clone()));
        self.start_job(ctx, kind, path, source);
    }

    fn start_job(
        &mut self,
        ctx: &egui::Context,
        kind: ExportKind,
        path: PathBuf,
        source: ExportSource,
    ) {
        let inputs = vec![self.risk_path.clone(), self.parcels_path.clone()];
        match ExportJob::start(ctx, kind, path, source, inputs) {
            Ok(j) => self.export = Some(j),
            Err(e) => self.error = Some(e),
        }
    }

    /// Centres the map on a parcel or risk area, close enough to see it whole.
    pub fn zoom_to(&mut self, p: Pick) {
        let Some(s) = &self.session else { return };
        let a = &s.analysis;
        let g = match p {
            Pick::Parcel(i) => &a.parcels.features[a.parcel_info[i].feature].geometry,
            Pick::Risk(i) => &a.risk.features[a.risk_areas[i].feature].geometry,
        };
        if let Some(b) = g.bounding_rect() {
            let grown = geo::Rect::new(
                (b.min().x - b.width() * 2.0, b.min().y - b.height() * 2.0),
                (b.max().x + b.width() * 2.0, b.max().y + b.height() * 2.0),
            );
            if self.map_rect.is_positive() {
                self.camera = Camera::fit(&grown, self.map_rect);
            }
        }
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open risk layer…").clicked() {
                    self.commands.push(Command::Ask(Purpose::OpenRisk));
                }
                if ui.button("Open parcel layer…").clicked() {
                    self.commands.push(Command::Ask(Purpose::OpenParcels));
                }
                ui.menu_button("Recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.label("(none yet)");
                    }
                    for (r, p) in &self.settings.recent {
                        let name = |x: &std::path::Path| {
                            x.file_name()
                                .map_or_else(String::new, |n| n.to_string_lossy().to_string())
                        };
                        if ui
                            .button(format!("{} + {}", name(r), name(p)))
                            .on_hover_text(format!("{}\n{}", r.display(), p.display()))
                            .clicked()
                        {
                            self.commands.push(Command::Open(r.clone(), p.clone()));
                        }
                    }
                });
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Export", |ui| {
                let checking = self.session.as_ref().is_some_and(|s| !s.overlaps.done());
                let ready = self.session.is_some() && self.export.is_none() && !checking;
                for k in ExportKind::all() {
                    if ui
                        .add_enabled(ready, egui::Button::new(k.menu_label()))
                        .on_disabled_hover_text(if checking {
                            "checking the parcels for overlaps; the summary waits for it"
                        } else {
                            "open layers first, or wait for the export under way"
                        })
                        .clicked()
                    {
                        self.commands.push(Command::Ask(Purpose::Export(k)));
                    }
                }
            });
            ui.menu_button("View", |ui| {
                if ui.button("Zoom to full extent").clicked() {
                    self.commands.push(Command::ZoomFull);
                }
                ui.checkbox(&mut self.settings.show_table, "Attribute table");
                if ui
                    .add_enabled(
                        self.selection.is_some(),
                        egui::Button::new("Zoom to selection"),
                    )
                    .clicked()
                    && let Some(p) = self.selection
                {
                    self.commands.push(Command::ZoomTo(p));
                }
            });
            if let Some(t) = &self.task {
                let p = t.progress();
                ui.separator();
                ui.label(&t.title);
                ui.add(
                    egui::ProgressBar::new(p.fraction)
                        .desired_width(200.0)
                        .text(format!("{} {:.0}%", p.phase, p.fraction * 100.0)),
                );
                if ui.button("Cancel").clicked() {
                    self.commands.push(Command::CancelTask);
                }
            }
        });
    }

    fn layer_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Layers");
        let l = &mut self.settings.layers;
        ui.checkbox(&mut l.show_parcels, "Parcels 耕地图斑");
        ui.add(egui::Slider::new(&mut l.parcel_opacity, 0.0..=1.0).text("opacity"));
        for s in style::ParcelStatus::ALL {
            ui.horizontal(|ui| {
                style::swatch(ui, s.fill());
                ui.label(s.label());
            });
        }
        ui.separator();
        ui.checkbox(&mut l.show_risk, "Risk areas 风险区");
        ui.add(egui::Slider::new(&mut l.risk_opacity, 0.0..=1.0).text("opacity"));
        for c in soilrisk::vocab::RiskClass::ALL {
            ui.horizontal(|ui| {
                style::swatch(ui, style::risk_fill(c));
                ui.label(format!("class {} {}", c.roman(), c.chinese()));
            });
        }
        if let Some(s) = &self.session {
            ui.separator();
            let a = &s.analysis;
            let name = |p: &std::path::Path| {
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().to_string(),
                )
            };
            for (risk_side, layer, count, what, id) in [
                (
                    false,
                    &a.parcels,
                    a.parcel_info.len(),
                    "parcel",
                    "parcel-encoding",
                ),
                (true, &a.risk, a.risk_areas.len(), "risk", "risk-encoding"),
            ] {
                ui.small(format!(
                    "{}: {count} {}",
                    name(&layer.path),
                    if risk_side { "risk areas" } else { "parcels" }
                ))
                .on_hover_text(layer.path.display().to_string());
                let chosen = if risk_side {
                    &self.request.risk_read.encoding
                } else {
                    &self.request.parcel_read.encoding
                };
                if let Some(e) = encoding_menu(
                    ui,
                    id,
                    &format!("{what} text encoding"),
                    layer.encoding.as_deref(),
                    chosen.as_deref(),
                ) {
                    self.commands.push(Command::SetEncoding(risk_side, e));
                }
            }
            let warnings = &s.summary.warnings;
            if !warnings.is_empty() {
                ui.collapsing(format!("{} warning(s)", warnings.len()), |ui| {
                    for w in warnings.iter().take(200) {
                        ui.small(w);
                    }
                });
            }
            if !s.overlaps.done() {
                ui.small("checking the parcels for overlaps…");
            }
        }
    }

    fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let (Some(s), Some(w)) = (&self.session, self.hover_world) {
                let crs = s
                    .analysis
                    .crs
                    .as_ref()
                    .map_or("unknown CRS".into(), |c| c.label());
                ui.label(format!("{:.1}, {:.1}  ({crs})", w[0], w[1]));
                if let Some(t) = &s.to_lonlat {
                    let (mut x, mut y) = (w[0], w[1]);
                    if t.transform(&mut x, &mut y).is_ok() {
                        ui.separator();
                        ui.label(format!("{x:.6}°E, {y:.6}°N"));
                    }
                }
            }
            ui.separator();
            ui.label(format!("1 px = {:.2} m", self.camera.scale));
            if let Some(j) = &self.export {
                ui.separator();
                ui.label(format!("writing {}", j.path.display()));
                ui.add(
                    egui::ProgressBar::new(j.progress())
                        .desired_width(160.0)
                        .show_percentage(),
                );
                if ui.button("Cancel export").clicked() {
                    j.cancel();
                }
            } else if let Some(n) = &self.notice {
                ui.separator();
                ui.label(n);
            }
        });
    }
}

/// A text-encoding dropdown for a layer: "Automatic" (the `.cpg`, else detection) or one of
/// `ENCODING_CHOICES`. `read_as` is what the reader used. Returns the new choice when the user
/// changes it.
pub fn encoding_menu(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    read_as: Option<&str>,
    chosen: Option<&str>,
) -> Option<Option<String>> {
    use soilrisk::io::encoding::ENCODING_CHOICES;
    let mut changed = None;
    ui.horizontal(|ui| {
        let l = ui.small(label);
        egui::ComboBox::from_id_salt(id)
            .selected_text(chosen.map_or_else(
                || {
                    // "GBK (from .cpg)" -> "auto: GBK"; the source is in the tooltip.
                    let name = read_as.and_then(|r| r.split(" (").next()).unwrap_or("-");
                    format!("auto: {name}")
                },
                str::to_string,
            ))
            .show_ui(ui, |ui| {
                if ui.selectable_label(chosen.is_none(), "Automatic").clicked() && chosen.is_some()
                {
                    changed = Some(None);
                }
                for e in ENCODING_CHOICES {
                    if ui.selectable_label(chosen == Some(*e), *e).clicked() && chosen != Some(*e) {
                        changed = Some(Some((*e).to_string()));
                    }
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text(format!(
                "read as {}; choose another to read the layer again",
                read_as.unwrap_or("- (no attributes)")
            ));
    });
    changed
}

/// Runs `f`; under `SOILRISK_FRAME_LOG` (`log`), prints how long `what` took.
fn logged<R>(log: bool, what: &str, f: impl FnOnce() -> R) -> R {
    let t = std::time::Instant::now();
    let r = f();
    if log {
        eprintln!(
            "frame-log: {what} {:.2} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    r
}

impl eframe::App for SoilriskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_task();
        self.poll_overlap_check(ctx);
        self.poll_files(ctx);
        if ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
            self.commands.push(Command::Select(None));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let pass_started = std::time::Instant::now();
        egui::Panel::top("menu").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("layers")
            .resizable(true)
            .default_size(210.0)
            .show(ui, |ui| self.layer_panel(ui));
        egui::Panel::right("details")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.settings.right_tab, RightTab::Summary, "Summary");
                    ui.selectable_value(
                        &mut self.settings.right_tab,
                        RightTab::Inspector,
                        "Inspector",
                    );
                });
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    match (&self.session, self.settings.right_tab) {
                        (None, _) => {
                            ui.label(if self.task.is_some() {
                                "Loading…"
                            } else {
                                "No layers loaded."
                            });
                        }
                        (Some(s), RightTab::Summary) => summary::show(
                            ui,
                            &s.summary,
                            &mut self.target_pct,
                            &mut self.region_sort,
                            &mut self.commands,
                        ),
                        (Some(s), RightTab::Inspector) => {
                            logged(self.frame_log, "inspector", || {
                                inspector::show(
                                    ui,
                                    &s.analysis,
                                    &s.scene,
                                    self.selection,
                                    &mut self.commands,
                                )
                            })
                        }
                    }
                });
            });
        if self.settings.show_table
            && let Some(s) = &self.session
        {
            egui::Panel::bottom("table")
                .resizable(true)
                .default_size(260.0)
                .show(ui, |ui| {
                    logged(self.frame_log, "table", || {
                        table::show(
                            ui,
                            &s.analysis,
                            &s.scene,
                            &mut self.table,
                            self.selection,
                            &mut self.commands,
                        )
                    })
                });
        }
        // No frame: the map covers the whole of the central panel with its picture or its
        // background, so a panel fill under it would be painted for nothing every frame.
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| {
            self.map_rect = ui.available_rect_before_wrap();
            let t = std::time::Instant::now();
            // The thread's own CPU time, without what it waited for a core (two cores, and
            // the map-render thread and Mesa's rasteriser on them too).
            let cpu = self
                .bench
                .as_ref()
                .and_then(|_| cpu_time::ThreadTime::try_now().ok());
            let pictures = self.renderer.pictures;
            let fitting = self.fit_pending;
            let scene = match &self.session {
                Some(s) => Some(&s.scene),
                None => self.preview.as_ref(),
            };
            let events = map::show(
                ui,
                &mut self.camera,
                &mut self.fit_pending,
                scene,
                &mut self.renderer,
                self.settings.layers,
                self.selection,
            );
            self.map_ms = t.elapsed().as_secs_f32() * 1000.0;
            self.map_cpu_ms = cpu
                .and_then(|c| c.try_elapsed().ok())
                .map_or(f32::NAN, |d| d.as_secs_f32() * 1000.0);
            if fitting && !self.fit_pending && self.session.is_none() {
                self.preview_fit = Some(self.camera);
            }
            if self.frame_log {
                eprintln!(
                    "frame-log: frame {} at {:.3} s: map {:.2} ms at {:.2} m/px (asked for by {})",
                    ui.ctx().cumulative_frame_nr(),
                    self.created.elapsed().as_secs_f64(),
                    self.map_ms,
                    self.camera.scale,
                    repaint_causes(ui.ctx())
                );
                if self.renderer.pictures != pictures {
                    eprintln!(
                        "frame-log: picture {} on screen {:.3} s after start, drawn in {:.1} ms",
                        self.renderer.pictures,
                        self.created.elapsed().as_secs_f64(),
                        self.renderer.last_millis
                    );
                }
            }
            self.hover_world = events.hover_world;
            if let Some(p) = events.clicked {
                self.commands.push(Command::Select(p));
            }
        });
        if let Some(e) = self.error.clone() {
            egui::Window::new(RichText::new("Error").strong())
                .collapsible(false)
                .show(ui.ctx(), |ui| {
                    ui.label(e);
                    if ui.button("Dismiss").clicked() {
                        self.error = None;
                    }
                });
        }
        if let Some(p) = self.dropped.clone() {
            egui::Modal::new(egui::Id::unique("dropped")).show(ui.ctx(), |ui| {
                ui.label(format!("Open {} as:", p.display()));
                ui.horizontal(|ui| {
                    if ui.button("Risk areas").clicked() {
                        self.commands.push(Command::UseDropped(true));
                    }
                    if ui.button("Parcels").clicked() {
                        self.commands.push(Command::UseDropped(false));
                    }
                    if ui.button("Cancel").clicked() {
                        self.dropped = None;
                    }
                });
            });
        }
        let mut cancel_member = false;
        if let Some(c) = &self.choose_member {
            egui::Modal::new(egui::Id::unique("choose-member")).show(ui.ctx(), |ui| {
                ui.label(format!(
                    "{} holds {} layers. Open which as the {} layer?",
                    c.archive.display(),
                    c.members.len(),
                    if c.risk_side { "risk" } else { "parcel" }
                ));
                for m in &c.members {
                    if ui.button(m).clicked() {
                        self.commands.push(Command::OpenMember(m.clone()));
                    }
                }
                if ui.button("Cancel").clicked() {
                    cancel_member = true;
                }
            });
        }
        if cancel_member {
            self.choose_member = None;
        }
        let ctx = ui.ctx().clone();
        if let Some(m) = &mut self.mapping {
            match m.show(&ctx) {
                mapping::MappingAction::None => {}
                mapping::MappingAction::Cancel => self.mapping = None,
                mapping::MappingAction::Reread => {
                    if let Some(m) = self.mapping.take() {
                        self.load(&ctx, m.req);
                    }
                }
                mapping::MappingAction::Analyse => {
                    if let Some(m) = self.mapping.take() {
                        self.risk_path = m.req.risk.clone();
                        self.parcels_path = m.req.parcels.clone();
                        self.request = m.req.clone();
                        match Task::analyse(&ctx, m.req, m.risk, m.parcels) {
                            Ok(t) => self.task = Some(t),
                            Err(e) => self.error = Some(e),
                        }
                    }
                }
            }
        }
        self.apply(&ctx);
        if let Some(b) = &mut self.bench {
            b.pass_ms = pass_started.elapsed().as_secs_f64() * 1000.0;
            bench::WindowBench::step(self, &ctx, frame);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}

/// Where the requests for the frame after this one came from (`file:line`, each once, the
/// path cut to its last three parts), for the frame log: each frame drawn in software costs
/// CPU that a load needs.
fn repaint_causes(ctx: &egui::Context) -> String {
    let mut causes: Vec<String> = Vec::new();
    for c in ctx.repaint_causes() {
        let parts: Vec<&str> = c.file.rsplit('/').take(3).collect();
        let place = format!(
            "{}:{}",
            parts.into_iter().rev().collect::<Vec<_>>().join("/"),
            c.line
        );
        if !causes.contains(&place) {
            causes.push(place);
        }
    }
    causes.join(", ")
}

/// Asks for one frame as soon as possible, from any thread. `request_repaint` asks for two
/// (egui lets layout settle over a second one); where the window is drawn in software (Mesa,
/// no GPU), a frame of a 1500 x 950 window costs about 0.2 s of CPU, and while a million
/// parcels loaded, such frames took close to half of the two cores.
pub(crate) fn repaint_once(ctx: &egui::Context) {
    ctx.request_repaint_after(std::time::Duration::from_millis(1));
}

/// Opens the window on two layers; blocks until it is closed.
pub fn run(risk: PathBuf, parcels: PathBuf) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("soilrisk")
            .with_app_id("soilrisk")
            .with_inner_size([1500.0, 950.0])
            .with_min_inner_size([800.0, 500.0]),
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        "soilrisk",
        options,
        Box::new(move |cc| Ok(Box::new(SoilriskApp::new(cc, risk, parcels)))),
    )
    .map_err(|e| format!("cannot open the window: {e}"))
}

#[cfg(test)]
mod tests;
