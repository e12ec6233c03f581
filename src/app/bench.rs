//! The window measuring itself (`SOILRISK_WINDOW_BENCH=1 soilrisk open RISK PARCELS`, run by
//! `cargo bench --bench province -- --window`): how long until the map is on screen, the CPU
//! time of a frame at full extent, county and parcel scale while panning, how long the
//! `map-render` thread takes for each view, click-to-inspect, a frame with the attribute table
//! open, and the peak memory. It prints `window:` lines on stdout and closes the window.

use std::time::Instant;

use eframe::egui;

use super::clock::Clock;
use super::command::Command;
use super::map::{self, Pick};
use super::render::Renderer;
use super::state::{Session, Settings, View};

/// Frames measured per view.
const FRAMES: usize = 30;

/// Views measured: a name and map units per screen point (`None`: the full extent).
const VIEWS: [(&str, Option<f64>); 3] = [
    ("full extent", None),
    ("county, 30 m/pt", Some(30.0)),
    ("parcels, 0.5 m/pt", Some(0.5)),
];

enum Stage {
    Loading,
    /// Waiting for the picture of view `k`.
    Settle(usize),
    /// Panning in view `k`: frames measured so far.
    Pan(usize),
    Click,
    Table,
    Done,
}

/// Frame times, in ms.
#[derive(Default)]
struct Samples {
    map: Vec<f64>,
    /// The UI thread's CPU time in the map, without the time it waited for a core.
    map_cpu: Vec<f64>,
    pass: Vec<f64>,
    frame: Vec<f64>,
}

fn median_max(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    match v.last() {
        Some(&max) => (v[v.len() / 2], max),
        None => (f64::NAN, f64::NAN),
    }
}

impl Samples {
    fn line(&mut self) -> String {
        let (map_med, map_max) = median_max(&mut self.map);
        let (cpu_med, cpu_max) = median_max(&mut self.map_cpu);
        let (pass_med, pass_max) = median_max(&mut self.pass);
        let (frame_med, frame_max) = median_max(&mut self.frame);
        format!(
            "map {map_med:.2} ms median, {map_max:.2} ms max (CPU {cpu_med:.2} / \
             {cpu_max:.2} ms); egui pass {pass_med:.2} / {pass_max:.2} ms; whole frame with \
             drawing {frame_med:.2} / {frame_max:.2} ms"
        )
    }
}

/// What the bench sees of the window at the end of a frame, and what it moves.
pub struct Probe<'a> {
    pub settings: &'a mut Settings,
    pub session: &'a Session,
    pub view: &'a mut View,
    pub commands: &'a mut Vec<Command>,
    pub renderer: &'a Renderer,
    pub clock: &'a Clock,
}

pub struct WindowBench {
    stage: Stage,
    full: Option<map::Camera>,
    samples: Samples,
    /// The egui pass's CPU time of the frame being measured, set by the app.
    pub pass_ms: f64,
    /// When the first picture (the layers as they are read) was on screen, s after start.
    first_picture: Option<f64>,
    /// Whether the end of the check for overlapping parcels has been reported.
    checked: bool,
    /// The egui pass of the frame that opened the table and the inspector.
    opening_ms: Option<f64>,
}

impl WindowBench {
    /// Set up when `SOILRISK_WINDOW_BENCH` is in the environment.
    pub fn from_env() -> Option<WindowBench> {
        std::env::var_os("SOILRISK_WINDOW_BENCH").map(|_| WindowBench {
            stage: Stage::Loading,
            full: None,
            samples: Samples::default(),
            pass_ms: 0.0,
            first_picture: None,
            checked: false,
            opening_ms: None,
        })
    }

    /// Called at the end of each frame: records it and moves the camera for the next one.
    /// False once the bench is over.
    pub fn step(&mut self, mut app: Probe<'_>, ctx: &egui::Context, frame: &eframe::Frame) -> bool {
        self.advance(&mut app, ctx, frame);
        if matches!(self.stage, Stage::Loading | Stage::Settle(_)) {
            // While the layers load or a picture is drawn, the window repaints as it does for
            // a user: on progress, on each picture, when the analysis is done. Repainting
            // every frame here would take from the loading the CPU a software rasteriser uses.
            ctx.request_repaint_after(std::time::Duration::from_secs(1));
        } else {
            ctx.request_repaint();
        }
        !matches!(self.stage, Stage::Done)
    }

    fn record(&mut self, clock: &Clock, frame: &eframe::Frame) {
        self.samples.map.push(f64::from(clock.map_ms));
        self.samples.map_cpu.push(f64::from(clock.map_cpu_ms));
        self.samples.pass.push(self.pass_ms);
        if let Some(s) = frame.info().cpu_usage {
            // The previous frame's, drawing included.
            self.samples.frame.push(f64::from(s) * 1000.0);
        }
    }

    fn advance(&mut self, app: &mut Probe<'_>, ctx: &egui::Context, frame: &eframe::Frame) {
        match self.stage {
            Stage::Loading => {
                if self.first_picture.is_none() && app.renderer.pictures > 0 {
                    self.first_picture = Some(app.clock.since_start());
                }
                if let Some(e) = &app.session.error {
                    println!("window: failed: {e}");
                    self.stage = Stage::Done;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    return;
                }
                if let Some(s) = app.session.current()
                    && app.renderer.up_to_date()
                {
                    let n = s.analysis.parcel_info.len();
                    println!(
                        "window: {n} parcels: first picture (the layers as read) {:.2} s after \
                         start; analysed map on screen {:.2} s after start (picture drawn in \
                         {:.0} ms)",
                        self.first_picture.unwrap_or(f64::NAN),
                        app.clock.since_start(),
                        app.renderer.last_millis
                    );
                    self.full = Some(app.view.camera);
                    // The frames are measured once the background work of the load is over.
                    self.stage = Stage::Settle(0);
                }
            }
            Stage::Settle(k) => {
                let checked = app.session.current().is_some() && app.session.checked();
                if checked && !self.checked {
                    self.checked = true;
                    println!(
                        "window: the check for overlapping parcels done {:.2} s after start",
                        app.clock.since_start()
                    );
                }
                if checked && app.renderer.up_to_date() {
                    self.stage = Stage::Pan(k);
                    self.samples = Samples::default();
                }
            }
            Stage::Pan(k) => {
                self.record(app.clock, frame);
                let scale = app.view.camera.scale;
                let step = 3.0
                    * scale
                    * if self.samples.map.len().is_multiple_of(2) {
                        1.0
                    } else {
                        -1.0
                    };
                app.view.camera.center[0] += step;
                if self.samples.map.len() >= FRAMES {
                    let last_picture = app.renderer.last_millis;
                    println!(
                        "window: {} ({:.2} m/pt), panning: {}; picture drawn in {:.0} ms",
                        VIEWS[k].0,
                        scale,
                        self.samples.line(),
                        last_picture
                    );
                    if let (Some(full), Some((_, next))) = (self.full, VIEWS.get(k + 1)) {
                        app.view.camera = full;
                        if let Some(s) = next {
                            app.view.camera.scale = *s;
                        }
                        self.stage = Stage::Settle(k + 1);
                    } else {
                        self.stage = Stage::Click;
                    }
                }
            }
            Stage::Click => {
                let Some(s) = app.session.current() else {
                    return;
                };
                // Inside the parcel that would close the gap first, else the view's centre.
                let at = s
                    .summary
                    .priority_parcels
                    .first()
                    .and_then(|p| {
                        let a = &s.analysis;
                        let g = &a.parcels.features[a.parcel_info[p.index].feature].geometry;
                        geo::InteriorPoint::interior_point(g)
                    })
                    .map_or_else(
                        || {
                            app.view
                                .camera
                                .to_world(app.view.map_rect, app.view.map_rect.center())
                        },
                        |p| [p.x(), p.y()],
                    );
                let started = Instant::now();
                let picked = map::pick(&s.scene, at, app.settings.layers);
                for _ in 1..1000 {
                    std::hint::black_box(map::pick(&s.scene, at, app.settings.layers));
                }
                let pick_us = started.elapsed().as_secs_f64() * 1e6 / 1000.0;
                println!(
                    "window: click-to-inspect: pick {pick_us:.1} µs, mean of 1000 ({})",
                    match picked {
                        Some(Pick::Parcel(i)) => format!("parcel {}", s.analysis.parcel_info[i].id),
                        Some(Pick::Risk(i)) => format!("risk area {}", s.analysis.risk_areas[i].id),
                        // The loaded year's scene is never the change map.
                        Some(Pick::After(_) | Pick::Removed(_)) | None => "nothing there".into(),
                    }
                );
                app.commands.push(Command::Select(picked));
                app.settings.show_table = true;
                self.samples = Samples::default();
                self.stage = Stage::Table;
            }
            Stage::Table => {
                // The first frame with the table and the inspector lays out panels and text
                // never shown before (glyphs go into the font atlas once): reported apart.
                if self.opening_ms.is_none() {
                    self.opening_ms = Some(self.pass_ms);
                    return;
                }
                self.record(app.clock, frame);
                if self.samples.map.len() >= FRAMES {
                    println!(
                        "window: the inspector and the attribute table: the frame opening them \
                         {:.2} ms (egui pass); then, open: {}",
                        self.opening_ms.unwrap_or(f64::NAN),
                        self.samples.line()
                    );
                    // The same count `analyze --timings` prints (VmHWM).
                    let peak = crate::peak_memory_mib()
                        .map_or_else(|| "unknown".into(), |m| format!("{m} MiB"));
                    println!("window: peak memory {peak}");
                    self.stage = Stage::Done;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            Stage::Done => {}
        }
    }
}
