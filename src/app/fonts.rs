//! Chinese text: the bundled Noto Sans SC subset (GB2312, OFL, `assets/`) as a fallback for
//! every text style, so county names and measures render on machines without CJK fonts; then
//! the system's own CJK font where there is one, for characters outside GB2312 (GBK and
//! GB18030 names, rare surnames); and one bundled glyph for U+FFFD, which a wrongly decoded
//! attribute is full of.

use std::path::Path;

use eframe::egui::{self, FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};

/// The bundled font, compiled into the binary.
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/NotoSansSC-GB2312.otf");

/// U+FFFD from DejaVu Sans (Bitstream Vera licence, `assets/DejaVu-LICENSE.txt`).
const REPLACEMENT_FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-replacement.ttf");

/// System CJK fonts tried in order, with the face index inside a collection: Linux (Noto CJK,
/// WenQuanYi), Windows (Microsoft YaHei, SimSun), macOS (PingFang, Hiragino Sans GB).
const SYSTEM_CJK: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        2,
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    (
        "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
        0,
    ),
    ("C:\\Windows\\Fonts\\msyh.ttc", 0),
    ("C:\\Windows\\Fonts\\simsun.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("/System/Library/Fonts/Hiragino Sans GB.ttc", 0),
];

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
    if std::env::var_os("SOILRISK_NO_SYSTEM_FONTS").is_none()
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
    SYSTEM_CJK.iter().find_map(|(path, index)| {
        let bytes = std::fs::read(Path::new(path)).ok()?;
        let mut data = FontData::from_owned(bytes);
        data.index = *index;
        Some(data)
    })
}
