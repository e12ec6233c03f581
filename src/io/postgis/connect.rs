//! Connecting to a server, with the errors a user can act on: the server not reachable,
//! authentication failed (or no password where one is asked for), no such database, no
//! PostGIS in it, and a connection lost on the way.

use std::path::Path;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, NoTls};

use super::pgpass;
use super::uri::Server;
use crate::error::LayerError;

/// How long a server has to answer before it counts as not reachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A name as an SQL identifier, in double quotes (a double quote inside doubled): a table's
/// or column's name is never pasted into SQL any other way.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A connection, and any warning about where its password came from.
pub struct Connection {
    pub client: Client,
    pub warnings: Vec<String>,
}

/// Connects to `server`; errors are worded for a user and name `path` (the table's URL, or
/// the server's).
pub fn connect(server: &Server, path: &Path) -> Result<Connection, LayerError> {
    let (password, warning) = pgpass::password(server);
    let mut config = postgres::Config::new();
    config
        .host(&server.host)
        .port(server.port)
        .user(&server.user)
        .dbname(&server.database)
        .application_name("soilrisk")
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(60));
    if let Some(p) = &password {
        config.password(p);
    }
    let mut client = config
        .connect(NoTls)
        .map_err(|e| connect_error(server, path, &e, password.is_some()))?;
    // Times as UTC and dates as YYYY-MM-DD, as the other formats give them, whatever the
    // database's settings; text the server converts to UTF-8.
    client
        .batch_execute(
            "SET TIME ZONE 'UTC'; SET client_encoding TO 'UTF8'; SET datestyle TO ISO, YMD",
        )
        .map_err(|e| query_error(path, "cannot set up the session", &e))?;
    Ok(Connection {
        client,
        warnings: warning.into_iter().collect(),
    })
}

/// The whole chain of an error's causes, as one line.
pub fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

/// Why a connection failed, in words a user can act on.
fn connect_error(
    server: &Server,
    path: &Path,
    e: &postgres::Error,
    had_password: bool,
) -> LayerError {
    let at = format!("{}:{}", server.host, server.port);
    let reason = match e.code() {
        Some(c)
            if *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            format!(
                "authentication failed for user {} on {at} ({}); {}",
                server.user,
                describe(e),
                if had_password {
                    "check the password in PGPASSWORD or ~/.pgpass"
                } else {
                    "no password was found in PGPASSWORD or ~/.pgpass"
                }
            )
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => {
            format!("there is no database {} on {at}", server.database)
        }
        Some(_) => format!("the server {at} refused the connection ({})", describe(e)),
        None => {
            let text = describe(e);
            if text.contains("password missing") {
                format!(
                    "the server {at} asks for a password for user {} and none was found \
                     (set PGPASSWORD, or add a line to ~/.pgpass)",
                    server.user
                )
            } else {
                format!(
                    "cannot reach the PostgreSQL server at {at} ({text}); is it running and \
                     accepting TCP connections?"
                )
            }
        }
    };
    LayerError::format(path, reason)
}

/// An error of a query, saying what was being done; a connection lost says so.
pub fn query_error(path: &Path, doing: &str, e: &postgres::Error) -> LayerError {
    if is_lost(e) {
        LayerError::format(
            path,
            format!(
                "{doing}: the connection to the server was lost ({})",
                describe(e)
            ),
        )
    } else {
        LayerError::format(path, format!("{doing} ({})", describe(e)))
    }
}

/// Whether the error is the connection's end: closed, an I/O failure, or the server shutting
/// down or ending the session (SQLSTATE class 57, operator intervention).
pub fn is_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(c) => c.code().starts_with("57") || c.code().starts_with("08"),
        None => {
            let t = e.to_string();
            t.starts_with("error communicating") || t.starts_with("connection closed")
        }
    }
}

/// The version of PostGIS installed in the database, or an error saying it has none.
pub fn postgis_version(
    client: &mut Client,
    server: &Server,
    path: &Path,
) -> Result<String, LayerError> {
    let row = client
        .query_opt(
            "SELECT extversion FROM pg_extension WHERE extname = 'postgis'",
            &[],
        )
        .map_err(|e| query_error(path, "cannot read the database's extensions", &e))?;
    match row {
        Some(r) => r
            .try_get::<_, String>(0)
            .map_err(|e| query_error(path, "cannot read the database's extensions", &e)),
        None => Err(LayerError::format(
            path,
            format!(
                "the database {} has no PostGIS extension (a superuser can add it with \
                 CREATE EXTENSION postgis)",
                server.database
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(quote_ident("parcels"), "\"parcels\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            quote_ident("x\"; DROP TABLE y; --"),
            "\"x\"\"; DROP TABLE y; --\""
        );
        assert_eq!(quote_ident("地类图斑"), "\"地类图斑\"");
    }
}
