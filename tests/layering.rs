//! The architecture, read from the sources as a newcomer reads them: the engine (the
//! library) uses no GUI crate, so it builds and runs headless for the command line and the
//! window alike; the engine's top-level modules import one another one way, with `geom`, the
//! geometry toolkit, importing nothing else of the engine; the window's modules import one
//! another one way, none of them from `app/mod.rs`.
#![allow(clippy::unwrap_used)] // tests: a failure is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Fails on a cycle in `graph`: depth first, with the path so far, a module met again on its
/// own path closes a cycle.
fn assert_acyclic(graph: &BTreeMap<String, Vec<String>>) {
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
        visit(m, graph, &mut Vec::new());
    }
}

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

/// Which top-level engine modules each one imports (`crate::x` outside its tests).
fn engine_imports() -> BTreeMap<String, Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in library_files() {
        let rel = f.strip_prefix(&src).unwrap();
        let me = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let me = me.trim_end_matches(".rs").to_string();
        if me == "lib" || f.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        // The code before the file's test module (a `#[cfg(test)]` item elsewhere stays in).
        let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or("");
        let deps = graph.entry(me.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != me && !deps.contains(&name) {
                deps.push(name);
            }
        }
    }
    graph
}

#[test]
fn engine_modules_import_one_another_one_way() {
    let graph = engine_imports();
    assert!(graph["pipeline"].contains(&"geom".to_string()), "{graph:?}");
    assert!(graph["geom"].is_empty(), "geom imports {:?}", graph["geom"]);
    assert_acyclic(&graph);
}

/// Each module of `src/app` (`panels/menu` for a file in a folder) and the modules it
/// names through `super::` or `crate::app::`.
fn app_imports() -> BTreeMap<String, Vec<String>> {
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
    let graph = app_imports();
    assert!(graph["update"].contains(&"state".to_string()));
    assert_acyclic(&graph);
}

#[test]
fn no_module_of_the_window_imports_from_its_mod_rs() {
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
