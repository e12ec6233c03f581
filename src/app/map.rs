//! The map canvas: camera (pan, zoom at the cursor), the picture the `render` thread drew
//! (moved and scaled to the camera until the next one arrives), the selection, a scale bar,
//! and picking.

use std::sync::Arc;

use eframe::egui::{self, Color32, Pos2, Rect, Sense, Shape, Stroke, pos2, vec2};

use soilrisk::geom::boxes::{bounds, rects_meet};
use soilrisk::geom::rings::{point_in_multi_polygon, point_in_polygon};

use super::render::{MapScene, Palette, RenderRequest, Renderer};
use super::style::{self, LayerStyle};

/// What the map shows where: the centre of the view in map units and map units per point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub center: [f64; 2],
    pub scale: f64,
}

impl Default for Camera {
    fn default() -> Self {
        Camera {
            center: [0.0, 0.0],
            scale: 1.0,
        }
    }
}

impl Camera {
    /// A camera showing `bbox` (map units) in `screen`, with a margin.
    pub fn fit(bbox: &geo::Rect<f64>, screen: Rect) -> Camera {
        let w = bbox.width().max(1.0) / f64::from(screen.width().max(1.0));
        let h = bbox.height().max(1.0) / f64::from(screen.height().max(1.0));
        Camera {
            center: [bbox.center().x, bbox.center().y],
            scale: w.max(h) * 1.08,
        }
    }

    pub fn to_screen(self, screen: Rect, x: f64, y: f64) -> Pos2 {
        let c = screen.center();
        pos2(
            c.x + ((x - self.center[0]) / self.scale) as f32,
            c.y - ((y - self.center[1]) / self.scale) as f32,
        )
    }

    pub fn to_world(self, screen: Rect, p: Pos2) -> [f64; 2] {
        let c = screen.center();
        [
            self.center[0] + f64::from(p.x - c.x) * self.scale,
            self.center[1] - f64::from(p.y - c.y) * self.scale,
        ]
    }

    /// Zooms by `factor` (>1 zooms in) keeping the map point under `at` where it is.
    pub fn zoom_at(&mut self, screen: Rect, at: Pos2, factor: f64) {
        let before = self.to_world(screen, at);
        self.scale = (self.scale / factor).clamp(1e-4, 1e7);
        let after = self.to_world(screen, at);
        self.center[0] += before[0] - after[0];
        self.center[1] += before[1] - after[1];
    }

    /// The part of the map in view, in map units.
    pub fn view(&self, screen: Rect) -> geo::Rect<f64> {
        let a = self.to_world(screen, screen.left_top());
        let b = self.to_world(screen, screen.right_bottom());
        geo::Rect::new((a[0], a[1]), (b[0], b[1]))
    }
}

/// Something on the map a user can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Index into `Analysis::parcel_info`.
    Parcel(usize),
    /// Index into `Analysis::risk_areas`.
    Risk(usize),
    /// On the change map of a comparison: an after-year parcel (index into the after year's
    /// `parcel_info`).
    After(usize),
    /// On the change map: a before-year parcel that was removed (index into the before
    /// year's `parcel_info`).
    Removed(usize),
}

/// What happened on the map this frame.
#[derive(Default)]
pub struct MapEvents {
    pub clicked: Option<Option<Pick>>,
    pub hover_world: Option<[f64; 2]>,
}

/// The parcel under a map point, else the risk area (highest class first). Nothing in a
/// preview. On the change map, the after year's parcel, else a removed one where it was
/// (no risk area).
pub fn pick(scene: &MapScene, at: [f64; 2], layers: LayerStyle) -> Option<Pick> {
    let a = scene.analysis.as_deref()?;
    let p = geo::Coord { x: at[0], y: at[1] };
    let changes = scene.palette == Palette::Changes;
    if layers.show_parcels {
        for i in scene.parcels_at(at[0], at[1]) {
            let g = &a.parcels.features[a.parcel_info[i as usize].feature].geometry;
            if point_in_multi_polygon(p, g) {
                let i = i as usize;
                return Some(if changes {
                    Pick::After(i)
                } else {
                    Pick::Parcel(i)
                });
            }
        }
        for k in scene.removed_at(at[0], at[1]) {
            if scene
                .removed_geometry(k as usize)
                .is_some_and(|g| point_in_multi_polygon(p, g))
            {
                return Some(Pick::Removed(k as usize));
            }
        }
    }
    // The change map's risk areas are the after year's, which the inspector (of the loaded
    // year) does not show: only parcels are picked there.
    if layers.show_risk && !changes {
        let r = geo::Rect::new(p, p);
        let mut best: Option<usize> = None;
        for f in a.map.faces_near(&r) {
            let face = &a.map.faces[f as usize];
            if !point_in_polygon(p, &face.polygon) {
                continue;
            }
            for &ri in &face.risks {
                let ri = ri as usize;
                let better = best.is_none_or(|b| {
                    (
                        a.risk_areas[ri].class,
                        std::cmp::Reverse(&a.risk_areas[ri].id),
                    ) > (
                        a.risk_areas[b].class,
                        std::cmp::Reverse(&a.risk_areas[b].id),
                    )
                });
                if better {
                    best = Some(ri);
                }
            }
        }
        return best.map(Pick::Risk);
    }
    None
}

/// Draws the map into the remaining space of `ui` and handles its input.
pub fn show(
    ui: &mut egui::Ui,
    cam: &mut Camera,
    fit_pending: &mut bool,
    scene: Option<&Arc<MapScene>>,
    renderer: &mut Renderer,
    style_: LayerStyle,
    selected: Option<&geo::MultiPolygon<f64>>,
) -> MapEvents {
    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    let screen = response.rect;
    // The background, where the picture (opaque) leaves the map uncovered: set below. Where
    // the window is drawn in software, each layer of paint over the map costs CPU every frame.
    let background = painter.add(egui::Shape::Noop);
    let fill_background = || {
        painter.set(
            background,
            egui::Shape::rect_filled(screen, 0.0, style::MAP_BACKGROUND),
        )
    };
    let mut events = MapEvents::default();
    let Some(scene) = scene else {
        fill_background();
        return events;
    };
    // A preview (layers still being analysed) can be looked at, not picked from.
    let a = scene.analysis.as_deref();
    if *fit_pending && let Some(e) = scene.extent {
        *cam = Camera::fit(&e, screen);
        *fit_pending = false;
    }

    // Input: drag pans, wheel and pinch zoom at the cursor, double-click zooms in, +/- zoom.
    if response.dragged() {
        let d = response.drag_delta();
        cam.center[0] -= f64::from(d.x) * cam.scale;
        cam.center[1] += f64::from(d.y) * cam.scale;
    }
    let hover = response.hover_pos();
    if let Some(at) = hover {
        let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        if scroll != 0.0 {
            cam.zoom_at(screen, at, (f64::from(scroll) * 0.0015).exp());
        }
        if pinch != 1.0 {
            cam.zoom_at(screen, at, f64::from(pinch));
        }
        events.hover_world = Some(cam.to_world(screen, at));
    }
    if response.double_clicked()
        && let Some(at) = response.interact_pointer_pos()
    {
        cam.zoom_at(screen, at, 2.0);
    } else if response.clicked()
        && let Some(at) = response.interact_pointer_pos()
    {
        events.clicked = Some(pick(scene, cam.to_world(screen, at), style_));
    }
    if response.hovered() {
        let (plus, minus) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Plus) || i.key_pressed(egui::Key::Equals),
                i.key_pressed(egui::Key::Minus),
            )
        });
        if plus {
            cam.zoom_at(screen, screen.center(), 2.0);
        }
        if minus {
            cam.zoom_at(screen, screen.center(), 0.5);
        }
    }

    // The picture: ask for the view as it is now, draw the latest one where its part of the
    // map now lies on screen.
    let ppp = ui.ctx().pixels_per_point();
    if screen.is_positive() {
        renderer.request(
            scene,
            RenderRequest {
                view: cam.view(screen),
                width: (screen.width() * ppp).round().max(1.0) as u32,
                height: (screen.height() * ppp).round().max(1.0) as u32,
                pixels_per_point: ppp,
                style: style_,
            },
        );
    }
    renderer.poll(ui.ctx());
    match renderer.shown() {
        Some((texture, view, _)) => {
            let rect = Rect::from_two_pos(
                cam.to_screen(screen, view.min().x, view.max().y),
                cam.to_screen(screen, view.max().x, view.min().y),
            );
            let uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
            // Half a pixel of slack for rounding: the picture of the view on screen covers it.
            if !rect.expand(0.5 / ppp).contains_rect(screen) {
                fill_background();
            }
            painter
                .with_clip_rect(screen)
                .image(texture, rect, uv, Color32::WHITE);
        }
        None => {
            fill_background();
            painter.text(
                screen.center(),
                egui::Align2::CENTER_CENTER,
                renderer.error.as_deref().unwrap_or("drawing the map…"),
                egui::FontId::proportional(14.0),
                Color32::DARK_GRAY,
            );
        }
    }
    if style_.show_regions {
        region_labels(&painter, cam, screen, scene, style_.region_opacity);
    }
    if let Some(g) = selected {
        outline(&painter, cam, screen, g, Stroke::new(3.0, style::SELECTION));
    }
    scale_bar(&painter, screen, cam.scale);

    if let Some(at) = events.hover_world
        && let Some(a) = a
        && let Some(p) = pick(scene, at, style_)
    {
        let text = match p {
            Pick::Parcel(i) | Pick::After(i) => {
                format!("parcel {} · {}", a.parcel_info[i].id, scene.parcel_label(i))
            }
            Pick::Removed(k) => format!(
                "parcel {} · {}",
                scene
                    .before
                    .as_ref()
                    .map_or_else(String::new, |b| b.parcel_info[k].id.to_string()),
                soilrisk::compare::ChangeKind::Removed.chinese()
            ),
            Pick::Risk(i) => format!(
                "risk area {} · class {}",
                a.risk_areas[i].id,
                a.risk_areas[i].class.roman()
            ),
        };
        response.on_hover_text_at_pointer(text);
    }
    events
}

/// The regions' names at a point inside each, with a light halo, over the picture.
fn region_labels(
    painter: &egui::Painter,
    cam: &Camera,
    screen: Rect,
    scene: &MapScene,
    opacity: f32,
) {
    let font = egui::FontId::proportional(style::REGION_LABEL_SIZE);
    let ink = style::REGION_LABEL.gamma_multiply(opacity.clamp(0.0, 1.0));
    let halo = Color32::from_white_alpha((200.0 * opacity.clamp(0.0, 1.0)) as u8);
    for (name, at) in &scene.region_labels {
        let p = cam.to_screen(screen, at[0], at[1]);
        if !screen.contains(p) || name.is_empty() {
            continue;
        }
        for d in [[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]] {
            painter.text(
                p + egui::vec2(d[0], d[1]),
                egui::Align2::CENTER_CENTER,
                name,
                font.clone(),
                halo,
            );
        }
        painter.text(p, egui::Align2::CENTER_CENTER, name, font.clone(), ink);
    }
}

fn outline(
    painter: &egui::Painter,
    cam: &Camera,
    screen: Rect,
    g: &geo::MultiPolygon<f64>,
    stroke: Stroke,
) {
    if let Some(b) = bounds(g)
        && !rects_meet(&b, &cam.view(screen))
    {
        return;
    }
    for p in &g.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            let pts: Vec<Pos2> = ring
                .0
                .iter()
                .map(|c| cam.to_screen(screen, c.x, c.y))
                .collect();
            painter.add(Shape::line(pts, stroke));
        }
    }
}

/// The length for a scale bar at most `max_m` long: 1, 2 or 5 times a power of ten.
pub fn nice_length(max_m: f64) -> f64 {
    if max_m <= 0.0 || !max_m.is_finite() {
        return 0.0;
    }
    let p = 10f64.powf(max_m.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|k| k * p)
        .find(|&l| l <= max_m)
        .unwrap_or(p)
}

fn scale_bar(painter: &egui::Painter, screen: Rect, scale: f64) {
    let len_m = nice_length(120.0 * scale);
    let len_px = (len_m / scale) as f32;
    let start = pos2(screen.left() + 16.0, screen.bottom() - 18.0);
    let end = start + vec2(len_px, 0.0);
    let stroke = Stroke::new(2.0, Color32::BLACK);
    painter.line_segment([start, end], stroke);
    painter.line_segment([start, start - vec2(0.0, 6.0)], stroke);
    painter.line_segment([end, end - vec2(0.0, 6.0)], stroke);
    let label = if len_m >= 1000.0 {
        format!("{} km", len_m / 1000.0)
    } else {
        format!("{len_m} m")
    };
    painter.text(
        start + vec2(len_px / 2.0, -8.0),
        egui::Align2::CENTER_BOTTOM,
        label,
        egui::FontId::proportional(12.0),
        Color32::BLACK,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_bar_lengths() {
        assert_eq!(nice_length(120.0), 100.0);
        assert_eq!(nice_length(260.0), 200.0);
        assert_eq!(nice_length(7_300.0), 5_000.0);
        assert_eq!(nice_length(0.0), 0.0);
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let screen = Rect::from_min_size(pos2(0.0, 0.0), vec2(800.0, 600.0));
        let mut cam = Camera {
            center: [500_000.0, 3_300_000.0],
            scale: 10.0,
        };
        let at = pos2(100.0, 500.0);
        let before = cam.to_world(screen, at);
        cam.zoom_at(screen, at, 4.0);
        let after = cam.to_world(screen, at);
        assert!((before[0] - after[0]).abs() < 1e-6 && (before[1] - after[1]).abs() < 1e-6);
        assert_eq!(cam.scale, 2.5);
        let p = cam.to_screen(screen, before[0], before[1]);
        assert!((p - at).length() < 1e-3);
    }
}
