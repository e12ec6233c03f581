//! Area of rings and polygons: the signed shoelace area in CRS units², the area moments of a
//! region, and `AreaMethod`, the area in square metres: planar in projected CRSs (or, asked
//! for, on the ellipsoid through the projection's area scale, see `scale`), geodesic on the
//! ellipsoid (geographiclib) in geographic ones, where coordinates are degrees, x = longitude.

use std::sync::Arc;

use geo::{Coord, MultiPolygon, Polygon};
use geographiclib_rs::{Geodesic, PolygonArea, Winding};

use super::scale::ScaleGrid;

/// The area moments of a region from the edges of its rings, in coordinates relative to an
/// origin: twice the signed area and, when asked for (`full`), the integrals of x, y, x², xy
/// and y² over it (times 6, 6, 12, 24 and 12). They add up over rings, holes counting
/// negatively, and over the pieces a region is cut into.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub twice: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    /// Σ L²·(dy, −dx) over the edges: the edges' outward normals weighted by their length
    /// cubed, which the bow of geodesic edges on a conformal projection is proportional to.
    ex: f64,
    ey: f64,
    /// Σ L²·n_a·m_b, n = (dy, −dx) and m the edge's midpoint: how the bow varies with the
    /// scale's gradient along the ring.
    f: [[f64; 2]; 2],
}

impl Moments {
    /// Adds the edge from `a` to `b` (relative coordinates).
    #[inline]
    pub fn add_edge(&mut self, a: Coord<f64>, b: Coord<f64>, full: bool) {
        let cross = a.x * b.y - b.x * a.y;
        self.twice += cross;
        if full {
            self.sx += (a.x + b.x) * cross;
            self.sy += (a.y + b.y) * cross;
            self.sxx += (a.x * a.x + a.x * b.x + b.x * b.x) * cross;
            self.syy += (a.y * a.y + a.y * b.y + b.y * b.y) * cross;
            self.sxy += (a.x * b.y + 2.0 * a.x * a.y + 2.0 * b.x * b.y + b.x * a.y) * cross;
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let l2 = dx * dx + dy * dy;
            self.ex += l2 * dy;
            self.ey -= l2 * dx;
            let (mx, my) = (0.5 * (a.x + b.x), 0.5 * (a.y + b.y));
            self.f[0][0] += l2 * dy * mx;
            self.f[0][1] += l2 * dy * my;
            self.f[1][0] -= l2 * dx * mx;
            self.f[1][1] -= l2 * dx * my;
        }
    }

    /// Adds an open ring (the closing edge implied), in relative coordinates.
    pub fn add_open_ring(&mut self, ring: &[Coord<f64>], full: bool) {
        let Some(&last) = ring.last() else { return };
        // Summed a ring at a time, then added: the planar areas keep their bits.
        let mut m = Moments::default();
        let mut prev = last;
        for &p in ring {
            m.add_edge(prev, p, full);
            prev = p;
        }
        self.add(&m);
    }

    /// The moments of a closed ring, relative to `origin`.
    pub fn of_ring(ring: &[Coord<f64>], origin: Coord<f64>, full: bool) -> Moments {
        let mut m = Moments::default();
        for w in ring.windows(2) {
            m.add_edge(w[0] - origin, w[1] - origin, full);
        }
        m
    }

    pub fn add(&mut self, o: &Moments) {
        self.twice += o.twice;
        self.sx += o.sx;
        self.sy += o.sy;
        self.sxx += o.sxx;
        self.sxy += o.sxy;
        self.syy += o.syy;
        self.ex += o.ex;
        self.ey += o.ey;
        for a in 0..2 {
            for b in 0..2 {
                self.f[a][b] += o.f[a][b];
            }
        }
    }

    /// Σ L²·n over the edges, and Σ L²·n_a·(m_b − c_b) about the point `c` (relative), with
    /// n = (dy, −dx) and m the edges' midpoints (see the fields).
    pub fn edge_normals(&self, c: Coord<f64>) -> ([f64; 2], [[f64; 2]; 2]) {
        let e = [self.ex, self.ey];
        let cc = [c.x, c.y];
        let mut f = self.f;
        for a in 0..2 {
            for b in 0..2 {
                f[a][b] -= e[a] * cc[b];
            }
        }
        (e, f)
    }

    /// Signed area in CRS units².
    pub fn area(&self) -> f64 {
        0.5 * self.twice
    }

    /// The centroid (relative) and the second moments about it (∫(x−cx)², ∫(x−cx)(y−cy),
    /// ∫(y−cy)², signed like the area), or `None` for a region of no area.
    pub fn centre(&self) -> Option<(Coord<f64>, [f64; 3])> {
        let a = self.area();
        if a == 0.0 || !a.is_finite() {
            return None;
        }
        let c = Coord {
            x: self.sx / 6.0 / a,
            y: self.sy / 6.0 / a,
        };
        let jxx = self.sxx / 12.0 - a * c.x * c.x;
        let jxy = self.sxy / 24.0 - a * c.x * c.y;
        let jyy = self.syy / 12.0 - a * c.y * c.y;
        Some((c, [jxx, jxy, jyy]))
    }
}

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
    /// Coordinates are on a map projection, areas are taken on its ellipsoid.
    Ellipsoidal(Arc<ScaleGrid>),
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
            AreaMethod::Ellipsoidal(_) => "ellipsoidal",
        }
    }

    /// True when areas are taken from `Moments` with their centroid and second moments.
    pub fn needs_moments(&self) -> bool {
        matches!(self, AreaMethod::Ellipsoidal(_))
    }

    /// The area in m² of the region whose moments (relative to `origin`) are `m`; `None` for
    /// geodesic areas, which need the vertices.
    pub fn moments_m2(&self, m: &Moments, origin: Coord<f64>) -> Option<f64> {
        match self {
            AreaMethod::Planar => Some(m.area()),
            AreaMethod::Ellipsoidal(grid) => Some(grid.area_m2(m, origin)),
            AreaMethod::Geodesic(_) => None,
        }
    }

    /// Signed area of a closed ring in m², positive when counter-clockwise.
    pub fn ring_signed_m2(&self, ring: &[Coord<f64>]) -> f64 {
        match self {
            AreaMethod::Planar => 0.5 * twice_signed_area(ring),
            AreaMethod::Ellipsoidal(grid) => match ring.first() {
                Some(&o) => grid.area_m2(&Moments::of_ring(ring, o, true), o),
                None => 0.0,
            },
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
