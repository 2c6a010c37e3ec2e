//! Configuration: the `Leptos.toml` file, `TRACEPIN_*`/`SENTRY_*` environment variables and flags.
//!
//! `Leptos.toml` is the one run-time settings file. Its `[package.metadata.leptos]` table holds the
//! Leptos options (read by `leptos_config`); every other table is tracepin's and is parsed here, strictly:
//! an unknown key or a bad value stops startup with the file, line and key. Precedence, lowest first:
//! defaults, file, environment, command-line flags. A missing upstream is not an error: with none
//! configured the binary serves the local store at the default data path, seeded once with the demo
//! incident ([`Config::with_default_store`]); `--demo` serves the demo from memory. Secrets (tokens,
//! passwords, DSN keys) are [`SecretString`]s and never logged.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

pub use crate::connectors::sentry::SentrySettings;
pub use crate::connectors::store::StoreConfig;
pub use crate::connectors::traces::{FilesConfig, JaegerConfig, TempoConfig};

/// Error while loading configuration; the message names the file, the line and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// The file is not valid or has an unknown key / bad value.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// File path.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// An environment variable or flag has a bad value.
    #[error("{name}: {message}")]
    Value {
        /// Variable or flag name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// `[server]`: where tracepin listens and how it presents itself.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ServerSection {
    /// Public base URL of tracepin, used in links it generates (e.g. `https://tracepin.example.com`).
    pub public_url: Option<String>,
    /// Host names tracepin answers to (DNS rebinding guard). Default: loopback names when listening
    /// on loopback, any host otherwise. The public URL's host is always added.
    pub allowed_hosts: Option<Vec<String>>,
    /// Open connections at most (default 512); further clients wait in the listen queue.
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers (default 10).
    pub header_timeout_secs: Option<u64>,
    /// Seconds a request may take before it is answered 408 (default 60).
    pub request_timeout_secs: Option<u64>,
    /// Seconds a client has to send a request body (default 30).
    pub body_timeout_secs: Option<u64>,
    /// Memory for loaded timelines, in MB (default 1024): the timeline cache is weighed by the
    /// estimated bytes of its traces, and the least used leave first. A single trace larger than this
    /// is still served, just not kept.
    pub cache_mb: Option<u64>,
    /// From how many spans a trace is called large on its page (default 200000): the page says how
    /// many spans and how much memory, and that rows arrive in chunks. Nothing is cut.
    pub large_trace_spans: Option<u64>,
}

impl ServerSection {
    /// The connection limits for `server::serve`.
    pub fn limits(&self) -> super::serve::ServeLimits {
        let d = super::serve::ServeLimits::default();
        super::serve::ServeLimits {
            max_connections: self.max_connections.unwrap_or(d.max_connections).max(1),
            header_read_timeout: self
                .header_timeout_secs
                .map_or(d.header_read_timeout, |s| Duration::from_secs(s.max(1))),
            shutdown_grace: d.shutdown_grace,
        }
    }

    /// How long a request may take before it is answered 408.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.unwrap_or(60).max(1))
    }

    /// Bytes the timeline cache may hold.
    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb
            .unwrap_or(1024)
            .max(1)
            .saturating_mul(1024 * 1024)
    }

    /// Spans from which a trace is called large.
    pub fn large_trace_spans(&self) -> u64 {
        self.large_trace_spans.unwrap_or(200_000).max(1)
    }

    /// How long a client has to send a request body.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs.unwrap_or(30).max(1))
    }
}

/// `[auth]`: optional access control for every route except `/healthz`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AuthSection {
    /// `none` (default), `basic` or `proxy_header`.
    #[serde(default)]
    pub mode: AuthMode,
    /// Basic auth user name.
    pub username: Option<String>,
    /// Basic auth password (prefer `TRACEPIN_AUTH_PASSWORD`).
    pub password: Option<SecretString>,
    /// Header set by a trusted reverse proxy after it authenticated the user, e.g. `X-Forwarded-User`.
    pub header: Option<String>,
}

/// The basic-auth user name when only a password is configured.
pub const DEFAULT_USERNAME: &str = "tracepin";

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// No access control.
    #[default]
    None,
    /// HTTP basic auth with one user name and password.
    Basic,
    /// A trusted reverse proxy authenticates and sets a header.
    ProxyHeader,
}

/// `[correlate]`: pinning options.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CorrelateSection {
    /// Tag keys that carry a correlation id shared with span attributes.
    pub correlation_tags: Option<Vec<String>>,
    /// Window around an event for the enclosing-span rule, in milliseconds.
    pub enclosing_window_ms: Option<u64>,
}

/// `[links]`: where "Open in …" links point.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct LinksSection {
    /// Grafana base URL for "Open in Grafana Explore".
    pub grafana_url: Option<String>,
    /// Tempo datasource uid in Grafana.
    pub grafana_tempo_datasource: Option<String>,
    /// Jaeger UI base URL for "Open in Jaeger".
    pub jaeger_ui_url: Option<String>,
}

/// `[ingest]`: who may send data to the local store, and where else OTLP is accepted.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct IngestSection {
    /// DSN public keys accepted for every project (prefer `TRACEPIN_INGEST_KEYS`).
    #[serde(default)]
    pub keys: Vec<SecretString>,
    /// Projects: the id in the DSN path, a name shown on pages, and keys accepted for it only.
    #[serde(default)]
    pub projects: Vec<IngestProject>,
    /// A second address that accepts OTLP/HTTP only, e.g. `127.0.0.1:4318`.
    pub otlp_addr: Option<String>,
    /// The largest request body accepted, in MB (default 20); decompressed bodies may be 10 times that.
    pub max_body_mb: Option<u64>,
}

/// One `[[ingest.projects]]` entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct IngestProject {
    /// The project id as it appears at the end of the DSN (`https://key@host/<id>`).
    pub id: String,
    /// The name shown on pages (default: the id).
    pub name: Option<String>,
    /// DSN public keys accepted for this project only.
    #[serde(default)]
    pub keys: Vec<SecretString>,
}

impl IngestSection {
    /// True when at least one key is configured (globally or for a project).
    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty() || self.projects.iter().any(|p| !p.keys.is_empty())
    }
}

/// The tracepin part of the config file (the Leptos table is read by `leptos_config`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct FileConfig {
    /// `[package.metadata.leptos]`, read by leptos_config; accepted and ignored here.
    #[serde(default, rename = "package")]
    _package: Option<toml::Table>,
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    auth: AuthSection,
    #[serde(default)]
    sentry: SentrySettings,
    #[serde(default)]
    tempo: Vec<TempoConfig>,
    #[serde(default)]
    jaeger: Vec<JaegerConfig>,
    #[serde(default)]
    files: FilesConfig,
    #[serde(default)]
    correlate: CorrelateSection,
    #[serde(default)]
    links: LinksSection,
    #[serde(default)]
    store: StoreConfig,
    #[serde(default)]
    ingest: IngestSection,
}

/// Values given on the command line (all optional; they override file and environment).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--sentry-url`.
    pub sentry_url: Option<String>,
    /// `--sentry-org`.
    pub sentry_org: Option<String>,
    /// `--tempo-url`.
    pub tempo_url: Option<String>,
    /// `--jaeger-url`.
    pub jaeger_url: Option<String>,
    /// `--files-dir`.
    pub files_dir: Option<PathBuf>,
    /// `--demo`: ignore configured upstreams and serve the built-in demo incident.
    pub demo: bool,
    /// `--data DIR`: the local store's data directory.
    pub data: Option<PathBuf>,
    /// `--otlp-addr`: a second address accepting OTLP/HTTP.
    pub otlp_addr: Option<String>,
}

/// The complete, validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `[server]`.
    pub server: ServerSection,
    /// `[auth]`.
    pub auth: AuthSection,
    /// `[sentry]` (effective only when url, org and token are all known).
    pub sentry: SentrySettings,
    /// `[[tempo]]`.
    pub tempo: Vec<TempoConfig>,
    /// `[[jaeger]]`.
    pub jaeger: Vec<JaegerConfig>,
    /// `[files]`.
    pub files: FilesConfig,
    /// `[correlate]`.
    pub correlate: CorrelateSection,
    /// `[links]`.
    pub links: LinksSection,
    /// `[store]`: the local store is on when `path` is set.
    pub store: StoreConfig,
    /// `[ingest]`.
    pub ingest: IngestSection,
    /// Seed a newly created store with the demo incident (set when the default data path is used).
    pub seed_demo: bool,
    /// Force demo data.
    pub demo: bool,
}

impl Config {
    /// Builds the configuration from the file text (if any), an environment lookup and flag overrides.
    ///
    /// `env` is a function so tests need not touch the process environment.
    pub fn load(
        file: Option<(&str, &str)>,
        env: &dyn Fn(&str) -> Option<String>,
        flags: &Overrides,
    ) -> Result<Config, ConfigError> {
        let parsed = match file {
            Some((path, text)) => parse_file(path, text)?,
            None => FileConfig::default(),
        };
        let FileConfig {
            _package: _,
            server,
            mut auth,
            mut sentry,
            mut tempo,
            mut jaeger,
            mut files,
            correlate,
            mut links,
            mut store,
            mut ingest,
        } = parsed;

        let env_nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());

        // Environment (conventional Sentry names first, then tracepin's own).
        if let Some(v) = env_nonempty("SENTRY_URL").or_else(|| env_nonempty("TRACEPIN_SENTRY_URL"))
        {
            sentry.url = Some(v);
        }
        if let Some(v) = env_nonempty("SENTRY_ORG").or_else(|| env_nonempty("TRACEPIN_SENTRY_ORG"))
        {
            sentry.org = Some(v);
        }
        if let Some(v) = env_nonempty("SENTRY_AUTH_TOKEN") {
            sentry.token = Some(SecretString::from(v));
        }
        if let Some(v) = env_nonempty("TRACEPIN_TEMPO_URL") {
            upsert_tempo(&mut tempo, v);
        }
        if let Some(v) = env_nonempty("TRACEPIN_JAEGER_URL") {
            upsert_jaeger(&mut jaeger, v);
        }
        if let Some(v) = env_nonempty("TRACEPIN_FILES_DIR") {
            files.dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env_nonempty("TRACEPIN_GRAFANA_URL") {
            links.grafana_url = Some(v);
        }
        if let Some(v) = env_nonempty("TRACEPIN_GRAFANA_TEMPO_DATASOURCE") {
            links.grafana_tempo_datasource = Some(v);
        }
        if let Some(v) = env_nonempty("TRACEPIN_JAEGER_UI_URL") {
            links.jaeger_ui_url = Some(v);
        }
        let mut server = server;
        if let Some(v) = env_nonempty("TRACEPIN_ALLOWED_HOSTS") {
            server.allowed_hosts = Some(
                v.split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        if let Some(v) = env_nonempty("TRACEPIN_AUTH_PASSWORD") {
            auth.password = Some(SecretString::from(v));
        }
        if let Some(v) = env_nonempty("TRACEPIN_AUTH_USERNAME") {
            auth.username = Some(v);
        }
        // A password means access control was wanted: it turns basic auth on (user `tracepin`
        // unless one is named) instead of being silently ignored.
        if auth.mode == AuthMode::None && auth.password.is_some() {
            auth.mode = AuthMode::Basic;
            auth.username
                .get_or_insert_with(|| DEFAULT_USERNAME.to_owned());
        }
        if let Some(v) = env_nonempty("TRACEPIN_DATA") {
            store.path = Some(PathBuf::from(v));
        }
        if let Some(v) = env_nonempty("TRACEPIN_INGEST_KEYS") {
            ingest.keys = v
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| SecretString::from(k.to_owned()))
                .collect();
        }
        if let Some(v) = env_nonempty("TRACEPIN_OTLP_ADDR") {
            ingest.otlp_addr = Some(v);
        }
        let mut demo = flags.demo;
        if let Some(v) = env_nonempty("TRACEPIN_DEMO") {
            demo |= parse_bool("TRACEPIN_DEMO", &v)?;
        }

        // Flags.
        if let Some(v) = &flags.sentry_url {
            sentry.url = Some(v.clone());
        }
        if let Some(v) = &flags.sentry_org {
            sentry.org = Some(v.clone());
        }
        if let Some(v) = &flags.tempo_url {
            upsert_tempo(&mut tempo, v.clone());
        }
        if let Some(v) = &flags.jaeger_url {
            upsert_jaeger(&mut jaeger, v.clone());
        }
        if let Some(v) = &flags.files_dir {
            files.dir = Some(v.clone());
        }
        if let Some(v) = &flags.data {
            store.path = Some(v.clone());
        }
        if let Some(v) = &flags.otlp_addr {
            ingest.otlp_addr = Some(v.clone());
        }

        let config = Config {
            server,
            auth,
            sentry,
            tempo,
            jaeger,
            files,
            correlate,
            links,
            store,
            ingest,
            seed_demo: false,
            demo,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match self.auth.mode {
            AuthMode::None => {}
            AuthMode::Basic => {
                if self.auth.username.is_none() || self.auth.password.is_none() {
                    return Err(ConfigError::Value {
                        name: "auth".into(),
                        message: "mode = \"basic\" needs `username` and `password` (or TRACEPIN_AUTH_PASSWORD)".into(),
                    });
                }
            }
            AuthMode::ProxyHeader => {
                let ok = self
                    .auth
                    .header
                    .as_deref()
                    .is_some_and(|h| http::HeaderName::from_bytes(h.as_bytes()).is_ok());
                if !ok {
                    return Err(ConfigError::Value {
                        name: "auth.header".into(),
                        message: "mode = \"proxy_header\" needs a valid header name, e.g. \"X-Forwarded-User\"".into(),
                    });
                }
            }
        }
        for p in &self.ingest.projects {
            if p.id.trim().is_empty() || p.id.contains('/') {
                return Err(ConfigError::Value {
                    name: "ingest.projects.id".into(),
                    message: format!(
                        "`{}` is not a DSN project id (the last part of the DSN path)",
                        p.id
                    ),
                });
            }
        }
        if let Some(a) = &self.ingest.otlp_addr {
            if a.parse::<std::net::SocketAddr>().is_err() {
                return Err(ConfigError::Value {
                    name: "ingest.otlp_addr".into(),
                    message: format!("`{a}` is not an address such as 127.0.0.1:4318"),
                });
            }
        }
        for url in self
            .sentry
            .url
            .iter()
            .chain(self.tempo.iter().map(|t| &t.url))
            .chain(self.jaeger.iter().map(|j| &j.url))
        {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Value {
                    name: "url".into(),
                    message: format!("`{url}` is not an http:// or https:// URL"),
                });
            }
        }
        Ok(())
    }

    /// True when Sentry has url, org and token.
    pub fn sentry_configured(&self) -> bool {
        self.sentry.url.is_some() && self.sentry.org.is_some() && self.sentry.token.is_some()
    }

    /// True when no upstream and no store is configured (or `--demo`): serve the built-in demo
    /// incident from memory. The binary gives an unconfigured run the store at the default data
    /// path instead ([`Config::with_default_store`]).
    pub fn uses_demo(&self) -> bool {
        self.demo || (self.nothing_configured() && self.store.path.is_none())
    }

    fn nothing_configured(&self) -> bool {
        !self.sentry_configured()
            && self.tempo.is_empty()
            && self.jaeger.is_empty()
            && self.files.dir.is_none()
    }

    /// With nothing configured (and no `--demo`), the local store at `default_dir`, seeded once
    /// with the demo incident.
    pub fn with_default_store(mut self, default_dir: PathBuf) -> Config {
        if !self.demo && self.nothing_configured() && self.store.path.is_none() {
            self.store.path = Some(default_dir);
            self.seed_demo = true;
        }
        self
    }

    /// The local store's data directory, when the store is on (never with `--demo`).
    pub fn store_dir(&self) -> Option<&std::path::Path> {
        if self.demo {
            return None;
        }
        self.store.path.as_deref()
    }
}

fn upsert_tempo(list: &mut Vec<TempoConfig>, url: String) {
    match list.first_mut() {
        Some(first) => first.url = url,
        None => list.push(TempoConfig::new(url)),
    }
}

fn upsert_jaeger(list: &mut Vec<JaegerConfig>, url: String) {
    match list.first_mut() {
        Some(first) => first.url = url,
        None => list.push(JaegerConfig::new(url)),
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(ConfigError::Value {
            name: name.into(),
            message: format!("expected true or false, got `{other}`"),
        }),
    }
}

fn parse_file(path: &str, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_col(text, span.start))
            .unwrap_or((1, 1));
        ConfigError::Parse {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const GOOD: &str = r#"
[package.metadata.leptos]
output-name = "tracepin"
site-addr = "127.0.0.1:3000"

[sentry]
url = "https://de.sentry.io"
org = "acme"
token = "sntrys_file"

[[tempo]]
name = "production"
url = "http://tempo:3200"
tenant = "acme"

[[jaeger]]
name = "staging"
url = "http://jaeger:16686"

[correlate]
correlation_tags = ["transaction_id"]
"#;

    #[test]
    fn good_file() {
        let c = Config::load(Some(("Leptos.toml", GOOD)), &no_env, &Overrides::default())
            .expect("valid config");
        assert_eq!(c.sentry.url.as_deref(), Some("https://de.sentry.io"));
        assert_eq!(c.sentry.org.as_deref(), Some("acme"));
        assert!(c.sentry_configured());
        assert_eq!(c.tempo.len(), 1);
        assert_eq!(c.tempo[0].name, "production");
        assert_eq!(c.tempo[0].tenant.as_deref(), Some("acme"));
        assert_eq!(c.jaeger[0].name, "staging");
        assert_eq!(
            c.correlate.correlation_tags,
            Some(vec!["transaction_id".to_owned()])
        );
        assert!(!c.uses_demo());
        assert_eq!(c.auth.mode, AuthMode::None);
    }

    #[test]
    fn no_file_means_demo() {
        let c = Config::load(None, &no_env, &Overrides::default()).expect("defaults");
        assert!(c.uses_demo());
        assert!(!c.sentry_configured());
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = "[package.metadata.leptos]\noutput-name = \"tracepin\"\n\n[sentry]\nurl = \"https://sentry.io\"\ntokn = \"x\"\n";
        let err = Config::load(Some(("Leptos.toml", text)), &no_env, &Overrides::default())
            .expect_err("unknown key must fail");
        let msg = err.to_string();
        assert!(msg.starts_with("Leptos.toml:6:"), "{msg}");
        assert!(msg.contains("tokn"), "{msg}");
    }

    #[test]
    fn bad_value_names_line() {
        let text = "[sentry]\norg = \"acme\"\n\n[auth]\nmode = \"kerberos\"\n";
        let err = Config::load(
            Some(("tracepin.toml", text)),
            &no_env,
            &Overrides::default(),
        )
        .expect_err("bad enum value must fail");
        let msg = err.to_string();
        assert!(msg.starts_with("tracepin.toml:5:"), "{msg}");
        assert!(msg.contains("kerberos"), "{msg}");
    }

    #[test]
    fn bad_type_names_line() {
        let text = "[[tempo]]\nurl = 3200\n";
        let err = Config::load(Some(("Leptos.toml", text)), &no_env, &Overrides::default())
            .expect_err("wrong type must fail");
        assert!(err.to_string().starts_with("Leptos.toml:2:"), "{err}");
    }

    #[test]
    fn syntax_error_names_line() {
        let text = "[sentry]\nurl = \"https://sentry.io\n";
        let err = Config::load(Some(("Leptos.toml", text)), &no_env, &Overrides::default())
            .expect_err("syntax error must fail");
        assert!(err.to_string().starts_with("Leptos.toml:2:"), "{err}");
    }

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let env = |k: &str| match k {
            "SENTRY_AUTH_TOKEN" => Some("sntrys_env".to_owned()),
            "SENTRY_ORG" => Some("env-org".to_owned()),
            "TRACEPIN_TEMPO_URL" => Some("http://tempo-env:3200".to_owned()),
            "TRACEPIN_JAEGER_URL" => Some("http://jaeger-env:16686".to_owned()),
            _ => None,
        };
        let flags = Overrides {
            sentry_org: Some("flag-org".to_owned()),
            ..Overrides::default()
        };
        let c = Config::load(Some(("Leptos.toml", GOOD)), &env, &flags).expect("valid");
        let token = c.sentry.token.as_ref().expect("token");
        assert_eq!(token.expose_secret(), "sntrys_env");
        assert_eq!(c.sentry.org.as_deref(), Some("flag-org"));
        assert_eq!(c.tempo[0].url, "http://tempo-env:3200");
        assert_eq!(c.tempo[0].name, "production", "name kept from the file");
        assert_eq!(c.jaeger[0].url, "http://jaeger-env:16686");
    }

    #[test]
    fn env_alone_configures_sentry() {
        let env = |k: &str| match k {
            "SENTRY_URL" => Some("https://sentry.example.com".to_owned()),
            "SENTRY_ORG" => Some("acme".to_owned()),
            "SENTRY_AUTH_TOKEN" => Some("t".to_owned()),
            _ => None,
        };
        let c = Config::load(None, &env, &Overrides::default()).expect("valid");
        assert!(c.sentry_configured());
        assert!(!c.uses_demo());
    }

    #[test]
    fn bad_env_value_is_named() {
        let env = |k: &str| (k == "TRACEPIN_DEMO").then(|| "maybe".to_owned());
        let err = Config::load(None, &env, &Overrides::default()).expect_err("bad bool");
        assert!(err.to_string().starts_with("TRACEPIN_DEMO:"), "{err}");
    }

    #[test]
    fn a_lone_password_turns_basic_auth_on() {
        let env = |k: &str| (k == "TRACEPIN_AUTH_PASSWORD").then(|| "s3cret".to_owned());
        let c = Config::load(None, &env, &Overrides::default()).expect("valid");
        assert_eq!(c.auth.mode, AuthMode::Basic);
        assert_eq!(c.auth.username.as_deref(), Some(DEFAULT_USERNAME));
        let text = "[auth]\npassword = \"s3cret\"\nusername = \"oncall\"\n";
        let c = Config::load(
            Some(("Leptos.toml", text)),
            &|_| None,
            &Overrides::default(),
        )
        .expect("valid");
        assert_eq!(c.auth.mode, AuthMode::Basic);
        assert_eq!(c.auth.username.as_deref(), Some("oncall"));
    }

    #[test]
    fn basic_auth_needs_password() {
        let text = "[auth]\nmode = \"basic\"\nusername = \"oncall\"\n";
        let err = Config::load(Some(("Leptos.toml", text)), &no_env, &Overrides::default())
            .expect_err("missing password");
        assert!(err.to_string().contains("password"), "{err}");
        let env = |k: &str| (k == "TRACEPIN_AUTH_PASSWORD").then(|| "s3cret".to_owned());
        let c = Config::load(Some(("Leptos.toml", text)), &env, &Overrides::default())
            .expect("password from env");
        assert_eq!(c.auth.mode, AuthMode::Basic);
    }

    #[test]
    fn non_http_url_rejected() {
        let env = |k: &str| (k == "TRACEPIN_TEMPO_URL").then(|| "tempo:3200".to_owned());
        let err = Config::load(None, &env, &Overrides::default()).expect_err("bad url");
        assert!(err.to_string().contains("tempo:3200"), "{err}");
    }

    #[test]
    fn store_and_ingest_settings() {
        let text = "[store]\npath = \"/var/lib/tracepin\"\nmax_mb = 10\n\n[ingest]\notlp_addr = \"127.0.0.1:4318\"\nkeys = [\"k1\"]\n\n[[ingest.projects]]\nid = \"2\"\nname = \"payments\"\nkeys = [\"k2\"]\n";
        let c = Config::load(Some(("Leptos.toml", text)), &no_env, &Overrides::default())
            .expect("valid");
        assert_eq!(
            c.store_dir(),
            Some(std::path::Path::new("/var/lib/tracepin"))
        );
        assert_eq!(c.store.limits().max_bytes, 10 * 1024 * 1024);
        assert!(c.ingest.has_keys());
        assert_eq!(c.ingest.projects[0].name.as_deref(), Some("payments"));
        assert!(!c.uses_demo());
        assert!(!format!("{c:?}").contains("k1"), "keys are secrets");
        let env = |k: &str| (k == "TRACEPIN_DATA").then(|| "/tmp/env-data".to_owned());
        let flags = Overrides {
            data: Some("/tmp/flag-data".into()),
            ..Overrides::default()
        };
        let c = Config::load(None, &env, &Overrides::default()).expect("valid");
        assert_eq!(c.store_dir(), Some(std::path::Path::new("/tmp/env-data")));
        let c = Config::load(None, &env, &flags).expect("valid");
        assert_eq!(c.store_dir(), Some(std::path::Path::new("/tmp/flag-data")));
        let bad = "[ingest]\notlp_addr = \"localhost\"\n";
        let err = Config::load(Some(("Leptos.toml", bad)), &no_env, &Overrides::default())
            .expect_err("bad address");
        assert!(err.to_string().contains("ingest.otlp_addr"), "{err}");
    }

    #[test]
    fn nothing_configured_means_the_default_store_seeded_with_the_demo() {
        let c = Config::load(None, &no_env, &Overrides::default())
            .expect("defaults")
            .with_default_store("/tmp/default-data".into());
        assert_eq!(
            c.store_dir(),
            Some(std::path::Path::new("/tmp/default-data"))
        );
        assert!(c.seed_demo);
        assert!(!c.uses_demo());
        let flags = Overrides {
            demo: true,
            ..Overrides::default()
        };
        let c = Config::load(None, &no_env, &flags)
            .expect("defaults")
            .with_default_store("/tmp/default-data".into());
        assert!(c.uses_demo());
        assert_eq!(c.store_dir(), None);
        let c = Config::load(Some(("Leptos.toml", GOOD)), &no_env, &Overrides::default())
            .expect("valid")
            .with_default_store("/tmp/default-data".into());
        assert_eq!(
            c.store_dir(),
            None,
            "upstreams configured: no store unless asked"
        );
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let c = Config::load(Some(("Leptos.toml", GOOD)), &no_env, &Overrides::default())
            .expect("valid");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("sntrys_file"), "{dbg}");
    }
}
