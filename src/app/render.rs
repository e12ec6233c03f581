//! The map picture, drawn off the UI thread as QGIS draws its canvas: a named thread
//! (`map-render`) rasterises the layers in view into an image (tiny-skia, anti-aliased), and a
//! frame only draws the latest image, moved and scaled to the camera while the next one is
//! drawn. A frame therefore costs the same at any zoom and with any number of parcels.
//!
//! Level of detail: a feature under `DOT_PX` pixels across is one pixel-sized dot in its
//! colour; larger ones are filled polygons; outlines appear when zoomed in (see `style`).
//! Culling: the parcels' R-tree gives those in view; the picture is drawn in horizontal
//! bands, in parallel (on one thread fewer than the cores, so the UI keeps one), each band
//! drawing the features that reach it in layer order. A newer request cancels the picture
//! being drawn.
//!
//! The renderer keeps its own long-lived thread rather than a `job::Job` per picture: it is
//! fed a stream of requests (each frame the camera moves sends one) where only the newest
//! counts, cancels the picture under way when a newer one comes, and keeps one rayon pool
//! for all its pictures. One-shot work, the rest of the window's background work, uses `job`.
//!
//! One capability, the map picture, in one file (its tests are in `render/tests.rs`).

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use eframe::egui::{self, Color32, ColorImage};
use geo::{MultiPolygon, Rect};
use rayon::prelude::*;
use soilrisk::compare::{ChangeKind, Matches};
use soilrisk::geom::boxes::{bounds, rect_contains, union_of, union_rect};
use soilrisk::geom::index::BoxIndex;
use soilrisk::pipeline::Analysis;
use soilrisk::vocab::RiskClass;
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Stroke, StrokeDash, Transform};

use super::job::repaint_once;
use super::style::{self, LayerStyle, ParcelStatus, risk_fill, risk_outline};

/// Below this many pixels across, a feature is drawn as a dot.
pub const DOT_PX: f64 = 1.5;

/// Rows of pixels per band of the picture (bands are drawn in parallel).
const BAND_ROWS: u32 = 64;

/// What the parcels' colours say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    /// Their status (`ParcelStatus`).
    Status,
    /// How they changed since the year before (the change map of a comparison): the
    /// after year's parcels by `ChangeKind`, unchanged ones faint.
    Changes,
}

/// What the map draws, prepared once per analysis: colours and boxes, the layers' order.
/// While the layers are still being analysed the scene is a *preview*: the risk areas in
/// their class colours and each parcel read so far as its box, in `style::PARCEL_PENDING`.
/// The change map of a comparison is a scene of the after year (`MapScene::changes`).
pub struct MapScene {
    /// Unique among the scenes of this run: pictures are matched to scenes by it.
    id: u64,
    /// `None` for a preview.
    pub analysis: Option<Arc<Analysis>>,
    pub palette: Palette,
    /// The change map's before year: its removed parcels are drawn as outlines.
    pub before: Option<Arc<Analysis>>,
    /// The change map's removed parcels (index into the before year's `parcel_info`) and
    /// their boxes.
    removed: Vec<(u32, [f64; 4])>,
    /// A preview's risk areas (an analysed scene draws the analysis's).
    preview_risk: Arc<Vec<(MultiPolygon<f64>, RiskClass)>>,
    /// Both layers' extent, in the analysis CRS.
    pub extent: Option<Rect<f64>>,
    /// The colour class of each parcel (index into `Analysis::parcel_info`), as
    /// `ParcelStatus as u8` (the change map: `change_code`); empty in a preview. A measure edited in the window changes its
    /// parcel's entry in place (`set_status`), while the map thread may be reading the
    /// others: nothing else is recomputed.
    parcel_status: Vec<AtomicU8>,
    /// Bumped by each `set_status`: a picture drawn before shows old colours.
    edits: AtomicU64,
    /// Each parcel's box, `[min x, min y, max x, max y]` (map units).
    parcel_boxes: Vec<[f64; 4]>,
    /// Risk areas in drawing order: lowest class first, so the highest class is on top.
    risk_order: Vec<u32>,
    risk_boxes: Vec<Option<Rect<f64>>>,
    /// The boundary layer's regions (`Analysis::boundaries`), their boxes, and where each
    /// one's label goes (a point inside it) with its name; empty without one.
    region_boxes: Vec<Option<Rect<f64>>>,
    pub region_labels: Vec<(String, [f64; 2])>,
    /// The parcels' R-tree, built after the scene is on screen (`build_index`); until then
    /// the boxes are scanned.
    index: OnceLock<BoxIndex>,
}

/// A parcel's colour code on the change map: 0 unchanged, else 1 + its `ChangeKind`'s
/// position in `ChangeKind::ALL`.
fn change_code(kind: Option<ChangeKind>) -> u8 {
    kind.and_then(|k| ChangeKind::ALL.iter().position(|&x| x == k))
        .map_or(0, |p| p as u8 + 1)
}

/// The status colour a parcel gets on the map.
pub fn parcel_status(a: &Analysis, i: usize) -> ParcelStatus {
    let r = &a.parcel_results[i];
    status_of(r, r.treated_m2)
}

/// The status colour of a parcel whose treated area is `treated_m2`.
pub fn status_of(r: &soilrisk::pipeline::ParcelResult, treated_m2: f64) -> ParcelStatus {
    use soilrisk::compare::ParcelState;
    match ParcelState::of(r, treated_m2) {
        ParcelState::NoRisk => ParcelStatus::NoRisk,
        ParcelState::Treated => ParcelStatus::Treated,
        ParcelState::PartlyTreated => ParcelStatus::PartlyTreated,
        ParcelState::Untreated => ParcelStatus::Untreated,
    }
}

/// A geometry's box as `[min x, min y, max x, max y]` (NaN when it has none).
pub fn box_of(g: &MultiPolygon<f64>) -> [f64; 4] {
    bounds(g).map_or([f64::NAN; 4], |b| {
        [b.min().x, b.min().y, b.max().x, b.max().y]
    })
}

fn boxes_extent(boxes: &[[f64; 4]]) -> Option<Rect<f64>> {
    boxes
        .par_iter()
        .filter(|b| b.iter().all(|v| v.is_finite()))
        .map(|b| Rect::new((b[0], b[1]), (b[2], b[3])))
        .reduce_with(union_rect)
}

fn next_id() -> u64 {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Risk-area indices, lowest class first.
fn by_class(classes: impl Iterator<Item = RiskClass>) -> Vec<u32> {
    let classes: Vec<RiskClass> = classes.collect();
    let mut order: Vec<u32> = (0..classes.len() as u32).collect();
    order.sort_by_key(|&i| classes[i as usize]);
    order
}

impl MapScene {
    /// Unique among the scenes of this run.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn build(analysis: Arc<Analysis>) -> MapScene {
        let a = &*analysis;
        let extent = union_of(a.risk.extent(), a.parcels.extent());
        let parcel_status = (0..a.parcel_info.len())
            .into_par_iter()
            .map(|i| AtomicU8::new(parcel_status(a, i) as u8))
            .collect();
        let parcel_boxes = a
            .parcel_info
            .par_iter()
            .map(|p| box_of(&a.parcels.features[p.feature].geometry))
            .collect();
        let risk_boxes = a
            .risk_areas
            .iter()
            .map(|r| bounds(&a.risk.features[r.feature].geometry))
            .collect();
        let (region_boxes, region_labels) = match &a.boundaries {
            Some(b) => (
                b.layer
                    .features
                    .iter()
                    .map(|f| bounds(&f.geometry))
                    .collect(),
                b.layer
                    .features
                    .iter()
                    .zip(&b.names)
                    .filter_map(|(f, n)| {
                        let p = geo::InteriorPoint::interior_point(&f.geometry)?;
                        Some((n.to_string(), [p.x(), p.y()]))
                    })
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        MapScene {
            id: next_id(),
            extent,
            region_boxes,
            region_labels,
            parcel_status,
            edits: AtomicU64::new(0),
            parcel_boxes,
            risk_order: by_class(a.risk_areas.iter().map(|r| r.class)),
            risk_boxes,
            preview_risk: Arc::default(),
            analysis: Some(analysis),
            palette: Palette::Status,
            before: None,
            removed: Vec::new(),
            index: OnceLock::new(),
        }
    }

    /// The change map of a comparison: the after year's parcels coloured by how they changed
    /// (`matches`, positions in each year's `parcel_info`), and the before year's removed
    /// parcels as outlines.
    pub fn changes(after: Arc<Analysis>, before: Arc<Analysis>, matches: &Matches) -> MapScene {
        let mut scene = MapScene::build(after);
        scene.palette = Palette::Changes;
        for (k, s) in scene.parcel_status.iter_mut().enumerate() {
            *s.get_mut() = change_code(matches.change_of_after(k).map(|c| c.kind));
        }
        let b = &*before;
        scene.removed = matches
            .changes
            .iter()
            .filter(|c| c.after.is_none())
            .flat_map(|c| c.before.iter().copied())
            .map(|k| {
                let g = &b.parcels.features[b.parcel_info[k as usize].feature].geometry;
                (k, box_of(g))
            })
            .collect();
        scene.extent = union_of(scene.extent, union_of(b.risk.extent(), b.parcels.extent()));
        scene.before = Some(before);
        scene
    }

    /// The removed before-year parcels (change map) whose box holds the point.
    pub fn removed_at(&self, x: f64, y: f64) -> impl Iterator<Item = u32> + '_ {
        self.removed
            .iter()
            .filter(move |(_, b)| b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3])
            .map(|(k, _)| *k)
    }

    /// A removed before-year parcel's polygon (change map).
    pub fn removed_geometry(&self, k: usize) -> Option<&MultiPolygon<f64>> {
        let b = self.before.as_ref()?;
        Some(&b.parcels.features[b.parcel_info.get(k)?.feature].geometry)
    }

    /// What parcel `i`'s colour says, in words.
    pub fn parcel_label(&self, i: usize) -> &'static str {
        match self.palette {
            Palette::Status => self.status(i).label(),
            Palette::Changes => self.change(i).map_or("unchanged 未变化", |k| k.chinese()),
        }
    }

    /// How parcel `i` changed (change map); `None`: unchanged, or not a change map.
    pub fn change(&self, i: usize) -> Option<ChangeKind> {
        if self.palette != Palette::Changes {
            return None;
        }
        let code = self.parcel_status.get(i)?.load(Ordering::Relaxed);
        ChangeKind::ALL
            .get(usize::from(code).checked_sub(1)?)
            .copied()
    }

    /// The colour class of parcel `i` (untreated where there is none: a preview).
    pub fn status(&self, i: usize) -> ParcelStatus {
        self.parcel_status
            .get(i)
            .map_or(ParcelStatus::Untreated, |s| {
                ParcelStatus::from_code(s.load(Ordering::Relaxed))
            })
    }

    /// Colours parcel `i` anew after an edit of its measure; the next picture shows it.
    pub fn set_status(&self, i: usize, status: ParcelStatus) {
        if let Some(s) = self.parcel_status.get(i)
            && s.swap(status as u8, Ordering::Relaxed) != status as u8
        {
            self.edits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What a picture of the scene is matched by: its id and the edits of colours so far.
    fn key(&self) -> (u64, u64) {
        (self.id, self.edits.load(Ordering::Relaxed))
    }

    /// Bulk-loads the parcels' R-tree, once (the window does it in a `map-index` job once the
    /// analysed map is on screen: the first picture does not wait for it).
    pub fn build_index(&self) -> &BoxIndex {
        self.index.get_or_init(|| {
            BoxIndex::bulk(
                self.parcel_boxes
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.iter().all(|v| v.is_finite()))
                    .map(|(i, b)| (i as u32, Rect::new((b[0], b[1]), (b[2], b[3])))),
            )
        })
    }

    /// The parcels whose box holds the point, in layer order.
    pub fn parcels_at(&self, x: f64, y: f64) -> Vec<u32> {
        let mut hits: Vec<u32> = match self.index.get() {
            Some(idx) => idx.at_point(x, y).collect(),
            None => self
                .parcel_boxes
                .iter()
                .enumerate()
                .filter(|(_, b)| b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3])
                .map(|(i, _)| i as u32)
                .collect(),
        };
        hits.sort_unstable();
        hits
    }

    /// A preview of layers being analysed: the risk areas and the boxes of the parcels read
    /// so far.
    pub fn preview(
        risk: Arc<Vec<(MultiPolygon<f64>, RiskClass)>>,
        parcel_boxes: Vec<[f64; 4]>,
    ) -> MapScene {
        let risk_boxes: Vec<Option<Rect<f64>>> = risk.iter().map(|(g, _)| bounds(g)).collect();
        let extent = risk_boxes
            .iter()
            .fold(boxes_extent(&parcel_boxes), |e, b| union_of(e, *b));
        MapScene {
            id: next_id(),
            extent,
            region_boxes: Vec::new(),
            region_labels: Vec::new(),
            parcel_status: Vec::new(),
            edits: AtomicU64::new(0),
            parcel_boxes,
            risk_order: by_class(risk.iter().map(|(_, c)| *c)),
            risk_boxes,
            preview_risk: risk,
            analysis: None,
            palette: Palette::Status,
            before: None,
            removed: Vec::new(),
            index: OnceLock::new(),
        }
    }

    fn risk_geometry(&self, i: u32) -> &MultiPolygon<f64> {
        match &self.analysis {
            Some(a) => &a.risk.features[a.risk_areas[i as usize].feature].geometry,
            None => &self.preview_risk[i as usize].0,
        }
    }

    fn region_geometry(&self, i: usize) -> Option<&MultiPolygon<f64>> {
        Some(&self.analysis.as_ref()?.boundaries.as_ref()?.layer.features[i].geometry)
    }

    fn risk_class(&self, i: u32) -> RiskClass {
        match &self.analysis {
            Some(a) => a.risk_areas[i as usize].class,
            None => self.preview_risk[i as usize].1,
        }
    }

    /// A parcel's polygon; a preview draws boxes.
    fn parcel_geometry(&self, i: u32) -> Option<&MultiPolygon<f64>> {
        let a = self.analysis.as_ref()?;
        Some(&a.parcels.features[a.parcel_info[i as usize].feature].geometry)
    }

    /// A parcel's fill and the share of the layer's opacity it is drawn with.
    fn parcel_fill(&self, i: u32) -> (Color32, f32) {
        let Some(s) = self.parcel_status.get(i as usize) else {
            return (style::PARCEL_PENDING, 1.0);
        };
        match self.palette {
            Palette::Status => (
                ParcelStatus::from_code(s.load(Ordering::Relaxed)).fill(),
                1.0,
            ),
            Palette::Changes => style::change_fill(self.change(i as usize)),
        }
    }
}

/// One picture to draw: the part of the map (map units), its size in pixels, the pixels per
/// screen point (line widths are in points), and which layers are shown how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderRequest {
    pub view: Rect<f64>,
    pub width: u32,
    pub height: u32,
    pub pixels_per_point: f32,
    pub style: LayerStyle,
}

impl RenderRequest {
    /// Map units per pixel.
    fn map_units_per_pixel(&self) -> f64 {
        self.view.width() / f64::from(self.width.max(1))
    }
}

/// Where map coordinates land in a band of the picture (pixels, y down).
#[derive(Clone, Copy)]
struct ToPixels {
    left: f64,
    top: f64,
    k: f64,
    /// The band's pixel rows `[y0, y1)` within the whole picture, and its width.
    y0: f64,
    y1: f64,
    width: f64,
}

/// How far outside a band (pixels) geometry is cut, so that cut edges and their strokes stay
/// out of sight.
const CLIP_MARGIN: f64 = 8.0;

impl ToPixels {
    fn x(&self, x: f64) -> f64 {
        (x - self.left) * self.k
    }
    /// In band rows (0 at the band's top).
    fn y(&self, y: f64) -> f64 {
        (self.top - y) * self.k - self.y0
    }
    /// The box in band pixels, and whether any of it is in the band.
    fn bbox(&self, b: [f64; 4]) -> Option<[f64; 4]> {
        let (x0, x1) = (self.x(b[0]), self.x(b[2]));
        let (y0, y1) = (self.y(b[3]), self.y(b[1]));
        let h = self.y1 - self.y0;
        (x1 >= 0.0 && x0 <= self.width && y1 >= 0.0 && y0 <= h).then_some([x0, y0, x1, y1])
    }
}

fn color(c: Color32, opacity: f32) -> tiny_skia::Color {
    tiny_skia::Color::from_rgba8(c.r(), c.g(), c.b(), (opacity.clamp(0.0, 1.0) * 255.0) as u8)
}

/// Blends `c` (straight alpha `a`) over the pixels of `[x0, x1) × [y0, y1)`.
fn blend_rect(pm: &mut Pixmap, px: [f64; 4], c: Color32, opacity: f32) {
    let (w, h) = (pm.width() as i64, pm.height() as i64);
    let cx = (px[0] + px[2]) / 2.0;
    let cy = (px[1] + px[3]) / 2.0;
    // At least one pixel, centred on the feature.
    let half_w = ((px[2] - px[0]) / 2.0).max(0.5);
    let half_h = ((px[3] - px[1]) / 2.0).max(0.5);
    let x0 = ((cx - half_w).round() as i64).clamp(0, w);
    let x1 = ((cx + half_w).round() as i64)
        .clamp(0, w)
        .max(x0 + 1)
        .min(w);
    let y0 = ((cy - half_h).round() as i64).clamp(0, h);
    let y1 = ((cy + half_h).round() as i64)
        .clamp(0, h)
        .max(y0 + 1)
        .min(h);
    let a = u32::from((opacity.clamp(0.0, 1.0) * 255.0) as u8);
    let src = [c.r(), c.g(), c.b()].map(|v| u32::from(v) * a / 255);
    let data = pm.data_mut();
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * w + x) * 4) as usize;
            for (k, s) in src.iter().enumerate() {
                data[i + k] = (s + u32::from(data[i + k]) * (255 - a) / 255) as u8;
            }
            data[i + 3] = (a + u32::from(data[i + 3]) * (255 - a) / 255) as u8;
        }
    }
}

/// Cuts a ring (band pixels) to the band widened by `CLIP_MARGIN` (Sutherland–Hodgman). The
/// area inside the band is unchanged, for any fill rule. It works in place on pixel
/// coordinates with a reused buffer, a frame's hot loop, where `geom::clip::clip_ring_to_rect`
/// builds a new ring of map coordinates for each call.
fn clip_ring(ring: &mut Vec<[f64; 2]>, scratch: &mut Vec<[f64; 2]>, w: f64, h: f64) {
    let lo = -CLIP_MARGIN;
    let edges: [(usize, f64, bool); 4] = [
        (0, lo, true),
        (0, w + CLIP_MARGIN, false),
        (1, lo, true),
        (1, h + CLIP_MARGIN, false),
    ];
    for (axis, limit, keep_above) in edges {
        scratch.clear();
        let inside = |p: &[f64; 2]| {
            if keep_above {
                p[axis] >= limit
            } else {
                p[axis] <= limit
            }
        };
        let n = ring.len();
        for i in 0..n {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            let (ia, ib) = (inside(&a), inside(&b));
            if ia {
                scratch.push(a);
            }
            if ia != ib {
                let t = (limit - a[axis]) / (b[axis] - a[axis]);
                let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                p[axis] = limit;
                scratch.push(p);
            }
        }
        std::mem::swap(ring, scratch);
        if ring.is_empty() {
            return;
        }
    }
}

/// The polygon as a tiny-skia path in band pixels, cut to the band when it reaches far out.
fn path_of(
    g: &geo::MultiPolygon<f64>,
    t: &ToPixels,
    px: [f64; 4],
    buf: &mut (Vec<[f64; 2]>, Vec<[f64; 2]>),
) -> Option<tiny_skia::Path> {
    let h = t.y1 - t.y0;
    // Coordinates far outside the band lose precision as f32 and can overflow the
    // rasteriser's fixed point: cut such polygons first.
    let far = px[0] < -4.0 * t.width - 1e3
        || px[2] > 5.0 * t.width + 1e3
        || px[1] < -4.0 * h - 1e3
        || px[3] > 5.0 * h + 1e3;
    let mut pb = PathBuilder::new();
    for poly in &g.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            let (pts, scratch) = (&mut buf.0, &mut buf.1);
            pts.clear();
            pts.extend(ring.0.iter().map(|c| [t.x(c.x), t.y(c.y)]));
            if far {
                clip_ring(pts, scratch, t.width, h);
            }
            let mut it = pts.iter();
            let Some(first) = it.next() else { continue };
            pb.move_to(first[0] as f32, first[1] as f32);
            for p in it {
                pb.line_to(p[0] as f32, p[1] as f32);
            }
            pb.close();
        }
    }
    pb.finish()
}

/// Fills a path in band pixels (even-odd: holes stay open).
fn fill_path(pm: &mut Pixmap, path: &tiny_skia::Path, paint: &Paint) {
    pm.fill_path(path, paint, FillRule::EvenOdd, Transform::identity(), None);
}

/// Draws one band of the picture. `None`: cancelled.
fn draw_band(
    scene: &MapScene,
    req: &RenderRequest,
    t: ToPixels,
    parcels: &[u32],
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Pixmap> {
    let mut pm = Pixmap::new(req.width, (t.y1 - t.y0) as u32)?;
    let bg = style::MAP_BACKGROUND;
    pm.fill(tiny_skia::Color::from_rgba8(bg.r(), bg.g(), bg.b(), 255));
    let mut buf = (Vec::new(), Vec::new());
    let mut paint = Paint {
        anti_alias: true,
        ..Paint::default()
    };
    let ppp = f64::from(req.pixels_per_point);
    let points_per_unit = 1.0 / (req.map_units_per_pixel() * ppp);
    let s = req.style;
    let risk_outlines = s.show_risk && 1.0 / points_per_unit < style::RISK_OUTLINE_SCALE;
    let parcel_outlines = s.show_parcels && 1.0 / points_per_unit < style::OUTLINE_SCALE;
    let risk_in_band: Vec<(u32, [f64; 4])> = if s.show_risk {
        scene
            .risk_order
            .iter()
            .filter_map(|&i| {
                let b = scene.risk_boxes[i as usize]?;
                let px = t.bbox([b.min().x, b.min().y, b.max().x, b.max().y])?;
                Some((i, px))
            })
            .collect()
    } else {
        Vec::new()
    };
    // The regions' boundaries first, under everything: a light fill, then the outlines
    // over the risk areas and under the parcels.
    let regions_in_band: Vec<(usize, [f64; 4])> = if s.show_regions {
        scene
            .region_boxes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let b = (*b)?;
                Some((i, t.bbox([b.min().x, b.min().y, b.max().x, b.max().y])?))
            })
            .collect()
    } else {
        Vec::new()
    };
    for &(i, px) in &regions_in_band {
        if let Some(path) = scene
            .region_geometry(i)
            .and_then(|g| path_of(g, &t, px, &mut buf))
        {
            paint.set_color(color(
                style::REGION_FILL,
                s.region_opacity * style::REGION_FILL_SHARE,
            ));
            fill_path(&mut pm, &path, &paint);
        }
    }
    for &(i, px) in &risk_in_band {
        let fill = risk_fill(scene.risk_class(i));
        if (px[2] - px[0]).max(px[3] - px[1]) < DOT_PX {
            blend_rect(&mut pm, px, fill, s.risk_opacity);
        } else if let Some(path) = path_of(scene.risk_geometry(i), &t, px, &mut buf) {
            paint.set_color(color(fill, s.risk_opacity));
            fill_path(&mut pm, &path, &paint);
        }
    }
    if !regions_in_band.is_empty() {
        let stroke = Stroke {
            width: (1.5 * ppp) as f32,
            ..Stroke::default()
        };
        paint.set_color(color(style::REGION_OUTLINE, s.region_opacity));
        for &(i, px) in &regions_in_band {
            if let Some(path) = scene
                .region_geometry(i)
                .and_then(|g| path_of(g, &t, px, &mut buf))
            {
                pm.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
            }
        }
    }
    if cancelled() {
        return None;
    }
    // The parcels in the band, with their boxes in band pixels.
    let in_band = |i: &u32| Some((*i, t.bbox(scene.parcel_boxes[*i as usize])?));
    for (k, (i, px)) in parcels.iter().filter_map(in_band).enumerate() {
        if k % 4096 == 4095 && cancelled() {
            return None;
        }
        let (fill, share) = scene.parcel_fill(i);
        let geometry = scene.parcel_geometry(i);
        if (px[2] - px[0]).max(px[3] - px[1]) < DOT_PX || geometry.is_none() {
            // A dot, or a preview's box.
            blend_rect(&mut pm, px, fill, s.parcel_opacity * share);
        } else if let Some(path) = geometry.and_then(|g| path_of(g, &t, px, &mut buf)) {
            paint.set_color(color(fill, s.parcel_opacity * share));
            fill_path(&mut pm, &path, &paint);
        }
    }
    // The change map's removed parcels: dashed outlines over the after year's parcels.
    if s.show_parcels && !scene.removed.is_empty() {
        let stroke = Stroke {
            width: (1.5 * ppp) as f32,
            dash: StrokeDash::new(vec![(4.0 * ppp) as f32, (3.0 * ppp) as f32], 0.0),
            ..Stroke::default()
        };
        paint.set_color(color(style::REMOVED_OUTLINE, 1.0));
        for &(k, b) in &scene.removed {
            let Some(px) = t.bbox(b) else { continue };
            if (px[2] - px[0]).max(px[3] - px[1]) < DOT_PX {
                blend_rect(&mut pm, px, style::REMOVED_OUTLINE, 1.0);
            } else if let Some(path) = scene
                .removed_geometry(k as usize)
                .and_then(|g| path_of(g, &t, px, &mut buf))
            {
                pm.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
            }
        }
    }
    if risk_outlines {
        let stroke = Stroke {
            width: ppp as f32,
            ..Stroke::default()
        };
        for &(i, px) in &risk_in_band {
            if let Some(path) = path_of(scene.risk_geometry(i), &t, px, &mut buf) {
                paint.set_color(color(risk_outline(scene.risk_class(i)), 1.0));
                pm.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
            }
        }
    }
    if parcel_outlines {
        let stroke = Stroke {
            width: (0.6 * ppp) as f32,
            ..Stroke::default()
        };
        paint.set_color(color(style::PARCEL_OUTLINE, 1.0));
        for (i, px) in parcels.iter().filter_map(in_band) {
            if let Some(path) = scene
                .parcel_geometry(i)
                .and_then(|g| path_of(g, &t, px, &mut buf))
            {
                pm.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
            }
        }
    }
    Some(pm)
}

/// Draws the picture `req` asks for. `None` if `cancelled` turned true on the way.
pub fn render(
    scene: &MapScene,
    req: &RenderRequest,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<ColorImage> {
    let (w, h) = (req.width.max(1), req.height.max(1));
    let k = 1.0 / req.map_units_per_pixel();
    // The parcels in view, in layer order: from the R-tree when zoomed in, else all.
    let index = scene.index.get();
    let parcels: Vec<u32> = if !req.style.show_parcels {
        Vec::new()
    } else if let (Some(idx), false) = (
        index,
        scene.extent.is_some_and(|e| rect_contains(&req.view, &e)),
    ) {
        let mut v: Vec<u32> = idx.intersecting(&req.view).collect();
        v.par_sort_unstable();
        v
    } else {
        (0..scene.parcel_boxes.len() as u32).collect()
    };
    // Bands of `BAND_ROWS` rows, drawn in parallel; each gets the parcels that reach it, in
    // layer order. The bands do not depend on the number of threads, nor the picture.
    let bands = h.div_ceil(BAND_ROWS);
    let to_pixels = |b: u32| ToPixels {
        left: req.view.min().x,
        top: req.view.max().y,
        k,
        y0: f64::from(b * BAND_ROWS),
        y1: f64::from(((b + 1) * BAND_ROWS).min(h)),
        width: f64::from(w),
    };
    let whole = to_pixels(0);
    let mut per_band: Vec<Vec<u32>> = vec![Vec::new(); bands as usize];
    for &i in &parcels {
        let b = scene.parcel_boxes[i as usize];
        // Rows and columns reached, with a pixel's slack for dots and strokes.
        let (top, bottom) = (whole.y(b[3]) - 1.0, whole.y(b[1]) + 1.0);
        let (left, right) = (whole.x(b[0]) - 1.0, whole.x(b[2]) + 1.0);
        if !(bottom >= 0.0 && top < f64::from(h) && right >= 0.0 && left < f64::from(w)) {
            continue;
        }
        let first = (top.max(0.0) as u32 / BAND_ROWS).min(bands - 1);
        let last = ((bottom.max(0.0) as u32) / BAND_ROWS).min(bands - 1);
        for list in &mut per_band[first as usize..=last as usize] {
            list.push(i);
        }
    }
    if cancelled() {
        return None;
    }
    let pieces: Option<Vec<Pixmap>> = per_band
        .par_iter()
        .enumerate()
        .map(|(b, list)| draw_band(scene, req, to_pixels(b as u32), list, cancelled))
        .collect();
    let mut pixels = Vec::with_capacity((w * h) as usize);
    for pm in pieces? {
        pixels.extend(
            pm.data()
                .chunks_exact(4)
                .map(|p| Color32::from_rgba_premultiplied(p[0], p[1], p[2], p[3])),
        );
    }
    Some(ColorImage::new([w as usize, h as usize], pixels))
}

/// A picture drawn, or why it could not be.
struct Rendered {
    scene: (u64, u64),
    req: RenderRequest,
    image: Result<ColorImage, String>,
    millis: f64,
}

struct Job {
    generation: u64,
    /// The scene's key when asked for: an edit while drawing makes the picture stale.
    key: (u64, u64),
    scene: Arc<MapScene>,
    req: RenderRequest,
}

/// The map picture on screen and the thread drawing the next one.
pub struct Renderer {
    jobs: Sender<Job>,
    latest: Arc<AtomicU64>,
    done: Arc<Mutex<Option<Rendered>>>,
    /// The last request sent, and for which scene (id, colour edits).
    sent: Option<((u64, u64), RenderRequest)>,
    /// The picture on screen: its texture, scene (id, colour edits) and request.
    shown: Option<(egui::TextureHandle, (u64, u64), RenderRequest)>,
    /// Why the last picture failed, if it did.
    pub error: Option<String>,
    /// How long the last picture took to draw (ms).
    pub last_millis: f64,
    /// Pictures put on screen so far.
    pub pictures: u64,
}

impl Renderer {
    /// Starts the `map-render` thread; it ends when the renderer is dropped. Should the
    /// thread not start, the map says so where it would be drawn.
    pub fn start(ctx: &egui::Context) -> Renderer {
        let (jobs, rx) = channel::<Job>();
        let latest = Arc::new(AtomicU64::new(0));
        let done: Arc<Mutex<Option<Rendered>>> = Arc::default();
        let (l, d, ctx) = (latest.clone(), done.clone(), ctx.clone());
        let error = std::thread::Builder::new()
            .name("map-render".into())
            .spawn(move || worker(&rx, &l, &d, &ctx))
            .err()
            .map(|e| format!("cannot start the map's drawing thread: {e}"));
        Renderer {
            jobs,
            latest,
            done,
            sent: None,
            shown: None,
            error,
            last_millis: 0.0,
            pictures: 0,
        }
    }

    /// Asks for the picture `req` of `scene` unless it is the one asked for last.
    pub fn request(&mut self, scene: &Arc<MapScene>, req: RenderRequest) {
        let key = (scene.key(), req);
        if self.sent == Some(key) {
            return;
        }
        self.sent = Some(key);
        let generation = self.latest.fetch_add(1, Ordering::Relaxed) + 1;
        // The thread only ends with the renderer, so sending cannot fail while it lives.
        let _ = self.jobs.send(Job {
            generation,
            key: key.0,
            scene: scene.clone(),
            req,
        });
    }

    /// Takes a finished picture into the texture.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some(r) = self.done.lock().ok().and_then(|mut d| d.take()) else {
            return;
        };
        self.last_millis = r.millis;
        match r.image {
            Ok(image) => {
                self.error = None;
                self.pictures += 1;
                let options = egui::TextureOptions::LINEAR;
                match &mut self.shown {
                    Some((tex, scene, req)) => {
                        tex.set(image, options);
                        *scene = r.scene;
                        *req = r.req;
                    }
                    None => {
                        self.shown = Some((ctx.load_texture("map", image, options), r.scene, r.req))
                    }
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The latest picture, if any: its texture, the part of the map it shows and the id of
    /// its scene. It stays on screen until the next one is drawn, as QGIS keeps its canvas,
    /// also when the scene changes (a newer preview, the analysed layers).
    pub fn shown(&self) -> Option<(egui::TextureId, Rect<f64>, u64)> {
        let (tex, s, req) = self.shown.as_ref()?;
        Some((tex.id(), req.view, s.0))
    }

    /// The picture on screen is the one asked for last.
    pub fn up_to_date(&self) -> bool {
        match (&self.shown, &self.sent) {
            (Some((_, s, r)), Some((sent_s, sent_r))) => s == sent_s && r == sent_r,
            _ => false,
        }
    }
}

fn worker(
    rx: &Receiver<Job>,
    latest: &AtomicU64,
    done: &Mutex<Option<Rendered>>,
    ctx: &egui::Context,
) {
    // Its own threads, one fewer than the cores, so that the UI thread always has a core
    // while a picture is drawn.
    let threads =
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("map-render-{i}"))
        .build()
        .ok();
    while let Ok(mut job) = rx.recv() {
        // Only the newest request matters.
        while let Ok(newer) = rx.try_recv() {
            job = newer;
        }
        let generation = job.generation;
        let cancelled = || latest.load(Ordering::Relaxed) != generation;
        let started = std::time::Instant::now();
        let draw = || render(&job.scene, &job.req, &cancelled);
        let image = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &pool {
            Some(p) => p.install(draw),
            None => draw(),
        }));
        let image = match image {
            Ok(Some(image)) => Ok(image),
            Ok(None) => continue,
            Err(_) => Err("the map could not be drawn (internal error; please report it)".into()),
        };
        if let Ok(mut d) = done.lock() {
            *d = Some(Rendered {
                scene: job.key,
                req: job.req,
                image,
                millis: started.elapsed().as_secs_f64() * 1000.0,
            });
        }
        repaint_once(ctx);
    }
}

#[cfg(test)]
mod tests;
