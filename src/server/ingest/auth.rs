//! DSN key rules for ingest, separate from the dashboard's access control.
//!
//! With no key configured, every request is accepted (tracepin refuses to start that way on anything
//! but a loopback address, see [`super::startup_check`]). With keys configured, a request must carry
//! one: a key from `[ingest] keys` is good for every project, a key of an `[[ingest.projects]]` entry
//! only for that project. The key is read, in order, from `X-Sentry-Auth` (`Sentry sentry_key=…`),
//! `Authorization` (`Sentry sentry_key=…` or `Bearer …`), the `sentry_key` query parameter, and the
//! envelope header's `dsn`. Keys are compared in constant time and never logged or echoed.

use axum::http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::server::config::IngestSection;

/// The project a request was accepted for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Project {
    /// The DSN project id (from the path, or the key's project).
    pub id: Option<String>,
    /// The name pages show for it (the configured name, else the id).
    pub name: Option<String>,
}

/// Why a request was refused; `Display` is the sentence the client gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No key in the request.
    #[error("no DSN key: send `X-Sentry-Auth: Sentry sentry_key=<key>`, `?sentry_key=<key>`, `Authorization: Bearer <key>` or a `dsn` in the envelope header")]
    Missing,
    /// A key tracepin does not know.
    #[error("unknown DSN key")]
    Unknown,
    /// A key of another project.
    #[error("this DSN key is not valid for project {asked}")]
    OtherProject {
        /// The project in the URL.
        asked: String,
    },
}

impl AuthError {
    /// 401 for a missing or unknown key, 403 for a key of another project.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            AuthError::Missing | AuthError::Unknown => axum::http::StatusCode::UNAUTHORIZED,
            AuthError::OtherProject { .. } => axum::http::StatusCode::FORBIDDEN,
        }
    }
}

struct ProjectKeys {
    id: String,
    name: Option<String>,
    keys: Vec<SecretString>,
}

/// The DSN key rules, built once from `[ingest]`.
pub struct DsnAuth {
    global: Vec<SecretString>,
    projects: Vec<ProjectKeys>,
}

fn matches(keys: &[SecretString], given: &str) -> bool {
    // Every key is compared, so the time taken does not say which one matched.
    keys.iter().fold(false, |found, k| {
        found | bool::from(k.expose_secret().as_bytes().ct_eq(given.as_bytes()))
    })
}

impl DsnAuth {
    /// Builds the rules.
    pub fn new(section: &IngestSection) -> Self {
        DsnAuth {
            global: section.keys.clone(),
            projects: section
                .projects
                .iter()
                .map(|p| ProjectKeys {
                    id: p.id.trim().to_owned(),
                    name: p.name.clone().filter(|n| !n.trim().is_empty()),
                    keys: p.keys.clone(),
                })
                .collect(),
        }
    }

    /// True when no key is configured: every request is accepted.
    pub fn is_open(&self) -> bool {
        self.global.is_empty() && self.projects.iter().all(|p| p.keys.is_empty())
    }

    fn named(&self, id: Option<&str>) -> Project {
        let name = id.and_then(|id| {
            self.projects
                .iter()
                .find(|p| p.id == id)
                .and_then(|p| p.name.clone())
        });
        Project {
            id: id.map(str::to_owned),
            name: name.or_else(|| id.map(str::to_owned)),
        }
    }

    /// Checks a request for `path_project` (the id in the URL, when the URL has one) carrying `key`.
    pub fn check(
        &self,
        path_project: Option<&str>,
        key: Option<&str>,
    ) -> Result<Project, AuthError> {
        if self.is_open() {
            return Ok(self.named(path_project));
        }
        let key = key
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(AuthError::Missing)?;
        if matches(&self.global, key) {
            return Ok(self.named(path_project));
        }
        let owner = self.projects.iter().find(|p| matches(&p.keys, key));
        match (owner, path_project) {
            (None, _) => Err(AuthError::Unknown),
            (Some(p), Some(asked)) if p.id != asked => Err(AuthError::OtherProject {
                asked: asked.to_owned(),
            }),
            (Some(p), _) => Ok(self.named(Some(&p.id))),
        }
    }
}

/// `sentry_key=…` inside a `Sentry k=v, k=v` auth header value.
fn sentry_key_of(value: &str) -> Option<String> {
    let rest = value.trim();
    let rest = rest
        .strip_prefix("Sentry ")
        .or_else(|| rest.strip_prefix("sentry "))
        .unwrap_or(rest);
    rest.split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == "sentry_key")
        .map(|(_, v)| v.trim().to_owned())
}

/// The key of a DSN (`https://key[:secret]@host/project`).
pub fn dsn_key(dsn: &str) -> Option<String> {
    let after = dsn.split_once("://").map_or(dsn, |(_, r)| r);
    let (userinfo, _) = after.split_once('@')?;
    let key = userinfo.split(':').next().unwrap_or(userinfo);
    (!key.is_empty()).then(|| key.to_owned())
}

/// The key a request carries in its headers or query (the envelope header is read by the caller).
pub fn request_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(k) = header("x-sentry-auth").and_then(sentry_key_of) {
        return Some(k);
    }
    if let Some(a) = header("authorization") {
        let a = a.trim();
        if let Some(b) = a
            .strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
        {
            return Some(b.trim().to_owned());
        }
        if let Some(k) = sentry_key_of(a) {
            return Some(k);
        }
    }
    query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "sentry_key")
            .map(|(_, v)| v.into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::IngestProject;

    fn rules() -> DsnAuth {
        DsnAuth::new(&IngestSection {
            keys: vec![SecretString::from("global")],
            projects: vec![
                IngestProject {
                    id: "2".into(),
                    name: Some("payments".into()),
                    keys: vec![SecretString::from("pay-key")],
                },
                IngestProject {
                    id: "3".into(),
                    name: None,
                    keys: vec![SecretString::from("shop-key")],
                },
            ],
            ..IngestSection::default()
        })
    }

    #[test]
    fn keys_and_projects() {
        let a = rules();
        assert!(!a.is_open());
        assert_eq!(a.check(Some("2"), None), Err(AuthError::Missing));
        assert_eq!(a.check(Some("2"), Some("nope")), Err(AuthError::Unknown));
        assert_eq!(
            a.check(Some("2"), Some("shop-key")),
            Err(AuthError::OtherProject { asked: "2".into() })
        );
        assert_eq!(
            a.check(Some("2"), Some("pay-key")).map(|p| p.name),
            Ok(Some("payments".into()))
        );
        assert_eq!(
            a.check(None, Some("pay-key")).map(|p| p.id),
            Ok(Some("2".into())),
            "a key names its project when the URL does not"
        );
        assert_eq!(
            a.check(Some("9"), Some("global")).map(|p| p.name),
            Ok(Some("9".into()))
        );
        let open = DsnAuth::new(&IngestSection::default());
        assert!(open.is_open());
        assert!(open.check(Some("1"), None).is_ok());
    }

    #[test]
    fn key_sources() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-sentry-auth",
            "Sentry sentry_version=7, sentry_key=abc, sentry_client=x/1"
                .parse()
                .expect("header"),
        );
        assert_eq!(request_key(&h, None).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer tok".parse().expect("header"));
        assert_eq!(request_key(&h, None).as_deref(), Some("tok"));
        assert_eq!(
            request_key(&HeaderMap::new(), Some("sentry_version=7&sentry_key=q1")).as_deref(),
            Some("q1")
        );
        assert_eq!(
            dsn_key("http://pub:sec@127.0.0.1:3000/1").as_deref(),
            Some("pub")
        );
        assert_eq!(dsn_key("http://127.0.0.1/1"), None);
    }
}
