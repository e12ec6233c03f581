//! Circular arcs as polylines, densified as GDAL densifies them: at most
//! [`STEP_DEGREES`] of the sweep a step. The GeoPackage reader (WKB `CircularString`) and the
//! File Geodatabase reader (arc segments of a shape) both use it.

use geo::Coord;

/// The largest angle one segment of a densified arc spans, in degrees (GDAL's default).
pub const STEP_DEGREES: f64 = 4.0;

/// The centre of the circle through `a`, `b` and `c`; `None` when the three points are on
/// a line (to a relative 1e-12, so that a nearly straight arc does not become a circle
/// of astronomical radius) or the centre is not finite.
pub fn centre_through(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> Option<Coord<f64>> {
    let d = 2.0 * (a.x * (b.y - c.y) + b.x * (c.y - a.y) + c.x * (a.y - b.y));
    let scale = (b.x - a.x).abs() + (b.y - a.y).abs() + (c.x - b.x).abs() + (c.y - b.y).abs();
    if !d.is_finite() || d.abs() <= 1e-12 * scale * scale {
        return None;
    }
    let (a2, b2, c2) = (
        a.x * a.x + a.y * a.y,
        b.x * b.x + b.y * b.y,
        c.x * c.x + c.y * c.y,
    );
    let centre = Coord {
        x: (a2 * (b.y - c.y) + b2 * (c.y - a.y) + c2 * (a.y - b.y)) / d,
        y: (a2 * (c.x - b.x) + b2 * (a.x - c.x) + c2 * (b.x - a.x)) / d,
    };
    (centre.x.is_finite() && centre.y.is_finite()).then_some(centre)
}

/// Whether going from `a` through `b` to `c` turns left (counter-clockwise).
pub fn turns_left(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> bool {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x) > 0.0
}

/// Appends the points strictly between `start` and `end` on the circle around `centre`
/// through `start`, going counter-clockwise when `ccw`: a whole turn when `end` is `start`.
/// Returns `false`, appending nothing, when the circle has no finite,
/// non-zero radius.
///
/// The sweep is at most a whole turn, so an arc has at most 360° / 4° = 90 steps: no input
/// can make it allocate more.
pub fn densify(
    start: Coord<f64>,
    end: Coord<f64>,
    centre: Coord<f64>,
    ccw: bool,
    out: &mut Vec<Coord<f64>>,
) -> bool {
    use std::f64::consts::TAU;
    let radius = (start.x - centre.x).hypot(start.y - centre.y);
    let angle = |p: Coord<f64>| (p.y - centre.y).atan2(p.x - centre.x);
    let t0 = angle(start);
    let mut sweep = if ccw {
        angle(end) - t0
    } else {
        t0 - angle(end)
    }
    .rem_euclid(TAU);
    if sweep == 0.0 && start == end {
        sweep = TAU;
    }
    if !(radius.is_finite() && radius > 0.0 && sweep.is_finite()) {
        return false;
    }
    let steps = (sweep.to_degrees() / STEP_DEGREES).ceil() as usize;
    let sign = if ccw { 1.0 } else { -1.0 };
    out.extend((1..steps).map(|k| {
        let t = t0 + sign * sweep * (k as f64 / steps as f64);
        Coord {
            x: centre.x + radius * t.cos(),
            y: centre.y + radius * t.sin(),
        }
    }));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_circle_is_cut_into_four_degree_steps_on_its_side() {
        let (east, west) = (Coord { x: 1.0, y: 0.0 }, Coord { x: -1.0, y: 0.0 });
        let north = Coord { x: 0.0, y: 1.0 };
        let centre = centre_through(east, north, west).unwrap();
        assert!(centre.x.abs() < 1e-15 && centre.y.abs() < 1e-15);
        assert!(turns_left(east, north, west));
        let mut ccw = Vec::new();
        assert!(densify(east, west, centre, true, &mut ccw));
        // 180° in 45 steps of 4°: 44 points between the ends, all on the circle's north side.
        assert_eq!(ccw.len(), 44);
        assert!(
            ccw.iter()
                .all(|p| p.y > 0.0 && (p.x.hypot(p.y) - 1.0).abs() < 1e-12)
        );
        let mut cw = Vec::new();
        densify(east, west, centre, false, &mut cw);
        assert!(cw.iter().all(|p| p.y < 0.0));
        // A whole turn: 90 steps.
        let mut full = Vec::new();
        densify(east, east, centre, true, &mut full);
        assert_eq!(full.len(), 89);
        assert_eq!(centre_through(east, Coord { x: 0.0, y: 0.0 }, west), None);
        assert!(!densify(east, west, east, true, &mut Vec::new()));
    }
}
