//! The window itself: `SoilriskApp` holds the state (`state`), the frame's commands, the map's
//! renderer and the window's clock, and runs a frame in a fixed order: take the results of
//! background jobs (`update`), draw the panels, the map and the dialogs, which push
//! `Command`s, then apply those commands (`update`).

use std::path::PathBuf;

use eframe::egui;
use soilrisk::pipeline::Request;

use super::bench::{Probe, WindowBench};
use super::clock::{Clock, repaint_causes};
use super::command::Command;
use super::dialogs::compare::CompareAction;
use super::dialogs::mapping::MappingAction;
use super::dialogs::member::{self, MemberAction};
use super::dialogs::message::{self, CloseAnswer, DroppedAs};
use super::dialogs::postgis::PostgisAction;
use super::dialogs::regions::RegionsAction;
use super::dialogs::report::ReportAction;
use super::fonts;
use super::map;
use super::panels;
use super::render::Renderer;
use super::state::{Session, Settings, View};
use super::table;
use super::update::Update;

pub struct SoilriskApp {
    /// Saved between runs.
    pub settings: Settings,
    /// What is loaded, the background jobs, what the window is asking the user.
    pub session: Session,
    /// The map camera, the selection, the panels' own state.
    pub view: View,
    /// Asked for while drawing, applied at the end of the frame.
    pub commands: Vec<Command>,
    /// Draws the map picture off the UI thread.
    pub renderer: Renderer,
    pub clock: Clock,
    /// `SOILRISK_WINDOW_BENCH=1`: the window measures itself, prints and closes.
    bench: Option<WindowBench>,
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
            view: View::new(&settings),
            settings,
            session: Session::new(Request::new(risk.clone(), parcels.clone())),
            commands: Vec::new(),
            renderer: Renderer::start(&cc.egui_ctx),
            clock: Clock::from_env(),
            bench: WindowBench::from_env(),
        };
        app.open(&cc.egui_ctx, risk, parcels);
        app
    }

    /// Starts loading two layers, as File > Open does.
    pub fn open(&mut self, ctx: &egui::Context, risk: PathBuf, parcels: PathBuf) {
        self.update(ctx).open(risk, parcels);
    }

    /// The state, borrowed to change it.
    fn update<'a>(&'a mut self, ctx: &'a egui::Context) -> Update<'a> {
        Update {
            settings: &mut self.settings,
            session: &mut self.session,
            view: &mut self.view,
            clock: &self.clock,
            ctx,
        }
    }

    /// The map in the central panel, timed for the frame log and `bench`.
    fn map_panel(&mut self, ui: &mut egui::Ui) {
        self.view.map_rect = ui.available_rect_before_wrap();
        let t = std::time::Instant::now();
        // The thread's own CPU time, without what it waited for a core (the map-render
        // thread and a software rasteriser may share the cores with it).
        let cpu = self
            .bench
            .as_ref()
            .and_then(|_| cpu_time::ThreadTime::try_now().ok());
        let pictures = self.renderer.pictures;
        let fitting = self.view.fit_pending;
        let view = &mut self.view;
        let selected = view.selection.and_then(|p| self.session.geometry(p));
        let events = map::show(
            ui,
            &mut view.camera,
            &mut view.fit_pending,
            self.session.map_scene(view.change_map),
            &mut self.renderer,
            self.settings.layers,
            selected,
        );
        self.clock.map_ms = t.elapsed().as_secs_f32() * 1000.0;
        self.clock.map_cpu_ms = cpu
            .and_then(|c| c.try_elapsed().ok())
            .map_or(f32::NAN, |d| d.as_secs_f32() * 1000.0);
        if fitting && !self.view.fit_pending && self.session.current().is_none() {
            self.view.preview_fit = Some(self.view.camera);
        }
        let clock = &self.clock;
        clock.log(|| {
            format!(
                "frame {} at {:.3} s: map {:.2} ms at {:.2} m/px (asked for by {})",
                ui.ctx().cumulative_frame_nr(),
                clock.since_start(),
                clock.map_ms,
                self.view.camera.scale,
                repaint_causes(ui.ctx())
            )
        });
        if self.renderer.pictures != pictures {
            clock.log(|| {
                format!(
                    "picture {} on screen {:.3} s after start, drawn in {:.1} ms",
                    self.renderer.pictures,
                    clock.since_start(),
                    self.renderer.last_millis
                )
            });
        }
        self.view.hover_world = events.hover_world;
        if let Some(p) = events.clicked {
            self.commands.push(Command::Select(p));
        }
    }

    /// The dialogs open now, over everything else.
    fn dialogs(&mut self, ctx: &egui::Context) {
        let s = &mut self.session;
        // Under the messages: a load that fails says why over it.
        if let Some(d) = &mut s.postgis_dialog {
            let loading = s.loading.is_some();
            match d.show(
                ctx,
                &self.settings.servers,
                &s.request.risk,
                &s.request.parcels,
                loading,
            ) {
                PostgisAction::None => {}
                PostgisAction::Close => s.postgis_dialog = None,
                PostgisAction::List(server) => self.commands.push(Command::ListTables(server)),
                PostgisAction::Open(path, as_risk) => {
                    self.commands.push(Command::OpenAs(path, as_risk))
                }
            }
        }
        if let Some(e) = &s.error
            && message::error(ctx, e)
        {
            s.error = None;
        }
        if let Some(w) = &s.warning
            && message::warning(ctx, w)
        {
            s.warning = None;
        }
        if let Some(mut d) = s.report_dialog.take() {
            let busy = s.dialog.is_some() || s.export.is_some();
            match d.show(ctx, s.report_input().as_ref(), busy) {
                ReportAction::None => s.report_dialog = Some(d),
                ReportAction::Cancel => {}
                ReportAction::Save(o) => {
                    s.report_dialog = Some(d);
                    self.commands.push(Command::SaveReport(Box::new(o)));
                }
            }
        }
        if let Some(p) = &s.dropped {
            match message::dropped(ctx, p) {
                Some(DroppedAs::Risk) => self.commands.push(Command::UseDropped(true)),
                Some(DroppedAs::Parcels) => self.commands.push(Command::UseDropped(false)),
                Some(DroppedAs::Nothing) => s.dropped = None,
                None => {}
            }
        }
        if let Some(c) = &s.choose_member {
            match member::show(ctx, c) {
                Some(MemberAction::Open(m)) => self.commands.push(Command::OpenMember(m)),
                Some(MemberAction::Cancel) => s.choose_member = None,
                None => {}
            }
        }
        if let Some(r) = &mut s.regions {
            match r.show(ctx) {
                RegionsAction::None => {}
                RegionsAction::Cancel => s.regions = None,
                RegionsAction::Use(layer) => self.commands.push(Command::SetRegions(layer)),
            }
        }
        if s.confirm_close && s.saving.is_none() {
            match message::unsaved_on_close(ctx) {
                Some(CloseAnswer::Save) => {
                    s.confirm_close = false;
                    self.commands.push(Command::SaveMeasures {
                        as_new: false,
                        then_close: true,
                    });
                }
                Some(CloseAnswer::Discard) => self.commands.push(Command::DiscardAndClose),
                Some(CloseAnswer::Cancel) => s.confirm_close = false,
                None => {}
            }
        }
        if let Some(d) = &mut s.compare_dialog {
            match d.show(ctx) {
                CompareAction::None => {}
                CompareAction::Cancel => s.compare_dialog = None,
                CompareAction::Choose(p) => self.commands.push(Command::Ask(p)),
                CompareAction::Run(input) => self.commands.push(Command::Compare(input)),
            }
        }
        if let Some(m) = &mut s.mapping {
            match m.show(ctx) {
                MappingAction::None => {}
                MappingAction::Cancel => s.mapping = None,
                MappingAction::Reread => self.commands.push(Command::RereadMapped),
                MappingAction::Analyse => self.commands.push(Command::AnalyseMapped),
            }
        }
    }
}

impl eframe::App for SoilriskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // The overlap check waits for the analysed map to be on screen.
        let shown = self
            .renderer
            .up_to_date()
            .then(|| self.renderer.shown().map(|p| p.2))
            .flatten();
        let mut u = self.update(ctx);
        u.poll_loading();
        u.poll_overlaps(shown);
        u.poll_files();
        u.poll_saving();
        u.poll_comparing();
        u.poll_postgis();
        u.apply_pending();
        if ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
            self.commands.push(Command::Select(None));
        }
        // Undo and redo of measure edits, unless a text field takes the keys (its own undo).
        if !ctx.egui_wants_keyboard_input() {
            let (redo, undo) = ctx.input_mut(|i| {
                let redo = i.consume_key(
                    egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
                    egui::Key::Z,
                ) || i.consume_key(egui::Modifiers::COMMAND, egui::Key::Y);
                (redo, i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z))
            });
            if redo {
                self.commands.push(Command::Redo);
            }
            if undo {
                self.commands.push(Command::Undo);
            }
        }
        // Closing with unsaved measures asks first.
        if ctx.input(|i| i.viewport().close_requested())
            && self.session.unsaved()
            && !self.session.allow_close
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.session.confirm_close = true;
        }
        let title = self.session.title();
        if title != self.view.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.view.title = title;
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let pass_started = std::time::Instant::now();
        let commands = &mut self.commands;
        egui::Panel::top("menu").show(ui, |ui| {
            panels::menu::show(
                ui,
                &mut self.settings,
                &self.session,
                self.view.selection,
                commands,
            )
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            panels::status::show(ui, &self.session, &self.view, commands)
        });
        egui::Panel::left("layers")
            .resizable(true)
            .default_size(210.0)
            .show(ui, |ui| {
                panels::layers::show(
                    ui,
                    &mut self.settings.layers,
                    &self.session,
                    self.view.change_map,
                    commands,
                )
            });
        egui::Panel::right("details")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                panels::details::show(
                    ui,
                    &mut self.settings.right_tab,
                    &self.session,
                    &mut self.view,
                    &self.clock,
                    self.settings.target,
                    commands,
                )
            });
        if self.settings.show_table
            && let Some(s) = self.session.current()
        {
            egui::Panel::bottom("table")
                .resizable(true)
                .default_size(260.0)
                .show(ui, |ui| {
                    self.clock.timed("table", || {
                        table::show(
                            ui,
                            &s.analysis,
                            &s.scene,
                            &mut self.view.table,
                            self.view.selection,
                            commands,
                        )
                    })
                });
        }
        // No frame: the map covers the whole of the central panel with its picture or its
        // background, so a panel fill under it would be painted for nothing every frame.
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| self.map_panel(ui));
        let ctx = ui.ctx().clone();
        self.dialogs(&ctx);
        let commands = std::mem::take(&mut self.commands);
        self.update(&ctx).apply(commands);
        if let Some(b) = &mut self.bench {
            b.pass_ms = pass_started.elapsed().as_secs_f64() * 1000.0;
            let running = b.step(
                Probe {
                    settings: &mut self.settings,
                    session: &self.session,
                    view: &mut self.view,
                    commands: &mut self.commands,
                    renderer: &self.renderer,
                    clock: &self.clock,
                },
                &ctx,
                frame,
            );
            if !running {
                self.bench = None;
            }
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}
