//! Commands: what the panels, dialogs and the map ask for while they draw. They do not change
//! the window's state in the middle of a frame; they push a `Command`, and `update::apply`
//! carries out the frame's commands, in order, once everything is drawn.

use std::path::PathBuf;

use soilrisk::io::postgis::Server;
use soilrisk::pipeline::{AreaBasis, RegionLayer};
use soilrisk::report::ReportOptions;

use super::compare::CompareInput;
use super::edits::Treatment;
use super::files::Purpose;
use super::map::Pick;

/// A change asked for by a panel, applied after drawing.
#[derive(Debug, Clone)]
pub enum Command {
    Select(Option<Pick>),
    ZoomTo(Pick),
    ZoomFull,
    SetTarget(f64),
    /// Stop the load or analysis under way.
    CancelLoad,
    /// Stop the export under way.
    CancelExport,
    /// Show a file dialog.
    Ask(Purpose),
    /// Use a dropped file as the risk layer (true) or the parcel layer (false).
    UseDropped(bool),
    /// Open a risk layer and a parcel layer.
    Open(PathBuf, PathBuf),
    /// Open File > Open from PostGIS….
    AskPostgis,
    /// List the polygon tables of a PostGIS database in that dialog.
    ListTables(Server),
    /// Open a layer (a PostGIS table's URL) as the risk layer (true) or the parcel layer
    /// (false), with the other layer loaded.
    OpenAs(PathBuf, bool),
    /// Re-read the risk layer (true) or the parcel layer (false) in this text encoding
    /// (`None`: from the `.cpg`, else detected).
    SetEncoding(bool, Option<String>),
    /// Open this layer of the zip archive the user was asked about.
    OpenMember(String),
    /// Analyse the layers of the field-mapping dialog as mapped there.
    AnalyseMapped,
    /// Read the layers of the field-mapping dialog again (a text encoding was changed there),
    /// keeping the mapping.
    RereadMapped,
    /// Give a parcel at risk (index into `parcel_info`) another measure or compliance.
    Edit(usize, Treatment),
    Undo,
    Redo,
    /// Save the edited measures: into the ledger loaded, else (or `as_new`) into a file
    /// chosen in a dialog; close the window once saved (`then_close`).
    SaveMeasures {
        as_new: bool,
        then_close: bool,
    },
    /// Close the window without saving the edited measures.
    DiscardAndClose,
    /// Analyse again on another area basis (`None`: the CRS's default).
    SetAreaBasis(Option<AreaBasis>),
    /// Take the regions from this boundary layer and analyse again.
    SetRegions(RegionLayer),
    /// Open File > Compare with another year….
    AskCompare,
    /// Analyse the other year and compare the loaded one with it.
    Compare(CompareInput),
    /// Stop the comparison under way.
    CancelCompare,
    /// Show the change map (true) or the parcels by status.
    ShowChanges(bool),
    /// Open Export > Report (PDF)….
    AskReport,
    /// Ask where to save the report, then write it with these options.
    SaveReport(Box<ReportOptions>),
}
