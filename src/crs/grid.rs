//! Reprojecting many points inside a known extent quickly: the exact transform
//! (`crs::Transformer`) at the nodes of a regular grid over the extent, and cubic
//! interpolation between them (Lagrange, 4 x 4 nodes round the cell). The GeoJSON export
//! converts millions of points to WGS 84 this way, each for a fraction of the cost of the
//! exact transform (proj4rs' extended transverse Mercator).
//!
//! Accuracy: a smooth projection (transverse Mercator, UTM, Lambert, Albers) is matched to
//! about 1e-13 degrees over cells a few kilometres wide: the error of cubic interpolation
//! grows with the fourth power of the cell size and the fourth derivatives of the projection,
//! of the order of 1 / (Earth radius)^4. This is not taken on trust: when the grid is built
//! every cell is checked at its centre (where the interpolation error of a smooth function is
//! largest) against the exact transform, and a cell further off than `TOLERANCE` (a
//! discontinuity such as the antimeridian, a node the projection cannot take) converts its
//! points exactly, as do points outside the grid.

use geo::{Coord, Rect};
use rayon::prelude::*;

use crate::crs::{CrsError, Transformer};

/// Cells along the longer side of the extent, at the least and at the most. Between the
/// two, the cell size is chosen from the interpolation error measured at a few points of the
/// extent (see `cell_size`): on Sichuan in Gauss-Kruger, 4.4 km cells (98 along its 430 km).
const MIN_CELLS: usize = 32;
const MAX_CELLS: usize = 512;

/// How far the interpolation may be from the exact transform at a cell's centre, in the
/// target CRS's units (degrees for WGS 84): a hundredth of the 1e-9 degrees (0.1 mm) that
/// the GeoJSON export writes.
pub const TOLERANCE: f64 = 1e-11;

/// A transformer's results at the nodes of a grid over an extent, for interpolation.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The corner of cell (0, 0): the extent's lower left.
    origin: Coord<f64>,
    step: f64,
    /// Cells in x and y. Nodes run one further on each side (the 4 x 4 stencil of a cell
    /// reaches one node beyond it), so there are `cells.0 + 3` nodes in a row.
    cells: (usize, usize),
    /// Row by row from the bottom; NaN where the exact transform failed.
    nodes: Vec<Coord<f64>>,
    /// Per cell: whether interpolation passed the check at its centre.
    trusted: Vec<bool>,
}

/// The exact transform of one point.
fn exact(t: &Transformer, p: Coord<f64>) -> Result<Coord<f64>, CrsError> {
    let (mut x, mut y) = (p.x, p.y);
    t.transform(&mut x, &mut y)?;
    Ok(Coord { x, y })
}

/// The weights of cubic Lagrange interpolation at `t` (0 to 1) for nodes at -1, 0, 1 and 2.
fn weights(t: f64) -> [f64; 4] {
    let (a, b, c, d) = (t + 1.0, t, t - 1.0, t - 2.0);
    [
        -b * c * d / 6.0,
        a * c * d / 2.0,
        -a * b * d / 2.0,
        a * b * c / 6.0,
    ]
}

/// The interpolation error at the centre of a cell of size `step` with its lower-left
/// corner at `at`, from a 4 x 4 stencil of exact transforms; `None` where a transform fails.
fn error_at(t: &Transformer, at: Coord<f64>, step: f64) -> Option<f64> {
    let node = |a: usize, b: usize| {
        exact(
            t,
            Coord {
                x: at.x + (a as f64 - 1.0) * step,
                y: at.y + (b as f64 - 1.0) * step,
            },
        )
        .ok()
    };
    let base = node(1, 1)?;
    let w = weights(0.5);
    let (mut dx, mut dy) = (0.0, 0.0);
    for b in 0..4 {
        for a in 0..4 {
            let n = node(a, b)?;
            dx += w[a] * w[b] * (n.x - base.x);
            dy += w[a] * w[b] * (n.y - base.y);
        }
    }
    let centre = exact(
        t,
        Coord {
            x: at.x + step / 2.0,
            y: at.y + step / 2.0,
        },
    )
    .ok()?;
    Some(
        (centre.x - base.x - dx)
            .abs()
            .max((centre.y - base.y - dy).abs()),
    )
}

/// A cell size for `extent` whose interpolation error stays an eighth of `TOLERANCE`: the
/// error of cubic interpolation grows with the fourth power of the cell size, so one
/// measurement at a trial size (the largest of five points: the centre and the corners)
/// tells the size to use, within `MIN_CELLS` to `MAX_CELLS` cells along the longer side.
fn cell_size(t: &Transformer, extent: Rect<f64>) -> f64 {
    let longer = extent.width().max(extent.height());
    let (coarsest, finest) = (longer / MIN_CELLS as f64, longer / MAX_CELLS as f64);
    let trial = longer / 128.0;
    let (lo, hi) = (extent.min(), extent.max());
    let probes = [
        Coord {
            x: (lo.x + hi.x) / 2.0,
            y: (lo.y + hi.y) / 2.0,
        },
        lo,
        Coord {
            x: hi.x - trial,
            y: lo.y,
        },
        Coord {
            x: lo.x,
            y: hi.y - trial,
        },
        Coord {
            x: hi.x - trial,
            y: hi.y - trial,
        },
    ];
    let worst = probes
        .iter()
        .filter_map(|&p| error_at(t, p, trial))
        .fold(0.0, f64::max);
    if !(worst > 0.0 && worst.is_finite()) {
        return trial;
    }
    (trial * (TOLERANCE / 8.0 / worst).powf(0.25)).clamp(finest, coarsest)
}

impl Grid {
    /// The grid of `t` over `extent` (in `t`'s source CRS), or `None` for an empty or
    /// non-finite extent.
    pub fn new(t: &Transformer, extent: Rect<f64>) -> Option<Grid> {
        let (w, h) = (extent.width(), extent.height());
        let longer = w.max(h);
        if !(longer > 0.0 && longer.is_finite()) {
            return None;
        }
        let step = cell_size(t, extent);
        let cells = (
            ((w / step).ceil() as usize).clamp(1, MAX_CELLS),
            ((h / step).ceil() as usize).clamp(1, MAX_CELLS),
        );
        let origin = extent.min();
        let cols = cells.0 + 3;
        let nodes: Vec<Coord<f64>> = (0..cols * (cells.1 + 3))
            .into_par_iter()
            .map(|k| {
                let p = Coord {
                    x: origin.x + ((k % cols) as f64 - 1.0) * step,
                    y: origin.y + ((k / cols) as f64 - 1.0) * step,
                };
                exact(t, p).unwrap_or(Coord {
                    x: f64::NAN,
                    y: f64::NAN,
                })
            })
            .collect();
        let mut grid = Grid {
            origin,
            step,
            cells,
            nodes,
            trusted: Vec::new(),
        };
        grid.trusted = (0..cells.0 * cells.1)
            .into_par_iter()
            .map(|c| {
                let (i, j) = (c % cells.0, c / cells.0);
                let centre = Coord {
                    x: origin.x + (i as f64 + 0.5) * step,
                    y: origin.y + (j as f64 + 0.5) * step,
                };
                let e = exact(t, centre);
                let v = grid.interpolate(i, j, 0.5, 0.5);
                matches!(e, Ok(e) if (e.x - v.x).abs() <= TOLERANCE && (e.y - v.y).abs() <= TOLERANCE)
            })
            .collect();
        Some(grid)
    }

    /// The interpolated value in cell (`i`, `j`) at (`u`, `v`) across it (0 to 1). Computed
    /// from the differences to the cell's lower-left node, which are small: the sum of
    /// sixteen terms then adds no rounding worth the name to a longitude of 105 degrees.
    fn interpolate(&self, i: usize, j: usize, u: f64, v: f64) -> Coord<f64> {
        let cols = self.cells.0 + 3;
        let base = self.nodes[(j + 1) * cols + i + 1];
        let (wu, wv) = (weights(u), weights(v));
        let (mut dx, mut dy) = (0.0, 0.0);
        for (b, wb) in wv.iter().enumerate() {
            let row = &self.nodes[(j + b) * cols + i..(j + b) * cols + i + 4];
            let (mut rx, mut ry) = (0.0, 0.0);
            for (n, wa) in row.iter().zip(&wu) {
                rx += wa * (n.x - base.x);
                ry += wa * (n.y - base.y);
            }
            dx += wb * rx;
            dy += wb * ry;
        }
        Coord {
            x: base.x + dx,
            y: base.y + dy,
        }
    }

    /// `p` transformed by `t` (the transformer the grid was built from): interpolated where
    /// its cell passed the check, else exactly.
    pub fn convert(&self, t: &Transformer, p: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        let u = (p.x - self.origin.x) / self.step;
        let v = (p.y - self.origin.y) / self.step;
        if u >= 0.0 && v >= 0.0 && u < self.cells.0 as f64 && v < self.cells.1 as f64 {
            let (i, j) = (u as usize, v as usize);
            if self.trusted[j * self.cells.0 + i] {
                return Ok(self.interpolate(i, j, u - i as f64, v - j as f64));
            }
        }
        exact(t, p)
    }

    /// The share of cells whose points are interpolated (the rest are converted exactly).
    pub fn trusted_share(&self) -> f64 {
        self.trusted.iter().filter(|&&t| t).count() as f64 / self.trusted.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::Crs;

    /// Points spread over `extent` by a fixed sequence (no random crate needed).
    fn spread(extent: Rect<f64>, n: usize) -> impl Iterator<Item = Coord<f64>> {
        (0..n).map(move |k| {
            let (a, b) = (
                (k as f64 * 0.618_034).fract(),
                (k as f64 * 0.754_878).fract(),
            );
            Coord {
                x: extent.min().x + a * extent.width(),
                y: extent.min().y + b * extent.height(),
            }
        })
    }

    fn worst_error(from: &Crs, extent: Rect<f64>, probe: Rect<f64>) -> (f64, f64) {
        let t = Transformer::new(from, &Crs::wgs84()).unwrap();
        let grid = Grid::new(&t, extent).unwrap();
        let mut worst: f64 = 0.0;
        for p in spread(probe, 100_000) {
            let e = exact(&t, p).unwrap();
            let g = grid.convert(&t, p).unwrap();
            worst = worst.max((e.x - g.x).abs()).max((e.y - g.y).abs());
        }
        (worst, grid.trusted_share())
    }

    #[test]
    fn a_gauss_kruger_province_is_interpolated_within_the_tolerance() {
        // Sichuan's extent in CGCS2000 / 3-degree Gauss-Kruger CM 105E, reaching 170 km
        // either side of the central meridian, and points beyond it (converted exactly).
        let sichuan = Rect::new((330_000.0, 3_170_000.0), (690_000.0, 3_600_000.0));
        let around = Rect::new((300_000.0, 3_100_000.0), (720_000.0, 3_650_000.0));
        let (worst, trusted) = worst_error(&Crs::from_epsg(4544).unwrap(), sichuan, around);
        assert!(worst <= TOLERANCE, "{worst:e}");
        assert_eq!(trusted, 1.0);
    }

    #[test]
    fn a_utm_zone_and_a_county_are_interpolated_within_the_tolerance() {
        // UTM 48N at its zone's edges, 3 degrees off the central meridian, and a county.
        let zone = Rect::new((160_000.0, 2_500_000.0), (840_000.0, 3_900_000.0));
        let (worst, trusted) = worst_error(&Crs::from_epsg(32648).unwrap(), zone, zone);
        assert!(worst <= TOLERANCE, "{worst:e}");
        assert_eq!(trusted, 1.0);
        let county = Rect::new((400_000.0, 3_300_000.0), (440_000.0, 3_345_000.0));
        let (worst, _) = worst_error(&Crs::from_epsg(4544).unwrap(), county, county);
        assert!(worst <= TOLERANCE, "{worst:e}");
    }

    #[test]
    fn cells_across_the_antimeridian_are_converted_exactly() {
        // UTM zone 1N reaches west of 180 degrees: its longitudes jump from -180 to 180 inside
        // the extent. The cells near the jump fail their check, and every point still comes
        // out as the exact transform gives it.
        let from = Crs::from_epsg(32601).unwrap();
        let t = Transformer::new(&from, &Crs::wgs84()).unwrap();
        let extent = Rect::new((-200_000.0, 5_000_000.0), (800_000.0, 6_000_000.0));
        let grid = Grid::new(&t, extent).unwrap();
        assert!(grid.trusted_share() < 1.0 && grid.trusted_share() > 0.5);
        for p in spread(extent, 50_000) {
            let e = exact(&t, p).unwrap();
            let g = grid.convert(&t, p).unwrap();
            assert!(
                (e.x - g.x).abs() <= TOLERANCE && (e.y - g.y).abs() <= TOLERANCE,
                "{p:?}: {e:?} against {g:?}"
            );
        }
    }

    #[test]
    fn an_empty_extent_has_no_grid() {
        let t = Transformer::new(&Crs::from_epsg(4544).unwrap(), &Crs::wgs84()).unwrap();
        let point = Rect::new((500_000.0, 3_300_000.0), (500_000.0, 3_300_000.0));
        assert!(Grid::new(&t, point).is_none());
    }
}
