//! Parcels that overlap one another. Where two parcels share area inside a risk area, that
//! area is counted for each of them, so the totals are too high; the analysis names such pairs
//! in a warning. Only parcels with area in the same risk face are compared: an overlap outside
//! every risk area changes no figure, and an overlap inside a face gives both parcels area in
//! that face. That keeps the check to a fraction of a large layer, and each comparison to the
//! few neighbours a parcel has in its face.
//!
//! Two polygons overlap when their interiors meet: an edge of one properly crosses an edge of
//! the other, or a vertex of one lies strictly inside the other, or an edge leaving the
//! other's boundary (and not along it) has its midpoint inside, or they are the same polygon
//! (same box and area). Parcels that only share edges or corners, as a
//! tessellation does, do not overlap.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Coord, MultiPolygon, Polygon, Rect};
use rayon::prelude::*;

use crate::geom::area::{planar_area, twice_signed_area};
use crate::geom::boxes::{bounds, interiors_overlap, rect_holds};
use crate::geom::rings::{is_strictly_convex, segments_meet};

/// Pairs of indices into `geoms` (each pair once, smaller first) whose interiors overlap,
/// among the members of each group (`groups[g]` lists indices into `geoms`: the parcels at
/// risk in one risk face). Sorted, so the result is the same on every run.
pub fn overlapping_pairs(geoms: &[&MultiPolygon<f64>], groups: &[Vec<u32>]) -> Vec<(usize, usize)> {
    let shapes: Vec<Option<Shape>> = geoms.par_iter().map(|g| Shape::new(g)).collect();
    // Pairs whose boxes share area, by a sweep along x over each group; a pair in several
    // groups (parcels that share two faces) is compared once.
    let mut candidates: Vec<(u32, u32)> = groups
        .par_iter()
        .flat_map_iter(|group| {
            let mut members: Vec<(Rect<f64>, u32)> = group
                .iter()
                .filter_map(|&k| shapes[k as usize].as_ref().map(|s| (s.bbox, k)))
                .collect();
            members.sort_unstable_by(|a, b| a.0.min().x.total_cmp(&b.0.min().x));
            let mut found = Vec::new();
            for (i, &(ri, ki)) in members.iter().enumerate() {
                for &(rj, kj) in &members[i + 1..] {
                    if rj.min().x >= ri.max().x {
                        break;
                    }
                    if rj.min().y < ri.max().y && ri.min().y < rj.max().y {
                        found.push((ki.min(kj), ki.max(kj)));
                    }
                }
            }
            found.into_iter()
        })
        .collect();
    candidates.par_sort_unstable();
    candidates.dedup();
    candidates
        .par_iter()
        .filter(
            |&&(a, b)| match (&shapes[a as usize], &shapes[b as usize]) {
                (Some(sa), Some(sb)) => shapes_meet(sa, sb),
                _ => false,
            },
        )
        .map(|&(a, b)| (a as usize, b as usize))
        .collect()
}

/// A candidate with what the tests need computed once: its box, and its ring when it is one
/// convex polygon without holes (most parcels that are not wavy).
struct Shape<'a> {
    geom: &'a MultiPolygon<f64>,
    bbox: Rect<f64>,
    convex: Option<&'a [Coord<f64>]>,
}

impl<'a> Shape<'a> {
    fn new(geom: &'a MultiPolygon<f64>) -> Option<Shape<'a>> {
        let bbox = bounds(geom)?;
        let convex = match geom.0.as_slice() {
            [p] if p.interiors().is_empty() && is_strictly_convex(&p.exterior().0) => {
                Some(p.exterior().0.as_slice())
            }
            _ => None,
        };
        Some(Shape { geom, bbox, convex })
    }
}

/// Whether an edge line of the convex ring `c` has every vertex of `other` on its outer side
/// or on it: `other` then lies in that closed half-plane and `c`'s interior in the open other
/// half, so their interiors are apart. Neighbours in a tessellation are told apart by their
/// shared edge this way, without comparing every pair of edges.
fn separated_by_an_edge_of(c: &[Coord<f64>], other: &MultiPolygon<f64>) -> bool {
    // The side `c`'s interior is on: the turn direction of the ring.
    let inner = RobustKernel::orient2d(c[0], c[1], c[2]);
    c.windows(2).any(|e| {
        other.0.iter().all(|p| {
            p.exterior()
                .0
                .iter()
                .all(|&v| RobustKernel::orient2d(e[0], e[1], v) != inner)
        })
    })
}

fn shapes_meet(a: &Shape, b: &Shape) -> bool {
    let (ra, rb) = (&a.bbox, &b.bbox);
    if !interiors_overlap(ra, rb) {
        return false;
    }
    if a.convex.is_some_and(|c| separated_by_an_edge_of(c, b.geom))
        || b.convex.is_some_and(|c| separated_by_an_edge_of(c, a.geom))
    {
        return false;
    }
    meet_within_boxes(a.geom, ra, b.geom, rb, true)
}

/// Whether the interiors of two valid multipolygons meet (see the module comment), by the
/// full test, without the shortcuts `overlapping_pairs` takes for convex and neighbouring
/// parcels.
pub fn interiors_meet(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    let (Some(ra), Some(rb)) = (a.bounding_rect(), b.bounding_rect()) else {
        return false;
    };
    interiors_overlap(&ra, &rb) && meet_within_boxes(a, &ra, b, &rb, false)
}

/// `interiors_meet` once the boxes (`ra`, `rb`) are known to overlap; with `shortcuts`,
/// neighbours sharing one stretch of boundary are told apart without the full test.
fn meet_within_boxes(
    a: &MultiPolygon<f64>,
    ra: &Rect<f64>,
    b: &MultiPolygon<f64>,
    rb: &Rect<f64>,
    shortcuts: bool,
) -> bool {
    if ra == rb && {
        let (aa, ab) = (planar_area(a), planar_area(b));
        (aa - ab).abs() <= 1e-12 * aa.max(1.0)
    } {
        return true; // the same parcel twice
    }
    // A one-part parcel's box is its polygon's: not computed again.
    let part_box = |m: &MultiPolygon<f64>, r: &Rect<f64>, p: &Polygon<f64>| {
        if m.0.len() == 1 {
            Some(*r)
        } else {
            p.bounding_rect()
        }
    };
    a.0.iter().any(|pa| {
        b.0.iter()
            .any(|pb| match (part_box(a, ra, pa), part_box(b, rb, pb)) {
                (Some(ba), Some(bb)) => polygons_meet(pa, &ba, pb, &bb, shortcuts),
                _ => false,
            })
    })
}

fn rings(p: &Polygon<f64>) -> impl Iterator<Item = &[Coord<f64>]> {
    std::iter::once(p.exterior().0.as_slice()).chain(p.interiors().iter().map(|h| h.0.as_slice()))
}

/// Where a point lies against a polygon.
#[derive(PartialEq)]
enum Side {
    Outside,
    Boundary,
    Inside,
}

/// Classifies `p` against `poly` in one pass over its edges: exactly on an edge (exact
/// predicate), else inside or outside by crossing parity.
fn classify(p: Coord<f64>, poly: &Polygon<f64>, bbox: &Rect<f64>) -> Side {
    if !rect_holds(bbox, p) {
        return Side::Outside;
    }
    let mut inside = false;
    for r in rings(poly) {
        for e in r.windows(2) {
            let (a, b) = (e[0], e[1]);
            if p.x >= lo(a.x, b.x)
                && p.x <= hi(a.x, b.x)
                && p.y >= lo(a.y, b.y)
                && p.y <= hi(a.y, b.y)
                && RobustKernel::orient2d(a, b, p) == Orientation::Collinear
            {
                return Side::Boundary;
            }
            if (a.y > p.y) != (b.y > p.y) {
                let x = (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x;
                if p.x < x {
                    inside = !inside;
                }
            }
        }
    }
    if inside { Side::Inside } else { Side::Outside }
}

/// The smaller of two coordinates, which are finite here: a plain comparison, without the
/// NaN handling of `f64::min` that the hot loops below would pay at every edge.
fn lo(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The larger of two finite coordinates (see `lo`).
fn hi(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// The ring and position of a vertex of `poly` equal to `p`, if any.
fn vertex_of(p: Coord<f64>, poly: &Polygon<f64>) -> Option<(usize, usize)> {
    rings(poly).enumerate().find_map(|(i, r)| {
        r[..r.len().saturating_sub(1)]
            .iter()
            .position(|&v| v == p)
            .map(|at| (i, at))
    })
}

/// Whether the segment from vertex `at` of `poly`'s ring `ring` to `q` is an edge of that
/// ring (either way round). Rings are closed: the last point repeats the first.
fn is_edge(poly: &Polygon<f64>, ring: usize, at: usize, q: Coord<f64>) -> bool {
    let Some(r) = rings(poly).nth(ring) else {
        return false;
    };
    let n = r.len() - 1;
    r[at + 1] == q || r[(at + n - 1) % n] == q
}

/// Whether segment pq lies on the line of one of `poly`'s edges, overlapping it.
fn along_boundary(p: Coord<f64>, q: Coord<f64>, poly: &Polygon<f64>) -> bool {
    let col = Orientation::Collinear;
    rings(poly).any(|r| {
        r.windows(2).any(|e| {
            let (a, b) = (e[0], e[1]);
            hi(p.x, q.x) >= lo(a.x, b.x)
                && lo(p.x, q.x) <= hi(a.x, b.x)
                && hi(p.y, q.y) >= lo(a.y, b.y)
                && lo(p.y, q.y) <= hi(a.y, b.y)
                && RobustKernel::orient2d(a, b, p) == col
                && RobustKernel::orient2d(a, b, q) == col
        })
    })
}

/// Whether `a` and `b` (closed exterior rings, no holes) are neighbours whose interiors are
/// apart: both counter-clockwise, they share one stretch of boundary (at least one edge),
/// each running it the other way round, and their boundaries meet nowhere else but at its
/// two ends. The three paths between those ends (the stretch, the rest of `a`, the rest of
/// `b`) then part the plane so that `a` and `b` are two faces on either side of the stretch:
/// one inside the other would have both interiors on the same side of it. The rings are
/// simple, as the readers leave every ring. A tessellation's neighbours are nearly all so;
/// `false` only means the full test is needed.
fn apart_along_a_shared_stretch(a: &[Coord<f64>], b: &[Coord<f64>], rb: &Rect<f64>) -> bool {
    let (n, m) = (a.len().saturating_sub(1), b.len().saturating_sub(1));
    if n < 3 || m < 3 || twice_signed_area(a) <= 0.0 || twice_signed_area(b) <= 0.0 {
        return false;
    }
    let Some((i0, j0)) = (0..n)
        .filter(|&i| rect_holds(rb, a[i]))
        .find_map(|i| b[..m].iter().position(|&v| v == a[i]).map(|j| (i, j)))
    else {
        return false;
    };
    // The stretch: forward along `a` is backward along `b`.
    let (fwd, back) = (
        |i: usize, k: usize| (i + 1) % k,
        |i: usize, k: usize| (i + k - 1) % k,
    );
    let most = n.min(m);
    let (mut ie, mut je, mut len) = (i0, j0, 1);
    while len < most && a[fwd(ie, n)] == b[back(je, m)] {
        (ie, je, len) = (fwd(ie, n), back(je, m), len + 1);
    }
    let (mut is, mut js) = (i0, j0);
    while len < most && a[back(is, n)] == b[fwd(js, m)] {
        (is, js, len) = (back(is, n), fwd(js, m), len + 1);
    }
    if len < 2 || len >= most {
        return false; // a corner only, or all but nothing
    }
    let (u, v) = (a[is], a[ie]);
    let col = Orientation::Collinear;
    // The rest of `a` (from the stretch's end round to its start) against the rest of `b`.
    for ka in 0..n + 1 - len {
        let k = (ie + ka) % n;
        let (p, q) = (a[k], a[k + 1]);
        if hi(p.x, q.x) < rb.min().x
            || lo(p.x, q.x) > rb.max().x
            || hi(p.y, q.y) < rb.min().y
            || lo(p.y, q.y) > rb.max().y
        {
            continue;
        }
        for kb in 0..m + 1 - len {
            let l = (js + kb) % m;
            let (r, s) = (b[l], b[l + 1]);
            if !segments_meet(p, q, r, s) {
                continue;
            }
            // Only at an end of the stretch, the two edges leaving it apart.
            let w = if p == r || p == s {
                p
            } else if q == r || q == s {
                q
            } else {
                return false;
            };
            let far_a = if w == p { q } else { p };
            let far_b = if w == r { s } else { r };
            if (w != u && w != v)
                || far_a == far_b
                || RobustKernel::orient2d(w, far_a, far_b) == col
            {
                return false;
            }
        }
    }
    true
}

/// Whether two polygons' interiors meet; `ra` and `rb` are their boxes.
fn polygons_meet(
    a: &Polygon<f64>,
    ra: &Rect<f64>,
    b: &Polygon<f64>,
    rb: &Rect<f64>,
    shortcuts: bool,
) -> bool {
    if shortcuts
        && a.interiors().is_empty()
        && b.interiors().is_empty()
        && apart_along_a_shared_stretch(&a.exterior().0, &b.exterior().0, rb)
    {
        return false;
    }
    // A proper crossing: each edge's ends strictly on both sides of the other. Only edges
    // of `a` that reach into `b`'s box can cross one of `b`'s.
    for ring_a in rings(a) {
        for ea in ring_a.windows(2) {
            let (p, q) = (ea[0], ea[1]);
            if hi(p.x, q.x) <= rb.min().x
                || lo(p.x, q.x) >= rb.max().x
                || hi(p.y, q.y) <= rb.min().y
                || lo(p.y, q.y) >= rb.max().y
            {
                continue;
            }
            for ring_b in rings(b) {
                for eb in ring_b.windows(2) {
                    let (r, s) = (eb[0], eb[1]);
                    if hi(p.x, q.x) <= lo(r.x, s.x)
                        || hi(r.x, s.x) <= lo(p.x, q.x)
                        || hi(p.y, q.y) <= lo(r.y, s.y)
                        || hi(r.y, s.y) <= lo(p.y, q.y)
                    {
                        continue;
                    }
                    let o1 = RobustKernel::orient2d(p, q, r);
                    let o2 = RobustKernel::orient2d(p, q, s);
                    let o3 = RobustKernel::orient2d(r, s, p);
                    let o4 = RobustKernel::orient2d(r, s, q);
                    let col = Orientation::Collinear;
                    if o1 != col && o2 != col && o3 != col && o4 != col && o1 != o2 && o3 != o4 {
                        return true;
                    }
                }
            }
        }
    }
    // No crossing: one inside the other shows in a vertex, or in the midpoint of an edge that
    // does not run along the other's boundary (a rounded midpoint of a shared edge can fall
    // on either side of it, so those are left out, by exact predicates). Neighbours in a
    // tessellation share most of the vertices near each other: a shared vertex is on the
    // boundary, and an edge shared too runs along it, without going round the other's edges.
    let probe = |x: &Polygon<f64>, y: &Polygon<f64>, bbox: &Rect<f64>| {
        rings(x).any(|r| {
            r.windows(2).any(|e| {
                let (p, q) = (e[0], e[1]);
                if !rect_holds(bbox, p) {
                    return false; // outside `y`
                }
                let side = match vertex_of(p, y) {
                    Some((ring, at)) if is_edge(y, ring, at, q) => return false,
                    Some(_) => Side::Boundary,
                    None => classify(p, y, bbox),
                };
                match side {
                    Side::Inside => true,
                    Side::Outside => false,
                    // On the boundary: the edge's midpoint decides, unless the edge runs along it.
                    Side::Boundary => {
                        let mid = Coord {
                            x: (p.x + q.x) / 2.0,
                            y: (p.y + q.y) / 2.0,
                        };
                        !along_boundary(p, q, y) && classify(mid, y, bbox) == Side::Inside
                    }
                }
            })
        })
    };
    probe(a, b, rb) || probe(b, a, ra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn sq(x: f64, y: f64, s: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![
            (x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s), (x: x, y: y)
        ]])
    }

    #[test]
    fn neighbours_sharing_an_edge_do_not_overlap_others_do() {
        let a = sq(0., 0., 10.);
        assert!(!interiors_meet(&a, &sq(10., 0., 10.)), "shared edge");
        assert!(!interiors_meet(&a, &sq(10., 10., 10.)), "shared corner");
        assert!(!interiors_meet(&a, &sq(10., 2., 5.)), "edge partly shared");
        assert!(interiors_meet(&a, &sq(5., 5., 10.)), "crossing");
        assert!(interiors_meet(&a, &sq(2., 2., 3.)), "inside");
        assert!(interiors_meet(&sq(2., 2., 3.), &a), "around");
        assert!(interiors_meet(&a, &sq(0., 0., 10.)), "duplicate");
        assert!(
            interiors_meet(&a, &sq(0., 0., 5.)),
            "inside, sharing a corner and edges"
        );
        let corner_triangle = MultiPolygon::new(vec![polygon![
            (x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 0.)
        ]]);
        assert!(
            interiors_meet(&a, &corner_triangle),
            "every vertex on the boundary"
        );
    }

    #[test]
    fn pairs_are_found_once_and_sorted() {
        let g = [
            sq(0., 0., 10.),
            sq(10., 0., 10.),
            sq(15., 5., 10.),
            sq(0., 0., 10.),
        ];
        let refs: Vec<&MultiPolygon<f64>> = g.iter().collect();
        assert_eq!(
            overlapping_pairs(&refs, &[vec![0, 1, 2, 3]]),
            [(0, 3), (1, 2)]
        );
        // Only members of one group are compared; a pair in two groups is found once.
        assert_eq!(overlapping_pairs(&refs, &[vec![0, 1]]), []);
        assert_eq!(overlapping_pairs(&refs, &[vec![0, 1], vec![2, 3]]), []);
        assert_eq!(
            overlapping_pairs(&refs, &[vec![1, 2], vec![3, 0], vec![2, 1, 0]]),
            [(0, 3), (1, 2)]
        );
    }

    #[test]
    fn the_shared_stretch_shortcut_agrees_with_the_full_test() {
        // A tessellation of wavy (concave) cells: each cell edge has a displaced midpoint
        // that the two cells on either side share. Then cells that touch a neighbour at an
        // extra point, a cell inside another sharing an edge, a U wrapped round a cell
        // (two shared stretches), cells overlapping a neighbour past the shared stretch.
        let node = |i: i32, j: i32| Coord {
            x: f64::from(i) * 10.0,
            y: f64::from(j) * 10.0,
        };
        let wobble = |k: i32| f64::from((k * 7919).rem_euclid(97)) / 97.0 * 4.0 - 2.0;
        let mid_h = |i: i32, j: i32| Coord {
            x: f64::from(i) * 10.0 + 5.0,
            y: f64::from(j) * 10.0 + wobble(i * 31 + j * 17),
        };
        let mid_v = |i: i32, j: i32| Coord {
            x: f64::from(i) * 10.0 + wobble(i * 13 + j * 29 + 5),
            y: f64::from(j) * 10.0 + 5.0,
        };
        let mp = |ring: Vec<Coord<f64>>| MultiPolygon::new(vec![Polygon::new(ring.into(), vec![])]);
        let mut g: Vec<MultiPolygon<f64>> = Vec::new();
        for i in 0..4 {
            for j in 0..4 {
                g.push(mp(vec![
                    node(i, j),
                    mid_h(i, j),
                    node(i + 1, j),
                    mid_v(i + 1, j),
                    node(i + 1, j + 1),
                    mid_h(i, j + 1),
                    node(i, j + 1),
                    mid_v(i, j),
                    node(i, j),
                ]));
            }
        }
        let c = |x: f64, y: f64| Coord { x, y };
        // Beside the grid's right edge (x = 40, straight there): shares the stretch
        // (40,0)-(40,5)-(40,10)? Not quite: its midpoint differs, so only corners are shared.
        g.push(mp(vec![
            c(40., 0.),
            c(50., 0.),
            c(50., 10.),
            c(40., 10.),
            mid_v(4, 0),
            c(40., 0.),
        ]));
        // A cell inside cell 0 sharing its bottom-left corner edge stretch, the same way round.
        g.push(mp(vec![
            node(0, 0),
            mid_h(0, 0),
            c(4., 4.),
            c(1., 4.),
            node(0, 0),
        ]));
        // A U round cell 5 (i = 1, j = 1) from outside the grid would overlap; instead a cell
        // over the grid's top edge, touching cell 3's top at a point between its vertices.
        g.push(mp(vec![
            c(2., 40.),
            c(8., 40.),
            c(8., 45.),
            c(2., 45.),
            c(2., 40.),
        ]));
        // Overlapping a neighbour: cell 0 pushed 3 to the right, sharing no vertex.
        let shifted: Vec<Coord<f64>> = g[0].0[0]
            .exterior()
            .0
            .iter()
            .map(|p| c(p.x + 3.0, p.y))
            .collect();
        g.push(mp(shifted));
        // Overlapping past a shared stretch: cell 1's ring with its far corner pulled into
        // cell 2 (it shares the stretch with cell 0 and crosses into cell 2).
        let mut pulled = g[1].0[0].exterior().0.clone();
        pulled[4] = c(pulled[4].x, pulled[4].y + 6.0);
        g.push(mp(pulled));

        let shapes: Vec<Shape> = g.iter().map(|m| Shape::new(m).unwrap()).collect();
        let concave = shapes[..16].iter().filter(|s| s.convex.is_none()).count();
        assert!(concave >= 10, "{concave} of the cells are concave");
        let mut overlapping = 0;
        let mut shortcut = 0;
        for a in 0..g.len() {
            for b in a + 1..g.len() {
                let full = interiors_meet(&g[a], &g[b]);
                assert_eq!(shapes_meet(&shapes[a], &shapes[b]), full, "{a} {b}");
                overlapping += usize::from(full);
                let (pa, pb) = (&g[a].0[0], &g[b].0[0]);
                let rb = shapes[b].bbox;
                if apart_along_a_shared_stretch(&pa.exterior().0, &pb.exterior().0, &rb) {
                    assert!(!full, "{a} {b}: taken apart but they overlap");
                    shortcut += 1;
                }
            }
        }
        // Every grid neighbour across an edge (24 pairs) is told apart by the stretch.
        assert!(shortcut >= 24, "{shortcut}");
        assert!(overlapping >= 4, "{overlapping}");
    }

    #[test]
    fn the_separating_edge_shortcut_agrees_with_the_full_test() {
        // A jittered grid of convex quadrilaterals (a tessellation: neighbours share edges),
        // an L-shaped (concave) parcel, and squares laid across them.
        let node = |i: i32, j: i32| {
            let h = ((i * 7919 + j * 104_729) % 97) as f64 / 97.0;
            Coord {
                x: f64::from(i) * 10.0 + (h - 0.5) * 3.0,
                y: f64::from(j) * 10.0 + (0.5 - h) * 3.0,
            }
        };
        let mut g: Vec<MultiPolygon<f64>> = Vec::new();
        for i in 0..5 {
            for j in 0..5 {
                let ring = vec![
                    node(i, j),
                    node(i + 1, j),
                    node(i + 1, j + 1),
                    node(i, j + 1),
                    node(i, j),
                ];
                g.push(MultiPolygon::new(vec![Polygon::new(ring.into(), vec![])]));
            }
        }
        g.push(MultiPolygon::new(vec![polygon![
            (x: 60., y: 0.), (x: 80., y: 0.), (x: 80., y: 10.), (x: 70., y: 10.),
            (x: 70., y: 20.), (x: 60., y: 20.), (x: 60., y: 0.)
        ]]));
        g.push(sq(72., 12., 5.)); // in the L's notch: touches nothing
        g.push(sq(65., 5., 3.)); // inside the L
        g.push(sq(15., 15., 12.)); // across several quads
        g.push(g[7].clone()); // a quad twice
        let shapes: Vec<Shape> = g.iter().map(|m| Shape::new(m).unwrap()).collect();
        assert!(shapes[0].convex.is_some() && shapes[25].convex.is_none());
        let mut overlapping = 0;
        for a in 0..g.len() {
            for b in a + 1..g.len() {
                let full = interiors_meet(&g[a], &g[b]);
                assert_eq!(shapes_meet(&shapes[a], &shapes[b]), full, "{a} {b}");
                overlapping += usize::from(full);
            }
        }
        // The square across the grid meets 4 quads... at least; the duplicate and the
        // square inside the L are found; grid neighbours are not.
        assert!(overlapping >= 6, "{overlapping}");
        let refs: Vec<&MultiPolygon<f64>> = g.iter().collect();
        let all = [(0..g.len() as u32).collect::<Vec<u32>>()];
        assert_eq!(overlapping_pairs(&refs, &all).len(), overlapping);
        assert!(overlapping_pairs(&refs, &all).contains(&(7, 29)));
        assert!(overlapping_pairs(&refs, &all).contains(&(25, 27)));
        assert!(
            !overlapping_pairs(&refs, &all)
                .iter()
                .any(|&(a, b)| a.max(b) == 26)
        );
    }
}
