//! Risk-area shapes (star-shaped blobs, holes, multipart, overlapping pairs)
//! and the point look-up used to assign parcel measures.

use std::f64::consts::PI;
use std::path::Path;

use geo::{Area, Centroid, Coord, LineString, MultiPolygon, Polygon as GeoPolygon, Scale};

use super::grid::{Rect, RectGrid, inside_extent, rects_touch};
use super::rng::Rng;
use super::{
    COUNTIES, POLLUTANTS, RISK_AREA_COUNT, STAR_MAX, STAR_MIN, SampleError, X_MAX, X_MIN, Y_MAX,
    Y_MIN, county_of,
};

pub(super) struct RiskArea {
    pub(super) id: String,
    pub(super) class: u8, // 1 = priority protection, 2 = safe use, 3 = strict control
    pub(super) pollutant: &'static str,
    pub(super) county: usize,
    pub(super) area_ha: f64,
    pub(super) shape: MultiPolygon<f64>,
}

/// Star-shaped ring around (cx, cy), counter-clockwise. Strictly increasing
/// angles keep it simple; a few decaying harmonics make it smooth but concave,
/// and the radius always stays within [STAR_MIN, STAR_MAX] * r0.
fn star_ring(rng: &mut Rng, cx: f64, cy: f64, r0: f64, n: usize, wobble: f64) -> Vec<Coord<f64>> {
    let harmonics: Vec<(f64, f64, f64)> = (2..=7)
        .map(|k| {
            (
                k as f64,
                rng.f64() / (k as f64).powf(0.7),
                rng.range(0.0, 2.0 * PI),
            )
        })
        .collect();
    let total: f64 = harmonics.iter().map(|h| h.1).sum();
    let scale = wobble / total.max(1e-9);
    let base = rng.range(0.0, 2.0 * PI);
    (0..n)
        .map(|i| {
            let t = base + 2.0 * PI * (i as f64 + rng.range(-0.3, 0.3)) / n as f64;
            let h: f64 = harmonics
                .iter()
                .map(|&(k, a, p)| a * scale * (k * t + p).cos())
                .sum();
            let r = r0 * (1.0 + h + rng.range(-0.03, 0.03));
            Coord {
                x: cx + r * t.cos(),
                y: cy + r * t.sin(),
            }
        })
        .collect()
}

const _: () = assert!(STAR_MIN > 0.38 / 0.97);

fn star_polygon(
    rng: &mut Rng,
    cx: f64,
    cy: f64,
    r0: f64,
    n: usize,
    holes: usize,
) -> GeoPolygon<f64> {
    let outer = star_ring(rng, cx, cy, r0, n, 0.4);
    let dir = rng.range(0.0, 2.0 * PI);
    // The shell contains the disc of radius ~STAR_MIN * r0, so holes within
    // 0.38 r0 of the centre are strictly inside and clear of each other.
    let (offset, max_r) = if holes == 1 {
        (rng.range(0.0, 0.2), 0.15)
    } else {
        (0.24, 0.11)
    };
    let inner = (0..holes)
        .map(|h| {
            let d = dir + PI * h as f64;
            let hr = r0 * rng.range(0.5, 1.0) * max_r / 1.15;
            let nh = 8 + rng.below(9);
            let mut ring = star_ring(
                rng,
                cx + offset * r0 * d.cos(),
                cy + offset * r0 * d.sin(),
                hr,
                nh,
                0.1,
            );
            ring.reverse();
            LineString::from(ring)
        })
        .collect();
    GeoPolygon::new(LineString::from(outer), inner)
}

fn vertex_count(rng: &mut Rng, size01: f64) -> usize {
    (20.0 + 280.0 * (size01 * rng.range(0.6, 1.0))).round() as usize
}

/// Harmonics add area on average; shrink (never grow, which could break the
/// placement bounds) towards the drawn size so the 2-500 ha range holds.
fn fit_area(shape: MultiPolygon<f64>, target_m2: f64, centre: (f64, f64)) -> MultiPolygon<f64> {
    let f = (target_m2 / shape.unsigned_area()).sqrt();
    if f < 1.0 {
        shape.scale_around_point(
            f,
            f,
            Coord {
                x: centre.0,
                y: centre.1,
            },
        )
    } else {
        shape
    }
}

fn circle_rect(cx: f64, cy: f64, r: f64) -> Rect {
    [cx - r, cy - r, cx + r, cy + r]
}

pub(super) fn generate_risk_areas(seed: u64, path: &Path) -> Result<Vec<RiskArea>, SampleError> {
    let mut rng = Rng::new(seed ^ 0x5249_534B_4152_4541);
    // Pollution clusters around mining and industrial districts.
    let clusters: Vec<(f64, f64, f64)> = (0..40)
        .map(|_| {
            (
                rng.range(X_MIN + 10e3, X_MAX - 10e3),
                rng.range(Y_MIN + 10e3, Y_MAX - 10e3),
                rng.range(4e3, 12e3),
            )
        })
        .collect();
    let mut grid = RectGrid::new(4000.0);
    let mut shapes: Vec<MultiPolygon<f64>> = Vec::with_capacity(RISK_AREA_COUNT);
    let (ln_min, ln_max) = (2f64.ln(), 500f64.ln());
    let target_pairs = RISK_AREA_COUNT * 3 / 200;
    let mut pairs = 0;
    while shapes.len() < RISK_AREA_COUNT {
        let size01 = rng.f64();
        let r0 = (((ln_min + size01 * (ln_max - ln_min)).exp() * 1e4) / PI).sqrt();
        let n = vertex_count(&mut rng, size01);
        let pair = pairs < target_pairs && shapes.len() + 2 <= RISK_AREA_COUNT && rng.chance(0.016);
        let kind = rng.f64();
        let multipart = !pair && kind < 0.05;
        let holes = if !pair && (0.05..0.10).contains(&kind) {
            1 + rng.below(2)
        } else {
            0
        };
        // Layout relative to the centre: (dx, dy, radius) of each part.
        let mut parts: Vec<(f64, f64, f64)> = Vec::new();
        if multipart {
            let k = 2 + rng.below(2);
            let rp = r0 / (k as f64).sqrt() * rng.range(0.85, 1.0);
            // Part circles are 25 % further apart than needed to stay disjoint.
            let d = 1.25 * STAR_MAX * rp / (PI / k as f64).sin();
            let a0 = rng.range(0.0, 2.0 * PI);
            for j in 0..k {
                let a = a0 + 2.0 * PI * j as f64 / k as f64;
                parts.push((d * a.cos(), d * a.sin(), rp));
            }
        } else {
            parts.push((0.0, 0.0, r0));
        }
        let partner = if pair {
            // Closer than the sum of the guaranteed inner radii => they overlap.
            let rb = r0 * rng.range(0.6, 1.2);
            let d = (r0 + rb) * STAR_MIN * rng.range(0.5, 0.9);
            let a = rng.range(0.0, 2.0 * PI);
            Some((d * a.cos(), d * a.sin(), rb))
        } else {
            None
        };
        let mut placed = None;
        for attempt in 0..400 {
            let (cx, cy) = if attempt < 200 && rng.chance(0.8) {
                let (x, y, s) = clusters[rng.below(clusters.len())];
                (x + s * rng.normal(), y + s * rng.normal())
            } else {
                (rng.range(X_MIN, X_MAX), rng.range(Y_MIN, Y_MAX))
            };
            let rects: Vec<Rect> = parts
                .iter()
                .chain(partner.iter())
                .map(|&(dx, dy, r)| circle_rect(cx + dx, cy + dy, STAR_MAX * r + 30.0))
                .collect();
            if rects.iter().all(|r| inside_extent(r) && !grid.overlaps(r)) {
                rects.into_iter().for_each(|r| grid.insert(r));
                placed = Some((cx, cy));
                break;
            }
        }
        let Some((cx, cy)) = placed else {
            return Err(SampleError::Placement {
                path: path.to_path_buf(),
                what: "risk areas",
            });
        };
        let polys = parts
            .iter()
            .map(|&(dx, dy, r)| {
                let n = if multipart { (n / 2).max(20) } else { n };
                star_polygon(&mut rng, cx + dx, cy + dy, r, n, holes)
            })
            .collect();
        shapes.push(fit_area(MultiPolygon::new(polys), PI * r0 * r0, (cx, cy)));
        if let Some((dx, dy, rb)) = partner {
            let nb = vertex_count(&mut rng, size01);
            let (bx, by) = (cx + dx, cy + dy);
            let b = star_polygon(&mut rng, bx, by, rb, nb, 0);
            shapes.push(fit_area(MultiPolygon::new(vec![b]), PI * rb * rb, (bx, by)));
            pairs += 1;
        }
    }
    let mut seq = [0usize; COUNTIES.len()];
    Ok(shapes
        .into_iter()
        .map(|shape| {
            let c = shape.centroid().map_or((0.0, 0.0), |p| (p.x(), p.y()));
            let county = county_of(c.0, c.1);
            seq[county] += 1;
            let u = rng.f64();
            let class = if u < 0.05 {
                1
            } else if u < 0.65 {
                2
            } else {
                3
            };
            RiskArea {
                id: format!("SC-{}-{:04}", COUNTIES[county].0, seq[county]),
                class,
                pollutant: rng.weighted(&POLLUTANTS),
                county,
                area_ha: shape.unsigned_area() / 1e4,
                shape,
            }
        })
        .collect())
}

/// Point-in-risk-area index used to pick each parcel's measure.
pub(super) struct RiskLookup {
    pub(super) grid: RectGrid,
    areas: Vec<(u8, MultiPolygon<f64>)>,
}

fn ring_contains(ring: &[Coord<f64>], x: f64, y: f64) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > y) != (b.y > y) && x < a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y) {
            inside = !inside;
        }
    }
    inside
}

impl RiskLookup {
    pub(super) fn new(areas: &[RiskArea]) -> Self {
        let mut grid = RectGrid::new(2000.0);
        for a in areas {
            let mut r = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
            for c in a.shape.0.iter().flat_map(|p| p.exterior().0.iter()) {
                r = [r[0].min(c.x), r[1].min(c.y), r[2].max(c.x), r[3].max(c.y)];
            }
            grid.insert(r);
        }
        let areas = areas.iter().map(|a| (a.class, a.shape.clone())).collect();
        Self { grid, areas }
    }

    /// Strictest class of the risk areas containing the point, 0 if none.
    pub(super) fn class_at(&self, x: f64, y: f64) -> u8 {
        let mut best = 0;
        for &i in self.grid.at(x, y) {
            let (class, shape) = &self.areas[i as usize];
            if *class <= best || !rects_touch(&self.grid.rects[i as usize], &[x, y, x, y]) {
                continue;
            }
            let hit = shape.0.iter().any(|p| {
                ring_contains(&p.exterior().0, x, y)
                    && !p.interiors().iter().any(|h| ring_contains(&h.0, x, y))
            });
            if hit {
                best = *class;
            }
        }
        best
    }
}

/// Number of risk areas the second year adds, when the farmland leaves room for them.
pub(super) const NEW_RISK_AREAS: usize = 40;
/// The first serial of the second year's risk-area ids in each county (`SC-510683-9001`):
/// the first year's 3,568 areas never reach it in one county.
const NEW_RISK_SERIAL_START: usize = 9001;
const _: () = assert!(RISK_AREA_COUNT < NEW_RISK_SERIAL_START - 1);

/// The second year's new risk areas: up to [`NEW_RISK_AREAS`] blobs of 1-10 ha centred on
/// `candidates` (centroids of parcels outside every first-year risk area, tried in order),
/// each clear of the first year's areas (by bounding box) and of each other. Mostly class
/// II and III.
pub(super) fn new_risk_areas(
    rng: &mut Rng,
    lookup: &RiskLookup,
    candidates: &[(f64, f64)],
) -> Vec<RiskArea> {
    let mut grid = RectGrid::new(4000.0);
    let mut seq = [NEW_RISK_SERIAL_START - 1; COUNTIES.len()];
    let (ln_min, ln_max) = (1f64.ln(), 10f64.ln());
    let mut out = Vec::with_capacity(NEW_RISK_AREAS);
    for &(cx, cy) in candidates {
        if out.len() == NEW_RISK_AREAS {
            break;
        }
        let size01 = rng.f64();
        let mut r0 = (((ln_min + size01 * (ln_max - ln_min)).exp() * 1e4) / PI).sqrt();
        // Near an existing area, try smaller blobs before giving the spot up.
        for _ in 0..3 {
            let rect = circle_rect(cx, cy, STAR_MAX * r0 + 30.0);
            if inside_extent(&rect) && !lookup.grid.overlaps(&rect) && !grid.overlaps(&rect) {
                grid.insert(rect);
                let n = vertex_count(rng, size01 * 0.5);
                let poly = star_polygon(rng, cx, cy, r0, n, 0);
                let shape = fit_area(MultiPolygon::new(vec![poly]), PI * r0 * r0, (cx, cy));
                let c = shape.centroid().map_or((cx, cy), |p| (p.x(), p.y()));
                let county = county_of(c.0, c.1);
                seq[county] += 1;
                let u = rng.f64();
                let class = if u < 0.05 {
                    1
                } else if u < 0.6 {
                    2
                } else {
                    3
                };
                out.push(RiskArea {
                    id: format!("SC-{}-{:04}", COUNTIES[county].0, seq[county]),
                    class,
                    pollutant: rng.weighted(&POLLUTANTS),
                    county,
                    area_ha: shape.unsigned_area() / 1e4,
                    shape,
                });
                break;
            }
            r0 *= 0.6;
        }
    }
    out
}
