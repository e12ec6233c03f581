//! The desktop window (eframe/egui) over the engine's pipeline. It computes nothing itself:
//! it runs `soilrisk::pipeline::run` in a background job and shows the `Analysis`.
//!
//! A tour, by question:
//!
//! - The window and the order of a frame: `window` (`SoilriskApp`).
//! - The state: `state`: `Settings` (saved between runs), `Session` (what is loaded, the
//!   analyses, the jobs under way), `View` (camera, selection).
//! - What the panels ask for: `command`; where it is carried out, with the results of
//!   background jobs: `update`.
//! - Background work: `job` (the one job type: named thread, progress, cancel, result, panic
//!   caught); used by `load` (reading and analysing, with previews), `overlaps` (the check
//!   for overlapping parcels), `files` (file dialogs and exports), `compare` (another year
//!   analysed and compared with the loaded one), `postgis` (a PostGIS database's tables
//!   listed) and `update` (the parcels' R-tree).
//! - The map: `map` (canvas, camera, picking), `render` (the picture, drawn on its own
//!   thread; the status map and a comparison's change map), `style` (colours, sizes, the
//!   layers' style).
//! - Panels: `panels` (menu bar, layers, details, status bar); their contents `inspector`
//!   (the selected parcel or risk area, and on the change map both years of a parcel),
//!   `summary` (rates, regions, priorities), `compare_tab` (year over year: rates before and
//!   after, the transition matrix, the causes) and `table` (the attribute table).
//! - Dialogs: `dialogs` (field mapping, a layer in a zip, errors, dropped files, the other
//!   year to compare with, the report's title and date with a preview of its cover, which
//!   `page_view` draws, a PostGIS server and its tables).
//! - `fonts`: the bundled CJK font; `clock` and `bench`: the window timing itself
//!   (`SOILRISK_FRAME_LOG=1`, `SOILRISK_WINDOW_BENCH=1`).
//!
//! Modules import one another one way: each takes what it needs as arguments or from the
//! modules below it, never from this one.

pub mod bench;
pub mod clock;
pub mod command;
pub mod compare;
pub mod compare_tab;
pub mod dialogs;
pub mod edits;
pub mod files;
pub mod fonts;
pub mod inspector;
pub mod job;
pub mod load;
pub mod map;
pub mod overlaps;
pub mod page_view;
pub mod panels;
pub mod postgis;
pub mod render;
pub mod state;
pub mod style;
pub mod summary;
pub mod table;
pub mod update;
pub mod window;

use std::path::PathBuf;

use eframe::egui;

use window::SoilriskApp;

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
