//! Totals of an analysis: province, per region (county) and the gap to the target rate, as
//! the product contract (`../shared/DESIGN.md`) defines them. All areas in m²; rates are
//! fractions (0.94, not 94).

use std::cmp::Ordering;
use std::sync::Arc;

use serde::Serialize;

use crate::pipeline::{Analysis, ParcelResult};
use crate::vocab::Measure;

/// The default target safe-utilisation rate.
pub const DEFAULT_TARGET: f64 = 0.94;

/// 1 mu (亩) in m².
pub const M2_PER_MU: f64 = 10_000.0 / 15.0;
/// 1 hectare in m².
pub const M2_PER_HA: f64 = 10_000.0;

/// treated / contaminated, or `None` where nothing is contaminated (the rate is undefined).
pub fn rate(treated_m2: f64, contaminated_m2: f64) -> Option<f64> {
    (contaminated_m2 > 0.0).then(|| treated_m2 / contaminated_m2)
}

/// The treated area still missing to reach `target`: max(0, target × contaminated − treated).
pub fn gap_to_target(target: f64, treated_m2: f64, contaminated_m2: f64) -> f64 {
    (target * contaminated_m2 - treated_m2).max(0.0)
}

/// Totals of one region (county).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RegionSummary {
    pub region: String,
    /// The region's administrative code (GB/T 2260) where known.
    pub code: Option<String>,
    pub parcels: usize,
    pub parcels_at_risk: usize,
    pub cultivated_area_m2: f64,
    pub contaminated_area_m2: f64,
    /// B, C and D of the national method (see `Summary`).
    pub priority_treated_area_m2: f64,
    pub safe_use_treated_area_m2: f64,
    pub strict_control_treated_area_m2: f64,
    pub treated_area_m2: f64,
    pub untreated_area_m2: f64,
    pub safe_utilization_rate: Option<f64>,
    pub gap_to_target_m2: f64,
    /// Parcels at risk with untreated area left (the county table's 未落实图斑数), after the
    /// product contract's fields.
    pub untreated_parcels: usize,
}

/// A parcel on the priority list: untreated area, most first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PriorityParcel {
    pub parcel_id: String,
    pub region: String,
    pub untreated_area_m2: f64,
    /// Parcel index in the analysis (not written to files).
    #[serde(skip)]
    pub index: usize,
}

/// The contents of `summary.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub parcels: usize,
    pub risk_areas: usize,
    pub parcels_at_risk: usize,
    pub cultivated_area_m2: f64,
    pub contaminated_area_m2: f64,
    pub priority_area_m2: f64,
    pub safe_use_area_m2: f64,
    pub strict_control_area_m2: f64,
    /// B + C + D.
    pub treated_area_m2: f64,
    /// B: class-I land under any measure.
    pub priority_treated_area_m2: f64,
    /// C: class-II land under safe-use or strict measures whose crops complied.
    pub safe_use_treated_area_m2: f64,
    /// D: class-III land under strict control.
    pub strict_control_treated_area_m2: f64,
    pub untreated_area_m2: f64,
    pub safe_utilization_rate: Option<f64>,
    pub target_rate: f64,
    pub gap_to_target_m2: f64,
    /// Parcels at risk with untreated area left (not in the product contract's list).
    pub untreated_parcels: usize,
    /// How many of the priority parcels it takes to close the gap.
    pub parcels_to_close_gap: usize,
    pub crs: String,
    pub area_method: String,
    /// `planar`, `ellipsoidal` or `field:NAME`.
    pub area_basis: String,
    pub warnings: Vec<String>,
    pub by_region: Vec<RegionSummary>,
    /// The untreated parcels that close the gap fastest (at most 100 listed).
    pub priority_parcels: Vec<PriorityParcel>,
}

impl Summary {
    /// Area by class, indexed like `RiskClass::index`.
    pub fn class_m2(&self) -> [f64; 3] {
        [
            self.priority_area_m2,
            self.safe_use_area_m2,
            self.strict_control_area_m2,
        ]
    }
}

/// How many priority parcels are listed in `summary.json`.
pub const PRIORITY_LISTED: usize = 100;

impl Analysis {
    /// Totals for a target rate with every warning about the data, the check for parcels at
    /// risk that overlap one another last: what `analyze` writes. (The window shows
    /// `summary` at once and adds the check's warning when its background check ends.)
    pub fn checked_summary(&self, target: f64) -> Summary {
        let mut summary = self.summary(target);
        summary.warnings.extend(self.parcel_overlap_warning());
        summary
    }

    /// Totals for a target rate. Sums run in parcel order, so the same input gives the same
    /// bits.
    pub fn summary(&self, target: f64) -> Summary {
        let mut class = [0.0; 3];
        let mut treated_class = [0.0; 3];
        let (mut cultivated, mut at_risk, mut untreated) = (0.0, 0, 0);
        let mut regions = vec![RegionSummary::default(); self.regions.len()];
        // Every parcel in layer order, its numbers where it was kept: a parcel not kept
        // (outside every risk area) adds only its area, as a kept one with no risk does.
        for t in &self.tally {
            cultivated += t.area_m2;
            let reg = &mut regions[t.region as usize];
            reg.parcels += 1;
            reg.cultivated_area_m2 += t.area_m2;
            let Some(k) = t.kept() else { continue };
            let r = &self.parcel_results[k];
            let info = &self.parcel_info[k];
            let contaminated = r.contaminated_m2();
            let [b, c, d] = r.treated_by_class(info.measure, info.complied);
            for (i, t) in [b, c, d].into_iter().enumerate() {
                class[i] += r.class_m2[i];
                treated_class[i] += t;
            }
            reg.contaminated_area_m2 += contaminated;
            reg.priority_treated_area_m2 += b;
            reg.safe_use_treated_area_m2 += c;
            reg.strict_control_treated_area_m2 += d;
            if contaminated > 0.0 {
                at_risk += 1;
                reg.parcels_at_risk += 1;
            }
            // As the priority list counts them (`priority_parcels`).
            if r.untreated_m2() > 0.0 {
                untreated += 1;
                reg.untreated_parcels += 1;
            }
        }
        let mut named: Vec<(&str, Option<&str>, RegionSummary)> = self
            .regions
            .iter()
            .enumerate()
            .zip(regions)
            .map(|((i, n), r)| (&**n, self.region_code(i), r))
            .collect();
        // By code where codes are known (GB/T 2260 order), then by name; parcels in no
        // region ("") last.
        named.sort_by(|a, b| {
            (a.0.is_empty(), a.1.is_none(), a.1, a.0).cmp(&(
                b.0.is_empty(),
                b.1.is_none(),
                b.1,
                b.0,
            ))
        });
        let contaminated: f64 = class.iter().sum();
        let treated: f64 = treated_class.iter().sum();
        let by_region = named
            .into_iter()
            .map(|(name, code, mut r)| {
                r.region = name.to_string();
                r.code = code.map(str::to_string);
                r.treated_area_m2 = r.priority_treated_area_m2
                    + r.safe_use_treated_area_m2
                    + r.strict_control_treated_area_m2;
                r.untreated_area_m2 = (r.contaminated_area_m2 - r.treated_area_m2).max(0.0);
                r.safe_utilization_rate = rate(r.treated_area_m2, r.contaminated_area_m2);
                r.gap_to_target_m2 =
                    gap_to_target(target, r.treated_area_m2, r.contaminated_area_m2);
                r
            })
            .collect();
        let gap = gap_to_target(target, treated, contaminated);
        let priority = self.priority_parcels();
        let mut closed = 0.0;
        let mut needed = 0;
        for p in &priority {
            if closed >= gap {
                break;
            }
            closed += p.untreated_area_m2;
            needed += 1;
        }
        Summary {
            parcels: self.tally.len(),
            risk_areas: self.risk_areas.len(),
            parcels_at_risk: at_risk,
            untreated_parcels: untreated,
            cultivated_area_m2: cultivated,
            contaminated_area_m2: contaminated,
            priority_area_m2: class[0],
            safe_use_area_m2: class[1],
            strict_control_area_m2: class[2],
            treated_area_m2: treated,
            priority_treated_area_m2: treated_class[0],
            safe_use_treated_area_m2: treated_class[1],
            strict_control_treated_area_m2: treated_class[2],
            untreated_area_m2: (contaminated - treated).max(0.0),
            safe_utilization_rate: rate(treated, contaminated),
            target_rate: target,
            gap_to_target_m2: gap,
            parcels_to_close_gap: needed,
            crs: self
                .crs
                .as_ref()
                .map_or_else(|| "unknown".to_string(), |c| c.label()),
            area_method: self.area_method.name().to_string(),
            area_basis: self.area_basis.to_string(),
            warnings: self.warnings.clone(),
            by_region,
            priority_parcels: priority.into_iter().take(PRIORITY_LISTED).collect(),
        }
    }

    /// Untreated parcels, most untreated area first (ties by id): the order that closes the
    /// gap to target with the fewest parcels.
    pub fn priority_parcels(&self) -> Vec<PriorityParcel> {
        let mut list: Vec<PriorityParcel> = self
            .parcel_info
            .iter()
            .zip(&self.parcel_results)
            .enumerate()
            .filter(|(_, (_, r))| r.untreated_m2() > 0.0)
            .map(|(i, (info, r))| PriorityParcel {
                parcel_id: info.id.to_string(),
                region: info.region.to_string(),
                untreated_area_m2: r.untreated_m2(),
                index: i,
            })
            .collect();
        list.sort_by(|a, b| {
            b.untreated_area_m2
                .total_cmp(&a.untreated_area_m2)
                .then_with(|| a.parcel_id.cmp(&b.parcel_id))
        });
        list
    }
}

/// The totals of `Analysis::summary`, kept up to date one measure edit at a time: what the
/// window shows while measures are edited, where `summary` (which walks every parcel and
/// sorts the priority list) would take too long per edit at a million parcels.
///
/// An edit changes only treated areas (B, C, D), so the class areas, counts and region names
/// are taken once from `summary`; each edit then adds the difference of its parcel's B, C
/// and D before and after to the totals and to its region's, and moves the parcel within
/// the priority list, kept sorted (untreated area, most first, then id, then layer order,
/// as `priority_parcels` sorts it), by binary search. Cost per edit: O(log n) comparisons
/// and one move of the list's tail; `summary` then costs O(regions + the parcels it takes
/// to close the gap). Sums drift from `summary`'s by rounding only (1e-12 relative after
/// thousands of edits).
#[derive(Debug, Clone)]
pub struct Accounts {
    /// `summary` at the start: everything an edit does not change.
    base: Summary,
    /// B, C and D of the whole, in m².
    treated: [f64; 3],
    /// By region index of the analysis (`Analysis::regions`).
    regions: Vec<RegionAccount>,
    /// Region index to the row of `base.by_region`.
    row_of_region: Vec<usize>,
    /// Kept parcel (index into `parcel_info`) to region index.
    region_of: Vec<u32>,
    /// Kept parcel to its untreated area now (m²), as the priority list holds it.
    untreated: Vec<f64>,
    /// Parcels with untreated area, in priority order.
    priority: Vec<PriorityKey>,
}

/// A region's numbers that edits change.
#[derive(Debug, Clone, Default, PartialEq)]
struct RegionAccount {
    /// B, C and D, in m².
    treated: [f64; 3],
    /// Parcels with untreated area.
    untreated_parcels: usize,
}

#[derive(Debug, Clone)]
struct PriorityKey {
    untreated_m2: f64,
    id: Arc<str>,
    parcel: u32,
}

/// Most untreated area first, then by id, then in layer order: `priority_parcels`' order
/// (a stable sort by the first two).
fn priority_order(a: &PriorityKey, b: &PriorityKey) -> Ordering {
    b.untreated_m2
        .total_cmp(&a.untreated_m2)
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.parcel.cmp(&b.parcel))
}

/// A parcel's untreated area (m²) for its B, C and D: contaminated minus treated, as
/// `ParcelResult::untreated_m2` computes it.
fn untreated_of(r: &ParcelResult, bcd: [f64; 3]) -> f64 {
    (r.contaminated_m2() - (bcd[0] + bcd[1] + bcd[2])).max(0.0)
}

impl Accounts {
    /// The accounts of an analysis as it stands, for a target rate.
    pub fn new(a: &Analysis, target: f64) -> Accounts {
        let base = a.summary(target);
        let mut region_of = vec![0u32; a.parcel_info.len()];
        for t in &a.tally {
            if let Some(k) = t.kept() {
                region_of[k] = t.region;
            }
        }
        let row_of_region: Vec<usize> = (0..a.regions.len())
            .map(|i| {
                let (name, code) = (&*a.regions[i], a.region_code(i));
                base.by_region
                    .iter()
                    .position(|r| r.region == name && r.code.as_deref() == code)
                    .unwrap_or(0)
            })
            .collect();
        let mut regions: Vec<RegionAccount> = (0..a.regions.len())
            .map(|i| {
                let row = &base.by_region[row_of_region[i]];
                RegionAccount {
                    treated: [
                        row.priority_treated_area_m2,
                        row.safe_use_treated_area_m2,
                        row.strict_control_treated_area_m2,
                    ],
                    untreated_parcels: 0,
                }
            })
            .collect();
        let mut untreated = Vec::with_capacity(a.parcel_info.len());
        let mut priority = Vec::new();
        for (k, (info, r)) in a.parcel_info.iter().zip(&a.parcel_results).enumerate() {
            let u = untreated_of(r, r.treated_by_class(info.measure, info.complied));
            untreated.push(u);
            if u > 0.0 {
                regions[region_of[k] as usize].untreated_parcels += 1;
                priority.push(PriorityKey {
                    untreated_m2: u,
                    id: info.id.clone(),
                    parcel: k as u32,
                });
            }
        }
        priority.sort_unstable_by(priority_order);
        Accounts {
            treated: [
                base.priority_treated_area_m2,
                base.safe_use_treated_area_m2,
                base.strict_control_treated_area_m2,
            ],
            base,
            regions,
            row_of_region,
            region_of,
            untreated,
            priority,
        }
    }

    /// Counts kept parcel `k` (an index into `parcel_info`, its numbers `r`: only its class
    /// areas are read) under measure and compliance `after` instead of `before`, as
    /// `Analysis::set_treatment` does to the parcel itself. Panics when `k` is out of range.
    pub fn apply(
        &mut self,
        k: usize,
        r: &ParcelResult,
        id: &Arc<str>,
        before: (Measure, bool),
        after: (Measure, bool),
    ) {
        let was = r.treated_by_class(before.0, before.1);
        let now = r.treated_by_class(after.0, after.1);
        let region = &mut self.regions[self.region_of[k] as usize];
        for i in 0..3 {
            let delta = now[i] - was[i];
            self.treated[i] += delta;
            region.treated[i] += delta;
        }
        let old = self.untreated[k];
        let new = untreated_of(r, now);
        if old.to_bits() == new.to_bits() {
            return;
        }
        self.untreated[k] = new;
        let key = |untreated_m2| PriorityKey {
            untreated_m2,
            id: id.clone(),
            parcel: k as u32,
        };
        if old > 0.0 {
            let old_key = key(old);
            if let Ok(at) = self
                .priority
                .binary_search_by(|e| priority_order(e, &old_key))
            {
                self.priority.remove(at);
                region.untreated_parcels -= 1;
            }
        }
        if new > 0.0 {
            let new_key = key(new);
            let at = self
                .priority
                .binary_search_by(|e| priority_order(e, &new_key))
                .unwrap_or_else(|at| at);
            self.priority.insert(at, new_key);
            region.untreated_parcels += 1;
        }
    }

    /// The target rate the summary is for.
    pub fn target(&self) -> f64 {
        self.base.target_rate
    }

    pub fn set_target(&mut self, target: f64) {
        self.base.target_rate = target;
    }

    /// How many parcels with untreated area region row `row` (of `Summary::by_region`)
    /// holds.
    pub fn untreated_parcels(&self, row: usize) -> usize {
        self.row_of_region
            .iter()
            .zip(&self.regions)
            .filter(|(r, _)| **r == row)
            .map(|(_, a)| a.untreated_parcels)
            .sum()
    }

    /// The totals as `Analysis::summary` gives them for the analysis as edited; the
    /// warnings are those of the analysis when the accounts were made.
    pub fn summary(&self) -> Summary {
        let mut s = self.base.clone();
        let target = s.target_rate;
        let [b, c, d] = self.treated;
        s.priority_treated_area_m2 = b;
        s.safe_use_treated_area_m2 = c;
        s.strict_control_treated_area_m2 = d;
        s.treated_area_m2 = b + c + d;
        s.untreated_area_m2 = (s.contaminated_area_m2 - s.treated_area_m2).max(0.0);
        s.safe_utilization_rate = rate(s.treated_area_m2, s.contaminated_area_m2);
        s.gap_to_target_m2 = gap_to_target(target, s.treated_area_m2, s.contaminated_area_m2);
        for row in &mut s.by_region {
            row.priority_treated_area_m2 = 0.0;
            row.safe_use_treated_area_m2 = 0.0;
            row.strict_control_treated_area_m2 = 0.0;
            row.untreated_parcels = 0;
        }
        for (i, acc) in self.regions.iter().enumerate() {
            let row = &mut s.by_region[self.row_of_region[i]];
            row.priority_treated_area_m2 += acc.treated[0];
            row.safe_use_treated_area_m2 += acc.treated[1];
            row.strict_control_treated_area_m2 += acc.treated[2];
            row.untreated_parcels += acc.untreated_parcels;
        }
        // The priority list holds every parcel with untreated area.
        s.untreated_parcels = self.priority.len();
        for r in &mut s.by_region {
            r.treated_area_m2 = r.priority_treated_area_m2
                + r.safe_use_treated_area_m2
                + r.strict_control_treated_area_m2;
            r.untreated_area_m2 = (r.contaminated_area_m2 - r.treated_area_m2).max(0.0);
            r.safe_utilization_rate = rate(r.treated_area_m2, r.contaminated_area_m2);
            r.gap_to_target_m2 = gap_to_target(target, r.treated_area_m2, r.contaminated_area_m2);
        }
        let mut closed = 0.0;
        let mut needed = 0;
        for p in &self.priority {
            if closed >= s.gap_to_target_m2 {
                break;
            }
            closed += p.untreated_m2;
            needed += 1;
        }
        s.parcels_to_close_gap = needed;
        s.priority_parcels = self
            .priority
            .iter()
            .take(PRIORITY_LISTED)
            .map(|p| {
                let region = self.region_of[p.parcel as usize] as usize;
                PriorityParcel {
                    parcel_id: p.id.to_string(),
                    region: s.by_region[self.row_of_region[region]].region.clone(),
                    untreated_area_m2: p.untreated_m2,
                    index: p.parcel as usize,
                }
            })
            .collect();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_gap() {
        assert_eq!(rate(90.0, 100.0), Some(0.9));
        assert_eq!(rate(0.0, 0.0), None);
        assert!((gap_to_target(0.94, 90.0, 100.0) - 4.0).abs() < 1e-12);
        assert_eq!(gap_to_target(0.94, 95.0, 100.0), 0.0);
        assert!((M2_PER_MU - 666.666_666_666_666_6).abs() < 1e-9);
    }

    /// Random edits, some undone, counted edit by edit: the same totals, region rows and
    /// priority list as `summary` of the analysis edited in place.
    #[test]
    fn accounts_follow_random_edits_as_summary_counts_them() {
        use crate::pipeline::{Control, Request, run};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
        let mut a = run(
            &Request::new(dir.join("risk_areas.shp"), dir.join("parcels.shp")),
            Control::default(),
        )
        .unwrap();
        let mut acc = Accounts::new(&a, 0.94);
        let at_risk: Vec<usize> = (0..a.parcel_info.len())
            .filter(|&k| a.parcel_results[k].contaminated_m2() > 0.0)
            .collect();
        // A small linear congruential generator: the same edits every run.
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as usize) % n
        };
        for round in 0..3000 {
            let k = at_risk[next(at_risk.len())];
            let measure = Measure::ALL[next(4)];
            let complied = next(3) > 0;
            let info = &a.parcel_info[k];
            let (before, id) = ((info.measure, info.complied), info.id.clone());
            a.set_treatment(k, measure, measure.code().into(), complied);
            acc.apply(k, &a.parcel_results[k], &id, before, (measure, complied));
            if round % 500 == 499 {
                let (want, got) = (a.summary(0.94), acc.summary());
                let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
                for (x, y) in [
                    (want.treated_area_m2, got.treated_area_m2),
                    (want.priority_treated_area_m2, got.priority_treated_area_m2),
                    (want.safe_use_treated_area_m2, got.safe_use_treated_area_m2),
                    (
                        want.strict_control_treated_area_m2,
                        got.strict_control_treated_area_m2,
                    ),
                    (want.gap_to_target_m2, got.gap_to_target_m2),
                ] {
                    assert!(close(x, y), "{x} vs {y} after {round} edits");
                }
                assert_eq!(want.parcels_to_close_gap, got.parcels_to_close_gap);
                assert_eq!(want.untreated_parcels, got.untreated_parcels);
                assert_eq!(want.priority_parcels, got.priority_parcels);
                assert_eq!(want.by_region.len(), got.by_region.len());
                for (row, (x, y)) in want.by_region.iter().zip(&got.by_region).enumerate() {
                    assert_eq!(x.region, y.region);
                    assert!(
                        close(x.treated_area_m2, y.treated_area_m2),
                        "{x:?} vs {y:?}"
                    );
                    assert!(close(
                        x.safe_use_treated_area_m2,
                        y.safe_use_treated_area_m2
                    ));
                    let untreated = a
                        .priority_parcels()
                        .iter()
                        .filter(|p| p.region == x.region)
                        .count();
                    assert_eq!(acc.untreated_parcels(row), untreated);
                    assert_eq!(y.untreated_parcels, untreated);
                    assert_eq!(x.untreated_parcels, untreated);
                }
            }
        }
    }
}
