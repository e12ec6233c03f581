//! Why the rate moved: the change in the treated and the contaminated area, read off a
//! transition matrix, split into its causes.
//!
//! With T the treated and E the contaminated land of a year (rate = T / E):
//! - ΔT = newly treated − lost treatment, where newly treated land is treated after and was
//!   not before (untreated land that got its measure, and new contaminated land that came
//!   treated), and lost treatment is the reverse;
//! - ΔE = (new risk areas + new parcels) − (risk lifted + removed parcels): land contaminated
//!   after that was in a parcel outside every risk face before, or in no parcel; and the
//!   reverse.
//!
//! The change in the rate is then exactly
//! `rate_after − rate_before = (newly − lost − rate_before × (new − left)) / E_after`,
//! each term the effect of one cause (`RateEffects`).

use serde::Serialize;

use super::transitions::{Status, Transitions};

/// The causes of a change, in m² of land.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Causes {
    /// Treated after, not treated before.
    pub newly_treated_m2: f64,
    /// Treated before, not treated after.
    pub lost_treatment_m2: f64,
    /// Contaminated after, in a parcel outside every risk face before.
    pub new_risk_m2: f64,
    /// Contaminated after, in no parcel before.
    pub new_parcels_m2: f64,
    /// Contaminated before, in a parcel outside every risk face after.
    pub risk_lifted_m2: f64,
    /// Contaminated before, in no parcel after.
    pub removed_parcels_m2: f64,
    /// ΔT: `newly_treated_m2 − lost_treatment_m2`.
    pub treated_change_m2: f64,
    /// ΔE: `new_risk_m2 + new_parcels_m2 − risk_lifted_m2 − removed_parcels_m2`.
    pub contaminated_change_m2: f64,
    /// Each cause's share of the change in the rate; `None` where there is no contaminated
    /// land after.
    pub rate_effects: Option<RateEffects>,
}

/// The change in the rate by cause (fractions, as the rate is); they sum to the change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RateEffects {
    pub newly_treated: f64,
    pub lost_treatment: f64,
    /// New contaminated land (new risk areas, new parcels) at the old rate: it lowers the
    /// rate by what of it is not treated.
    pub new_contaminated: f64,
    /// Contaminated land that left (risk lifted, removed parcels).
    pub contaminated_left: f64,
}

impl RateEffects {
    pub fn sum(&self) -> f64 {
        self.newly_treated + self.lost_treatment + self.new_contaminated + self.contaminated_left
    }
}

impl Causes {
    pub fn of(t: &Transitions) -> Causes {
        use Status::*;
        let contaminated = [Treated, Untreated];
        let newly: f64 = [NotCultivated, NoRisk, Untreated]
            .iter()
            .map(|&s| t.get(s, Treated))
            .sum();
        let lost: f64 = [NotCultivated, NoRisk, Untreated]
            .iter()
            .map(|&s| t.get(Treated, s))
            .sum();
        let into = |from: Status| contaminated.iter().map(|&s| t.get(from, s)).sum::<f64>();
        let out_of = |to: Status| contaminated.iter().map(|&s| t.get(s, to)).sum::<f64>();
        let (new_risk, new_parcels) = (into(NoRisk), into(NotCultivated));
        let (lifted, removed) = (out_of(NoRisk), out_of(NotCultivated));
        let (e_before, e_after) = (t.contaminated_before(), t.contaminated_after());
        let rate_before = if e_before > 0.0 {
            t.before_total(Treated) / e_before
        } else {
            0.0
        };
        let rate_effects = (e_after > 0.0).then(|| RateEffects {
            newly_treated: newly / e_after,
            lost_treatment: -lost / e_after,
            new_contaminated: -rate_before * (new_risk + new_parcels) / e_after,
            contaminated_left: rate_before * (lifted + removed) / e_after,
        });
        Causes {
            newly_treated_m2: newly,
            lost_treatment_m2: lost,
            new_risk_m2: new_risk,
            new_parcels_m2: new_parcels,
            risk_lifted_m2: lifted,
            removed_parcels_m2: removed,
            treated_change_m2: newly - lost,
            contaminated_change_m2: new_risk + new_parcels - lifted - removed,
            rate_effects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::STATUSES;

    /// The causes sum to the change of each year's totals, and the rate effects to the change
    /// of the rate, on a matrix with every cell filled.
    #[test]
    fn causes_sum_to_the_changes() {
        let mut t = Transitions::default();
        let mut v = 1.0;
        for b in STATUSES {
            for a in STATUSES {
                if (b, a) != (Status::NotCultivated, Status::NotCultivated) {
                    t.m2[b.index()][a.index()] = v;
                    v = v * 1.7 + 3.0;
                }
            }
        }
        let c = Causes::of(&t);
        let dt = t.after_total(Status::Treated) - t.before_total(Status::Treated);
        let de = t.contaminated_after() - t.contaminated_before();
        assert!((c.treated_change_m2 - dt).abs() < 1e-9 * dt.abs().max(1.0));
        assert!((c.contaminated_change_m2 - de).abs() < 1e-9 * de.abs().max(1.0));
        let rate = |tr: f64, e: f64| tr / e;
        let dr = rate(t.after_total(Status::Treated), t.contaminated_after())
            - rate(t.before_total(Status::Treated), t.contaminated_before());
        let effects = c.rate_effects.unwrap();
        assert!(
            (effects.sum() - dr).abs() < 1e-12,
            "{} vs {dr}",
            effects.sum()
        );
        assert!(effects.newly_treated > 0.0 && effects.lost_treatment < 0.0);
    }

    #[test]
    fn no_contaminated_land_after_has_no_rate_effects() {
        let mut t = Transitions::default();
        t.m2[Status::Treated.index()][Status::NotCultivated.index()] = 5.0;
        let c = Causes::of(&t);
        assert_eq!(c.removed_parcels_m2, 5.0);
        assert_eq!(c.lost_treatment_m2, 5.0);
        assert!(c.rate_effects.is_none());
    }
}
