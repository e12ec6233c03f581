//! Boolean operations on polygons: geo's `BooleanOps` (i_overlay) with headroom.
//!
//! i_overlay maps the operands' bounding box onto ±2^30 integers and takes cross products of
//! edge vectors in `i64`; two edges that each span the whole box in both directions (a
//! bow-tie's diagonals, say) can overflow it, which panics in a build with overflow checks
//! and gives a wrong sign otherwise (the shapefile fuzzer found such an input). Two
//! zero-area rings, an eighth of the box beyond two opposite corners, widen the box the
//! clipper scales by a quarter, so an edge spans at most 2^31 / 1.25 and a cross product of
//! two fits in `i64` (at the cost of a third of a bit of precision). They add no area.
//! Operands with no extent to speak of (under 1e-200) give an empty result without reaching
//! the clipper, whose scale factor would be infinite.

use geo::bool_ops::{FillRule, OpType};
use geo::{BooleanOps, Coord, LineString, MultiPolygon};

/// Below this width and height together, operands are taken to have no area.
const MIN_EXTENT: f64 = 1e-200;

/// An operand with the two margin rings added.
struct WithMargin<'a, B> {
    inner: &'a B,
    margin: [LineString<f64>; 2],
}

impl<B: BooleanOps<Scalar = f64>> BooleanOps for WithMargin<'_, B> {
    type Scalar = f64;
    fn rings(&self) -> impl Iterator<Item = &LineString<f64>> {
        self.inner.rings().chain(self.margin.iter())
    }
}

/// `a op b` under `fill`, computed with the margin described above.
pub fn boolean_op(
    a: &impl BooleanOps<Scalar = f64>,
    b: &impl BooleanOps<Scalar = f64>,
    op: OpType,
    fill: FillRule,
) -> MultiPolygon<f64> {
    let mut lo = Coord {
        x: f64::INFINITY,
        y: f64::INFINITY,
    };
    let mut hi = Coord {
        x: f64::NEG_INFINITY,
        y: f64::NEG_INFINITY,
    };
    for c in a.rings().chain(b.rings()).flat_map(|r| r.0.iter()) {
        lo.x = lo.x.min(c.x);
        lo.y = lo.y.min(c.y);
        hi.x = hi.x.max(c.x);
        hi.y = hi.y.max(c.y);
    }
    if lo.x > hi.x {
        return MultiPolygon::new(vec![]);
    }
    let (w, h) = (hi.x - lo.x, hi.y - lo.y);
    // Operands a few hundred orders of magnitude below any real geometry (1e-300 wide, as
    // damaged files have) would make the clipper's scale factor infinite: they hold no area.
    if w.max(h) < MIN_EXTENT {
        return MultiPolygon::new(vec![]);
    }
    let point = |x: f64, y: f64| LineString::new(vec![Coord { x, y }; 4]);
    let b = WithMargin {
        inner: b,
        margin: [
            point(lo.x - w / 8.0, lo.y - h / 8.0),
            point(hi.x + w / 8.0, hi.y + h / 8.0),
        ],
    };
    a.boolean_op_with_fill_rule(&b, op, fill)
}

/// The intersection of `a` and `b` (even-odd, as geo's `intersection`).
pub fn intersection(
    a: &impl BooleanOps<Scalar = f64>,
    b: &impl BooleanOps<Scalar = f64>,
) -> MultiPolygon<f64> {
    boolean_op(a, b, OpType::Intersection, FillRule::EvenOdd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, polygon};

    #[test]
    fn the_margin_changes_no_result() {
        let a = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)];
        let b = polygon![(x: 2., y: 2.), (x: 6., y: 2.), (x: 6., y: 6.), (x: 2., y: 6.)];
        assert_eq!(intersection(&a, &b).unsigned_area(), 4.0);
        let u = boolean_op(&a, &b, OpType::Union, FillRule::EvenOdd);
        assert_eq!(u.unsigned_area(), 28.0);
        assert_eq!(u.0.len(), 1);
        let empty = MultiPolygon::<f64>::new(vec![]);
        assert!(intersection(&empty, &empty).0.is_empty());
    }
}
