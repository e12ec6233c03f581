//! Layers in containers of several layers (a File Geodatabase written by GDAL): dropped on the
//! window, the layer chooser asks which layer, once for each side.

use std::path::Path;
use std::process::Command;

use super::*;

// The integration tests' helper: skip with a notice where the program is missing, or fail
// under `SOILRISK_REQUIRE_TOOLS=1` (set by `.ci/run`).
#[path = "../../../tests/common/tool.rs"]
mod tool;

/// The sample's risk areas and parcels as two layers of one File Geodatabase, the parcels
/// under the land survey's Chinese name.
fn sample_geodatabase(gdb: &Path) {
    for (layer, name) in [("risk_areas", "risk_areas"), ("parcels", "地类图斑")] {
        let mut cmd = Command::new("ogr2ogr");
        cmd.args(["-f", "OpenFileGDB"]);
        if gdb.exists() {
            cmd.arg("-update");
        }
        let status = cmd
            .arg(gdb)
            .arg(sample(&format!("{layer}.shp")))
            .args(["-nln", name])
            .status()
            .unwrap();
        assert!(status.success(), "ogr2ogr {layer}");
    }
}

fn drop_as(h: &mut Harness<'_, SoilriskApp>, path: &Path, side: &str, layer: &str) {
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path.to_path_buf())));
    h.run_steps(3);
    h.get_by_label(side).click();
    h.run_steps(2);
    wait_until(h, "the layer question", |a| {
        a.session.choose_member.is_some()
    });
    h.run_steps(2);
    let members = &h.state().session.choose_member.as_ref().unwrap().members;
    assert_eq!(members, &["risk_areas", "地类图斑"]);
    // `SOILRISK_DOCS_SHOTS=DIR` writes the README's picture of the question.
    if let Some(out) = std::env::var_os("SOILRISK_DOCS_SHOTS")
        && side == "Parcels"
    {
        h.render()
            .unwrap()
            .save(PathBuf::from(out).join("window_choose_layer.png"))
            .unwrap();
    }
    h.get_by_label(layer).click();
    h.run_steps(2);
    wait_until(h, "the chosen layer", |a| {
        a.session.loading.is_none() && a.session.choose_member.is_none()
    });
    h.run_steps(2);
    assert!(
        h.state().session.error.is_none(),
        "{:?}",
        h.state().session.error
    );
}

#[test]
fn a_geodatabase_of_both_layers_dropped_twice_opens_one_layer_for_each_side() {
    if !tool::tool("ogr2ogr") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let gdb = dir.path().join("土壤.gdb");
    sample_geodatabase(&gdb);
    let mut h = loaded();
    let before = h.state().session.current().unwrap().summary.clone();

    drop_as(&mut h, &gdb, "Risk areas", "risk_areas");
    let a = h.state().session.current().unwrap().analysis.clone();
    assert_eq!(a.risk.path, gdb.join("risk_areas"));
    assert!(a.parcels.path.ends_with("parcels.shp"));
    assert_eq!(a.risk_areas.len(), 3_568);

    // The risk side is now a layer of the geodatabase; the geodatabase dropped again is
    // asked about for the parcels.
    drop_as(&mut h, &gdb, "Parcels", "地类图斑");
    let s = h.state().session.current().unwrap();
    assert_eq!(s.analysis.risk.path, gdb.join("risk_areas"));
    assert_eq!(s.analysis.parcels.path, gdb.join("地类图斑"));
    assert_eq!(s.summary.parcels, before.parcels);
    assert_eq!(s.summary.parcels_at_risk, before.parcels_at_risk);
    // GDAL stores coordinates on a 0.1 mm grid: areas agree to well under a millionth.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert!(
        close(s.summary.contaminated_area_m2, before.contaminated_area_m2),
        "{} against {}",
        s.summary.contaminated_area_m2,
        before.contaminated_area_m2
    );
    assert!(close(
        s.summary.safe_utilization_rate.unwrap(),
        before.safe_utilization_rate.unwrap()
    ));
}
