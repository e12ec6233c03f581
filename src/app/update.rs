//! Where the window's state changes: the frame's `Command`s, applied once everything is
//! drawn, and the results of background jobs (a load, the overlap check, a file dialog, an
//! export), taken at the start of a frame. Panels only read the state and push commands.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui;
use soilrisk::geom::boxes::bounds;
use soilrisk::io::formats;
use soilrisk::ledger::{MeasureEdit, is_ledger_path};
use soilrisk::pipeline::{Request, Role};

use super::clock::Clock;
use super::command::Command;
use super::compare::{CompareInput, CompareJob};
use super::dialogs::compare::CompareDialog;
use super::dialogs::mapping::MappingDialog;
use super::dialogs::member::MemberChoice;
use super::dialogs::postgis::PostgisDialog;
use super::dialogs::regions::RegionsDialog;
use super::dialogs::report::ReportDialog;
use super::edits::{SaveJob, SaveTarget, Treatment, compliance_text};
use super::files::{
    ExportFailure, ExportJob, ExportKind, ExportSource, PendingDialog, Purpose, ReportCompare,
};
use super::job::Job;
use super::load::{LoadError, Loading};
use super::map::{Camera, Pick};
use super::postgis::TableListing;
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
                Command::AskPostgis => {
                    if self.session.postgis_dialog.is_none() {
                        self.session.postgis_dialog =
                            Some(PostgisDialog::new(self.settings.servers.first()));
                    }
                }
                Command::ListTables(server) => {
                    if let Some(d) = &mut self.session.postgis_dialog {
                        d.error = None;
                        match TableListing::start(self.ctx, server) {
                            Ok(l) => d.listing = Some(l),
                            Err(e) => d.error = Some(e),
                        }
                    }
                }
                Command::OpenAs(path, as_risk) => self.open_as(path, as_risk),
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
                Command::Edit(k, t) => {
                    if let Some(a) = self.session.analyses.first_mut() {
                        a.edit(k, t);
                    }
                }
                Command::Undo => {
                    if let Some(a) = self.session.analyses.first_mut() {
                        a.undo();
                    }
                }
                Command::Redo => {
                    if let Some(a) = self.session.analyses.first_mut() {
                        a.redo();
                    }
                }
                Command::SaveMeasures { as_new, then_close } => {
                    self.save_measures(as_new, then_close)
                }
                Command::DiscardAndClose => {
                    self.session.confirm_close = false;
                    self.session.allow_close = true;
                    self.ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                Command::SetAreaBasis(basis) => {
                    let mut req = self.analysed_request();
                    req.area = basis;
                    self.load(req);
                }
                Command::SetRegions(layer) => {
                    self.session.regions = None;
                    let mut req = self.analysed_request();
                    req.regions = Some(layer);
                    self.load(req);
                }
                Command::AskCompare => {
                    if let Some(a) = self.session.current() {
                        self.session.compare_dialog =
                            Some(CompareDialog::new(a.analysis.parcels.path.clone()));
                    }
                }
                Command::Compare(input) => self.compare(input),
                Command::CancelCompare => {
                    if let Some(j) = &self.session.comparing {
                        j.cancel();
                    }
                }
                Command::ShowChanges(on) => {
                    if self.view.change_map != on {
                        // A selection names a parcel of the map it was made on.
                        self.view.selection = None;
                    }
                    self.view.change_map = on;
                }
                Command::AskReport => {
                    if self.session.current().is_some() {
                        self.session.report_dialog = Some(ReportDialog::new());
                    }
                }
                Command::SaveReport(options) => {
                    self.session.report_options = Some(*options);
                    self.apply(vec![Command::Ask(Purpose::Export(ExportKind::Report))]);
                    // An error (no file dialog here) is shown once the dialog is closed.
                    if self.session.error.is_some() {
                        self.session.report_dialog = None;
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

    /// The request behind the analysis on screen (else the last one asked for): what a
    /// change of area basis, ledgers or regions starts from.
    fn analysed_request(&self) -> Request {
        self.session
            .loaded_request
            .clone()
            .unwrap_or_else(|| self.session.request.clone())
    }

    /// Starts analysing the other year and comparing the loaded one with it; what is on
    /// screen stays as it is until the comparison is done.
    pub fn compare(&mut self, input: CompareInput) {
        self.session.compare_dialog = None;
        self.apply_pending();
        let req = input.request(&self.analysed_request());
        let s = &mut *self.session;
        let Some(a) = s.current() else { return };
        if !a.pending.is_empty() {
            s.error = Some(
                "the measures just edited are still being applied (the map is being drawn); \
                 compare again in a moment"
                    .into(),
            );
            return;
        }
        let loaded = a.analysis.clone();
        let edits_at = a.edits.net();
        if let Some(j) = &s.comparing {
            j.cancel();
        }
        match CompareJob::start(self.ctx, req, loaded, input, self.settings.target, edits_at) {
            Ok(j) => s.comparing = Some(j),
            Err(e) => s.error = Some(e),
        }
    }

    /// Takes the outcome of a comparison: the Compare tab and the change map show it; on
    /// failure, what was on screen stays.
    pub fn poll_comparing(&mut self) {
        let s = &mut *self.session;
        let Some(j) = &mut s.comparing else { return };
        let Some(r) = j.poll() else { return };
        s.comparing = None;
        match r {
            Ok(c) => {
                s.compared = Some(c);
                self.view.change_map = true;
                self.view.selection = None;
                self.view.compare_region = None;
                self.settings.right_tab = RightTab::Compare;
            }
            Err(e) if e == "cancelled" => s.notice = Some("comparison cancelled".into()),
            Err(e) => s.error = Some(e),
        }
    }

    /// Adds a measure ledger to the analysis on screen and analyses again; if the ledger
    /// cannot be read, the message says why and the analysis stays.
    fn add_ledger(&mut self, path: PathBuf) {
        let mut req = self.analysed_request();
        if !req.ledgers.contains(&path) {
            req.ledgers.push(path);
        }
        self.load(req);
    }

    /// Saves the edited measures: into the one ledger loaded when it can be written
    /// (`.xlsx`, `.csv`) and `as_new` is false, else into a file asked for.
    fn save_measures(&mut self, as_new: bool, then_close: bool) {
        if self.session.saving.is_some() || self.session.current().is_none() {
            return;
        }
        let loaded = self.loaded_ledger();
        match loaded {
            Some((file, _)) if !as_new && is_writable_ledger(&file) => {
                self.start_save(file, then_close)
            }
            _ => self.apply(vec![Command::Ask(Purpose::SaveMeasures(then_close))]),
        }
    }

    /// The ledger loaded with the analysis, when there is exactly one: its file and source.
    fn loaded_ledger(&self) -> Option<(PathBuf, PathBuf)> {
        let a = self.session.current()?;
        match a.analysis.ledgers.as_slice() {
            [one] => Some((soilrisk::ledger::split_sheet(&one.path).0, one.path.clone())),
            _ => None,
        }
    }

    fn start_save(&mut self, path: PathBuf, then_close: bool) {
        let Some(a) = self.session.current() else {
            return;
        };
        let edits: Vec<MeasureEdit> = a
            .edits
            .net()
            .into_values()
            .map(|(id, t)| MeasureEdit {
                id: id.to_string(),
                measure: t.text.to_string(),
                compliance: a
                    .compliance
                    .then(|| compliance_text(t.complied).to_string()),
            })
            .collect();
        // Saving as a new file keeps the table of the ledger loaded, if one was.
        let base = self.loaded_ledger().map(|(_, l)| l);
        let base_file = base.as_ref().map(|l| soilrisk::ledger::split_sheet(l).0);
        // Never written: the layers, the boundary layer, and the ledgers other than the one
        // the edits go into (another county's ledger is not replaced by these edits).
        let mut inputs = vec![
            a.analysis.risk.path.clone(),
            a.analysis.parcels.path.clone(),
            self.session.risk_path().clone(),
            self.session.parcels_path().clone(),
        ];
        inputs.extend(a.analysis.boundaries.as_ref().map(|b| b.layer.path.clone()));
        inputs.extend(
            a.analysis
                .ledgers
                .iter()
                .map(|l| soilrisk::ledger::split_sheet(&l.path).0)
                .filter(|f| Some(f) != base_file.as_ref() || *f != path),
        );
        let columns = self.analysed_request().ledger_columns;
        let target = SaveTarget {
            path,
            base,
            columns,
        };
        match SaveJob::start(self.ctx, target, edits, inputs, then_close) {
            Ok(j) => self.session.saving = Some(j),
            Err(e) => self.session.error = Some(e),
        }
    }

    /// Takes the outcome of a save: the edits are saved, and the file becomes a ledger of
    /// the analysis (a later re-analysis reads it); on failure the edits stay, unsaved.
    pub fn poll_saving(&mut self) {
        let s = &mut *self.session;
        let Some(job) = &mut s.saving else { return };
        let Some(r) = job.poll() else { return };
        let (path, then_close, base) = (job.path.clone(), job.then_close, job.base.clone());
        s.saving = None;
        match r {
            Ok(()) => {
                s.notice = Some(format!("measures saved to {}", path.display()));
                for a in &mut s.analyses {
                    a.edits.mark_saved();
                }
                // A later re-analysis reads the file saved: in place of the ledger it was
                // made from (it holds that ledger's rows and the edits), else as edits that
                // win over the ledgers loaded.
                for req in std::iter::once(&mut s.request).chain(s.loaded_request.as_mut()) {
                    let file = |l: &PathBuf| soilrisk::ledger::split_sheet(l).0;
                    if req
                        .ledgers
                        .iter()
                        .chain(&req.measure_edits)
                        .any(|l| file(l) == path)
                    {
                        continue;
                    }
                    match base
                        .as_ref()
                        .and_then(|b| req.ledgers.iter().position(|l| l == b))
                    {
                        Some(i) => req.ledgers[i] = path.clone(),
                        None if req.ledgers.is_empty() => req.ledgers.push(path.clone()),
                        None => req.measure_edits.push(path.clone()),
                    }
                }
                if then_close {
                    s.allow_close = true;
                    self.ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            Err(e) => {
                s.error = Some(format!("{e}\nThe edits are kept; save them elsewhere."));
                s.confirm_close = false;
            }
        }
    }

    /// Gives the analyses the edits they could not take yet (a background job was reading
    /// them).
    pub fn apply_pending(&mut self) {
        let s = &mut *self.session;
        for a in &mut s.analyses {
            if a.pending.is_empty() {
                continue;
            }
            // The change map holds the loaded year's analysis too: lend it for the edit.
            let loaded = a.analysis.clone();
            let lent = s.compared.as_mut().is_none_or(|c| c.lend(&loaded));
            drop(loaded);
            if lent {
                a.apply_pending();
            }
            if let Some(c) = &mut s.compared {
                c.give_back(&a.analysis);
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

    /// Starts loading `path` as the risk layer (`as_risk`) or the parcel layer, paired with
    /// the other layer shown or being loaded: File > Open and File > Open from PostGIS….
    pub fn open_as(&mut self, path: PathBuf, as_risk: bool) {
        if as_risk {
            self.open(path, self.session.parcels_path().clone());
        } else {
            self.open(self.session.risk_path().clone(), path);
        }
    }

    /// Takes the tables listed in File > Open from PostGIS… once the listing is over; a
    /// server that answered is remembered for the next time. On failure the dialog says
    /// why, and what is loaded stays.
    pub fn poll_postgis(&mut self) {
        let Some(d) = &mut self.session.postgis_dialog else {
            return;
        };
        let Some(listing) = &mut d.listing else {
            return;
        };
        let Some(result) = listing.poll() else { return };
        let server = listing.server.clone();
        d.listing = None;
        d.selected = None;
        match result {
            Ok(tables) => {
                d.error = None;
                d.listed = Some((server.clone(), tables));
                self.settings.remember_server(server);
            }
            Err(e) => {
                d.listed = None;
                d.error = Some(e);
            }
        }
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
                let compliance = s.request.fields.get(Role::Compliance).is_some()
                    || loaded
                        .analysis
                        .ledgers
                        .iter()
                        .any(|l| l.compliance_column.is_some());
                let mut analysed = Analysed::new(loaded, self.settings.target, compliance);
                carry_edits(s.analyses.first(), &mut analysed);
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
                // One analysis today: the new one replaces what was on screen, and the
                // comparison made with the old one goes with it.
                s.analyses = vec![analysed];
                if let Some(j) = s.comparing.take() {
                    j.cancel();
                }
                s.compared = None;
                self.view.change_map = false;
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
        // The change map on screen counts as the map shown: its picture is drawn too.
        let change_map = self.session.compared.as_ref().map(|c| c.scene.id());
        for a in &mut self.session.analyses {
            let on_screen = shown.is_some() && (shown == Some(a.scene.id()) || shown == change_map);
            if let Some(lines) = a.overlaps.poll(self.ctx, &a.analysis, on_screen) {
                a.add_warnings(lines);
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
                    Purpose::OpenRisk => self.open_as(path, true),
                    Purpose::OpenParcels => self.open_as(path, false),
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
                    Purpose::SaveMeasures(then_close) => self.start_save(path, then_close),
                    Purpose::AddLedger => self.add_ledger(path),
                    Purpose::CompareParcels | Purpose::CompareRisk | Purpose::CompareLineage => {
                        if let Some(d) = &mut self.session.compare_dialog {
                            match purpose {
                                Purpose::CompareParcels => d.set_parcels(path),
                                Purpose::CompareRisk => {
                                    d.risk = Some(path);
                                    d.own_risk = true;
                                }
                                _ => d.lineage = Some(path),
                            }
                        }
                    }
                    Purpose::AddRegions => {
                        match soilrisk::io::LayerReader::open(&path, &Default::default()) {
                            Ok(r) => {
                                let fields = r.header().fields.clone();
                                self.session.regions = Some(RegionsDialog::new(path, fields));
                            }
                            Err(e) => self.session.error = Some(e.to_string()),
                        }
                    }
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
                Ok(warnings) => {
                    s.notice = Some(format!("wrote {}", job.path.display()));
                    if !warnings.is_empty() {
                        s.warning = Some(format!(
                            "wrote {}, with warnings:\n\n{}",
                            job.path.display(),
                            warnings.join("\n")
                        ));
                    }
                }
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
            // While the comparison dialog is open, a dropped file is the other year's parcels.
            if let Some(d) = &mut s.compare_dialog {
                d.set_parcels(p);
                return;
            }
            // A ledger is added to the analysis; only what a format of the registry opens
            // asks "risk or parcels?".
            if is_ledger_path(&p) {
                if s.current().is_some() {
                    self.add_ledger(p);
                } else {
                    s.error = Some(format!(
                        "{}: a measure ledger applies to layers; open them first",
                        p.display()
                    ));
                }
                return;
            }
            match formats::resolve(&p) {
                Ok(_) => s.dropped = Some(p),
                Err(e) => s.error = Some(e.to_string()),
            }
        }
    }

    fn start_export(&mut self, kind: ExportKind, path: PathBuf) {
        self.apply_pending();
        // The report's options, from its dialog, which closes as the report is written.
        let report_options = if kind == ExportKind::Report {
            self.session.report_dialog = None;
            self.session.report_options.take()
        } else {
            None
        };
        let Some(a) = self.session.current() else {
            return;
        };
        if !a.pending.is_empty() {
            self.session.error = Some(
                "the measures just edited are still being applied (the map is being drawn); \
                 export again in a moment"
                    .into(),
            );
            return;
        }
        let source = match kind {
            ExportKind::Report => {
                let Some(options) = report_options else {
                    return;
                };
                // With a comparison, of its after year (as `Session::report_input`).
                let compared = self
                    .session
                    .compared
                    .as_ref()
                    .and_then(|c| Some((c, c.arcs()?)));
                match compared {
                    Some((c, (before, after))) => ExportSource::Report {
                        analysis: after,
                        summary: Box::new(c.summary.after.clone()),
                        compare: Some(ReportCompare {
                            before,
                            comparison: c.comparison.clone(),
                            summary: Box::new(c.summary.clone()),
                        }),
                        options: Box::new(options),
                    },
                    None => ExportSource::Report {
                        analysis: a.analysis.clone(),
                        summary: Box::new(a.summary.clone()),
                        compare: None,
                        options: Box::new(options),
                    },
                }
            }
            ExportKind::Compared(_) => {
                let Some(c) = &self.session.compared else {
                    return;
                };
                let Some((before, after)) = c.arcs() else {
                    return;
                };
                ExportSource::Compared {
                    before,
                    after,
                    comparison: c.comparison.clone(),
                    summary: Box::new(c.summary.clone()),
                }
            }
            _ => ExportSource::Analysis(a.analysis.clone(), Box::new(a.summary.clone())),
        };
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
        if let Some(c) = &s.compared {
            let i = &c.input;
            inputs.push(i.parcels.clone());
            inputs.extend(i.risk.iter().cloned());
            inputs.extend(i.lineage.iter().map(|l| soilrisk::ledger::split_sheet(l).0));
        }
        match ExportJob::start(self.ctx, kind, path, source, inputs) {
            Ok(j) => s.export = Some(j),
            Err(e) => s.error = Some(e),
        }
    }
}

/// Whether a ledger file can be saved into as it is (`save_measures` writes `.xlsx` and
/// `.csv`).
fn is_writable_ledger(p: &std::path::Path) -> bool {
    p.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| e == "xlsx" || e == "csv")
}

/// Edits not saved carry over into a new analysis of the same parcel layer (another area
/// basis, another ledger, other regions), matched by parcel id; they stay unsaved.
fn carry_edits(before: Option<&Analysed>, after: &mut Analysed) {
    let Some(b) = before else { return };
    if !b.edits.unsaved() || b.analysis.parcels.path != after.analysis.parcels.path {
        return;
    }
    let by_id: std::collections::HashMap<&str, usize> = after
        .analysis
        .parcel_info
        .iter()
        .enumerate()
        .map(|(k, p)| (&*p.id, k))
        .collect();
    let moves: Vec<(usize, Treatment)> = b
        .edits
        .net()
        .into_values()
        .filter_map(|(id, t)| Some((*by_id.get(&*id)?, t)))
        .collect();
    for (k, t) in moves {
        after.edit(k, t);
    }
    after.edits.mark_unsaved();
}

/// Centres the map on a parcel or risk area, close enough to see it whole.
pub fn zoom_to(session: &Session, view: &mut View, p: Pick) {
    let Some(g) = session.geometry(p) else { return };
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
