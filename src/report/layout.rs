//! The report's pages, laid out: what every page draws from (`Ctx`, the palette, the maps,
//! the legend, tables), the cover and the county table, and `build`, which puts them
//! together with the pages of year over year (`years`) and of each region (`region`).
//! Positions are mm from the page's top-left corner; text sizes are points.

use std::collections::HashMap;

use geo::{BoundingRect, Intersects, MultiPolygon, Rect};
use rayon::prelude::*;

use super::footprint::Footprints;
use super::map::{MIN_CELL_COVER, MapLayer, MapView, north_arrow, outlines, scale_bar};
use super::page::{A4, Item, Page, Rgb};
use super::text::{Anchor, Fonts};
use super::{Input, Report, ReportOptions, cancelled};
use crate::compare::ParcelState;
use crate::geom::boxes::union_rect;
use crate::pipeline::{Control, Phase};
use crate::stats::{M2_PER_MU, PriorityParcel, RegionSummary};
use crate::table::{COLUMNS, Column, Kind, Row, RowKind, rows, rows_compared};
use crate::vocab::RiskClass;

/// Risk areas by class (`RiskClass::index`): light to dark, so that a grey print tells them
/// apart, and lighter than every parcel status drawn over them.
pub const CLASS_COLORS: [Rgb; 3] = [Rgb(255, 235, 160), Rgb(245, 180, 100), Rgb(215, 120, 110)];
/// Parcels by status (`ParcelState::ALL`'s order), light to dark.
pub const STATUS_COLORS: [Rgb; 4] = [
    Rgb(200, 225, 190),
    Rgb(60, 130, 190),
    Rgb(120, 60, 150),
    Rgb(110, 20, 20),
];
/// Changed parcels by kind (`ChangeKind::ALL`'s order), each of its own lightness.
pub const CHANGE_COLORS: [Rgb; 7] = [
    Rgb(60, 170, 90),
    Rgb(235, 140, 50),
    Rgb(130, 70, 170),
    Rgb(40, 40, 40),
    Rgb(245, 215, 60),
    Rgb(140, 190, 235),
    Rgb(160, 40, 40),
];
/// The status names of the legend, in `ParcelState::ALL`'s order.
pub const STATUS_LABELS: [&str; 4] = ["无风险耕地", "已落实", "部分落实", "未落实"];

pub(super) const TEXT: Rgb = Rgb(20, 20, 20);
pub(super) const GREY: Rgb = Rgb(110, 110, 110);
pub(super) const RULE: Rgb = Rgb(170, 170, 170);
pub(super) const MAP_BACKGROUND: Rgb = Rgb(250, 250, 247);
pub(super) const BOUNDARY: Rgb = Rgb(90, 70, 140);
/// The risk areas behind the change map.
pub(super) const RISK_GREY: Rgb = Rgb(222, 222, 222);
pub(super) const BAR: Rgb = Rgb(70, 110, 150);
pub(super) const TARGET: Rgb = Rgb(200, 30, 30);
pub(super) const SUBTOTAL_FILL: Rgb = Rgb(236, 236, 236);
pub(super) const TOTAL_FILL: Rgb = Rgb(215, 215, 215);
pub(super) const RISK_OUTLINE: (Rgb, f32) = (Rgb(160, 120, 70), 0.1);
pub(super) const PARCEL_OUTLINE: (Rgb, f32) = (Rgb(50, 50, 50), 0.08);

pub(super) const LEFT: f32 = 15.0;
pub(super) const WIDTH: f32 = 180.0;
pub(super) const FOOTER_Y: f32 = 289.0;
/// The lowest baseline of a page's content.
pub(super) const BOTTOM: f32 = 280.0;
pub(super) const ROW_H: f32 = 4.6;

/// The province map's frame on the cover.
pub const COVER_MAP: [f32; 4] = [LEFT, 80.0, WIDTH, 110.0];
/// A region's map frame on its page.
pub const REGION_MAP: [f32; 4] = [LEFT, 66.0, WIDTH, 138.0];
/// The change map's frame.
pub const CHANGE_MAP: [f32; 4] = [LEFT, 40.0, WIDTH, 200.0];

/// What every page of one report draws from.
pub(super) struct Ctx<'a> {
    pub(super) input: &'a Input<'a>,
    pub(super) opts: &'a ReportOptions,
    pub(super) fonts: &'a Fonts,
    pub(super) rows: Vec<Row>,
    pub(super) geographic: bool,
    /// Bounds of each kept parcel and of each risk area.
    pub(super) parcel_bounds: Vec<Option<Rect<f64>>>,
    pub(super) risk_bounds: Vec<Option<Rect<f64>>>,
    pub(super) states: Vec<ParcelState>,
    /// The region (index into `Analysis::regions`) of each kept parcel.
    pub(super) kept_region: Vec<u32>,
    /// Bounds of each boundary feature.
    pub(super) boundary_bounds: Vec<Option<Rect<f64>>>,
    /// Whether a kept parcel has no risk (the legend then lists the status).
    pub(super) any_no_risk: bool,
    /// The parcels drawn from their footprint (`Input::footprints`): those not at risk, in
    /// layer order (indices into `Analysis::tally`).
    pub(super) land: Vec<u32>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(input: &'a Input<'a>, opts: &'a ReportOptions, fonts: &'a Fonts) -> Ctx<'a> {
        let a = input.analysis;
        let rows = match input.compare {
            Some(c) => rows_compared(c.summary),
            None => rows(input.summary),
        };
        Ctx {
            input,
            opts,
            fonts,
            rows,
            geographic: a.crs.as_ref().is_some_and(|c| c.is_geographic()),
            parcel_bounds: a
                .parcel_info
                .par_iter()
                .map(|p| a.parcels.features[p.feature].geometry.bounding_rect())
                .collect(),
            risk_bounds: a
                .risk_areas
                .par_iter()
                .map(|r| a.risk.features[r.feature].geometry.bounding_rect())
                .collect(),
            states: a
                .parcel_results
                .iter()
                .map(|r| ParcelState::of(r, r.treated_m2))
                .collect(),
            land: Vec::new(),
            kept_region: {
                let mut out = vec![0; a.parcel_info.len()];
                for t in &a.tally {
                    if let Some(k) = t.kept() {
                        out[k] = t.region;
                    }
                }
                out
            },
            boundary_bounds: a.boundaries.as_ref().map_or_else(Vec::new, |b| {
                b.layer
                    .features
                    .iter()
                    .map(|f| f.geometry.bounding_rect())
                    .collect()
            }),
            any_no_risk: false,
        }
        .with_land()
    }

    /// Finds the parcels to draw from their footprints: those not kept, and those kept
    /// without risk (`KeepParcels::Shapes` keeps them without geometry).
    pub(super) fn with_land(mut self) -> Self {
        let a = self.input.analysis;
        self.any_no_risk = self.states.contains(&ParcelState::NoRisk);
        if let Some(fp) = self.footprints() {
            self.land = (0..fp.len() as u32)
                .filter(|&i| {
                    a.tally[i as usize]
                        .kept()
                        .is_none_or(|k| self.states[k] == ParcelState::NoRisk)
                })
                .collect();
        }
        self
    }

    /// The footprints, where they are the analysis' parcels (one per parcel).
    pub(super) fn footprints(&self) -> Option<&'a Footprints> {
        self.input
            .footprints
            .filter(|f| f.len() == self.input.analysis.tally.len())
    }

    pub(super) fn text(
        &self,
        page: &mut Page,
        s: &str,
        at: [f32; 2],
        size: f32,
        anchor: Anchor,
        color: Rgb,
    ) {
        page.items
            .push(Item::Text(self.fonts.run(s, at, size, anchor, color)));
    }

    /// The region (an index into `Analysis::regions`) of a `by_region` row: its name and
    /// its code (two counties of one name differ by code).
    pub(super) fn region_index(&self, name: &str, code: Option<&str>) -> Option<u32> {
        let a = self.input.analysis;
        (0..a.regions.len())
            .find(|&i| &*a.regions[i] == name && a.region_code(i) == code)
            .map(|i| i as u32)
    }

    /// The kept parcels of each region, in layer order.
    pub(super) fn parcels_by_region(&self) -> HashMap<u32, Vec<usize>> {
        let mut out: HashMap<u32, Vec<usize>> = HashMap::new();
        for (k, &r) in self.kept_region.iter().enumerate() {
            out.entry(r).or_default().push(k);
        }
        out
    }

    /// The boundary features of the region named `name` (with `code`, where it has one).
    pub(super) fn boundary_features(&self, name: &str, code: Option<&str>) -> Vec<usize> {
        self.input
            .analysis
            .boundaries
            .as_ref()
            .map(|b| {
                (0..b.names.len())
                    .filter(|&f| {
                        &*b.names[f] == name
                            && code.is_none_or(|c| b.codes[f].as_deref() == Some(c))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The view of a region's map: its parcels (kept, and `land`'s footprints) and its
    /// boundary features (`focus`).
    pub(super) fn region_view(
        &self,
        parcels: &[usize],
        land: &[u32],
        focus: &[usize],
    ) -> Option<MapView> {
        let a = self.input.analysis;
        let extent = [
            bounds_of(
                parcels
                    .iter()
                    .map(|&k| &a.parcels.features[a.parcel_info[k].feature].geometry),
            ),
            a.boundaries
                .as_ref()
                .and_then(|b| bounds_of(focus.iter().map(|&f| &b.layer.features[f].geometry))),
            self.footprints().and_then(|fp| {
                land.iter()
                    .filter_map(|&i| fp.bounds(i as usize))
                    .reduce(union_rect)
            }),
        ]
        .into_iter()
        .flatten()
        .reduce(union_rect)?;
        MapView::fit(REGION_MAP, extent, self.geographic)
    }

    /// The land parcels (footprints) of each region.
    pub(super) fn land_by_region(&self) -> HashMap<u32, Vec<u32>> {
        let a = self.input.analysis;
        let mut out: HashMap<u32, Vec<u32>> = HashMap::new();
        for &i in &self.land {
            out.entry(a.tally[i as usize].region).or_default().push(i);
        }
        out
    }

    /// Draws the map of `view`: risk areas by class, parcels by status, boundaries (the
    /// focus region's thicker), frame, scale bar and north arrow.
    pub(super) fn map(&self, page: &mut Page, view: &MapView, focus: &[usize]) {
        let a = self.input.analysis;
        let world = view.world();
        page.rect(view.rect, MAP_BACKGROUND);
        page.items.push(Item::Clip(view.rect));
        let mut risk = MapLayer::new(
            view,
            CLASS_COLORS.to_vec(),
            Some(RISK_OUTLINE),
            MIN_CELL_COVER,
        );
        for (r, b) in a.risk_areas.iter().zip(&self.risk_bounds) {
            if b.is_some_and(|b| b.intersects(&world)) {
                risk.add(view, &a.risk.features[r.feature].geometry, r.class.index());
            }
        }
        risk.draw(view, page);
        if let Some(fp) = self.footprints() {
            let mut land = MapLayer::new(view, vec![STATUS_COLORS[0]], Some(PARCEL_OUTLINE), 0.0);
            for &i in &self.land {
                if fp.bounds(i as usize).is_some_and(|b| b.intersects(&world)) {
                    land.add(view, &MultiPolygon(vec![fp.polygon(i as usize)]), 0);
                }
            }
            land.draw(view, page);
        }
        let mut parcels = MapLayer::new(view, STATUS_COLORS.to_vec(), Some(PARCEL_OUTLINE), 0.0);
        for (k, b) in self.parcel_bounds.iter().enumerate() {
            if b.is_some_and(|b| b.intersects(&world)) {
                let geom = &a.parcels.features[a.parcel_info[k].feature].geometry;
                parcels.add(view, geom, self.states[k] as usize);
            }
        }
        parcels.draw(view, page);
        if let Some(bd) = &a.boundaries {
            let feats = &bd.layer.features;
            let seen = feats
                .iter()
                .zip(&self.boundary_bounds)
                .filter(|(_, b)| b.is_some_and(|b| b.intersects(&world)))
                .map(|(f, _)| &f.geometry);
            outlines(view, seen, BOUNDARY, 0.25, page);
            outlines(
                view,
                focus.iter().map(|&f| &feats[f].geometry),
                BOUNDARY,
                0.7,
                page,
            );
        }
        page.items.push(Item::Unclip);
        page.frame(view.rect, TEXT, 0.3);
        scale_bar(view, self.fonts, page);
        north_arrow(view, self.fonts, page);
    }

    /// The map of `view` in `frame`, or where there is nothing to draw, the empty frame
    /// with `note` in it.
    pub(super) fn map_or_say(
        &self,
        page: &mut Page,
        frame: [f32; 4],
        view: Option<MapView>,
        focus: &[usize],
        note: &str,
    ) {
        match view {
            Some(view) => self.map(page, &view, focus),
            None => {
                page.frame(frame, RULE, 0.3);
                let centre = [frame[0] + frame[2] / 2.0, frame[1] + frame[3] / 2.0];
                self.text(page, note, centre, 9.0, Anchor::Center, GREY);
            }
        }
    }

    /// The legend under a map at `y`: the classes, the statuses drawn, the boundary.
    pub(super) fn legend(&self, page: &mut Page, y: f32) {
        let mut entries: Vec<(Rgb, String)> = RiskClass::ALL
            .iter()
            .map(|c| (CLASS_COLORS[c.index()], format!("{}区域", c.chinese())))
            .collect();
        for (i, s) in ParcelState::ALL.iter().enumerate() {
            if *s != ParcelState::NoRisk || self.any_no_risk || self.footprints().is_some() {
                entries.push((STATUS_COLORS[i], format!("图斑：{}", STATUS_LABELS[i])));
            }
        }
        let mut x = LEFT;
        let mut y = y;
        let boundary = self.input.analysis.boundaries.is_some();
        for (color, label) in entries {
            let w = 7.0 + self.fonts.width(&label, 6.5) + 4.0;
            if x + w > LEFT + WIDTH {
                x = LEFT;
                y += 4.5;
            }
            page.rect([x, y - 2.6, 5.0, 3.0], color);
            page.frame([x, y - 2.6, 5.0, 3.0], GREY, 0.1);
            self.text(page, &label, [x + 6.5, y], 6.5, Anchor::Left, TEXT);
            x += w;
        }
        if boundary {
            page.line([x, y - 1.1], [x + 5.0, y - 1.1], BOUNDARY, 0.6);
            self.text(page, "行政区界线", [x + 6.5, y], 6.5, Anchor::Left, TEXT);
        }
    }

    /// A table of `columns` over `rows` starting at `y`, on as many pages as it takes (the
    /// header repeated); the first page is `page`, the rest are pushed to `more`.
    pub(super) fn table(
        &self,
        mut page: Page,
        mut y: f32,
        columns: &[&Column],
        widths: &[f32],
        rows: &[&Row],
        more: &mut Vec<Page>,
    ) -> Page {
        let size = 6.5;
        let header_lines: Vec<Vec<String>> = columns
            .iter()
            .zip(widths)
            .map(|(c, w)| self.fonts.wrap(c.header, size, w - 1.5))
            .collect();
        let header_h = header_lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * 3.0 + 2.0;
        let header = |page: &mut Page, y: f32| {
            page.rect([LEFT, y, WIDTH, header_h], TOTAL_FILL);
            let mut x = LEFT;
            for (lines, w) in header_lines.iter().zip(widths) {
                for (i, l) in lines.iter().enumerate() {
                    self.text(
                        page,
                        l,
                        [x + w / 2.0, y + 3.4 + i as f32 * 3.0],
                        size,
                        Anchor::Center,
                        TEXT,
                    );
                }
                x += w;
            }
            y + header_h
        };
        y = header(&mut page, y);
        for row in rows {
            if y + ROW_H > BOTTOM {
                more.push(std::mem::take(&mut page));
                y = header(&mut page, 20.0);
            }
            match row.kind {
                RowKind::Subtotal => page.rect([LEFT, y, WIDTH, ROW_H], SUBTOTAL_FILL),
                RowKind::Total => page.rect([LEFT, y, WIDTH, ROW_H], TOTAL_FILL),
                RowKind::Region => {}
            }
            let mut x = LEFT;
            for (c, w) in columns.iter().zip(widths) {
                let t = self.fonts.fit(&c.text(row), 7.0, w - 1.5);
                let (at, anchor) = match c.kind {
                    Kind::Text => ([x + 0.8, y + 3.3], Anchor::Left),
                    _ => ([x + w - 0.8, y + 3.3], Anchor::Right),
                };
                self.text(&mut page, &t, at, 7.0, anchor, TEXT);
                x += w;
            }
            y += ROW_H;
            page.line([LEFT, y], [LEFT + WIDTH, y], RULE, 0.1);
        }
        page
    }
}

pub(super) fn mu(m2: f64) -> String {
    format!("{:.2}", m2 / M2_PER_MU + 0.0)
}

pub(super) fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{:.2}%", r * 100.0 + 0.0))
}

/// A change of rate in percentage points, signed.
pub(super) fn points(d: Option<f64>) -> String {
    d.map_or_else(
        || "-".to_string(),
        |d| format!("{:+.2} 个百分点", d * 100.0 + 0.0),
    )
}

/// The bounds of some geometries, where there are any.
pub(super) fn bounds_of<'g>(
    geoms: impl Iterator<Item = &'g MultiPolygon<f64>>,
) -> Option<Rect<f64>> {
    geoms.filter_map(|g| g.bounding_rect()).reduce(union_rect)
}

/// The box round everything a map of the whole shows: every parcel, risk area and region
/// boundary.
pub(super) fn extent_of(input: &Input<'_>) -> Option<Rect<f64>> {
    let a = input.analysis;
    let parcels = bounds_of(
        a.parcel_info
            .iter()
            .map(|p| &a.parcels.features[p.feature].geometry),
    );
    let land = input
        .footprints
        .and_then(|f| (0..f.len()).filter_map(|i| f.bounds(i)).reduce(union_rect));
    [
        parcels,
        land,
        a.risk.extent(),
        a.boundaries.as_ref().and_then(|b| b.layer.extent()),
    ]
    .into_iter()
    .flatten()
    .reduce(union_rect)
}

/// The view of the cover's province map: every parcel, risk area and region boundary.
pub fn cover_view(input: &Input<'_>) -> Option<MapView> {
    let geographic = input
        .analysis
        .crs
        .as_ref()
        .is_some_and(|c| c.is_geographic());
    MapView::fit(COVER_MAP, extent_of(input)?, geographic)
}

/// The view of region `region`'s map on its page, as the report draws it.
pub fn region_view(input: &Input<'_>, region: &str) -> Option<MapView> {
    let opts = ReportOptions::new("", 2000);
    let fonts = Fonts::new(false);
    let ctx = Ctx::new(input, &opts, &fonts);
    let row = input
        .summary
        .by_region
        .iter()
        .find(|r| r.region == region)?;
    let index = ctx.region_index(&row.region, row.code.as_deref())?;
    let parcels = ctx.parcels_by_region();
    let land = ctx.land_by_region();
    ctx.region_view(
        parcels.get(&index).map_or(&[][..], Vec::as_slice),
        land.get(&index).map_or(&[][..], Vec::as_slice),
        &ctx.boundary_features(&row.region, row.code.as_deref()),
    )
}

/// The cover page (also the window's preview).
pub fn cover(input: &Input<'_>, opts: &ReportOptions, fonts: &Fonts) -> Page {
    let ctx = Ctx::new(input, opts, fonts);
    cover_page(&ctx)
}

fn cover_page(ctx: &Ctx<'_>) -> Page {
    let s = ctx.input.summary;
    let mut page = Page::default();
    let mut title = ctx.fonts.wrap(&ctx.opts.title, 20.0, WIDTH);
    // Two lines at most: the second ends in "…" where the title goes on.
    if title.len() > 2 {
        let rest = title[1..].concat();
        title = vec![title[0].clone(), ctx.fonts.fit(&rest, 20.0, WIDTH)];
    }
    let mut y = 26.0;
    for line in title.iter().take(2) {
        ctx.text(
            &mut page,
            line,
            [A4[0] / 2.0, y],
            20.0,
            Anchor::Center,
            TEXT,
        );
        y += 9.0;
    }
    ctx.text(
        &mut page,
        &format!("{}年度", ctx.opts.year),
        [A4[0] / 2.0, y + 1.0],
        12.0,
        Anchor::Center,
        TEXT,
    );
    ctx.text(
        &mut page,
        &format!("编制日期：{}", ctx.opts.date.chinese()),
        [A4[0] / 2.0, y + 7.0],
        8.0,
        Anchor::Center,
        GREY,
    );
    // The rate against the target, large, and B, C, D, E beside it.
    let y0 = 56.0;
    ctx.text(
        &mut page,
        "受污染耕地安全利用率",
        [LEFT, y0],
        8.0,
        Anchor::Left,
        GREY,
    );
    let rate = match s.safe_utilization_rate {
        Some(r) => pct(Some(r)),
        None => "无受污染耕地".to_string(),
    };
    ctx.text(
        &mut page,
        &rate,
        [LEFT, y0 + 12.0],
        28.0,
        Anchor::Left,
        TEXT,
    );
    ctx.text(
        &mut page,
        &format!(
            "目标 {}　距目标缺口 {} 亩",
            pct(Some(s.target_rate)),
            mu(s.gap_to_target_m2)
        ),
        [LEFT, y0 + 18.0],
        8.0,
        Anchor::Left,
        TEXT,
    );
    let figures = [
        ("受污染耕地 E", s.contaminated_area_m2),
        ("优先保护类已落实 B", s.priority_treated_area_m2),
        ("安全利用类已落实且达标 C", s.safe_use_treated_area_m2),
        ("严格管控类已落实 D", s.strict_control_treated_area_m2),
    ];
    for (i, (label, m2)) in figures.iter().enumerate() {
        let x = 92.0 + (i % 2) as f32 * 52.0;
        let y = y0 + (i / 2) as f32 * 10.0;
        ctx.text(&mut page, label, [x, y], 6.5, Anchor::Left, GREY);
        ctx.text(
            &mut page,
            &format!("{} 亩", mu(*m2)),
            [x, y + 5.0],
            10.0,
            Anchor::Left,
            TEXT,
        );
    }
    ctx.map_or_say(
        &mut page,
        COVER_MAP,
        cover_view(ctx.input),
        &[],
        "没有可绘制的要素",
    );
    ctx.legend(&mut page, COVER_MAP[1] + COVER_MAP[3] + 5.0);
    region_chart(ctx, &mut page, 206.0);
    page
}

/// The regions' rates as bars with the target as a line, in one or two columns.
fn region_chart(ctx: &Ctx<'_>, page: &mut Page, y0: f32) {
    let s = ctx.input.summary;
    ctx.text(
        page,
        "各行政区安全利用率",
        [LEFT, y0],
        9.0,
        Anchor::Left,
        TEXT,
    );
    let regions: Vec<&Row> = ctx
        .rows
        .iter()
        .filter(|r| r.kind == RowKind::Region)
        .collect();
    if regions.is_empty() {
        ctx.text(page, "无行政区", [LEFT, y0 + 7.0], 8.0, Anchor::Left, GREY);
        return;
    }
    let cols = if regions.len() > 16 { 2 } else { 1 };
    let per_col = regions.len().div_ceil(cols);
    let top = y0 + 4.0;
    let row_h = ((BOTTOM - top) / per_col as f32).min(5.0);
    let size = (row_h * 0.62 / super::page::MM_PER_PT).min(7.0);
    let col_w = WIDTH / cols as f32;
    let (label_w, value_w) = (30.0, 15.0);
    let bar_w = col_w - label_w - value_w - 3.0;
    for (i, r) in regions.iter().enumerate() {
        let (c, k) = (i / per_col, i % per_col);
        let x = LEFT + c as f32 * col_w;
        let y = top + k as f32 * row_h;
        let base = y + row_h * 0.75;
        let name = ctx.fonts.fit(&r.name, size, label_w - 1.0);
        ctx.text(
            page,
            &name,
            [x + label_w - 1.0, base],
            size,
            Anchor::Right,
            TEXT,
        );
        let bx = x + label_w;
        page.rect(
            [bx, y + row_h * 0.15, bar_w, row_h * 0.7],
            Rgb(240, 240, 240),
        );
        if let Some(rate) = r.rate {
            let w = bar_w * rate.clamp(0.0, 1.0) as f32;
            page.rect([bx, y + row_h * 0.15, w, row_h * 0.7], BAR);
        }
        let tx = bx + bar_w * s.target_rate.clamp(0.0, 1.0) as f32;
        page.line([tx, y], [tx, y + row_h], TARGET, 0.3);
        let value = match r.rate {
            Some(_) => pct(r.rate),
            None => "无受污染".to_string(),
        };
        ctx.text(
            page,
            &value,
            [bx + bar_w + 1.0, base],
            size,
            Anchor::Left,
            TEXT,
        );
    }
    let note = format!("红线：目标 {}", pct(Some(s.target_rate)));
    ctx.text(page, &note, [LEFT + WIDTH, y0], 6.5, Anchor::Right, TARGET);
}

/// The county table: `COLUMNS` over every row, as `tables.xlsx`'s sheet 汇总 holds it.
fn table_pages(ctx: &Ctx<'_>) -> Vec<Page> {
    let mut page = Page::default();
    ctx.text(
        &mut page,
        "表 1  各行政区受污染耕地安全利用率核算表",
        [LEFT, 20.0],
        11.0,
        Anchor::Left,
        TEXT,
    );
    ctx.text(
        &mut page,
        &format!(
            "面积单位：亩。面积口径：{}。目标 {}。",
            ctx.input.summary.area_basis,
            pct(Some(ctx.input.summary.target_rate))
        ),
        [LEFT, 26.0],
        7.0,
        Anchor::Left,
        GREY,
    );
    let columns: Vec<&Column> = COLUMNS.iter().collect();
    // One a column: a column added to `COLUMNS` fails to build here until it has a width.
    let widths: [f32; COLUMNS.len()] = [26.0, 14.0, 20.0, 19.0, 21.0, 19.0, 16.0, 12.0, 18.0, 15.0];
    let rows: Vec<&Row> = ctx.rows.iter().collect();
    let mut more = Vec::new();
    let last = ctx.table(page, 30.0, &columns, &widths, &rows, &mut more);
    more.push(last);
    more
}

/// Lays out the whole report. Region pages are laid out in parallel; progress goes to
/// `ctl` as `Phase::Report`, and a cancel ends with an `Interrupted` error.
pub fn build(input: &Input<'_>, opts: &ReportOptions, ctl: Control<'_>) -> std::io::Result<Report> {
    let fonts = Fonts::new(opts.system_fonts);
    let ctx = Ctx::new(input, opts, &fonts);
    let mut pages = vec![cover_page(&ctx)];
    pages.extend(table_pages(&ctx));
    pages.extend(super::years::compare_pages(&ctx));
    let by_region = ctx.parcels_by_region();
    let land_by_region = ctx.land_by_region();
    let priority = input.analysis.priority_parcels();
    let mut top: HashMap<u32, Vec<&PriorityParcel>> = HashMap::new();
    for p in &priority {
        let list = top.entry(ctx.kept_region[p.index]).or_default();
        if list.len() < 10 {
            list.push(p);
        }
    }
    let regions: Vec<(&Row, &RegionSummary, Option<u32>)> = ctx
        .rows
        .iter()
        .filter(|r| r.kind == RowKind::Region)
        .zip(&input.summary.by_region)
        .map(|(row, r)| (row, r, ctx.region_index(&r.region, r.code.as_deref())))
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = regions.len().max(1) as f32;
    let region_pages: Vec<Option<Page>> = regions
        .par_iter()
        .map(|(row, region, index)| {
            if ctl.cancelled() {
                return None;
            }
            let page = super::region::region_page(
                &ctx,
                row,
                region,
                index
                    .and_then(|i| by_region.get(&i))
                    .map_or(&[][..], Vec::as_slice),
                index
                    .and_then(|i| land_by_region.get(&i))
                    .map_or(&[][..], Vec::as_slice),
                index
                    .and_then(|i| top.get(&i))
                    .map_or(&[][..], Vec::as_slice),
            );
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            ctl.report(Phase::Report, n as f32 / total);
            Some(page)
        })
        .collect();
    if ctl.cancelled() {
        return Err(cancelled());
    }
    pages.extend(region_pages.into_iter().flatten());
    let n = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        // The page numbers stay whole; a long title is cut.
        let numbers = format!("　第 {} 页 / 共 {n} 页", i + 1);
        let title = fonts.fit(&opts.title, 7.0, WIDTH - fonts.width(&numbers, 7.0));
        let footer = format!("{title}{numbers}");
        page.items.push(Item::Text(fonts.run(
            &footer,
            [A4[0] / 2.0, FOOTER_Y],
            7.0,
            Anchor::Center,
            GREY,
        )));
    }
    drop(ctx);
    let mut warnings = Vec::new();
    let missing = fonts.missing();
    if !missing.is_empty() {
        let chars: Vec<String> = missing
            .iter()
            .map(|c| format!("{c} (U+{:04X})", *c as u32))
            .collect();
        let fallback = if opts.system_fonts {
            "the bundled font nor a system CJK font"
        } else {
            "the bundled font (system fonts are off)"
        };
        warnings.push(format!(
            "report: {} characters are in neither {fallback}: they are drawn as empty boxes \
             ({}); install a CJK font (Noto Sans CJK, WenQuanYi) to print them",
            missing.len(),
            chars.join(", ")
        ));
    }
    Ok(Report {
        pages,
        fonts,
        title: opts.title.clone(),
        date: opts.date,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_statuses_are_told_apart_in_grey() {
        let lumas = |cs: &[Rgb]| cs.iter().map(|c| c.luma()).collect::<Vec<_>>();
        for group in [
            lumas(&CLASS_COLORS),
            lumas(&STATUS_COLORS),
            lumas(&CHANGE_COLORS),
        ] {
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    assert!((a - b).abs() >= 0.06, "{group:?}");
                }
            }
        }
        // Parcels at risk are darker than every class they lie on.
        let lightest_class = lumas(&CLASS_COLORS).into_iter().fold(1.0, f32::min);
        for s in &STATUS_COLORS[1..] {
            assert!(s.luma() + 0.1 < lightest_class, "{s:?}");
        }
    }
}
