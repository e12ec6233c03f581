//! The overlay of cultivated-land parcels with risk areas.
//!
//! Risk areas are first cut into *faces*: pieces of the plane covered by the same set of risk
//! areas. Where areas do not overlap (nearly everywhere) a face is simply one part of one risk
//! area; where they overlap, the overlapping group is split with boolean operations. Each face
//! takes the highest class of the areas covering it, which is the product contract's
//! "dissolved per class, overlaps given to the highest class", while still knowing which risk
//! areas it belongs to (for the per-risk-area numbers). Duplicated risk polygons make one
//! face, counted once.
//!
//! A parcel is then measured against the faces whose boxes it touches. Clipping every pair is
//! slow, so:
//! - if no edge of the parcel meets an edge of the face (checked on the face's edges near the
//!   parcel only), the boundaries are disjoint and the shared area is the sum of the signed
//!   areas of the rings of each that lie inside the other (Green's theorem; one
//!   point-in-polygon test per ring): no geometry is built;
//! - otherwise the two are clipped: a face of many vertices is first cut to the parcel's box,
//!   then planar areas go through `ConvexClip` (Sutherland-Hodgman) and the rest, or a piece
//!   it does not take, through i_overlay (`geom::clip`), which is robust for shared and
//!   touching edges.
//!
//! Units: coordinates in the analysis CRS; areas in m² through `AreaMethod`. Rings follow geo's
//! winding (exteriors counter-clockwise, holes clockwise); `io::rings` makes them so.
//!
//! One capability, the measurement of parcels against the risk faces, in one file: the faces,
//! their coverage grid and the clipping that serves them are only used here. A quarter of
//! its length is its tests, against geo's exact clipping.

use geo::bool_ops::{FillRule, OpType};
use geo::orient::{Direction, Orient};
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};

use crate::geom::area::{AreaMethod, Moments, planar_area};
use crate::geom::boxes::{rect_holds, rects_meet, ring_bounds, union_rect};
use crate::geom::clip::{boolean_op, clip_ring_to_rect, intersection, intersection_area};
use crate::geom::index::BoxIndex;
use crate::geom::rings::{is_convex_ccw, point_in_polygon, ring_is_simple, segments_meet};
use crate::vocab::RiskClass;

/// Consecutive edges grouped under one box, so that only the edges near a parcel are tested.
const CHUNK: usize = 16;
/// Faces with more vertices than this are cut to the parcel's box before clipping.
const LOCAL_CLIP_VERTICES: usize = 64;

#[derive(Debug, Clone)]
struct Chunk {
    bbox: Rect<f64>,
    ring: u32,
    start: u32,
    end: u32,
}

/// A piece of the plane covered by the same risk areas.
#[derive(Debug, Clone)]
pub struct Face {
    pub polygon: Polygon<f64>,
    /// The highest class among `risks`.
    pub class: RiskClass,
    /// Indices of the risk areas covering this face, ascending.
    pub risks: Vec<u32>,
    pub bbox: Rect<f64>,
    ring_boxes: Vec<Rect<f64>>,
    chunks: Vec<Chunk>,
    vertices: usize,
}

impl Face {
    fn new(polygon: Polygon<f64>, class: RiskClass, risks: Vec<u32>) -> Option<Face> {
        let polygon = polygon.orient(Direction::Default);
        let bbox = polygon.bounding_rect()?;
        let rings: Vec<&LineString<f64>> = std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .collect();
        let mut ring_boxes = Vec::with_capacity(rings.len());
        let mut chunks = Vec::new();
        let mut vertices = 0;
        for (ri, ring) in rings.iter().enumerate() {
            let pts = &ring.0;
            vertices += pts.len();
            ring_boxes.push(ring.bounding_rect().unwrap_or(bbox));
            let edges = pts.len().saturating_sub(1);
            let mut s = 0;
            while s < edges {
                let e = (s + CHUNK).min(edges);
                let b = LineString::from(pts[s..=e].to_vec())
                    .bounding_rect()
                    .unwrap_or(bbox);
                chunks.push(Chunk {
                    bbox: b,
                    ring: ri as u32,
                    start: s as u32,
                    end: e as u32,
                });
                s = e;
            }
        }
        Some(Face {
            polygon,
            class,
            risks,
            bbox,
            ring_boxes,
            chunks,
            vertices,
        })
    }

    fn ring(&self, i: u32) -> &[Coord<f64>] {
        if i == 0 {
            &self.polygon.exterior().0
        } else {
            &self.polygon.interiors()[i as usize - 1].0
        }
    }

    /// Even-odd point-in-face test, skipping chunks the horizontal ray cannot cross: the
    /// crossing rule of `geom::rings::point_in_ring`, run over the chunks near the point only,
    /// which a test over whole rings cannot do for faces of thousands of vertices.
    fn contains_point(&self, p: Coord<f64>) -> bool {
        if !rect_holds(&self.bbox, p) {
            return false;
        }
        let mut inside = false;
        for c in &self.chunks {
            if p.y < c.bbox.min().y || p.y > c.bbox.max().y || p.x > c.bbox.max().x {
                continue;
            }
            let pts = &self.ring(c.ring)[c.start as usize..=c.end as usize];
            for w in pts.windows(2) {
                let (a, b) = (w[0], w[1]);
                if (a.y > p.y) != (b.y > p.y) {
                    let x = (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x;
                    if p.x < x {
                        inside = !inside;
                    }
                }
            }
        }
        inside
    }

    /// Whether any edge of the face meets (crosses, touches or overlaps) an edge of `p`.
    fn boundary_meets(&self, p: &Polygon<f64>, pbox: &Rect<f64>) -> bool {
        let prings: Vec<&[Coord<f64>]> = std::iter::once(&p.exterior().0[..])
            .chain(p.interiors().iter().map(|r| &r.0[..]))
            .collect();
        for c in &self.chunks {
            if !rects_meet(&c.bbox, pbox) {
                continue;
            }
            let pts = &self.ring(c.ring)[c.start as usize..=c.end as usize];
            for w in pts.windows(2) {
                let (a, b) = (w[0], w[1]);
                let ebox = Rect::new(a, b);
                if !rects_meet(&ebox, pbox) {
                    continue;
                }
                for ring in &prings {
                    for v in ring.windows(2) {
                        if segments_meet(a, b, v[0], v[1]) {
                            return true;
                        }
                    }
                }
            }
        }
        false
    }

    /// The face cut to the rectangle `r` (each ring clipped on its own; zero-width bridges
    /// along the rectangle cancel under the even-odd rule the clipper uses).
    fn local(&self, r: &Rect<f64>) -> Polygon<f64> {
        let ext = clip_ring_to_rect(&self.polygon.exterior().0, r);
        let holes = self
            .polygon
            .interiors()
            .iter()
            .zip(&self.ring_boxes[1..])
            .filter(|(_, b)| rects_meet(b, r))
            .map(|(h, _)| LineString::new(clip_ring_to_rect(&h.0, r)))
            .filter(|h| h.0.len() >= 4)
            .collect();
        Polygon::new(LineString::new(ext), holes)
    }
}

/// Risk areas cut into faces, with an R-tree over the faces' boxes.
#[derive(Debug, Clone, Default)]
pub struct RiskMap {
    pub faces: Vec<Face>,
    index: BoxIndex,
    cover: Coverage,
}

/// The cells of a coarse grid over the faces that some face's box reaches. A parcel whose
/// box reaches none of them has no face near it, told without asking the R-tree: in a
/// province, most parcels are far from every risk area.
#[derive(Debug, Clone, Default)]
struct Coverage {
    origin: Coord<f64>,
    cell: f64,
    cols: usize,
    rows: usize,
    /// One bit a cell, row by row.
    bits: Vec<u64>,
}

impl Coverage {
    /// Cells along the longer side of the faces' extent (420 m on a province 430 km
    /// across, a few times a parcel).
    const CELLS: usize = 1024;

    fn new(boxes: &[Rect<f64>]) -> Coverage {
        let Some(extent) = boxes.iter().copied().reduce(union_rect) else {
            return Coverage::default();
        };
        let longer = extent.width().max(extent.height());
        if !(longer > 0.0 && longer.is_finite()) {
            return Coverage::default(); // no grid: every query goes to the R-tree
        }
        let cell = longer / Self::CELLS as f64;
        let mut c = Coverage {
            origin: extent.min(),
            cell,
            cols: ((extent.width() / cell) as usize + 1).min(Self::CELLS),
            rows: ((extent.height() / cell) as usize + 1).min(Self::CELLS),
            bits: Vec::new(),
        };
        c.bits = vec![0; (c.cols * c.rows).div_ceil(64)];
        for b in boxes {
            if let Some((cols, rows)) = c.span(b) {
                for row in rows {
                    for k in cols.clone() {
                        let at = row * c.cols + k;
                        c.bits[at / 64] |= 1 << (at % 64);
                    }
                }
            }
        }
        c
    }

    /// The cells `r` reaches (clamped to the grid), or `None` when it lies outside the
    /// grid. Boxes that touch reach a common cell: both go through the same rounding down.
    fn span(
        &self,
        r: &Rect<f64>,
    ) -> Option<(
        std::ops::RangeInclusive<usize>,
        std::ops::RangeInclusive<usize>,
    )> {
        let cell_of = |v: f64, o: f64, n: usize| -> Option<usize> {
            let k = ((v - o) / self.cell).floor();
            (k >= 0.0).then(|| (k as usize).min(n - 1))
        };
        let (lo, hi) = (r.min(), r.max());
        let (x0, x1) = (lo.x - self.origin.x, hi.x - self.origin.x);
        let (y0, y1) = (lo.y - self.origin.y, hi.y - self.origin.y);
        let (w, h) = (self.cols as f64 * self.cell, self.rows as f64 * self.cell);
        if x1 < 0.0 || y1 < 0.0 || x0 > w || y0 > h {
            return None;
        }
        let i0 = cell_of(lo.x, self.origin.x, self.cols).unwrap_or(0);
        let j0 = cell_of(lo.y, self.origin.y, self.rows).unwrap_or(0);
        let i1 = cell_of(hi.x, self.origin.x, self.cols)?;
        let j1 = cell_of(hi.y, self.origin.y, self.rows)?;
        Some((i0..=i1, j0..=j1))
    }

    /// Whether a face's box may meet `r`.
    fn may_meet(&self, r: &Rect<f64>) -> bool {
        if self.bits.is_empty() {
            return true;
        }
        let Some((cols, rows)) = self.span(r) else {
            return false;
        };
        rows.into_iter().any(|row| {
            cols.clone().any(|k| {
                let at = row * self.cols + k;
                self.bits[at / 64] & (1 << (at % 64)) != 0
            })
        })
    }
}

/// The share of one parcel in one face, in m².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub face: u32,
    pub area_m2: f64,
}

impl RiskMap {
    /// Builds the faces from risk areas given as (geometry, class), in the analysis CRS.
    pub fn build(risks: &[(&MultiPolygon<f64>, RiskClass)]) -> RiskMap {
        let boxes: Vec<Option<Rect<f64>>> = risks.iter().map(|(g, _)| g.bounding_rect()).collect();
        let index = BoxIndex::bulk(
            boxes
                .iter()
                .enumerate()
                .filter_map(|(i, b)| b.map(|b| (i as u32, b))),
        );
        // Group risk areas that really overlap (not just touch), with union-find.
        let mut parent: Vec<usize> = (0..risks.len()).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for (i, b) in boxes.iter().enumerate() {
            let Some(b) = b else { continue };
            let mut near: Vec<u32> = index.intersecting(b).filter(|&j| j as usize > i).collect();
            near.sort_unstable();
            for j in near {
                let j = j as usize;
                if find(&mut parent, i) == find(&mut parent, j) {
                    continue;
                }
                let inter = intersection(risks[i].0, risks[j].0);
                if planar_area(&inter) > sliver(b) {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    parent[ri.max(rj)] = ri.min(rj);
                }
            }
        }
        let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for i in 0..risks.len() {
            let root = find(&mut parent, i);
            groups.entry(root).or_default().push(i);
        }

        let mut faces = Vec::new();
        for members in groups.into_values() {
            if let [only] = members[..] {
                for p in &risks[only].0.0 {
                    faces.extend(Face::new(p.clone(), risks[only].1, vec![only as u32]));
                }
                continue;
            }
            for (mp, ids) in arrange(&members, risks) {
                let class = ids
                    .iter()
                    .map(|&i| risks[i as usize].1)
                    .max()
                    .unwrap_or(RiskClass::Priority);
                for p in mp.0 {
                    faces.extend(Face::new(p, class, ids.clone()));
                }
            }
        }
        let index = BoxIndex::bulk(faces.iter().enumerate().map(|(i, f)| (i as u32, f.bbox)));
        let cover = Coverage::new(&faces.iter().map(|f| f.bbox).collect::<Vec<_>>());
        RiskMap {
            faces,
            index,
            cover,
        }
    }

    /// The faces whose boxes touch `r`.
    /// Adds a face measured elsewhere (by a database, `analyze --engine postgis`): the part
    /// of risk area `risk` where `class` counts, with no polygon here. It is in no index, so
    /// `measure` never gives it; pieces name it. Gives its index.
    pub fn add_measured_face(&mut self, class: RiskClass, risk: u32) -> u32 {
        self.faces.push(Face {
            polygon: Polygon::new(LineString::new(Vec::new()), Vec::new()),
            class,
            risks: vec![risk],
            bbox: Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 }),
            ring_boxes: Vec::new(),
            chunks: Vec::new(),
            vertices: 0,
        });
        (self.faces.len() - 1) as u32
    }

    pub fn faces_near(&self, r: &Rect<f64>) -> impl Iterator<Item = u32> + '_ {
        self.index.intersecting(r)
    }

    /// The area of `parcel` inside each face it overlaps, sorted by face, zero shares left out.
    pub fn measure(&self, parcel: &MultiPolygon<f64>, method: &AreaMethod) -> Vec<Piece> {
        let mut pieces: Vec<Piece> = Vec::new();
        for part in &parcel.0 {
            let Some(pbox) = ring_bounds(&part.exterior().0) else {
                continue;
            };
            if !self.cover.may_meet(&pbox) {
                continue;
            }
            let mut near: Vec<u32> = self.index.intersecting(&pbox).collect();
            near.sort_unstable();
            for fi in near {
                let face = &self.faces[fi as usize];
                let a = shared_area(part, &pbox, face, method);
                if a > 0.0 {
                    match pieces.iter_mut().find(|p| p.face == fi) {
                        Some(p) => p.area_m2 += a,
                        None => pieces.push(Piece {
                            face: fi,
                            area_m2: a,
                        }),
                    }
                }
            }
        }
        pieces.sort_by_key(|p| p.face);
        pieces
    }
}

/// Area in m² of `part ∩ face`.
fn shared_area(part: &Polygon<f64>, pbox: &Rect<f64>, face: &Face, method: &AreaMethod) -> f64 {
    if !face.boundary_meets(part, pbox) {
        // Disjoint boundaries: each ring lies wholly inside or outside the other shape.
        let mut a = 0.0;
        for ring in std::iter::once(part.exterior()).chain(part.interiors()) {
            if let Some(&p0) = ring.0.first()
                && face.contains_point(p0)
            {
                a += method.ring_signed_m2(&ring.0);
            }
        }
        for (ri, rbox) in face.ring_boxes.iter().enumerate() {
            if !rects_meet(rbox, pbox) {
                continue;
            }
            let ring = face.ring(ri as u32);
            if let Some(&p0) = ring.first()
                && point_in_polygon(p0, part)
            {
                a += method.ring_signed_m2(ring);
            }
        }
        return a.max(0.0);
    }
    let local;
    let near = if face.vertices > LOCAL_CLIP_VERTICES {
        // A margin keeps the clip window's own edges off the parcel's boundary.
        let w = (pbox.width() + pbox.height()) * 0.01 + f64::EPSILON;
        let r = Rect::new(
            (pbox.min().x - w, pbox.min().y - w),
            (pbox.max().x + w, pbox.max().y + w),
        );
        local = face.local(&r);
        &local
    } else {
        &face.polygon
    };
    if !matches!(method, AreaMethod::Geodesic(_))
        && let Some(m) =
            CLIP.with_borrow_mut(|c| c.moments(part, near, pbox.min(), method.needs_moments()))
        && let Some(a) = method.moments_m2(&m, pbox.min())
    {
        return a.max(0.0);
    }
    intersection_area(part, near, |ring| method.ring_signed_m2(ring))
}

thread_local! {
    /// Each thread's buffers for `ConvexClip`.
    static CLIP: std::cell::RefCell<ConvexClip> = Default::default();
}

/// Planar area of a parcel inside a piece of a risk face without the general clipper, which
/// is costly on a pair of small polygons: a convex piece (a risk area's edge seen close up,
/// curving out) clips the parcel by Sutherland-Hodgman; any other simple piece is cut into
/// triangles (earcut), each of which does. Sutherland-Hodgman against a convex window gives
/// exactly the area of the part inside it, however concave the part (the pieces the cut
/// leaves are joined along the window's edges by bridges of no area), and holes count
/// negatively. Coordinates are taken relative to a point near the parcel, so Gauss-Kruger's
/// millions of metres cost no precision.
#[derive(Default)]
struct ConvexClip {
    /// The parcel's rings, shifted, open (no closing point), one after another.
    part: Vec<Coord<f64>>,
    part_ends: Vec<usize>,
    from: Vec<Coord<f64>>,
    to: Vec<Coord<f64>>,
    earcut: earcut::Earcut<f64>,
    piece: Vec<[f64; 2]>,
    holes: Vec<u32>,
    triangles: Vec<u32>,
}

impl ConvexClip {
    /// The area moments (relative to `origin`; with the centroid and second moments when
    /// `full`) of `part` inside `near`, or `None` when `near` is neither convex nor simple (a
    /// ring the cut to the parcel's box left touching itself) or its triangles do not cover
    /// it: the caller then uses the general clipper.
    fn moments(
        &mut self,
        part: &Polygon<f64>,
        near: &Polygon<f64>,
        origin: Coord<f64>,
        full: bool,
    ) -> Option<Moments> {
        let shift = |c: &Coord<f64>| *c - origin;
        self.part.clear();
        self.part_ends.clear();
        for r in std::iter::once(part.exterior()).chain(part.interiors()) {
            self.part.extend(open(r).iter().map(shift));
            self.part_ends.push(self.part.len());
        }
        let ext = &near.exterior().0;
        if near.interiors().is_empty() && is_convex_ccw(ext) {
            let window: Vec<Coord<f64>> = open(near.exterior()).iter().map(shift).collect();
            return Some(self.clipped(&window, full));
        }
        let rings = || std::iter::once(near.exterior()).chain(near.interiors());
        if !rings().all(|r| ring_is_simple(&r.0)) {
            return None;
        }
        self.piece.clear();
        self.holes.clear();
        let mut piece_twice = 0.0;
        for (k, r) in rings().enumerate() {
            if k > 0 {
                self.holes.push(self.piece.len() as u32);
            }
            let start = self.piece.len();
            self.piece.extend(open(r).iter().map(|c| {
                let d = shift(c);
                [d.x, d.y]
            }));
            let twice = twice_area_open(&self.piece[start..]).abs();
            piece_twice += if k == 0 { twice } else { -twice };
        }
        let (piece, holes) = (
            std::mem::take(&mut self.piece),
            std::mem::take(&mut self.holes),
        );
        let mut triangles = std::mem::take(&mut self.triangles);
        self.earcut
            .earcut(piece.iter().copied(), &holes, &mut triangles);
        let mut covered = 0.0;
        let mut inside = Moments::default();
        for t in triangles.chunks_exact(3) {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| {
                let [x, y] = piece[i as usize];
                Coord { x, y }
            });
            let turn = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
            if turn == 0.0 {
                continue;
            }
            covered += turn.abs();
            let window = if turn > 0.0 { [a, b, c] } else { [a, c, b] };
            inside.add(&self.clipped(&window, full));
        }
        (self.piece, self.holes, self.triangles) = (piece, holes, triangles);
        let covers = (covered - piece_twice).abs() <= 1e-9 * piece_twice.abs();
        covers.then_some(inside)
    }

    /// The moments of the parcel (its shifted rings) inside the convex counter-clockwise
    /// `window` (shifted, open).
    fn clipped(&mut self, window: &[Coord<f64>], full: bool) -> Moments {
        let mut inside = Moments::default();
        let mut start = 0;
        for &end in &self.part_ends {
            let (from, to) = (&mut self.from, &mut self.to);
            from.clear();
            from.extend_from_slice(&self.part[start..end]);
            start = end;
            for k in 0..window.len() {
                if from.is_empty() {
                    break;
                }
                let (a, b) = (window[k], window[(k + 1) % window.len()]);
                let side = |p: Coord<f64>| (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
                to.clear();
                let mut prev = from[from.len() - 1];
                let mut s_prev = side(prev);
                for &cur in from.iter() {
                    let s_cur = side(cur);
                    if (s_cur >= 0.0) != (s_prev >= 0.0) {
                        let t = s_prev / (s_prev - s_cur);
                        to.push(Coord {
                            x: prev.x + t * (cur.x - prev.x),
                            y: prev.y + t * (cur.y - prev.y),
                        });
                    }
                    if s_cur >= 0.0 {
                        to.push(cur);
                    }
                    (prev, s_prev) = (cur, s_cur);
                }
                std::mem::swap(from, to);
            }
            inside.add_open_ring(from, full);
        }
        inside
    }
}

/// A closed ring without its closing point.
fn open(r: &LineString<f64>) -> &[Coord<f64>] {
    &r.0[..r.0.len().saturating_sub(1)]
}

/// Twice the signed area of an open ring (the closing edge implied).
fn twice_area_open<P: Copy + Into<Coord<f64>>>(ring: &[P]) -> f64 {
    let Some(&last) = ring.last() else {
        return 0.0;
    };
    let mut prev: Coord<f64> = last.into();
    let mut sum = 0.0;
    for &p in ring {
        let p: Coord<f64> = p.into();
        sum += prev.x * p.y - p.x * prev.y;
        prev = p;
    }
    sum
}

/// Below this area (in CRS units²) a piece from a boolean operation is a rounding sliver.
fn sliver(b: &Rect<f64>) -> f64 {
    1e-12 * (b.width() * b.height()).max(f64::MIN_POSITIVE)
}

/// Splits an overlapping group of risk areas into faces, each with the areas covering it.
fn arrange(
    members: &[usize],
    risks: &[(&MultiPolygon<f64>, RiskClass)],
) -> Vec<(MultiPolygon<f64>, Vec<u32>)> {
    let eps = members
        .iter()
        .filter_map(|&i| risks[i].0.bounding_rect())
        .map(|b| sliver(&b))
        .fold(0.0, f64::max);
    let mut faces: Vec<(MultiPolygon<f64>, Vec<u32>)> = Vec::new();
    for &q in members {
        let qg = risks[q].0;
        let mut rest = qg.clone();
        let mut next = Vec::with_capacity(faces.len() * 2 + 1);
        for (f, ids) in faces {
            let inter = intersection(&f, qg);
            if planar_area(&inter) > eps {
                rest = boolean_op(&rest, &f, OpType::Difference, FillRule::EvenOdd);
                let mut with_q = ids.clone();
                with_q.push(q as u32);
                next.push((inter, with_q));
                let outside = boolean_op(&f, qg, OpType::Difference, FillRule::EvenOdd);
                if planar_area(&outside) > eps {
                    next.push((outside, ids));
                }
            } else {
                next.push((f, ids));
            }
        }
        if planar_area(&rest) > eps {
            next.push((rest, vec![q as u32]));
        }
        faces = next;
    }
    faces
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, polygon};

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![
            (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)
        ]])
    }

    #[test]
    fn overlapping_areas_make_three_faces_with_the_highest_class() {
        let a = rect(0.0, 0.0, 100.0, 100.0);
        let b = rect(50.0, 0.0, 150.0, 100.0);
        let map = RiskMap::build(&[(&a, RiskClass::SafeUse), (&b, RiskClass::StrictControl)]);
        assert_eq!(map.faces.len(), 3);
        let mut by: Vec<(Vec<u32>, RiskClass, f64)> = map
            .faces
            .iter()
            .map(|f| (f.risks.clone(), f.class, f.polygon.unsigned_area()))
            .collect();
        by.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(by[0], (vec![0], RiskClass::SafeUse, 5000.0));
        assert_eq!(by[1], (vec![0, 1], RiskClass::StrictControl, 5000.0));
        assert_eq!(by[2], (vec![1], RiskClass::StrictControl, 5000.0));
    }

    #[test]
    fn duplicated_areas_are_one_face() {
        let a = rect(0.0, 0.0, 10.0, 10.0);
        let map = RiskMap::build(&[(&a, RiskClass::SafeUse), (&a, RiskClass::Priority)]);
        assert_eq!(map.faces.len(), 1);
        assert_eq!(map.faces[0].risks, vec![0, 1]);
        assert_eq!(map.faces[0].class, RiskClass::SafeUse);
    }

    #[test]
    fn fast_path_and_clipping_agree_with_geo() {
        // A concave risk area with a hole, and parcels inside, outside, crossing, around the
        // hole: the measured area must equal geo's exact intersection area.
        let mut ring = Vec::new();
        for k in 0..200 {
            let t = k as f64 / 200.0 * std::f64::consts::TAU;
            let r = 1000.0 + 300.0 * (5.0 * t).sin();
            ring.push(Coord {
                x: 500_000.0 + r * t.cos(),
                y: 3_300_000.0 + r * t.sin(),
            });
        }
        ring.push(ring[0]);
        let hole = LineString::from(vec![
            (499_900.0, 3_299_900.0),
            (499_900.0, 3_300_100.0),
            (500_100.0, 3_300_100.0),
            (500_100.0, 3_299_900.0),
            (499_900.0, 3_299_900.0),
        ]);
        let risk = MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![hole])]);
        let map = RiskMap::build(&[(&risk, RiskClass::SafeUse)]);
        let mut checked = 0;
        for i in 0..40 {
            for j in 0..40 {
                let x = 498_400.0 + i as f64 * 80.0;
                let y = 3_298_400.0 + j as f64 * 80.0;
                let p = rect(x, y, x + 70.0, y + 60.0);
                let got: f64 = map
                    .measure(&p, &AreaMethod::Planar)
                    .iter()
                    .map(|p| p.area_m2)
                    .sum();
                let want = geo::BooleanOps::intersection(&p, &risk).unsigned_area();
                assert!(
                    (got - want).abs() <= 1e-6 * 4200.0,
                    "parcel at ({x},{y}): {got} vs {want}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 1600);
    }

    #[test]
    fn the_coverage_grid_never_misses_a_box_that_meets() {
        // Faces' boxes of all sizes over a 100 km square, and queries the size of parcels
        // (and some touching a box exactly): wherever some box meets the query, the grid
        // says so; far from every box it says no.
        let h =
            |k: u64| ((k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64) / (1u64 << 53) as f64;
        let boxes: Vec<Rect<f64>> = (0..300)
            .map(|k| {
                let (x, y) = (h(4 * k) * 1e5, h(4 * k + 1) * 1e5);
                let (w, d) = (h(4 * k + 2) * 3e3, h(4 * k + 3) * 3e3);
                Rect::new((x, y), (x + w, y + d))
            })
            .collect();
        let cover = Coverage::new(&boxes);
        let mut said_no = 0;
        for k in 0..20_000u64 {
            let (x, y) = (h(2 * k + 7) * 1.2e5 - 1e4, h(2 * k + 8) * 1.2e5 - 1e4);
            let q = if k % 10 == 0 {
                // Touching a box at its right edge.
                let b = boxes[k as usize % boxes.len()];
                Rect::new((b.max().x, b.min().y), (b.max().x + 50.0, b.min().y + 40.0))
            } else {
                Rect::new((x, y), (x + 80.0, y + 60.0))
            };
            let meets = boxes.iter().any(|b| rects_meet(b, &q));
            if meets {
                assert!(cover.may_meet(&q), "{q:?}");
            }
            said_no += usize::from(!cover.may_meet(&q));
        }
        assert!(said_no > 5_000, "{said_no}");
        assert!(!cover.may_meet(&Rect::new((-5e4, -5e4), (-4e4, -4e4))));
    }

    fn cut_area(part: &Polygon<f64>, piece: &Polygon<f64>) -> Option<f64> {
        ConvexClip::default()
            .moments(part, piece, Coord { x: 0.0, y: 0.0 }, false)
            .map(|m| m.area().max(0.0))
    }

    #[test]
    fn convex_clipping_measures_what_the_general_clipper_does() {
        // Wavy (concave) parcels with and without a hole, in Gauss-Kruger coordinates, cut
        // by convex windows (a risk area's edge seen close up) at many offsets: the
        // Sutherland-Hodgman area equals i_overlay's intersection area.
        let wavy = |x0: f64, y0: f64, hole: bool| {
            let mut ring = Vec::new();
            for k in 0..24 {
                let t = k as f64 / 24.0 * std::f64::consts::TAU;
                let r = 50.0 + 12.0 * (3.0 * t).sin();
                ring.push(Coord {
                    x: x0 + r * t.cos(),
                    y: y0 + r * t.sin(),
                });
            }
            ring.push(ring[0]);
            let holes = if hole {
                vec![LineString::from(vec![
                    (x0 - 10.0, y0 - 10.0),
                    (x0 - 10.0, y0 + 10.0),
                    (x0 + 10.0, y0 + 10.0),
                    (x0 + 10.0, y0 - 10.0),
                    (x0 - 10.0, y0 - 10.0),
                ])]
            } else {
                vec![]
            };
            Polygon::new(LineString::new(ring), holes)
        };
        let (x0, y0) = (512_345.0, 3_301_234.0);
        let mut measured = 0;
        for k in 0..400 {
            let part = wavy(x0, y0, k % 3 == 0);
            // A convex window: a box with one corner cut off, shifted across the parcel.
            let (dx, dy) = ((k % 20) as f64 * 7.0 - 70.0, (k / 20) as f64 * 7.0 - 70.0);
            let (ax, ay) = (x0 + dx - 40.0, y0 + dy - 30.0);
            let clip = polygon![
                (x: ax, y: ay), (x: ax + 80.0, y: ay), (x: ax + 80.0, y: ay + 45.0),
                (x: ax + 55.0, y: ay + 70.0), (x: ax, y: ay + 70.0), (x: ax, y: ay)
            ];
            assert!(is_convex_ccw(&clip.exterior().0));
            // And a concave window with a hole, which is cut into triangles.
            let notched = Polygon::new(
                LineString::from(vec![
                    (ax, ay),
                    (ax + 80.0, ay),
                    (ax + 40.0, ay + 20.0),
                    (ax + 80.0, ay + 70.0),
                    (ax, ay + 70.0),
                    (ax, ay),
                ]),
                vec![LineString::from(vec![
                    (ax + 10.0, ay + 40.0),
                    (ax + 10.0, ay + 60.0),
                    (ax + 30.0, ay + 60.0),
                    (ax + 30.0, ay + 40.0),
                    (ax + 10.0, ay + 40.0),
                ])],
            );
            assert!(!is_convex_ccw(&notched.exterior().0));
            let origin = Coord { x: x0, y: y0 };
            let mut cut = ConvexClip::default();
            for window in [&clip, &notched] {
                let got = cut.moments(&part, window, origin, false).unwrap().area();
                let want = geo::BooleanOps::intersection(&part, window).unsigned_area();
                assert!(
                    (got - want).abs() <= 1e-6 * want.max(1.0),
                    "{k}: {got} vs {want}"
                );
                measured += usize::from(want > 0.0);
            }
        }
        assert!(measured > 400, "{measured}");
        // A piece whose ring touches itself is left to the general clipper.
        let touching = polygon![
            (x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 2., y: 0.), (x: 0., y: 4.)
        ];
        let part = polygon![(x: 1., y: 1.), (x: 3., y: 1.), (x: 3., y: 3.), (x: 1., y: 3.)];
        assert!(cut_area(&part, &touching).is_none());
        // A concave or clockwise window is not taken for convex.
        let notch = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 2., y: 1.), (x: 4., y: 4.), (x: 0., y: 4.)];
        assert!(!is_convex_ccw(&notch.exterior().0));
        let cw = polygon![(x: 0., y: 0.), (x: 0., y: 4.), (x: 4., y: 4.), (x: 4., y: 0.)];
        assert!(!is_convex_ccw(&cw.exterior().0));
    }
}
