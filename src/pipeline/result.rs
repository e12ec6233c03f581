//! What a run produces: the risk areas and parcels as the analysis read them, each parcel's
//! and each risk area's numbers in m², the tallies the totals are summed from, warnings and
//! timings. Totals for a target rate come from `Analysis::summary` (`stats`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::crs::Crs;
use crate::geom::area::AreaMethod;
use crate::geom::index::BoxIndex;
use crate::layer::Layer;
use crate::overlay::{Piece, RiskMap};
use crate::vocab::{Measure, RiskClass, is_treated};

use super::basis::AreaBasis;
use super::checks::overlapping_parcels_warning;
use super::progress::Timings;
use super::regions::Boundaries;

/// A risk area as the analysis sees it.
#[derive(Debug, Clone)]
pub struct RiskArea {
    /// Position in `Analysis::risk.features`.
    pub feature: usize,
    pub id: Arc<str>,
    pub class: RiskClass,
    /// The pollutants as the layer writes them (镉, 砷, `镉;铅`); empty where the pollutant
    /// role is off.
    pub pollutant: Arc<str>,
}

/// A parcel's attributes that the computation uses.
#[derive(Debug, Clone)]
pub struct ParcelInfo {
    /// Position in `Analysis::parcels.features`.
    pub feature: usize,
    pub id: Arc<str>,
    pub region: Arc<str>,
    pub measure: Measure,
    /// The measure as written in the file.
    pub measure_text: Arc<str>,
    /// True when no compliance field is used.
    pub complied: bool,
    /// Under a `field:` area basis, the surveyed area read (m²; NaN where the value is not a
    /// number); NaN otherwise.
    pub surveyed_m2: f64,
}

/// The numbers of one parcel, in m².
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParcelResult {
    pub area_m2: f64,
    /// Area inside each class (I, II, III), after overlaps went to the highest class.
    pub class_m2: [f64; 3],
    pub treated_m2: f64,
    /// The parcel's share of each risk face it overlaps.
    pub pieces: Vec<Piece>,
}

impl ParcelResult {
    /// The treated area in each class (B, C, D of the national method: I, II, III), in m²,
    /// for a measure and the crop's compliance.
    pub fn treated_by_class(&self, measure: Measure, complied: bool) -> [f64; 3] {
        RiskClass::ALL.map(|c| {
            if is_treated(c, measure, complied) {
                self.class_m2[c.index()]
            } else {
                0.0
            }
        })
    }

    /// Sets `treated_m2` for a measure and compliance: B + C + D.
    pub fn set_treated(&mut self, measure: Measure, complied: bool) {
        let [b, c, d] = self.treated_by_class(measure, complied);
        self.treated_m2 = b + c + d;
    }

    pub fn contaminated_m2(&self) -> f64 {
        self.class_m2.iter().sum()
    }
    pub fn untreated_m2(&self) -> f64 {
        (self.contaminated_m2() - self.treated_m2).max(0.0)
    }
    /// The highest class with area in the parcel.
    pub fn risk_class(&self) -> Option<RiskClass> {
        RiskClass::ALL
            .into_iter()
            .rev()
            .find(|c| self.class_m2[c.index()] > 0.0)
    }
}

/// The numbers of one risk area: cultivated land inside it and how much is treated, in m².
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskResult {
    pub cultivated_m2: f64,
    pub treated_m2: f64,
    pub parcels: usize,
}

/// A parcel as the totals need it, kept for every parcel of the layer in its order (under
/// `KeepParcels::AtRisk`, also for those whose full record was dropped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParcelTally {
    /// Its area in m² (`ParcelResult::area_m2`).
    pub area_m2: f64,
    /// Its region: an index into `Analysis::regions`.
    pub region: u32,
    /// Its position in `parcel_info` and `parcel_results`; `NOT_KEPT` when not kept.
    pub(super) kept: u32,
}

impl ParcelTally {
    pub(super) const NOT_KEPT: u32 = u32::MAX;

    /// The parcel's position in `parcel_info` and `parcel_results`, if it was kept.
    pub fn kept(&self) -> Option<usize> {
        (self.kept != Self::NOT_KEPT).then_some(self.kept as usize)
    }
}

/// A parcel's shape in a few bytes, for finding the parcels two years share unchanged
/// without keeping their geometry (`KeepParcels::Shapes`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// A fingerprint of the geometry in the analysis CRS: its rings' coordinates, bit for bit.
    pub hash: u64,
    /// Its geometric area (m², by `Analysis::area_method`), whatever the area basis.
    pub area_m2: f64,
}

impl Shape {
    pub fn of(g: &geo::MultiPolygon<f64>, method: &AreaMethod) -> Shape {
        use std::hash::{BuildHasher, Hasher};
        let mut h = foldhash::quality::FixedState::with_seed(0x0053_4841_5045).build_hasher();
        h.write_usize(g.0.len());
        for p in &g.0 {
            h.write_usize(p.interiors().len());
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                h.write_usize(ring.0.len());
                for c in &ring.0 {
                    h.write_u64(c.x.to_bits());
                    h.write_u64(c.y.to_bits());
                }
            }
        }
        Shape {
            hash: h.finish(),
            area_m2: method.multi_polygon_m2(g),
        }
    }
}

/// Ids one after another in one string: a province's parcel ids without an allocation each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdList {
    text: String,
    ends: Vec<usize>,
}

impl IdList {
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The `i`th id. Panics when `i` is out of range, as indexing does.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Both layers, reprojected into the analysis CRS.
    pub risk: Layer,
    pub parcels: Layer,
    pub crs: Option<Crs>,
    /// The area the accounting counted.
    pub area_basis: AreaBasis,
    /// How geometric areas were measured.
    pub area_method: AreaMethod,
    pub risk_areas: Vec<RiskArea>,
    /// The parcels kept (see `KeepParcels`), in layer order: all, or those at risk.
    pub parcel_info: Vec<ParcelInfo>,
    pub map: RiskMap,
    pub parcel_index: Option<BoxIndex>,
    /// The numbers of the parcels in `parcel_info`, in the same order.
    pub parcel_results: Vec<ParcelResult>,
    /// Every parcel of the layer, kept or not, in layer order: the totals' source.
    pub tally: Vec<ParcelTally>,
    /// Every parcel's id, in layer order (as `tally`). Under `KeepParcels::All` these repeat
    /// `parcel_info`'s ids; they are kept in one string either way so that both ways of
    /// running give the same `Analysis` to compare years with.
    pub parcel_ids: IdList,
    /// Under `KeepParcels::Shapes`, every parcel's shape, in layer order (as `tally`); empty
    /// otherwise.
    pub shapes: Vec<Shape>,
    /// The regions' names, in the order they were first met (`ParcelTally::region`).
    pub regions: Vec<Arc<str>>,
    /// The regions' codes (GB/T 2260), by the same index, where known; empty when no region
    /// has one.
    pub region_codes: Vec<Option<Arc<str>>>,
    /// The boundary layer of regions, in the analysis CRS, where one was given.
    pub boundaries: Option<Boundaries>,
    /// The measure ledgers applied, in order (their columns; rows and cells are not kept:
    /// `ledger::read_ledger` reads one again to save edits into it).
    pub ledgers: Vec<crate::ledger::Ledger>,
    pub risk_results: Vec<RiskResult>,
    pub warnings: Vec<String>,
    pub timings: Timings,
}

impl Analysis {
    /// Risk-area ids a parcel overlaps, sorted and without repeats.
    pub fn risk_ids_of(&self, parcel: usize) -> Vec<&str> {
        let mut ids: Vec<u32> = self.parcel_results[parcel]
            .pieces
            .iter()
            .flat_map(|p| self.map.faces[p.face as usize].risks.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out: Vec<&str> = ids
            .iter()
            .map(|&i| &*self.risk_areas[i as usize].id)
            .collect();
        out.sort_unstable();
        out
    }

    /// The warning naming parcels at risk that overlap one another (their shared area is
    /// counted for each), or `None` when none do. It is not in `warnings`: the check takes a
    /// while at province scale, so each front end runs it beside other work (`analyze` while
    /// the outputs are written, see `outputs::write_set`; the window once the map is shown).
    pub fn parcel_overlap_warning(&self) -> Option<String> {
        overlapping_parcels_warning(&self.parcels, &self.parcel_info, &self.parcel_results)
    }

    /// The id and region (county) of the `i`th parcel of the layer, kept or not: what a
    /// comparison of two years matches parcels by. Panics when `i` is not below
    /// `tally.len()`, as indexing does.
    pub fn parcel_key(&self, i: usize) -> (&str, &str) {
        (
            self.parcel_ids.get(i),
            &self.regions[self.tally[i].region as usize],
        )
    }

    /// Gives kept parcel `k` (an index into `parcel_info`) another measure and compliance,
    /// as a ledger row or an edit in the window does, and updates what follows from them
    /// without a re-analysis: its treated area and the numbers of the risk areas it touches.
    /// Totals come from `summary` (or `stats::Accounts`, kept up to date edit by edit).
    /// Panics when `k` is out of range, as indexing does.
    pub fn set_treatment(
        &mut self,
        k: usize,
        measure: Measure,
        measure_text: Arc<str>,
        complied: bool,
    ) {
        let info = &self.parcel_info[k];
        let (old_measure, old_complied) = (info.measure, info.complied);
        let result = &mut self.parcel_results[k];
        for p in &result.pieces {
            let face = &self.map.faces[p.face as usize];
            let was = is_treated(face.class, old_measure, old_complied);
            let now = is_treated(face.class, measure, complied);
            if was != now {
                let delta = if now { p.area_m2 } else { -p.area_m2 };
                for &r in &face.risks {
                    self.risk_results[r as usize].treated_m2 += delta;
                }
            }
        }
        result.set_treated(measure, complied);
        let info = &mut self.parcel_info[k];
        info.measure = measure;
        info.measure_text = measure_text;
        info.complied = complied;
    }

    /// The code of region `i`, where known.
    pub fn region_code(&self, i: usize) -> Option<&str> {
        self.region_codes.get(i).and_then(|c| c.as_deref())
    }

    /// Overlap in m² of a parcel with each risk area it touches, by risk-area index.
    pub fn risk_overlaps(&self, parcel: usize) -> BTreeMap<u32, f64> {
        let mut out = BTreeMap::new();
        for p in &self.parcel_results[parcel].pieces {
            for &r in &self.map.faces[p.face as usize].risks {
                *out.entry(r).or_insert(0.0) += p.area_m2;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Control, Request, run};

    /// Changing a measure and changing it back gives the numbers of a fresh analysis each
    /// time: the sample's parcels at risk, every one set to strict control, then restored.
    #[test]
    fn set_treatment_matches_a_fresh_analysis() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let mut a = run(
            &Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp")),
            Control::default(),
        )
        .unwrap();
        let before = (a.summary(0.94), a.risk_results.clone());
        let at_risk: Vec<usize> = (0..a.parcel_info.len())
            .filter(|&k| a.parcel_results[k].contaminated_m2() > 0.0)
            .take(500)
            .collect();
        let old: Vec<(Measure, Arc<str>, bool)> = at_risk
            .iter()
            .map(|&k| {
                let i = &a.parcel_info[k];
                (i.measure, i.measure_text.clone(), i.complied)
            })
            .collect();
        for &k in &at_risk {
            a.set_treatment(k, Measure::StrictControl, "休耕".into(), true);
        }
        let strict = a.summary(0.94);
        assert!(strict.treated_area_m2 > before.0.treated_area_m2);
        for &k in &at_risk {
            let r = &a.parcel_results[k];
            assert_eq!(r.treated_m2, r.contaminated_m2());
        }
        for (&k, (m, t, c)) in at_risk.iter().zip(old) {
            a.set_treatment(k, m, t, c);
        }
        let after = a.summary(0.94);
        assert!((after.treated_area_m2 - before.0.treated_area_m2).abs() < 1e-6);
        for (x, y) in a.risk_results.iter().zip(&before.1) {
            assert!((x.treated_m2 - y.treated_m2).abs() < 1e-6, "{x:?} vs {y:?}");
        }
    }
}
