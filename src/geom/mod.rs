//! The geometry toolkit: what the readers, the overlay, the checks, the exports and the
//! window's map all use, one capability a file.
//!
//! - [`boxes`]: bounding boxes of rings and multipolygons; boxes meeting, holding a point,
//!   containing a box.
//! - [`rings`]: point in ring or polygon, segments meeting, ring simplicity and winding.
//! - [`arc`]: circular arcs densified in 4° steps, as GDAL does.
//! - [`area`]: signed shoelace area; [`area::AreaMethod`], planar or geodesic area in m².
//! - [`scale`]: a projection's area scale, for ellipsoidal areas from projected coordinates.
//! - [`clip`]: boolean operations (i_overlay) and clipping a ring to a box.
//! - [`index`]: bulk-loaded R-trees of boxes.
//!
//! Coordinates are `f64` in the layer's CRS; rings are closed (first point repeated last) and
//! follow geo's winding (exteriors counter-clockwise, holes clockwise) once `io::rings` has
//! assembled them.

pub mod arc;
pub mod area;
pub mod boxes;
pub mod clip;
pub mod index;
pub mod rings;
pub mod scale;
