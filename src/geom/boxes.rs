//! Axis-aligned boxes (`geo::Rect`): the box of a ring or a multipolygon, the box round two
//! boxes, and whether boxes meet, contain a point or another box.
//!
//! Plain loops and comparisons: geo's `BoundingRect` handles NaN at every point, which the
//! readers have already removed (`io::rings`), and costs a measurable share of an overlay.
//! Boxes are closed: touching boxes meet, except in `interiors_overlap`.

use geo::{Coord, MultiPolygon, Rect};

/// The bounding box of a ring's points, `None` for no points. A plain loop, for the reason
/// given in the module docs.
pub fn ring_bounds(ring: &[Coord<f64>]) -> Option<Rect<f64>> {
    let (&first, rest) = ring.split_first()?;
    let (mut lo, mut hi) = (first, first);
    for p in rest {
        if p.x < lo.x {
            lo.x = p.x;
        }
        if p.x > hi.x {
            hi.x = p.x;
        }
        if p.y < lo.y {
            lo.y = p.y;
        }
        if p.y > hi.y {
            hi.y = p.y;
        }
    }
    Some(Rect::new(lo, hi))
}

/// The box round two boxes.
pub fn union_rect(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}

/// The bounding box of a multipolygon, `None` when it has no points.
pub fn bounds(mp: &MultiPolygon<f64>) -> Option<Rect<f64>> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .filter_map(|r| ring_bounds(&r.0))
        .reduce(union_rect)
}

/// The box round two optional boxes: either one when the other is missing.
pub fn union_of(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> Option<Rect<f64>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(union_rect(a, b)),
        (a, b) => a.or(b),
    }
}

/// Whether two closed boxes share at least one point (touching counts).
pub fn rects_meet(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// Whether two boxes share area: boxes that only touch cannot hold a shared interior.
pub fn interiors_overlap(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x < b.max().x && b.min().x < a.max().x && a.min().y < b.max().y && b.min().y < a.max().y
}

/// Whether the closed box `r` holds the point `p`.
pub fn rect_holds(r: &Rect<f64>, p: Coord<f64>) -> bool {
    p.x >= r.min().x && p.x <= r.max().x && p.y >= r.min().y && p.y <= r.max().y
}

/// Whether `outer` contains all of `inner` (shared edges included).
pub fn rect_contains(outer: &Rect<f64>, inner: &Rect<f64>) -> bool {
    outer.min().x <= inner.min().x
        && outer.min().y <= inner.min().y
        && outer.max().x >= inner.max().x
        && outer.max().y >= inner.max().y
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn r(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new((x0, y0), (x1, y1))
    }

    #[test]
    fn bounds_cover_every_ring_and_union_covers_both() {
        let mp = MultiPolygon::new(vec![
            polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 3.)],
            polygon![(x: -2., y: 5.), (x: 1., y: 5.), (x: 1., y: 9.)],
        ]);
        assert_eq!(bounds(&mp), Some(r(-2., 0., 4., 9.)));
        assert_eq!(bounds(&MultiPolygon::new(vec![])), None);
        assert_eq!(
            union_rect(r(0., 0., 1., 1.), r(5., -1., 6., 0.)),
            r(0., -1., 6., 1.)
        );
    }

    #[test]
    fn touching_boxes_meet_but_share_no_interior() {
        let (a, b) = (r(0., 0., 1., 1.), r(1., 0., 2., 1.));
        assert!(rects_meet(&a, &b));
        assert!(!interiors_overlap(&a, &b));
        assert!(interiors_overlap(&a, &r(0.5, 0.5, 3., 3.)));
        assert!(!rects_meet(&a, &r(1.5, 0., 2., 1.)));
        assert!(rect_holds(&a, Coord { x: 1., y: 0.5 }));
        assert!(!rect_holds(&a, Coord { x: 1.1, y: 0.5 }));
        assert!(rect_contains(&r(0., 0., 2., 2.), &a));
        assert!(!rect_contains(&a, &r(0., 0., 2., 2.)));
    }
}
