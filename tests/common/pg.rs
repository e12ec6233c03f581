//! A database of its own for a test, on the PostgreSQL server `SOILRISK_TEST_PG` names
//! (`.ci/postgis start DIR` starts one and prints the variables). Where the variable is not
//! set, a test that needs the server skips with a printed notice; with
//! `SOILRISK_REQUIRE_TOOLS=1` (set by `.ci/run`) it fails instead. Layers are loaded with
//! GDAL's `ogr2ogr`, a tool soilrisk did not write. Shared with the window's tests, which
//! include this file by path.

#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure is a failed test

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's URL, as soilrisk names a database (`postgresql://USER@HOST:PORT/DB`).
pub const SERVER_VAR: &str = "SOILRISK_TEST_PG";

/// A database created for one test, dropped when the test ends.
pub struct TestDb {
    /// `postgresql://USER@HOST:PORT/` (ends with the slash).
    base: String,
    pub user: String,
    pub host: String,
    pub port: u16,
    pub name: String,
}

/// Whether the tests are told to fail rather than skip where a tool is missing.
fn required() -> bool {
    std::env::var_os("SOILRISK_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty() && v != "0")
}

impl TestDb {
    /// A new database with PostGIS, or `None` (with a notice) where no server is given.
    pub fn new(label: &str) -> Option<TestDb> {
        let Some(server) = std::env::var(SERVER_VAR).ok().filter(|s| !s.is_empty()) else {
            assert!(
                !required(),
                "this test needs a PostgreSQL server with PostGIS and SOILRISK_REQUIRE_TOOLS is \
                 set; start one with `.ci/postgis start DIR` and export what it prints"
            );
            eprintln!(
                "notice: {SERVER_VAR} is not set (see .ci/postgis); this PostgreSQL test is skipped"
            );
            return None;
        };
        let rest = server
            .strip_prefix("postgresql://")
            .expect("SOILRISK_TEST_PG is postgresql://USER@HOST:PORT/DB");
        let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, hostport) = authority.split_once('@').expect("USER@HOST:PORT");
        let (host, port) = hostport.rsplit_once(':').expect("HOST:PORT");
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "soilrisk_{label}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let db = TestDb {
            base: format!("postgresql://{user}@{host}:{port}/"),
            user: user.to_string(),
            host: host.to_string(),
            port: port.parse().expect("a port number"),
            name,
        };
        db.psql_on("postgres", &format!("CREATE DATABASE \"{}\"", db.name));
        db.psql("CREATE EXTENSION postgis");
        Some(db)
    }

    /// The database's URL without a table.
    pub fn url(&self) -> String {
        format!("{}{}", self.base, self.name)
    }

    /// The URL of a table, its name written as given (percent-encode what needs it).
    pub fn table(&self, table: &str) -> String {
        format!("{}?table={table}", self.url())
    }

    /// Runs SQL through `psql` on this database; its unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_on(&self.name, sql)
    }

    /// `psql` on `database` of the server, quiet and without the user's `.psqlrc`.
    fn psql_command(&self, database: &str) -> Command {
        let mut cmd = Command::new("psql");
        cmd.args(["-X", "-q", "-h", &self.host, "-p", &self.port.to_string()])
            .args(["-U", &self.user, "-d", database]);
        cmd
    }

    fn psql_on(&self, database: &str, sql: &str) -> String {
        let out = self
            .psql_command(database)
            .args(["-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string()
    }

    /// Loads a layer file as `table` with GDAL's `ogr2ogr` (names folded to lower case, as
    /// GDAL's PostgreSQL driver does; polygons promoted to multipolygons).
    pub fn load(&self, file: &Path, table: &str) {
        let status = Command::new("ogr2ogr")
            .args(["-f", "PostgreSQL"])
            .arg(format!(
                "PG:host={} port={} user={} dbname={}",
                self.host, self.port, self.user, self.name
            ))
            .arg(file)
            .args([
                "-nln",
                table,
                "-nlt",
                "PROMOTE_TO_MULTI",
                "-lco",
                "GEOMETRY_NAME=geom",
            ])
            .args(["-lco", "SPATIAL_INDEX=GIST"])
            .status()
            .expect("ogr2ogr runs");
        assert!(status.success(), "ogr2ogr {}", file.display());
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = self
            .psql_command("postgres")
            .arg("-c")
            .arg(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .output();
    }
}
