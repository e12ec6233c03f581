//! The pages of year over year (`compare --report`): both years' rates, the causes of the
//! change and each region's, then the change map.

use super::layout::*;
use super::map::{MIN_CELL_COVER, MapLayer, MapView, north_arrow, outlines, scale_bar};
use super::page::{Item, Page};
use super::text::Anchor;
use crate::compare::matching::ChangeKind;
use crate::geom::boxes::union_rect;
use crate::table::{COLUMNS, COMPARE_COLUMNS, Column, Row};

/// Year over year: both rates, the causes, each region's change; then the change map.
pub(super) fn compare_pages(ctx: &Ctx<'_>) -> Vec<Page> {
    let Some(c) = ctx.input.compare else {
        return Vec::new();
    };
    let s = c.summary;
    let mut page = Page::default();
    ctx.text(
        &mut page,
        "年度对比",
        [LEFT, 20.0],
        14.0,
        Anchor::Left,
        TEXT,
    );
    ctx.text(
        &mut page,
        &format!("上一年度 {}", pct(s.before.safe_utilization_rate)),
        [LEFT, 32.0],
        12.0,
        Anchor::Left,
        TEXT,
    );
    ctx.text(
        &mut page,
        &format!("本年度 {}", pct(s.after.safe_utilization_rate)),
        [LEFT + 60.0, 32.0],
        12.0,
        Anchor::Left,
        TEXT,
    );
    ctx.text(
        &mut page,
        &format!("变化 {}", points(s.rate_change)),
        [LEFT + 120.0, 32.0],
        12.0,
        Anchor::Left,
        TEXT,
    );
    ctx.text(
        &mut page,
        "变化原因（按土地计）",
        [LEFT, 44.0],
        9.0,
        Anchor::Left,
        TEXT,
    );
    let k = &s.causes;
    let effects = k.rate_effects;
    let causes = [
        (
            "新增落实",
            k.newly_treated_m2,
            effects.map(|e| e.newly_treated),
        ),
        (
            "失去落实",
            k.lost_treatment_m2,
            effects.map(|e| e.lost_treatment),
        ),
        (
            "新增受污染耕地",
            k.new_risk_m2 + k.new_parcels_m2,
            effects.map(|e| e.new_contaminated),
        ),
        (
            "移出受污染耕地",
            k.risk_lifted_m2 + k.removed_parcels_m2,
            effects.map(|e| e.contaminated_left),
        ),
    ];
    let mut y = 50.0;
    ctx.text(&mut page, "原因", [LEFT, y], 7.0, Anchor::Left, GREY);
    ctx.text(
        &mut page,
        "面积(亩)",
        [LEFT + 80.0, y],
        7.0,
        Anchor::Right,
        GREY,
    );
    ctx.text(
        &mut page,
        "对安全利用率的影响",
        [LEFT + 140.0, y],
        7.0,
        Anchor::Right,
        GREY,
    );
    for (label, m2, effect) in causes {
        y += ROW_H;
        ctx.text(&mut page, label, [LEFT, y], 8.0, Anchor::Left, TEXT);
        ctx.text(
            &mut page,
            &mu(m2),
            [LEFT + 80.0, y],
            8.0,
            Anchor::Right,
            TEXT,
        );
        ctx.text(
            &mut page,
            &points(effect),
            [LEFT + 140.0, y],
            8.0,
            Anchor::Right,
            TEXT,
        );
    }
    y += 10.0;
    ctx.text(
        &mut page,
        "各行政区安全利用率变化",
        [LEFT, y],
        9.0,
        Anchor::Left,
        TEXT,
    );
    // The region, both rates, then the rest of the comparison's columns.
    let columns: Vec<&Column> = std::iter::once(&COLUMNS[0])
        .chain(std::iter::once(&COMPARE_COLUMNS[0]))
        .chain(std::iter::once(&COLUMNS[6]))
        .chain(COMPARE_COLUMNS[1..].iter())
        .collect();
    let widths: [f32; 2 + COMPARE_COLUMNS.len()] = [30.0, 22.0, 20.0, 22.0, 22.0, 22.0, 21.0, 21.0];
    let rows: Vec<&Row> = ctx.rows.iter().collect();
    let mut pages = Vec::new();
    let last = ctx.table(page, y + 3.0, &columns, &widths, &rows, &mut pages);
    pages.push(last);
    pages.push(change_map_page(ctx, c));
    pages
}

/// The parcels that changed between the years, by kind, over the after year's risk areas.
fn change_map_page(ctx: &Ctx<'_>, c: super::CompareInput<'_>) -> Page {
    let (a, b) = (ctx.input.analysis, c.before);
    let mut page = Page::default();
    ctx.text(
        &mut page,
        "变化图斑分布",
        [LEFT, 20.0],
        14.0,
        Anchor::Left,
        TEXT,
    );
    let changes = &c.comparison.matches.changes;
    // An after-year parcel, or a removed one where it was.
    let geom = |ch: &crate::compare::matching::Change| match ch.after {
        Some(k) => Some(&a.parcels.features[a.parcel_info[k as usize].feature].geometry),
        None => ch
            .before
            .first()
            .map(|&k| &b.parcels.features[b.parcel_info[k as usize].feature].geometry),
    };
    let extent = [
        extent_of(ctx.input),
        bounds_of(changes.iter().filter_map(geom)),
    ]
    .into_iter()
    .flatten()
    .reduce(union_rect);
    let Some(view) = extent.and_then(|e| MapView::fit(CHANGE_MAP, e, ctx.geographic)) else {
        ctx.text(
            &mut page,
            "没有可绘制的要素",
            [LEFT, 40.0],
            9.0,
            Anchor::Left,
            GREY,
        );
        return page;
    };
    page.rect(view.rect, MAP_BACKGROUND);
    page.items.push(Item::Clip(view.rect));
    // The risk areas in one grey, behind: the kinds of change have the colours here.
    let mut risk = MapLayer::new(&view, vec![RISK_GREY], None, MIN_CELL_COVER);
    for r in &a.risk_areas {
        risk.add(&view, &a.risk.features[r.feature].geometry, 0);
    }
    risk.draw(&view, &mut page);
    let mut layer = MapLayer::new(&view, CHANGE_COLORS.to_vec(), Some(PARCEL_OUTLINE), 0.0);
    let mut counts = [0usize; 7];
    for ch in changes {
        let kind = ChangeKind::ALL
            .iter()
            .position(|k| *k == ch.kind)
            .unwrap_or(0);
        counts[kind] += 1;
        if let Some(g) = geom(ch) {
            layer.add(&view, g, kind);
        }
    }
    layer.draw(&view, &mut page);
    if let Some(bd) = &a.boundaries {
        outlines(
            &view,
            bd.layer.features.iter().map(|f| &f.geometry),
            BOUNDARY,
            0.25,
            &mut page,
        );
    }
    page.items.push(Item::Unclip);
    page.frame(view.rect, TEXT, 0.3);
    scale_bar(&view, ctx.fonts, &mut page);
    north_arrow(&view, ctx.fonts, &mut page);
    let mut x = LEFT;
    let mut y = CHANGE_MAP[1] + CHANGE_MAP[3] + 6.0;
    let entries = std::iter::once((RISK_GREY, "风险区".to_string())).chain(
        ChangeKind::ALL.iter().enumerate().map(|(i, kind)| {
            (
                CHANGE_COLORS[i],
                format!("{} {}", kind.chinese(), counts[i]),
            )
        }),
    );
    for (color, label) in entries {
        if x + 7.0 + ctx.fonts.width(&label, 6.5) > LEFT + WIDTH {
            x = LEFT;
            y += 4.5;
        }
        page.rect([x, y - 2.6, 5.0, 3.0], color);
        ctx.text(&mut page, &label, [x + 6.5, y], 6.5, Anchor::Left, TEXT);
        x += 7.0 + ctx.fonts.width(&label, 6.5) + 4.0;
    }
    page
}
