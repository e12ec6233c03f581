//! Listing a PostGIS database's polygon tables for File > Open from PostGIS…: the engine's
//! `postgis::tables` run as a background `Job` (thread `soilrisk-postgis`), so a server that
//! is slow to answer (or never does, up to the connection timeout) never holds a frame.
//! Tables are opened afterwards as any layer is: by their URL, through `load`; `layer_name`
//! names one in the window as its `schema.table`, not as the tail of its URL.

use std::path::Path;

use eframe::egui;
use soilrisk::io::postgis::{self, Server, TableInfo};

use super::job::Job;

/// The tables of one server being listed.
pub struct TableListing {
    /// The server asked.
    pub server: Server,
    job: Job<Result<Vec<TableInfo>, String>>,
}

impl TableListing {
    /// Starts listing the polygon tables of `server`.
    pub fn start(ctx: &egui::Context, server: Server) -> Result<TableListing, String> {
        let asked = server.clone();
        let title = format!("listing the tables of {}", server.url());
        let job = Job::spawn(ctx, "soilrisk-postgis", title, move |_| {
            postgis::tables(&asked).map_err(|e| e.to_string())
        })
        .map_err(|e| format!("cannot start a background thread: {e}"))?;
        Ok(TableListing { server, job })
    }

    /// What the listing does, for the dialog.
    pub fn title(&self) -> &str {
        self.job.title()
    }

    /// The tables (sorted by schema and name, as the catalog gives them), or why they could
    /// not be listed, once the listing is over.
    pub fn poll(&mut self) -> Option<Result<Vec<TableInfo>, String>> {
        Some(self.job.poll()?.unwrap_or_else(|p| {
            Err(format!(
                "internal error while listing the tables (please report it): {}",
                p.0
            ))
        }))
    }
}

/// How the window names a layer: a PostGIS table as `schema.table (PostGIS)`, a file by its
/// name (with the folder's where it has none).
pub fn layer_name(path: &Path) -> String {
    if postgis::is_url(path)
        && let Ok(url) = postgis::parse(path)
    {
        return format!("{} (PostGIS)", url.table.text());
    }
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_named_by_its_schema_and_name_a_file_by_its_name() {
        let url = "postgresql://gis@db:5432/sichuan?table=public.parcels&geom=geom";
        assert_eq!(layer_name(Path::new(url)), "public.parcels (PostGIS)");
        assert_eq!(
            layer_name(Path::new("/data/2024/parcels.shp")),
            "parcels.shp"
        );
        assert_eq!(layer_name(Path::new("/")), "/");
    }
}
