//! File > Open from PostGIS… in the window: a server that cannot be reached says so in the
//! dialog and the sample stays loaded; a bad port is a message; with a PostgreSQL server
//! (`SOILRISK_TEST_PG`, see `.ci/postgis`) the sample's layers loaded with GDAL's `ogr2ogr`
//! are listed with their row counts and opened as risk areas and parcels, giving the rate
//! the shapefiles give; and the servers remembered go through the saved settings without a
//! password.

use std::collections::HashMap;

use soilrisk::io::postgis::Server;

use super::*;
use crate::app::dialogs::postgis::{rows_label, server_label};

// The integration tests' helper: a database of the test's own, or a skip with a notice
// where no server is given.
#[path = "../../../tests/common/pg.rs"]
mod pg;

/// Opens File > Open from PostGIS….
fn open_dialog(h: &mut Harness<'_, SoilriskApp>) {
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Open from PostGIS…").click();
    h.run_steps(3);
    assert!(h.state().session.postgis_dialog.is_some());
}

/// Types `text` into the dialog's field `label`, replacing what it holds.
fn type_into(h: &mut Harness<'_, SoilriskApp>, label: &str, text: &str) {
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label)
        .click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    h.event(Event::Text(text.into()));
    h.run_steps(2);
}

/// Fills the dialog's fields with `server`.
fn fill(h: &mut Harness<'_, SoilriskApp>, server: &Server) {
    type_into(h, "Host", &server.host);
    type_into(h, "Port", &server.port.to_string());
    type_into(h, "Database", &server.database);
    type_into(h, "User", &server.user);
}

/// Clicks List tables and waits for the listing to end.
fn list_tables(h: &mut Harness<'_, SoilriskApp>) {
    h.get_by_label("List tables").click();
    h.run_steps(1);
    wait_until(h, "the tables", |a| {
        a.session
            .postgis_dialog
            .as_ref()
            .is_some_and(|d| d.listing.is_none())
    });
    h.run_steps(2);
}

/// A port on this machine where nothing listens: bound, then let go.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_server_that_cannot_be_reached_is_said_in_the_dialog_and_the_sample_stays() {
    let mut h = loaded();
    let before = h.state().session.current().unwrap().summary.clone();
    open_dialog(&mut h);

    // A port that is no port is a message, and nothing is listed.
    type_into(&mut h, "Port", "99999");
    h.get_by_label("the port is a number from 1 to 65535, not \"99999\"");
    h.get_by_label("List tables").click();
    h.run_steps(2);
    assert!(
        h.state()
            .session
            .postgis_dialog
            .as_ref()
            .unwrap()
            .listing
            .is_none()
    );

    let port = closed_port();
    fill(
        &mut h,
        &Server {
            user: "postgres".into(),
            host: "127.0.0.1".into(),
            port,
            database: "postgres".into(),
        },
    );
    // The note says where the password comes from.
    h.get_by_label_contains("The password comes from PGPASSWORD or ~/.pgpass");
    list_tables(&mut h);
    let d = h.state().session.postgis_dialog.as_ref().unwrap();
    let error = d.error.clone().unwrap_or_default();
    assert!(
        error.contains(&format!(
            "cannot reach the PostgreSQL server at 127.0.0.1:{port}"
        )),
        "{error}"
    );
    assert!(d.listed.is_none());
    h.get_by_label_contains("cannot reach the PostgreSQL server at 127.0.0.1");
    // Only a server that answered is remembered.
    assert!(h.state().settings.servers.is_empty());

    // What was loaded stays loaded, with no other message.
    let s = h.state();
    assert!(s.session.error.is_none(), "{:?}", s.session.error);
    assert!(s.session.loading.is_none());
    let a = s.session.current().unwrap();
    assert!(a.analysis.risk.path.ends_with("risk_areas.shp"));
    assert!(a.analysis.parcels.path.ends_with("parcels.shp"));
    assert_eq!(a.summary.parcels, before.parcels);
    assert_eq!(
        a.summary.safe_utilization_rate,
        before.safe_utilization_rate
    );

    h.get_by_label("Close").click();
    h.run_steps(2);
    assert!(h.state().session.postgis_dialog.is_none());
}

/// Picks `table` in the list, opens it as the risk areas (`as_risk`) or the parcels, and
/// waits for the analysis.
fn open_table(h: &mut Harness<'_, SoilriskApp>, table: &str, as_risk: bool) {
    h.get_by_label(table).click();
    h.run_steps(2);
    h.get_by_label(if as_risk {
        "Open as risk areas"
    } else {
        "Open as parcels"
    })
    .click();
    h.run_steps(2);
    wait_until(h, "the table opened", |a| a.session.loading.is_none());
    h.run_steps(2);
    assert!(
        h.state().session.error.is_none(),
        "{:?}",
        h.state().session.error
    );
}

#[test]
fn tables_listed_from_postgis_open_as_risk_areas_and_parcels_with_the_shapefiles_rate() {
    let Some(db) = pg::TestDb::new("window") else {
        return;
    };
    db.load(&sample("risk_areas.shp"), "risk_areas");
    db.load(&sample("parcels.shp"), "parcels");
    let counted: u64 = db.psql("SELECT count(*) FROM parcels").parse().unwrap();
    assert_eq!(counted, 30_000);

    let mut h = loaded();
    let before = h.state().session.current().unwrap().summary.clone();
    open_dialog(&mut h);
    let server = Server {
        user: db.user.clone(),
        host: db.host.clone(),
        port: db.port,
        database: db.name.clone(),
    };
    fill(&mut h, &server);
    list_tables(&mut h);

    let (risk, parcels) = {
        let d = h.state().session.postgis_dialog.as_ref().unwrap();
        assert!(d.error.is_none(), "{:?}", d.error);
        let (listed, tables) = d.listed.as_ref().unwrap();
        assert_eq!(*listed, server);
        let find = |name: &str| {
            tables
                .iter()
                .find(|t| t.name.text() == name)
                .cloned()
                .unwrap_or_else(|| panic!("{name} not listed: {tables:?}"))
        };
        (find("public.risk_areas"), find("public.parcels"))
    };
    assert_eq!(parcels.rows, counted);
    assert_eq!(risk.rows, 3_568);
    for t in [&risk, &parcels] {
        assert_eq!(t.column, "geom");
        assert_eq!(t.geometry_type, "MultiPolygon");
        assert_eq!(t.srid, 4544);
        assert!(h.query_all_by_label(&rows_label(t)).count() >= 1);
    }
    h.get_by_label(&format!("2 polygon tables in {}", server_label(&server)));
    // A server that answered is remembered.
    assert_eq!(h.state().settings.servers, vec![server.clone()]);

    open_table(&mut h, "public.risk_areas", true);
    let a = h.state().session.current().unwrap();
    assert_eq!(a.analysis.risk.path, PathBuf::from(&risk.url));
    assert!(a.analysis.parcels.path.ends_with("parcels.shp"));
    // The list says which table is open as which layer.
    assert!(h.query_all_by_label("risk areas").count() >= 1);

    open_table(&mut h, "public.parcels", false);
    h.get_by_label("Close").click();
    h.run_steps(2);
    let s = h.state().session.current().unwrap();
    assert_eq!(s.analysis.risk.path, PathBuf::from(&risk.url));
    assert_eq!(s.analysis.parcels.path, PathBuf::from(&parcels.url));
    assert_eq!(s.summary.parcels, before.parcels);
    assert_eq!(s.summary.parcels_at_risk, before.parcels_at_risk);
    // The same coordinates as doubles: the same figures but for the order of sums.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    let (rate, sample_rate) = (
        s.summary.safe_utilization_rate.unwrap(),
        before.safe_utilization_rate.unwrap(),
    );
    assert!(close(rate, sample_rate), "{rate} against {sample_rate}");
    assert!(close(
        s.summary.contaminated_area_m2,
        before.contaminated_area_m2
    ));
}

/// eframe's storage, in memory.
#[derive(Default)]
struct Memory(HashMap<String, String>);

impl eframe::Storage for Memory {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn remembered_servers_are_saved_without_a_password_and_refill_the_fields() {
    let servers = [
        Server {
            user: "gis".into(),
            host: "db.example.org".into(),
            port: 5433,
            database: "一张图".into(),
        },
        Server {
            user: "reader".into(),
            host: "10.0.0.7".into(),
            port: 5432,
            database: "county".into(),
        },
    ];
    let mut storage = Memory::default();
    {
        let mut h = loaded();
        for s in servers.iter().rev() {
            h.state_mut().settings.remember_server(s.clone());
        }
        // Listed again, a server moves to the front and is not kept twice.
        h.state_mut().settings.remember_server(servers[0].clone());
        assert_eq!(h.state().settings.servers, servers);
        eframe::App::save(h.state_mut(), &mut storage);
    }
    let saved = storage.0.get(eframe::APP_KEY).cloned().unwrap_or_default();
    assert!(saved.contains("db.example.org"), "{saved}");
    assert!(!saved.to_lowercase().contains("password"), "{saved}");
    if let Some(p) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
        assert!(!saved.contains(&*p.to_string_lossy()));
    }

    // A new window reads them back; the dialog starts on the last one, and the other
    // refills the fields from the dropdown.
    let (risk, parcels) = (sample("risk_areas.shp"), sample("parcels.shp"));
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(|cc| {
            cc.storage = Some(&storage);
            SoilriskApp::new(cc, risk, parcels)
        });
    wait_until(&mut h, "loading", |a| a.session.loading.is_none());
    assert_eq!(h.state().settings.servers, servers);
    open_dialog(&mut h);
    let shown =
        |h: &Harness<'_, SoilriskApp>| h.state().session.postgis_dialog.as_ref().unwrap().server();
    assert_eq!(shown(&h), Ok(servers[0].clone()));
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Remembered")
        .click();
    h.run_steps(2);
    h.get_by_label(&server_label(&servers[1])).click();
    h.run_steps(2);
    assert_eq!(shown(&h), Ok(servers[1].clone()));
}
