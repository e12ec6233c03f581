//! Chinese text: the bundled Noto Sans SC subset (GB2312, OFL, `assets/`) as a fallback for
//! every text style, so county names and measures render on machines without CJK fonts; then
//! the system's own CJK font where there is one, for characters outside GB2312 (GBK and
//! GB18030 names, rare surnames); and one bundled glyph for U+FFFD, which a wrongly decoded
//! attribute is full of.

use eframe::egui::{self, FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};

use soilrisk::fonts::{CJK_FONT, REPLACEMENT_FONT};

fn lowest(name: &str, data: FontData) -> FontInsert {
    FontInsert::new(
        name,
        data,
        [FontFamily::Proportional, FontFamily::Monospace]
            .into_iter()
            .map(|family| InsertFontFamily {
                family,
                priority: FontPriority::Lowest,
            })
            .collect(),
    )
}

/// Adds the fonts after egui's own, each behind the ones before (Latin glyphs keep egui's
/// look; the bundled subset is drawn before the system font, so the look does not change with
/// the machine).
pub fn install(ctx: &egui::Context) {
    ctx.add_font(lowest(
        "noto-sans-sc-gb2312",
        FontData::from_static(CJK_FONT),
    ));
    if soilrisk::fonts::system_fonts_allowed()
        && let Some(font) = system_cjk()
    {
        ctx.add_font(lowest("system-cjk", font));
    }
    ctx.add_font(lowest(
        "replacement-character",
        FontData::from_static(REPLACEMENT_FONT),
    ));
}

/// The first system CJK font found, read whole (the parser reads glyphs lazily).
fn system_cjk() -> Option<FontData> {
    let (bytes, index, _) = soilrisk::fonts::system_cjk()?;
    let mut data = FontData::from_owned(bytes);
    data.index = index;
    Some(data)
}
