//! A PostGIS table as soilrisk names it:
//! `postgresql://USER@HOST:PORT/DB?table=SCHEMA.TABLE[&geom=COLUMN]` (also `postgres://`).
//!
//! Every part may be percent-encoded (`table=%E5%9C%B0%E7%B1%BB` is `地类`), and the table
//! may be written as SQL writes it, with double quotes (`table="My.Schema"."a""b"`), when a
//! name holds a dot. Without a schema the table is looked for in every schema the user can
//! read (`public` first). No password is taken from the URL: it comes from `PGPASSWORD` or
//! `~/.pgpass` (see `pgpass`), so it never shows in a shell's history or a process list.

use std::path::Path;

/// The URL's schemes, in the order a message names them.
pub const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// The port when the URL names none.
pub const DEFAULT_PORT: u16 = 5432;

/// Whether `path` names a PostGIS table rather than a file.
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|s| {
        SCHEMES
            .iter()
            .any(|p| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p))
    })
}

/// A database server and database, without any password.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Server {
    /// The role; `PGUSER`, else the login name, when the URL names none.
    pub user: String,
    pub host: String,
    pub port: u16,
    pub database: String,
}

impl Server {
    /// The server as a URL without a table: `postgresql://USER@HOST:PORT/DB`.
    pub fn url(&self) -> String {
        format!(
            "postgresql://{}@{}:{}/{}",
            encode(&self.user),
            host_text(&self.host),
            self.port,
            encode(&self.database)
        )
    }

    /// The URL of `table` on this server (its geometry column named when `geom` is given).
    pub fn table_url(&self, table: &TableName, geom: Option<&str>) -> String {
        let mut url = format!("{}?table={}", self.url(), encode(&table.text()));
        if let Some(g) = geom {
            url.push_str("&geom=");
            url.push_str(&encode(g));
        }
        url
    }
}

/// A host as a URL holds it: an IPv6 address in brackets.
fn host_text(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// A table, with its schema when the URL names one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    pub schema: Option<String>,
    pub table: String,
}

impl TableName {
    /// As the URL writes it: `schema.table`, quoted as SQL quotes identifiers where a name
    /// holds a dot or a double quote.
    pub fn text(&self) -> String {
        let part = |s: &str| {
            if s.contains(['.', '"']) {
                super::connect::quote_ident(s)
            } else {
                s.to_string()
            }
        };
        match &self.schema {
            Some(s) => format!("{}.{}", part(s), part(&self.table)),
            None => part(&self.table),
        }
    }
}

/// A parsed table URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableUrl {
    pub server: Server,
    pub table: TableName,
    /// The geometry column, when the URL names one (`&geom=`).
    pub geom: Option<String>,
}

/// Why a URL is not one soilrisk reads. The message says what to write instead.
pub fn parse(url: &str) -> Result<TableUrl, String> {
    let scheme = SCHEMES
        .iter()
        .find(|p| url.len() >= p.len() && url[..p.len()].eq_ignore_ascii_case(p))
        .ok_or("not a PostgreSQL URL (postgresql://USER@HOST:PORT/DB?table=SCHEMA.TABLE)")?;
    let rest = &url[scheme.len()..];
    let (head, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, database) = head.split_once('/').unwrap_or((head, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if userinfo.is_some_and(|u| u.contains(':')) {
        return Err(
            "the URL holds a password; soilrisk takes passwords only from \
                    PGPASSWORD or ~/.pgpass, never from a command line"
                .into(),
        );
    }
    let user = match userinfo {
        Some(u) if !u.is_empty() => decode(u)?,
        _ => default_user(),
    };
    let (host, port) = split_host_port(hostport)?;
    let database = decode(database)?;
    if database.is_empty() {
        return Err("the URL names no database (postgresql://USER@HOST:PORT/DB?table=...)".into());
    }
    let mut table = None;
    let mut geom = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value)?;
        match key.to_ascii_lowercase().as_str() {
            "table" => table = Some(value),
            "geom" | "geometry" | "geometry_column" => geom = Some(value),
            other => {
                return Err(format!(
                    "unknown URL parameter `{other}` (soilrisk reads table= and geom=)"
                ));
            }
        }
    }
    let table = table
        .filter(|t| !t.trim().is_empty())
        .ok_or("the URL names no table (add ?table=SCHEMA.TABLE)")?;
    Ok(TableUrl {
        server: Server {
            user,
            host,
            port,
            database,
        },
        table: table_name(&table)?,
        geom: geom.filter(|g| !g.is_empty()),
    })
}

/// `PGUSER`, else the login name, as libpq chooses a role the URL does not name (and as
/// the window fills its user field).
pub fn default_user() -> String {
    ["PGUSER", "USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "postgres".into())
}

/// `HOST:PORT`, `HOST`, `[::1]:PORT`; an empty host is `localhost`.
fn split_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or("an IPv6 host without its closing bracket")?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    let host = decode(&host)?;
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("`{p}` is not a port number"))?,
    };
    let host = if host.is_empty() {
        "localhost".into()
    } else {
        host
    };
    Ok((host, port))
}

/// `SCHEMA.TABLE`, `TABLE`, or either part double-quoted as SQL quotes identifiers.
pub fn table_name(s: &str) -> Result<TableName, String> {
    let s = s.trim();
    let mut parts = Vec::new();
    let mut chars = s.chars().peekable();
    let mut current = String::new();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if current.is_empty() && !quoted => {
                quoted = true;
                // A quoted identifier: up to the lone closing quote ("" is one quote).
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            current.push('"');
                        }
                        Some('"') => break,
                        Some(c) => current.push(c),
                        None => return Err(format!("an unclosed double quote in `{s}`")),
                    }
                }
                if !matches!(chars.peek(), None | Some('.')) {
                    return Err(format!("text after a closing double quote in `{s}`"));
                }
            }
            '.' if parts.is_empty() => {
                parts.push(std::mem::take(&mut current));
                quoted = false;
            }
            c => current.push(c),
        }
    }
    parts.push(current);
    if parts.iter().any(String::is_empty) {
        return Err(format!("`{s}` is not SCHEMA.TABLE"));
    }
    Ok(match parts.len() {
        1 => TableName {
            schema: None,
            table: parts.remove(0),
        },
        _ => TableName {
            table: parts.remove(1),
            schema: Some(parts.remove(0)),
        },
    })
}

/// `url` with any password in it replaced by `***`, for a message: the URL that holds one
/// is refused, and must not show it either.
pub fn redacted(url: &str) -> String {
    let Some(scheme) = SCHEMES
        .iter()
        .find(|p| url.len() >= p.len() && url[..p.len()].eq_ignore_ascii_case(p))
    else {
        return url.to_string();
    };
    let rest = &url[scheme.len()..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!(
                "{}{user}:***@{host}{}",
                &url[..scheme.len()],
                &rest[authority_end..]
            )
        }
        _ => url.to_string(),
    }
}

/// Percent-decoding (`%E5%9C%B0` is `地`); `+` stays a plus.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("a bad percent escape in `{s}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{s}` decodes to text that is not UTF-8"))
}

/// Percent-encoding of what a URL part cannot hold as it is (Chinese characters stay as
/// they are: a URL soilrisk writes is for people to read).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' | '~' | '"' => out.push(c),
            c if !c.is_ascii() => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_url_parses_into_its_parts() {
        let u =
            parse("postgresql://gis@db.example:6543/land?table=survey.parcels&geom=shape").unwrap();
        assert_eq!(u.server.user, "gis");
        assert_eq!(u.server.host, "db.example");
        assert_eq!(u.server.port, 6543);
        assert_eq!(u.server.database, "land");
        assert_eq!(u.table.schema.as_deref(), Some("survey"));
        assert_eq!(u.table.table, "parcels");
        assert_eq!(u.geom.as_deref(), Some("shape"));
        assert!(is_url(Path::new("POSTGRES://a@b/c?table=t")));
        assert!(!is_url(Path::new("postgresql.shp")));
    }

    #[test]
    fn defaults_and_encodings() {
        let u = parse("postgres://gis@/land?table=%E5%9C%B0%E7%B1%BB").unwrap();
        assert_eq!((u.server.host.as_str(), u.server.port), ("localhost", 5432));
        assert_eq!(u.table.schema, None);
        assert_eq!(u.table.table, "地类");
        let u = parse("postgresql://gis@[::1]:5433/d?table=\"a.b\".\"c\"\"d\"").unwrap();
        assert_eq!(u.server.host, "::1");
        assert_eq!(u.table.schema.as_deref(), Some("a.b"));
        assert_eq!(u.table.table, "c\"d");
        // Written back out, it parses to the same.
        let again = parse(&u.server.table_url(&u.table, None)).unwrap();
        assert_eq!(again, u);
        let odd = TableName {
            schema: Some("s".into()),
            table: "x\"; DROP TABLE y; --".into(),
        };
        let url = u.server.table_url(&odd, Some("geom"));
        assert_eq!(parse(&url).unwrap().table, odd);
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let err = |u: &str| parse(u).unwrap_err();
        assert!(err("postgresql://gis:secret@h/d?table=t").contains("PGPASSWORD"));
        assert_eq!(
            redacted("postgresql://gis:s3cr:et@h:1/d?table=t"),
            "postgresql://gis:***@h:1/d?table=t"
        );
        assert_eq!(
            redacted("postgresql://gis@h/d?table=a:b@c"),
            "postgresql://gis@h/d?table=a:b@c"
        );
        assert!(err("postgresql://gis@h/d").contains("no table"));
        assert!(err("postgresql://gis@h/?table=t").contains("no database"));
        assert!(err("postgresql://gis@h:port/d?table=t").contains("not a port"));
        assert!(err("postgresql://gis@h/d?table=t&sslmode=x").contains("sslmode"));
        assert!(err("postgresql://gis@h/d?table=%E5").contains("not UTF-8"));
        assert!(err("postgresql://gis@h/d?table=\"abc").contains("unclosed"));
        assert!(err("postgresql://gis@h/d?table=s.").contains("not SCHEMA.TABLE"));
    }
}
