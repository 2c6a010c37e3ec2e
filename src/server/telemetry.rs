//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info` for tracepin, `warn` elsewhere).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are ignored (tests may call it repeatedly).
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,tracepin=info,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
