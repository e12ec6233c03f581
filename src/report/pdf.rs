//! The report's pages as a PDF, through krilla: every path a vector path, every text real
//! text in an embedded font subset (so it can be searched and copied), the fonts subset to
//! the glyphs used. The same pages give the same bytes: krilla writes no time and no random
//! identifier of its own, and the creation date is the report's own (`Report::date`).

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LineJoin, Stroke};
use krilla::text::{Font, TextDirection};

use super::page::{Item, MM_PER_PT, Points, Rgb};
use super::{Report, ReportDate};

fn paint(c: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}

/// The PDF of `report`.
pub fn to_pdf(report: &Report) -> Result<Vec<u8>, String> {
    let mut doc = Document::new();
    let fonts: Vec<Font> = report
        .fonts
        .data
        .iter()
        .map(|f| Font::new(f.data.into(), f.index).ok_or("a font could not be read"))
        .collect::<Result<_, _>>()?;
    let pt = 1.0 / MM_PER_PT;
    for page in &report.pages {
        let settings = PageSettings::from_wh(page.size[0] * pt, page.size[1] * pt)
            .ok_or("a page has no size")?;
        let mut p = doc.start_page_with(settings);
        let mut s = p.surface();
        // Everything is laid out in mm.
        s.push_transform(&Transform::from_scale(pt, pt));
        let mut clips = 0;
        for item in &page.items {
            match item {
                Item::Fill { rings, color } => {
                    let Some(path) = path_of(rings, true) else {
                        continue;
                    };
                    s.set_stroke(None);
                    s.set_fill(Some(Fill {
                        paint: paint(*color),
                        opacity: NormalizedF32::ONE,
                        rule: FillRule::NonZero,
                    }));
                    s.draw_path(&path);
                }
                Item::Stroke {
                    lines,
                    closed,
                    color,
                    width,
                } => {
                    let Some(path) = path_of(lines, *closed) else {
                        continue;
                    };
                    s.set_fill(None);
                    s.set_stroke(Some(Stroke {
                        paint: paint(*color),
                        width: *width,
                        line_join: LineJoin::Round,
                        ..Stroke::default()
                    }));
                    s.draw_path(&path);
                }
                Item::Text(t) => {
                    s.set_stroke(None);
                    s.set_fill(Some(Fill {
                        paint: paint(t.color),
                        opacity: NormalizedF32::ONE,
                        rule: FillRule::NonZero,
                    }));
                    for piece in &t.pieces {
                        s.draw_text(
                            Point::from_xy(t.x + piece.dx, t.y),
                            fonts[piece.font].clone(),
                            t.size * MM_PER_PT,
                            &piece.text,
                            false,
                            TextDirection::LeftToRight,
                        );
                    }
                }
                Item::Clip([x, y, w, h]) => {
                    let mut pb = PathBuilder::new();
                    if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                        pb.push_rect(r);
                    }
                    if let Some(path) = pb.finish() {
                        s.push_clip_path(&path, &FillRule::NonZero);
                        clips += 1;
                    }
                }
                Item::Unclip => {
                    if clips > 0 {
                        s.pop();
                        clips -= 1;
                    }
                }
            }
        }
        for _ in 0..clips {
            s.pop();
        }
        s.pop();
        s.finish();
        p.finish();
    }
    let mut meta = Metadata::new()
        .title(report.title.clone())
        .creator("soilrisk".to_string())
        .producer(format!("soilrisk {}", env!("CARGO_PKG_VERSION")))
        .language("zh-CN".to_string());
    meta = meta.creation_date(match report.date {
        ReportDate::Year(y) => DateTime::new(y),
        ReportDate::Day(y, m, d) => DateTime::new(y).month(m).day(d),
    });
    doc.set_metadata(meta);
    doc.finish().map_err(|e| format!("{e:?}"))
}

/// Rings or lines as one path of subpaths; `None` when there is nothing to draw.
fn path_of(lines: &[Points], closed: bool) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    for l in lines {
        let Some((first, rest)) = l.split_first() else {
            continue;
        };
        pb.move_to(first[0], first[1]);
        for p in rest {
            pb.line_to(p[0], p[1]);
        }
        if closed {
            pb.close();
        }
    }
    pb.finish()
}
