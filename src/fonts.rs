//! The fonts every front end draws Chinese text with: the bundled Noto Sans SC subset
//! (GB2312 and ASCII, OFL, `assets/`), compiled into the binary so county names render on
//! machines without CJK fonts; one bundled glyph for U+FFFD, which a wrongly decoded
//! attribute is full of; and where one is installed, the system's own CJK font, for
//! characters outside GB2312 (GBK and GB18030 names, rare surnames). The window
//! (`app::fonts`) and the report (`report::text`) both use this list.

use std::path::Path;

/// The bundled CJK font.
pub const CJK_FONT: &[u8] = include_bytes!("../assets/NotoSansSC-GB2312.otf");

/// U+FFFD from DejaVu Sans (Bitstream Vera licence, `assets/DejaVu-LICENSE.txt`).
pub const REPLACEMENT_FONT: &[u8] = include_bytes!("../assets/DejaVuSans-replacement.ttf");

/// System CJK fonts tried in order, with the face index inside a collection: Linux (Noto CJK,
/// WenQuanYi), Windows (Microsoft YaHei, SimSun), macOS (PingFang, Hiragino Sans GB).
pub const SYSTEM_CJK: &[(&str, u32)] = &[
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

/// Set (to anything) to leave the system's fonts out, so the window and the report look the
/// same on every machine: the tests set it.
pub const NO_SYSTEM_FONTS_VAR: &str = "SOILRISK_NO_SYSTEM_FONTS";

/// Whether system fonts may be used (`NO_SYSTEM_FONTS_VAR` is not set).
pub fn system_fonts_allowed() -> bool {
    std::env::var_os(NO_SYSTEM_FONTS_VAR).is_none()
}

/// The first system CJK font found, read whole, with its face index and path.
pub fn system_cjk() -> Option<(Vec<u8>, u32, &'static str)> {
    SYSTEM_CJK.iter().find_map(|(path, index)| {
        let bytes = std::fs::read(Path::new(path)).ok()?;
        Some((bytes, *index, *path))
    })
}
