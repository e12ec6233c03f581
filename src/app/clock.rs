//! The window's own clock: when it started, how long the map took last frame (for `bench`),
//! and the frame log (`SOILRISK_FRAME_LOG=1`), which prints load and per-frame times to
//! stderr for benchmarks.

use std::time::Instant;

use eframe::egui;

pub struct Clock {
    /// `SOILRISK_FRAME_LOG=1`: print load and per-frame map times to stderr.
    pub log: bool,
    pub created: Instant,
    /// Wall time of the map last frame, in ms.
    pub map_ms: f32,
    /// The UI thread's CPU time in the map last frame, in ms, while the window measures
    /// itself (`bench`); NaN otherwise.
    pub map_cpu_ms: f32,
}

impl Clock {
    pub fn from_env() -> Clock {
        Clock {
            log: std::env::var_os("SOILRISK_FRAME_LOG").is_some(),
            created: Instant::now(),
            map_ms: 0.0,
            map_cpu_ms: f32::NAN,
        }
    }

    /// Seconds since the window was created.
    pub fn since_start(&self) -> f64 {
        self.created.elapsed().as_secs_f64()
    }

    /// Prints a line of the frame log, when it is on.
    pub fn log(&self, line: impl FnOnce() -> String) {
        if self.log {
            eprintln!("frame-log: {}", line());
        }
    }

    /// Runs `f`; in the frame log, prints how long `what` took.
    pub fn timed<R>(&self, what: &str, f: impl FnOnce() -> R) -> R {
        let t = Instant::now();
        let r = f();
        self.log(|| format!("{what} {:.2} ms", t.elapsed().as_secs_f64() * 1000.0));
        r
    }
}

/// Where the requests for the frame after this one came from (`file:line`, each once, the
/// path cut to its last three parts), for the frame log: each frame drawn in software costs
/// CPU that a load needs.
pub fn repaint_causes(ctx: &egui::Context) -> String {
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
