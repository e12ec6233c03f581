//! Checks on the data that end in warnings, not errors: repeated ids, parcels at risk that
//! overlap one another (their shared area is counted for each), layers that do not meet.

use geo::Rect;
use rayon::prelude::*;

use crate::layer::Layer;

use super::result::{ParcelInfo, ParcelResult};

/// How many of the `n` ids `id(i)` gives repeat one before them (an id three times counts
/// two), and the first of the repeated ids in sorted order; `None` when all differ. The ids
/// are hashed and the hashes sorted, and only ids with equal hashes are compared, which is
/// cheaper than sorting the strings themselves.
pub(super) fn repeated_ids<'a>(
    n: usize,
    id: impl Fn(usize) -> &'a str + Sync,
) -> Option<(usize, &'a str)> {
    use std::hash::BuildHasher;
    let state = foldhash::fast::FixedState::with_seed(0);
    let mut keyed: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .map(|i| (state.hash_one(id(i)), i as u32))
        .collect();
    keyed.par_sort_unstable();
    let mut extra = 0;
    let mut first: Option<&str> = None;
    let mut same: Vec<&str> = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        same.clear();
        same.extend(run.iter().map(|&(_, i)| id(i as usize)));
        same.sort_unstable();
        for w in same.windows(2).filter(|w| w[0] == w[1]) {
            extra += 1;
            first = Some(first.map_or(w[0], |f| f.min(w[0])));
        }
    }
    first.map(|f| (extra, f))
}

/// Names parcels at risk that overlap one another (their shared area is counted for each);
/// see `parcel_overlaps`. Parcels are compared with those that have area in a risk face of
/// theirs.
pub(super) fn overlapping_parcels_warning(
    parcels: &Layer,
    info: &[ParcelInfo],
    results: &[ParcelResult],
) -> Option<String> {
    let at_risk: Vec<usize> = (0..info.len())
        .filter(|&i| results[i].contaminated_m2() > 0.0)
        .collect();
    let geoms: Vec<&geo::MultiPolygon<f64>> = at_risk
        .iter()
        .map(|&i| &parcels.features[info[i].feature].geometry)
        .collect();
    let faces = at_risk
        .iter()
        .flat_map(|&i| results[i].pieces.iter().map(|p| p.face as usize + 1))
        .max()
        .unwrap_or(0);
    let mut by_face: Vec<Vec<u32>> = vec![Vec::new(); faces];
    for (k, &i) in at_risk.iter().enumerate() {
        for p in &results[i].pieces {
            by_face[p.face as usize].push(k as u32);
        }
    }
    // Positions in `at_risk`, which is ascending: the pairs stay sorted.
    let pairs: Vec<(usize, usize)> = crate::parcel_overlaps::overlapping_pairs(&geoms, &by_face)
        .into_iter()
        .map(|(a, b)| (at_risk[a], at_risk[b]))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    const SHOWN: usize = 10;
    let name = |i: usize| {
        format!(
            "{} (record {})",
            info[i].id, parcels.features[info[i].feature].record
        )
    };
    let listed: Vec<String> = pairs
        .iter()
        .take(SHOWN)
        .map(|&(a, b)| format!("{} and {}", name(a), name(b)))
        .collect();
    Some(format!(
        "{}: {} pair(s) of parcels in risk areas overlap one another, so their shared area is \
         counted for each: {}{}",
        parcels.path.display(),
        pairs.len(),
        listed.join("; "),
        if pairs.len() > SHOWN { "; ..." } else { "" }
    ))
}

/// When no parcel lies in any risk area, says so, and whether the layers' extents are apart
/// altogether (most often a layer in another CRS than its `.prj` says).
/// `parcels` is the parcels' extent (their geometry may be gone by now).
pub(super) fn no_overlap_warning(
    risk: &Layer,
    parcels: Option<Rect<f64>>,
    results: &[ParcelResult],
) -> Option<String> {
    if results.iter().any(|r| r.contaminated_m2() > 0.0) {
        return None;
    }
    let (Some(a), Some(b)) = (risk.extent(), parcels) else {
        return None;
    };
    let apart = a.max().x < b.min().x
        || b.max().x < a.min().x
        || a.max().y < b.min().y
        || b.max().y < a.min().y;
    let show = |r: geo::Rect<f64>| {
        format!(
            "({:.3}, {:.3}) - ({:.3}, {:.3})",
            r.min().x,
            r.min().y,
            r.max().x,
            r.max().y
        )
    };
    Some(if apart {
        format!(
            "the layers do not overlap: risk areas {} and parcels {}; no parcel lies in a risk \
             area (check that each layer's .prj describes its coordinates)",
            show(a),
            show(b)
        )
    } else {
        "no parcel lies in any risk area; the rate is undefined".to_string()
    })
}

/// The first few of a list for a warning, `a, b, c, d, e, ...` (the dots when there are more).
pub(super) fn first_few<T: std::fmt::Display>(items: &[T]) -> String {
    const NAMED: usize = 5;
    let named: Vec<String> = items.iter().take(NAMED).map(|x| x.to_string()).collect();
    let more = if items.len() > NAMED { ", ..." } else { "" };
    format!("{}{more}", named.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_ids_are_counted_as_sorting_would() {
        // The count and first repeated id against the plain way: sort the strings and compare
        // neighbours. Ids from a fixed generator, some once, some two or three times.
        fn plain<'a>(ids: &[&'a str]) -> Option<(usize, &'a str)> {
            let mut sorted = ids.to_vec();
            sorted.sort_unstable();
            let dups: Vec<&str> = sorted
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            dups.first().map(|f| (dups.len(), *f))
        }
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut owned = Vec::new();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            owned.push(format!("P{:06}", state % 60_000));
        }
        let ids: Vec<&str> = owned.iter().map(String::as_str).collect();
        let found = repeated_ids(ids.len(), |i| ids[i]);
        assert!(found.is_some_and(|(n, _)| n > 1000), "{found:?}");
        assert_eq!(found, plain(&ids));

        let three = ["b", "a", "c", "b", "b"];
        assert_eq!(repeated_ids(three.len(), |i| three[i]), Some((2, "b")));
        let distinct = ["x", "y", "z"];
        assert_eq!(repeated_ids(3, |i| distinct[i]), None);
        assert_eq!(repeated_ids(0, |_| ""), None);
    }
}
