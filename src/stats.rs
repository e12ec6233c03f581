//! Totals of an analysis: province, per region (county) and the gap to the target rate, as
//! the product contract (`../shared/DESIGN.md`) defines them. All areas in m²; rates are
//! fractions (0.94, not 94).

use serde::Serialize;

use crate::pipeline::Analysis;

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
    /// Parcels at risk with untreated area left (the county table's 未落实图斑数).
    pub untreated_parcels: usize,
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
    /// Parcels at risk with untreated area left.
    pub untreated_parcels: usize,
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
}
