//! The cultivated land outside every risk area, for the report's maps when the analysis did
//! not keep it. `analyze` keeps only the parcels at risk (`KeepParcels::AtRisk`) and
//! `compare` only their geometry (`KeepParcels::Shapes`); a map of the parcels by status
//! also shows the land with no risk, which puts the rest in its place. Holding those
//! geometries whole would double the memory of a province run, so each parcel is caught as
//! it is read (`Control::arrived`) and kept as its largest part's outer ring cut to at most
//! [`MAX_POINTS`] corners (Visvalingam-Whyatt: the corner making the smallest triangle goes
//! first), in `f32` from a common origin: under 100 bytes a parcel. At the scale of a
//! county page a parcel is under a millimetre, and a rectangle of eight corners is drawn
//! exactly; the parcels at risk are still drawn from their full geometry.

use std::sync::Mutex;

use geo::{Area, Coord, LineString, Polygon, Rect};
use rayon::prelude::*;

use crate::layer::Feature;
use crate::pipeline::Arrival;

/// The most corners a footprint keeps.
pub const MAX_POINTS: usize = 8;
/// Rings longer than this are thinned evenly before their corners are chosen.
const THIN_TO: usize = 64;

/// The footprints of a layer's parcels, in layer order (as `Analysis::tally`).
#[derive(Debug, Default)]
pub struct Footprints {
    origin: Option<Coord<f64>>,
    /// Where each parcel's points start in `points` (one more entry than parcels).
    starts: Vec<u32>,
    points: Vec<[f32; 2]>,
    /// Each parcel's box, from the origin: min x, min y, max x, max y.
    boxes: Vec<[f32; 4]>,
}

impl Footprints {
    /// How many parcels.
    pub fn len(&self) -> usize {
        self.boxes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Adds a batch of parcels, in order.
    pub fn add(&mut self, batch: &[Feature]) {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        // The origin is the first point read, so that `f32` keeps centimetres near the data
        // (a batch of parcels without geometry leaves it for the next).
        if self.origin.is_none() {
            self.origin = batch
                .iter()
                .find_map(|f| f.geometry.0.first()?.exterior().0.first().copied());
        }
        let origin = self.origin();
        let rings: Vec<Vec<[f32; 2]>> = batch
            .par_iter()
            .map(|f| {
                let largest = f
                    .geometry
                    .0
                    .iter()
                    .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()));
                largest.map_or_else(Vec::new, |p| corners(p.exterior(), origin))
            })
            .collect();
        for r in rings {
            let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
            for p in &r {
                b = [
                    b[0].min(p[0]),
                    b[1].min(p[1]),
                    b[2].max(p[0]),
                    b[3].max(p[1]),
                ];
            }
            self.points.extend(r);
            self.starts.push(self.points.len() as u32);
            self.boxes.push(b);
        }
    }

    /// A collector for `Control::arrived`: every batch of parcels read goes into `into`.
    pub fn collect(into: &Mutex<Footprints>) -> impl Fn(Arrival<'_>) + Sync + '_ {
        move |a| {
            if let Arrival::Parcels(batch) = a
                && let Ok(mut f) = into.lock()
            {
                f.add(batch);
            }
        }
    }

    fn origin(&self) -> Coord<f64> {
        self.origin.unwrap_or(Coord { x: 0.0, y: 0.0 })
    }

    /// Parcel `i`'s box, or `None` for a parcel without geometry.
    pub fn bounds(&self, i: usize) -> Option<Rect<f64>> {
        let b = self.boxes[i];
        let o = self.origin();
        (b[0] <= b[2]).then(|| {
            Rect::new(
                Coord {
                    x: o.x + f64::from(b[0]),
                    y: o.y + f64::from(b[1]),
                },
                Coord {
                    x: o.x + f64::from(b[2]),
                    y: o.y + f64::from(b[3]),
                },
            )
        })
    }

    /// Parcel `i`'s footprint as a polygon.
    pub fn polygon(&self, i: usize) -> Polygon<f64> {
        let o = self.origin();
        let pts = &self.points[self.starts[i] as usize..self.starts[i + 1] as usize];
        let ring: Vec<Coord<f64>> = pts
            .iter()
            .map(|p| Coord {
                x: o.x + f64::from(p[0]),
                y: o.y + f64::from(p[1]),
            })
            .collect();
        Polygon::new(LineString::new(ring), Vec::new())
    }
}

/// A ring cut to at most `MAX_POINTS` corners, from `origin`, open (no repeated first point).
fn corners(ring: &LineString<f64>, origin: Coord<f64>) -> Vec<[f32; 2]> {
    let mut pts: Vec<[f64; 2]> = ring
        .0
        .iter()
        .map(|c| [c.x - origin.x, c.y - origin.y])
        .collect();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    // A ring of many points is thinned evenly to 64 first: each corner removed below costs
    // a pass over the ring, and a parcel drawn with eight corners loses nothing to it.
    if pts.len() > THIN_TO {
        let step = pts.len().div_ceil(THIN_TO);
        pts = pts.into_iter().step_by(step).collect();
    }
    while pts.len() > MAX_POINTS {
        let n = pts.len();
        let tri = |i: usize| {
            let (a, b, c) = (pts[(i + n - 1) % n], pts[i], pts[(i + 1) % n]);
            ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs()
        };
        let smallest = (0..n)
            .min_by(|&a, &b| tri(a).total_cmp(&tri(b)))
            .unwrap_or(0);
        pts.remove(smallest);
    }
    pts.iter().map(|p| [p[0] as f32, p[1] as f32]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, polygon};

    #[test]
    fn a_parcel_keeps_at_most_eight_corners_and_its_box() {
        // A 100 × 50 m rectangle with 40 points along its edges, far from the origin.
        let mut ring: Vec<Coord<f64>> = (0..10)
            .map(|i| Coord {
                x: 500_000.0 + f64::from(i) * 10.0,
                y: 3_000_000.0,
            })
            .collect();
        ring.extend((0..10).map(|i| Coord {
            x: 500_100.0,
            y: 3_000_000.0 + f64::from(i) * 5.0,
        }));
        ring.extend((0..10).map(|i| Coord {
            x: 500_100.0 - f64::from(i) * 10.0,
            y: 3_000_050.0,
        }));
        ring.extend((0..10).map(|i| Coord {
            x: 500_000.0,
            y: 3_000_050.0 - f64::from(i) * 5.0,
        }));
        let rect = Polygon::new(LineString::new(ring), vec![]);
        let small = polygon![(x: 500_000.0, y: 3_000_000.0), (x: 500_001.0, y: 3_000_000.0), (x: 500_001.0, y: 3_000_001.0)];
        let feature = |g| Feature {
            record: 0,
            geometry: MultiPolygon(g),
            values: vec![],
        };
        let mut f = Footprints::default();
        f.add(&[feature(vec![small, rect.clone()]), feature(vec![])]);
        assert_eq!(f.len(), 2);
        let p = f.polygon(0);
        // (The polygon repeats its first corner to close the ring.)
        assert!(p.exterior().0.len() <= MAX_POINTS + 1);
        // The corners survive: the same area to the centimetre.
        assert!(
            (p.unsigned_area() - rect.unsigned_area()).abs() < 0.01,
            "{}",
            p.unsigned_area()
        );
        let b = f.bounds(0).unwrap();
        assert_eq!((b.min().x, b.max().y), (500_000.0, 3_000_050.0));
        assert!(f.bounds(1).is_none());
    }
}
