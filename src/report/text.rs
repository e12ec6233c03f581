//! Text on the report's pages: which font draws each character, how wide a line is, and
//! where lines break. The bundled fonts (`crate::fonts`) come first; a character none of
//! them has is drawn with the system's CJK font where one is installed (and allowed), else
//! it is recorded in [`Fonts::missing`] and the report says so in its warnings.
//!
//! Widths come from the fonts' horizontal advances (no kerning: CJK has none, and the
//! report's Latin text is numbers and ids), enough to centre and right-align text and to fit
//! it in a table's cell.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use super::page::{MM_PER_PT, Rgb};

/// A font of [`Fonts`], by index.
pub type FontIndex = usize;

/// A run of text in one font, placed `dx` mm after the line's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub font: FontIndex,
    pub dx: f32,
    pub text: String,
}

/// A line of text placed on a page: its start on the baseline (mm), its size (pt), its
/// width (mm) and its pieces.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRun {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub width: f32,
    pub color: Rgb,
    pub pieces: Vec<Piece>,
}

impl TextRun {
    /// The whole line.
    pub fn text(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }
}

/// Where a line stands relative to its given point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Left,
    Center,
    Right,
}

/// A font's bytes and face index.
#[derive(Debug, Clone, Copy)]
pub struct FontData {
    pub data: &'static [u8],
    pub index: u32,
    /// Where it came from: `bundled` or the system font's path.
    pub origin: &'static str,
}

/// The fonts a report is drawn with, in fallback order.
pub struct Fonts {
    pub data: Vec<FontData>,
    faces: Vec<ttf_parser::Face<'static>>,
    missing: Mutex<BTreeSet<char>>,
}

/// The system CJK font, read once a process (and kept: the report's fonts borrow it).
fn system_font() -> Option<FontData> {
    static SYSTEM: OnceLock<Option<FontData>> = OnceLock::new();
    *SYSTEM.get_or_init(|| {
        let (bytes, index, path) = crate::fonts::system_cjk()?;
        let data: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        Some(FontData {
            data,
            index,
            origin: path,
        })
    })
}

impl Fonts {
    /// The bundled fonts, then the system's CJK font when `system` (and one is installed).
    pub fn new(system: bool) -> Fonts {
        let mut data = vec![
            FontData {
                data: crate::fonts::CJK_FONT,
                index: 0,
                origin: "bundled",
            },
            FontData {
                data: crate::fonts::REPLACEMENT_FONT,
                index: 0,
                origin: "bundled",
            },
        ];
        if system && let Some(f) = system_font() {
            data.push(f);
        }
        let faces = data
            .iter()
            .filter_map(|f| ttf_parser::Face::parse(f.data, f.index).ok())
            .collect::<Vec<_>>();
        // The bundled fonts always parse; a system font that does not is left out.
        let data = data.into_iter().take(faces.len()).collect();
        Fonts {
            data,
            faces,
            missing: Mutex::new(BTreeSet::new()),
        }
    }

    /// The first font that has `c`, or `None`.
    fn font_of(&self, c: char) -> Option<FontIndex> {
        self.faces.iter().position(|f| f.glyph_index(c).is_some())
    }

    /// `c`'s advance in mm at `size` pt in font `font`.
    fn advance(&self, font: FontIndex, c: char, size: f32) -> f32 {
        let face = &self.faces[font];
        let adv = face
            .glyph_index(c)
            .and_then(|g| face.glyph_hor_advance(g))
            .unwrap_or(face.units_per_em() / 2);
        f32::from(adv) / f32::from(face.units_per_em()) * size * MM_PER_PT
    }

    /// Characters no font had, in every text laid out so far.
    pub fn missing(&self) -> Vec<char> {
        self.missing
            .lock()
            .map(|m| m.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The width of `text` in mm at `size` pt.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.font_of(c).unwrap_or(0), c, size))
            .sum()
    }

    /// `text` placed with its `anchor` at `at` (on the baseline).
    pub fn run(&self, text: &str, at: [f32; 2], size: f32, anchor: Anchor, color: Rgb) -> TextRun {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut x = 0.0;
        for c in text.chars() {
            if c.is_control() {
                continue;
            }
            let font = self.font_of(c).unwrap_or_else(|| {
                if let Ok(mut m) = self.missing.lock() {
                    m.insert(c);
                }
                0
            });
            match pieces.last_mut() {
                Some(p) if p.font == font => p.text.push(c),
                _ => pieces.push(Piece {
                    font,
                    dx: x,
                    text: c.to_string(),
                }),
            }
            x += self.advance(font, c, size);
        }
        let start = match anchor {
            Anchor::Left => at[0],
            Anchor::Center => at[0] - x / 2.0,
            Anchor::Right => at[0] - x,
        };
        TextRun {
            x: start,
            y: at[1],
            size,
            width: x,
            color,
            pieces,
        }
    }

    /// `text` cut to `max_w` mm at `size` pt, ending in "…" where it was cut.
    pub fn fit(&self, text: &str, size: f32, max_w: f32) -> String {
        if self.width(text, size) <= max_w {
            return text.to_string();
        }
        let ell = self.width("…", size);
        let mut out = String::new();
        let mut w = 0.0;
        for c in text.chars() {
            let cw = self.width(c.encode_utf8(&mut [0; 4]), size);
            if w + cw + ell > max_w {
                break;
            }
            w += cw;
            out.push(c);
        }
        out.push('…');
        out
    }

    /// `text` broken into lines of at most `max_w` mm at `size` pt: between any two CJK
    /// characters, else at spaces (a word longer than a line is broken anywhere).
    pub fn wrap(&self, text: &str, size: f32, max_w: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut w = 0.0;
        // Units that stay together: a CJK character, or a run of other non-space characters
        // with the spaces before it.
        let mut units: Vec<String> = Vec::new();
        for c in text.chars() {
            let cjk = c as u32 >= 0x2E80;
            match units.last_mut() {
                Some(u)
                    if !cjk
                        && !c.is_whitespace()
                        && u.chars().last().is_none_or(|l| (l as u32) < 0x2E80) =>
                {
                    u.push(c)
                }
                _ => units.push(c.to_string()),
            }
        }
        // A unit wider than a line is broken anywhere.
        let units: Vec<String> = units
            .into_iter()
            .flat_map(|u| {
                if self.width(&u, size) > max_w {
                    u.chars().map(String::from).collect()
                } else {
                    vec![u]
                }
            })
            .collect();
        for u in units {
            let uw = self.width(&u, size);
            if w + uw > max_w && !line.is_empty() {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                w = 0.0;
                let u = u.trim_start();
                w += self.width(u, size);
                line.push_str(u);
                continue;
            }
            w += uw;
            line.push_str(&u);
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_and_latin_come_from_the_bundled_font_and_a_missing_character_is_recorded() {
        let fonts = Fonts::new(false);
        let run = fonts.run("成都市 87.5%", [10.0, 20.0], 10.0, Anchor::Left, Rgb::BLACK);
        assert_eq!(run.pieces.len(), 1);
        assert_eq!(run.text(), "成都市 87.5%");
        assert!(fonts.missing().is_empty());
        // U+20000 (CJK Extension B) is in no bundled font.
        let run = fonts.run("𠀀县", [0.0, 0.0], 10.0, Anchor::Left, Rgb::BLACK);
        assert_eq!(run.text(), "𠀀县");
        assert_eq!(fonts.missing(), vec!['𠀀']);
    }

    #[test]
    fn anchors_place_the_line_by_its_measured_width() {
        let fonts = Fonts::new(false);
        let w = fonts.width("安全利用率", 10.0);
        // Five ideographs of 1 em each at 10 pt: 5 × 10 × 25.4 / 72 mm.
        assert!((w - 5.0 * 10.0 * MM_PER_PT).abs() < 0.01, "{w}");
        let r = fonts.run("安全利用率", [100.0, 0.0], 10.0, Anchor::Right, Rgb::BLACK);
        assert!((r.x + r.width - 100.0).abs() < 1e-4);
        let c = fonts.run("安全利用率", [100.0, 0.0], 10.0, Anchor::Center, Rgb::BLACK);
        assert!((c.x + c.width / 2.0 - 100.0).abs() < 1e-4);
    }

    #[test]
    fn wrap_breaks_between_ideographs_and_at_spaces_and_fit_cuts_with_an_ellipsis() {
        let fonts = Fonts::new(false);
        let em = 10.0 * MM_PER_PT;
        let lines = fonts.wrap("安全利用类已落实且达标(亩)", 10.0, 4.5 * em);
        assert_eq!(lines[0], "安全利用");
        assert_eq!(lines.concat(), "安全利用类已落实且达标(亩)");
        let words = fonts.wrap(
            "parcels at risk",
            10.0,
            fonts.width("parcels at", 10.0) + 0.1,
        );
        assert_eq!(words, vec!["parcels at", "risk"]);
        let long = fonts.wrap("abcdefghij", 10.0, fonts.width("abcd", 10.0) + 0.01);
        assert_eq!(long, vec!["abcd", "efgh", "ij"]);
        let cut = fonts.fit("四川省成都市双流区", 10.0, 3.5 * em);
        assert_eq!(cut, "四川…");
        assert_eq!(fonts.fit("双流区", 10.0, 10.0 * em), "双流区");
    }
}
