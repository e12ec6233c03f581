//! Where the window's state changes: the frame's `Command`s, applied once everything is
//! drawn, and the results of background jobs (a load, the overlap check, a file dialog, an
//! export), taken at the start of a frame. Panels only read the state and push commands.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui;
use soilrisk::geom::boxes::bounds;
use soilrisk::io::formats;
use soilrisk::pipeline::Request;

use super::clock::Clock;
use super::command::Command;
use super::dialogs::mapping::MappingDialog;
use super::dialogs::member::MemberChoice;
use super::files::{ExportFailure, ExportJob, ExportKind, ExportSource, PendingDialog, Purpose};
use super::job::Job;
use super::load::{LoadError, Loading};
use super::map::{Camera, Pick};
use super::state::{Analysed, RightTab, Session, Settings, View};

/// The window's state, borrowed for one frame to change it.
pub struct Update<'a> {
    pub settings: &'a mut Settings,
    pub session: &'a mut Session,
    pub view: &'a mut View,
    pub clock: &'a Clock,
    pub ctx: &'a egui::Context,
}

impl Update<'_> {
    /// Carries out the frame's commands, in order.
    pub fn apply(&mut self, commands: Vec<Command>) {
        for c in commands {
            match c {
                Command::Select(p) => {
                    self.view.selection = p;
                    if p.is_some() {
                        self.settings.right_tab = RightTab::Inspector;
                    }
                }
                Command::ZoomTo(p) => zoom_to(self.session, self.view, p),
                Command::ZoomFull => self.view.fit_pending = true,
                Command::SetTarget(t) => {
                    self.settings.target = t;
                    for a in &mut self.session.analyses {
                        a.set_target(t);
                    }
                }
                Command::CancelLoad => {
                    if let Some(t) = &self.session.loading {
                        t.cancel();
                    }
                }
                Command::CancelExport => {
                    if let Some(j) = &self.session.export {
                        j.cancel();
                    }
                }
                Command::Ask(purpose) => {
                    if self.session.dialog.is_none() {
                        match PendingDialog::ask(
                            self.ctx,
                            self.session.dialogs.clone(),
                            purpose,
                            self.settings.last_folder.clone(),
                        ) {
                            Ok(d) => self.session.dialog = Some(d),
                            Err(e) => self.session.error = Some(e),
                        }
                    }
                }
                Command::Open(r, p) => self.open(r, p),
                Command::SetEncoding(risk_side, encoding) => {
                    let mut req = self.session.request.clone();
                    if risk_side {
                        req.risk_read.encoding = encoding;
                    } else {
                        req.parcel_read.encoding = encoding;
                    }
                    self.load(req);
                }
                Command::OpenMember(member) => {
                    if let Some(c) = self.session.choose_member.take() {
                        let mut req = c.req;
                        let path = c.archive.join(member);
                        if c.risk_side {
                            req.risk = path;
                        } else {
                            req.parcels = path;
                        }
                        self.load(req);
                    }
                }
                Command::UseDropped(as_risk) => {
                    if let Some(p) = self.session.dropped.take() {
                        let (r, q) = if as_risk {
                            (p, self.session.parcels_path().clone())
                        } else {
                            (self.session.risk_path().clone(), p)
                        };
                        self.open(r, q);
                    }
                }
                Command::RereadMapped => {
                    if let Some(m) = self.session.mapping.take() {
                        self.load(m.req);
                    }
                }
                Command::AnalyseMapped => {
                    if let Some(m) = self.session.mapping.take() {
                        self.session.request = m.req.clone();
                        match Loading::analyse(self.ctx, m.req, m.risk, m.parcels) {
                            Ok(t) => self.session.loading = Some(t),
                            Err(e) => self.session.error = Some(e),
                        }
                    }
                }
            }
        }
    }

    /// Starts loading two layers; what is loaded now stays until the new ones are ready. A
    /// layer opened again keeps the text encoding chosen for it.
    pub fn open(&mut self, risk: PathBuf, parcels: PathBuf) {
        let mut req = Request::new(risk, parcels);
        let last = &self.session.request;
        if req.risk == last.risk {
            req.risk_read = last.risk_read.clone();
        }
        if req.parcels == last.parcels {
            req.parcel_read = last.parcel_read.clone();
        }
        self.load(req);
    }

    /// Starts a load as asked, field mapping and encodings included.
    pub fn load(&mut self, req: Request) {
        let s = &mut *self.session;
        if let Some(t) = &s.loading {
            t.cancel();
        }
        s.request = req.clone();
        // On the first open the layers are drawn as they are read (the previews of a load
        // given up go with it); later, the layers on screen stay until the new ones are
        // analysed.
        let first = s.current().is_none();
        if first {
            s.preview = None;
            self.view.preview_fit = None;
            self.view.fit_pending = true;
        }
        match Loading::load(self.ctx, req, first) {
            Ok(t) => s.loading = Some(t),
            Err(e) => s.error = Some(e),
        }
    }

    /// Takes the newest preview of the load under way, and its result once it is over.
    pub fn poll_loading(&mut self) {
        let s = &mut *self.session;
        let Some(loading) = &mut s.loading else {
            return;
        };
        if let Some(p) = loading.take_preview() {
            s.preview = Some(p);
        }
        let Some(result) = loading.poll() else { return };
        s.loading = None;
        s.preview = None;
        // Fitted to a preview and not moved since: fit again to the whole layers.
        let refit = self
            .view
            .preview_fit
            .take()
            .is_none_or(|c| c == self.view.camera);
        if result.is_err() {
            // The layers shown stay, and so do their paths: the next File > Open pairs the
            // new layer with the one on screen, not with the one that failed.
            if let Some(r) = &s.loaded_request {
                s.request = r.clone();
            }
        }
        match result {
            Ok(loaded) => {
                s.loaded_request = Some(s.request.clone());
                self.settings.remember((
                    loaded.analysis.risk.path.clone(),
                    loaded.analysis.parcels.path.clone(),
                ));
                // The parcels' R-tree (for picking and for drawing close up) is built once the
                // map is on screen; until then both scan the boxes. Nothing waits for it.
                let scene = loaded.scene.clone();
                let _ = Job::spawn(self.ctx, "map-index", "indexing the parcels", move |_| {
                    scene.build_index();
                });
                let analysed = Analysed::new(loaded, self.settings.target);
                self.clock.log(|| {
                    let phases: Vec<String> = analysed
                        .analysis
                        .timings
                        .phases
                        .iter()
                        .map(|(p, d)| format!("{} {:.2} s", p.name(), d.as_secs_f64()))
                        .collect();
                    format!(
                        "ready {:.3} s after start ({})",
                        self.clock.since_start(),
                        phases.join(", ")
                    )
                });
                // One analysis today: the new one replaces what was on screen.
                s.analyses = vec![analysed];
                self.view.selection = None;
                self.view.fit_pending = refit;
            }
            // The previous layers stay loaded.
            Err(LoadError::Failed(e)) if e == "cancelled" => {
                s.notice = Some("loading cancelled".into());
            }
            Err(LoadError::Failed(e)) => s.error = Some(e),
            Err(LoadError::ChooseMember {
                req,
                risk_side,
                archive,
                members,
            }) => {
                s.choose_member = Some(MemberChoice {
                    req: *req,
                    risk_side,
                    archive,
                    members,
                })
            }
            Err(LoadError::NeedsMapping {
                req,
                risk,
                parcels,
                reason,
            }) => {
                s.mapping = Some(MappingDialog {
                    req: *req,
                    risk: *risk,
                    parcels: *parcels,
                    reason,
                })
            }
        }
    }

    /// Starts each analysis's overlap check once its map is on screen (`shown`: the scene of
    /// the picture on screen, if it is the one asked for last); adds the warning to its
    /// summary when the check is done.
    pub fn poll_overlaps(&mut self, shown: Option<u64>) {
        for a in &mut self.session.analyses {
            let on_screen = shown == Some(a.scene.id());
            if let Some(lines) = a.overlaps.poll(self.ctx, &a.analysis, on_screen) {
                a.summary.warnings.extend(lines);
                self.clock.log(|| {
                    format!(
                        "overlap check done {:.3} s after start",
                        self.clock.since_start()
                    )
                });
            }
        }
    }

    /// Acts on a closed dialog, a finished export, a screenshot or a dropped file.
    pub fn poll_files(&mut self) {
        let ctx = self.ctx;
        if let Some(d) = &mut self.session.dialog
            && let Some(choice) = d.poll()
        {
            let purpose = d.purpose;
            self.session.dialog = None;
            if let Some(path) = choice {
                self.settings.last_folder = path.parent().map(PathBuf::from);
                match purpose {
                    Purpose::OpenRisk => self.open(path, self.session.parcels_path().clone()),
                    Purpose::OpenParcels => self.open(self.session.risk_path().clone(), path),
                    Purpose::Export(ExportKind::MapPng) => {
                        self.session.png_target = Some(path);
                        let slot = self.session.screenshot.clone();
                        let ctx2 = ctx.clone();
                        ctx.request_screenshot(move |img| {
                            if let Ok(mut s) = slot.lock() {
                                *s = Some(img);
                            }
                            ctx2.request_repaint();
                        });
                    }
                    Purpose::Export(kind) => self.start_export(kind, path),
                }
            }
        }
        // The picture arrives a frame or more after it was asked for.
        let shot = self
            .session
            .screenshot
            .lock()
            .ok()
            .and_then(|mut s| s.take());
        if let Some(img) = shot
            && let Some(path) = self.session.png_target.take()
        {
            let map = img.region(&self.view.map_rect, Some(ctx.pixels_per_point()));
            self.start_job(ExportKind::MapPng, path, ExportSource::Image(Arc::new(map)));
        }
        let s = &mut *self.session;
        if let Some(job) = &mut s.export
            && let Some(r) = job.poll()
        {
            match r {
                Ok(()) => s.notice = Some(format!("wrote {}", job.path.display())),
                Err(ExportFailure::Cancelled) => {
                    s.notice = Some(format!(
                        "export cancelled; {} left as it was",
                        job.path.display()
                    ))
                }
                Err(ExportFailure::Failed(e)) => s.error = Some(e),
            }
            s.export = None;
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
            // Only what a format of the registry opens asks "risk or parcels?".
            match formats::resolve(&p) {
                Ok(_) => s.dropped = Some(p),
                Err(e) => s.error = Some(e.to_string()),
            }
        }
    }

    fn start_export(&mut self, kind: ExportKind, path: PathBuf) {
        let Some(a) = self.session.current() else {
            return;
        };
        let source = ExportSource::Analysis(a.analysis.clone(), Box::new(a.summary.clone()));
        self.start_job(kind, path, source);
    }

    fn start_job(&mut self, kind: ExportKind, path: PathBuf, source: ExportSource) {
        let s = &mut *self.session;
        // The layers shown (what the export is of) and those being loaded.
        let mut inputs = vec![s.risk_path().clone(), s.parcels_path().clone()];
        if let Some(a) = s.current() {
            inputs.extend([
                a.analysis.risk.path.clone(),
                a.analysis.parcels.path.clone(),
            ]);
        }
        match ExportJob::start(self.ctx, kind, path, source, inputs) {
            Ok(j) => s.export = Some(j),
            Err(e) => s.error = Some(e),
        }
    }
}

/// Centres the map on a parcel or risk area, close enough to see it whole.
pub fn zoom_to(session: &Session, view: &mut View, p: Pick) {
    let Some(s) = session.current() else { return };
    let a = &s.analysis;
    let g = match p {
        Pick::Parcel(i) => &a.parcels.features[a.parcel_info[i].feature].geometry,
        Pick::Risk(i) => &a.risk.features[a.risk_areas[i].feature].geometry,
    };
    if let Some(b) = bounds(g) {
        let grown = geo::Rect::new(
            (b.min().x - b.width() * 2.0, b.min().y - b.height() * 2.0),
            (b.max().x + b.width() * 2.0, b.max().y + b.height() * 2.0),
        );
        if view.map_rect.is_positive() {
            view.camera = Camera::fit(&grown, view.map_rect);
        }
    }
}
