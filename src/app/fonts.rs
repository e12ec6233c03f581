//! Chinese text: the bundled Noto Sans SC subset (GB2312, OFL, `assets/`) as a fallback for
//! every text style, so county names and measures render on machines without CJK fonts.

use eframe::egui::{self, FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};

/// The bundled font, compiled into the binary.
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/NotoSansSC-GB2312.otf");

/// Adds the CJK font after egui's own fonts (Latin glyphs keep egui's look).
pub fn install(ctx: &egui::Context) {
    ctx.add_font(FontInsert::new(
        "noto-sans-sc-gb2312",
        FontData::from_static(CJK_FONT),
        vec![
            InsertFontFamily {
                family: FontFamily::Proportional,
                priority: FontPriority::Lowest,
            },
            InsertFontFamily {
                family: FontFamily::Monospace,
                priority: FontPriority::Lowest,
            },
        ],
    ));
}
