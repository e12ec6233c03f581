//! File > Open from PostGIS…: a server (host, port, database, user; one remembered before
//! refills them), its polygon tables listed on a background thread (`app::postgis`) with
//! their geometry column, type, SRID and row count, and the table picked opened as the risk
//! areas or the parcels, paired with the other layer loaded, as File > Open does.
//!
//! No password is typed here or kept: the connection takes it from `PGPASSWORD` or
//! `~/.pgpass`, as `psql` does, and the dialog says so.

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};
use soilrisk::io::postgis::uri::{DEFAULT_PORT, default_user};
use soilrisk::io::postgis::{Server, TableInfo};

use crate::app::postgis::TableListing;

/// The dialog's state.
pub struct PostgisDialog {
    pub host: String,
    /// As typed; checked when the tables are listed.
    pub port: String,
    pub database: String,
    pub user: String,
    /// The tables being listed.
    pub listing: Option<TableListing>,
    /// The tables listed last, and of which server.
    pub listed: Option<(Server, Vec<TableInfo>)>,
    /// The table picked in `listed`.
    pub selected: Option<usize>,
    /// Why the tables could not be listed.
    pub error: Option<String>,
    /// `PGPASSWORD` is set (else the password comes from `~/.pgpass`, if anywhere).
    password_in_env: bool,
}

/// What the user chose.
pub enum PostgisAction {
    None,
    Close,
    /// List the polygon tables of this server.
    List(Server),
    /// Open the table at this URL as the risk layer (true) or the parcel layer (false).
    Open(PathBuf, bool),
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A server as one line: `user@host:port/database`.
pub fn server_label(s: &Server) -> String {
    let host = if s.host.contains(':') {
        format!("[{}]", s.host)
    } else {
        s.host.clone()
    };
    format!("{}@{host}:{}/{}", s.user, s.port, s.database)
}

/// A table's row count as listed: `≈` before the planner's estimate.
pub fn rows_label(t: &TableInfo) -> String {
    format!("{}{}", if t.estimated { "≈" } else { "" }, t.rows)
}

impl PostgisDialog {
    /// The fields from the server used last, else from libpq's variables (`PGHOST`,
    /// `PGPORT`, `PGDATABASE`, `PGUSER`), else `localhost:5432` and the login name.
    pub fn new(last: Option<&Server>) -> PostgisDialog {
        let mut d = PostgisDialog {
            host: env("PGHOST").unwrap_or_else(|| "localhost".into()),
            port: env("PGPORT").unwrap_or_else(|| DEFAULT_PORT.to_string()),
            database: env("PGDATABASE").unwrap_or_default(),
            user: default_user(),
            listing: None,
            listed: None,
            selected: None,
            error: None,
            password_in_env: std::env::var_os("PGPASSWORD").is_some_and(|p| !p.is_empty()),
        };
        if let Some(s) = last {
            d.fill(s);
        }
        d
    }

    /// Puts a server into the fields.
    pub fn fill(&mut self, s: &Server) {
        self.host = s.host.clone();
        self.port = s.port.to_string();
        self.database = s.database.clone();
        self.user = s.user.clone();
    }

    /// The server the fields name, or what is wrong with them.
    pub fn server(&self) -> Result<Server, String> {
        let host = self.host.trim();
        let database = self.database.trim();
        let user = self.user.trim();
        let port = self.port.trim();
        if host.is_empty() {
            return Err("give the server's host name or address".into());
        }
        let port = match port.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                return Err(format!(
                    "the port is a number from 1 to 65535, not \"{port}\""
                ));
            }
        };
        if database.is_empty() {
            return Err("give the database's name".into());
        }
        if user.is_empty() {
            return Err("give the user (role) to connect as".into());
        }
        Ok(Server {
            user: user.to_string(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            database: database.to_string(),
        })
    }

    /// The table picked, if the list still shows it.
    pub fn picked(&self) -> Option<&TableInfo> {
        self.listed.as_ref()?.1.get(self.selected?)
    }

    /// Shows the dialog. `remembered` are the servers listed before (most recent first);
    /// `risk` and `parcels` the layers loaded or being loaded, marked in the list; `loading`
    /// that a load is under way.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        remembered: &[Server],
        risk: &Path,
        parcels: &Path,
        loading: bool,
    ) -> PostgisAction {
        let mut action = PostgisAction::None;
        egui::Modal::new(egui::Id::unique("postgis-dialog")).show(ctx, |ui| {
            ui.set_min_width(560.0);
            ui.heading("Open from PostGIS");
            if !remembered.is_empty() {
                ui.horizontal(|ui| {
                    let l = ui.label("Remembered");
                    egui::ComboBox::from_id_salt("postgis-remembered")
                        .selected_text("choose a server…")
                        .width(320.0)
                        .show_ui(ui, |ui| {
                            for s in remembered {
                                if ui.selectable_label(false, server_label(s)).clicked() {
                                    self.fill(s);
                                }
                            }
                        })
                        .response
                        .labelled_by(l.id);
                });
            }
            egui::Grid::new("postgis-grid")
                .num_columns(2)
                .show(ui, |ui| {
                    for (label, value, width) in [
                        ("Host", &mut self.host, 220.0),
                        ("Port", &mut self.port, 70.0),
                        ("Database", &mut self.database, 220.0),
                        ("User", &mut self.user, 220.0),
                    ] {
                        let l = ui.label(label);
                        ui.add(egui::TextEdit::singleline(value).desired_width(width))
                            .labelled_by(l.id);
                        ui.end_row();
                    }
                });
            let weak = ui.visuals().weak_text_color();
            ui.label(
                RichText::new(format!(
                    "The password comes from PGPASSWORD or ~/.pgpass, as for psql ({}); it is \
                     never typed here nor saved.",
                    if self.password_in_env {
                        "PGPASSWORD is set"
                    } else {
                        "PGPASSWORD is not set"
                    }
                ))
                .color(weak),
            );
            let server = self.server();
            ui.horizontal(|ui| {
                let list = ui
                    .add_enabled(
                        server.is_ok() && self.listing.is_none(),
                        egui::Button::new("List tables"),
                    )
                    .on_hover_text("connect and list the database's polygon tables");
                if list.clicked()
                    && let Ok(s) = &server
                {
                    action = PostgisAction::List(s.clone());
                }
                if let Some(l) = &self.listing {
                    ui.spinner();
                    ui.label(l.title());
                }
            });
            // What the fields still lack, as a warning; a failed listing, as an error.
            if let Err(e) = &server {
                ui.label(RichText::new(e).color(ui.visuals().warn_fg_color));
            }
            if let Some(e) = &self.error {
                ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
            }
            if let Some((s, tables)) = &self.listed {
                ui.separator();
                ui.label(format!(
                    "{} polygon table{} in {}",
                    tables.len(),
                    if tables.len() == 1 { "" } else { "s" },
                    server_label(s)
                ));
                self.table_list(ui, risk, parcels);
            }
            ui.separator();
            ui.horizontal(|ui| {
                let url = self.picked().map(|t| PathBuf::from(&t.url));
                for (label, as_risk) in [("Open as risk areas", true), ("Open as parcels", false)] {
                    if ui
                        .add_enabled(url.is_some(), egui::Button::new(label))
                        .on_disabled_hover_text("list the tables and pick one")
                        .clicked()
                        && let Some(u) = &url
                    {
                        action = PostgisAction::Open(u.clone(), as_risk);
                    }
                }
                if ui.button("Close").clicked() {
                    action = PostgisAction::Close;
                }
                if loading {
                    ui.spinner();
                    ui.label("opening (progress in the menu bar)");
                }
            });
        });
        action
    }

    /// The tables listed: name, geometry column, type, SRID, rows, and which side is open.
    fn table_list(&mut self, ui: &mut egui::Ui, risk: &Path, parcels: &Path) {
        let Some((_, tables)) = &self.listed else {
            return;
        };
        if tables.is_empty() {
            ui.label("no table with a polygon column that this user can read");
            return;
        }
        let mut selected = self.selected;
        egui::ScrollArea::vertical()
            .max_height(240.0)
            .show(ui, |ui| {
                egui::Grid::new("postgis-tables")
                    .striped(true)
                    .num_columns(6)
                    .show(ui, |ui| {
                        for h in ["table", "geometry", "type", "SRID", "rows", "open as"] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for (i, t) in tables.iter().enumerate() {
                            if ui
                                .selectable_label(selected == Some(i), t.name.text())
                                .on_hover_text(&t.url)
                                .clicked()
                            {
                                selected = Some(i);
                            }
                            ui.label(&t.column);
                            ui.label(&t.geometry_type);
                            ui.label(t.srid.to_string());
                            ui.label(rows_label(t)).on_hover_text(if t.estimated {
                                "the planner's estimate (the table was analysed)"
                            } else {
                                "counted"
                            });
                            let url = Path::new(&t.url);
                            ui.label(if url == risk {
                                "risk areas"
                            } else if url == parcels {
                                "parcels"
                            } else {
                                ""
                            });
                            ui.end_row();
                        }
                    });
            });
        self.selected = selected;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog(host: &str, port: &str, database: &str, user: &str) -> PostgisDialog {
        let mut d = PostgisDialog::new(None);
        d.host = host.into();
        d.port = port.into();
        d.database = database.into();
        d.user = user.into();
        d
    }

    #[test]
    fn the_fields_give_a_server_or_say_what_is_wrong() {
        let d = dialog(" db.example.org ", "5433", "一张图", "gis");
        assert_eq!(
            d.server(),
            Ok(Server {
                user: "gis".into(),
                host: "db.example.org".into(),
                port: 5433,
                database: "一张图".into(),
            })
        );
        // An IPv6 address may be written as a URL writes it.
        assert_eq!(
            dialog("[::1]", "5432", "d", "u").server().unwrap().host,
            "::1"
        );
        for port in ["0", "65536", "abc", "", "-1", "54 32"] {
            let e = dialog("h", port, "d", "u").server().unwrap_err();
            assert!(e.starts_with("the port is a number from 1 to 65535"), "{e}");
        }
        assert!(dialog("", "5432", "d", "u").server().is_err());
        assert!(dialog("h", "5432", " ", "u").server().is_err());
        assert!(dialog("h", "5432", "d", "").server().is_err());
    }

    #[test]
    fn a_remembered_server_fills_the_fields_and_labels_read_as_a_user_would() {
        let s = Server {
            user: "reader".into(),
            host: "::1".into(),
            port: 6543,
            database: "county".into(),
        };
        let d = PostgisDialog::new(Some(&s));
        assert_eq!(d.server(), Ok(s.clone()));
        assert_eq!(server_label(&s), "reader@[::1]:6543/county");
    }
}
