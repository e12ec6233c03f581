//! The password of a connection, found as libpq finds it: `PGPASSWORD`, else the password
//! file (`PGPASSFILE`, else `~/.pgpass`; `%APPDATA%\postgresql\pgpass.conf` on Windows).
//! The client crate reads neither, so this does. The file's lines are
//! `hostname:port:database:username:password`; `*` matches anything, `\:` and `\\` escape,
//! `#` starts a comment, and the first matching line wins. As libpq does, a file others can
//! read is ignored on Unix, with a warning.

use std::path::{Path, PathBuf};

use super::uri::Server;

/// The password for `server`, and a warning when a password file was passed over.
pub fn password(server: &Server) -> (Option<String>, Option<String>) {
    if let Ok(p) = std::env::var("PGPASSWORD")
        && !p.is_empty()
    {
        return (Some(p), None);
    }
    let Some(file) = passfile() else {
        return (None, None);
    };
    let Ok(text) = std::fs::read_to_string(&file) else {
        return (None, None);
    };
    if let Some(w) = too_open(&file) {
        return (None, Some(w));
    }
    (lookup(&text, server), None)
}

/// Where the password file is.
fn passfile() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if cfg!(windows) {
        std::env::var_os("APPDATA").map(|a| PathBuf::from(a).join("postgresql/pgpass.conf"))
    } else {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass"))
    }
}

#[cfg(unix)]
fn too_open(file: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "{}: the password file is readable by others (mode {:o}); it is ignored, as libpq \
             ignores it (chmod 0600 it)",
            file.display(),
            mode & 0o777
        )
    })
}

#[cfg(not(unix))]
fn too_open(_file: &Path) -> Option<String> {
    None
}

/// The first line of a password file matching `server`.
pub fn lookup(text: &str, server: &Server) -> Option<String> {
    let port = server.port.to_string();
    let wanted = [
        server.host.as_str(),
        port.as_str(),
        server.database.as_str(),
        server.user.as_str(),
    ];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let fields = split(line);
            if fields.len() < 5 {
                return None;
            }
            // As libpq: the host as the URL names it (`localhost` in the file is not
            // `127.0.0.1`).
            let matches = wanted.iter().zip(&fields).all(|(w, f)| f == "*" || f == w);
            matches.then(|| fields[4..].join(":"))
        })
}

/// A line's fields, split at unescaped colons, with `\:` and `\\` unescaped.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next()
                    && let Some(last) = fields.last_mut()
                {
                    last.push(n);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(last) = fields.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str, db: &str, user: &str) -> Server {
        Server {
            user: user.into(),
            host: host.into(),
            port: 5432,
            database: db.into(),
        }
    }

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    other:5432:*:gis:nope\n\
                    db.example:5432:land:gis:pa\\:ss\\\\word\n\
                    *:*:*:gis:fallback\n";
        assert_eq!(
            lookup(text, &server("db.example", "land", "gis")).as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(
            lookup(text, &server("db.example", "other", "gis")).as_deref(),
            Some("fallback")
        );
        assert_eq!(lookup(text, &server("db.example", "land", "ann")), None);
        // As libpq: a host is matched as it is written.
        assert_eq!(
            lookup("localhost:5432:*:*:local\n", &server("127.0.0.1", "d", "u")),
            None
        );
        assert_eq!(
            lookup("localhost:5432:*:*:local\n", &server("localhost", "d", "u")).as_deref(),
            Some("local")
        );
    }
}
