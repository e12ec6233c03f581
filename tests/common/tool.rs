//! Outside programs the tests call (GDAL's `ogr2ogr`, poppler's `pdftotext`, ...). Shared
//! with the window's tests in `src/app/tests/`, which include this file by path.

/// Whether the outside program `name` (GDAL's `ogr2ogr`, poppler's `pdftotext`, ...) runs
/// here. Where it does not, a test that needs it skips with a printed notice; with
/// `SOILRISK_REQUIRE_TOOLS=1` (set by `.ci/run`) it fails instead, so CI always runs it.
pub fn tool(name: &str) -> bool {
    let found = std::process::Command::new(name)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("SOILRISK_REQUIRE_TOOLS").is_none_or(|v| v.is_empty() || v == "0"),
            "{name} is needed by this test and SOILRISK_REQUIRE_TOOLS is set; install it \
             (.ci/run lists the packages)"
        );
        eprintln!("notice: {name} is not installed; this check is skipped");
    }
    found
}
