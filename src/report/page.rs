//! A page as a list of things to draw, in millimetres from the page's top-left corner (y
//! down): what the report's layout makes and what each renderer draws, the PDF writer
//! (`pdf`) and the window's preview alike.

use super::text::TextRun;

/// A4 portrait, in mm.
pub const A4: [f32; 2] = [210.0, 297.0];

/// Millimetres in a PDF point.
pub const MM_PER_PT: f32 = 25.4 / 72.0;

/// A colour, 8 bits a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    pub const WHITE: Rgb = Rgb(255, 255, 255);

    /// Its lightness as a grey printer sees it: Rec. 601 luma, 0 to 1.
    pub fn luma(self) -> f32 {
        (0.299 * f32::from(self.0) + 0.587 * f32::from(self.1) + 0.114 * f32::from(self.2)) / 255.0
    }
}

/// A ring or line of points, in mm.
pub type Points = Vec<[f32; 2]>;

/// One thing drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Rings filled together, non-zero: outer rings run one way, holes the other (see
    /// `map::orient`), so overlapping rings of one colour stay filled.
    Fill {
        rings: Vec<Points>,
        color: Rgb,
    },
    /// Lines stroked, `width` in mm; closed ones are drawn as rings.
    Stroke {
        lines: Vec<Points>,
        closed: bool,
        color: Rgb,
        width: f32,
    },
    /// A line of text.
    Text(TextRun),
    /// What follows, up to the next `Unclip`, is drawn inside this rectangle only
    /// (x, y, width, height).
    Clip([f32; 4]),
    Unclip,
}

/// One page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Width and height in mm.
    pub size: [f32; 2],
    pub items: Vec<Item>,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            size: A4,
            items: Vec::new(),
        }
    }
}

impl Page {
    /// A filled rectangle (x, y, width, height).
    pub fn rect(&mut self, r: [f32; 4], color: Rgb) {
        self.items.push(Item::Fill {
            rings: vec![rect_ring(r)],
            color,
        });
    }

    /// A rectangle's outline.
    pub fn frame(&mut self, r: [f32; 4], color: Rgb, width: f32) {
        self.items.push(Item::Stroke {
            lines: vec![rect_ring(r)],
            closed: true,
            color,
            width,
        });
    }

    /// A straight line.
    pub fn line(&mut self, from: [f32; 2], to: [f32; 2], color: Rgb, width: f32) {
        self.items.push(Item::Stroke {
            lines: vec![vec![from, to]],
            closed: false,
            color,
            width,
        });
    }

    /// Every text on the page, in drawing order (what a PDF text extraction gives back,
    /// line by line).
    pub fn texts(&self) -> impl Iterator<Item = &TextRun> {
        self.items.iter().filter_map(|i| match i {
            Item::Text(t) => Some(t),
            _ => None,
        })
    }
}

/// The four corners of a rectangle (x, y, width, height).
pub fn rect_ring([x, y, w, h]: [f32; 4]) -> Points {
    vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h]]
}
