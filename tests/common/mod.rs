//! Helpers shared by the integration tests: tiny layer writers and paths.

#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // test helpers: a failure is a failed test

use std::path::{Path, PathBuf};

pub mod pg;
mod tool;
#[allow(unused_imports)] // each test binary uses a different subset
pub use tool::tool;

/// Offsets that put hand-made coordinates in EPSG:4544 (Gauss-Kruger CM 105E, metres).
pub const X0: f64 = 500_000.0;
pub const Y0: f64 = 3_300_000.0;

/// A polygon as rings of (x, y) relative to (X0, Y0); the first ring is the shell.
pub type Rings = Vec<Vec<(f64, f64)>>;

pub fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<(f64, f64)> {
    vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
}

fn ring_json(r: &[(f64, f64)]) -> String {
    let pts: Vec<String> = r
        .iter()
        .map(|(x, y)| format!("[{},{}]", X0 + x, Y0 + y))
        .collect();
    format!("[{}]", pts.join(","))
}

/// Writes a GeoJSON FeatureCollection in EPSG:4544 (old-style `crs` member). Each feature is
/// (properties as JSON text, polygons).
pub fn write_geojson(path: &Path, features: &[(&str, Vec<Rings>)]) {
    let feats: Vec<String> = features
        .iter()
        .map(|(props, polys)| {
            let polys: Vec<String> = polys
                .iter()
                .map(|rings| {
                    let rs: Vec<String> = rings.iter().map(|r| ring_json(r)).collect();
                    format!("[{}]", rs.join(","))
                })
                .collect();
            format!(
                "{{\"type\":\"Feature\",\"properties\":{props},\"geometry\":{{\"type\":\"MultiPolygon\",\"coordinates\":[{}]}}}}",
                polys.join(",")
            )
        })
        .collect();
    let text = format!(
        "{{\"type\":\"FeatureCollection\",\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::4544\"}}}},\"features\":[{}]}}",
        feats.join(",")
    );
    std::fs::write(path, text).unwrap();
}

/// Writes a dBase III table with character fields only; `ldid` is header byte 29.
pub fn write_dbf(path: &Path, fields: &[(&str, usize)], rows: &[Vec<Vec<u8>>], ldid: u8) {
    let header_len = 32 + 32 * fields.len() + 1;
    let record_len = 1 + fields.iter().map(|f| f.1).sum::<usize>();
    let mut b = vec![0x03u8, 123, 12, 31];
    b.extend((rows.len() as u32).to_le_bytes());
    b.extend((header_len as u16).to_le_bytes());
    b.extend((record_len as u16).to_le_bytes());
    b.extend([0u8; 17]);
    b.push(ldid);
    b.extend([0u8; 2]);
    for (name, len) in fields {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = b'C';
        d[16] = *len as u8;
        b.extend(d);
    }
    b.push(0x0D);
    for row in rows {
        b.push(b' ');
        for ((_, len), v) in fields.iter().zip(row) {
            let mut cell = v.clone();
            cell.resize(*len, b' ');
            b.extend(cell);
        }
    }
    b.push(0x1A);
    std::fs::write(path, b).unwrap();
}

/// Writes a polygon `.shp` + `.shx` (no `.dbf`) with one single-ring record per square,
/// rings clockwise as the format wants.
pub fn write_shp_squares(path: &Path, squares: &[(f64, f64, f64)]) {
    let mut shapes = Vec::new();
    for &(x, y, s) in squares {
        let ring = vec![(x, y), (x, y + s), (x + s, y + s), (x + s, y), (x, y)];
        shapes.push(ring);
    }
    let mut shp = Vec::new();
    let mut shx = Vec::new();
    let mut records = Vec::new();
    let (mut xmin, mut ymin, mut xmax, mut ymax) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for ring in &shapes {
        let mut c = Vec::new();
        c.extend(5i32.to_le_bytes());
        let (bx0, by0) = ring
            .iter()
            .fold((f64::MAX, f64::MAX), |a, p| (a.0.min(p.0), a.1.min(p.1)));
        let (bx1, by1) = ring
            .iter()
            .fold((f64::MIN, f64::MIN), |a, p| (a.0.max(p.0), a.1.max(p.1)));
        xmin = xmin.min(bx0);
        ymin = ymin.min(by0);
        xmax = xmax.max(bx1);
        ymax = ymax.max(by1);
        for v in [bx0, by0, bx1, by1] {
            c.extend(v.to_le_bytes());
        }
        c.extend(1i32.to_le_bytes());
        c.extend((ring.len() as i32).to_le_bytes());
        c.extend(0i32.to_le_bytes());
        for (x, y) in ring {
            c.extend(x.to_le_bytes());
            c.extend(y.to_le_bytes());
        }
        records.push(c);
    }
    let header = |len_bytes: usize, out: &mut Vec<u8>| {
        out.extend(9994i32.to_be_bytes());
        out.extend([0u8; 20]);
        out.extend(((len_bytes / 2) as i32).to_be_bytes());
        out.extend(1000i32.to_le_bytes());
        out.extend(5i32.to_le_bytes());
        for v in [xmin, ymin, xmax, ymax, 0.0, 0.0, 0.0, 0.0] {
            out.extend(v.to_le_bytes());
        }
    };
    let shp_len = 100 + records.iter().map(|r| 8 + r.len()).sum::<usize>();
    header(shp_len, &mut shp);
    header(100 + 8 * records.len(), &mut shx);
    let mut offset = 100;
    for (i, r) in records.iter().enumerate() {
        shx.extend(((offset / 2) as i32).to_be_bytes());
        shx.extend(((r.len() / 2) as i32).to_be_bytes());
        shp.extend(((i + 1) as i32).to_be_bytes());
        shp.extend(((r.len() / 2) as i32).to_be_bytes());
        shp.extend(r);
        offset += 8 + r.len();
    }
    std::fs::write(path, shp).unwrap();
    std::fs::write(path.with_extension("shx"), shx).unwrap();
}

/// The shared real-data corpus, or `None` (with a printed notice) where it is absent.
pub fn realdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("notice: ../shared/realdata is absent; real-file checks skipped");
        None
    }
}

/// The `soilrisk` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_soilrisk"))
}

/// Copies the bundled sample's ten files into `dir`.
pub fn copy_sample(dir: &Path) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for layer in ["risk_areas", "parcels"] {
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            let name = format!("{layer}.{ext}");
            std::fs::copy(sample.join(&name), dir.join(&name)).unwrap();
        }
    }
}

/// Runs `soilrisk analyze --risk RISK --parcels PARCELS --out OUT` (and `extra` flags).
pub fn analyze(risk: &Path, parcels: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .arg("analyze")
        .arg("--risk")
        .arg(risk)
        .arg("--parcels")
        .arg(parcels)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// As `analyze`, which must succeed: the `summary.json` it wrote.
pub fn analyze_summary(risk: &Path, parcels: &Path, out: &Path) -> serde_json::Value {
    let o = analyze(risk, parcels, out, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}
