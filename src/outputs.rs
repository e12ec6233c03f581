//! The output files, declared once in [`OUTPUTS`]: what `analyze --out DIR` writes and what
//! the window's Export menu offers. One function writes any of them ([`write()`], atomically,
//! through `export`), one writes `analyze`'s set ([`write_set`]), and one refuses a
//! destination that would replace an input layer's file ([`refuse_overwriting_inputs`]),
//! a zip member's archive and a shapefile's companions included. Both front ends call these.

use std::path::{Path, PathBuf};

use crate::error::{ExportError, OutputError};
use crate::export::{ToWgs84, write_parcels, write_risk_areas, write_summary};
use crate::export_gpkg::write_results_gpkg;
use crate::io::formats;
use crate::pipeline::{Analysis, Control};
use crate::stats::Summary;
use crate::table;

/// An output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Parcels,
    RiskAreas,
    Summary,
    RegionsCsv,
    TablesXlsx,
    Gpkg,
}

/// One row of the output table.
#[derive(Debug)]
pub struct OutputDef {
    pub output: Output,
    /// The file's name in an output folder, and the name a save dialog offers.
    pub file_name: &'static str,
    /// The window's Export menu entry.
    pub label: &'static str,
    /// Whether `analyze --out DIR` writes it.
    pub in_set: bool,
}

/// Every output, in the Export menu's order.
pub const OUTPUTS: [OutputDef; 6] = [
    OutputDef {
        output: Output::Parcels,
        file_name: "parcels.geojson",
        label: "Parcels at risk (GeoJSON)…",
        in_set: true,
    },
    OutputDef {
        output: Output::RiskAreas,
        file_name: "risk_areas.geojson",
        label: "Risk areas (GeoJSON)…",
        in_set: true,
    },
    OutputDef {
        output: Output::Summary,
        file_name: "summary.json",
        label: "Summary (JSON)…",
        in_set: true,
    },
    OutputDef {
        output: Output::RegionsCsv,
        file_name: "regions.csv",
        label: "Regions (CSV)…",
        in_set: true,
    },
    OutputDef {
        output: Output::TablesXlsx,
        file_name: "tables.xlsx",
        label: "Regions (Excel)…",
        in_set: true,
    },
    OutputDef {
        output: Output::Gpkg,
        file_name: "results.gpkg",
        label: "Results (GeoPackage)…",
        in_set: true,
    },
];

impl Output {
    /// This output's row of [`OUTPUTS`].
    pub fn def(self) -> &'static OutputDef {
        &OUTPUTS[self as usize]
    }
}

/// Refuses any of `outputs` that is a file of one of the `inputs` layers: the layer's file,
/// its container (`archive.zip` for `archive.zip/member.shp`) or a companion (a shapefile's
/// `.dbf`, `.prj`, ...).
pub fn refuse_overwriting_inputs(outputs: &[PathBuf], inputs: &[&Path]) -> Result<(), OutputError> {
    for o in outputs {
        // A destination that does not exist yet cannot be an input.
        let Ok(o_canon) = o.canonicalize() else {
            continue;
        };
        for input in inputs {
            for file in formats::files_of(input) {
                if file.canonicalize().ok().as_ref() == Some(&o_canon) {
                    return Err(OutputError::OverwritesInput {
                        output: o.clone(),
                        input: input.to_path_buf(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Writes `output` to `path` atomically (a temporary file renamed when complete): the
/// GeoJSON files from `analysis` in WGS 84 through `to`, the GeoPackage from `analysis` in
/// its own CRS, the tables from `summary`. A
/// cancelled write leaves `path` as it was (`export::is_cancelled`).
pub fn write(
    output: Output,
    path: &Path,
    analysis: &Analysis,
    summary: &Summary,
    to: &ToWgs84,
    ctl: Control<'_>,
) -> Result<(), ExportError> {
    match output {
        Output::Parcels => write_parcels(path, analysis, to, ctl),
        Output::RiskAreas => write_risk_areas(path, analysis, to, ctl),
        Output::Summary => write_summary(path, summary),
        Output::RegionsCsv => table::write_csv(path, summary),
        Output::TablesXlsx => table::write_xlsx(path, summary),
        Output::Gpkg => write_results_gpkg(path, analysis, ctl),
    }
}

/// The way from the analysis CRS to WGS 84 for the GeoJSON outputs.
pub fn to_wgs84(analysis: &Analysis) -> Result<ToWgs84, OutputError> {
    ToWgs84::over(analysis.crs.as_ref(), analysis.risk.extent()).map_err(|reason| {
        OutputError::Crs {
            path: analysis.risk.path.clone(),
            reason,
        }
    })
}

/// The files `write_set` writes into `dir`, in [`OUTPUTS`] order.
pub fn set_paths(dir: &Path) -> Vec<PathBuf> {
    OUTPUTS
        .iter()
        .filter(|o| o.in_set)
        .map(|o| dir.join(o.file_name))
        .collect()
}

/// Writes `analyze`'s outputs into `dir` (created if missing) for the target rate `target`,
/// refusing to replace a file of `inputs`. The parcels (most of the work) are written on a
/// thread of their own while the risk areas are written and the summary is made with its
/// checks (`Analysis::checked_summary`) and written, with the county table. Gives the
/// summary and the files written.
pub fn write_set(
    dir: &Path,
    analysis: &Analysis,
    target: f64,
    inputs: &[&Path],
) -> Result<(Summary, Vec<PathBuf>), OutputError> {
    let paths = set_paths(dir);
    refuse_overwriting_inputs(&paths, inputs)?;
    std::fs::create_dir_all(dir).map_err(|source| ExportError {
        path: dir.to_path_buf(),
        source,
    })?;
    let to = to_wgs84(analysis)?;
    let path_of = |o: Output| dir.join(o.def().file_name);
    let summary = std::thread::scope(|scope| -> Result<Summary, OutputError> {
        let parcels = std::thread::Builder::new()
            .name("export-parcels".into())
            .spawn_scoped(scope, || {
                write_parcels(&path_of(Output::Parcels), analysis, &to, Control::default())
            })
            .map_err(|source| ExportError {
                path: path_of(Output::Parcels),
                source,
            })?;
        let gpkg = std::thread::Builder::new()
            .name("export-gpkg".into())
            .spawn_scoped(scope, || {
                write_results_gpkg(&path_of(Output::Gpkg), analysis, Control::default())
            })
            .map_err(|source| ExportError {
                path: path_of(Output::Gpkg),
                source,
            })?;
        write_risk_areas(
            &path_of(Output::RiskAreas),
            analysis,
            &to,
            Control::default(),
        )?;
        let summary = analysis.checked_summary(target);
        write_summary(&path_of(Output::Summary), &summary)?;
        table::write_csv(&path_of(Output::RegionsCsv), &summary)?;
        table::write_xlsx(&path_of(Output::TablesXlsx), &summary)?;
        parcels.join().map_err(|_| OutputError::Panicked {
            path: path_of(Output::Parcels),
        })??;
        gpkg.join().map_err(|_| OutputError::Panicked {
            path: path_of(Output::Gpkg),
        })??;
        Ok(summary)
    })?;
    Ok((summary, paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_output_order() {
        for (i, o) in OUTPUTS.iter().enumerate() {
            assert_eq!(o.output as usize, i);
        }
        let names: Vec<String> = set_paths(Path::new("out"))
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "out/parcels.geojson",
                "out/risk_areas.geojson",
                "out/summary.json",
                "out/regions.csv",
                "out/tables.xlsx",
                "out/results.gpkg"
            ]
        );
    }

    #[test]
    fn an_output_onto_an_input_or_its_archive_or_companion_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let shp = dir.path().join("p.shp");
        for ext in ["shp", "dbf", "shx"] {
            std::fs::write(shp.with_extension(ext), b"").unwrap();
        }
        let zip = dir.path().join("a.zip");
        std::fs::write(&zip, b"PK").unwrap();
        let member = zip.join("r.shp");
        let inputs: [&Path; 2] = [&shp, &member];
        for taken in [shp.clone(), shp.with_extension("dbf"), zip.clone()] {
            let e = refuse_overwriting_inputs(std::slice::from_ref(&taken), &inputs).unwrap_err();
            assert!(
                e.to_string()
                    .contains("would overwrite a file of an input layer"),
                "{e}"
            );
        }
        let free = [dir.path().join("summary.json"), shp.with_extension("prj")];
        assert!(refuse_overwriting_inputs(&free, &inputs).is_ok());
        // A GeoJSON layer claims its own file only, not another file of the same stem.
        let json = dir.path().join("parcels.json");
        std::fs::write(&json, b"{}").unwrap();
        std::fs::write(dir.path().join("parcels.geojson"), b"{}").unwrap();
        let again = [dir.path().join("parcels.geojson")];
        assert!(refuse_overwriting_inputs(&again, &[&json]).is_ok());
        assert!(refuse_overwriting_inputs(std::slice::from_ref(&json), &[&json]).is_err());
    }
}
