//! The engine (the library) must not depend on the GUI crates: it is shared by the window and
//! the command line, and must build and run headless. This checks every source file the
//! library compiles for imports of egui, eframe, rfd or winit.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Files of the library: everything under src/ except the binary's own (main.rs and the
/// window's `app/` folder).
fn library_files() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter(|p| {
            let rel = p.strip_prefix(&src).unwrap();
            rel != Path::new("main.rs") && !rel.starts_with("app")
        })
        .collect()
}

#[test]
fn library_sources_do_not_use_gui_crates() {
    let files = library_files();
    assert!(files.len() >= 10, "found only {files:?}");
    let gui = ["egui", "eframe", "rfd", "winit", "egui_kittest"];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for g in gui {
                let used = code.contains(&format!("{g}::")) || code.contains(&format!("use {g}"));
                assert!(!used, "{}:{} uses {g}: {line}", f.display(), n + 1);
            }
        }
    }
}

#[test]
fn library_manifest_keeps_gui_crates_optional() {
    // GUI crates may appear in Cargo.toml only as optional dependencies (behind the `gui`
    // feature), so `cargo build --lib --no-default-features` builds the engine alone.
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for line in deps.lines() {
        let name = line.split('=').next().unwrap_or("").trim();
        if ["eframe", "egui", "egui_extras", "egui_plot", "rfd", "winit"].contains(&name) {
            assert!(
                line.contains("optional = true"),
                "{name} must be optional: {line}"
            );
        }
    }
}
