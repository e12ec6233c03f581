//! PostGIS tables as layers, against a real server (`SOILRISK_TEST_PG`, started by `.ci/postgis`
//! in CI): the sample loaded with GDAL's `ogr2ogr` analyses as the files do; each connection
//! error says what is wrong; a session ended mid-read fails the run; names with quotes,
//! semicolons and Chinese characters are quoted, never pasted into SQL. Without a server
//! each test skips with a notice (and fails under `SOILRISK_REQUIRE_TOOLS=1`).
#![allow(clippy::unwrap_used)] // test helpers: a failure is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::pg::TestDb;
use common::tool;
use serde_json::Value;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(name)
}

/// A database with the sample's risk areas and parcels loaded by `ogr2ogr`, or `None` where
/// no server (or no `ogr2ogr`) is at hand.
fn sample_db(label: &str) -> Option<TestDb> {
    if !tool("ogr2ogr") {
        return None;
    }
    let db = TestDb::new(label)?;
    db.load(&sample("risk_areas.shp"), "risk_areas");
    db.load(&sample("parcels.shp"), "parcels");
    Some(db)
}

fn soilrisk(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(common::bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every number in `a` within `tol` of the one in `b`, relative to the larger of the two and
/// `floor` (so an area of a few m² is held to `tol × floor` m²); strings, counts and nulls
/// equal; the warnings (which name the sources) left out.
fn assert_close(a: &Value, b: &Value, tol: f64, floor: f64, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: Vec<&String> = x.keys().collect();
            assert_eq!(keys, y.keys().collect::<Vec<_>>(), "keys of {at}");
            for (k, v) in x {
                if k != "warnings" {
                    assert_close(v, &y[k], tol, floor, &format!("{at}.{k}"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length of {at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_close(v, w, tol, floor, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= tol * x.abs().max(y.abs()).max(floor),
                "{at}: {x} against {y}"
            );
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_sample_from_postgis_analyses_as_the_files_do() {
    let Some(db) = sample_db("analyze") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (from_db, from_files) = (dir.path().join("db"), dir.path().join("files"));
    // The flags name the shapefile's upper-case fields; PostGIS folded them to lower case.
    let flags = ["--region-field", "COUNTY", "--parcel-id-field", "PARCEL_ID"];
    let o = soilrisk(
        &[
            &["analyze", "--risk", &db.table("risk_areas"), "--parcels"],
            &[
                db.table("public.parcels").as_str(),
                "--out",
                from_db.to_str().unwrap(),
            ][..],
            &flags[..],
        ]
        .concat(),
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let files = common::analyze(
        &sample("risk_areas.shp"),
        &sample("parcels.shp"),
        &from_files,
        &flags,
    );
    assert!(files.status.success(), "{}", stderr(&files));
    let (a, b) = (summary(&from_db), summary(&from_files));
    assert_close(&a, &b, 1e-9, 1.0, "summary");
    assert_eq!(a["parcels"], 30000);
    assert!(a["by_region"].as_array().unwrap().len() > 10);
    // The per-parcel file too: the same parcels at risk, with the same numbers.
    assert_close(
        &properties(&from_db, "parcels.geojson"),
        &properties(&from_files, "parcels.geojson"),
        1e-9,
        1.0,
        "parcels",
    );
}

#[test]
fn info_describes_a_table() {
    let Some(db) = sample_db("info") else { return };
    let o = soilrisk(&["info", &db.table("parcels")], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("format:     PostgreSQL/PostGIS"), "{text}");
    assert!(text.contains("geometry:   MultiPolygon"), "{text}");
    assert!(text.contains("features:   30000"), "{text}");
    assert!(text.contains("EPSG:4544"), "{text}");
    assert!(text.contains("parcel_id"), "{text}");
    // The geometry and the key are not fields.
    assert!(
        !text.contains("ogc_fid") && !text.contains("  geom "),
        "{text}"
    );
}

/// The one-line reason `analyze` gives (exit status 1) for a risk layer at `url`.
fn failure(url: &str, env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = soilrisk(
        &[
            "analyze",
            "--risk",
            url,
            "--parcels",
            sample("parcels.shp").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        env,
    );
    assert_eq!(o.status.code(), Some(1), "{url}: {}", stderr(&o));
    assert!(!out.exists(), "a failed run wrote {}", out.display());
    stderr(&o)
}

#[test]
fn each_connection_error_says_what_is_wrong() {
    let Some(db) = TestDb::new("errors") else {
        return;
    };
    let table = db.table("risk_areas");
    // Nothing listens on port 1.
    let e = failure(
        &format!("postgresql://{}@127.0.0.1:1/{}?table=t", db.user, db.name),
        &[],
    );
    assert!(
        e.contains("cannot reach the PostgreSQL server at 127.0.0.1:1"),
        "{e}"
    );
    // A wrong password, and none at all.
    let e = failure(&table, &[("PGPASSWORD", "wrong")]);
    assert!(
        e.contains(&format!("authentication failed for user {}", db.user)),
        "{e}"
    );
    let nofile = tempfile::tempdir().unwrap();
    let none = nofile.path().join("none");
    let e = failure(
        &table,
        &[("PGPASSWORD", ""), ("PGPASSFILE", none.to_str().unwrap())],
    );
    assert!(
        e.contains("asks for a password") && e.contains("PGPASSWORD"),
        "{e}"
    );
    // No such database.
    let e = failure(
        &format!(
            "postgresql://{}@{}:{}/no_such_db?table=t",
            db.user, db.host, db.port
        ),
        &[],
    );
    assert!(e.contains("there is no database no_such_db"), "{e}");
    // No such table: the message lists the polygon tables there are.
    db.psql("CREATE TABLE fields (id int, geom geometry(MultiPolygon, 4544))");
    let e = failure(&db.table("public.nothing"), &[]);
    assert!(e.contains("no table public.nothing"), "{e}");
    assert!(e.contains("public.fields"), "{e}");
    // A table with no geometry column.
    db.psql("CREATE TABLE plain (id int)");
    let e = failure(&db.table("plain"), &[]);
    assert!(e.contains("the table holds no geometries"), "{e}");
    // A column of lines.
    db.psql("CREATE TABLE roads (id int, geom geometry(LineString, 4544))");
    let e = failure(&db.table("roads"), &[]);
    assert!(
        e.contains("LineString") && e.contains("soilrisk needs polygons"),
        "{e}"
    );
    // Mixed SRIDs in a column that does not fix one.
    db.psql(
        "CREATE TABLE mixed (id int, geom geometry); \
         INSERT INTO mixed VALUES \
         (1, ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4544)), \
         (2, ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4490))",
    );
    let e = failure(&db.table("mixed"), &[]);
    assert!(e.contains("several SRIDs (4490, 4544)"), "{e}");
    // A database without PostGIS.
    db.psql(&format!("CREATE DATABASE \"{}_bare\"", db.name));
    let e = failure(
        &format!(
            "postgresql://{}@{}:{}/{}_bare?table=t",
            db.user, db.host, db.port, db.name
        ),
        &[],
    );
    db.psql(&format!("DROP DATABASE \"{}_bare\"", db.name));
    assert!(e.contains("has no PostGIS extension"), "{e}");
    // A password in the URL is refused before any connection.
    let e = failure(
        &format!(
            "postgresql://{}:secret@{}:{}/{}?table=t",
            db.user, db.host, db.port, db.name
        ),
        &[],
    );
    assert!(e.contains("never from a command line"), "{e}");
    assert!(!e.contains("secret") && e.contains(":***@"), "{e}");
}

#[test]
fn the_password_comes_from_the_password_file() {
    let Some(db) = TestDb::new("pgpass") else {
        return;
    };
    db.psql(
        "CREATE TABLE fields (id int, geom geometry(Polygon, 4544)); \
             INSERT INTO fields VALUES (1, ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 0))', 4544))",
    );
    let password = std::env::var("PGPASSWORD").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgpass");
    std::fs::write(
        &file,
        format!(
            "# soilrisk test\nother:1:*:*:nope\n{}:{}:*:{}:{password}\n",
            db.host, db.port, db.user
        ),
    )
    .unwrap();
    let env = [("PGPASSWORD", ""), ("PGPASSFILE", file.to_str().unwrap())];
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let o = soilrisk(&["info", &db.table("fields")], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("features:   1"));
    // A file others can read is passed over, as libpq passes it over, and says so.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = soilrisk(&["info", &db.table("fields")], &env);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("asks for a password"), "{}", stderr(&o));
    }
}

#[test]
fn names_with_quotes_semicolons_and_chinese_are_quoted_not_pasted() {
    let Some(db) = sample_db("names") else { return };
    db.psql("CREATE TABLE keep (x int); INSERT INTO keep VALUES (1)");
    db.psql(
        "CREATE SCHEMA \"土壤 \"\"风险\"\"\"; \
         ALTER TABLE parcels SET SCHEMA \"土壤 \"\"风险\"\"\"; \
         ALTER TABLE \"土壤 \"\"风险\"\"\".parcels RENAME TO \"地类图斑\"\"; DROP TABLE keep; --\"; \
         ALTER TABLE risk_areas RENAME COLUMN geom TO \"形状; DELETE FROM keep\"; \
         ALTER TABLE \"土壤 \"\"风险\"\"\".\"地类图斑\"\"; DROP TABLE keep; --\" \
             RENAME COLUMN ogc_fid TO \"x{parcel_geom}y{parcels}z\"; \
         ALTER TABLE \"土壤 \"\"风险\"\"\".\"地类图斑\"\"; DROP TABLE keep; --\" \
             RENAME COLUMN county TO \"{fields}; DROP TABLE keep\"",
    );
    // The table as a URL names it: quoted as SQL quotes, then percent-encoded.
    let table = soilrisk::io::postgis::TableName {
        schema: Some("土壤 \"风险\"".into()),
        table: "地类图斑\"; DROP TABLE keep; --".into(),
    };
    let server = soilrisk::io::postgis::Server {
        user: db.user.clone(),
        host: db.host.clone(),
        port: db.port,
        database: db.name.clone(),
    };
    let parcels = server.table_url(&table, None);
    let risk = server.table_url(
        &soilrisk::io::postgis::TableName {
            schema: None,
            table: "risk_areas".into(),
        },
        Some("形状; DELETE FROM keep"),
    );
    let o = soilrisk(&["info", &parcels], &[]);
    assert!(o.status.success(), "{parcels}: {}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("features:   30000"));
    // Both engines; the pushdown fills overlay.sql with these names.
    let dir = tempfile::tempdir().unwrap();
    for engine in ["local", "postgis"] {
        let out = dir.path().join(engine);
        let o = soilrisk(
            &[
                "analyze",
                "--risk",
                &risk,
                "--parcels",
                &parcels,
                "--out",
                out.to_str().unwrap(),
                "--region-field",
                "{fields}; DROP TABLE keep",
                "--engine",
                engine,
            ],
            &[],
        );
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert_eq!(summary(&out)["parcels"], 30000);
        assert!(summary(&out)["by_region"].as_array().unwrap().len() > 10);
        assert_eq!(db.psql("SELECT count(*) FROM keep"), "1");
    }
    assert_close(
        &summary(&dir.path().join("postgis")),
        &summary(&dir.path().join("local")),
        1e-6,
        1.0,
        "summary",
    );
}

/// Ends, from outside, soilrisk's sessions in the test's database running a statement that
/// starts with `statement` (`FETCH`, `COPY`), as a server stopping or an administrator would.
struct SessionEnder<'a> {
    db: &'a TestDb,
    statement: &'static str,
    ended: std::sync::atomic::AtomicBool,
}

impl<'a> SessionEnder<'a> {
    fn new(db: &'a TestDb, statement: &'static str) -> Self {
        SessionEnder {
            db,
            statement,
            ended: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Ends such sessions, until one was ended.
    fn try_now(&self) {
        if !self.ended() {
            let n = self.db.psql(&format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'soilrisk' \
                 AND query LIKE '{}%'",
                self.statement
            ));
            self.ended
                .store(n != "0", std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn ended(&self) -> bool {
        self.ended.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn a_session_ended_mid_read_fails_the_run() {
    let Some(db) = sample_db("lost") else { return };
    let url = PathBuf::from(db.table("parcels"));
    // Ten rows a batch; the server ends the session after the first batch.
    let opts = soilrisk::io::ReadOptions {
        batch_bytes: Some(10 * 1024),
        ..Default::default()
    };
    let parsed = soilrisk::io::postgis::parse(&url).unwrap();
    let reader = soilrisk::io::postgis::PostGisReader::open(&parsed, &url, &opts).unwrap();
    let pid = reader.backend_pid();
    let mut reader = soilrisk::io::LayerReader::new(reader);
    let first = reader.next_batch().unwrap().unwrap();
    assert_eq!(first.len(), 10);
    assert_eq!(db.psql(&format!("SELECT pg_terminate_backend({pid})")), "t");
    // The batch or two fetched ahead come; then the error, naming the rows read before it.
    let mut read = first.len();
    let e = loop {
        match reader.next_batch() {
            Ok(Some(batch)) => read += batch.len(),
            Ok(None) => panic!("the read ended without an error after {read} rows"),
            Err(e) => break e.to_string(),
        }
    };
    assert!(read <= 30, "{read} rows read after the session ended");
    assert!(
        e.contains(&format!(
            "cannot read the table after row {read}: the connection to the server was lost"
        )),
        "{e}"
    );
    assert!(e.ends_with(&db.table("parcels")), "{e}");

    // Through the whole analysis: the run fails and says why.
    let mut req = soilrisk::pipeline::Request::new(db.table("risk_areas"), url.clone());
    req.parcel_read.batch_bytes = Some(10 * 1024);
    // The parcels are read while they are measured: at the first progress report after
    // their cursor is open, the server ends that session.
    let ender = SessionEnder::new(&db, "FETCH");
    let progress = |_: soilrisk::pipeline::Phase, _: f32| ender.try_now();
    let ctl = soilrisk::pipeline::Control {
        cancel: None,
        progress: Some(&progress),
        arrived: None,
    };
    let Err(e) = soilrisk::pipeline::run(&req, ctl) else {
        panic!("the run went on after its session ended")
    };
    assert!(ender.ended());
    assert!(
        e.to_string().contains("connection to the server was lost"),
        "{e}"
    );
}

/// `(rows, total contaminated m², total untreated m²)` of the written parcels' table, and
/// the rows of the regions' table, as `psql` reads them.
fn written(db: &TestDb, schema: &str) -> (String, String) {
    let s = format!("\"{}\"", schema.replace('"', "\"\""));
    (
        db.psql(&format!(
            "SELECT count(*) || ' ' || sum(contaminated_area_m2) || ' ' || sum(untreated_area_m2) \
             FROM {s}.soilrisk_parcels"
        )),
        db.psql(&format!(
            "SELECT string_agg(region || ':' || coalesce(safe_utilization_rate::text, '-'), ',' ORDER BY fid) \
             FROM {s}.soilrisk_regions"
        )),
    )
}

#[test]
fn write_back_tables_read_back_and_a_second_run_replaces_them() {
    let Some(db) = sample_db("writeback") else {
        return;
    };
    let schema = "成果 \"2025\"";
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path| {
        let o = soilrisk(
            &[
                "analyze",
                "--risk",
                &db.table("risk_areas"),
                "--parcels",
                &db.table("parcels"),
                "--out",
                out.to_str().unwrap(),
                "--write-back",
                schema,
            ],
            &[],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("soilrisk_parcels"));
        summary(out)
    };
    let check = |s: &Value| {
        let (parcels, regions) = written(&db, schema);
        let numbers: Vec<f64> = parcels.split(' ').map(|n| n.parse().unwrap()).collect();
        assert_eq!(numbers[0], s["parcels_at_risk"].as_f64().unwrap());
        for (k, key) in [(1, "contaminated_area_m2"), (2, "untreated_area_m2")] {
            let want = s[key].as_f64().unwrap();
            assert!(
                (numbers[k] - want).abs() <= 1e-9 * want,
                "{key}: {} against {want}",
                numbers[k]
            );
        }
        let rows: Vec<&str> = regions.split(',').collect();
        let by_region = s["by_region"].as_array().unwrap();
        assert_eq!(rows.len(), by_region.len());
        for (row, r) in rows.iter().zip(by_region) {
            let (name, rate) = row.split_once(':').unwrap();
            assert_eq!(name, r["region"].as_str().unwrap());
            match r["safe_utilization_rate"].as_f64() {
                Some(want) => assert!((rate.parse::<f64>().unwrap() - want).abs() < 1e-12),
                None => assert_eq!(rate, "-"),
            }
        }
        assert_eq!(
            db.psql(
                "SELECT count(DISTINCT status) || ' ' || bool_and(ST_IsValid(geom)) || ' ' || \
                 min(ST_SRID(geom)) FROM \"成果 \"\"2025\"\"\".soilrisk_parcels"
            ),
            "2 true 4544"
        );
    };
    let first = run(&dir.path().join("first"));
    check(&first);
    // Half the parcels gone from the layer: the second run's tables replace the first's.
    db.psql("DELETE FROM parcels WHERE ogc_fid % 2 = 0");
    let second = run(&dir.path().join("second"));
    assert_ne!(second["parcels_at_risk"], first["parcels_at_risk"]);
    check(&second);
}

#[test]
fn a_write_back_that_fails_midway_leaves_the_earlier_tables() {
    let Some(db) = sample_db("midway") else {
        return;
    };
    let schema = "results";
    let req = soilrisk::pipeline::Request::new(db.table("risk_areas"), db.table("parcels"));
    let a = soilrisk::pipeline::run(&req, Default::default()).unwrap();
    let s = a.checked_summary(0.94);
    let server = soilrisk::io::postgis::parse(Path::new(&db.table("parcels")))
        .unwrap()
        .server;
    let w = soilrisk::write_back::write_back(&server, schema, &a, &s, Default::default()).unwrap();
    assert_eq!(w.parcels, s.parcels_at_risk);
    let before = written(&db, schema);
    // A second write, whose session the server ends while the parcels are being copied.
    let ender = SessionEnder::new(&db, "COPY");
    let progress = |_: soilrisk::pipeline::Phase, f: f32| {
        if f < 1.0 {
            ender.try_now();
        }
    };
    let ctl = soilrisk::pipeline::Control {
        cancel: None,
        progress: Some(&progress),
        arrived: None,
    };
    let e = soilrisk::write_back::write_back(&server, schema, &a, &s, ctl).unwrap_err();
    assert!(ender.ended());
    assert!(
        e.to_string().contains("connection to the server was lost"),
        "{e}"
    );
    assert_eq!(written(&db, schema), before);
    // A file layer has no database to write back into.
    let e = soilrisk::write_back::server_of(&sample("parcels.shp"), "results").unwrap_err();
    assert!(e.to_string().contains("this parcel layer is a file"), "{e}");
    // A schema the server would cut short, or none, is refused before any analysis.
    let parcels = PathBuf::from(db.table("parcels"));
    for bad in ["", &"长".repeat(22)] {
        let e = soilrisk::write_back::server_of(&parcels, bad).unwrap_err();
        assert!(e.to_string().contains("1 to 63 bytes"), "{e}");
    }
}

/// The properties of a GeoJSON output's features, in file order.
fn properties(dir: &Path, file: &str) -> Value {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
    Value::Array(
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"].clone())
            .collect(),
    )
}

#[test]
fn the_overlay_pushed_down_into_postgis_equals_the_local_engine() {
    let Some(db) = sample_db("pushdown") else {
        return;
    };
    // A surveyed area (as the land survey's TBMJ) a little off the geometric one.
    db.psql(
        "ALTER TABLE parcels ADD COLUMN tbmj double precision; \
         UPDATE parcels SET tbmj = round((ST_Area(geom) * 1.02)::numeric, 2)",
    );
    // Awkward parcels: self-intersecting ones (a bow-tie) inside a risk area and far from
    // every one, a parcel without geometry and an empty one. Each engine repairs, warns of
    // and counts them alike.
    db.psql(
        "INSERT INTO parcels (parcel_id, county, measure, tbmj, geom) \
         SELECT 'BT-IN', county, measure, 800, ST_Multi(ST_Translate(ST_GeomFromText( \
             'POLYGON((0 0,40 40,40 0,0 40,0 0))', 4544), ST_X(c), ST_Y(c))) \
         FROM (SELECT county, measure, ST_PointOnSurface(geom) AS c FROM parcels \
               WHERE ogc_fid = (SELECT min(p.ogc_fid) FROM parcels p JOIN risk_areas r \
                                ON ST_Within(p.geom, r.geom))) AS inside; \
         INSERT INTO parcels (parcel_id, county, measure, tbmj, geom) VALUES \
         ('BT-FAR', '梓潼县', '无', 800, ST_Multi(ST_GeomFromText( \
             'POLYGON((100 100,140 140,140 100,100 140,100 100))', 4544))), \
         ('NULL', '梓潼县', '无', 1, NULL), \
         ('EMPTY', '梓潼县', '无', 1, 'SRID=4544;MULTIPOLYGON EMPTY')",
    );
    let dir = tempfile::tempdir().unwrap();
    let (risk, parcels) = (db.table("risk_areas"), db.table("parcels"));
    for (k, basis) in ["planar", "ellipsoidal", "field:TBMJ"]
        .into_iter()
        .enumerate()
    {
        let local = dir.path().join(format!("local{k}"));
        let pushed = dir.path().join(format!("pushed{k}"));
        for (out, engine) in [(&local, "local"), (&pushed, "postgis")] {
            let o = soilrisk(
                &[
                    "analyze",
                    "--risk",
                    &risk,
                    "--parcels",
                    &parcels,
                    "--out",
                    out.to_str().unwrap(),
                    "--area",
                    basis,
                    "--engine",
                    engine,
                ],
                &[],
            );
            assert!(o.status.success(), "{basis} {engine}: {}", stderr(&o));
        }
        let (a, b) = (summary(&pushed), summary(&local));
        assert_eq!(a["area_basis"], basis);
        assert_eq!(a["warnings"], b["warnings"], "{basis}");
        let warnings = a["warnings"].to_string();
        assert!(warnings.contains("1 empty geometries"), "{warnings}");
        assert!(
            warnings.contains("1 feature(s) without geometry"),
            "{warnings}"
        );
        assert!(a["contaminated_area_m2"].as_f64().unwrap() > 1e6);
        assert_close(&a, &b, 1e-6, 1.0, &format!("{basis} summary"));
        // A parcel's areas to 1e-6 of a 100 m² field (0.1 mm²): sliver areas of a few m²
        // differ in their last digits between the local ellipsoidal areas (a grid of the
        // projection's scale) and PostGIS's geodesic ones.
        for file in ["parcels.geojson", "risk_areas.geojson"] {
            assert_close(
                &properties(&pushed, file),
                &properties(&local, file),
                1e-6,
                100.0,
                &format!("{basis} {file}"),
            );
        }
    }
}

#[test]
fn the_pushdown_refuses_what_it_cannot_do() {
    let Some(db) = sample_db("refusals") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = |risk: &str, parcels: &str, extra: &[&str]| {
        let mut args = vec!["analyze", "--risk", risk, "--parcels", parcels];
        args.extend(["--out", out.to_str().unwrap(), "--engine", "postgis"]);
        args.extend(extra);
        let o = soilrisk(&args, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(!out.exists());
        stderr(&o)
    };
    let shp = sample("risk_areas.shp");
    let e = run(shp.to_str().unwrap(), &db.table("parcels"), &[]);
    assert!(e.contains("this layer is a file"), "{e}");
    let e = run(
        &db.table("risk_areas"),
        &db.table("parcels"),
        &[
            "--regions",
            sample("counties.shp").to_str().unwrap(),
            "--regions-name-field",
            "NAME",
        ],
    );
    assert!(e.contains("runs in the local engine"), "{e}");
    db.psql(
        "CREATE TABLE risk_4490 AS SELECT ogc_fid, risk_id, risk_class, \
         ST_Transform(geom, 4490)::geometry(MultiPolygon, 4490) AS geom FROM risk_areas; \
         ALTER TABLE risk_4490 ADD PRIMARY KEY (ogc_fid); \
         CREATE TABLE risk_nokey AS SELECT * FROM risk_areas",
    );
    let e = run(&db.table("risk_4490"), &db.table("parcels"), &[]);
    assert!(
        e.contains("one SRID") && e.contains("4490") && e.contains("4544"),
        "{e}"
    );
    let e = run(&db.table("risk_nokey"), &db.table("parcels"), &[]);
    assert!(
        e.contains("primary key") && e.contains("public.risk_nokey"),
        "{e}"
    );
    // Beijing 1954 (EPSG:2432, Krasovsky's ellipsoid): ellipsoidal areas on WGS 84 would be
    // off by 3e-5.
    db.psql(
        "CREATE TABLE r54 AS SELECT ogc_fid, risk_id, risk_class, \
         ST_SetSRID(geom, 2432)::geometry(MultiPolygon, 2432) AS geom FROM risk_areas; \
         ALTER TABLE r54 ADD PRIMARY KEY (ogc_fid); \
         CREATE TABLE p54 AS SELECT ogc_fid, parcel_id, county, measure, \
         ST_SetSRID(geom, 2432)::geometry(MultiPolygon, 2432) AS geom FROM parcels; \
         ALTER TABLE p54 ADD PRIMARY KEY (ogc_fid)",
    );
    let e = run(
        &db.table("r54"),
        &db.table("p54"),
        &["--area", "ellipsoidal"],
    );
    assert!(e.contains("another ellipsoid"), "{e}");
}

#[test]
fn dates_read_as_iso_whatever_the_database_s_date_style() {
    let Some(db) = TestDb::new("dates") else {
        return;
    };
    db.psql(&format!(
        "ALTER DATABASE \"{}\" SET datestyle = 'SQL, DMY'; \
         CREATE TABLE t (k int PRIMARY KEY, surveyed date, updated timestamp, \
             geom geometry(Polygon, 4544)); \
         INSERT INTO t VALUES (1, '2026-04-01', '2026-04-01 08:30:00', \
             ST_MakeEnvelope(0, 0, 5, 5, 4544))",
        db.name
    ));
    let layer = soilrisk::io::read_layer(Path::new(&db.table("t")), &Default::default()).unwrap();
    let f = &layer.features[0];
    assert_eq!(
        layer.text(f, layer.field_index("surveyed").unwrap()),
        "2026-04-01"
    );
    assert_eq!(
        layer.text(f, layer.field_index("updated").unwrap()),
        "2026-04-01T08:30:00"
    );
}

#[test]
fn a_table_is_read_in_the_order_of_its_key() {
    let Some(db) = TestDb::new("order") else {
        return;
    };
    // Keys whose text order (1, 10, 11, 12, 2, ...) is not their order.
    db.psql(
        "CREATE TABLE t (k int PRIMARY KEY, name text, geom geometry(Polygon, 4544)); \
         INSERT INTO t SELECT k, 'n' || k, \
         ST_MakeEnvelope(k * 10, 0, k * 10 + 5, 5, 4544) FROM unnest(ARRAY[7, 12, 1, 10, 2, 11, 3]) AS k",
    );
    let layer = soilrisk::io::read_layer(Path::new(&db.table("t")), &Default::default()).unwrap();
    let names: Vec<String> = layer
        .features
        .iter()
        .map(|f| layer.text(f, layer.field_index("name").unwrap()))
        .collect();
    assert_eq!(names, ["n1", "n2", "n3", "n7", "n10", "n11", "n12"]);
    let records: Vec<usize> = layer.features.iter().map(|f| f.record).collect();
    assert_eq!(records, [1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn compare_reads_both_years_from_postgis_as_from_the_files() {
    let Some(db) = sample_db("compare") else {
        return;
    };
    db.load(&sample("parcels_2024.shp"), "parcels_2024");
    db.load(&sample("risk_areas_2024.shp"), "risk_areas_2024");
    let dir = tempfile::tempdir().unwrap();
    let lineage = sample("lineage_2024.csv");
    let run = |risk: &str, before_risk: &str, before: &str, after: &str, out: &Path| {
        let o = soilrisk(
            &[
                "compare",
                "--risk",
                risk,
                "--before-risk",
                before_risk,
                "--before",
                before,
                "--after",
                after,
                "--lineage",
                lineage.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &[],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(out.join("compare.json")).unwrap();
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let path = |name: &str| sample(name).to_str().unwrap().to_string();
    let from_files = run(
        &path("risk_areas_2024.shp"),
        &path("risk_areas.shp"),
        &path("parcels.shp"),
        &path("parcels_2024.shp"),
        &dir.path().join("files"),
    );
    let from_db = run(
        &db.table("risk_areas_2024"),
        &db.table("risk_areas"),
        &db.table("parcels"),
        &db.table("parcels_2024"),
        &dir.path().join("db"),
    );
    assert!(from_db["after"]["contaminated_area_m2"].as_f64().unwrap() > 1e6);
    assert_close(&from_db, &from_files, 1e-9, 1.0, "compare.json");
}
