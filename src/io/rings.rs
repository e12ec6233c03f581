//! Assembling shapefile rings into polygons.
//!
//! A shapefile polygon record is a flat list of rings. The specification says outer rings are
//! clockwise and holes counter-clockwise, but real files get this wrong often enough that
//! soilrisk decides by containment, as GDAL does: rings are taken from the largest to the
//! smallest, and each ring lies either inside no other ring (an outer ring), inside an outer
//! ring (its hole), or inside a hole (an island: a new outer ring). A ring whose winding
//! disagrees with its role is reported, not trusted.

use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::geom::area::twice_signed_area;
use crate::geom::rings::{point_in_ring, ring_is_simple};

/// What assembly had to fix in one record, for the layer's warnings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RingNotes {
    /// Rings with fewer than three distinct points or zero area, dropped.
    pub degenerate: usize,
    /// Rings not closed in the file, closed here.
    pub unclosed: usize,
    /// Rings whose winding contradicted their role (outer counter-clockwise, hole clockwise).
    pub misoriented: usize,
    /// Consecutive duplicate points removed.
    pub duplicate_points: usize,
    /// Points with a NaN, infinite or absurdly large (beyond ±1e12) coordinate removed.
    pub non_finite_points: usize,
    /// Records whose boundary crosses or touches itself (a bow-tie, a spike), made valid.
    pub self_intersections: usize,
    /// Self-intersecting records the repair left without area, dropped.
    pub unrepairable: usize,
}

impl RingNotes {
    pub fn is_empty(&self) -> bool {
        *self == RingNotes::default()
    }

    /// One-line description, e.g. "2 rings re-oriented, 1 ring closed".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.degenerate > 0 {
            parts.push(format!("{} degenerate ring(s) dropped", self.degenerate));
        }
        if self.unclosed > 0 {
            parts.push(format!("{} unclosed ring(s) closed", self.unclosed));
        }
        if self.misoriented > 0 {
            parts.push(format!(
                "{} ring(s) with the wrong winding re-oriented",
                self.misoriented
            ));
        }
        if self.self_intersections > 0 {
            parts.push(match self.self_intersections {
                1 => "self-intersecting boundary made valid".to_string(),
                n => format!("{n} self-intersecting polygons made valid"),
            });
        }
        if self.unrepairable > 0 {
            parts.push(match self.unrepairable {
                1 => {
                    "self-intersecting boundary with no area left after repair; dropped".to_string()
                }
                n => format!("{n} self-intersecting polygons with no area left; dropped"),
            });
        }
        if self.non_finite_points > 0 {
            parts.push(format!(
                "{} point(s) with coordinates that are not finite (NaN, infinite or beyond \
                 ±1e12) removed",
                self.non_finite_points
            ));
        }
        if self.duplicate_points > 0 {
            parts.push(format!(
                "{} duplicate point(s) removed",
                self.duplicate_points
            ));
        }
        parts.join(", ")
    }
}

/// Whether ring `inner` lies inside ring `outer`, judged by the majority of a few of its
/// vertices, so that a vertex shared with the outer ring's boundary cannot decide it alone.
fn ring_inside(inner: &[Coord<f64>], outer: &[Coord<f64>]) -> bool {
    let n = inner.len().saturating_sub(1).max(1);
    let probes = n.min(5);
    let mut yes = 0;
    for k in 0..probes {
        let idx = k * n / probes;
        if point_in_ring(inner[idx], outer) {
            yes += 1;
        }
    }
    yes * 2 > probes
}

/// Makes a record valid when one of its rings crosses or touches itself: all its rings go
/// through one even-odd union (i_overlay, as in the overlay), the rule of the triangulation
/// repair of Ledoux et al. that GEOS's and geo's make-valid follow. A bow-tie becomes its two
/// triangles; parts that the crossing made overlap come out as one valid multipolygon.
fn repair_self_intersections(mp: MultiPolygon<f64>, notes: &mut RingNotes) -> MultiPolygon<f64> {
    let simple = |p: &Polygon<f64>| {
        ring_is_simple(&p.exterior().0) && p.interiors().iter().all(|h| ring_is_simple(&h.0))
    };
    if mp.0.iter().all(simple) {
        return mp;
    }
    let fixed = ogc_form(crate::geom::clip::even_odd_union(&mp));
    if fixed.0.is_empty() {
        notes.unrepairable += 1;
    } else {
        notes.self_intersections += 1;
    }
    fixed
}

/// A ring (closed) cut at every vertex it passes twice into loops that each pass every
/// vertex once (closed); loops without area (spikes out and back) are dropped.
fn split_at_repeated_vertices(ring: &[Coord<f64>]) -> Vec<Vec<Coord<f64>>> {
    let key = |c: &Coord<f64>| (c.x.to_bits(), c.y.to_bits());
    let open = ring
        .strip_suffix(&ring[..1.min(ring.len())])
        .unwrap_or(ring);
    let mut loops = Vec::new();
    let mut stack: Vec<Coord<f64>> = Vec::with_capacity(open.len() + 1);
    let mut at: std::collections::HashMap<(u64, u64), usize> = Default::default();
    for &p in open {
        if let Some(&k) = at.get(&key(&p)) {
            let mut l: Vec<Coord<f64>> = stack.drain(k..).collect();
            for q in &l[1..] {
                at.remove(&key(q));
            }
            l.push(p);
            stack.push(p);
            loops.push(l);
        } else {
            at.insert(key(&p), stack.len());
            stack.push(p);
        }
    }
    if let Some(&first) = stack.first() {
        stack.push(first);
        loops.push(stack);
    }
    loops.retain(|l| l.len() >= 4 && twice_signed_area(l) != 0.0);
    loops
}

/// The clipper's plain output (`geom::clip::even_odd_union`) in OGC form: a ring that touches
/// itself is cut at the touching vertex; counter-clockwise loops are exteriors (polygons
/// meeting at a point), clockwise ones holes, each given to the smallest exterior of its
/// polygon that holds it (a hole may touch its exterior at one point).
fn ogc_form(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    type Ring = Vec<Coord<f64>>;
    let mut out = Vec::with_capacity(mp.0.len());
    for p in mp.0 {
        // (exterior, twice its area, holes)
        let mut shells: Vec<(Ring, f64, Vec<LineString<f64>>)> = Vec::new();
        let mut holes: Vec<Ring> = Vec::new();
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for l in split_at_repeated_vertices(&ring.0) {
                let a = twice_signed_area(&l);
                if a > 0.0 {
                    shells.push((l, a, Vec::new()));
                } else {
                    holes.push(l);
                }
            }
        }
        if shells.is_empty() {
            continue;
        }
        // Smallest first, so a hole goes to the innermost exterior that holds it.
        shells.sort_by(|a, b| a.1.total_cmp(&b.1));
        for h in holes {
            let k = shells
                .iter()
                .position(|(s, _, _)| ring_inside(&h, s))
                .unwrap_or(shells.len() - 1);
            shells[k].2.push(LineString::new(h));
        }
        out.extend(
            shells
                .into_iter()
                .map(|(s, _, hs)| Polygon::new(LineString::new(s), hs)),
        );
    }
    MultiPolygon::new(out)
}

/// Coordinates beyond this (in absolute value) are dropped with NaN and infinities.
pub const MAX_COORDINATE: f64 = 1e12;

/// Cleans one ring: removes non-finite and consecutive duplicate points and closes it, and
/// gives twice its signed area. Returns `None` for a ring with fewer than three distinct
/// points.
fn clean_ring(mut out: Vec<Coord<f64>>, notes: &mut RingNotes) -> Option<(Vec<Coord<f64>>, f64)> {
    let had = out.len();
    // In place and in one pass: a million parcels should not cost a million extra copies.
    let mut kept = 0;
    let mut damaged = 0;
    for i in 0..out.len() {
        let mut p = out[i];
        // No coordinate system on Earth reaches 1e12 (metres, feet or degrees): such values
        // are damage, and they would wreck the fixed-point scaling of the polygon clipper.
        // (NaN fails the test too.)
        if !(p.x.abs() <= MAX_COORDINATE && p.y.abs() <= MAX_COORDINATE) {
            damaged += 1;
            continue;
        }
        // Subnormal values (below 2.2e-308) are zero for any coordinate system, and as they
        // are they overflow the fixed-point scaling of the polygon clipper.
        if p.x.is_subnormal() {
            p.x = 0.0;
        }
        if p.y.is_subnormal() {
            p.y = 0.0;
        }
        if kept > 0 && out[kept - 1] == p {
            continue; // a consecutive duplicate
        }
        out[kept] = p;
        kept += 1;
    }
    out.truncate(kept);
    let finite = had - damaged;
    notes.non_finite_points += damaged;
    let closed_in_file = had >= 2 && out.len() >= 2 && out.first() == out.last();
    if closed_in_file {
        out.pop();
    } else if out.len() >= 3 {
        notes.unclosed += 1;
    }
    // Points dropped other than the closing one were duplicates.
    let dropped = finite.saturating_sub(out.len() + usize::from(closed_in_file));
    notes.duplicate_points += dropped;
    if out.len() < 3 {
        notes.degenerate += 1;
        return None;
    }
    out.push(out[0]);
    // Zero area: a sliver, unless the ring crosses itself (a symmetric bow-tie), which the
    // repair turns into its parts.
    let twice = twice_signed_area(&out);
    if twice == 0.0 && ring_is_simple(&out) {
        notes.degenerate += 1;
        return None;
    }
    Some((out, twice))
}

/// An outer ring with twice its signed area, and its holes.
type Shell = ((Vec<Coord<f64>>, f64), Vec<Vec<Coord<f64>>>);

/// Builds polygons from the rings of one record. `esri_winding` says the file follows the
/// shapefile convention (outer rings clockwise), so a disagreement is worth a note; GeoJSON
/// input passes its own rings through `orient` instead.
pub fn assemble(rings: Vec<Vec<Coord<f64>>>, esri_winding: bool) -> (MultiPolygon<f64>, RingNotes) {
    let mut notes = RingNotes::default();
    // One ring (nearly every parcel): no list of cleaned rings to sort.
    if let [_] = rings[..] {
        let mut polys = Vec::with_capacity(1);
        if let Some((ring, twice)) = rings
            .into_iter()
            .next()
            .and_then(|r| clean_ring(r, &mut notes))
        {
            if esri_winding && twice > 0.0 {
                notes.misoriented += 1;
            }
            polys.push(make_polygon((ring, twice), vec![]));
        }
        let mp = repair_self_intersections(MultiPolygon::new(polys), &mut notes);
        return (mp, notes);
    }
    let mut cleaned: Vec<(Vec<Coord<f64>>, f64)> = rings
        .into_iter()
        .filter_map(|r| clean_ring(r, &mut notes))
        .collect();

    if cleaned.len() == 1 {
        let (ring, area) = cleaned.pop().unwrap_or_default();
        if esri_winding && area > 0.0 {
            notes.misoriented += 1;
        }
        let mp = MultiPolygon::new(vec![make_polygon((ring, area), vec![])]);
        let mp = repair_self_intersections(mp, &mut notes);
        return (mp, notes);
    }

    // Largest first, so every ring's container has been placed before it.
    cleaned.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    // (shell, its holes)
    let mut shells: Vec<Shell> = Vec::new();
    // (ring index in `cleaned`, depth, shell index) of placed rings, to find containers.
    let mut placed: Vec<(usize, usize, usize)> = Vec::new();
    for i in 0..cleaned.len() {
        let container = placed
            .iter()
            .rev() // smallest container first: the innermost
            .find(|(j, _, _)| ring_inside(&cleaned[i].0, &cleaned[*j].0))
            .map(|&(_, depth, shell)| (depth, shell));
        let area = cleaned[i].1;
        let ring = cleaned[i].0.clone();
        match container {
            Some((depth, shell)) if depth % 2 == 0 => {
                // Inside an outer ring: a hole.
                if esri_winding && area < 0.0 {
                    notes.misoriented += 1;
                }
                shells[shell].1.push(ring);
                placed.push((i, depth + 1, shell));
            }
            other => {
                // Inside nothing, or inside a hole: an outer ring.
                if esri_winding && area > 0.0 {
                    notes.misoriented += 1;
                }
                let depth = other.map_or(0, |(d, _)| d + 1);
                shells.push(((ring, area), Vec::new()));
                placed.push((i, depth, shells.len() - 1));
            }
        }
    }
    let polys = shells
        .into_iter()
        .map(|(shell, holes)| make_polygon(shell, holes))
        .collect();
    let mp = repair_self_intersections(MultiPolygon::new(polys), &mut notes);
    (mp, notes)
}

/// A polygon with the exterior counter-clockwise and holes clockwise (geo's convention, and
/// RFC 7946's), whatever the input winding. The shell comes with twice its signed area.
fn make_polygon(
    (mut shell, twice): (Vec<Coord<f64>>, f64),
    holes: Vec<Vec<Coord<f64>>>,
) -> Polygon<f64> {
    if twice < 0.0 {
        shell.reverse();
    }
    let holes = holes
        .into_iter()
        .map(|mut h| {
            if twice_signed_area(&h) > 0.0 {
                h.reverse();
            }
            LineString::new(h)
        })
        .collect();
    Polygon::new(LineString::new(shell), holes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, s: f64, clockwise: bool) -> Vec<Coord<f64>> {
        let mut r = vec![
            Coord { x: x0, y: y0 },
            Coord { x: x0 + s, y: y0 },
            Coord {
                x: x0 + s,
                y: y0 + s,
            },
            Coord { x: x0, y: y0 + s },
            Coord { x: x0, y: y0 },
        ];
        if clockwise {
            r.reverse();
        }
        r
    }

    #[test]
    fn hole_goes_to_the_shell_that_contains_it_not_the_previous_one() {
        // Two shells, then a hole inside the FIRST shell: the shapefile crate's conversion
        // would attach it to the second.
        let rings = vec![
            square(0.0, 0.0, 10.0, true),
            square(100.0, 0.0, 10.0, true),
            square(2.0, 2.0, 2.0, false),
        ];
        let (mp, notes) = assemble(rings, true);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(mp.0.len(), 2);
        let with_hole: Vec<_> = mp.0.iter().filter(|p| !p.interiors().is_empty()).collect();
        assert_eq!(with_hole.len(), 1);
        assert_eq!(with_hole[0].exterior().0[0], Coord { x: 0.0, y: 0.0 });
        use geo::Area;
        assert_eq!(mp.unsigned_area(), 200.0 - 4.0);
    }

    #[test]
    fn wrong_winding_and_island_in_a_hole() {
        // Everything counter-clockwise (wrong for a shapefile): containment still decides.
        let rings = vec![
            square(0.0, 0.0, 10.0, false),
            square(2.0, 2.0, 6.0, false),
            square(4.0, 4.0, 2.0, false),
        ];
        let (mp, notes) = assemble(rings, true);
        assert_eq!(mp.0.len(), 2, "shell with hole, plus the island");
        assert_eq!(notes.misoriented, 2);
        use geo::Area;
        assert_eq!(mp.unsigned_area(), 100.0 - 36.0 + 4.0);
    }

    #[test]
    fn unclosed_duplicate_and_degenerate_rings() {
        let mut open = square(0.0, 0.0, 1.0, true);
        open.pop();
        open.insert(1, open[0]);
        let rings = vec![
            open,
            vec![Coord { x: 5.0, y: 5.0 }, Coord { x: 6.0, y: 6.0 }],
        ];
        let (mp, notes) = assemble(rings, true);
        assert_eq!(mp.0.len(), 1);
        assert_eq!(notes.unclosed, 1);
        assert_eq!(notes.duplicate_points, 1);
        assert_eq!(notes.degenerate, 1);
        assert_eq!(mp.0[0].exterior().0.len(), 5);
    }

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn a_bow_tie_becomes_its_two_triangles() {
        // Clockwise as a shapefile would store it, crossing at (5, 5).
        let bowtie = vec![c(0., 0.), c(0., 10.), c(10., 0.), c(10., 10.), c(0., 0.)];
        let (mp, notes) = assemble(vec![bowtie], true);
        assert_eq!(notes.self_intersections, 1, "{}", notes.describe());
        assert_eq!(mp.0.len(), 2);
        let area: f64 =
            mp.0.iter()
                .map(|p| twice_signed_area(&p.exterior().0) / 2.0)
                .sum();
        assert!((area - 50.0).abs() < 1e-9, "{area}");
        assert!(
            notes
                .describe()
                .contains("self-intersecting boundary made valid")
        );
    }

    #[test]
    fn self_touching_rings_are_cut_into_ogc_polygons() {
        let c = |v: &[(f64, f64)]| -> Vec<Coord<f64>> {
            v.iter().map(|&(x, y)| Coord { x, y }).collect()
        };
        // A shell with an inverted hole pinched off at (2,0): one ring, touching itself.
        let pinched = c(&[
            (0., 0.),
            (2., 0.),
            (1., 1.),
            (3., 1.),
            (2., 0.),
            (4., 0.),
            (4., 4.),
            (0., 4.),
            (0., 0.),
        ]);
        // Two squares meeting at (12,2), as one figure-eight ring.
        let eight = c(&[
            (10., 0.),
            (12., 0.),
            (12., 2.),
            (14., 2.),
            (14., 4.),
            (12., 4.),
            (12., 2.),
            (10., 2.),
            (10., 0.),
        ]);
        let mp = MultiPolygon::new(vec![
            Polygon::new(LineString::new(pinched), vec![]),
            Polygon::new(LineString::new(eight), vec![]),
        ]);
        let fixed = ogc_form(mp);
        assert!(geo::Validation::is_valid(&fixed), "{fixed:?}");
        assert_eq!(fixed.0.len(), 3);
        let holes: usize = fixed.0.iter().map(|p| p.interiors().len()).sum();
        assert_eq!(holes, 1);
        // 16 - 1 (the triangle) + 4 + 4
        assert!((geo::Area::unsigned_area(&fixed) - 23.0).abs() < 1e-12);
        // A spike out and back leaves no loop behind.
        let spike = c(&[
            (0., 0.),
            (1., 0.),
            (5., 0.),
            (1., 0.),
            (1., 1.),
            (0., 1.),
            (0., 0.),
        ]);
        let loops = split_at_repeated_vertices(&spike);
        assert_eq!(loops.len(), 1);
        assert_eq!(twice_signed_area(&loops[0]), 2.0);
    }
}
