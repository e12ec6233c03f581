//! Boolean operations on polygons: i_overlay (the clipper behind geo's `BooleanOps`), called
//! directly so that its fixed-point frame has headroom.
//!
//! i_overlay maps the operands' bounding box onto ±2^30 integers and takes cross products of
//! edge vectors in `i64`; two edges that each span the whole box in both directions (a
//! bow-tie's diagonals, say) can overflow it, which panics in a build with overflow checks
//! and gives a wrong sign otherwise (the shapefile fuzzer found such an input). The frame
//! here is the box widened by an eighth on every side, so an edge spans at most 2^31 / 1.25
//! and a cross product of two fits in `i64` (at the cost of a third of a bit of precision).
//! The frame is handed to the clipper directly: widening the box with zero-area rings beyond
//! its corners instead can break one of the clipper's internal invariants on a self-crossing
//! ring. Operands with no extent to speak of (under 1e-200) give an empty result without
//! reaching the clipper, whose scale factor would be infinite.
//!
//! The options are geo's: OGC-valid output, exterior rings counter-clockwise, holes
//! clockwise, every ring closed.

use geo::bool_ops::{FillRule, OpType};
use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon, Rect};
use i_overlay::core::overlay::ShapeType;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::float::overlay::{FloatOverlay, OverlayOptions};
use i_overlay::i_float::adapter::FloatPointAdapter;
use i_overlay::i_float::float::rect::FloatRect;

/// Below this width and height together, operands are taken to have no area.
const MIN_EXTENT: f64 = 1e-200;

/// The rings of an operand as the clipper takes them: implicitly closed, empty ones left out.
fn paths(g: &impl BooleanOps<Scalar = f64>) -> Vec<Vec<[f64; 2]>> {
    g.rings()
        .filter(|r| r.0.len() > 1)
        .map(|r| r.0[..r.0.len() - 1].iter().map(|c| [c.x, c.y]).collect())
        .collect()
}

/// `a op b` under `fill`, computed in the widened frame described above, OGC-valid.
pub fn boolean_op(
    a: &impl BooleanOps<Scalar = f64>,
    b: &impl BooleanOps<Scalar = f64>,
    op: OpType,
    fill: FillRule,
) -> MultiPolygon<f64> {
    overlay(a, b, op, fill, true)
}

/// The even-odd union of the rings of `g`: the repair of a self-crossing polygon. It uses
/// the clipper's plain contour extraction rather than the OGC one: a broken ring squeezed
/// onto the fixed-point grid (one vertex ten million units out, the rest within a unit) can
/// leave the OGC extraction with a hole edge it does not expect (an internal assertion of
/// i_overlay 4.5, found by the GeoJSON fuzzer), while the plain extraction has no such
/// invariant and gives the same area. Its rings may touch themselves at a vertex (valid for
/// ESRI, not for OGC); `io::rings` cuts them there.
pub fn even_odd_union(g: &impl BooleanOps<Scalar = f64>) -> MultiPolygon<f64> {
    overlay(
        g,
        &MultiPolygon::<f64>::new(vec![]),
        OpType::Union,
        FillRule::EvenOdd,
        false,
    )
}

fn overlay(
    a: &impl BooleanOps<Scalar = f64>,
    b: &impl BooleanOps<Scalar = f64>,
    op: OpType,
    fill: FillRule,
    ogc: bool,
) -> MultiPolygon<f64> {
    let ring = |path: Vec<[f64; 2]>| {
        let mut pts: Vec<Coord<f64>> = path.into_iter().map(|[x, y]| Coord { x, y }).collect();
        if let Some(&first) = pts.first() {
            pts.push(first);
        }
        LineString::new(pts)
    };
    MultiPolygon::new(
        overlay_shapes(a, b, op, fill, ogc)
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|shape| {
                let mut rings = shape.into_iter().map(ring);
                let exterior = rings.next().unwrap_or_else(|| LineString::new(vec![]));
                Polygon::new(exterior, rings.collect())
            })
            .collect(),
    )
}

/// The area of `a ∩ b` (even-odd), each ring of the intersection measured by `ring_area`
/// (given closed; its sign does not matter): the exterior of each part less its holes, as
/// `AreaMethod::polygon_m2` counts. Without the OGC form or any polygon built: the overlay
/// measures tens of thousands of parcels crossing a risk boundary this way.
pub fn intersection_area(
    a: &impl BooleanOps<Scalar = f64>,
    b: &impl BooleanOps<Scalar = f64>,
    ring_area: impl Fn(&[Coord<f64>]) -> f64,
) -> f64 {
    let mut ring: Vec<Coord<f64>> = Vec::new();
    let mut measure = |path: &[[f64; 2]]| {
        ring.clear();
        ring.extend(path.iter().map(|&[x, y]| Coord { x, y }));
        match ring.first() {
            Some(&first) => {
                ring.push(first);
                ring_area(&ring).abs()
            }
            None => 0.0,
        }
    };
    let mut area = 0.0;
    for shape in overlay_shapes(a, b, OpType::Intersection, FillRule::EvenOdd, false) {
        if let Some((exterior, holes)) = shape.split_first() {
            let holes: f64 = holes.iter().map(|h| measure(h)).sum();
            area += (measure(exterior) - holes).max(0.0);
        }
    }
    area
}

/// The clipper's shapes for `a op b`: each a list of paths (implicitly closed), the first the
/// exterior (counter-clockwise), then the holes (clockwise).
fn overlay_shapes(
    a: &impl BooleanOps<Scalar = f64>,
    b: &impl BooleanOps<Scalar = f64>,
    op: OpType,
    fill: FillRule,
    ogc: bool,
) -> Vec<Vec<Vec<[f64; 2]>>> {
    let (subject, clip) = (paths(a), paths(b));
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in subject.iter().chain(&clip).flatten() {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    if lo[0] > hi[0] {
        return Vec::new();
    }
    let (w, h) = (hi[0] - lo[0], hi[1] - lo[1]);
    // Operands a few hundred orders of magnitude below any real geometry (1e-300 wide, as
    // damaged files have) would make the clipper's scale factor infinite: they hold no area.
    if w.max(h) < MIN_EXTENT {
        return Vec::new();
    }
    let frame = FloatRect::new(
        lo[0] - w / 8.0,
        hi[0] + w / 8.0,
        lo[1] - h / 8.0,
        hi[1] + h / 8.0,
    );
    let capacity = subject.iter().chain(&clip).map(Vec::len).sum();
    let rule = match op {
        OpType::Intersection => OverlayRule::Intersect,
        OpType::Union => OverlayRule::Union,
        OpType::Difference => OverlayRule::Difference,
        OpType::Xor => OverlayRule::Xor,
    };
    let mut options = OverlayOptions::ogc();
    options.ogc = ogc;
    FloatOverlay::new_custom(
        FloatPointAdapter::new(frame),
        options,
        Default::default(),
        capacity,
    )
    .unsafe_add_source(&subject, ShapeType::Subject)
    .unsafe_add_source(&clip, ShapeType::Clip)
    .overlay(rule, fill)
}

/// The intersection of `a` and `b` (even-odd, as geo's `intersection`).
pub fn intersection(
    a: &impl BooleanOps<Scalar = f64>,
    b: &impl BooleanOps<Scalar = f64>,
) -> MultiPolygon<f64> {
    boolean_op(a, b, OpType::Intersection, FillRule::EvenOdd)
}

/// Sutherland–Hodgman clipping of a closed ring to a rectangle. Returns a closed ring (or
/// fewer than four points when nothing is left).
pub fn clip_ring_to_rect(ring: &[Coord<f64>], r: &Rect<f64>) -> Vec<Coord<f64>> {
    let mut pts: Vec<Coord<f64>> = ring[..ring.len().saturating_sub(1)].to_vec();
    let (x0, y0, x1, y1) = (r.min().x, r.min().y, r.max().x, r.max().y);
    // (inside test, intersection) for each of the four sides.
    for side in 0..4 {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &Coord<f64>| match side {
            0 => p.x >= x0,
            1 => p.x <= x1,
            2 => p.y >= y0,
            _ => p.y <= y1,
        };
        let cut = |a: Coord<f64>, b: Coord<f64>| -> Coord<f64> {
            match side {
                0 | 1 => {
                    let x = if side == 0 { x0 } else { x1 };
                    let t = (x - a.x) / (b.x - a.x);
                    Coord {
                        x,
                        y: a.y + t * (b.y - a.y),
                    }
                }
                _ => {
                    let y = if side == 2 { y0 } else { y1 };
                    let t = (y - a.y) / (b.y - a.y);
                    Coord {
                        x: a.x + t * (b.x - a.x),
                        y,
                    }
                }
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let cur = pts[i];
            let prev = pts[(i + pts.len() - 1) % pts.len()];
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cut(prev, cur)),
                (false, true) => {
                    out.push(cut(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    if pts.len() >= 3 {
        pts.push(pts[0]);
    }
    pts
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, polygon};

    #[test]
    fn the_frame_changes_no_result() {
        let a = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)];
        let b = polygon![(x: 2., y: 2.), (x: 6., y: 2.), (x: 6., y: 6.), (x: 2., y: 6.)];
        assert_eq!(intersection(&a, &b).unsigned_area(), 4.0);
        let u = boolean_op(&a, &b, OpType::Union, FillRule::EvenOdd);
        assert_eq!(u.unsigned_area(), 28.0);
        assert_eq!(u.0.len(), 1);
        assert_eq!(
            u,
            a.boolean_op_with_fill_rule(&b, OpType::Union, FillRule::EvenOdd)
        );
        let d = boolean_op(&a, &b, OpType::Difference, FillRule::EvenOdd);
        assert_eq!(d.unsigned_area(), 12.0);
        let empty = MultiPolygon::<f64>::new(vec![]);
        assert!(intersection(&empty, &empty).0.is_empty());
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the fuzzer's numbers, as it wrote them
    fn a_self_crossing_ring_reaching_far_out_is_repaired_without_breaking_the_clipper() {
        // Found by the GeoJSON fuzzer (tests/fuzz_regressions/parse_geojson/
        // minimized-from-crash-576b0b76): in the widened frame, the OGC extraction's
        // `is_fill_top` invariant failed on this ring (a debug assertion of i_overlay 4.5.2).
        let ring: Vec<Coord<f64>> = [
            (-105.8061512539999, 995.0),
            (-10599997.0, 40.16723473400003),
            (-105.75252799995, 40.1641884004),
            (-5.5350543499996, 40.3140789274089),
            (-105.55202399995, 40.36953000046),
            (-105.62241943799995, 40.539619745400004),
            (-105.85496571099997, 40.486201499),
            (-105.5159359999, 40.205),
            (-105.54997263999996, 40.3605),
            (-105.5711, 40.326759225),
            (-105.56268212499998, 40.325360086000046),
            (-105.55805262399997, 40.38688426000074),
            (-105.74383073496, 40.168005),
            (-105.59910215099995, 999.0),
            (-105.53802058899998, 40.38253243147658),
            (-105.89159999, 40.47670540800004),
            (-105.886687599997, 40.20925216400008),
            (-0.5819994, 40.214300006),
            (-105.51566578616337, 40.275817216),
            (-105.8061512539999, 995.0),
        ]
        .into_iter()
        .map(|(x, y)| Coord { x, y })
        .collect();
        let mp = MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![])]);
        let fixed = even_odd_union(&mp);
        // The same area as geo's own union in its narrower frame, to the snapping of the
        // fixed-point grid (a unit is ~0.01 here, and the ring crosses itself ~20 times).
        let empty = MultiPolygon::<f64>::new(vec![]);
        let reference = mp.boolean_op_with_fill_rule(&empty, OpType::Union, FillRule::EvenOdd);
        let (got, want) = (fixed.unsigned_area(), reference.unsigned_area());
        assert!(
            got > 0.0 && (got - want).abs() <= 1e-4 * want,
            "{got} vs {want}"
        );
    }
}
