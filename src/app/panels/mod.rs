//! The window's panels around the map. Each is a function of what it shows: it reads the
//! state and pushes `Command`s; only the settings it edits in place (a checkbox, a slider, a
//! tab) change while it draws.
//!
//! - `menu`: the menu bar (File, Export, View) and the progress of a load.
//! - `layers`: the left panel: layer visibility, opacity, legend, text encodings.
//! - `details`: the right panel: the summary or the inspector (`summary`, `inspector`).
//! - `status`: the status bar: the coordinates under the mouse, the scale, an export.

pub mod details;
pub mod layers;
pub mod menu;
pub mod status;
