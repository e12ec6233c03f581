//! Colours and sizes of the map and panels, in one place, and the layers' style the user
//! sets (`LayerStyle`, saved between runs).

use eframe::egui::{self, Color32};
use soilrisk::compare::ChangeKind;
use soilrisk::vocab::RiskClass;

/// Fill of a risk area by class (drawn semi-transparent under the parcels).
pub fn risk_fill(class: RiskClass) -> Color32 {
    match class {
        RiskClass::Priority => Color32::from_rgb(255, 214, 102),
        RiskClass::SafeUse => Color32::from_rgb(244, 143, 66),
        RiskClass::StrictControl => Color32::from_rgb(200, 40, 40),
    }
}

/// A legend's colour square, 14 points wide.
pub fn swatch(ui: &mut egui::Ui, fill: Color32) {
    let (r, p) = ui.allocate_painter(egui::vec2(14.0, 14.0), egui::Sense::hover());
    p.rect_filled(r.rect, 2.0, fill);
}

/// Outline of a risk area by class.
pub fn risk_outline(class: RiskClass) -> Color32 {
    match class {
        RiskClass::Priority => Color32::from_rgb(191, 144, 0),
        RiskClass::SafeUse => Color32::from_rgb(178, 84, 20),
        RiskClass::StrictControl => Color32::from_rgb(120, 0, 0),
    }
}

/// What a parcel's colour says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParcelStatus {
    NoRisk,
    Treated,
    PartlyTreated,
    Untreated,
}

impl ParcelStatus {
    pub const ALL: [ParcelStatus; 4] = [
        ParcelStatus::NoRisk,
        ParcelStatus::Treated,
        ParcelStatus::PartlyTreated,
        ParcelStatus::Untreated,
    ];

    /// The status of a parcel's colour code (`ParcelStatus as u8`); untreated for any other.
    pub fn from_code(code: u8) -> ParcelStatus {
        Self::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(ParcelStatus::Untreated)
    }

    pub fn label(self) -> &'static str {
        match self {
            ParcelStatus::NoRisk => "no risk 无风险",
            ParcelStatus::Treated => "treated 已落实",
            ParcelStatus::PartlyTreated => "partly treated 部分落实",
            ParcelStatus::Untreated => "untreated 未落实",
        }
    }

    pub fn fill(self) -> Color32 {
        match self {
            ParcelStatus::NoRisk => Color32::from_rgb(168, 204, 140),
            ParcelStatus::Treated => Color32::from_rgb(46, 134, 193),
            ParcelStatus::PartlyTreated => Color32::from_rgb(155, 89, 182),
            ParcelStatus::Untreated => Color32::from_rgb(120, 20, 20),
        }
    }
}

/// The change map's fill of an after-year parcel by how it changed, and the share of the
/// parcels' opacity it gets: unchanged parcels faint, so that the changes stand out.
pub fn change_fill(kind: Option<ChangeKind>) -> (Color32, f32) {
    let c = match kind {
        None => return (Color32::from_rgb(190, 190, 190), 0.35),
        Some(ChangeKind::New) => Color32::from_rgb(39, 174, 96),
        Some(ChangeKind::Split) => Color32::from_rgb(230, 126, 34),
        Some(ChangeKind::Merged) => Color32::from_rgb(142, 68, 173),
        Some(ChangeKind::Removed) => REMOVED_OUTLINE,
        Some(ChangeKind::Geometry) => Color32::from_rgb(241, 196, 15),
        Some(ChangeKind::Measure) => Color32::from_rgb(41, 128, 185),
        Some(ChangeKind::Status) => Color32::from_rgb(192, 57, 43),
    };
    (c, 1.0)
}

/// The change map's removed before-year parcels: dashed outlines, in a colour no fill uses
/// and that reads on the light map and on the dark legend alike.
pub const REMOVED_OUTLINE: Color32 = Color32::from_rgb(220, 0, 140);

/// Region boundaries (a reference layer): a light fill, a grey-violet outline, labels.
pub const REGION_FILL: Color32 = Color32::from_rgb(200, 200, 230);
/// The fill's share of the layer's opacity: light, so that the layers above stay legible.
pub const REGION_FILL_SHARE: f32 = 0.3;
pub const REGION_OUTLINE: Color32 = Color32::from_rgb(90, 70, 140);
pub const REGION_LABEL: Color32 = Color32::from_rgb(50, 30, 100);
pub const REGION_LABEL_SIZE: f32 = 13.0;
pub const REGION_OPACITY: f32 = 0.9;

pub const RISK_OPACITY: f32 = 0.45;
pub const PARCEL_OPACITY: f32 = 0.85;
pub const MAP_BACKGROUND: Color32 = Color32::from_rgb(245, 243, 238);
pub const SELECTION: Color32 = Color32::from_rgb(0, 200, 255);
/// Parcels read but not analysed yet (the map while the layers load).
pub const PARCEL_PENDING: Color32 = Color32::from_rgb(140, 140, 140);
pub const PARCEL_OUTLINE: Color32 = Color32::from_rgb(60, 60, 60);
/// Below this many map units per screen point parcels get outlines.
pub const OUTLINE_SCALE: f64 = 1.5;
/// Risk-area outlines are drawn below this many map units per point.
pub const RISK_OUTLINE_SCALE: f64 = 60.0;

/// Layer visibility and opacity (saved between runs).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LayerStyle {
    pub show_risk: bool,
    pub show_parcels: bool,
    pub risk_opacity: f32,
    pub parcel_opacity: f32,
    /// The boundary layer of regions, where one is loaded.
    pub show_regions: bool,
    pub region_opacity: f32,
}

impl Default for LayerStyle {
    fn default() -> Self {
        LayerStyle {
            show_risk: true,
            show_parcels: true,
            risk_opacity: RISK_OPACITY,
            parcel_opacity: PARCEL_OPACITY,
            show_regions: true,
            region_opacity: REGION_OPACITY,
        }
    }
}
