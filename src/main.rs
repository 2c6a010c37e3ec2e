//! The `tracepin` binary: `tracepin [serve]` runs the dashboard; `tracepin correlate` and `tracepin
//! compare` are the CLI; `tracepin import` loads exported files into the local store.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use tracepin::server::{self, config::Overrides};

/// jemalloc, whose background thread gives freed pages back to the system on a timer (about 10 s),
/// so the server's memory comes back after a large trace leaves the caches (glibc malloc kept most of
/// it in per-thread arenas; mimalloc kept the pages of threads that went idle).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// One timeline for Sentry errors and OpenTelemetry traces.
#[derive(Parser, Debug)]
#[command(name = "tracepin", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the dashboard (the default).
    Serve(ServeArgs),
    /// Correlate trace files with Sentry event files and print the result.
    Correlate(tracepin::cli::CorrelateArgs),
    /// Compare a failing trace with healthy ones and print what differs.
    Compare(tracepin::cli::CompareArgs),
    /// Load exported trace and Sentry event files into the local store.
    Import(ImportArgs),
}

#[derive(clap::Args, Debug, Clone)]
struct ImportArgs {
    /// Files or directories: OTLP JSON/protobuf, Tempo, Jaeger, Sentry envelopes and events (gzip too),
    /// and snapshot files (`.tracepin.json.gz`).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Settings file (for `[store]` and `[correlate]`).
    #[arg(long, env = "TRACEPIN_CONFIG", default_value = "Leptos.toml")]
    config: String,
    /// The local store's data directory (also `TRACEPIN_DATA`, `[store] path`).
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Clone, Default)]
struct ServeArgs {
    /// Settings file: Leptos options under `[package.metadata.leptos]` plus tracepin's tables.
    #[arg(long, env = "TRACEPIN_CONFIG", default_value = "Leptos.toml")]
    config: String,
    /// Address to listen on (overrides `site-addr`).
    #[arg(long, env = "TRACEPIN_ADDR")]
    addr: Option<String>,
    /// Sentry base URL (also `SENTRY_URL`).
    #[arg(long)]
    sentry_url: Option<String>,
    /// Sentry organization slug (also `SENTRY_ORG`).
    #[arg(long)]
    sentry_org: Option<String>,
    /// Grafana Tempo base URL (also `TRACEPIN_TEMPO_URL`).
    #[arg(long)]
    tempo_url: Option<String>,
    /// Jaeger query base URL (also `TRACEPIN_JAEGER_URL`).
    #[arg(long)]
    jaeger_url: Option<String>,
    /// Directory of trace and Sentry event files (also `TRACEPIN_FILES_DIR`).
    #[arg(long)]
    files_dir: Option<PathBuf>,
    /// Serve the built-in demo incident from memory (no local store).
    #[arg(long)]
    demo: bool,
    /// The local store's data directory (also `TRACEPIN_DATA`, `[store] path`).
    #[arg(long)]
    data: Option<PathBuf>,
    /// A second address accepting OTLP/HTTP, e.g. 127.0.0.1:4318 (also `TRACEPIN_OTLP_ADDR`).
    #[arg(long)]
    otlp_addr: Option<String>,
}

fn main() -> ExitCode {
    // Purge freed pages from a background thread, not only when a thread next allocates: an idle
    // server gives a large trace's memory back. Without it jemalloc still works, only lazier.
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Correlate(args)) => {
            let mut out = std::io::stdout().lock();
            let mut err = std::io::stderr().lock();
            let code = tracepin::cli::run_correlate(&args, &mut out, &mut err);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Some(Command::Compare(args)) => {
            let mut out = std::io::stdout().lock();
            let mut err = std::io::stderr().lock();
            let code = tracepin::cli::run_compare(&args, &mut out, &mut err);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Import(args)) => import(args),
        None => serve(cli.serve),
    }
}

fn import(args: ImportArgs) -> ExitCode {
    server::telemetry::init();
    let overrides = Overrides {
        data: args.data,
        ..Overrides::default()
    };
    let (_, config) = match server::load(&args.config, &overrides) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("tracepin: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let code = tracepin::cli::run_import(&config, &args.files, &mut out, &mut err);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn serve(args: ServeArgs) -> ExitCode {
    server::telemetry::init();
    let overrides = Overrides {
        sentry_url: args.sentry_url,
        sentry_org: args.sentry_org,
        tempo_url: args.tempo_url,
        jaeger_url: args.jaeger_url,
        files_dir: args.files_dir,
        demo: args.demo,
        data: args.data,
        otlp_addr: args.otlp_addr,
    };
    let (mut leptos_options, config) = match server::load(&args.config, &overrides) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("tracepin: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(addr) = args.addr {
        match addr.parse() {
            Ok(a) => leptos_options.site_addr = a,
            Err(e) => {
                eprintln!("tracepin: --addr {addr}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tracepin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tracepin::app::run(leptos_options, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracepin: {e}");
            ExitCode::FAILURE
        }
    }
}
