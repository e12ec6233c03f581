//! Year over year: two analyses of the same land (before, after), what changed between them
//! and why the rate moved.
//!
//! Each year is analysed exactly as `analyze` would analyse it (`pipeline::run`, every parcel
//! kept); this module only reads the two [`Analysis`] values. The files, by job:
//!
//! - [`transitions`]: the land-based transition matrix. Every point of the land takes, each
//!   year, the status of the parcel and the risk class it lies in (`not_cultivated` outside
//!   every parcel), so splits, merges and redrawn boundaries need no matching. Measured on the
//!   overlay machinery of the analysis (`overlay::RiskMap`, `geom::clip`), in parallel.
//! - [`causes`]: the change in the treated and the contaminated area, and in the rate, split
//!   into its causes (newly treated land, lost treatment, new contaminated land, contaminated
//!   land that left), read off a transition matrix.
//! - [`lineage`]: the land change survey's update-process table (before id, after id).
//! - [`matching`]: parcels matched across the years (lineage, else equal id, else largest
//!   overlap) and the kind of each change (`new`, `split`, `merged`, `removed`, `geometry`,
//!   `measure`, `status`).
//! - [`output`]: `compare.json` and `changes.geojson`.
//!
//! Units: areas in m², measured on the geometry in the analysis CRS by its `AreaMethod`
//! (planar, or geodesic in a geographic CRS). Under a `field:` area basis the accounting's
//! areas are surveyed ones while the land is measured on its geometry; a warning says so.

pub mod causes;
pub mod lineage;
pub mod matching;
pub mod output;
pub mod transitions;

use std::sync::Arc;

use crate::pipeline::{
    Analysis, AnalysisError, Control, ParcelResult, Phase, Request, restore_geometry,
};

pub use causes::Causes;
pub use lineage::{Lineage, LineageColumns};
pub use matching::{Change, ChangeKind, Matches};
pub use transitions::{STATUSES, Status, Transitions};

/// What a comparison of two years found, beside the two analyses it was made from.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// The regions of both years by name: the after year's in its order, then the before
    /// year's that the after year lacks.
    pub regions: Vec<Arc<str>>,
    /// The land by status before and after, for the whole land.
    pub transitions: Transitions,
    /// The same by region (`regions`' order): a point's region is its after-year region, else
    /// its before-year one.
    pub by_region: Vec<Transitions>,
    /// The parcels matched across the years, and what changed.
    pub matches: Matches,
    pub warnings: Vec<String>,
}

impl Comparison {
    /// Compares two analyses of every parcel (`KeepParcels::All` or `Geometry`). `same_risk` says both were
    /// made with the same risk layer (no `--before-risk`): the land's classes are then read
    /// off the after year's faces alone.
    pub fn new(
        before: &Analysis,
        after: &Analysis,
        same_risk: bool,
        lineage: Option<&Lineage>,
        ctl: Control<'_>,
    ) -> Result<Comparison, AnalysisError> {
        for (name, a) in [("before", before), ("after", after)] {
            if a.parcel_info.len() != a.tally.len() {
                return Err(AnalysisError::Compare(format!(
                    "the {name} year's analysis kept only its parcels at risk; a comparison \
                     needs every parcel ({})",
                    a.parcels.path.display()
                )));
            }
        }
        let crs_label = |a: &Analysis| a.crs.as_ref().map(|c| c.label());
        if crs_label(before) != crs_label(after) {
            return Err(AnalysisError::Compare(format!(
                "the two years were analysed in different CRSs ({} for {}, {} for {}); give \
                 both years' layers in one CRS",
                crs_label(before).unwrap_or_else(|| "none".into()),
                before.parcels.path.display(),
                crs_label(after).unwrap_or_else(|| "none".into()),
                after.parcels.path.display(),
            )));
        }
        ctl.report(Phase::Compare, 0.0);
        let regions = unified_regions(before, after);
        let land = transitions::measure(before, after, same_risk, &regions, ctl)?;
        ctl.report(Phase::Compare, 0.8);
        let (matches, match_warnings) = matching::match_parcels(before, after, lineage, &land);
        let mut warnings = land.warnings;
        warnings.extend(match_warnings);
        ctl.report(Phase::Compare, 1.0);
        Ok(Comparison {
            regions: regions.names,
            transitions: land.total,
            by_region: land.by_region,
            matches,
            warnings,
        })
    }

    /// The position in `regions` of a region name.
    pub fn region_index(&self, name: &str) -> Option<usize> {
        self.regions.iter().position(|r| &**r == name)
    }
}

/// Reads back the geometry a comparison needs of two analyses made under
/// `KeepParcels::Shapes` (which keeps the geometry of the parcels at risk only): of every
/// parcel not found unchanged (same id, same shape) in the other year, to be clipped with the
/// other year's parcels and written to `changes.geojson`; of the unchanged ones whose
/// measure or state changed, to be written there; and of every parcel the lineage table
/// names, which it may match otherwise. Analyses that kept every geometry need nothing.
pub fn restore_needed(
    before_req: &Request,
    before: &mut Analysis,
    after_req: &Request,
    after: &mut Analysis,
    lineage: Option<&Lineage>,
    ctl: Control<'_>,
) -> Result<(), AnalysisError> {
    if before.shapes.is_empty() && after.shapes.is_empty() {
        return Ok(());
    }
    let twins = transitions::twins(before, after);
    let mut is_twin = vec![false; before.parcel_info.len()];
    for &b in twins.iter().flatten() {
        is_twin[b as usize] = true;
    }
    let missing = |a: &Analysis, k: usize| {
        a.parcels.features[a.parcel_info[k].feature]
            .geometry
            .0
            .is_empty()
    };
    let listed: [std::collections::HashSet<&str>; 2] = [0, 1].map(|side| {
        lineage
            .iter()
            .flat_map(|l| &l.rows)
            .map(|(b, a, _)| if side == 0 { b.as_str() } else { a.as_str() })
            .filter(|id| !id.is_empty())
            .collect()
    });
    let wanted_before: Vec<usize> = (0..before.parcel_info.len())
        .filter(|&b| {
            missing(before, b) && (!is_twin[b] || listed[0].contains(&*before.parcel_info[b].id))
        })
        .map(|b| before.parcel_info[b].feature)
        .collect();
    let wanted_after: Vec<usize> = (0..after.parcel_info.len())
        .filter(|&a| {
            missing(after, a)
                && (listed[1].contains(&*after.parcel_info[a].id)
                    || match twins[a] {
                        None => true,
                        Some(b) => {
                            let (ib, ia) = (&before.parcel_info[b as usize], &after.parcel_info[a]);
                            ib.measure_text != ia.measure_text
                                || ib.complied != ia.complied
                                || matching::state(before, b as usize) != matching::state(after, a)
                        }
                    })
        })
        .map(|a| after.parcel_info[a].feature)
        .collect();
    restore_geometry(before_req, before, &wanted_before, ctl)?;
    restore_geometry(after_req, after, &wanted_after, ctl)
}

/// The regions of both years, and each year's region index (`ParcelTally::region`) into
/// them.
pub(crate) struct Regions {
    pub names: Vec<Arc<str>>,
    pub before: Vec<u32>,
    pub after: Vec<u32>,
}

fn unified_regions(before: &Analysis, after: &Analysis) -> Regions {
    let mut names: Vec<Arc<str>> = after.regions.clone();
    let after_map: Vec<u32> = (0..after.regions.len() as u32).collect();
    let before_map = before
        .regions
        .iter()
        .map(|r| match names.iter().position(|n| n == r) {
            Some(i) => i as u32,
            None => {
                names.push(r.clone());
                (names.len() - 1) as u32
            }
        })
        .collect();
    Regions {
        names,
        before: before_map,
        after: after_map,
    }
}

/// What a parcel looks like on the map of its year: its colour's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParcelState {
    NoRisk,
    Treated,
    PartlyTreated,
    Untreated,
}

impl ParcelState {
    pub const ALL: [ParcelState; 4] = [
        ParcelState::NoRisk,
        ParcelState::Treated,
        ParcelState::PartlyTreated,
        ParcelState::Untreated,
    ];

    /// Of a parcel whose treated area is `treated_m2`: no risk without contaminated area,
    /// treated when (to 1e-9) all of it is treated, partly treated when some is.
    pub fn of(r: &ParcelResult, treated_m2: f64) -> ParcelState {
        Self::from_areas(r.contaminated_m2(), treated_m2)
    }

    /// Of land with `contaminated` m², `treated` of them treated.
    pub fn from_areas(contaminated: f64, treated_m2: f64) -> ParcelState {
        let untreated = (contaminated - treated_m2).max(0.0);
        if contaminated <= 0.0 {
            ParcelState::NoRisk
        } else if untreated <= 1e-9 * contaminated {
            ParcelState::Treated
        } else if treated_m2 > 0.0 {
            ParcelState::PartlyTreated
        } else {
            ParcelState::Untreated
        }
    }

    /// As `changes.geojson` writes it.
    pub fn code(self) -> &'static str {
        match self {
            ParcelState::NoRisk => "no_risk",
            ParcelState::Treated => "treated",
            ParcelState::PartlyTreated => "partly_treated",
            ParcelState::Untreated => "untreated",
        }
    }
}
