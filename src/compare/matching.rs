//! Parcels matched across the two years, and what changed.
//!
//! Each parcel is matched by the first rule that applies to it:
//! 1. the lineage table, when given, for the ids it lists (a row with only a before id says
//!    the parcel was removed, one with only an after id that it is new);
//! 2. the same id in the other year (that no rule above matched);
//! 3. the largest overlap with a parcel of the other year that neither rule matched, of at
//!    least 1 % of the parcel's own area (less is a sliver of redrawn boundaries).
//!
//! Then an after-year parcel with no before-year parcel is `new`, with several `merged`, with
//! one that became several `split`; one matched one to one changed its `geometry`, else its
//! `measure` (or compliance), else its `status` (no risk, treated, partly treated,
//! untreated), else nothing. A before-year parcel matched to none was `removed`.

use std::collections::HashMap;

use crate::pipeline::Analysis;

use super::ParcelState;
use super::lineage::Lineage;
use super::transitions::{Land, same_shape};

/// What happened to a parcel between the years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    New,
    Split,
    Merged,
    Removed,
    Geometry,
    Measure,
    Status,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::New,
        ChangeKind::Split,
        ChangeKind::Merged,
        ChangeKind::Removed,
        ChangeKind::Geometry,
        ChangeKind::Measure,
        ChangeKind::Status,
    ];
    /// As `changes.geojson` writes it.
    pub fn code(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Split => "split",
            ChangeKind::Merged => "merged",
            ChangeKind::Removed => "removed",
            ChangeKind::Geometry => "geometry",
            ChangeKind::Measure => "measure",
            ChangeKind::Status => "status",
        }
    }
    /// As the window names it.
    pub fn chinese(self) -> &'static str {
        match self {
            ChangeKind::New => "新增",
            ChangeKind::Split => "分割",
            ChangeKind::Merged => "合并",
            ChangeKind::Removed => "灭失",
            ChangeKind::Geometry => "图形变化",
            ChangeKind::Measure => "措施变化",
            ChangeKind::Status => "状态变化",
        }
    }
}

/// A parcel that changed: an after-year parcel (positions in `parcel_info`) with the
/// before-year parcels it came from, or a before-year parcel removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub after: Option<u32>,
    /// Ascending.
    pub before: Vec<u32>,
}

/// The links between the parcels of the two years, and the changes they make.
#[derive(Debug, Clone, Default)]
pub struct Matches {
    /// (before, after), sorted by after then before.
    by_after: Vec<(u32, u32)>,
    /// The same, sorted by before then after.
    by_before: Vec<(u32, u32)>,
    /// After-year parcels that changed in layer order, then the removed ones in layer order.
    pub changes: Vec<Change>,
    /// For each after-year parcel, its position in `changes` (`u32::MAX`: unchanged).
    change_of_after: Vec<u32>,
}

impl Matches {
    /// The before-year parcels an after-year parcel came from.
    pub fn before_of(&self, after: usize) -> impl Iterator<Item = usize> + '_ {
        let start = self
            .by_after
            .partition_point(|&(_, a)| (a as usize) < after);
        self.by_after[start..]
            .iter()
            .take_while(move |&&(_, a)| a as usize == after)
            .map(|&(b, _)| b as usize)
    }
    /// The after-year parcels a before-year parcel became.
    pub fn after_of(&self, before: usize) -> impl Iterator<Item = usize> + '_ {
        let start = self
            .by_before
            .partition_point(|&(b, _)| (b as usize) < before);
        self.by_before[start..]
            .iter()
            .take_while(move |&&(b, _)| b as usize == before)
            .map(|&(_, a)| a as usize)
    }
    /// The change of an after-year parcel, if it changed.
    pub fn change_of_after(&self, after: usize) -> Option<&Change> {
        let c = *self.change_of_after.get(after)?;
        self.changes.get(c as usize)
    }
    /// How many changes of each kind (`ChangeKind::ALL`'s order).
    pub fn counts(&self) -> [usize; 7] {
        let mut n = [0; 7];
        for c in &self.changes {
            n[c.kind as usize] += 1;
        }
        n
    }
}

/// A parcel's state on its year's map.
pub fn state(a: &Analysis, k: usize) -> ParcelState {
    let r = &a.parcel_results[k];
    ParcelState::of(r, r.treated_m2)
}

/// Matches the parcels and finds what changed; gives warnings about the lineage table.
pub(crate) fn match_parcels(
    before: &Analysis,
    after: &Analysis,
    lineage: Option<&Lineage>,
    land: &Land,
) -> (Matches, Vec<String>) {
    let (nb, na) = (before.parcel_info.len(), after.parcel_info.len());
    fn index(a: &Analysis) -> HashMap<&str, u32> {
        let mut m: HashMap<&str, u32> = HashMap::with_capacity(a.parcel_info.len());
        for (k, info) in a.parcel_info.iter().enumerate() {
            m.entry(&*info.id).or_insert(k as u32);
        }
        m
    }
    let (before_ids, after_ids) = (index(before), index(after));
    let mut settled_b = vec![false; nb];
    let mut settled_a = vec![false; na];
    let mut links: Vec<(u32, u32)> = Vec::new();
    let mut warnings = Vec::new();

    // 1. The lineage table.
    if let Some(lin) = lineage {
        let mut unknown: [(usize, Vec<String>); 2] = Default::default();
        let mut note = |side: usize, id: &str, row: usize| {
            unknown[side].0 += 1;
            if unknown[side].1.len() < 3 {
                unknown[side]
                    .1
                    .push(format!("{id:?} ({})", lin.row_text(row)));
            }
        };
        for (bid, aid, row) in &lin.rows {
            let b = (!bid.is_empty())
                .then(|| before_ids.get(bid.as_str()).copied())
                .flatten();
            let a = (!aid.is_empty())
                .then(|| after_ids.get(aid.as_str()).copied())
                .flatten();
            if !bid.is_empty() && b.is_none() {
                note(0, bid, *row);
            }
            if !aid.is_empty() && a.is_none() {
                note(1, aid, *row);
            }
            if let Some(b) = b {
                settled_b[b as usize] = true;
            }
            if let Some(a) = a {
                settled_a[a as usize] = true;
            }
            if let (Some(b), Some(a)) = (b, a) {
                links.push((b, a));
            }
        }
        for ((n, ids), (year, layer)) in unknown.iter().zip([("before", before), ("after", after)])
        {
            if *n > 0 {
                warnings.push(format!(
                    "{n} {year}-year id(s) of the lineage table are not in {}, e.g. {}",
                    layer.parcels.path.display(),
                    ids.join(", ")
                ));
            }
        }
    }

    // 2. The same id.
    for (a, info) in after.parcel_info.iter().enumerate() {
        if settled_a[a] {
            continue;
        }
        if let Some(&b) = before_ids.get(&*info.id)
            && !settled_b[b as usize]
        {
            settled_b[b as usize] = true;
            settled_a[a] = true;
            links.push((b, a as u32));
        }
    }

    // 3. The largest overlap, among parcels neither rule matched.
    let share = |a: &Analysis, k: u32| 0.01 * a.tally[k as usize].area_m2;
    let mut best_a: HashMap<u32, (f64, u32)> = HashMap::new();
    let mut best_b: HashMap<u32, (f64, u32)> = HashMap::new();
    for p in &land.pairs {
        if settled_a[p.after as usize] || settled_b[p.before as usize] {
            continue;
        }
        if p.m2 >= share(after, p.after) {
            let e = best_a.entry(p.after).or_insert((p.m2, p.before));
            if p.m2 > e.0 || (p.m2 == e.0 && p.before < e.1) {
                *e = (p.m2, p.before);
            }
        }
        if p.m2 >= share(before, p.before) {
            let e = best_b.entry(p.before).or_insert((p.m2, p.after));
            if p.m2 > e.0 || (p.m2 == e.0 && p.after < e.1) {
                *e = (p.m2, p.after);
            }
        }
    }
    links.extend(best_a.into_iter().map(|(a, (_, b))| (b, a)));
    links.extend(best_b.into_iter().map(|(b, (_, a))| (b, a)));

    let mut by_after = links.clone();
    by_after.sort_unstable_by_key(|&(b, a)| (a, b));
    by_after.dedup();
    let mut by_before = by_after.clone();
    by_before.sort_unstable();

    let mut afters_of_b = vec![0u32; nb];
    for &(b, _) in &by_after {
        afters_of_b[b as usize] += 1;
    }
    let mut m = Matches {
        by_after,
        by_before,
        changes: Vec::new(),
        change_of_after: vec![u32::MAX; na],
    };
    for a in 0..na {
        let from: Vec<u32> = m.before_of(a).map(|b| b as u32).collect();
        let kind = match from[..] {
            [] => Some(ChangeKind::New),
            [b] if afters_of_b[b as usize] > 1 => Some(ChangeKind::Split),
            [b] => {
                let (ib, ia) = (&before.parcel_info[b as usize], &after.parcel_info[a]);
                let same = land.twins[a] == Some(b) || same_shape(before, b as usize, after, a);
                if !same {
                    Some(ChangeKind::Geometry)
                } else if ib.measure_text != ia.measure_text || ib.complied != ia.complied {
                    Some(ChangeKind::Measure)
                } else if state(before, b as usize) != state(after, a) {
                    Some(ChangeKind::Status)
                } else {
                    None
                }
            }
            _ => Some(ChangeKind::Merged),
        };
        if let Some(kind) = kind {
            m.change_of_after[a] = m.changes.len() as u32;
            m.changes.push(Change {
                kind,
                after: Some(a as u32),
                before: from,
            });
        }
    }
    for (b, &n) in afters_of_b.iter().enumerate() {
        if n == 0 {
            m.changes.push(Change {
                kind: ChangeKind::Removed,
                after: None,
                before: vec![b as u32],
            });
        }
    }
    (m, warnings)
}
