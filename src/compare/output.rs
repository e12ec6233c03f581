//! What `compare --out DIR` writes: `compare.json` (both years' summaries, the transition
//! matrices, the causes, by region) and `changes.geojson` (the parcels that changed). The
//! fields of `changes.geojson` are declared once in [`CHANGE_FIELDS`].

use std::path::Path;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::atomic::write_atomic;
use crate::error::ExportError;
use crate::export::{OutKind, OutValue, ToWgs84, write_features};
use crate::pipeline::{Analysis, Control};
use crate::stats::{RegionSummary, Summary, rate};

use super::causes::Causes;
use super::matching::{Change, ChangeKind, state};
use super::transitions::{STATUSES, Transitions};
use super::{Comparison, ParcelState};

/// The file names.
pub const COMPARE_JSON: &str = "compare.json";
pub const CHANGES_GEOJSON: &str = "changes.geojson";

impl Serialize for Transitions {
    /// An object of objects: `{"not_cultivated": {"not_cultivated": 0, "no_risk": …}, …}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Row<'a>(&'a [f64; 4]);
        impl Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(4))?;
                for (st, v) in STATUSES.iter().zip(self.0) {
                    m.serialize_entry(st.code(), v)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(4))?;
        for (st, row) in STATUSES.iter().zip(&self.m2) {
            m.serialize_entry(st.code(), &Row(row))?;
        }
        m.end()
    }
}

/// One region of `compare.json`'s `by_region`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RegionCompare {
    pub region: String,
    pub code: Option<String>,
    pub rate_before: Option<f64>,
    pub rate_after: Option<f64>,
    /// `rate_after − rate_before`, where both are defined.
    pub rate_change: Option<f64>,
    pub contaminated_before_m2: f64,
    pub contaminated_after_m2: f64,
    pub treated_before_m2: f64,
    pub treated_after_m2: f64,
    pub transitions: Transitions,
    pub causes: Causes,
}

/// The contents of `compare.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CompareSummary {
    /// As `analyze` would write each year's `summary.json`.
    pub before: Summary,
    pub after: Summary,
    pub rate_change: Option<f64>,
    pub transitions: Transitions,
    pub causes: Causes,
    /// How many parcels changed, by kind (`ChangeKind::ALL`'s order).
    pub changes: serde_json::Map<String, serde_json::Value>,
    pub by_region: Vec<RegionCompare>,
    /// What the comparison itself found to say (each year's own warnings are in its
    /// summary).
    pub warnings: Vec<String>,
}

fn change(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    Some(after? - before?)
}

impl CompareSummary {
    /// The summary of a comparison for a target rate. The years' summaries are
    /// `checked_summary`, as `analyze` writes them. Regions come in the after year's order
    /// (by code where known), then those only the before year has.
    pub fn new(before: &Analysis, after: &Analysis, c: &Comparison, target: f64) -> Self {
        let (sb, sa) = (
            before.checked_summary(target),
            after.checked_summary(target),
        );
        let find = |s: &'_ Summary, name: &str| -> Option<RegionSummary> {
            s.by_region.iter().find(|r| r.region == name).cloned()
        };
        let mut names: Vec<&str> = sa.by_region.iter().map(|r| r.region.as_str()).collect();
        for r in &sb.by_region {
            if !names.contains(&r.region.as_str()) {
                names.push(&r.region);
            }
        }
        let by_region = names
            .iter()
            .map(|&name| {
                let (rb, ra) = (find(&sb, name), find(&sa, name));
                let transitions = c
                    .region_index(name)
                    .map(|i| c.by_region[i])
                    .unwrap_or_default();
                let rate_before = rb.as_ref().and_then(|r| r.safe_utilization_rate);
                let rate_after = ra.as_ref().and_then(|r| r.safe_utilization_rate);
                let m2 = |r: &Option<RegionSummary>, f: fn(&RegionSummary) -> f64| {
                    r.as_ref().map_or(0.0, f)
                };
                RegionCompare {
                    region: name.to_string(),
                    code: ra
                        .as_ref()
                        .and_then(|r| r.code.clone())
                        .or_else(|| rb.as_ref().and_then(|r| r.code.clone())),
                    rate_before,
                    rate_after,
                    rate_change: change(rate_before, rate_after),
                    contaminated_before_m2: m2(&rb, |r| r.contaminated_area_m2),
                    contaminated_after_m2: m2(&ra, |r| r.contaminated_area_m2),
                    treated_before_m2: m2(&rb, |r| r.treated_area_m2),
                    treated_after_m2: m2(&ra, |r| r.treated_area_m2),
                    transitions,
                    causes: Causes::of(&transitions),
                }
            })
            .collect();
        let counts = c.matches.counts();
        CompareSummary {
            rate_change: change(sb.safe_utilization_rate, sa.safe_utilization_rate),
            before: sb,
            after: sa,
            transitions: c.transitions,
            causes: Causes::of(&c.transitions),
            changes: ChangeKind::ALL
                .iter()
                .zip(counts)
                .map(|(k, n)| (k.code().to_string(), n.into()))
                .collect(),
            by_region,
            warnings: c.warnings.clone(),
        }
    }

    /// The previous year's rate of a region, for the county table (`None` where the region
    /// had no contaminated land, or is not in the comparison).
    pub fn rate_before(&self, region: &str) -> Option<f64> {
        self.by_region
            .iter()
            .find(|r| r.region == region)
            .and_then(|r| r.rate_before)
    }
}

/// Writes `compare.json` (pretty-printed, keys in the product contract's order).
pub fn write_compare_json(path: &Path, s: &CompareSummary) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, s).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

/// The fields of `changes.geojson`, in order.
pub const CHANGE_FIELDS: [(&str, OutKind); 10] = [
    ("change", OutKind::Text),
    ("after_id", OutKind::Text),
    ("before_ids", OutKind::TextList),
    ("region", OutKind::Text),
    ("measure_before", OutKind::Text),
    ("measure_after", OutKind::Text),
    ("status_before", OutKind::Text),
    ("status_after", OutKind::Text),
    ("contaminated_before_m2", OutKind::Number),
    ("contaminated_after_m2", OutKind::Number),
];

/// The before-year side of a change: its parcels' measures (distinct, in order, joined by
/// `;`; empty ones left out), their state taken together, and their contaminated area (m²).
pub fn before_side(before: &Analysis, ch: &Change) -> Option<(String, ParcelState, f64)> {
    if ch.before.is_empty() {
        return None;
    }
    let mut measures: Vec<&str> = Vec::new();
    let (mut contaminated, mut treated) = (0.0, 0.0);
    for &b in &ch.before {
        let m = &*before.parcel_info[b as usize].measure_text;
        if !m.is_empty() && !measures.contains(&m) {
            measures.push(m);
        }
        let r = &before.parcel_results[b as usize];
        contaminated += r.contaminated_m2();
        treated += r.treated_m2;
    }
    let st = match &ch.before[..] {
        [b] => state(before, *b as usize),
        _ => ParcelState::from_areas(contaminated, treated),
    };
    Some((measures.join(";"), st, contaminated))
}

/// The values of [`CHANGE_FIELDS`] for a change.
pub fn change_values<'a>(
    before: &'a Analysis,
    after: &'a Analysis,
    ch: &Change,
) -> Vec<OutValue<'a>> {
    let b = before_side(before, ch);
    let a = ch.after.map(|a| a as usize);
    let ia = a.map(|a| &after.parcel_info[a]);
    let region = match ia {
        Some(i) => &*i.region,
        None => &*before.parcel_info[ch.before[0] as usize].region,
    };
    let (mb, sb, cb) = match b {
        Some((m, s, c)) => (Some(m), Some(s), Some(c)),
        None => (None, None, None),
    };
    vec![
        OutValue::text(ch.kind.code()),
        OutValue::text_or_null(ia.map(|i| &*i.id)),
        OutValue::TextList(
            ch.before
                .iter()
                .map(|&b| &*before.parcel_info[b as usize].id)
                .collect(),
        ),
        OutValue::text(region),
        OutValue::Text(mb.map(Into::into)),
        OutValue::text_or_null(ia.map(|i| &*i.measure_text)),
        OutValue::text_or_null(sb.map(ParcelState::code)),
        OutValue::text_or_null(a.map(|a| state(after, a).code())),
        OutValue::Number(cb),
        OutValue::Number(a.map(|a| after.parcel_results[a].contaminated_m2())),
    ]
}

/// The order of `changes.geojson`: by after id (a removed parcel by its id), then kind.
pub fn change_order(before: &Analysis, after: &Analysis, c: &Comparison) -> Vec<usize> {
    let key = |ch: &Change| -> &str {
        match ch.after {
            Some(a) => &after.parcel_info[a as usize].id,
            None => &before.parcel_info[ch.before[0] as usize].id,
        }
    };
    let ch = &c.matches.changes;
    let mut order: Vec<usize> = (0..ch.len()).collect();
    order.sort_by(|&x, &y| {
        key(&ch[x])
            .cmp(key(&ch[y]))
            .then(ch[x].kind.cmp(&ch[y].kind))
            .then(x.cmp(&y))
    });
    order
}

/// Writes `changes.geojson`: after-year parcels that changed with their after-year
/// geometry, and removed before-year parcels with theirs, in WGS 84 (RFC 7946).
pub fn write_changes(
    path: &Path,
    before: &Analysis,
    after: &Analysis,
    c: &Comparison,
    to: &ToWgs84,
    ctl: Control,
) -> Result<(), ExportError> {
    let order = change_order(before, after, c);
    let ch = &c.matches.changes;
    write_features(
        path,
        &order,
        &CHANGE_FIELDS,
        |i| change_values(before, after, &ch[i]),
        |i| match ch[i].after {
            Some(a) => &after.parcels.features[after.parcel_info[a as usize].feature].geometry,
            None => {
                let b = ch[i].before[0] as usize;
                &before.parcels.features[before.parcel_info[b].feature].geometry
            }
        },
        to,
        ctl,
    )
}

/// The safe-utilisation rate of a year's region, as `by_region` gives it.
pub fn region_rate(s: &Summary, region: &str) -> Option<f64> {
    s.by_region
        .iter()
        .find(|r| r.region == region)
        .and_then(|r| rate(r.treated_area_m2, r.contaminated_area_m2))
}
