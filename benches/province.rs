//! Province-scale benchmark: `soilrisk analyze` on synthetic layers of any size, against
//! GeoPandas doing the same overlay on the same files (`scripts/reference_overlay.py`) in the
//! same run, with the totals of the two compared.
//!
//! ```text
//! cargo bench --bench province                      # 1,000,000 parcels, soilrisk and GeoPandas
//! cargo bench --bench province -- --parcels 10000000 --runs 1 --no-geopandas
//! cargo bench --bench province -- --window --runs 0 --no-geopandas   # the window only
//! ```
//!
//! Options: `--parcels N` (default 1,000,000), `--dir DIR` (data and outputs, default
//! `target/province-bench`; the layers are written once per size), `--runs K` (soilrisk runs,
//! default 3; the table shows each), `--no-geopandas`, `--window`. GeoPandas needs
//! `pip install geopandas` (with shapely/GEOS and pyogrio); without it that side is skipped
//! with a notice.
//!
//! `--window` also opens the window on the same layers with `SOILRISK_WINDOW_BENCH=1`: it
//! measures itself (time to the map, CPU time per frame at three zooms while panning, the
//! background picture, click-to-inspect, the attribute table, peak memory) and closes. It
//! needs a display; where `DISPLAY` is unset it starts `Xvfb :91` (`apt-get install xvfb`).
//!
//! Each tool runs as its own process, one after the other, with the layers' files read once
//! just before (so both start from the page cache), and reports its phases and its peak
//! resident memory (VmHWM / ru_maxrss) itself; the wall time is measured here around the
//! process, so it includes start-up. The figures are printed as Markdown.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

struct Args {
    parcels: u64,
    dir: PathBuf,
    runs: usize,
    geopandas: bool,
    window: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        parcels: 1_000_000,
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("target/province-bench"),
        runs: 3,
        geopandas: true,
        window: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--parcels" => {
                a.parcels = value("--parcels")?
                    .parse()
                    .map_err(|e| format!("--parcels: {e}"))?
            }
            "--dir" => a.dir = value("--dir")?.into(),
            "--runs" => {
                a.runs = value("--runs")?
                    .parse()
                    .map_err(|e| format!("--runs: {e}"))?
            }
            "--no-geopandas" => a.geopandas = false,
            "--window" => a.window = true,
            // What `cargo bench` passes to every bench target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

/// One run's figures, from a `timings:` line and the clock.
struct Run {
    wall_s: f64,
    phases: Vec<(String, f64)>,
    peak_mib: Option<f64>,
}

/// Reads `timings: read 1.2 s, index 0.1 s, ..., total 3.3 s, peak memory 500 MiB`.
fn parse_timings(stderr: &str, wall_s: f64) -> Result<Run, String> {
    let line = stderr
        .lines()
        .find_map(|l| l.split_once("timings: ").map(|(_, rest)| rest))
        .ok_or_else(|| format!("no timings line in:\n{stderr}"))?;
    let mut phases = Vec::new();
    let mut peak_mib = None;
    for part in line.split(", ") {
        if let Some(m) = part.strip_prefix("peak memory ") {
            peak_mib = m.trim_end_matches(" MiB").parse().ok();
        } else if let Some((name, secs)) = part
            .rsplit_once(' ')
            .and_then(|(rest, unit)| (unit == "s").then(|| rest.rsplit_once(' ')).flatten())
            && let Ok(s) = secs.parse()
        {
            phases.push((name.to_string(), s));
        }
    }
    Ok(Run {
        wall_s,
        phases,
        peak_mib,
    })
}

fn run(cmd: &mut Command, what: &str) -> Result<(String, String, f64), String> {
    let t = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let wall = t.elapsed().as_secs_f64();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    if !out.status.success() {
        return Err(format!("{what} failed ({}):\n{stderr}", out.status));
    }
    Ok((stdout, stderr, wall))
}

/// Reads every file of the layers once, so each tool starts with them in the page cache
/// (this machine's host can take the cache back while it sits idle, and whichever tool ran
/// first would then read from disk for the other).
fn warm(data: &Path) {
    let Ok(entries) = std::fs::read_dir(data) else {
        return;
    };
    let mut buf = vec![0u8; 1 << 20];
    for e in entries.flatten() {
        if let Ok(mut f) = std::fs::File::open(e.path()) {
            while matches!(std::io::Read::read(&mut f, &mut buf), Ok(n) if n > 0) {}
        }
    }
}

fn first_line_of(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

fn row(tool: &str, r: &Run) -> String {
    // soilrisk says "index", the GeoPandas script "dissolve", for the same step.
    let phase = |names: &[&str]| {
        r.phases
            .iter()
            .find(|(n, _)| names.contains(&n.as_str()))
            .map_or("–".to_string(), |(_, s)| format!("{s:.2} s"))
    };
    format!(
        "| {tool} | {} | {} | {} | {} | {} | **{:.2} s** | **{}** |",
        phase(&["read"]),
        phase(&["index", "dissolve"]),
        phase(&["overlay"]),
        phase(&["statistics"]),
        phase(&["export"]),
        r.wall_s,
        r.peak_mib
            .map_or("–".to_string(), |m| format!("{m:.0} MiB")),
    )
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("province bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench() -> Result<(), String> {
    let a = parse_args()?;
    let bin = env!("CARGO_BIN_EXE_soilrisk");
    let data = a.dir.join(format!("data-{}", a.parcels));
    let (risk, parcels) = (data.join("risk_areas.shp"), data.join("parcels.shp"));
    if !parcels.exists() {
        eprintln!("writing {} parcels to {} ...", a.parcels, data.display());
        let n = a.parcels.to_string();
        run(
            Command::new(bin)
                .args(["sample", "--parcels", &n, "--out"])
                .arg(&data),
            "soilrisk sample",
        )?;
    }
    let shp_mb = std::fs::metadata(&parcels).map_or(0, |m| m.len()) / 1_000_000;

    let mut soilrisk = Vec::new();
    let out = a.dir.join("out-soilrisk");
    for k in 0..a.runs {
        eprintln!("soilrisk analyze, run {} of {} ...", k + 1, a.runs);
        warm(&data);
        let (_, stderr, wall) = run(
            Command::new(bin)
                .arg("analyze")
                .arg("--risk")
                .arg(&risk)
                .arg("--parcels")
                .arg(&parcels)
                .arg("--out")
                .arg(&out)
                .arg("--timings"),
            "soilrisk analyze",
        )?;
        soilrisk.push(parse_timings(&stderr, wall)?);
    }

    let mut geopandas = None;
    let mut agreement = None;
    if a.geopandas {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/reference_overlay.py");
        let version = Command::new("python3")
            .args(["-c", "import geopandas; print(geopandas.__version__)"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        match version {
            None => eprintln!("GeoPandas not found (pip install geopandas): its side skipped"),
            Some(v) => {
                eprintln!("GeoPandas {v} on the same files ...");
                warm(&data);
                let (stdout, stderr, wall) = run(
                    Command::new("python3")
                        .arg(&script)
                        .arg("--risk")
                        .arg(&risk)
                        .arg("--parcels")
                        .arg(&parcels)
                        .arg("--out")
                        .arg(a.dir.join("out-geopandas"))
                        .arg("--timings")
                        .arg("--compare")
                        .arg(out.join("summary.json")),
                    "scripts/reference_overlay.py",
                )?;
                geopandas = Some((v, parse_timings(&stderr, wall)?));
                agreement = stdout
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("largest relative difference (totals and regions): ")
                    })
                    .map(str::to_string);
            }
        }
    }

    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = first_line_of("/proc/cpuinfo", "model name").unwrap_or_default();
    let mem = first_line_of("/proc/meminfo", "MemTotal").unwrap_or_default();
    println!();
    println!(
        "{date}; {cores} cores ({cpu}), {mem}; {} parcels ({shp_mb} MB .shp), 3,568 risk areas",
        a.parcels
    );
    println!();
    if a.window {
        println!();
        for line in window(bin, &a.dir, &risk, &parcels)? {
            println!("- {line}");
        }
    }
    if soilrisk.is_empty() && geopandas.is_none() {
        return Ok(());
    }
    println!();
    println!(
        "| {} parcels | read | index/dissolve | overlay | statistics | export | total (wall) | peak memory |",
        a.parcels
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (k, r) in soilrisk.iter().enumerate() {
        println!("{}", row(&format!("soilrisk, run {}", k + 1), r));
    }
    if let Some((v, g)) = &geopandas {
        println!("{}", row(&format!("GeoPandas {v}"), g));
        let best = soilrisk
            .iter()
            .map(|r| r.wall_s)
            .fold(f64::INFINITY, f64::min);
        let worst = soilrisk.iter().map(|r| r.wall_s).fold(0.0, f64::max);
        println!();
        println!(
            "soilrisk is {:.1}× (best run) to {:.1}× (slowest run) faster end to end; totals \
             and regions agree to {}",
            g.wall_s / best,
            g.wall_s / worst,
            agreement.as_deref().unwrap_or("(no comparison printed)")
        );
    }
    Ok(())
}

/// Runs the window on the layers with `SOILRISK_WINDOW_BENCH=1`; its `window:` lines.
fn window(bin: &str, dir: &Path, risk: &Path, parcels: &Path) -> Result<Vec<String>, String> {
    // A display: the one there is, else a virtual one for the run.
    let mut xvfb = None;
    let display = match std::env::var("DISPLAY") {
        Ok(d) if !d.is_empty() => d,
        _ => {
            let child = Command::new("Xvfb")
                .args([":91", "-screen", "0", "1600x1000x24"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map_err(|e| {
                    format!("--window needs a display or Xvfb (apt-get install xvfb): {e}")
                })?;
            xvfb = Some(child);
            std::thread::sleep(std::time::Duration::from_secs(2));
            ":91".to_string()
        }
    };
    // Fresh settings, so a saved layer style or table does not change what is measured.
    let config = dir.join("window-config");
    let _ = std::fs::remove_dir_all(&config);
    eprintln!("the window on the same layers ...");
    let result = run(
        Command::new(bin)
            .arg("open")
            .arg(risk)
            .arg(parcels)
            .env("DISPLAY", &display)
            .env("SOILRISK_WINDOW_BENCH", "1")
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_DATA_HOME", &config),
        "soilrisk open (window benchmark)",
    );
    if let Some(mut x) = xvfb {
        let _ = x.kill();
        let _ = x.wait();
    }
    let (stdout, _, _) = result?;
    let lines: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("window: "))
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        return Err("the window printed no figures".into());
    }
    Ok(lines)
}
