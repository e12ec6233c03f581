//! The land-based transition matrix: land area by status before × status after.
//!
//! Every point of the land takes, each year, the status of the parcel it lies in and of the
//! risk class there: `not_cultivated` outside every parcel, `no_risk` in a parcel outside
//! every risk face, else `treated` or `untreated` by the treatment rule for the parcel's
//! measure and the class. Splits, merges and redrawn boundaries need no matching: the land is
//! measured, not the parcels.
//!
//! How it is measured, with the overlay machinery of the analysis:
//! - The risk faces of both years are one [`RiskMap`]: the after year's own when both years
//!   share a risk layer, else the two layers' areas cut into faces together (an area drawn
//!   the same in both years taken once), each face knowing its class in each year.
//! - A parcel of the same id and the same geometry in both years (most of them) is its own
//!   intersection: its pieces in the faces (those of the analysis itself where they can be
//!   reused) give its land by class in both years. No clipping.
//! - Every other after-year parcel is clipped with each other before-year parcel whose box
//!   meets it (an R-tree over those only: parcels of a year do not overlap, so a parcel
//!   unchanged in both years meets none of them), and each intersection is measured against
//!   the faces. What is left of either parcel outside the other year's parcels is land that
//!   was, or became, `not_cultivated`.
//!
//! Parcels are taken not to overlap within a year (the analysis warns where they do). Where
//! they do, the land they share is counted once for each of them, as the accounting counts
//! it, and the other year's totals no longer match: a warning gives the year and the area. Sums run in a fixed
//! order (fixed chunks, then in order), so the same input gives the same bits.

use std::borrow::Cow;
use std::collections::HashMap;

use geo::{MultiPolygon, Rect};
use rayon::prelude::*;

use crate::geom::area::AreaMethod;
use crate::geom::boxes::{bounds, interiors_overlap};
use crate::geom::clip::intersection;
use crate::geom::index::BoxIndex;
use crate::overlay::RiskMap;
use crate::pipeline::{Analysis, AnalysisError, AreaBasis, Control, ParcelInfo, Phase, Shape};
use crate::vocab::{Measure, RiskClass, is_treated};

use super::Regions;

/// The status of a point of the land in one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    NotCultivated,
    NoRisk,
    Treated,
    Untreated,
}

/// Every status, in the matrix's order.
pub const STATUSES: [Status; 4] = [
    Status::NotCultivated,
    Status::NoRisk,
    Status::Treated,
    Status::Untreated,
];

impl Status {
    pub fn index(self) -> usize {
        self as usize
    }
    /// As `compare.json` writes it.
    pub fn code(self) -> &'static str {
        match self {
            Status::NotCultivated => "not_cultivated",
            Status::NoRisk => "no_risk",
            Status::Treated => "treated",
            Status::Untreated => "untreated",
        }
    }
    /// As the window and the county table name it.
    pub fn chinese(self) -> &'static str {
        match self {
            Status::NotCultivated => "非耕地",
            Status::NoRisk => "无风险",
            Status::Treated => "已落实",
            Status::Untreated => "未落实",
        }
    }
    pub fn is_contaminated(self) -> bool {
        matches!(self, Status::Treated | Status::Untreated)
    }
}

/// Land area in m² by status before (rows) and status after (columns), indexed by
/// `Status::index`. `not_cultivated` to `not_cultivated` is always 0: land outside the parcels
/// of both years is not measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Transitions {
    pub m2: [[f64; 4]; 4],
}

impl Transitions {
    pub fn get(&self, before: Status, after: Status) -> f64 {
        self.m2[before.index()][after.index()]
    }
    fn add(&mut self, before: Status, after: Status, m2: f64) {
        self.m2[before.index()][after.index()] += m2;
    }
    /// Adds land by class before and after (`[before][after]`, m²) of a before-year parcel
    /// and an after-year one, each class taking its status under the parcel's measure.
    fn add_land(&mut self, by: &[[f64; 4]; 4], ib: &ParcelInfo, ia: &ParcelInfo) {
        for (cb, row) in by.iter().enumerate() {
            for (ca, &m2) in row.iter().enumerate() {
                if m2 != 0.0 {
                    self.add(
                        status(cb as u8, ib.measure, ib.complied),
                        status(ca as u8, ia.measure, ia.complied),
                        m2,
                    );
                }
            }
        }
    }
    fn merge(&mut self, o: &Transitions) {
        for (row, orow) in self.m2.iter_mut().zip(&o.m2) {
            for (x, y) in row.iter_mut().zip(orow) {
                *x += y;
            }
        }
    }
    /// The land that had `status` before: a row's sum.
    pub fn before_total(&self, status: Status) -> f64 {
        self.m2[status.index()].iter().sum()
    }
    /// The land that has `status` after: a column's sum.
    pub fn after_total(&self, status: Status) -> f64 {
        self.m2.iter().map(|row| row[status.index()]).sum()
    }
    /// Contaminated land before (treated and untreated).
    pub fn contaminated_before(&self) -> f64 {
        self.before_total(Status::Treated) + self.before_total(Status::Untreated)
    }
    pub fn contaminated_after(&self) -> f64 {
        self.after_total(Status::Treated) + self.after_total(Status::Untreated)
    }
}

/// A class on the land in one year: 0 outside every risk face, else `RiskClass::index` + 1.
type ClassIx = u8;

fn class_ix(c: RiskClass) -> ClassIx {
    c.index() as u8 + 1
}

/// The status of land of class `c` in a parcel under `measure`.
fn status(c: ClassIx, measure: Measure, complied: bool) -> Status {
    match c {
        0 => Status::NoRisk,
        c => {
            if is_treated(RiskClass::ALL[usize::from(c) - 1], measure, complied) {
                Status::Treated
            } else {
                Status::Untreated
            }
        }
    }
}

/// The risk faces of both years in one map, each face's class before and after.
struct Faces<'a> {
    map: Cow<'a, RiskMap>,
    class: Vec<[ClassIx; 2]>,
}

impl<'a> Faces<'a> {
    fn new(before: &'a Analysis, after: &'a Analysis, same_risk: bool) -> Faces<'a> {
        if same_risk {
            let class = after
                .map
                .faces
                .iter()
                .map(|f| [class_ix(f.class); 2])
                .collect();
            return Faces {
                map: Cow::Borrowed(&after.map),
                class,
            };
        }
        let areas = |a: &'a Analysis| {
            a.risk_areas
                .iter()
                .map(move |r| (&a.risk.features[r.feature].geometry, r.class))
        };
        // A risk area drawn the same in both years (most of them) is one area of the map,
        // with a class in each year: the faces are then cut where the years differ only.
        let after_areas: Vec<(&MultiPolygon<f64>, RiskClass)> = areas(after).collect();
        let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, (g, _)) in after_areas.iter().enumerate() {
            by_hash
                .entry(Shape::of(g, &after.area_method).hash)
                .or_default()
                .push(i);
        }
        let mut also_before: Vec<ClassIx> = vec![0; after_areas.len()];
        let mut list = after_areas.clone();
        let mut before_only: Vec<ClassIx> = Vec::new();
        for (g, c) in areas(before) {
            let same = by_hash
                .get(&Shape::of(g, &after.area_method).hash)
                .and_then(|ix| ix.iter().copied().find(|&i| after_areas[i].0 == g));
            match same {
                Some(i) => also_before[i] = also_before[i].max(class_ix(c)),
                None => {
                    list.push((g, c));
                    before_only.push(class_ix(c));
                }
            }
        }
        let split = after_areas.len();
        let map = RiskMap::build(&list);
        let class = map
            .faces
            .iter()
            .map(|f| {
                let mut c: [ClassIx; 2] = [0; 2];
                for &r in &f.risks {
                    let r = r as usize;
                    if r < split {
                        c[1] = c[1].max(class_ix(list[r].1));
                        c[0] = c[0].max(also_before[r]);
                    } else {
                        c[0] = c[0].max(before_only[r - split]);
                    }
                }
                c
            })
            .collect();
        Faces {
            map: Cow::Owned(map),
            class,
        }
    }

    /// The land of `g` by class before and after (`[before][after]`), in m², and its whole
    /// area.
    fn measure(&self, g: &MultiPolygon<f64>, method: &AreaMethod) -> ([[f64; 4]; 4], f64) {
        let area = method.multi_polygon_m2(g);
        let mut by = [[0.0; 4]; 4];
        let mut rest = area;
        for p in self.map.measure(g, method) {
            let [b, a] = self.class[p.face as usize];
            by[usize::from(b)][usize::from(a)] += p.area_m2;
            rest -= p.area_m2;
        }
        by[0][0] += rest.max(0.0);
        (by, area)
    }
}

/// The land of one pair of parcels that overlap (neither unchanged), for matching and for
/// the before-year parcel's remainder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pair {
    pub before: u32,
    pub after: u32,
    /// Their shared area, m².
    pub m2: f64,
    /// It, by the before year's class (`ClassIx`).
    by_before_class: [f64; 4],
}

/// What the measurement gives to the rest of the comparison.
pub(crate) struct Land {
    pub total: Transitions,
    pub by_region: Vec<Transitions>,
    /// For each after-year parcel, the before-year parcel of the same id and geometry.
    pub twins: Vec<Option<u32>>,
    /// Overlapping pairs of parcels that are not twins, in after-parcel order.
    pub pairs: Vec<Pair>,
    pub warnings: Vec<String>,
}

/// What is left of a parcel outside the other year's parcels, as a share of its area, below
/// which it is the clipper's rounding (i_overlay snaps to a fixed-point grid), not land.
const NOISE: f64 = 1e-7;

/// Parcels measured per chunk: the unit of parallel work and of the fixed summation order.
const CHUNK: usize = 2048;

/// What one chunk of parcels adds.
struct Acc {
    cells: Vec<Transitions>,
    pairs: Vec<Pair>,
    /// Land counted twice by parcels of one year that overlap (m²).
    overlap: [f64; 2],
}

impl Acc {
    fn new(regions: usize) -> Acc {
        Acc {
            cells: vec![Transitions::default(); regions],
            pairs: Vec::new(),
            overlap: [0.0; 2],
        }
    }
}

fn geometry(a: &Analysis, k: usize) -> &MultiPolygon<f64> {
    &a.parcels.features[a.parcel_info[k].feature].geometry
}

/// The same shape: the same rings, each coordinate equal to 1e-9 relative (3 mm on a
/// Gauss-Kruger northing).
pub(crate) fn same_geometry(x: &MultiPolygon<f64>, y: &MultiPolygon<f64>) -> bool {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    let ring_eq = |r: &geo::LineString<f64>, s: &geo::LineString<f64>| {
        r.0.len() == s.0.len()
            && r.0
                .iter()
                .zip(&s.0)
                .all(|(p, q)| close(p.x, q.x) && close(p.y, q.y))
    };
    x.0.len() == y.0.len()
        && x.0.iter().zip(&y.0).all(|(p, q)| {
            ring_eq(p.exterior(), q.exterior())
                && p.interiors().len() == q.interiors().len()
                && p.interiors()
                    .iter()
                    .zip(q.interiors())
                    .all(|(r, s)| ring_eq(r, s))
        })
}

/// For each after-year parcel, the before-year parcel of the same id (the first of that id)
/// and the same shape (`same_shape`), each before-year parcel the twin of one at most.
pub(crate) fn twins(before: &Analysis, after: &Analysis) -> Vec<Option<u32>> {
    let mut first_of: HashMap<&str, u32> = HashMap::with_capacity(before.parcel_info.len());
    for (k, info) in before.parcel_info.iter().enumerate() {
        first_of.entry(&*info.id).or_insert(k as u32);
    }
    let mut twins: Vec<Option<u32>> = after
        .parcel_info
        .par_iter()
        .enumerate()
        .map(|(k, info)| {
            let b = *first_of.get(&*info.id)?;
            same_shape(before, b as usize, after, k).then_some(b)
        })
        .collect();
    // A parcel repeated in the after year is the twin of its before-year parcel once; the
    // repeats are clipped, and the land they share is warned of.
    let mut claimed = vec![false; before.parcel_info.len()];
    for t in &mut twins {
        if let Some(b) = *t {
            if claimed[b as usize] {
                *t = None;
            }
            claimed[b as usize] = true;
        }
    }
    twins
}

/// Whether before-year parcel `b` and after-year parcel `a` have the same shape: by their
/// fingerprints, bit for bit, where both analyses kept shapes (`KeepParcels::Shapes`), else
/// by `same_geometry` (to 1e-9).
pub(crate) fn same_shape(before: &Analysis, b: usize, after: &Analysis, a: usize) -> bool {
    if !before.shapes.is_empty() && !after.shapes.is_empty() {
        before.shapes[b].hash == after.shapes[a].hash
    } else {
        same_geometry(geometry(after, a), geometry(before, b))
    }
}

/// Measures the land of both years into a matrix for the whole land and per region.
pub(crate) fn measure(
    before: &Analysis,
    after: &Analysis,
    same_risk: bool,
    regions: &Regions,
    ctl: Control<'_>,
) -> Result<Land, AnalysisError> {
    let method = &after.area_method;
    let faces = Faces::new(before, after, same_risk);
    let geometric = |a: &Analysis| !matches!(a.area_basis, AreaBasis::Field(_));
    // The analysis' own pieces are the faces' when the faces are its own and unscaled.
    let reuse = same_risk && geometric(after);

    let twins = twins(before, after);
    let mut is_twin = vec![false; before.parcel_info.len()];
    for &b in twins.iter().flatten() {
        is_twin[b as usize] = true;
    }
    let changed: Vec<u32> = (0..before.parcel_info.len() as u32)
        .filter(|&b| !is_twin[b as usize])
        .collect();
    let boxes: Vec<Option<Rect<f64>>> = changed
        .iter()
        .map(|&b| bounds(geometry(before, b as usize)))
        .collect();
    let index = BoxIndex::bulk(
        changed
            .iter()
            .zip(&boxes)
            .filter_map(|(&b, r)| r.map(|r| (b, r))),
    );

    let nreg = regions.names.len();
    let total_parcels = (after.parcel_info.len() + changed.len()).max(1);
    let report = |done: usize| {
        ctl.report(Phase::Compare, 0.8 * done as f32 / total_parcels as f32);
    };
    // After-year parcels: twins and intersections.
    let after_ix: Vec<usize> = (0..after.parcel_info.len()).collect();
    let chunks: Vec<Acc> = after_ix
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut acc = Acc::new(nreg);
            if ctl.cancelled() {
                return acc;
            }
            for &a in chunk {
                let ia = &after.parcel_info[a];
                let region = regions.after[after.tally[a].region as usize] as usize;
                let cells = &mut acc.cells[region];
                let ga = geometry(after, a);
                if let Some(b) = twins[a] {
                    let ib = &before.parcel_info[b as usize];
                    let by = if reuse {
                        let r = &after.parcel_results[a];
                        let mut by = [[0.0; 4]; 4];
                        let mut rest = r.area_m2;
                        for p in &r.pieces {
                            let [cb, ca] = faces.class[p.face as usize];
                            by[usize::from(cb)][usize::from(ca)] += p.area_m2;
                            rest -= p.area_m2;
                        }
                        by[0][0] += rest.max(0.0);
                        by
                    } else {
                        // Under `KeepParcels::Shapes` a twin has its geometry in a year where
                        // it is at risk; at risk in neither, it is in no face of either.
                        let gb = geometry(before, b as usize);
                        match [ga, gb].into_iter().find(|g| !g.0.is_empty()) {
                            Some(g) => faces.measure(g, method).0,
                            None => {
                                let mut by = [[0.0; 4]; 4];
                                by[0][0] = after.shapes.get(a).map_or(0.0, |s| s.area_m2);
                                by
                            }
                        }
                    };
                    cells.add_land(&by, ib, ia);
                    continue;
                }
                let Some(abox) = bounds(ga) else { continue };
                let (whole, area_a) = faces.measure(ga, method);
                let mut a_in = [0.0; 4];
                for row in &whole {
                    for (ca, m2) in row.iter().enumerate() {
                        a_in[ca] += m2;
                    }
                }
                let mut near: Vec<u32> = index.intersecting(&abox).collect();
                near.sort_unstable();
                for b in near {
                    let gb = geometry(before, b as usize);
                    if !bounds(gb).is_some_and(|r| interiors_overlap(&r, &abox)) {
                        continue;
                    }
                    let x = intersection(ga, gb);
                    if x.0.is_empty() {
                        continue;
                    }
                    let (by, m2) = faces.measure(&x, method);
                    if m2.is_nan() || m2 <= 0.0 {
                        continue;
                    }
                    let ib = &before.parcel_info[b as usize];
                    cells.add_land(&by, ib, ia);
                    let mut by_before_class = [0.0; 4];
                    for (cb, row) in by.iter().enumerate() {
                        for (ca, &v) in row.iter().enumerate() {
                            a_in[ca] -= v;
                            by_before_class[cb] += v;
                        }
                    }
                    acc.pairs.push(Pair {
                        before: b,
                        after: a as u32,
                        m2,
                        by_before_class,
                    });
                }
                let noise = NOISE * area_a;
                for (ca, &rest) in a_in.iter().enumerate() {
                    if rest.abs() <= noise {
                        continue;
                    }
                    if rest > 0.0 {
                        cells.add(
                            Status::NotCultivated,
                            status(ca as u8, ia.measure, ia.complied),
                            rest,
                        );
                    } else {
                        acc.overlap[0] -= rest;
                    }
                }
            }
            report(chunk[0] + chunk.len());
            acc
        })
        .collect();
    if ctl.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    let mut by_region = vec![Transitions::default(); nreg];
    let mut pairs = Vec::new();
    let mut overlap = [0.0; 2];
    for acc in chunks {
        for (r, c) in by_region.iter_mut().zip(&acc.cells) {
            r.merge(c);
        }
        pairs.extend(acc.pairs);
        overlap[0] += acc.overlap[0];
    }

    // Before-year parcels that are not twins: what no after-year parcel covers.
    let mut covered: HashMap<u32, [f64; 4]> = HashMap::new();
    for p in &pairs {
        let c = covered.entry(p.before).or_insert([0.0; 4]);
        for (x, y) in c.iter_mut().zip(&p.by_before_class) {
            *x += y;
        }
    }
    let done_after = after.parcel_info.len();
    let chunks: Vec<Acc> = changed
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(ci, chunk)| {
            let mut acc = Acc::new(nreg);
            if ctl.cancelled() {
                return acc;
            }
            for &b in chunk {
                let ib = &before.parcel_info[b as usize];
                let region = regions.before[before.tally[b as usize].region as usize] as usize;
                let (whole, area) = faces.measure(geometry(before, b as usize), method);
                let cov = covered.get(&b).copied().unwrap_or_default();
                for (cb, row) in whole.iter().enumerate() {
                    let rest: f64 = row.iter().sum::<f64>() - cov[cb];
                    if rest.abs() <= NOISE * area {
                        continue;
                    }
                    if rest > 0.0 {
                        acc.cells[region].add(
                            status(cb as u8, ib.measure, ib.complied),
                            Status::NotCultivated,
                            rest,
                        );
                    } else {
                        acc.overlap[1] -= rest;
                    }
                }
            }
            report(done_after + ci * CHUNK + chunk.len());
            acc
        })
        .collect();
    if ctl.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    for acc in chunks {
        for (r, c) in by_region.iter_mut().zip(&acc.cells) {
            r.merge(c);
        }
        overlap[1] += acc.overlap[1];
    }
    let mut total = Transitions::default();
    for r in &by_region {
        total.merge(r);
    }

    let mut warnings = Vec::new();
    // What the before-year parcels clipped out of an after-year parcel exceeds it by is land
    // that before-year parcels share (`overlap[0]`), and the reverse (`overlap[1]`).
    for (year, a, double) in [("before", before, overlap[0]), ("after", after, overlap[1])] {
        let tol = 1e-6 * cultivated(a).max(1.0);
        if double > tol {
            warnings.push(format!(
                "parcels of the {year} year overlap one another over {double:.1} m² ({}): the \
                 transition matrix counts that land once for each of them",
                a.parcels.path.display()
            ));
        }
    }
    if !geometric(before) || !geometric(after) {
        warnings.push(
            "the transition matrix measures the land on its geometry; under a field: area \
             basis its totals differ from the accounting's surveyed areas"
                .to_string(),
        );
    } else {
        warnings.extend(check_totals(
            "before",
            before,
            &total,
            Transitions::before_total,
        ));
        warnings.extend(check_totals(
            "after",
            after,
            &total,
            Transitions::after_total,
        ));
    }
    Ok(Land {
        total,
        by_region,
        twins,
        pairs,
        warnings,
    })
}

fn cultivated(a: &Analysis) -> f64 {
    a.tally.iter().map(|t| t.area_m2).sum()
}

/// The year's land by status as its analysis counted it: no risk, treated, untreated (m²).
pub fn accounted(a: &Analysis) -> [f64; 3] {
    let mut out = [0.0; 3];
    for r in &a.parcel_results {
        out[0] += (r.area_m2 - r.contaminated_m2()).max(0.0);
        out[1] += r.treated_m2;
        out[2] += r.untreated_m2();
    }
    out
}

/// A warning when a year's row or column of the matrix differs from its analysis' totals by
/// more than 1e-6 of its cultivated area.
fn check_totals(
    year: &str,
    a: &Analysis,
    total: &Transitions,
    side: fn(&Transitions, Status) -> f64,
) -> Option<String> {
    let want = accounted(a);
    let tol = 1e-6 * cultivated(a).max(1.0);
    let statuses = [Status::NoRisk, Status::Treated, Status::Untreated];
    let off: Vec<String> = statuses
        .iter()
        .zip(want)
        .filter(|&(&s, w)| (side(total, s) - w).abs() > tol)
        .map(|(&s, w)| format!("{} {:.1} m² against {w:.1}", s.code(), side(total, s)))
        .collect();
    (!off.is_empty()).then(|| {
        format!(
            "the transition matrix's {year} totals differ from the analysis of {}: {}",
            a.parcels.path.display(),
            off.join(", ")
        )
    })
}
