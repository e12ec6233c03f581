//! Map geometry prepared once per analysis, off the UI thread: every polygon triangulated
//! (egui fills convex shapes only, parcels and risk areas are not), grouped into spatial
//! chunks so a frame touches only the chunks in view, with vertices as `f32` offsets from the
//! layer origin. Far out, where a parcel is smaller than a pixel, a chunk draws one dot per
//! parcel instead of its triangles.

use eframe::egui::Color32;
use geo::{BoundingRect, Centroid, MultiPolygon, Rect, TriangulateEarcut};
use rayon::prelude::*;
use soilrisk::pipeline::Analysis;
use soilrisk::vocab::RiskClass;

use super::style::{ParcelStatus, risk_fill};

/// Triangles and dots of a group of nearby features.
#[derive(Default)]
pub struct Chunk {
    pub bbox: Option<Rect<f64>>,
    pub vertices: Vec<[f32; 2]>,
    pub colors: Vec<Color32>,
    pub indices: Vec<u32>,
    /// One (centroid, colour) per feature, for when features are below a pixel.
    pub dots: Vec<([f32; 2], Color32)>,
    /// Median feature diameter in map units.
    pub feature_size: f64,
}

/// Outline rings of one risk area.
pub struct Outline {
    pub bbox: Rect<f64>,
    pub class: RiskClass,
    pub rings: Vec<Vec<[f32; 2]>>,
}

/// Everything the map draws, in the analysis CRS.
pub struct MapLayers {
    pub origin: [f64; 2],
    pub extent: Option<Rect<f64>>,
    pub risk: Vec<Chunk>,
    pub parcels: Vec<Chunk>,
    pub risk_outlines: Vec<Outline>,
    pub parcel_status: Vec<ParcelStatus>,
}

/// The status colour a parcel gets on the map.
pub fn parcel_status(a: &Analysis, i: usize) -> ParcelStatus {
    let r = &a.parcel_results[i];
    let contaminated = r.contaminated_m2();
    if contaminated <= 0.0 {
        ParcelStatus::NoRisk
    } else if r.untreated_m2() <= 1e-9 * contaminated {
        ParcelStatus::Treated
    } else if r.treated_m2 > 0.0 {
        ParcelStatus::PartlyTreated
    } else {
        ParcelStatus::Untreated
    }
}

fn union(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> Option<Rect<f64>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Rect::new(
            (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
            (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
        )),
        (a, b) => a.or(b),
    }
}

impl MapLayers {
    pub fn build(a: &Analysis) -> MapLayers {
        let extent = union(a.risk.extent(), a.parcels.extent());
        let origin = extent.map_or([0.0, 0.0], |e| [e.min().x, e.min().y]);
        let parcel_status: Vec<ParcelStatus> = (0..a.parcel_info.len())
            .map(|i| parcel_status(a, i))
            .collect();
        let parcels = chunks(
            extent,
            origin,
            a.parcel_info
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    (
                        &a.parcels.features[p.feature].geometry,
                        parcel_status[i].fill(),
                    )
                })
                .collect(),
        );
        let risk = chunks(
            extent,
            origin,
            a.risk_areas
                .iter()
                .map(|r| (&a.risk.features[r.feature].geometry, risk_fill(r.class)))
                .collect(),
        );
        let risk_outlines = a
            .risk_areas
            .iter()
            .filter_map(|r| {
                let g = &a.risk.features[r.feature].geometry;
                let bbox = g.bounding_rect()?;
                let rings =
                    g.0.iter()
                        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                        .map(|ring| ring.0.iter().map(|c| rel(origin, c.x, c.y)).collect())
                        .collect();
                Some(Outline {
                    bbox,
                    class: r.class,
                    rings,
                })
            })
            .collect();
        MapLayers {
            origin,
            extent,
            risk,
            parcels,
            risk_outlines,
            parcel_status,
        }
    }
}

fn rel(origin: [f64; 2], x: f64, y: f64) -> [f32; 2] {
    [(x - origin[0]) as f32, (y - origin[1]) as f32]
}

/// Groups features on a grid by centroid and triangulates each group.
fn chunks(
    extent: Option<Rect<f64>>,
    origin: [f64; 2],
    features: Vec<(&MultiPolygon<f64>, Color32)>,
) -> Vec<Chunk> {
    let Some(extent) = extent else {
        return Vec::new();
    };
    const GRID: usize = 32;
    let (w, h) = (extent.width().max(1e-9), extent.height().max(1e-9));
    let mut cells: Vec<Vec<usize>> = vec![Vec::new(); GRID * GRID];
    for (i, (g, _)) in features.iter().enumerate() {
        if let Some(c) = g.centroid() {
            let cx = (((c.x() - extent.min().x) / w * GRID as f64) as usize).min(GRID - 1);
            let cy = (((c.y() - extent.min().y) / h * GRID as f64) as usize).min(GRID - 1);
            cells[cy * GRID + cx].push(i);
        }
    }
    cells
        .into_par_iter()
        .filter(|c| !c.is_empty())
        .map(|members| {
            let mut chunk = Chunk::default();
            let mut sizes = Vec::with_capacity(members.len());
            for i in members {
                let (g, color) = features[i];
                let Some(b) = g.bounding_rect() else { continue };
                chunk.bbox = union(chunk.bbox, Some(b));
                sizes.push(b.width().max(b.height()));
                if let Some(c) = g.centroid() {
                    chunk.dots.push((rel(origin, c.x(), c.y()), color));
                }
                for p in &g.0 {
                    let t = p.earcut_triangles_raw();
                    let base = chunk.vertices.len() as u32;
                    for v in &t.vertices {
                        chunk.vertices.push(rel(origin, v[0], v[1]));
                        chunk.colors.push(color);
                    }
                    chunk
                        .indices
                        .extend(t.triangle_indices.iter().map(|&k| base + k as u32));
                }
            }
            sizes.sort_by(f64::total_cmp);
            chunk.feature_size = sizes.get(sizes.len() / 2).copied().unwrap_or(0.0);
            chunk
        })
        .collect()
}
