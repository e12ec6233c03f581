//! Farmland blocks tessellated into parcels, streamed straight to the writer.

use std::f64::consts::PI;
use std::path::Path;

use geo::Coord;
use shapefile::{Point, Polygon, PolygonRing};

use super::grid::{RectGrid, inside_extent};
use super::layer::{ParcelRecord, Sink};
use super::ledger::{LedgerDraw, LedgerRow};
use super::risk::RiskLookup;
use super::rng::Rng;
use super::survey::{Cell, NEW_SERIAL_START, Survey};
use super::{
    COUNTIES, CROPS, PRIORITY_MEASURE, SAFE_USE_MEASURES, STRICT_MEASURES, SampleError,
    SampleOptions, X_MAX, X_MIN, Y_MAX, Y_MIN, county_cell, county_of,
};
use crate::vocab::RiskClass;

/// Measure for a parcel under the given risk class. The mix puts the
/// safe-utilisation rate the analysis computes near 0.9.
pub(super) fn measure_for(rng: &mut Rng, class: u8) -> &'static str {
    let u = rng.f64();
    match class {
        3 if u < 0.90 => rng.pick(&STRICT_MEASURES),
        3 if u < 0.95 => rng.pick(&SAFE_USE_MEASURES),
        2 if u < 0.85 => rng.pick(&SAFE_USE_MEASURES),
        2 if u < 0.92 => rng.pick(&STRICT_MEASURES),
        1 if u < 0.60 => PRIORITY_MEASURE,
        1 if u < 0.93 => rng.pick(&SAFE_USE_MEASURES),
        0 if u < 0.06 => rng.pick(&SAFE_USE_MEASURES),
        0 if u < 0.08 => PRIORITY_MEASURE,
        0 if u < 0.10 => rng.pick(&STRICT_MEASURES),
        // Both spellings of "none" occur in real ledgers.
        _ if rng.chance(0.5) => "无",
        _ => "",
    }
}

/// The measure a parcel of risk class `class` needs to count as treated.
pub(super) fn needed_measure(rng: &mut Rng, class: RiskClass) -> &'static str {
    match class {
        RiskClass::Priority => PRIORITY_MEASURE,
        RiskClass::SafeUse => rng.pick(&SAFE_USE_MEASURES),
        RiskClass::StrictControl => rng.pick(&STRICT_MEASURES),
    }
}

/// Area and centroid of a simple ring (either orientation).
pub(super) fn ring_area_centroid(ring: &[Coord<f64>]) -> (f64, f64, f64) {
    let o = ring[0];
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..ring.len() {
        let p = ring[i] - o;
        let q = ring[(i + 1) % ring.len()] - o;
        let cross = p.x * q.y - q.x * p.y;
        a += cross;
        cx += (p.x + q.x) * cross;
        cy += (p.y + q.y) * cross;
    }
    (a.abs() / 2.0, o.x + cx / (3.0 * a), o.y + cy / (3.0 * a))
}

pub(super) struct Block {
    pub(super) nx: usize,
    ny: usize,
    nodes: Vec<Coord<f64>>,
    /// Intermediate points of edge `e` are `edge_pts[edge_start[e]..edge_start[e + 1]]`,
    /// ordered from the edge's lower-index node; horizontal edges come first.
    edge_pts: Vec<Coord<f64>>,
    edge_start: Vec<usize>,
}

impl Block {
    pub(super) fn node(&self, i: usize, j: usize) -> Coord<f64> {
        self.nodes[j * (self.nx + 1) + i]
    }

    pub(super) fn h_edge(&self, i: usize, j: usize) -> &[Coord<f64>] {
        let e = j * self.nx + i;
        &self.edge_pts[self.edge_start[e]..self.edge_start[e + 1]]
    }

    pub(super) fn v_edge(&self, i: usize, j: usize) -> &[Coord<f64>] {
        let e = self.nx * (self.ny + 1) + i * self.ny + j;
        &self.edge_pts[self.edge_start[e]..self.edge_start[e + 1]]
    }

    /// Counter-clockwise ring of the cells `lo.0..hi.0` x `lo.1..hi.1`: the bottom, right,
    /// top and left sides, each from its first node through its intermediate points. Shared
    /// edges are read from the same stored points, so neighbours match exactly, and the ring
    /// of two adjacent cells is their union.
    pub(super) fn span_ring(
        &self,
        lo: (usize, usize),
        hi: (usize, usize),
        out: &mut Vec<Coord<f64>>,
    ) {
        let ((i0, j0), (i1, j1)) = (lo, hi);
        out.clear();
        for i in i0..i1 {
            out.push(self.node(i, j0));
            out.extend_from_slice(self.h_edge(i, j0));
        }
        for j in j0..j1 {
            out.push(self.node(i1, j));
            out.extend_from_slice(self.v_edge(i1, j));
        }
        for i in (i0 + 1..=i1).rev() {
            out.push(self.node(i, j1));
            out.extend(self.h_edge(i - 1, j1).iter().rev());
        }
        for j in (j0 + 1..=j1).rev() {
            out.push(self.node(i0, j));
            out.extend(self.v_edge(i0, j - 1).iter().rev());
        }
    }
}

/// Builds a block of nx x ny cells of size w x h centred on (cx, cy), rotated
/// by `angle`. Node jitter is 10 % of a cell and edge jitter 3 % of the
/// smaller side, which keeps every cell simple and leaves room for a pond.
pub(super) fn build_block(
    rng: &mut Rng,
    dims: (usize, usize, f64, f64),
    cx: f64,
    cy: f64,
    angle: f64,
) -> Block {
    let (nx, ny, w, h) = dims;
    let (s, c) = angle.sin_cos();
    let place = |x: f64, y: f64| Coord {
        x: cx + x * c - y * s,
        y: cy + x * s + y * c,
    };
    let mut nodes = Vec::with_capacity((nx + 1) * (ny + 1));
    for j in 0..=ny {
        for i in 0..=nx {
            let x = (i as f64 - nx as f64 / 2.0) * w + rng.range(-0.1, 0.1) * w;
            let y = (j as f64 - ny as f64 / 2.0) * h + rng.range(-0.1, 0.1) * h;
            nodes.push(place(x, y));
        }
    }
    let jitter = 0.03 * w.min(h);
    let mut block = Block {
        nx,
        ny,
        nodes,
        edge_pts: Vec::new(),
        edge_start: vec![0],
    };
    let mut add_edge = |block: &mut Block, a: Coord<f64>, b: Coord<f64>| {
        let d = b - a;
        let len = (d.x * d.x + d.y * d.y).sqrt();
        let perp = Coord {
            x: -d.y / len,
            y: d.x / len,
        };
        let m = 1 + rng.below(4);
        for k in 1..=m {
            let t = (k as f64 + rng.range(-0.3, 0.3)) / (m + 1) as f64;
            let off = rng.range(-jitter, jitter);
            block.edge_pts.push(a + d * t + perp * off);
        }
        block.edge_start.push(block.edge_pts.len());
    };
    for j in 0..=ny {
        for i in 0..nx {
            let (a, b) = (block.node(i, j), block.node(i + 1, j));
            add_edge(&mut block, a, b);
        }
    }
    for i in 0..=nx {
        for j in 0..ny {
            let (a, b) = (block.node(i, j), block.node(i, j + 1));
            add_edge(&mut block, a, b);
        }
    }
    block
}

/// The land survey's 19-digit location code (坐落单位代码, ZLDWDM) of a point of county
/// `county`: the county's 6 digits, a town (`101`..`116`) and a village (`001`..`016`) by
/// the point's place in a 4 × 4 grid over the county's cell and over the town's, then
/// seven zeros.
pub(super) fn location_code(county: usize, x: f64, y: f64, out: &mut String) {
    use std::fmt::Write as _;
    let [x0, y0, x1, y1] = county_cell(county);
    let fx = ((x - x0) / (x1 - x0)).clamp(0.0, 0.999_999) * 4.0;
    let fy = ((y1 - y) / (y1 - y0)).clamp(0.0, 0.999_999) * 4.0;
    let town = fy.floor() as usize * 4 + fx.floor() as usize;
    let village = (fy.fract() * 4.0).floor() as usize * 4 + (fx.fract() * 4.0).floor() as usize;
    out.clear();
    let _ = write!(
        out,
        "{}{:03}{:03}0000000",
        COUNTIES[county].0,
        101 + town,
        1 + village
    );
}

/// Writes the parcels through `sink` and the second year's through `sink2` (block by block,
/// in the same pass), draws the sample ledger's rows into `ledger` (in layer order) and the
/// survey's lineage into `survey`.
pub(super) fn write_parcels(
    sinks: (&mut Sink<'_, '_>, &mut Sink<'_, '_>),
    lookup: &RiskLookup,
    opts: &SampleOptions,
    paths: (&Path, &Path),
    ledger: &mut Vec<LedgerRow>,
    survey: &mut Survey,
) -> Result<(), SampleError> {
    let ((sink, sink2), (path, path2)) = (sinks, paths);
    let mut rng = Rng::new(opts.seed ^ 0x5041_5243_454C_5321);
    // A generator of its own, so the parcel layer is the same with or without the ledger.
    let mut draw = LedgerDraw::new(opts.seed);
    let mut location = String::with_capacity(19);
    let mut occupied = RectGrid::new(4000.0);
    let mut seq = vec![0usize; COUNTIES.len()];
    let mut remaining = opts.parcels;
    let mut failures = 0usize;
    let mut ring = Vec::with_capacity(24);
    let mut id = String::with_capacity(16);
    let risk_rects = &lookup.grid.rects;
    while remaining > 0 {
        let target = rng.range(100.0, 600.0);
        let aspect = rng.range(0.5, 2.0);
        let nx = ((target * aspect).sqrt().round() as usize).max(4);
        let ny = ((target / nx as f64).round() as usize).max(4);
        let (w, h) = (rng.range(32.0, 78.0), rng.range(32.0, 78.0));
        let angle = rng.range(0.0, PI);
        // Rotated footprint plus jitter margin, as an axis-aligned box.
        let (hw, hh) = (nx as f64 * w / 2.0 + 0.2 * w, ny as f64 * h / 2.0 + 0.2 * h);
        let (s, c) = (angle.sin().abs(), angle.cos().abs());
        let (ex, ey) = (hw * c + hh * s, hw * s + hh * c);
        let near_risk = rng.chance(0.75);
        let mut centre = None;
        for attempt in 0..40 {
            let (cx, cy) = if near_risk && attempt < 25 {
                let r = &risk_rects[rng.below(risk_rects.len())];
                let (rx, ry) = (
                    (r[2] - r[0]) / 2.0 + ex * 0.4,
                    (r[3] - r[1]) / 2.0 + ey * 0.4,
                );
                (
                    (r[0] + r[2]) / 2.0 + rng.range(-rx, rx),
                    (r[1] + r[3]) / 2.0 + rng.range(-ry, ry),
                )
            } else {
                (rng.range(X_MIN, X_MAX), rng.range(Y_MIN, Y_MAX))
            };
            let rect = [cx - ex, cy - ey, cx + ex, cy + ey];
            if inside_extent(&rect) && !occupied.overlaps(&rect) {
                occupied.insert(rect);
                centre = Some((cx, cy));
                break;
            }
        }
        let Some((cx, cy)) = centre else {
            failures += 1;
            if failures > 10_000 {
                return Err(SampleError::Placement {
                    path: path.to_path_buf(),
                    what: "farmland blocks",
                });
            }
            continue;
        };
        let block = build_block(&mut rng, (nx, ny, w, h), cx, cy, angle);
        let count = remaining.min(nx * ny);
        let mut cells = Vec::with_capacity(count);
        for cell in 0..count {
            let (i, j) = (cell % nx, cell / nx);
            block.span_ring((i, j), (i + 1, j + 1), &mut ring);
            let (mut area, mut px, mut py) = ring_area_centroid(&ring);
            let mut rings = vec![PolygonRing::Outer(
                ring.iter().map(|p| Point::new(p.x, p.y)).collect(),
            )];
            let pond = rng.chance(0.005);
            if pond {
                let corners = [
                    block.node(i, j),
                    block.node(i + 1, j),
                    block.node(i + 1, j + 1),
                    block.node(i, j + 1),
                ];
                let m = corners.iter().fold(Coord::zero(), |acc, &p| acc + p) / 4.0;
                let half = w.min(h) * rng.range(0.07, 0.1);
                let psi = rng.range(0.0, PI / 2.0);
                let pond: Vec<Coord<f64>> = (0..4)
                    .map(|k| {
                        let a = psi + PI / 2.0 * k as f64 + PI / 4.0;
                        m + Coord {
                            x: a.cos(),
                            y: a.sin(),
                        } * (half * 2f64.sqrt())
                    })
                    .collect();
                let (ha, hx, hy) = ring_area_centroid(&pond);
                (px, py) = (
                    (px * area - hx * ha) / (area - ha),
                    (py * area - hy * ha) / (area - ha),
                );
                area -= ha;
                rings.push(PolygonRing::Inner(
                    pond.iter().map(|p| Point::new(p.x, p.y)).collect(),
                ));
            }
            debug_assert!(area > 0.0);
            let county = county_of(px, py);
            seq[county] += 1;
            if seq[county] >= NEW_SERIAL_START {
                return Err(SampleError::Options(format!(
                    "{} parcels in county {} leave no room for the second year's ids ({})",
                    seq[county],
                    COUNTIES[county].0,
                    path.display()
                )));
            }
            id.clear();
            {
                use std::fmt::Write as _;
                let _ = write!(id, "{}-{:06}", COUNTIES[county].0, seq[county]);
            }
            let class = lookup.class_at(px, py);
            let measure = measure_for(&mut rng, class);
            location_code(county, px, py, &mut location);
            let crop = rng.weighted(&CROPS);
            let crop_ok = if rng.chance(0.97) { "是" } else { "否" };
            let record = ParcelRecord {
                id: &id,
                county: COUNTIES[county].1,
                crop,
                measure,
                crop_ok,
                location: &location,
            };
            let shape = Polygon::with_rings(rings);
            sink.write(&shape, &record)?;
            ledger.extend(draw.row(&id, class, measure, crop_ok));
            cells.push(Cell {
                id: id.clone(),
                county,
                class,
                crop,
                measure,
                crop_ok,
                location: location.clone(),
                shape,
                centroid: (px, py),
                pond,
            });
        }
        survey.block(sink2, &block, &cells, path2)?;
        remaining -= count;
    }
    survey.new_blocks(sink2, &mut occupied, lookup, opts.parcels, path2)
}
