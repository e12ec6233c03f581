//! A region's page: its name and row of the county table, its map, and the ten parcels that
//! close its gap fastest.

use super::layout::*;
use super::page::Page;
use super::text::Anchor;
use crate::stats::{PriorityParcel, RegionSummary};
use crate::table::{COLUMNS, Kind, Row};

/// A region's page: its name, its row of the table, its map, its ten parcels that close the
/// gap fastest.
pub(super) fn region_page(
    ctx: &Ctx<'_>,
    row: &Row,
    region: &RegionSummary,
    parcels: &[usize],
    land: &[u32],
    priority: &[&PriorityParcel],
) -> Page {
    let mut page = Page::default();
    ctx.text(&mut page, &row.name, [LEFT, 22.0], 16.0, Anchor::Left, TEXT);
    if let Some(code) = &row.code {
        ctx.text(
            &mut page,
            &format!("代码 {code}"),
            [LEFT + WIDTH, 22.0],
            8.0,
            Anchor::Right,
            GREY,
        );
    }
    ctx.text(
        &mut page,
        &format!("{}年度受污染耕地安全利用情况", ctx.opts.year),
        [LEFT, 29.0],
        8.0,
        Anchor::Left,
        GREY,
    );
    // Its row of the table, two lines of four.
    for (i, col) in COLUMNS[2..].iter().enumerate() {
        let x = LEFT + (i % 4) as f32 * 45.0;
        let y = 37.0 + (i / 4) as f32 * 11.0;
        ctx.text(&mut page, col.header, [x, y], 6.5, Anchor::Left, GREY);
        let value = col.text(row);
        let value = match (col.kind, value.is_empty()) {
            (Kind::Percent, true) => "无受污染耕地".to_string(),
            (Kind::Mu, _) => format!("{value} 亩"),
            _ => value,
        };
        let size = if col.header == COLUMNS[6].header {
            12.0
        } else {
            10.0
        };
        ctx.text(&mut page, &value, [x, y + 5.5], size, Anchor::Left, TEXT);
    }
    if let Some(p) = row.previous {
        let line = format!(
            "上一年度 {}，变化 {}",
            pct(p.rate()),
            points(row.rate_change())
        );
        ctx.text(&mut page, &line, [LEFT, 61.0], 8.0, Anchor::Left, TEXT);
    }
    let focus = ctx.boundary_features(&region.region, region.code.as_deref());
    let view = ctx.region_view(parcels, land, &focus);
    let note = "该行政区没有图斑可绘";
    ctx.map_or_say(&mut page, REGION_MAP, view, &focus, note);
    ctx.legend(&mut page, REGION_MAP[1] + REGION_MAP[3] + 5.0);
    // The ten parcels that close the gap fastest.
    let mut y = REGION_MAP[1] + REGION_MAP[3] + 16.0;
    ctx.text(
        &mut page,
        "缩小缺口最快的十个图斑（按未落实面积排序）",
        [LEFT, y],
        9.0,
        Anchor::Left,
        TEXT,
    );
    y += 5.5;
    if priority.is_empty() {
        ctx.text(
            &mut page,
            "无未落实图斑",
            [LEFT, y],
            8.0,
            Anchor::Left,
            GREY,
        );
        return page;
    }
    let heads = [
        "序号",
        "图斑编号",
        "未落实面积(亩)",
        "累计(亩)",
        "累计占缺口",
    ];
    let xs = [
        LEFT + 8.0,
        LEFT + 12.0,
        LEFT + 105.0,
        LEFT + 135.0,
        LEFT + WIDTH,
    ];
    let anchors = [
        Anchor::Right,
        Anchor::Left,
        Anchor::Right,
        Anchor::Right,
        Anchor::Right,
    ];
    page.rect([LEFT, y - 3.4, WIDTH, ROW_H], TOTAL_FILL);
    for ((h, x), an) in heads.iter().zip(xs).zip(anchors) {
        ctx.text(&mut page, h, [x, y], 7.0, an, TEXT);
    }
    let mut sum = 0.0;
    for (i, p) in priority.iter().enumerate() {
        y += ROW_H;
        sum += p.untreated_area_m2;
        let share = (row.gap_m2 > 0.0).then(|| sum / row.gap_m2);
        let cells = [
            format!("{}", i + 1),
            ctx.fonts.fit(&p.parcel_id, 7.0, 90.0),
            mu(p.untreated_area_m2),
            mu(sum),
            match share {
                None => "已达目标".to_string(),
                Some(s) if s >= 1.0 => "已补齐缺口".to_string(),
                s => pct(s),
            },
        ];
        for ((c, x), an) in cells.iter().zip(xs).zip(anchors) {
            ctx.text(&mut page, c, [x, y], 7.0, an, TEXT);
        }
        page.line([LEFT, y + 1.2], [LEFT + WIDTH, y + 1.2], RULE, 0.1);
    }
    page
}
