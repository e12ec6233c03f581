//! Reading a `.prj`: WKT to a PROJ string `proj4rs` accepts, and the EPSG code it stands
//! for, from its `AUTHORITY`/`ID`, a known name or its parameters (see the module doc of
//! `crs`).

use super::*;

/// What identification needs from the WKT tree, owned so it can leave the
/// `catch_unwind` closure.
pub(super) struct WktInfo {
    pub(super) name: String,
    pub(super) geog_name: String,
    pub(super) datum_name: String,
    /// Radians per unit of the geographic CRS, when stated.
    pub(super) angular_unit: Option<f64>,
    pub(super) proj: String,
}

pub(super) fn parse_wkt(text: &str) -> Result<WktInfo, CrsError> {
    use proj4wkt::builder::Node;

    // proj4wkt is a third-party parser fed with arbitrary file contents: a
    // panic there must become an error, never take the whole run down.
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| -> Result<WktInfo, String> {
        let node = proj4wkt::Builder::new()
            .parse(text)
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        proj4wkt::Formatter::new(&mut buf)
            .format(&node)
            .map_err(|e| e.to_string())?;
        let proj = String::from_utf8(buf).map_err(|e| e.to_string())?;
        // proj4wkt keeps its model types private, so fields are reached
        // through the Node patterns only.
        macro_rules! geog_info {
            ($g:expr) => {
                (
                    $g.name.to_string(),
                    $g.datum.name.to_string(),
                    $g.unit.as_ref().map(|u| u.factor),
                )
            };
        }
        let (name, (geog_name, datum_name, angular_unit)) = match &node {
            Node::PROJCRS(p) => (p.name.to_string(), geog_info!(p.geogcs)),
            Node::GEOGCRS(g) => (g.name.to_string(), geog_info!(g)),
            // The horizontal part's names are out of reach (private enum);
            // the compound name usually repeats them.
            Node::COMPOUNDCRS(c) => (c.name.to_string(), (String::new(), String::new(), None)),
            _ => return Err("not a projected or geographic CRS".to_string()),
        };
        Ok(WktInfo {
            name,
            geog_name,
            datum_name,
            angular_unit,
            proj: proj.trim().to_string(),
        })
    }));
    match outcome {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(e)) => Err(unrecognised(format!("cannot read WKT: {e}"))),
        Err(_) => Err(unrecognised("cannot read WKT: parser failure")),
    }
}

pub(super) fn build_proj(proj: &str) -> Result<Proj, CrsError> {
    let outcome = panic::catch_unwind(|| Proj::from_proj_string(proj));
    match outcome {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(e)) => Err(unrecognised(format!(
            "projection not supported ({e}): {proj}"
        ))),
        Err(_) => Err(unrecognised(format!("projection not supported: {proj}"))),
    }
}

pub(super) fn snippet(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    cut.replace(['\n', '\r'], " ")
}

/// The first WKT keyword, if the text starts like `KEYWORD[` or `KEYWORD(`.
pub(super) fn root_keyword(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    if end == 0 {
        return None;
    }
    let rest = text[end..].trim_start();
    (rest.starts_with('[') || rest.starts_with('(')).then(|| &text[..end])
}

/// `AUTHORITY["EPSG","4544"]` (WKT1) or `ID["EPSG",4544]` (WKT2) directly
/// inside the outermost CRS; the last one wins since WKT1 puts it last.
/// proj4wkt does not keep the root authority of a WKT2 PROJCRS, hence this
/// small scanner.
pub(super) fn root_authority(text: &str) -> Option<(String, String)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut found = None;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' => {
                // WKT escapes a quote by doubling it, which this skips as
                // two consecutive strings.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += 1;
                }
            }
            b'[' | b'(' => depth += 1,
            b']' | b')' => depth = depth.saturating_sub(1),
            c if depth == 1 && c.is_ascii_alphabetic() => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &text[start..i];
                if word.eq_ignore_ascii_case("AUTHORITY") || word.eq_ignore_ascii_case("ID") {
                    let rest = text[i..].trim_start();
                    if let Some(args) = rest.strip_prefix(['[', '(']) {
                        let mut parts = split_args(args);
                        if let (Some(a), Some(b)) = (parts.next(), parts.next()) {
                            found = Some((a, b));
                        }
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The first arguments of a WKT node, unquoted, up to its closing bracket.
pub(super) fn split_args(args: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = args;
    std::iter::from_fn(move || {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with([']', ')']) {
            return None;
        }
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"')?;
            value = q[..end].to_string();
            rest = &q[end + 1..];
        } else {
            let end = rest.find([',', ']', ')', '[', '(']).unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else {
            rest = "";
        }
        Some(value)
    })
}

pub(super) fn name_tokens(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_uppercase())
        .collect()
}

/// Candidate code from ESRI/OGC names such as "CGCS2000_3_Degree_GK_CM_105E",
/// "CGCS2000 / 3-degree Gauss-Kruger zone 35", "WGS_1984_UTM_Zone_48N",
/// "GCS_WGS_1984". Only a candidate: the parameters must still agree.
pub(super) fn code_from_name(name: &str) -> Option<u32> {
    let t = name_tokens(name);
    let joined: String = t.concat();
    match joined.as_str() {
        "GCSWGS1984" | "WGS84" | "WGS1984" => return Some(4326),
        "GCSCHINAGEODETICCOORDINATESYSTEM2000"
        | "CHINAGEODETICCOORDINATESYSTEM2000"
        | "CGCS2000"
        | "GCSCGCS2000" => return Some(4490),
        _ => {}
    }
    let after = |key: &str| {
        t.iter()
            .position(|s| s == key)
            .and_then(|i| t.get(i + 1))
            .map(String::as_str)
    };
    if joined.starts_with("CGCS2000") && t.iter().any(|s| s == "DEGREE") {
        if let Some(cm) = after("CM") {
            let cm: u32 = cm.strip_suffix('E').unwrap_or(cm).parse().ok()?;
            return (75..=135)
                .contains(&cm)
                .then_some(cm)
                .filter(|cm| cm % 3 == 0)
                .map(|cm| 4534 + (cm - 75) / 3);
        }
        if let Some(zone) = after("ZONE") {
            let zone: u32 = zone.parse().ok()?;
            return (25..=45).contains(&zone).then_some(4513 + zone - 25);
        }
        return None;
    }
    if t.iter().any(|s| s == "UTM")
        && (joined.starts_with("WGS84") || joined.starts_with("WGS1984"))
    {
        let z = after("ZONE")?;
        let (digits, hemi) = match z.strip_suffix('N') {
            Some(d) => (d, 'N'),
            None => (z.strip_suffix('S')?, 'S'),
        };
        let zone: u32 = digits.parse().ok()?;
        if !(1..=60).contains(&zone) {
            return None;
        }
        return Some(if hemi == 'N' { 32600 } else { 32700 } + zone);
    }
    None
}

/// Candidate code from the PROJ parameters alone. The CGCS2000 ellipsoid is
/// numerically GRS 1980, shared with NAD83, ETRS89 and others, so CGCS2000
/// codes also need a Chinese-looking datum or CRS name.
pub(super) fn code_from_params(p: &ProjMap, names: &[&str]) -> Option<u32> {
    let num = |k: &str, default: f64| match p.get(k) {
        Some(ProjVal::Num(v)) => Some(*v),
        None => Some(default),
        _ => None,
    };
    let rf = num("rf", 0.0)?;
    if (num("a", 0.0)? - A_WGS84).abs() > 1e-3 {
        return None;
    }
    let is_cgcs = (rf - RF_CGCS2000).abs() < 1e-8;
    let is_wgs84 = (rf - RF_WGS84).abs() < 1e-8;
    let chinese = names.iter().any(|n| {
        let u = n.to_ascii_uppercase();
        u.contains("CGCS") || u.contains("CHINA")
    });
    let proj = match p.get("proj") {
        Some(ProjVal::Text(s)) => s.as_str(),
        _ => return None,
    };
    match proj {
        "longlat" if is_wgs84 => Some(4326),
        "longlat" if is_cgcs && chinese => Some(4490),
        "tmerc" | "etmerc" => {
            let lon_0 = num("lon_0", 0.0)?;
            let k = num("k_0", 1.0)?;
            let x_0 = num("x_0", 0.0)?;
            let y_0 = num("y_0", 0.0)?;
            let whole = |v: f64| (v - v.round()).abs() < 1e-9;
            if is_cgcs && chinese && (k - 1.0).abs() < 1e-12 && whole(lon_0 / 3.0) {
                let cm = (lon_0 / 3.0).round() * 3.0;
                if (x_0 - 500_000.0).abs() < 1e-6 && (75.0..=135.0).contains(&cm) {
                    return Some(4534 + ((cm - 75.0) / 3.0) as u32);
                }
                let zone = cm / 3.0;
                if (x_0 - (zone * 1e6 + 500_000.0)).abs() < 1e-6 && (25.0..=45.0).contains(&zone) {
                    return Some(4513 + (zone - 25.0) as u32);
                }
                None
            } else if is_wgs84 && (k - 0.9996).abs() < 1e-12 && whole((lon_0 + 183.0) / 6.0) {
                let zone = ((lon_0 + 183.0) / 6.0).round();
                if !(1.0..=60.0).contains(&zone) || (x_0 - 500_000.0).abs() > 1e-6 {
                    return None;
                }
                let base = if y_0.abs() < 1e-6 {
                    32600
                } else if (y_0 - 10_000_000.0).abs() < 1e-6 {
                    32700
                } else {
                    return None;
                };
                Some(base + zone as u32)
            } else {
                None
            }
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// PROJ string comparison

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ProjVal {
    Num(f64),
    List(Vec<f64>),
    Text(String),
    Flag,
}

pub(super) type ProjMap = BTreeMap<String, ProjVal>;

/// Parse a PROJ string into a map with aliases merged and default values
/// dropped, so that definitions differing only in spelling compare equal.
pub(super) fn normalise_proj(proj: &str) -> ProjMap {
    let mut map = ProjMap::new();
    for token in proj.split_whitespace() {
        let token = token.trim_start_matches('+');
        let (key, value) = match token.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (token, None),
        };
        let key = match key {
            "k" => "k_0",
            "latlong" | "lonlat" | "latlon" => "longlat",
            k => k,
        };
        if matches!(key, "no_defs" | "type" | "wktext" | "") {
            continue;
        }
        let val = match value {
            None => ProjVal::Flag,
            Some(v) if key == "towgs84" => {
                let mut list: Vec<f64> = v.split(',').filter_map(|s| s.parse().ok()).collect();
                list.resize(7, 0.0);
                ProjVal::List(list)
            }
            Some(v) => match v.parse::<f64>() {
                Ok(n) => ProjVal::Num(n),
                Err(_) => ProjVal::Text(match (key, v) {
                    ("proj", "latlong" | "lonlat" | "latlon") => "longlat".to_string(),
                    _ => v.to_string(),
                }),
            },
        };
        let default = match (key, &val) {
            ("lat_0" | "lon_0" | "x_0" | "y_0" | "pm", ProjVal::Num(n)) => *n == 0.0,
            ("k_0", ProjVal::Num(n)) => *n == 1.0,
            ("units", ProjVal::Text(u)) => u == "m",
            ("to_meter", ProjVal::Num(n)) => *n == 1.0,
            _ => false,
        };
        if !default {
            map.insert(key.to_string(), val);
        }
    }
    map
}

pub(super) fn proj_maps_equal(a: &ProjMap, b: &ProjMap) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| {
            ka == kb
                && match (va, vb) {
                    (ProjVal::Num(x), ProjVal::Num(y)) => close(*x, *y),
                    (ProjVal::List(x), ProjVal::List(y)) => {
                        x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(*x, *y))
                    }
                    (x, y) => x == y,
                }
        })
}

/// (a, f) when the PROJ string states them as +a/+rf or +R.
pub(super) fn ellipsoid_from_proj_string(proj: &str) -> Option<(f64, f64)> {
    let map = normalise_proj(proj);
    let get = |k: &str| match map.get(k) {
        Some(ProjVal::Num(v)) => Some(*v),
        _ => None,
    };
    if let Some(r) = get("R") {
        return Some((r, 0.0));
    }
    let a = get("a")?;
    let rf = get("rf")?;
    Some((a, if rf == 0.0 { 0.0 } else { 1.0 / rf }))
}
