//! Area of polygons in square metres: planar (shoelace) in projected CRSs, geodesic on the
//! ellipsoid (geographiclib) in geographic ones, where coordinates are degrees, x = longitude.

use geo::{Coord, MultiPolygon, Polygon};
use geographiclib_rs::{Geodesic, PolygonArea, Winding};

use crate::io::rings::twice_signed_area;

/// How areas are measured, fixed by the analysis CRS.
#[derive(Debug, Clone)]
pub enum AreaMethod {
    /// Coordinates are metres on a map projection.
    Planar,
    /// Coordinates are degrees on this ellipsoid.
    /// (Boxed: the geodesic solver's tables are large, planar needs none.)
    Geodesic(Box<Geodesic>),
}

impl AreaMethod {
    /// Geodesic on the ellipsoid with semi-major axis `a` (m) and flattening `f`.
    pub fn geodesic(a: f64, f: f64) -> Self {
        AreaMethod::Geodesic(Box::new(Geodesic::new(a, f)))
    }

    /// `planar` or `geodesic`, as `summary.json` names it.
    pub fn name(&self) -> &'static str {
        match self {
            AreaMethod::Planar => "planar",
            AreaMethod::Geodesic(_) => "geodesic",
        }
    }

    /// Signed area of a closed ring in m², positive when counter-clockwise.
    pub fn ring_signed_m2(&self, ring: &[Coord<f64>]) -> f64 {
        match self {
            AreaMethod::Planar => 0.5 * twice_signed_area(ring),
            AreaMethod::Geodesic(g) => {
                if ring.len() < 4 {
                    return 0.0;
                }
                let mut pa = PolygonArea::new(g, Winding::CounterClockwise);
                // The closing point repeats the first; PolygonArea closes the ring itself.
                for c in &ring[..ring.len() - 1] {
                    pa.add_point(c.y, c.x);
                }
                pa.compute(true).1
            }
        }
    }

    /// Area of a polygon in m², holes excluded, whatever the ring winding.
    pub fn polygon_m2(&self, p: &Polygon<f64>) -> f64 {
        let outer = self.ring_signed_m2(&p.exterior().0).abs();
        let holes: f64 = p
            .interiors()
            .iter()
            .map(|h| self.ring_signed_m2(&h.0).abs())
            .sum();
        (outer - holes).max(0.0)
    }

    /// Area of a multipolygon in m² (parts assumed not to overlap).
    pub fn multi_polygon_m2(&self, mp: &MultiPolygon<f64>) -> f64 {
        mp.0.iter().map(|p| self.polygon_m2(p)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn planar_square_with_hole() {
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 100.0), (x: 0.0, y: 100.0)],
            interiors: [[(x: 10.0, y: 10.0), (x: 10.0, y: 20.0), (x: 20.0, y: 20.0), (x: 20.0, y: 10.0)]],
        );
        assert_eq!(AreaMethod::Planar.polygon_m2(&p), 10_000.0 - 100.0);
    }

    #[test]
    fn geodesic_one_degree_cell_matches_the_closed_form() {
        // A 1°x1° cell between latitudes 30° and 31°: on the WGS 84 ellipsoid its area is
        // close to the area between the two parallels, π·b²·Δλ/180°·(q(φ2) − q(φ1))/2.
        let ring = [
            Coord { x: 104.0, y: 30.0 },
            Coord { x: 105.0, y: 30.0 },
            Coord { x: 105.0, y: 31.0 },
            Coord { x: 104.0, y: 31.0 },
            Coord { x: 104.0, y: 30.0 },
        ];
        let (a, f) = (6_378_137.0_f64, 1.0 / 298.257_223_563);
        let m = AreaMethod::geodesic(a, f);
        let got = m.ring_signed_m2(&ring);
        // Closed form of the area between two parallels on the ellipsoid.
        let e2 = f * (2.0 - f);
        let e = e2.sqrt();
        let q = |phi: f64| {
            let s = phi.to_radians().sin();
            s / (1.0 - e2 * s * s) + (1.0 / (2.0 * e)) * ((1.0 + e * s) / (1.0 - e * s)).ln()
        };
        let b2 = a * a * (1.0 - e2);
        let expected = std::f64::consts::PI * b2 * (q(31.0) - q(30.0)) / 360.0;
        // The cell's top and bottom are geodesics, not parallels: they bulge poleward, so the
        // geodesic cell differs from the parallel-bounded one by a tiny known amount (< 0.05%).
        assert!(got > 0.0, "counter-clockwise ring must be positive");
        assert!(
            ((got - expected) / expected).abs() < 5e-4,
            "got {got}, closed form {expected}"
        );
    }
}
