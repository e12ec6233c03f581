//! Uniform-grid rectangle index over the sample extent.

use super::{X_MAX, X_MIN, Y_MAX, Y_MIN};

pub(super) type Rect = [f64; 4]; // min x, min y, max x, max y

pub(super) fn rects_touch(a: &Rect, b: &Rect) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// Uniform grid over the extent; each rectangle is listed in every cell it
/// covers, which keeps both "does anything overlap" and point look-ups cheap.
pub(super) struct RectGrid {
    cell: f64,
    cols: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
    pub(super) rects: Vec<Rect>,
}

impl RectGrid {
    pub(super) fn new(cell: f64) -> Self {
        let cols = ((X_MAX - X_MIN) / cell).ceil() as usize + 1;
        let rows = ((Y_MAX - Y_MIN) / cell).ceil() as usize + 1;
        Self {
            cell,
            cols,
            rows,
            cells: vec![Vec::new(); cols * rows],
            rects: Vec::new(),
        }
    }

    fn span(&self, r: &Rect) -> (usize, usize, usize, usize) {
        let c = |v: f64, min: f64, n: usize| {
            (((v - min) / self.cell).floor().max(0.0) as usize).min(n - 1)
        };
        (
            c(r[0], X_MIN, self.cols),
            c(r[1], Y_MIN, self.rows),
            c(r[2], X_MIN, self.cols),
            c(r[3], Y_MIN, self.rows),
        )
    }

    pub(super) fn insert(&mut self, r: Rect) {
        let id = self.rects.len() as u32;
        let (c0, r0, c1, r1) = self.span(&r);
        for row in r0..=r1 {
            for col in c0..=c1 {
                self.cells[row * self.cols + col].push(id);
            }
        }
        self.rects.push(r);
    }

    pub(super) fn overlaps(&self, r: &Rect) -> bool {
        let (c0, r0, c1, r1) = self.span(r);
        (r0..=r1).any(|row| {
            (c0..=c1).any(|col| {
                self.cells[row * self.cols + col]
                    .iter()
                    .any(|&i| rects_touch(&self.rects[i as usize], r))
            })
        })
    }

    pub(super) fn at(&self, x: f64, y: f64) -> &[u32] {
        let (col, row, _, _) = self.span(&[x, y, x, y]);
        &self.cells[row * self.cols + col]
    }
}

pub(super) fn inside_extent(r: &Rect) -> bool {
    r[0] >= X_MIN && r[1] >= Y_MIN && r[2] <= X_MAX && r[3] <= Y_MAX
}
