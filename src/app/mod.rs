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
//!   for overlapping parcels), `files` (file dialogs and exports) and `update` (the parcels'
//!   R-tree).
//! - The map: `map` (canvas, camera, picking), `render` (the picture, drawn on its own
//!   thread), `style` (colours, sizes, the layers' style).
//! - Panels: `panels` (menu bar, layers, details, status bar); their contents `inspector`
//!   (the selected parcel or risk area), `summary` (rates, regions, priorities) and `table`
//!   (the attribute table).
//! - Dialogs: `dialogs` (field mapping, a layer in a zip, errors, dropped files).
//! - `fonts`: the bundled CJK font; `clock` and `bench`: the window timing itself
//!   (`SOILRISK_FRAME_LOG=1`, `SOILRISK_WINDOW_BENCH=1`).
//!
//! Modules import one another one way: each takes what it needs as arguments or from the
//! modules below it, never from this one.

pub mod bench;
pub mod clock;
pub mod command;
pub mod dialogs;
pub mod files;
pub mod fonts;
pub mod inspector;
pub mod job;
pub mod load;
pub mod map;
pub mod overlaps;
pub mod panels;
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

#[cfg(test)]
mod layering {
    //! The modules of the window import one another one way, and none from this file.

    use std::collections::BTreeMap;
    use std::path::Path;

    /// Each module of `src/app` (`panels/menu` for a file in a folder) and the modules it
    /// names through `super::` or `crate::app::`.
    fn imports() -> BTreeMap<String, Vec<String>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
        let mut files = Vec::new();
        for e in std::fs::read_dir(&root).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
            } else {
                files.push(p);
            }
        }
        let name = |p: &Path| {
            let rel = p.strip_prefix(&root).unwrap().with_extension("");
            let rel = rel.to_string_lossy().replace('\\', "/");
            rel.strip_suffix("/mod").unwrap_or(&rel).to_string()
        };
        let modules: Vec<String> = files.iter().map(|p| name(p)).collect();
        let mut graph = BTreeMap::new();
        for p in &files {
            let me = name(p);
            if me == "mod" || me == "tests" {
                continue;
            }
            let text = std::fs::read_to_string(p).unwrap();
            // `super::` from a file in a folder is the folder.
            let folder = me.rsplit_once('/').map(|(f, _)| format!("{f}/"));
            let mut deps = Vec::new();
            for (prefix, base) in [
                ("crate::app::", String::new()),
                ("super::", folder.unwrap_or_default()),
            ] {
                for (at, _) in text.match_indices(prefix) {
                    let path: String = text[at + prefix.len()..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    let parts: Vec<&str> = path.split("::").collect();
                    let one = format!("{base}{}", parts[0]);
                    let two = parts.get(1).map(|p| format!("{one}/{p}"));
                    let dep = match two {
                        Some(t) if modules.contains(&t) => t,
                        _ if modules.contains(&one) => one,
                        _ => continue,
                    };
                    if dep != me && !deps.contains(&dep) {
                        deps.push(dep);
                    }
                }
            }
            graph.insert(me, deps);
        }
        graph
    }

    #[test]
    fn no_two_modules_of_the_window_import_each_other() {
        let graph = imports();
        assert!(graph["update"].contains(&"state".to_string()));
        // Depth-first, with the path so far: a module met again on its own path is a cycle.
        fn visit(m: &str, graph: &BTreeMap<String, Vec<String>>, path: &mut Vec<String>) {
            assert!(
                !path.iter().any(|p| p == m),
                "import cycle: {path:?} -> {m}"
            );
            path.push(m.to_string());
            for d in graph.get(m).into_iter().flatten() {
                visit(d, graph, path);
            }
            path.pop();
        }
        for m in graph.keys() {
            visit(m, &graph, &mut Vec::new());
        }
    }

    #[test]
    fn no_module_imports_from_this_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
        for e in std::fs::read_dir(&root).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "rs") || p.ends_with("mod.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for line in text.lines().map(str::trim_start) {
                let item = line.strip_prefix("use super::").unwrap_or("");
                assert!(
                    !item.starts_with('{') && !item.starts_with(|c: char| c.is_uppercase()),
                    "{}: {line}",
                    p.display()
                );
            }
        }
    }
}
