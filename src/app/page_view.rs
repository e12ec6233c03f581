//! A report page (`soilrisk::report::page::Page`, millimetres, y down) drawn with egui's
//! painter: the preview of the report's cover in File > Export > Report (PDF)…. The page is
//! turned into shapes once for a place on screen (`PageShapes::new`) and those shapes are
//! painted every frame.
//!
//! Fills are even-odd sets of rings, which may be concave (parcels, simplified) and may have
//! holes: each ring is cut into triangles (earcut), a ring lying inside the ring before it
//! (a hole, as the report's maps write them: an exterior, then its holes) cut out of it, and
//! a fill's triangles go into one mesh. Strokes are lines, text is laid out by egui's fonts
//! (the window's, the bundled CJK font among them) at the run's size, its baseline where the
//! page puts it. A `Clip` holds for the items up to the next `Unclip`.

use eframe::egui::{self, Color32, Pos2, Rect, Shape, Stroke, epaint};
use soilrisk::report::page::{Item, MM_PER_PT, Page, Points, Rgb};

/// Shapes painted together, inside one clip rectangle.
struct Group {
    clip: Rect,
    shapes: Vec<Shape>,
}

/// A page's shapes, for one rectangle on screen.
pub struct PageShapes {
    /// Where the page was laid out (screen points).
    pub rect: Rect,
    groups: Vec<Group>,
}

fn color(c: Rgb) -> Color32 {
    Color32::from_rgb(c.0, c.1, c.2)
}

impl PageShapes {
    /// `page` fitted into `rect` (its width; the height follows the page's proportions),
    /// text laid out with `ctx`'s fonts.
    pub fn new(ctx: &egui::Context, page: &Page, rect: Rect) -> PageShapes {
        let scale = rect.width() / page.size[0].max(1.0);
        let at = |p: [f32; 2]| Pos2::new(rect.min.x + p[0] * scale, rect.min.y + p[1] * scale);
        let mut groups = vec![Group {
            clip: rect,
            shapes: vec![Shape::rect_filled(rect, 0.0, Color32::WHITE)],
        }];
        let mut earcut = earcut::Earcut::<f32>::new();
        for item in &page.items {
            match item {
                Item::Fill { rings, color: c } => {
                    let mesh = fill_mesh(&mut earcut, rings, color(*c), &at);
                    if !mesh.is_empty() {
                        push(&mut groups, Shape::mesh(mesh));
                    }
                }
                Item::Stroke {
                    lines,
                    closed,
                    color: c,
                    width,
                } => {
                    let stroke = Stroke::new((width * scale).max(0.5), color(*c));
                    for line in lines {
                        let pts: Vec<Pos2> = line.iter().map(|p| at(*p)).collect();
                        if pts.len() < 2 {
                            continue;
                        }
                        push(
                            &mut groups,
                            if *closed {
                                Shape::closed_line(pts, stroke)
                            } else {
                                Shape::line(pts, stroke)
                            },
                        );
                    }
                }
                Item::Text(run) => {
                    let px = run.size * MM_PER_PT * scale;
                    let galley = ctx.fonts_mut(|f| {
                        f.layout_no_wrap(
                            run.text(),
                            egui::FontId::proportional(px.max(1.0)),
                            color(run.color),
                        )
                    });
                    // egui places text by its top-left corner: up by the first row's
                    // baseline.
                    let baseline = galley
                        .rows
                        .first()
                        .and_then(|r| r.glyphs.first().map(|g| r.pos.y + g.pos.y))
                        .unwrap_or(0.8 * px);
                    let pos = at([run.x, run.y]) - egui::vec2(0.0, baseline);
                    push(&mut groups, Shape::galley(pos, galley, color(run.color)));
                }
                Item::Clip([x, y, w, h]) => {
                    let clip = Rect::from_min_max(at([*x, *y]), at([x + w, y + h]));
                    groups.push(Group {
                        clip: clip.intersect(rect),
                        shapes: Vec::new(),
                    });
                }
                Item::Unclip => groups.push(Group {
                    clip: rect,
                    shapes: Vec::new(),
                }),
            }
        }
        groups.retain(|g| !g.shapes.is_empty());
        PageShapes { rect, groups }
    }

    /// Paints the page where it was laid out.
    pub fn paint(&self, painter: &egui::Painter) {
        for g in &self.groups {
            painter
                .with_clip_rect(g.clip)
                .extend(g.shapes.iter().cloned());
        }
    }

    /// How many shapes the page became.
    #[cfg(test)]
    pub fn shape_count(&self) -> usize {
        self.groups.iter().map(|g| g.shapes.len()).sum()
    }
}

fn push(groups: &mut [Group], s: Shape) {
    if let Some(g) = groups.last_mut() {
        g.shapes.push(s);
    }
}

/// The bounding box of a ring: min x, min y, max x, max y.
fn ring_box(r: &Points) -> [f32; 4] {
    r.iter().fold(
        [f32::MAX, f32::MAX, f32::MIN, f32::MIN],
        |[x0, y0, x1, y1], p| [x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1])],
    )
}

/// Whether `p` lies inside `ring` (even-odd).
fn inside(ring: &Points, p: [f32; 2]) -> bool {
    let mut c = false;
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            c = !c;
        }
    }
    c
}

/// One fill's rings as a mesh: each outer ring with the rings after it that lie inside it
/// (its holes), cut into triangles.
fn fill_mesh(
    earcut: &mut earcut::Earcut<f32>,
    rings: &[Points],
    c: Color32,
    at: &impl Fn([f32; 2]) -> Pos2,
) -> epaint::Mesh {
    let mut mesh = epaint::Mesh::default();
    let mut triangles: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < rings.len() {
        let outer = &rings[i];
        let b = ring_box(outer);
        let mut j = i + 1;
        while j < rings.len() {
            let h = ring_box(&rings[j]);
            let within = h[0] >= b[0] && h[1] >= b[1] && h[2] <= b[2] && h[3] <= b[3];
            if !(within && inside(outer, rings[j][0])) {
                break;
            }
            j += 1;
        }
        let mut holes: Vec<u32> = Vec::new();
        let mut points: Vec<[f32; 2]> = Vec::new();
        for (k, r) in rings[i..j].iter().enumerate() {
            if k > 0 {
                holes.push(points.len() as u32);
            }
            points.extend(r.iter().copied());
        }
        earcut.earcut(points.iter().copied(), &holes, &mut triangles);
        let base = mesh.vertices.len() as u32;
        for p in &points {
            mesh.colored_vertex(at(*p), c);
        }
        mesh.indices.extend(triangles.iter().map(|t| base + t));
        i = j;
    }
    mesh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_with_a_hole_is_cut_into_triangles_around_it() {
        let outer = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let hole = vec![[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0]];
        // A concave L beside it.
        let l = vec![
            [20.0, 0.0],
            [30.0, 0.0],
            [30.0, 2.0],
            [22.0, 2.0],
            [22.0, 10.0],
            [20.0, 10.0],
        ];
        let mut ec = earcut::Earcut::new();
        let at = |p: [f32; 2]| Pos2::new(p[0], p[1]);
        let m = fill_mesh(&mut ec, &[outer, hole, l], Color32::RED, &at);
        let area: f32 = m
            .indices
            .chunks_exact(3)
            .map(|t| {
                let [a, b, c] = [t[0], t[1], t[2]].map(|i| m.vertices[i as usize].pos);
                ((b - a).x * (c - a).y - (b - a).y * (c - a).x).abs() / 2.0
            })
            .sum();
        // 100 - 4 for the square with its hole, 20 + 16 for the L.
        assert!((area - (96.0 + 36.0)).abs() < 1e-3, "{area}");
    }
}
