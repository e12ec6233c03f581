//! Bounding-box R-trees (rstar, bulk-loaded) over features, keyed by their position in a list.
//! The trees hold boxes, not geometries: exact tests happen in `overlay` and in the window.

use geo::Rect;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// An R-tree of bounding boxes, each carrying the index of its feature.
#[derive(Debug, Clone, Default)]
pub struct BoxIndex {
    tree: RTree<Entry>,
}

fn envelope(r: &Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

impl BoxIndex {
    /// Bulk-loads `(index, box)` pairs (much faster than inserting one by one).
    pub fn bulk(boxes: impl IntoIterator<Item = (u32, Rect<f64>)>) -> Self {
        let entries = boxes
            .into_iter()
            .map(|(i, r)| {
                GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                )
            })
            .collect();
        BoxIndex {
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Indices of boxes that intersect (or touch) `r`, in no particular order.
    pub fn intersecting(&self, r: &Rect<f64>) -> impl Iterator<Item = u32> + '_ {
        self.tree
            .locate_in_envelope_intersecting(&envelope(r))
            .map(|e| e.data)
    }

    /// Indices of boxes containing the point `(x, y)`.
    pub fn at_point(&self, x: f64, y: f64) -> impl Iterator<Item = u32> + '_ {
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([x, y]))
            .map(|e| e.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_touching_and_overlapping_boxes_only() {
        let idx = BoxIndex::bulk([
            (0, Rect::new((0.0, 0.0), (1.0, 1.0))),
            (1, Rect::new((1.0, 0.0), (2.0, 1.0))),
            (2, Rect::new((5.0, 5.0), (6.0, 6.0))),
        ]);
        let mut hits: Vec<u32> = idx
            .intersecting(&Rect::new((0.5, 0.5), (1.0, 0.6)))
            .collect();
        hits.sort_unstable();
        assert_eq!(hits, vec![0, 1]);
        assert_eq!(idx.at_point(5.5, 5.5).collect::<Vec<_>>(), vec![2]);
        assert_eq!(idx.at_point(3.0, 3.0).count(), 0);
    }
}
