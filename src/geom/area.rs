//! Area of rings and polygons: the signed shoelace area in CRS units², and `AreaMethod`, the
//! area in square metres: planar in projected CRSs, geodesic on the ellipsoid (geographiclib)
//! in geographic ones, where coordinates are degrees, x = longitude.

use geo::{Coord, MultiPolygon, Polygon};
use geographiclib_rs::{Geodesic, PolygonArea, Winding};

/// Twice the signed area (positive when counter-clockwise) of a closed ring.
pub fn twice_signed_area(ring: &[Coord<f64>]) -> f64 {
    if ring.len() < 3 {
        return 0.0;
    }
    // Shift to the first point so large Gauss-Kruger coordinates do not cost precision.
    let o = ring[0];
    let mut sum = 0.0;
    for w in ring.windows(2) {
        let (a, b) = (w[0] - o, w[1] - o);
        sum += a.x * b.y - b.x * a.y;
    }
    sum
}

/// Planar area of a multipolygon in CRS units², holes subtracted.
pub fn planar_area(mp: &MultiPolygon<f64>) -> f64 {
    mp.0.iter()
        .map(|p| {
            0.5 * (twice_signed_area(&p.exterior().0).abs()
                - p.interiors()
                    .iter()
                    .map(|h| twice_signed_area(&h.0).abs())
                    .sum::<f64>())
        })
        .sum()
}

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
    fn geodesic_area_matches_geographiclib_reference() {
        // References from pyproj's Geod (GeographicLib in C), counter-clockwise rings:
        //   Geod(a=6378137, f=1/298.257222101).polygon_area_perimeter(lons, lats)
        let cell = |x0: f64, y0: f64, d: f64| {
            [
                Coord { x: x0, y: y0 },
                Coord { x: x0 + d, y: y0 },
                Coord {
                    x: x0 + d,
                    y: y0 + d,
                },
                Coord { x: x0, y: y0 + d },
                Coord { x: x0, y: y0 },
            ]
        };
        let cgcs = AreaMethod::geodesic(6_378_137.0, 1.0 / 298.257_222_101);
        let wgs = AreaMethod::geodesic(6_378_137.0, 1.0 / 298.257_223_563);
        let cases = [
            (&cgcs, cell(104.0, 30.6, 0.01), 1_063_125.108_558_654_8),
            (&cgcs, cell(104.0, 30.0, 1.0), 10_642_455_822.155_64),
            (&wgs, cell(104.0, 30.0, 1.0), 10_642_455_822.326_6),
        ];
        for (method, ring, want) in cases {
            let got = method.ring_signed_m2(&ring);
            assert!(((got - want) / want).abs() < 1e-9, "{got} vs {want}");
            let mut cw = ring;
            cw.reverse();
            assert!((method.ring_signed_m2(&cw) + want).abs() / want < 1e-9);
        }
    }
}
