//! Maps on the report's pages: vector paths at a level of detail fitted to the page.
//!
//! A polygon whose extent on paper is under [`MIN_FEATURE_MM`] (half a printed millimetre)
//! is not drawn as itself: its area goes into a grid of cells of that size, and a cell
//! covered to at least the layer's minimum ([`MIN_CELL_COVER`] for areas, any cover for
//! parcels) is drawn in the colour of the category (risk
//! class, parcel status) that covers most of it, with neighbouring cells of one colour
//! merged into one rectangle. Larger polygons are drawn with their rings snapped to
//! [`SNAP_MM`] and simplified (Douglas-Peucker) to [`SIMPLIFY_MM`]; holes under half a
//! millimetre are dropped. So the size of a map grows with what can be seen on paper, not
//! with the number of features: a province of a million parcels is a few hundred thousand
//! cells at most, merged into rows.

use geo::{Area, BoundingRect, Coord, MultiPolygon, Polygon, Rect};

use super::page::{Item, Page, Points, Rgb};
use super::text::{Anchor, Fonts};

/// Features smaller than this on paper (mm) are merged into grid cells.
pub const MIN_FEATURE_MM: f32 = 0.5;
/// The share of a grid cell features must cover for the cell to be drawn, in a layer of
/// areas (risk areas); in a layer of marks (parcels at risk) any feature marks its cell, so
/// that no parcel at risk vanishes from the map however small it is on paper.
pub const MIN_CELL_COVER: f32 = 0.1;
/// Points are snapped to this grid on paper (mm).
pub const SNAP_MM: f32 = 0.01;
/// Rings are simplified to this tolerance on paper (mm).
pub const SIMPLIFY_MM: f32 = 0.08;
/// Above this many drawn rings a layer's outlines are left out (they would double its size
/// and, at that density, darken it into one colour).
pub const MAX_OUTLINED: usize = 20_000;

/// Where a map lies on its page and which part of the world it shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapView {
    /// The frame on the page (x, y, width, height; mm).
    pub rect: [f32; 4],
    /// The world point at the frame's centre.
    pub centre: Coord<f64>,
    /// mm on paper per world unit, across and up (they differ for longitude and latitude).
    pub scale: [f64; 2],
    /// Metres of ground per mm of paper, for the scale bar.
    pub metres_per_mm: f64,
}

impl MapView {
    /// The view showing `bbox` (world units of the analysis CRS) whole, centred in `rect`
    /// with a margin; `geographic` when those units are degrees (a degree of longitude is
    /// then drawn cos(latitude) as wide as a degree of latitude). `None` for an empty box.
    pub fn fit(rect: [f32; 4], bbox: Rect<f64>, geographic: bool) -> Option<MapView> {
        let (w, h) = (bbox.width(), bbox.height());
        if !(w.is_finite() && h.is_finite()) {
            return None;
        }
        let centre = bbox.center();
        let kx = if geographic {
            centre.y.to_radians().cos().max(0.01)
        } else {
            1.0
        };
        // A point (or a line) still gets a view: of 100 m (or 0.001°) around it.
        let min = if geographic { 1e-3 } else { 100.0 };
        let (w, h) = ((w * kx).max(min), h.max(min));
        let margin = 0.94;
        let s = (f64::from(rect[2]) / w).min(f64::from(rect[3]) / h) * margin;
        let metres_per_unit = if geographic { 111_320.0 } else { 1.0 };
        Some(MapView {
            rect,
            centre,
            scale: [s * kx, s],
            metres_per_mm: metres_per_unit / s,
        })
    }

    /// A world point on the page (mm).
    pub fn to_page(&self, c: Coord<f64>) -> [f32; 2] {
        let [x, y, w, h] = self.rect;
        [
            x + w / 2.0 + ((c.x - self.centre.x) * self.scale[0]) as f32,
            y + h / 2.0 - ((c.y - self.centre.y) * self.scale[1]) as f32,
        ]
    }

    /// A page point (mm) in the world.
    pub fn to_world(&self, p: [f32; 2]) -> Coord<f64> {
        let [x, y, w, h] = self.rect;
        Coord {
            x: self.centre.x + f64::from(p[0] - x - w / 2.0) / self.scale[0],
            y: self.centre.y - f64::from(p[1] - y - h / 2.0) / self.scale[1],
        }
    }

    /// The world rectangle the frame shows.
    pub fn world(&self) -> Rect<f64> {
        let [x, y, w, h] = self.rect;
        Rect::new(self.to_world([x, y + h]), self.to_world([x + w, y]))
    }
}

/// One layer of a map: features by category, each category in its colour.
pub struct MapLayer {
    colors: Vec<Rgb>,
    outline: Option<(Rgb, f32)>,
    /// The share of a cell that must be covered for it to be drawn.
    min_cover: f32,
    /// Paper area (mm²) by cell and category, cell-major.
    grid: Vec<f32>,
    cols: usize,
    rows: usize,
    /// Rings by category, in the order features came.
    rings: Vec<Vec<Points>>,
}

impl MapLayer {
    /// A layer for `view` with a colour per category, an outline (colour, width in mm)
    /// drawn around each feature drawn as itself, and the share of a grid cell small
    /// features must cover for it to be drawn (0: any).
    pub fn new(
        view: &MapView,
        colors: Vec<Rgb>,
        outline: Option<(Rgb, f32)>,
        min_cover: f32,
    ) -> MapLayer {
        let cols = (view.rect[2] / MIN_FEATURE_MM).ceil() as usize;
        let rows = (view.rect[3] / MIN_FEATURE_MM).ceil() as usize;
        MapLayer {
            grid: vec![0.0; cols * rows * colors.len()],
            rings: vec![Vec::new(); colors.len()],
            colors,
            outline,
            min_cover,
            cols,
            rows,
        }
    }

    /// Adds a feature of category `cat`.
    pub fn add(&mut self, view: &MapView, geom: &MultiPolygon<f64>, cat: usize) {
        for poly in &geom.0 {
            self.add_polygon(view, poly, cat);
        }
    }

    fn add_polygon(&mut self, view: &MapView, poly: &Polygon<f64>, cat: usize) {
        let Some(b) = poly.bounding_rect() else {
            return;
        };
        let [lx, ty] = view.to_page(Coord {
            x: b.min().x,
            y: b.max().y,
        });
        let [rx, by] = view.to_page(Coord {
            x: b.max().x,
            y: b.min().y,
        });
        let [x, y, w, h] = view.rect;
        if rx < x || lx > x + w || by < y || ty > y + h {
            return;
        }
        if (rx - lx).max(by - ty) < MIN_FEATURE_MM {
            self.add_to_grid(view, [(lx + rx) / 2.0, (ty + by) / 2.0], poly, cat);
            return;
        }
        let Some(exterior) = paper_ring(view, poly.exterior().0.iter().copied()) else {
            self.add_to_grid(view, [(lx + rx) / 2.0, (ty + by) / 2.0], poly, cat);
            return;
        };
        let rings = &mut self.rings[cat];
        rings.push(orient(exterior, true));
        for hole in poly.interiors() {
            if let Some(r) = paper_ring(view, hole.0.iter().copied())
                && extent(&r) >= MIN_FEATURE_MM
            {
                rings.push(orient(r, false));
            }
        }
    }

    fn add_to_grid(&mut self, view: &MapView, at: [f32; 2], poly: &Polygon<f64>, cat: usize) {
        let cx = ((at[0] - view.rect[0]) / MIN_FEATURE_MM).floor();
        let cy = ((at[1] - view.rect[1]) / MIN_FEATURE_MM).floor();
        if cx < 0.0 || cy < 0.0 || cx as usize >= self.cols || cy as usize >= self.rows {
            return;
        }
        let area = (poly.unsigned_area() * view.scale[0] * view.scale[1]) as f32;
        let n = self.colors.len();
        self.grid[(cy as usize * self.cols + cx as usize) * n + cat] += area;
    }

    /// Draws the layer: by category, its merged cells and its rings, then the outlines.
    pub fn draw(self, view: &MapView, page: &mut Page) {
        let n = self.colors.len();
        let cell_area = MIN_FEATURE_MM * MIN_FEATURE_MM;
        let mut fills: Vec<Vec<Points>> = vec![Vec::new(); n];
        for row in 0..self.rows {
            let mut run: Option<(usize, usize, usize)> = None; // (category, first, last)
            for col in 0..=self.cols {
                let cat = (col < self.cols)
                    .then(|| {
                        let cell = &self.grid[(row * self.cols + col) * n..][..n];
                        let total: f32 = cell.iter().sum();
                        (total > 0.0 && total >= self.min_cover * cell_area).then(|| {
                            // The category covering most; ties to the later (drawn on top).
                            (0..n)
                                .max_by(|&a, &b| cell[a].total_cmp(&cell[b]))
                                .unwrap_or(0)
                        })
                    })
                    .flatten();
                match (run, cat) {
                    (Some((c, first, _)), Some(k)) if c == k => run = Some((c, first, col)),
                    _ => {
                        if let Some((c, first, last)) = run {
                            let x = view.rect[0] + first as f32 * MIN_FEATURE_MM;
                            let y = view.rect[1] + row as f32 * MIN_FEATURE_MM;
                            let w = (last - first + 1) as f32 * MIN_FEATURE_MM;
                            fills[c].push(super::page::rect_ring([x, y, w, MIN_FEATURE_MM]));
                        }
                        run = cat.map(|k| (k, col, col));
                    }
                }
            }
        }
        let outlined = self.rings.iter().map(Vec::len).sum::<usize>() <= MAX_OUTLINED;
        for (cat, rings) in self.rings.into_iter().enumerate() {
            let mut all = std::mem::take(&mut fills[cat]);
            let own = rings.len();
            all.extend(rings);
            if all.is_empty() {
                continue;
            }
            let drawn_rings = all[all.len() - own..].to_vec();
            page.items.push(Item::Fill {
                rings: all,
                color: self.colors[cat],
            });
            if let Some((color, width)) = self.outline
                && outlined
                && !drawn_rings.is_empty()
            {
                page.items.push(Item::Stroke {
                    lines: drawn_rings,
                    closed: true,
                    color,
                    width,
                });
            }
        }
    }
}

/// The larger of a ring's width and height.
fn extent(r: &Points) -> f32 {
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in r {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    (hi[0] - lo[0]).max(hi[1] - lo[1])
}

/// A world ring on paper: snapped, repeated points dropped, simplified; `None` when fewer
/// than three points are left.
fn paper_ring(view: &MapView, ring: impl Iterator<Item = Coord<f64>>) -> Option<Points> {
    let mut pts: Points = Vec::new();
    for c in ring {
        if !(c.x.is_finite() && c.y.is_finite()) {
            continue;
        }
        let p = view.to_page(c);
        let p = [
            (p[0] / SNAP_MM).round() * SNAP_MM,
            (p[1] / SNAP_MM).round() * SNAP_MM,
        ];
        if pts.last() != Some(&p) {
            pts.push(p);
        }
    }
    // A closed ring repeats its first point: drop it, the fill closes the ring.
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        return None;
    }
    let out = simplify_ring(&pts, SIMPLIFY_MM);
    (out.len() >= 3).then_some(out)
}

/// Twice a ring's signed area on paper (positive: clockwise on the page, y down).
fn signed_area2(r: &[[f32; 2]]) -> f32 {
    let n = r.len();
    (0..n)
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

/// Turns a ring to the given direction: outer rings (and the grid's rectangles) positive,
/// holes negative, so that one path of many rings filled non-zero fills where any feature
/// lies (two features of a colour that overlap stay filled) and leaves a hole empty.
fn orient(mut r: Points, outer: bool) -> Points {
    if (signed_area2(&r) > 0.0) != outer {
        r.reverse();
    }
    r
}

/// Douglas-Peucker on a closed ring: split at the point farthest from the first, each half
/// simplified as a line.
fn simplify_ring(pts: &[[f32; 2]], tol: f32) -> Points {
    let far = (1..pts.len())
        .max_by(|&a, &b| dist2(pts[0], pts[a]).total_cmp(&dist2(pts[0], pts[b])))
        .unwrap_or(0);
    if far == 0 {
        return pts.to_vec();
    }
    let mut keep = vec![false; pts.len() + 1];
    keep[0] = true;
    keep[far] = true;
    keep[pts.len()] = true;
    let at = |i: usize| pts[i % pts.len()];
    let mut stack = vec![(0, far), (far, pts.len())];
    while let Some((a, b)) = stack.pop() {
        let (pa, pb) = (at(a), at(b));
        let mut best = (0.0f32, 0);
        for i in a + 1..b {
            let d = seg_dist2(at(i), pa, pb);
            if d > best.0 {
                best = (d, i);
            }
        }
        if best.0 > tol * tol {
            keep[best.1] = true;
            stack.push((a, best.1));
            stack.push((best.1, b));
        }
    }
    (0..pts.len())
        .filter(|&i| keep[i])
        .map(|i| pts[i])
        .collect()
}

fn dist2(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

fn seg_dist2(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return dist2(p, a);
    }
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0);
    dist2(p, [a[0] + t * dx, a[1] + t * dy])
}

/// Lines (a boundary layer) on the map, stroked.
pub fn outlines(
    view: &MapView,
    geoms: impl Iterator<Item = impl std::ops::Deref<Target = MultiPolygon<f64>>>,
    color: Rgb,
    width: f32,
    page: &mut Page,
) {
    let mut lines = Vec::new();
    for g in geoms {
        for poly in &g.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                if let Some(r) = paper_ring(view, ring.0.iter().copied())
                    && extent(&r) >= MIN_FEATURE_MM
                {
                    lines.push(r);
                }
            }
        }
    }
    if !lines.is_empty() {
        page.items.push(Item::Stroke {
            lines,
            closed: true,
            color,
            width,
        });
    }
}

/// A scale bar at the frame's bottom left: a round length about a quarter of the frame's
/// width, in four black and white segments, with its length in m or km.
pub fn scale_bar(view: &MapView, fonts: &Fonts, page: &mut Page) {
    let [x, y, w, h] = view.rect;
    let target_m = f64::from(w) / 4.0 * view.metres_per_mm;
    let pow = 10f64.powf(target_m.log10().floor());
    let len_m = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|k| k * pow)
        .rfind(|&l| l <= target_m)
        .unwrap_or(pow);
    let len_mm = (len_m / view.metres_per_mm) as f32;
    let (x0, y0) = (x + 4.0, y + h - 5.0);
    page.rect([x0 - 1.5, y0 - 5.0, len_mm + 9.0, 7.5], Rgb::WHITE);
    for k in 0..4 {
        let seg = [x0 + k as f32 * len_mm / 4.0, y0, len_mm / 4.0, 1.2];
        page.rect(seg, if k % 2 == 0 { Rgb::BLACK } else { Rgb::WHITE });
        page.frame(seg, Rgb::BLACK, 0.15);
    }
    let label = if len_m >= 1000.0 {
        format!("{} km", len_m / 1000.0)
    } else {
        format!("{len_m} m")
    };
    page.items.push(Item::Text(fonts.run(
        "0",
        [x0, y0 - 1.0],
        6.0,
        Anchor::Center,
        Rgb::BLACK,
    )));
    page.items.push(Item::Text(fonts.run(
        &label,
        [x0 + len_mm, y0 - 1.0],
        6.0,
        Anchor::Center,
        Rgb::BLACK,
    )));
}

/// A north arrow at the frame's top right: grid north, which is up on every map here.
pub fn north_arrow(view: &MapView, fonts: &Fonts, page: &mut Page) {
    let [x, y, w, _] = view.rect;
    let (cx, top) = (x + w - 8.0, y + 4.0);
    page.rect([cx - 4.0, top - 1.0, 8.0, 13.0], Rgb::WHITE);
    page.items.push(Item::Fill {
        rings: vec![vec![
            [cx, top + 1.5],
            [cx + 2.5, top + 8.0],
            [cx, top + 6.5],
        ]],
        color: Rgb::BLACK,
    });
    page.items.push(Item::Stroke {
        lines: vec![vec![
            [cx, top + 1.5],
            [cx + 2.5, top + 8.0],
            [cx, top + 6.5],
            [cx - 2.5, top + 8.0],
        ]],
        closed: true,
        color: Rgb::BLACK,
        width: 0.2,
    });
    page.items.push(Item::Text(fonts.run(
        "N",
        [cx, top + 11.5],
        7.0,
        Anchor::Center,
        Rgb::BLACK,
    )));
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, polygon};

    fn view() -> MapView {
        // 100 × 100 m drawn in a 100 × 100 mm frame: 1 m ≈ 0.94 mm (the margin).
        MapView::fit(
            [0.0, 0.0, 100.0, 100.0],
            Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 100.0, y: 100.0 }),
            false,
        )
        .unwrap()
    }

    #[test]
    fn the_view_fits_the_box_and_maps_back() {
        let v = view();
        let p = v.to_page(Coord { x: 0.0, y: 100.0 });
        assert!(
            (p[0] - 3.0).abs() < 1e-3 && (p[1] - 3.0).abs() < 1e-3,
            "{p:?}"
        );
        let c = v.to_world([50.0, 50.0]);
        assert!((c.x - 50.0).abs() < 1e-9 && (c.y - 50.0).abs() < 1e-9);
        assert!((v.metres_per_mm - 1.0 / 0.94).abs() < 1e-9);
    }

    #[test]
    fn small_features_merge_into_cells_and_large_ones_are_drawn_as_rings() {
        let v = view();
        let mut layer = MapLayer::new(
            &v,
            vec![Rgb(255, 0, 0), Rgb(0, 0, 255)],
            None,
            MIN_CELL_COVER,
        );
        // Four 0.2 m squares side by side in one 0.5 mm cell: merged, category 0.
        for k in 0..4 {
            let x0 = 50.0 + 0.05 * f64::from(k);
            let sq = polygon![(x: x0, y: 50.0), (x: x0 + 0.2, y: 50.0), (x: x0 + 0.2, y: 50.2), (x: x0, y: 50.2)];
            layer.add(&v, &MultiPolygon(vec![sq]), 0);
        }
        // One large square of category 1, with 400 points along a straight edge.
        let mut ring: Vec<Coord<f64>> = (0..=400)
            .map(|i| Coord {
                x: 10.0 + f64::from(i) * 0.05,
                y: 10.0,
            })
            .collect();
        ring.extend([Coord { x: 30.0, y: 30.0 }, Coord { x: 10.0, y: 30.0 }]);
        layer.add(
            &v,
            &MultiPolygon(vec![Polygon::new(ring.into(), vec![])]),
            1,
        );
        let mut page = Page::default();
        layer.draw(&v, &mut page);
        let fills: Vec<(&Vec<Points>, Rgb)> = page
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Fill { rings, color } => Some((rings, *color)),
                _ => None,
            })
            .collect();
        assert_eq!(fills.len(), 2);
        // The small squares: one cell, 0.5 mm wide.
        assert_eq!(fills[0].0.len(), 1);
        assert!((extent(&fills[0].0[0]) - MIN_FEATURE_MM).abs() < 1e-5);
        // The large square: its straight edge simplified to its corners.
        assert_eq!(fills[1].0.len(), 1);
        assert_eq!(fills[1].0[0].len(), 4, "{:?}", fills[1].0[0]);
    }

    #[test]
    fn overlapping_rings_of_a_colour_turn_one_way_and_holes_the_other() {
        let v = view();
        let mut layer = MapLayer::new(&v, vec![Rgb(255, 0, 0)], None, MIN_CELL_COVER);
        // Two overlapping squares drawn in opposite directions, the second with a hole.
        let a = polygon![(x: 10.0, y: 10.0), (x: 40.0, y: 10.0), (x: 40.0, y: 40.0), (x: 10.0, y: 40.0)];
        let b = Polygon::new(
            vec![
                (30.0, 30.0),
                (30.0, 60.0),
                (60.0, 60.0),
                (60.0, 30.0),
                (30.0, 30.0),
            ]
            .into(),
            vec![
                vec![
                    (40.0, 40.0),
                    (50.0, 40.0),
                    (50.0, 50.0),
                    (40.0, 50.0),
                    (40.0, 40.0),
                ]
                .into(),
            ],
        );
        layer.add(&v, &MultiPolygon(vec![a, b]), 0);
        let mut page = Page::default();
        layer.draw(&v, &mut page);
        let Item::Fill { rings, .. } = &page.items[0] else {
            panic!("{:?}", page.items)
        };
        let signs: Vec<bool> = rings.iter().map(|r| signed_area2(r) > 0.0).collect();
        // Filled non-zero, the overlap counts twice and stays filled; the hole is empty.
        assert_eq!(signs, vec![true, true, false]);
    }

    #[test]
    fn a_sparse_cell_is_dropped_and_features_outside_the_frame_are_skipped() {
        let v = view();
        let mut layer = MapLayer::new(&v, vec![Rgb(255, 0, 0)], None, MIN_CELL_COVER);
        // 0.05 m square: 0.0022 mm² of a 0.25 mm² cell.
        let tiny = polygon![(x: 50.0, y: 50.0), (x: 50.05, y: 50.0), (x: 50.05, y: 50.05), (x: 50.0, y: 50.05)];
        layer.add(&v, &MultiPolygon(vec![tiny.clone()]), 0);
        let far = polygon![(x: 500.0, y: 500.0), (x: 520.0, y: 500.0), (x: 520.0, y: 520.0), (x: 500.0, y: 520.0)];
        layer.add(&v, &MultiPolygon(vec![far]), 0);
        let mut page = Page::default();
        layer.draw(&v, &mut page);
        assert!(page.items.is_empty(), "{:?}", page.items);
        // In a layer of marks, the same square marks its cell.
        let mut marks = MapLayer::new(&v, vec![Rgb(255, 0, 0)], None, 0.0);
        marks.add(&v, &MultiPolygon(vec![tiny]), 0);
        let mut page = Page::default();
        marks.draw(&v, &mut page);
        assert_eq!(page.items.len(), 1);
    }
}
