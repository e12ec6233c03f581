//! Writing results: `summary.json`, `parcels.geojson` and `risk_areas.geojson` (the county
//! table's files are `table`'s).
//!
//! GeoJSON follows RFC 7946: WGS 84 longitude/latitude (CGCS2000 taken as WGS 84), exterior
//! rings counter-clockwise, holes clockwise. Features are sorted by id and numbers printed in
//! a fixed way, so the same input gives the same bytes. Every file is written to a temporary
//! name beside the target and renamed when complete: a failed export never leaves half a file.
//!
//! One capability, the formatting of the output files, in one file; about a third of its
//! length is its tests (exact digits, rings, the interpolated against the exact conversion).

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use geo::{Coord, MultiPolygon, Rect};
use rayon::prelude::*;

use crate::atomic::write_atomic;
use crate::crs::grid::Grid;
use crate::crs::{Crs, Transformer};
use crate::error::ExportError;
use crate::geom::area::twice_signed_area;
use crate::pipeline::{Analysis, Control, Phase};
use crate::stats::{Summary, rate};

/// Text being formatted for output: bytes that only ever receive UTF-8 (strings, and ASCII
/// digits and punctuation), so the digits of a coordinate go in without the UTF-8 check a
/// `String` would make of them, which a large export would pay at every coordinate.
#[derive(Default)]
struct Text(Vec<u8>);

impl Text {
    fn with_capacity(n: usize) -> Text {
        Text(Vec::with_capacity(n))
    }
    fn push_str(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }
    fn push(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.push_str(c.encode_utf8(&mut b));
    }
    /// ASCII bytes (digits, signs, points).
    fn push_ascii(&mut self, b: &[u8]) {
        debug_assert!(b.is_ascii());
        self.0.extend_from_slice(b);
    }
    fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    #[cfg(test)]
    fn into_string(self) -> String {
        String::from_utf8(self.0).unwrap_or_default()
    }
}

impl std::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// Writes `summary.json` (pretty-printed, UTF-8, keys in the product contract's order).
pub fn write_summary(path: &Path, summary: &Summary) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, summary).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

/// A number as JSON: shortest round-trip form, `null` for NaN or infinity.
#[cfg(test)]
fn num(x: f64) -> String {
    let mut s = Text::default();
    push_num(&mut s, x);
    String::from_utf8(s.0).unwrap_or_default()
}

/// Appends `num(x)` without a string of its own (a million features print twelve each).
fn push_num(out: &mut Text, x: f64) {
    if x.is_finite() {
        if x == 0.0 {
            out.push('0'); // also for -0
        } else {
            // `{}` on f64 is the shortest representation that reads back to the same value.
            let _ = write!(out, "{x}");
        }
    } else {
        out.push_str("null");
    }
}

#[cfg(test)]
fn json_str(s: &str) -> String {
    let mut out = Text::with_capacity(s.len() + 2);
    push_json_str(&mut out, s);
    String::from_utf8(out.0).unwrap_or_default()
}

/// Appends `s` as a JSON string. Text needs escaping only for `"`, `\\` and control
/// characters; the rest (Chinese included) is written as it is.
fn push_json_str(out: &mut Text, s: &str) {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
    }
}

/// Appends a coordinate in degrees with at most 9 decimals (about 0.1 mm), trailing zeros
/// removed. Fixed-point integer formatting, two digits at a time from a table, rather than
/// `format!("{:.9}")`, which is slow on the millions of coordinates of a large export.
fn push_deg(out: &mut Text, x: f64) {
    if !x.is_finite() || x.abs() >= 1e9 {
        push_num(out, x);
        return;
    }
    // Rounded half away from zero, as `f64::round` does but without its call into libm:
    // exact below 2^52, where adding a half to a multiple of the spacing of doubles is.
    let v = x * 1e9;
    let k = if v.abs() < 4.0e15 {
        (v + 0.5f64.copysign(v)) as i64
    } else {
        v.round() as i64
    };
    if k == 0 {
        out.push('0');
        return;
    }
    // The digits are written right to left into a buffer.
    let mut buf = [0u8; 24];
    let mut at = buf.len();
    let k_abs = k.unsigned_abs();
    let (int, mut frac) = (k_abs / 1_000_000_000, k_abs % 1_000_000_000);
    if frac != 0 {
        let mut width = 9;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        put_digits(&mut buf, &mut at, frac, width);
        at -= 1;
        buf[at] = b'.';
    }
    let digits = int.checked_ilog10().map_or(1, |l| l as usize + 1);
    put_digits(&mut buf, &mut at, int, digits);
    if k < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    out.push_ascii(&buf[at..]);
}

/// Writes the last `width` digits of `n` (zero-padded) into `buf` just before `at`, two at a
/// time, and moves `at` back over them.
fn put_digits(buf: &mut [u8], at: &mut usize, mut n: u64, mut width: usize) {
    while width >= 2 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        *at -= 2;
        buf[*at..*at + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
        width -= 2;
    }
    if width == 1 {
        *at -= 1;
        buf[*at] = b'0' + (n % 10) as u8;
    }
}

/// "00" to "99", for writing two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

#[cfg(test)]
fn deg(x: f64) -> String {
    let mut s = Text::default();
    push_deg(&mut s, x);
    s.into_string()
}

/// What writing geometry reuses from one ring to the next: the ring being converted, and the
/// points converted so far (by their exact bits). Parcels that tile the land share most of
/// their corners with their neighbours, which a run of features sorted by id mostly holds,
/// so many of a run's points have been converted already.
struct Scratch {
    pts: Vec<Coord<f64>>,
    converted: std::collections::HashMap<(u64, u64), Coord<f64>, foldhash::fast::FixedState>,
}

impl Scratch {
    /// Room for `points` converted points, so the table does not rehash as it fills.
    fn with_room(points: usize) -> Scratch {
        Scratch {
            pts: Vec::new(),
            converted: std::collections::HashMap::with_capacity_and_hasher(
                points,
                foldhash::fast::FixedState::default(),
            ),
        }
    }
}

/// Converts geometry to WGS 84 longitude/latitude for output.
pub struct ToWgs84 {
    transformer: Option<Transformer>,
    /// Interpolation over the extent the output mostly lies in (see `crs::grid`).
    grid: Option<Grid>,
}

impl ToWgs84 {
    /// From the analysis CRS, converting each point exactly. With an unknown CRS,
    /// coordinates are written as they are (and the summary's warnings say the CRS is
    /// unknown).
    pub fn new(from: Option<&Crs>) -> Result<Self, String> {
        let transformer = match from {
            None => None,
            Some(c) => {
                let t = Transformer::new(c, &Crs::wgs84()).map_err(|e| e.to_string())?;
                (!t.is_identity()).then_some(t)
            }
        };
        Ok(ToWgs84 {
            transformer,
            grid: None,
        })
    }

    /// As `new`, with the points inside `extent` (the analysis' risk layer, which every
    /// parcel at risk meets) interpolated from a grid of exact conversions, which is much
    /// cheaper, within `crs::grid::TOLERANCE` (1e-11 degrees) of the exact conversion.
    pub fn over(from: Option<&Crs>, extent: Option<Rect<f64>>) -> Result<Self, String> {
        let mut to = ToWgs84::new(from)?;
        if let (Some(t), Some(e)) = (&to.transformer, extent) {
            to.grid = Grid::new(t, e);
        }
        Ok(to)
    }

    /// One point, converted: NaN where it cannot be (written as `null`); the analysis CRS
    /// has already transformed these coordinates once, so that is rare.
    fn convert(&self, t: &Transformer, p: Coord<f64>) -> Coord<f64> {
        let q = match &self.grid {
            Some(g) => g.convert(t, p),
            None => {
                let (mut x, mut y) = (p.x, p.y);
                t.transform(&mut x, &mut y).map(|()| Coord { x, y })
            }
        };
        q.unwrap_or(Coord {
            x: f64::NAN,
            y: f64::NAN,
        })
    }

    /// Appends one ring, converted, wound `ccw` (exterior) or clockwise (hole).
    fn ring(&self, ring: &[Coord<f64>], ccw: bool, scratch: &mut Scratch, out: &mut Text) {
        let pts = &mut scratch.pts;
        pts.clear();
        pts.extend_from_slice(ring);
        if let Some(t) = &self.transformer {
            // A closed ring repeats its first point last: converted once, copied.
            let closed = pts.len() > 1 && pts.first() == pts.last();
            let n = pts.len() - usize::from(closed);
            if self.grid.is_some() {
                // Interpolating a point costs less than looking it up among those converted.
                for p in &mut pts[..n] {
                    *p = self.convert(t, *p);
                }
            } else {
                for p in &mut pts[..n] {
                    let key = (p.x.to_bits(), p.y.to_bits());
                    *p = *scratch
                        .converted
                        .entry(key)
                        .or_insert_with(|| self.convert(t, *p));
                }
            }
            if closed {
                pts[n] = pts[0];
            }
        }
        if (twice_signed_area(pts) > 0.0) != ccw {
            pts.reverse();
        }
        out.push('[');
        for (i, p) in pts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            push_deg(out, p.x);
            out.push(',');
            push_deg(out, p.y);
            out.push(']');
        }
        out.push(']');
    }

    /// Appends the `geometry` member of a feature: a Polygon for one part, else a
    /// MultiPolygon.
    fn push_geometry(&self, mp: &MultiPolygon<f64>, scratch: &mut Scratch, out: &mut Text) {
        let mut polygon = |p: &geo::Polygon<f64>, out: &mut Text| {
            out.push('[');
            self.ring(&p.exterior().0, true, scratch, out);
            for h in p.interiors() {
                out.push(',');
                self.ring(&h.0, false, scratch, out);
            }
            out.push(']');
        };
        if mp.0.len() == 1 {
            out.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            polygon(&mp.0[0], out);
        } else {
            out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
            for (i, p) in mp.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                polygon(p, out);
            }
            out.push(']');
        }
        out.push('}');
    }
}

/// The error an export stopped by `Control::cancel` ends with (kind `Interrupted`); the
/// temporary file is removed and the destination is left as it was.
pub fn is_cancelled(e: &ExportError) -> bool {
    e.source.kind() == std::io::ErrorKind::Interrupted
}

/// Writes a FeatureCollection of the features `order` names: `properties(i, out)` appends
/// the properties object of the i-th, `geometry(i)` gives its geometry, written in WGS 84
/// through `to`. Blocks of features are formatted in parallel, a run of features into one
/// string, while a named writer thread writes the previous block, so memory stays bounded
/// and order is kept. Progress is reported and cancellation checked once a block.
fn feature_collection<'g>(
    w: &mut (dyn Write + Send),
    order: &[usize],
    ctl: Control,
    to: &ToWgs84,
    properties: impl Fn(usize, &mut Text) + Sync,
    geometry: impl Fn(usize) -> &'g MultiPolygon<f64> + Sync,
) -> std::io::Result<()> {
    const BLOCK: usize = 4096;
    // Features formatted into one string: small enough to spread a block over the threads.
    const RUN: usize = 64;
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    let sink = &mut *w;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Text>>(2);
        let writer = std::thread::Builder::new()
            .name("geojson-writer".into())
            .spawn_scoped(scope, move || -> std::io::Result<()> {
                let w = sink;
                let mut first = true;
                for block in rx {
                    for run in &block {
                        if !first {
                            w.write_all(b",\n")?;
                        }
                        first = false;
                        w.write_all(run.as_bytes())?;
                    }
                }
                Ok(())
            })?;
        let blocks = order.len().div_ceil(BLOCK).max(1);
        for (b, block) in order.chunks(BLOCK).enumerate() {
            if ctl.cancelled() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "cancelled",
                ));
            }
            ctl.report(Phase::Export, b as f32 / blocks as f32);
            let runs: Vec<Text> = block
                .par_chunks(RUN)
                .map(|run| {
                    let mut out = Text::with_capacity(run.len() * 1024);
                    // The table of converted points serves only exact conversions.
                    let room = if to.grid.is_some() { 0 } else { run.len() * 16 };
                    let mut scratch = Scratch::with_room(room);
                    for (k, &i) in run.iter().enumerate() {
                        if k > 0 {
                            out.push_str(",\n");
                        }
                        out.push_str("{\"type\":\"Feature\",\"properties\":");
                        properties(i, &mut out);
                        out.push_str(",\"geometry\":");
                        to.push_geometry(geometry(i), &mut scratch, &mut out);
                        out.push('}');
                    }
                    out
                })
                .collect();
            if tx.send(runs).is_err() {
                break; // the writer failed; its error is returned below
            }
        }
        drop(tx);
        ctl.report(Phase::Export, 1.0);
        writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the GeoJSON writer thread panicked")))
    })?;
    w.write_all(b"\n]}\n")
}

/// A value of an output field, as both `parcels.geojson`/`risk_areas.geojson` and
/// `results.gpkg` write it.
#[derive(Debug, Clone, PartialEq)]
pub enum OutValue<'a> {
    /// Text; `None` is written as null.
    Text(Option<std::borrow::Cow<'a, str>>),
    /// A list of texts (a JSON array; JSON text in a GeoPackage).
    TextList(Vec<&'a str>),
    /// A number (m², a rate); `None`, NaN and infinity are written as null.
    Number(Option<f64>),
    /// A count.
    Count(usize),
}

impl<'a> OutValue<'a> {
    /// Text borrowed from the data.
    pub fn text(s: &'a str) -> Self {
        OutValue::Text(Some(s.into()))
    }
    /// Text borrowed from the data, or null.
    pub fn text_or_null(s: Option<&'a str>) -> Self {
        OutValue::Text(s.map(Into::into))
    }
}

/// The type of an output field: its GeoPackage column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    Text,
    TextList,
    Number,
    Count,
}

/// The fields of `parcels.geojson` (and the `parcels` layer of `results.gpkg`), in order.
pub const PARCEL_FIELDS: [(&str, OutKind); 12] = [
    ("parcel_id", OutKind::Text),
    ("region", OutKind::Text),
    ("measure", OutKind::Text),
    ("risk_class", OutKind::Text),
    ("risk_ids", OutKind::TextList),
    ("area_m2", OutKind::Number),
    ("priority_area_m2", OutKind::Number),
    ("safe_use_area_m2", OutKind::Number),
    ("strict_control_area_m2", OutKind::Number),
    ("contaminated_area_m2", OutKind::Number),
    ("treated_area_m2", OutKind::Number),
    ("untreated_area_m2", OutKind::Number),
];

/// The values of [`PARCEL_FIELDS`] for the parcel at position `i` of `a.parcel_info`.
pub fn parcel_values(a: &Analysis, i: usize) -> [OutValue<'_>; 12] {
    let info = &a.parcel_info[i];
    let r = &a.parcel_results[i];
    let n = |x: f64| OutValue::Number(Some(x));
    [
        OutValue::text(&info.id),
        OutValue::text(&info.region),
        OutValue::text(&info.measure_text),
        OutValue::text_or_null(r.risk_class().map(|c| c.code())),
        OutValue::TextList(a.risk_ids_of(i)),
        n(r.area_m2),
        n(r.class_m2[0]),
        n(r.class_m2[1]),
        n(r.class_m2[2]),
        n(r.contaminated_m2()),
        n(r.treated_m2),
        n(r.untreated_m2()),
    ]
}

/// The fields of `risk_areas.geojson` (and the `risk_areas` layer of `results.gpkg`).
pub const RISK_FIELDS: [(&str, OutKind); 7] = [
    ("risk_id", OutKind::Text),
    ("risk_class", OutKind::Text),
    ("pollutant", OutKind::Text),
    ("cultivated_area_m2", OutKind::Number),
    ("treated_area_m2", OutKind::Number),
    ("safe_utilization_rate", OutKind::Number),
    ("parcels", OutKind::Count),
];

/// The values of [`RISK_FIELDS`] for the risk area at position `i` of `a.risk_areas`.
pub fn risk_values(a: &Analysis, i: usize) -> [OutValue<'_>; 7] {
    let ra = &a.risk_areas[i];
    let r = &a.risk_results[i];
    [
        OutValue::text(&ra.id),
        OutValue::text(ra.class.code()),
        OutValue::text_or_null((!ra.pollutant.is_empty()).then_some(&*ra.pollutant)),
        OutValue::Number(Some(r.cultivated_m2)),
        OutValue::Number(Some(r.treated_m2)),
        OutValue::Number(rate(r.treated_m2, r.cultivated_m2)),
        OutValue::Count(r.parcels),
    ]
}

/// Appends a properties object: `{"name":value,...}`.
fn push_properties(props: &mut Text, fields: &[(&str, OutKind)], values: &[OutValue<'_>]) {
    props.push('{');
    for (k, ((name, _), value)) in fields.iter().zip(values).enumerate() {
        if k > 0 {
            props.push(',');
        }
        props.push('"');
        props.push_str(name);
        props.push_str("\":");
        match value {
            OutValue::Text(Some(s)) => push_json_str(props, s),
            OutValue::Text(None) | OutValue::Number(None) => props.push_str("null"),
            OutValue::TextList(list) => {
                props.push('[');
                for (k, s) in list.iter().enumerate() {
                    if k > 0 {
                        props.push(',');
                    }
                    push_json_str(props, s);
                }
                props.push(']');
            }
            OutValue::Number(Some(x)) => push_num(props, *x),
            OutValue::Count(n) => {
                let _ = write!(props, "{n}");
            }
        }
    }
    props.push('}');
}

/// The parcels at risk (positions in `a.parcel_info`) in output order: by parcel id, ties
/// by position, so the order is total and the same input gives the same file.
pub fn parcel_order(a: &Analysis) -> Vec<usize> {
    // An unstable sort gives the total order exactly. Each id's first 16 bytes, big-endian,
    // order as the id does (a parcel id usually fits whole): most comparisons are of
    // integers, not of strings behind two pointers.
    let mut keyed: Vec<(u128, &str, usize, usize)> = (0..a.parcel_info.len())
        .into_par_iter()
        .filter(|&i| a.parcel_results[i].contaminated_m2() > 0.0)
        .map(|i| {
            let info = &a.parcel_info[i];
            (id_prefix(&info.id), &*info.id, info.feature, i)
        })
        .collect();
    keyed.par_sort_unstable_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(y.1)).then(x.2.cmp(&y.2)));
    keyed.into_iter().map(|k| k.3).collect()
}

/// The risk areas (positions in `a.risk_areas`) in output order: by risk id, ties by
/// position.
pub fn risk_order(a: &Analysis) -> Vec<usize> {
    let mut order: Vec<usize> = (0..a.risk_areas.len()).collect();
    order.sort_by(|&x, &y| {
        a.risk_areas[x]
            .id
            .cmp(&a.risk_areas[y].id)
            .then(a.risk_areas[x].feature.cmp(&a.risk_areas[y].feature))
    });
    order
}

/// Writes `parcels.geojson`: every parcel at risk with its numbers, sorted by parcel id.
pub fn write_parcels(
    path: &Path,
    a: &Analysis,
    to: &ToWgs84,
    ctl: Control,
) -> Result<(), ExportError> {
    let order = parcel_order(a);
    write_atomic(path, |w| {
        feature_collection(
            w,
            &order,
            ctl,
            to,
            |i, props| push_properties(props, &PARCEL_FIELDS, &parcel_values(a, i)),
            |i| &a.parcels.features[a.parcel_info[i].feature].geometry,
        )
    })
}

/// Writes a FeatureCollection of the features `order` names, with `fields` and each one's
/// `values(i)`: for outputs whose fields are declared beside their own data (a comparison's
/// `changes.geojson`).
pub fn write_features<'g, 'v>(
    path: &Path,
    order: &[usize],
    fields: &[(&str, OutKind)],
    values: impl Fn(usize) -> Vec<OutValue<'v>> + Sync,
    geometry: impl Fn(usize) -> &'g MultiPolygon<f64> + Sync,
    to: &ToWgs84,
    ctl: Control,
) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        feature_collection(
            w,
            order,
            ctl,
            to,
            |i, props| push_properties(props, fields, &values(i)),
            geometry,
        )
    })
}

/// The first 16 bytes of `id` as a big-endian integer, zero-padded: comparing two of them
/// orders the ids as comparing the strings does, except that ids equal in those bytes (or one
/// a prefix of the other ending in NUL bytes) compare equal and need the strings compared.
fn id_prefix(id: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = id.len().min(16);
    b[..n].copy_from_slice(&id.as_bytes()[..n]);
    u128::from_be_bytes(b)
}

/// Writes `risk_areas.geojson`: every risk area with the cultivated land inside it, sorted by
/// risk id.
pub fn write_risk_areas(
    path: &Path,
    a: &Analysis,
    to: &ToWgs84,
    ctl: Control,
) -> Result<(), ExportError> {
    let order = risk_order(a);
    write_atomic(path, |w| {
        feature_collection(
            w,
            &order,
            ctl,
            to,
            |i, props| push_properties(props, &RISK_FIELDS, &risk_values(a, i)),
            |i| &a.risk.features[a.risk_areas[i].feature].geometry,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sorted_by_their_prefix_then_text_sort_as_the_text_does() {
        let mut ids: Vec<String> = vec![
            "".into(),
            "a".into(),
            "a\0".into(),
            "a\0b".into(),
            "510185-008920".into(),
            "510185-0089201".into(),
            "510185-008920-longer-than-16".into(),
            "510185-008920-longer-than-15".into(),
            "乐至县-00001".into(),
            "乐至县-00001-二".into(),
            "Z".into(),
            "~".into(),
        ];
        // Generated ids around the 16-byte boundary.
        for n in 0..400u32 {
            let len = 12 + (n % 8) as usize;
            let s: String = format!(
                "{:0>width$}",
                n.wrapping_mul(2_654_435_761) % 977,
                width = len
            );
            ids.push(s);
        }
        let mut by_text = ids.clone();
        by_text.sort();
        let mut by_key = ids.clone();
        by_key.sort_by(|x, y| id_prefix(x).cmp(&id_prefix(y)).then(x.cmp(y)));
        assert_eq!(by_key, by_text);
        assert!(id_prefix("a") < id_prefix("b") && id_prefix("ab") > id_prefix("a"));
    }

    #[test]
    fn numbers_and_degrees_are_printed_stably() {
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(num(2500.0), "2500");
        assert_eq!(num(f64::NAN), "null");
        assert_eq!(deg(104.0), "104");
        assert_eq!(deg(30.123456789123), "30.123456789");
        assert_eq!(deg(-0.0000000001), "0");
        assert_eq!(deg(-73.5), "-73.5");
        assert_eq!(deg(0.000000123), "0.000000123");
        assert_eq!(deg(-0.25), "-0.25");
        assert_eq!(deg(179.999999999), "179.999999999");
    }

    #[test]
    fn shared_corners_are_written_as_if_each_were_converted_alone() {
        // Two CGCS2000 / 3-degree Gauss-Kruger CM 105E parcels sharing an edge, the second with
        // a hole: written through one scratch (corners met before come from its table, each
        // closing point is the first one copied) against each point converted on its own.
        let from = Crs::from_epsg(4544).unwrap();
        let to = ToWgs84::new(Some(&from)).unwrap();
        let t = Transformer::new(&from, &Crs::wgs84()).unwrap();
        let ring = |pts: &[(f64, f64)]| {
            geo::LineString::from(
                pts.iter()
                    .map(|&(x, y)| (x + 500_000.0, y + 3_300_000.0))
                    .collect::<Vec<_>>(),
            )
        };
        let a = geo::Polygon::new(
            ring(&[
                (0.0, 0.0),
                (120.5, 0.0),
                (120.5, 80.25),
                (0.0, 80.0),
                (0.0, 0.0),
            ]),
            vec![],
        );
        let b = geo::Polygon::new(
            ring(&[
                (120.5, 0.0),
                (260.0, 3.0),
                (250.0, 90.0),
                (120.5, 80.25),
                (120.5, 0.0),
            ]),
            vec![ring(&[
                (150.0, 20.0),
                (150.0, 40.0),
                (170.0, 40.0),
                (170.0, 20.0),
                (150.0, 20.0),
            ])],
        );
        let mut text = Text::default();
        let mut scratch = Scratch::with_room(16);
        for p in [&a, &b] {
            to.push_geometry(&MultiPolygon::new(vec![p.clone()]), &mut scratch, &mut text);
            text.push('\n');
        }
        let written = text.into_string();
        assert!(
            scratch.converted.len() < 5 + 5 + 4,
            "the shared corners were converted once"
        );

        let alone = |r: &geo::LineString<f64>, ccw: bool| {
            let mut pts: Vec<(f64, f64)> = r.0.iter().map(|c| (c.x, c.y)).collect();
            for p in &mut pts {
                t.transform(&mut p.0, &mut p.1).unwrap();
            }
            let coords: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
            if (twice_signed_area(&coords) > 0.0) != ccw {
                pts.reverse();
            }
            let xy: Vec<String> = pts
                .iter()
                .map(|&(x, y)| format!("[{},{}]", deg(x), deg(y)))
                .collect();
            format!("[{}]", xy.join(","))
        };
        let expected = format!(
            "{{\"type\":\"Polygon\",\"coordinates\":[{}]}}\n{{\"type\":\"Polygon\",\"coordinates\":[{},{}]}}\n",
            alone(a.exterior(), true),
            alone(b.exterior(), true),
            alone(&b.interiors()[0], false),
        );
        assert_eq!(written, expected);
    }

    #[test]
    fn interpolated_conversion_writes_what_the_exact_one_does_to_the_last_digit() {
        use geo::polygon;
        // Parcels spread over a province in CGCS2000 / 3-degree Gauss-Kruger CM 105E, written
        // once converting every point exactly and once through the grid over the province:
        // every number agrees to within one unit of the ninth decimal (a rounding the grid's
        // 1e-11 degrees can tip), and nearly all agree to the digit.
        let from = Crs::from_epsg(4544).unwrap();
        let province = Rect::new((330_000.0, 3_170_000.0), (690_000.0, 3_600_000.0));
        let exact = ToWgs84::new(Some(&from)).unwrap();
        let fast = ToWgs84::over(Some(&from), Some(province)).unwrap();
        assert!(fast.grid.as_ref().is_some_and(|g| g.trusted_share() == 1.0));
        let (mut a, mut b) = (Text::default(), Text::default());
        let (mut sa, mut sb) = (Scratch::with_room(16), Scratch::with_room(16));
        for k in 0..2000 {
            let x = 330_000.0 + (k as f64 * 0.618_034).fract() * 360_000.0;
            let y = 3_170_000.0 + (k as f64 * 0.754_878).fract() * 430_000.0;
            let p = polygon![
                (x: x, y: y), (x: x + 73.25, y: y + 1.5), (x: x + 70.0, y: y + 48.125),
                (x: x - 2.0, y: y + 50.0), (x: x, y: y)
            ];
            let mp = MultiPolygon::new(vec![p]);
            exact.push_geometry(&mp, &mut sa, &mut a);
            fast.push_geometry(&mp, &mut sb, &mut b);
        }
        let numbers = |s: &str| -> Vec<f64> {
            s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().unwrap())
                .collect()
        };
        let (a, b) = (a.into_string(), b.into_string());
        let (na, nb) = (numbers(&a), numbers(&b));
        assert_eq!(na.len(), 2000 * 10);
        assert_eq!(na.len(), nb.len());
        let differing = na.iter().zip(&nb).filter(|(x, y)| x != y).count();
        let worst = na
            .iter()
            .zip(&nb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        // One unit of the ninth decimal, as a difference of two numbers near 100 degrees.
        assert!(worst < 1.5e-9, "{worst:e}");
        assert!(differing * 100 <= na.len(), "{differing} of {}", na.len());
    }

    #[test]
    fn degrees_agree_with_rounding_by_the_standard_formatter() {
        // The hand-written digits against `{:.9}` with trailing zeros cut, over values spread
        // across the range of longitudes and latitudes (a fixed generator: the same every run).
        let reference = |x: f64| {
            let k = (x * 1e9).round() / 1e9;
            if k == 0.0 {
                return "0".to_string();
            }
            let s = format!("{k:.9}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = (state >> 11) as f64 / (1u64 << 53) as f64 * 360.0 - 180.0;
            assert_eq!(deg(x), reference(x), "{x:?}");
        }
    }

    #[test]
    fn json_strings_are_escaped_as_serde_json_does() {
        for s in [
            "双流区",
            "plain",
            "a\"quote",
            "back\\slash",
            "line\nbreak",
            "\u{1}x",
            "",
        ] {
            assert_eq!(json_str(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn atomic_write_leaves_nothing_behind_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "old").unwrap();
        let r = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_atomic(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
