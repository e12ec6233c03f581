//! Predicates on rings and polygons: point in ring or polygon (even-odd), whether two
//! segments meet (exact orientation tests), whether a ring is simple or winds once.
//!
//! Rings are closed (first point repeated last). Used by the readers (ring assembly and
//! repair), the overlay, the overlap check and the window's picking.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, MultiPolygon, Polygon};

use super::area::twice_signed_area;

/// Even-odd point-in-ring test. Points exactly on an edge may go either way; callers pick a
/// test point that does not matter.
pub fn point_in_ring(p: Coord<f64>, ring: &[Coord<f64>]) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a.y > p.y) != (b.y > p.y) {
            let x = (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x;
            if p.x < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Whether `p` lies inside the polygon: in its exterior ring and in none of its holes.
pub fn point_in_polygon(p: Coord<f64>, polygon: &Polygon<f64>) -> bool {
    point_in_ring(p, &polygon.exterior().0)
        && !polygon.interiors().iter().any(|h| point_in_ring(p, &h.0))
}

fn boxes_meet(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    a.x.min(b.x) <= c.x.max(d.x)
        && c.x.min(d.x) <= a.x.max(b.x)
        && a.y.min(b.y) <= c.y.max(d.y)
        && c.y.min(d.y) <= a.y.max(b.y)
}

/// Whether `p` lies inside one of the parts of a multipolygon.
pub fn point_in_multi_polygon(p: Coord<f64>, mp: &MultiPolygon<f64>) -> bool {
    mp.0.iter().any(|poly| point_in_polygon(p, poly))
}

/// Whether segments ab and cd share at least one point (exact predicates).
pub fn segments_meet(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    if !boxes_meet(a, b, c, d) {
        return false;
    }
    let o1 = RobustKernel::orient2d(a, b, c);
    let o2 = RobustKernel::orient2d(a, b, d);
    let o3 = RobustKernel::orient2d(c, d, a);
    let o4 = RobustKernel::orient2d(c, d, b);
    let col = Orientation::Collinear;
    if o1 == col && o2 == col {
        // Collinear: the boxes already overlap, so the segments do.
        return true;
    }
    (o1 != o2 || o1 == col) && (o3 != o4 || o3 == col)
}

/// Whether a closed ring (first point repeated last, no consecutive duplicates) is simple:
/// no two edges meet except neighbours at their shared vertex, and no edge doubles back over
/// the one before it. Edges are compared in order of their left end, so only pairs whose x
/// ranges overlap are tested.
pub fn ring_is_simple(ring: &[Coord<f64>]) -> bool {
    let n = ring.len().saturating_sub(1); // edges
    if n < 3 {
        return false;
    }
    let edge = |i: usize| (ring[i], ring[i + 1]);
    let adjacent = |i: usize, j: usize| j == i + 1 || (i == 0 && j == n - 1);
    // Most parcels (convex, or wavy but star-shaped) are settled without comparing edges. A
    // ring star-shaped from a point has no spike either: its vertices go strictly one way
    // round the point, and an edge folding back along the one before would turn back.
    if star_shaped_from_centre(ring) {
        return true;
    }
    // An edge folding back over the previous one (a spike) shares more than the vertex.
    for i in 0..n {
        let (a, b) = edge(i);
        let c = ring[(i + 2) % n]; // ring[n] is ring[0]
        if RobustKernel::orient2d(a, b, c) == Orientation::Collinear {
            let back = (b.x - a.x) * (c.x - b.x) + (b.y - a.y) * (c.y - b.y) < 0.0;
            if back {
                return false;
            }
        }
    }
    if n <= 32 {
        // Small rings (parcels): every pair, boxes first; no allocation.
        for i in 0..n {
            let (a, b) = edge(i);
            for j in i + 2..n {
                if adjacent(i, j) {
                    continue;
                }
                let (c, d) = edge(j);
                if segments_meet(a, b, c, d) {
                    return false;
                }
            }
        }
        return true;
    }
    let mut order: Vec<usize> = (0..n).collect();
    let min_x = |i: usize| ring[i].x.min(ring[i + 1].x);
    order.sort_unstable_by(|&i, &j| min_x(i).total_cmp(&min_x(j)));
    for (k, &i) in order.iter().enumerate() {
        let (a, b) = edge(i);
        let max_x = a.x.max(b.x);
        for &j in &order[k + 1..] {
            if min_x(j) > max_x {
                break;
            }
            let (lo, hi) = (i.min(j), i.max(j));
            if adjacent(lo, hi) {
                continue;
            }
            let (c, d) = edge(j);
            if segments_meet(a, b, c, d) {
                return false;
            }
        }
    }
    true
}

/// Whether a closed ring whose turns all go one way (none straight) goes round once, i.e. is
/// convex (`parcel_overlaps` asks): its edge direction then turns through 360° in all, so
/// the sign of the edges' x steps changes exactly twice going round; a ring that winds k
/// times (a pentagram) changes it 2k times.
pub fn winds_once(ring: &[Coord<f64>]) -> bool {
    sign_changes_round(ring.windows(2).map(|w| w[1].x - w[0].x)) == 2
}

/// How often the sign of a cyclic sequence changes going once round it (zeros skipped).
fn sign_changes_round(values: impl Iterator<Item = f64>) -> usize {
    let mut changes = 0;
    let (mut first, mut last) = (0.0f64, 0.0f64);
    for v in values.filter(|&v| v != 0.0) {
        if first == 0.0 {
            first = v;
        } else if (v > 0.0) != (last > 0.0) {
            changes += 1;
        }
        last = v;
    }
    if first != 0.0 && (first > 0.0) != (last > 0.0) {
        changes += 1;
    }
    changes
}

/// Whether a closed ring is star-shaped from the mean of its vertices: seen from that point
/// its vertices follow one another strictly one way round, once. Each ray from the point then
/// meets the ring once, so the ring is simple. Parcels are nearly always so, even with wavy
/// (concave) edges, which spares comparing their edges pairwise.
fn star_shaped_from_centre(ring: &[Coord<f64>]) -> bool {
    let pts = &ring[..ring.len() - 1];
    let n = pts.len() as f64;
    let c = Coord {
        x: pts.iter().map(|p| p.x).sum::<f64>() / n,
        y: pts.iter().map(|p| p.y).sum::<f64>() / n,
    };
    let first = RobustKernel::orient2d(c, ring[0], ring[1]);
    if first == Orientation::Collinear
        || !ring
            .windows(2)
            .all(|w| RobustKernel::orient2d(c, w[0], w[1]) == first)
    {
        return false;
    }
    // Strictly one way round: once round exactly when the direction from the centre crosses
    // the horizontal twice (a ring round it k times crosses 2k times).
    sign_changes_round(pts.iter().map(|p| p.y - c.y)) == 2
}

/// Whether a closed ring turns the same way (either way) at every vertex, never straight, and
/// goes round once: strictly convex, by exact orientation tests.
pub fn is_strictly_convex(ring: &[Coord<f64>]) -> bool {
    let n = ring.len().saturating_sub(1);
    if n < 3 {
        return false;
    }
    let first = RobustKernel::orient2d(ring[0], ring[1], ring[2 % n]);
    first != Orientation::Collinear
        && (0..n).all(|i| RobustKernel::orient2d(ring[i], ring[i + 1], ring[(i + 2) % n]) == first)
        && winds_once(ring)
}

/// Whether a closed ring turns left or goes straight at every vertex and goes round once:
/// a convex region, wound counter-clockwise.
pub fn is_convex_ccw(ring: &[Coord<f64>]) -> bool {
    let n = ring.len().saturating_sub(1);
    if n < 3 {
        return false;
    }
    let cross = |a: Coord<f64>, b: Coord<f64>, c: Coord<f64>| {
        (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x)
    };
    (0..n).all(|i| cross(ring[i], ring[i + 1], ring[(i + 2) % n]) >= 0.0)
        && winds_once(ring)
        && twice_signed_area(ring) > 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn simple_and_non_simple_rings() {
        let sq = [c(0., 0.), c(1., 0.), c(1., 1.), c(0., 1.), c(0., 0.)];
        assert!(ring_is_simple(&sq));
        let bowtie = [c(0., 0.), c(1., 1.), c(1., 0.), c(0., 1.), c(0., 0.)];
        assert!(!ring_is_simple(&bowtie));
        // Touching itself at a vertex (an inverted hole).
        let touch = [
            c(0., 0.),
            c(4., 0.),
            c(4., 4.),
            c(2., 0.),
            c(0., 4.),
            c(0., 0.),
        ];
        assert!(!ring_is_simple(&touch));
        // A spike out and back along the same line.
        let spike = [
            c(0., 0.),
            c(2., 0.),
            c(3., 0.),
            c(2., 0.),
            c(2., 2.),
            c(0., 0.),
        ];
        assert!(!ring_is_simple(&spike));
        // A concave but simple ring.
        let notch = [
            c(0., 0.),
            c(4., 0.),
            c(4., 4.),
            c(2., 1.),
            c(0., 4.),
            c(0., 0.),
        ];
        assert!(ring_is_simple(&notch));
    }

    #[test]
    fn star_shaped_and_convex_rings_are_simple_and_a_pentagram_is_not() {
        let ring = |pts: &[(f64, f64)]| -> Vec<Coord<f64>> {
            let mut v: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
            v.push(v[0]);
            v
        };
        let hexagon: Vec<(f64, f64)> = (0..6)
            .map(|k| {
                let t = f64::from(k) * std::f64::consts::PI / 3.0;
                (t.cos(), t.sin())
            })
            .collect();
        assert!(ring_is_simple(&ring(&hexagon)));
        let mut clockwise = hexagon.clone();
        clockwise.reverse();
        assert!(ring_is_simple(&ring(&clockwise)));
        // Every turn the same way, but it goes round twice.
        let star: Vec<(f64, f64)> = (0..5)
            .map(|k| {
                let t = f64::from(k * 2) * 2.0 * std::f64::consts::PI / 5.0;
                (t.cos(), t.sin())
            })
            .collect();
        assert!(!winds_once(&ring(&star)));
        assert!(!ring_is_simple(&ring(&star)));
        // Concave (turns both ways): the edges are compared, and it is simple.
        let l_shape = [(0., 0.), (2., 0.), (2., 1.), (1., 1.), (1., 2.), (0., 2.)];
        assert!(ring_is_simple(&ring(&l_shape)));
        // Star-shaped from the centre though concave: simple without comparing edges.
        let wavy = [
            (0., 0.),
            (1., 0.2),
            (2., 0.),
            (2.2, 1.),
            (2., 2.),
            (1., 1.8),
            (0., 2.),
            (-0.2, 1.),
        ];
        assert!(star_shaped_from_centre(&ring(&wavy)));
        assert!(ring_is_simple(&ring(&wavy)));
        // A pentagram is not: seen from its centre it goes round twice.
        assert!(!star_shaped_from_centre(&ring(&star)));
        // Nor is a bow-tie (its triangles from the centre turn both ways).
        let bow = [(0., 0.), (2., 2.), (2., 0.), (0., 2.)];
        assert!(!star_shaped_from_centre(&ring(&bow)));
        assert!(!ring_is_simple(&ring(&bow)));
        // With vertical edges (no x step) the count still works.
        assert!(winds_once(&ring(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.)])));
    }

    #[test]
    fn segment_predicates() {
        let c = |x: f64, y: f64| Coord { x, y };
        assert!(segments_meet(c(0., 0.), c(2., 2.), c(0., 2.), c(2., 0.)));
        assert!(segments_meet(c(0., 0.), c(2., 0.), c(1., 0.), c(3., 0.)));
        assert!(segments_meet(c(0., 0.), c(2., 0.), c(2., 0.), c(2., 5.)));
        assert!(!segments_meet(c(0., 0.), c(2., 0.), c(3., 0.), c(4., 0.)));
        assert!(!segments_meet(c(0., 0.), c(2., 0.), c(0., 1.), c(2., 1.)));
    }

    #[test]
    fn points_in_a_polygon_with_a_hole() {
        use geo::polygon;
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.)]],
        );
        assert!(point_in_polygon(c(1., 1.), &p));
        assert!(!point_in_polygon(c(5., 5.), &p), "in the hole");
        assert!(!point_in_polygon(c(11., 5.), &p));
    }
}
