//! The window's dialogs. Each draws itself and returns what the user chose; the window turns
//! that into a `Command` (or closes the dialog), so no dialog changes the state while it draws.
//!
//! - `compare`: the other year to compare the loaded one with.
//! - `mapping`: fields and values to map before an analysis (and the text-encoding dropdown).
//! - `member`: which layer of a zip archive of several to open.
//! - `message`: an error to dismiss; a dropped file, as the risk or the parcel layer; unsaved
//!   measures on closing.
//! - `postgis`: a PostGIS server, its polygon tables, and the one to open as which layer.
//! - `regions`: the fields and CRS of a boundary layer of regions.
//! - `report`: the report's title, year and date, with a preview of its cover.

pub mod compare;
pub mod mapping;
pub mod member;
pub mod message;
pub mod postgis;
pub mod regions;
pub mod report;
