//! `tracepin correlate`: decode trace and Sentry event files, correlate them, print the result; and
//! `tracepin import`: load such files into the local store; and
//! `tracepin compare`: a failing trace against healthy ones (`correlate::compare`), as text or JSON.
//!
//! Every path may be a file or a directory (walked recursively in name order, dot-files skipped). Each
//! file is decoded with [`crate::connectors::formats::decode_read`] (OTLP-shaped JSON piece by
//! piece), whatever its format; what it holds (spans or events) decides where it goes, so a directory
//! with both kinds can be given either way. A
//! file that cannot be read or decoded is reported on the error stream as `<path>: <what is wrong>` and
//! the others are still used. Exit code: 0 when every file was read, 1 when some failed, 2 when no input
//! could be read at all.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::connectors::formats::{self, Decoded};
use crate::correlate::{self, Options};
use crate::domain::{ErrorEvent, Span};

/// Output format of `tracepin correlate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// An ASCII waterfall per trace with the pinned errors, then the errors that fit no trace.
    #[default]
    Text,
    /// The stable JSON report (pretty-printed).
    Json,
}

/// Arguments of `tracepin correlate`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CorrelateArgs {
    /// Trace files or directories: OTLP JSON or protobuf, Tempo v1/v2, Jaeger v1/api_v3 (gzip accepted).
    #[arg(long = "trace", value_name = "FILE_OR_DIR", num_args = 1..)]
    pub traces: Vec<PathBuf>,
    /// Sentry event files or directories: envelopes, SDK event JSON, Web API events (gzip accepted).
    #[arg(long = "events", value_name = "FILE_OR_DIR", num_args = 1..)]
    pub events: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Sentry tag key to match against a span attribute of the same key, in addition to the defaults
    /// (`transaction_id`, `request_id`, `x-request-id`); repeatable.
    #[arg(long = "correlation-tag", value_name = "KEY")]
    pub correlation_tags: Vec<String>,
}

/// What reading the inputs produced.
#[derive(Default)]
struct Inputs {
    spans: Vec<Span>,
    events: Vec<ErrorEvent>,
    files_read: usize,
    files_failed: usize,
}

/// Deepest directory nesting followed, a guard against pathological trees.
const MAX_DEPTH: usize = 64;

/// Expands a path into the files under it, sorted by name; errors are reported and counted.
fn walk(
    path: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
    inputs: &mut Inputs,
    err: &mut dyn Write,
) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            report(err, path, &e.to_string());
            inputs.files_failed += 1;
            return;
        }
    };
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        report(err, path, "directory nesting too deep, not walked");
        inputs.files_failed += 1;
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(rd) => rd,
        Err(e) => {
            report(err, path, &e.to_string());
            inputs.files_failed += 1;
            return;
        }
    };
    let mut children: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                // Symlinked directories are not followed while walking (no cycles); files are.
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                children.push((entry.path(), is_dir));
            }
            Err(e) => {
                report(err, path, &e.to_string());
                inputs.files_failed += 1;
            }
        }
    }
    children.sort();
    for (child, is_dir) in children {
        if is_dir {
            walk(&child, depth + 1, files, inputs, err);
        } else if child.is_file() {
            files.push(child);
        }
    }
}

fn report(err: &mut dyn Write, path: &Path, what: &str) {
    // Nothing sensible remains to be done when the error stream itself fails.
    let _ = writeln!(err, "{}: {what}", path.display());
}

fn read_file(path: &Path, inputs: &mut Inputs, err: &mut dyn Write) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            report(err, path, &e.to_string());
            inputs.files_failed += 1;
            return;
        }
    };
    // Read piece by piece: a large OTLP JSON file is never held whole.
    match formats::decode_file(file) {
        Ok(Decoded::Trace(t)) => {
            if let Some(message) = &t.partial {
                report(err, path, &format!("warning: partial trace: {message}"));
            }
            inputs.spans.extend(t.spans);
            inputs.files_read += 1;
        }
        Ok(Decoded::Events { events, .. }) => {
            inputs.events.extend(events);
            inputs.files_read += 1;
        }
        Err(e) => {
            report(err, path, &e.to_string());
            inputs.files_failed += 1;
        }
    }
}

fn options(args: &CorrelateArgs) -> Options {
    let mut opts = Options::default();
    let mut seen: BTreeSet<String> = opts.correlation_tags.iter().cloned().collect();
    for tag in &args.correlation_tags {
        let tag = tag.trim();
        if !tag.is_empty() && seen.insert(tag.to_owned()) {
            opts.correlation_tags.push(tag.to_owned());
        }
    }
    opts
}

/// Runs `tracepin correlate`, writing the report to `out` and problems to `err`; returns the exit code.
pub fn run_correlate(args: &CorrelateArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut inputs = Inputs::default();
    let mut files = Vec::new();
    for path in args.traces.iter().chain(&args.events) {
        walk(path, 0, &mut files, &mut inputs, err);
    }
    if files.is_empty() && inputs.files_failed == 0 {
        let _ = writeln!(
            err,
            "no input: give trace and event files or directories with --trace and --events"
        );
        return 2;
    }
    // The same file named twice (or reached through two arguments) is read once.
    let mut seen = BTreeSet::new();
    for file in files {
        if seen.insert(file.clone()) {
            read_file(&file, &mut inputs, err);
        }
    }
    if inputs.files_read == 0 {
        let _ = writeln!(err, "no input could be read");
        return 2;
    }

    let opts = options(args);
    let result = correlate::correlate(inputs.spans, inputs.events, &opts);
    let written = match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &correlate::report::to_json(&result))
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
        OutputFormat::Text => out.write_all(correlate::text::render(&result).as_bytes()),
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        let _ = writeln!(err, "cannot write the report: {e}");
        return 1;
    }
    i32::from(inputs.files_failed > 0)
}

/// What `import` got from a file: its bytes, or (a large OTLP-shaped JSON trace that is not named
/// as a snapshot) its spans, decoded as the file was read.
enum Read {
    Whole(Vec<u8>),
    Decoded(formats::Decoded),
}

fn read_or_stream(file: &std::path::Path) -> Result<Read, String> {
    use std::io::Read as _;
    const HEAD: u64 = 1024 * 1024;
    let mut f = std::fs::File::open(file).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    (&mut f)
        .take(HEAD)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    let large = u64::try_from(head.len()).unwrap_or(0) >= HEAD;
    let streamed =
        large && !snapshot_named(file) && formats::detect(&head).is_ok_and(formats::streams);
    if streamed {
        return formats::decode_read(std::io::Cursor::new(head).chain(f))
            .map(Read::Decoded)
            .map_err(|e| e.to_string());
    }
    f.read_to_end(&mut head).map_err(|e| e.to_string())?;
    Ok(Read::Whole(head))
}

/// A snapshot file (`.tracepin.json.gz`, as exported from a snapshot's page) goes into the snapshot
/// store: `Some(Ok(id))`, or `Some(Err(why))` when it is a snapshot that cannot be imported; `None`
/// when the file is not a snapshot (it is then imported as trace or event data).
/// True for a file named as a snapshot export (`….tracepin.json.gz` or `….tracepin.json`).
fn snapshot_named(file: &std::path::Path) -> bool {
    file.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".tracepin.json.gz") || n.ends_with(".tracepin.json"))
}

fn import_snapshot(
    dir: &std::path::Path,
    file: &std::path::Path,
    bytes: &[u8],
) -> Option<Result<String, String>> {
    use crate::server::snapshots::{decode, SnapshotError, SnapshotStore, SqliteSnapshots};
    let named = snapshot_named(file);
    let snap =
        match decode(bytes) {
            Ok(s) => s,
            Err(
                SnapshotError::NotASnapshot | SnapshotError::Gzip(_) | SnapshotError::Malformed(_),
            ) if !named => return None,
            Err(SnapshotError::TooLarge(_)) if !named => return None,
            Err(e) => return Some(Err(format!("not imported: {e}"))),
        };
    let store = match SqliteSnapshots::open(dir) {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    Some(match store.get(&snap.meta.id) {
        Ok(Some(_)) => Err(format!("snapshot {} is already here", snap.meta.id)),
        Ok(None) => store.put(&snap).map(|m| m.id),
        Err(e) => Err(e),
    })
}

/// Runs `tracepin import`: loads every file (directories walked) into the local store named by the
/// configuration, reporting each file's problem on `err`; returns the exit code (0 all loaded, 1
/// some failed, 2 nothing could be loaded or the store cannot be opened).
pub fn run_import(
    config: &crate::server::config::Config,
    paths: &[PathBuf],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let Some(dir) = config.store_dir() else {
        let _ = writeln!(
            err,
            "no local store: give --data DIR (or TRACEPIN_DATA, or [store] path)"
        );
        return 2;
    };
    let opts = crate::server::data::correlate_options(config);
    let store =
        match crate::connectors::store::Store::open(dir, &config.store, &opts.correlation_tags) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "{e}");
                return 2;
            }
        };
    let mut inputs = Inputs::default();
    let mut files = Vec::new();
    for path in paths {
        walk(path, 0, &mut files, &mut inputs, err);
    }
    let mut seen = BTreeSet::new();
    let (mut spans, mut events, mut snapshots) = (0usize, 0usize, 0usize);
    for file in files {
        if !seen.insert(file.clone()) {
            continue;
        }
        // A large trace file is decoded as it is read; anything else (snapshots included) whole.
        let loaded = match read_or_stream(&file) {
            Ok(Read::Decoded(decoded)) => {
                crate::server::ingest::load::import_decoded(&store, decoded)
            }
            Ok(Read::Whole(bytes)) => match import_snapshot(dir, &file, &bytes) {
                Some(Ok(id)) => {
                    inputs.files_read += 1;
                    snapshots += 1;
                    let _ = writeln!(
                        out,
                        "{}: snapshot {id} imported (open /s/{id})",
                        file.display()
                    );
                    continue;
                }
                Some(Err(e)) => {
                    report(err, &file, &e);
                    inputs.files_failed += 1;
                    continue;
                }
                None => crate::server::ingest::load::import_file(&store, &bytes),
            },
            Err(e) => {
                report(err, &file, &e);
                inputs.files_failed += 1;
                continue;
            }
        };
        match loaded {
            Ok(r) => {
                inputs.files_read += 1;
                spans += r.spans_new;
                events += r.events_new;
            }
            Err(e) => {
                report(err, &file, &e);
                inputs.files_failed += 1;
            }
        }
    }
    store.close();
    let _ = writeln!(
        out,
        "imported {} file(s) into {}: {spans} new span(s), {events} new event(s), {snapshots} snapshot(s)",
        inputs.files_read,
        dir.display()
    );
    if inputs.files_read == 0 {
        return 2;
    }
    i32::from(inputs.files_failed > 0)
}

/// Arguments of `tracepin compare`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CompareArgs {
    /// The failing trace: a file or directory in any trace format tracepin reads.
    #[arg(long = "trace", value_name = "FILE_OR_DIR", num_args = 1..)]
    pub traces: Vec<PathBuf>,
    /// Healthy traces to compare with: files or directories; every trace in them is a baseline.
    #[arg(long = "baseline", value_name = "FILE_OR_DIR", num_args = 1..)]
    pub baselines: Vec<PathBuf>,
    /// Which trace of `--trace` is the failing one, when the files hold several (32 hex digits).
    #[arg(long = "trace-id", value_name = "ID")]
    pub trace_id: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Reads the spans of every file under `paths` (events are ignored), reporting failures.
fn read_spans(paths: &[PathBuf], inputs: &mut Inputs, err: &mut dyn Write) {
    let mut files = Vec::new();
    for path in paths {
        walk(path, 0, &mut files, inputs, err);
    }
    let mut seen = BTreeSet::new();
    for file in files {
        if seen.insert(file.clone()) {
            read_file(&file, inputs, err);
        }
    }
}

/// Runs `tracepin compare`: the failing trace against every trace of the baseline files. Exit code 0
/// when every file was read, 1 when some failed, 2 when the failing trace or every baseline is missing.
pub fn run_compare(args: &CompareArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    use crate::correlate::compare;
    use crate::domain::{trace_id_lenient, Trace};

    let mut failing_in = Inputs::default();
    read_spans(&args.traces, &mut failing_in, err);
    let mut base_in = Inputs::default();
    read_spans(&args.baselines, &mut base_in, err);
    let failed = failing_in.files_failed + base_in.files_failed;

    let want = match args.trace_id.as_deref().map(trace_id_lenient) {
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => {
            let _ = writeln!(err, "--trace-id: {e}");
            return 2;
        }
        None => None,
    };
    let traces = correlate::assemble::assemble(failing_in.spans);
    let failing: Option<Trace> = match want {
        Some(id) => traces.into_iter().find(|t| t.trace_id == id),
        None => {
            let with_errors: Vec<&Trace> = traces
                .iter()
                .filter(|t| t.spans.iter().any(Span::is_error))
                .collect();
            let pick = match (traces.len(), with_errors.as_slice()) {
                (1, _) => traces.first().map(|t| t.trace_id),
                (_, [one]) => Some(one.trace_id),
                _ => None,
            };
            if pick.is_none() && !traces.is_empty() {
                let ids: Vec<String> = traces.iter().map(|t| t.trace_id.to_string()).collect();
                let _ = writeln!(
                    err,
                    "--trace holds {} traces ({}); name the failing one with --trace-id",
                    traces.len(),
                    ids.join(", ")
                );
                return 2;
            }
            traces.into_iter().find(|t| Some(t.trace_id) == pick)
        }
    };
    let Some(failing) = failing else {
        let _ = writeln!(
            err,
            "no failing trace: --trace gave no spans{}",
            want.map(|id| format!(" of trace {id}")).unwrap_or_default()
        );
        return 2;
    };
    let baselines: Vec<Trace> = correlate::assemble::assemble(base_in.spans)
        .into_iter()
        .filter(|t| t.trace_id != failing.trace_id)
        .collect();
    if baselines.is_empty() {
        let _ = writeln!(
            err,
            "no baseline: --baseline gave no trace other than the failing one"
        );
        return 2;
    }
    let with_errors = baselines
        .iter()
        .filter(|t| t.spans.iter().any(Span::is_error))
        .count();
    if with_errors > 0 {
        let _ = writeln!(
            err,
            "warning: {with_errors} of {} baseline trace(s) have error spans; failures they share are not reported",
            baselines.len()
        );
    }
    let timeline = correlate::correlate_trace(failing, &[], &Options::default());
    let refs: Vec<&Trace> = baselines.iter().collect();
    let result = compare::compare(&timeline, &refs, &compare::CompareOptions::default());
    let failing = &timeline.trace;
    let ids: Vec<_> = baselines.iter().map(|t| t.trace_id).collect();
    let written = match args.format {
        OutputFormat::Json => serde_json::to_writer_pretty(
            &mut *out,
            &compare::report::to_json(failing, &result, &ids),
        )
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out)),
        OutputFormat::Text => out.write_all(compare::report::to_text(failing, &result).as_bytes()),
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        let _ = writeln!(err, "cannot write the report: {e}");
        return 1;
    }
    i32::from(failed > 0)
}
