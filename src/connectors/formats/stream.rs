//! OTLP-shaped JSON traces decoded while their bytes arrive (a file read piece by piece, an HTTP answer
//! chunk by chunk), so the whole document is never held at once.
//!
//! A byte scanner follows the document's structure (objects, arrays, strings and the keys on the path)
//! and recognises the span lists: `resourceSpans[] → scopeSpans[] → spans[]`, with the aliases `batches`
//! and `instrumentationLibrarySpans`, inside `result` for Jaeger api_v3 and `trace` for Tempo v2. Each
//! span's bytes go, in batches, to decoding threads that decode them by the same visitor as the
//! whole-document decoder ([`super::otlp_json`]); the bytes are then dropped. Everything else (the
//! skeleton: resources, scopes, wrappers, anything unknown) is kept with each span list replaced by a
//! marker string, and is
//! decoded at the end by the whole-document decoder of the format, which takes each marker's spans with
//! their resource and scope. So both paths accept and refuse the same documents, and an error names its
//! line and column in the original document.
//!
//! What the scanner does not recognise (a key spelled with escapes, fields by position) stays in the
//! skeleton and is decoded there, as before: only the memory saving is lost.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;

use super::intern::{self, Sharing};
use super::json::{json_error, text_end};
use super::{capped, decode_uncapped, Decoded, DecodedTrace, Format, FormatError};
use crate::domain::{KeyValue, Span};

/// True for the formats [`SpanStream`] decodes (OTLP JSON and the Tempo and Jaeger wrappers of it).
pub fn streams(format: Format) -> bool {
    matches!(
        format,
        Format::OtlpJson | Format::JaegerV3 | Format::TempoV1 | Format::TempoV2
    )
}

/// A decoder fed piece by piece: [`SpanStream::push`] each piece in order, then [`SpanStream::finish`].
///
/// It scans on the thread that feeds it and decodes the skeleton there at the end (repeated strings
/// are shared through a thread-local table), so it cannot be sent to another thread; the spans of a
/// large document are decoded on threads of its own.
pub struct SpanStream {
    format: Format,
    wrapper: Option<&'static [u8]>,
    marker: String,
    stack: Vec<Frame>,
    mode: Mode,
    /// The first bytes, held until it is known whether they start with a byte order mark.
    head: Vec<u8>,
    started: bool,
    /// True once anything but whitespace was read.
    content: bool,
    skeleton: Vec<u8>,
    skel_line: usize,
    skel_line_start: usize,
    /// The key being read (object keys on the path only).
    key: Vec<u8>,
    /// Span bytes not yet handed to the decoder: whole spans, then the one being read.
    batch: Batch,
    /// Where full batches go: a decoding thread once the document is large enough.
    sink: Sink,
    /// Batches handed to a decoder so far.
    batches: usize,
    /// The decoded batches, joined in document order as they come back.
    merged: Merged,
    /// Per span list, the first error the scanner found in it (a trailing comma, say).
    list_errors: Vec<Option<FormatError>>,
    marks: Vec<Mark>,
    /// Absolute offset (after any byte order mark) of the current piece's first byte.
    offset: usize,
    line: usize,
    line_start: usize,
    /// How many decoding threads a large document gets.
    decoders: usize,
    /// Tests: every n-th batch is decoded on the calling thread even when a thread could take it.
    here_every: Option<usize>,
    _sharing: Sharing,
    _one_thread: PhantomData<*const ()>,
}

/// Span bytes are handed to the decoder in batches of about this size; the first full batch starts the
/// decoding threads, so a large document is scanned and decoded on several cores at once, and a small
/// one is decoded on the calling thread when it ends.
const BATCH_BYTES: usize = 1 << 20;

/// At most this many spans a batch (a list of tiny values would otherwise make a megabyte of bytes
/// into half a million element records).
const BATCH_ELEMENTS: usize = 16_384;

/// Whole spans' bytes, each with the list it belongs to and where it starts in the document.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    elements: Vec<Element>,
}

struct Element {
    list: usize,
    start: usize,
    end: usize,
    /// Line and 0-based column of `start` in the document.
    line: usize,
    col: usize,
}

enum Sink {
    /// Nothing handed over yet.
    None,
    /// Decoding threads, given batches in turn; a batch that finds its thread's queue full is
    /// decoded here instead (`local`), so the scanning thread decodes whenever it would otherwise
    /// wait. Decoded batches come back through `done`, in whatever order they finish.
    Workers {
        workers: Vec<Worker>,
        local: Decoder,
        done: std::sync::mpsc::Receiver<Done>,
        /// The worker next in turn.
        next: usize,
    },
    /// No thread could be started: decoded here.
    Here(Decoder),
}

struct Worker {
    tx: std::sync::mpsc::SyncSender<(usize, Batch)>,
    handle: std::thread::JoinHandle<()>,
}

/// Decodes batches of spans.
struct Decoder {
    format: Format,
    service: Arc<str>,
    resource: Arc<[KeyValue]>,
}

/// One decoded batch: its spans, and for each list it held how many spans that list gave and the
/// first error met in it.
struct Done {
    /// The batch's place in the document (0 is the first batch).
    seq: usize,
    spans: Vec<Span>,
    segments: Vec<Segment>,
    /// Bytes of span text the batch held.
    bytes: usize,
}

/// The part of one list that one batch held.
struct Segment {
    list: usize,
    spans: usize,
    error: Option<FormatError>,
}

impl Decoder {
    fn new(format: Format) -> Self {
        Decoder {
            format,
            service: intern::text(super::otlp_json::UNKNOWN_SERVICE),
            resource: Arc::from(Vec::new()),
        }
    }

    fn batch(&mut self, seq: usize, b: &Batch) -> Done {
        let mut segments: Vec<Segment> = Vec::new();
        // One span an element in every format that streams.
        let mut spans = Vec::with_capacity(b.elements.len());
        for e in &b.elements {
            if segments.last().is_none_or(|s| s.list != e.list) {
                segments.push(Segment {
                    list: e.list,
                    spans: 0,
                    error: None,
                });
            }
            let Some(seg) = segments.last_mut() else {
                continue;
            };
            if seg.error.is_some() {
                continue;
            }
            let before = spans.len();
            let bytes = b.bytes.get(e.start..e.end).unwrap_or_default();
            let result = decode_element(
                self.format,
                &mut spans,
                &self.service,
                &self.resource,
                bytes,
                e.line,
                e.col,
            );
            seg.spans += spans.len() - before;
            seg.error = result.err();
        }
        Done {
            seq,
            spans,
            segments,
            bytes: b.bytes.len(),
        }
    }
}

/// Decoded batches joined in document order as they arrive, while the rest of the document is
/// still being read and decoded. When the document's size is known (a file's length), the spans are
/// moved once, batch by batch, into one vector reserved at about their number, so no copy of every
/// span is left for the end and each batch's memory is free for the next one at once. Otherwise (an
/// HTTP answer, a gzip file), or once that room runs out, they are gathered in chunks of at least
/// [`CHUNK_SPANS`] and copied into one vector of the exact size at the end, each chunk freed as soon
/// as it is copied out: a vector grown by doubling would hold its old and new buffers at once
/// (twice the spans' memory, for a moment) and keep up to half of it spare.
#[derive(Default)]
struct Merged {
    /// The spans joined so far, while they fit in the room reserved for them.
    spans: Vec<Span>,
    /// The spans joined since they stopped fitting (or all of them, without a known size).
    chunks: Vec<Vec<Span>>,
    /// Spans joined so far, in `spans` and `chunks`.
    joined: usize,
    /// Each list's range of `spans` (`None` until its first batch) and its first error.
    lists: Vec<(Option<Range<usize>>, Option<FormatError>)>,
    /// The batch due next.
    next: usize,
    /// Batches that finished before one ahead of them.
    waiting: Vec<Done>,
    /// Bytes of span text joined so far.
    bytes: usize,
    /// The whole document's size, when known (the first batch tells how many spans a byte holds).
    expect: Option<u64>,
}

/// Spans a chunk holds at least (about 11 MB: above the size from which jemalloc returns freed
/// pages at once rather than keeping them for reuse).
const CHUNK_SPANS: usize = 1 << 16;

/// Never reserve room for more than one span in this many of the document's bytes (a span with ids
/// and times takes well over this); past the estimate the vector grows as usual.
const MIN_SPAN_BYTES: u64 = 64;

impl Merged {
    fn add(&mut self, done: Done) {
        if done.seq != self.next {
            self.waiting.push(done);
            return;
        }
        self.join(done);
        while let Some(at) = self.waiting.iter().position(|d| d.seq == self.next) {
            let done = self.waiting.swap_remove(at);
            self.join(done);
        }
    }

    fn join(&mut self, done: Done) {
        let Done {
            mut spans,
            segments,
            bytes,
            ..
        } = done;
        self.next += 1;
        self.bytes += bytes;
        if let (Some(total), false) = (self.expect, spans.is_empty()) {
            // Spans per byte of this batch, over the whole document (a little more: an estimate
            // too small costs a copy of everything, one too large only address space).
            let per = spans.len() as f64 / self.bytes.max(1) as f64;
            let estimate = (total as f64 * per * 1.02) as u64 + 1024;
            let most = total / MIN_SPAN_BYTES + 1024;
            let want = usize::try_from(estimate.min(most)).unwrap_or(0);
            // A length that is wrong (a file that grew after it was indexed) must not abort the
            // server: room that cannot be had is simply not reserved, and the spans go into chunks.
            let _ = self
                .spans
                .try_reserve_exact(want.saturating_sub(self.spans.len()));
            self.expect = None;
        }
        let at = self.joined;
        self.joined += spans.len();
        if self.chunks.is_empty() && self.spans.capacity() - self.spans.len() >= spans.len() {
            self.spans.append(&mut spans);
        } else {
            if !self.spans.is_empty() {
                self.chunks.push(std::mem::take(&mut self.spans));
            }
            match self.chunks.last_mut() {
                Some(last) if last.capacity() - last.len() >= spans.len() => {
                    last.append(&mut spans)
                }
                // The first batch's own vector is the first chunk: a document of one batch is
                // not copied at all.
                None => self.chunks.push(spans),
                Some(_) => {
                    let mut chunk = Vec::with_capacity(spans.len().max(CHUNK_SPANS));
                    chunk.append(&mut spans);
                    self.chunks.push(chunk);
                }
            }
        }
        let mut from = at;
        for seg in segments {
            let range = from..from + seg.spans;
            from = range.end;
            if self.lists.len() <= seg.list {
                self.lists.resize_with(seg.list + 1, || (None, None));
            }
            if let Some((r, error)) = self.lists.get_mut(seg.list) {
                let start = r.as_ref().map_or(range.start, |r| r.start);
                *r = Some(start..range.end);
                if error.is_none() {
                    *error = seg.error;
                }
            }
        }
    }

    /// Every span in document order, and each of `lists` lists' range with its first error; `None`
    /// unless all `batches` batches came back (one does not when its decoding thread stopped).
    fn finish(mut self, batches: usize, lists: usize) -> Option<(Vec<Span>, Vec<List>)> {
        if self.next != batches || !self.waiting.is_empty() {
            return None;
        }
        let mut spans = match self.chunks.len() {
            0 => self.spans,
            1 => self.chunks.pop().unwrap_or_default(),
            _ => {
                let mut all = Vec::with_capacity(self.joined);
                for mut chunk in self.chunks {
                    all.append(&mut chunk);
                }
                all
            }
        };
        // Room reserved from an estimate, or a chunk larger than the spans it holds, is given back
        // (in place, for a vector this large).
        if spans.capacity() > spans.len() + spans.len() / 4 {
            spans.shrink_to_fit();
        }
        self.lists
            .resize_with(lists.max(self.lists.len()), || (None, None));
        let out = self
            .lists
            .into_iter()
            .take(lists)
            .map(|(range, error)| List {
                range: range.unwrap_or(0..0),
                error,
            })
            .collect();
        Some((spans, out))
    }
}

/// Decodes one span on its own; an error is placed at its position in the document.
fn decode_element(
    format: Format,
    spans: &mut Vec<Span>,
    service: &Arc<str>,
    resource: &Arc<[KeyValue]>,
    bytes: &[u8],
    line: usize,
    col: usize,
) -> Result<(), FormatError> {
    let result = match std::str::from_utf8(bytes) {
        Ok(text) => {
            // Most spans are in the canonical shape, read without serde; the rest (and every
            // error, with its wording) go through serde.
            if super::otlp_fast::span(text, spans, service, resource) {
                return Ok(());
            }
            let mut de = serde_json::Deserializer::from_str(text);
            super::otlp_json::decode_span(&mut de, spans, service, resource)
        }
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            super::otlp_json::decode_span(&mut de, spans, service, resource)
        }
    };
    result.map_err(|e| {
        let mut err = json_error(Some(format), &e, 0);
        if let FormatError::Json {
            line: l, column: c, ..
        } = &mut err
        {
            if *l <= 1 {
                *c += col;
            }
            *l += line - 1;
        }
        err
    })
}

/// The earlier of two errors in the document (by line and column).
fn earlier(a: Option<FormatError>, b: Option<FormatError>) -> Option<FormatError> {
    let at = |e: &FormatError| match e {
        FormatError::Json { line, column, .. } => (*line, *column),
        _ => (usize::MAX, usize::MAX),
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if at(&b) < at(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// One span list: its range of the decoded spans, or the first error met in it.
struct List {
    range: Range<usize>,
    error: Option<FormatError>,
}

/// Where a marker ends, in the skeleton and in the original document (0-based columns).
#[derive(Clone, Copy)]
struct Mark {
    skel_line: usize,
    skel_col: usize,
    line: usize,
    col: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    Root,
    Wrapper,
    Resource,
    Scope,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    None,
    ResourceSpans,
    ScopeSpans,
    Spans,
    Wrapper,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Resources,
    Scopes,
    Spans,
    Other,
}

#[derive(Debug)]
enum Frame {
    Object {
        level: Level,
        key: Key,
        expect_key: bool,
    },
    Array {
        role: Role,
    },
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Between the tokens of the skeleton.
    Structure,
    /// Inside a string of the skeleton (`key`: an object key on the path, collected).
    Text { key: bool, escaped: bool },
    /// Inside a span list.
    Spans(SpanList),
}

#[derive(Clone, Copy, Debug)]
struct SpanList {
    /// Nesting inside the list (the list's own `[` is 1).
    depth: u32,
    text: bool,
    escaped: bool,
    /// Where the current element's bytes start (just after the `[` or `,`), 0-based column.
    line: usize,
    col: usize,
    /// Elements ended so far.
    elements: usize,
    /// Where the current element starts in [`SpanStream::batch`].
    start: usize,
    /// Index of the list in [`SpanStream::lists`].
    list: usize,
}

impl SpanStream {
    /// A decoder for `format`, or `None` when the format is not one [`streams`] covers. A large
    /// document is decoded on one thread per core but one (the scanner keeps the calling thread busy
    /// too), at least one and at most four.
    pub fn new(format: Format) -> Option<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_decoders(format, cores.saturating_sub(1).clamp(1, 4))
    }

    /// [`SpanStream::new`] with `decoders` decoding threads for a large document (at least one).
    pub fn with_decoders(format: Format, decoders: usize) -> Option<Self> {
        if !streams(format) {
            return None;
        }
        let wrapper: Option<&'static [u8]> = match format {
            Format::JaegerV3 => Some(b"result"),
            Format::TempoV2 => Some(b"trace"),
            _ => None,
        };
        let nonce: u64 = rand::random();
        Some(SpanStream {
            format,
            wrapper,
            marker: format!("tracepin-spans-{nonce:016x}-"),
            stack: Vec::new(),
            mode: Mode::Structure,
            head: Vec::new(),
            started: false,
            content: false,
            skeleton: Vec::new(),
            skel_line: 1,
            skel_line_start: 0,
            key: Vec::new(),
            batch: Batch::default(),
            sink: Sink::None,
            batches: 0,
            merged: Merged::default(),
            list_errors: Vec::new(),
            marks: Vec::new(),
            offset: 0,
            line: 1,
            line_start: 0,
            decoders: decoders.max(1),
            here_every: None,
            _sharing: intern::sharing(),
            _one_thread: PhantomData,
        })
    }

    /// For tests: every `n`-th batch (at least every one) is decoded on the calling thread, as it is
    /// when the decoding threads' queues are full, so that mixing the two is covered deterministically.
    #[doc(hidden)]
    pub fn decode_here_every(mut self, n: usize) -> Self {
        self.here_every = Some(n.max(1));
        self
    }

    /// Reads the next piece of the document.
    pub fn push(&mut self, piece: &[u8]) {
        if self.started {
            self.scan(piece);
            return;
        }
        // A UTF-8 byte order mark is not JSON: held back until three bytes tell.
        self.head.extend_from_slice(piece);
        if self.head.len() >= 3 {
            self.start();
        }
    }

    fn start(&mut self) {
        self.started = true;
        let head = std::mem::take(&mut self.head);
        let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
        self.scan(body);
    }

    /// Ends the document and decodes what is left (the skeleton); the spans come out in document order.
    pub fn finish(mut self) -> Result<DecodedTrace, FormatError> {
        if !self.started {
            self.start();
        }
        if !self.content {
            return Err(FormatError::Empty);
        }
        let open = match self.mode {
            Mode::Spans(state) => {
                // The document ends inside a span list: what was read of its last element is decoded
                // for the error it holds.
                let blank = !self.take_element(&state);
                Some((state, blank))
            }
            _ => None,
        };
        let (spans, decoded) = self.decoded()?;
        let mut lists: Vec<List> = Vec::with_capacity(decoded.len());
        for (l, scanned) in decoded
            .into_iter()
            .zip(std::mem::take(&mut self.list_errors))
        {
            lists.push(List {
                range: l.range,
                error: earlier(scanned, l.error),
            });
        }
        if let Some((state, blank)) = open {
            if let Some(e) = lists.get_mut(state.list).and_then(|l| l.error.take()) {
                return Err(e);
            }
            // As the whole-document decoder words it: a value is due after a comma.
            let message = if state.elements == 0 || !blank {
                "EOF while parsing a list"
            } else {
                "EOF while parsing a value"
            };
            return Err(FormatError::Json {
                format: Some(self.format),
                syntax: true,
                line: self.line,
                column: self.offset - self.line_start,
                message: message.to_owned(),
            });
        }
        let skeleton = std::mem::take(&mut self.skeleton);
        let marks = std::mem::take(&mut self.marks);
        let format = self.format;
        ACTIVE.with(|a| {
            *a.borrow_mut() = Some(Prepared {
                marker: std::mem::take(&mut self.marker),
                lists,
                placements: Vec::new(),
                failed: None,
            })
        });
        let decoded = decode_uncapped(format, &skeleton);
        let prepared = ACTIVE.with(|a| a.borrow_mut().take());
        drop(skeleton);
        let Some(prepared) = prepared else {
            return Err(FormatError::Invalid {
                format,
                message: "the span lists were lost while decoding".to_owned(),
            });
        };
        if let Some(e) = prepared.failed {
            return Err(e);
        }
        let trace = match decoded {
            Ok(Decoded::Trace(t)) => t,
            Ok(Decoded::Events { .. }) => {
                return Err(FormatError::Invalid {
                    format,
                    message: "holds events, not spans".to_owned(),
                })
            }
            Err(e) => return Err(remap(e, &marks)),
        };
        let spans = place(trace.spans, spans, prepared.lists, prepared.placements);
        Ok(capped(DecodedTrace {
            format,
            spans,
            partial: trace.partial,
        }))
    }

    /// Says how many bytes the whole document has (a file's length), so the vector the spans are
    /// joined into is reserved once at about its final size instead of growing by copies.
    pub fn expect_bytes(&mut self, bytes: u64) {
        self.merged.expect = Some(bytes);
    }

    /// Hands the batch of whole spans to a decoder (starting the decoding threads the first time),
    /// and joins the batches decoded since.
    fn flush(&mut self) {
        // The next batch gets its full size up front: grown from nothing, its bytes would be copied
        // at every doubling, the last time from 1 to 2 MB.
        let room = Batch {
            bytes: Vec::with_capacity(BATCH_BYTES + BATCH_BYTES / 4),
            elements: Vec::with_capacity(self.batch.elements.len()),
        };
        let batch = std::mem::replace(&mut self.batch, room);
        if matches!(self.sink, Sink::None) {
            let (done_tx, done) = std::sync::mpsc::channel::<Done>();
            let mut workers = Vec::new();
            for _ in 0..self.decoders {
                let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Batch)>(2);
                let format = self.format;
                let done_tx = done_tx.clone();
                let spawned = std::thread::Builder::new()
                    .name("tracepin-decode".to_owned())
                    .spawn(move || {
                        // Repeated strings are shared within this thread's part of the document.
                        let _sharing = intern::sharing();
                        let mut d = Decoder::new(format);
                        for (seq, b) in rx {
                            let decoded = d.batch(seq, &b);
                            drop(b);
                            if done_tx.send(decoded).is_err() {
                                break;
                            }
                        }
                    });
                if let Ok(handle) = spawned {
                    workers.push(Worker { tx, handle });
                }
            }
            self.sink = if workers.is_empty() {
                Sink::Here(Decoder::new(self.format))
            } else {
                Sink::Workers {
                    workers,
                    local: Decoder::new(self.format),
                    done,
                    next: 0,
                }
            };
        }
        let seq = self.batches;
        self.batches += 1;
        match &mut self.sink {
            Sink::Workers {
                workers,
                local,
                done,
                next,
            } => {
                let w = *next % workers.len().max(1);
                let here = self.here_every.is_some_and(|n| (seq + 1) % n == 0);
                let sent = match (here, workers.get(w)) {
                    (false, Some(worker)) => worker.tx.try_send((seq, batch)),
                    (_, _) => Err(std::sync::mpsc::TrySendError::Full((seq, batch))),
                };
                match sent {
                    Ok(()) => *next = w + 1,
                    // A full queue: decoded here rather than waited for. A thread that stopped (it
                    // panicked) is reported when it is joined; its batch is decoded here.
                    Err(
                        std::sync::mpsc::TrySendError::Full((seq, batch))
                        | std::sync::mpsc::TrySendError::Disconnected((seq, batch)),
                    ) => self.merged.add(local.batch(seq, &batch)),
                }
                for d in done.try_iter() {
                    self.merged.add(d);
                }
            }
            Sink::Here(d) => self.merged.add(d.batch(seq, &batch)),
            Sink::None => {}
        }
    }

    /// Every span decoded, in document order, with each list's range and first error: the last
    /// batch decoded here or on a decoding thread, the threads joined.
    fn decoded(&mut self) -> Result<(Vec<Span>, Vec<List>), FormatError> {
        let lists = self.list_errors.len();
        let stopped = |format| FormatError::Invalid {
            format,
            message: "decoding stopped unexpectedly".to_owned(),
        };
        if matches!(self.sink, Sink::Workers { .. }) {
            self.flush();
        } else {
            let batch = std::mem::take(&mut self.batch);
            let seq = self.batches;
            self.batches += 1;
            let done = match &mut self.sink {
                Sink::Here(d) => d.batch(seq, &batch),
                _ => Decoder::new(self.format).batch(seq, &batch),
            };
            self.merged.add(done);
        }
        if let Sink::Workers { workers, done, .. } = std::mem::replace(&mut self.sink, Sink::None) {
            let mut panicked = false;
            for w in workers {
                drop(w.tx);
                panicked |= w.handle.join().is_err();
            }
            if panicked {
                return Err(stopped(self.format));
            }
            for d in done.try_iter() {
                self.merged.add(d);
            }
        }
        std::mem::take(&mut self.merged)
            .finish(self.batches, lists)
            .ok_or_else(|| stopped(self.format))
    }

    fn newline(&mut self, at: usize) {
        self.line += 1;
        self.line_start = at + 1;
    }

    fn copy_skeleton(&mut self, bytes: &[u8]) {
        for nl in memchr::memchr_iter(b'\n', bytes) {
            self.skel_line += 1;
            self.skel_line_start = self.skeleton.len() + nl + 1;
        }
        self.skeleton.extend_from_slice(bytes);
    }

    /// What a `{` opened here is.
    fn child_level(&self) -> Level {
        match self.stack.last() {
            None => Level::Root,
            Some(Frame::Array {
                role: Role::Resources,
            }) => Level::Resource,
            Some(Frame::Array { role: Role::Scopes }) => Level::Scope,
            Some(Frame::Object {
                level: Level::Root,
                key: Key::Wrapper,
                expect_key: false,
            }) if self.stack.len() == 1 => Level::Wrapper,
            _ => Level::Other,
        }
    }

    /// What a `[` opened here is.
    fn child_role(&self) -> Role {
        let Some(Frame::Object {
            level,
            key,
            expect_key: false,
        }) = self.stack.last()
        else {
            return Role::Other;
        };
        match (level, key) {
            (Level::Root, Key::ResourceSpans)
                if self.wrapper.is_none() && self.stack.len() == 1 =>
            {
                Role::Resources
            }
            (Level::Wrapper, Key::ResourceSpans) => Role::Resources,
            (Level::Resource, Key::ScopeSpans) => Role::Scopes,
            (Level::Scope, Key::Spans) => Role::Spans,
            _ => Role::Other,
        }
    }

    fn classify_key(&self) -> Key {
        let k = self.key.as_slice();
        match k {
            b"resourceSpans" | b"batches" => Key::ResourceSpans,
            b"scopeSpans" | b"instrumentationLibrarySpans" => Key::ScopeSpans,
            b"spans" => Key::Spans,
            _ if Some(k) == self.wrapper => Key::Wrapper,
            _ => Key::Other,
        }
    }

    fn scan(&mut self, b: &[u8]) {
        let n = b.len();
        let mut i = 0;
        // Start of the bytes not yet copied to the skeleton (structure) or to `piece` (a span list).
        let mut from = 0;
        while i < n {
            match self.mode {
                Mode::Structure => {
                    let c = b[i];
                    match c {
                        b' ' | b'\t' | b'\r' => {}
                        b'\n' => self.newline(self.offset + i),
                        b'"' => {
                            self.content = true;
                            let key = matches!(
                                self.stack.last(),
                                Some(Frame::Object {
                                    expect_key: true,
                                    ..
                                })
                            );
                            if key {
                                self.key.clear();
                            }
                            self.mode = Mode::Text {
                                key,
                                escaped: false,
                            };
                        }
                        b'{' => {
                            self.content = true;
                            let level = self.child_level();
                            self.stack.push(Frame::Object {
                                level,
                                key: Key::None,
                                expect_key: true,
                            });
                        }
                        b'[' => {
                            self.content = true;
                            let role = self.child_role();
                            if role == Role::Spans {
                                self.copy_skeleton(&b[from..i]);
                                let at = self.offset + i + 1;
                                let list = self.list_errors.len();
                                self.list_errors.push(None);
                                self.mode = Mode::Spans(SpanList {
                                    depth: 1,
                                    text: false,
                                    escaped: false,
                                    line: self.line,
                                    col: at - self.line_start,
                                    elements: 0,
                                    list,
                                    start: self.batch.bytes.len(),
                                });
                                i += 1;
                                from = i;
                                continue;
                            }
                            self.stack.push(Frame::Array { role });
                        }
                        b'}' | b']' => {
                            self.stack.pop();
                        }
                        b',' => {
                            if let Some(Frame::Object { expect_key, .. }) = self.stack.last_mut() {
                                *expect_key = true;
                            }
                        }
                        _ => self.content = true,
                    }
                    i += 1;
                }
                Mode::Text { key, escaped } => {
                    if escaped {
                        if key {
                            self.key.push(b[i]);
                        }
                        self.mode = Mode::Text {
                            key,
                            escaped: false,
                        };
                        i += 1;
                        continue;
                    }
                    match memchr::memchr2(b'"', b'\\', &b[i..]) {
                        None => {
                            if key {
                                self.key.extend_from_slice(&b[i..]);
                            }
                            i = n;
                        }
                        Some(k) => {
                            let j = i + k;
                            if key {
                                self.key.extend_from_slice(&b[i..j]);
                            }
                            if b[j] == b'\\' {
                                if key {
                                    self.key.push(b'\\');
                                }
                                self.mode = Mode::Text { key, escaped: true };
                            } else {
                                if key {
                                    // A key written with escapes is left to the skeleton's decoder.
                                    let k = if self.key.contains(&b'\\') {
                                        Key::Other
                                    } else {
                                        self.classify_key()
                                    };
                                    if let Some(Frame::Object {
                                        key, expect_key, ..
                                    }) = self.stack.last_mut()
                                    {
                                        *key = k;
                                        *expect_key = false;
                                    }
                                }
                                self.mode = Mode::Structure;
                            }
                            i = j + 1;
                        }
                    }
                }
                Mode::Spans(mut s) => {
                    let mut closed = false;
                    // The scanner's state in locals (registers) while it runs over the piece.
                    let (mut text, mut escaped, mut depth) = (s.text, s.escaped, s.depth);
                    while i < n {
                        if escaped {
                            escaped = false;
                            i += 1;
                            continue;
                        }
                        if text {
                            // The rest of a string: to its closing quote, over any escapes, without
                            // coming back to this loop for each one.
                            loop {
                                match text_end(b.get(i..).unwrap_or_default(), false) {
                                    None => {
                                        i = n;
                                        break;
                                    }
                                    Some(k) => {
                                        let j = i + k;
                                        i = j + 1;
                                        if b[j] == b'"' {
                                            text = false;
                                            break;
                                        }
                                        // A backslash: the byte after it is escaped.
                                        if i >= n {
                                            escaped = true;
                                            break;
                                        }
                                        i += 1;
                                    }
                                }
                            }
                            continue;
                        }
                        match b[i] {
                            b'"' => text = true,
                            b'{' | b'[' => depth += 1,
                            c @ (b'}' | b']') => {
                                depth -= 1;
                                if depth == 0 {
                                    let column = self.offset + i + 1 - self.line_start;
                                    self.end_element(&b[from..i], &mut s, true, column);
                                    if c == b'}' {
                                        self.fail_list(
                                            s.list,
                                            self.line,
                                            self.offset + i + 1 - self.line_start,
                                            "expected `,` or `]`",
                                        );
                                    }
                                    self.close_list(s.list, self.offset + i + 1);
                                    i += 1;
                                    from = i;
                                    closed = true;
                                    break;
                                }
                            }
                            b',' if depth == 1 => {
                                let column = self.offset + i + 1 - self.line_start;
                                self.end_element(&b[from..i], &mut s, false, column);
                                from = i + 1;
                                s.line = self.line;
                                s.col = self.offset + i + 1 - self.line_start;
                            }
                            b'\n' => self.newline(self.offset + i),
                            _ => {}
                        }
                        i += 1;
                    }
                    (s.text, s.escaped, s.depth) = (text, escaped, depth);
                    if closed {
                        self.mode = Mode::Structure;
                    } else {
                        self.batch.bytes.extend_from_slice(&b[from..n]);
                        from = n;
                        self.mode = Mode::Spans(s);
                    }
                }
            }
        }
        if !matches!(self.mode, Mode::Spans(_)) {
            self.copy_skeleton(&b[from..n]);
        }
        self.offset += n;
    }

    /// Adds the element read since `s.start` to the batch, unless it is blank; true when added.
    fn take_element(&mut self, s: &SpanList) -> bool {
        let end = self.batch.bytes.len();
        let blank = self
            .batch
            .bytes
            .get(s.start..)
            .is_none_or(|b| b.iter().all(u8::is_ascii_whitespace));
        if !blank {
            self.batch.elements.push(Element {
                list: s.list,
                start: s.start,
                end,
                line: s.line,
                col: s.col,
            });
        }
        !blank
    }

    /// Ends the element whose last bytes are `tail` (after those already in the batch).
    /// `column` is the 1-based column of the `,` or `]` that ends it.
    fn end_element(&mut self, tail: &[u8], s: &mut SpanList, last: bool, column: usize) {
        self.batch.bytes.extend_from_slice(tail);
        if !self.take_element(s) {
            self.batch.bytes.truncate(s.start);
            // `[]` is an empty list; `[1,]` and `[,` are worded as the whole-document decoder does.
            if !(last && s.elements == 0) {
                let message = if last {
                    "trailing comma"
                } else {
                    "expected value"
                };
                self.fail_list(s.list, self.line, column, message);
            }
        }
        s.elements += 1;
        if self.batch.bytes.len() >= BATCH_BYTES || self.batch.elements.len() >= BATCH_ELEMENTS {
            self.flush();
        }
        s.start = self.batch.bytes.len();
    }

    fn fail_list(&mut self, list: usize, line: usize, column: usize, message: &str) {
        if let Some(slot) = self.list_errors.get_mut(list) {
            if slot.is_none() {
                *slot = Some(FormatError::Json {
                    format: Some(self.format),
                    syntax: true,
                    line,
                    column,
                    message: message.to_owned(),
                });
            }
        }
    }

    /// Replaces the list that ended just before `after` (absolute offset) by its marker.
    fn close_list(&mut self, list: usize, after: usize) {
        let marker = format!("\"{}{list}\"", self.marker);
        self.copy_skeleton(marker.as_bytes());
        self.marks.push(Mark {
            skel_line: self.skel_line,
            skel_col: self.skeleton.len() - self.skel_line_start,
            line: self.line,
            col: after - self.line_start,
        });
    }
}

/// An error found in the skeleton, placed at its line and column in the original document.
fn remap(mut err: FormatError, marks: &[Mark]) -> FormatError {
    if let FormatError::Json { line, column, .. } = &mut err {
        let (l, c) = (*line, *column);
        let before = marks
            .iter()
            .rev()
            .find(|m| l > m.skel_line || (l == m.skel_line && c >= m.skel_col));
        if let Some(m) = before {
            if l == m.skel_line {
                *column = m.col + (c - m.skel_col);
            }
            *line = m.line + (l - m.skel_line);
        }
    }
    err
}

/// Puts each list's spans where the skeleton's decoder met its marker, with that place's resource and
/// scope, among any spans the skeleton held itself.
fn place(
    inline: Vec<Span>,
    mut spans: Vec<Span>,
    lists: Vec<List>,
    placements: Vec<Placement>,
) -> Vec<Span> {
    let in_order = inline.is_empty()
        && placements.len() == lists.len()
        && placements.iter().enumerate().all(|(i, p)| p.list == i);
    let fill = |s: &mut Span, p: &Placement| {
        s.service = Arc::clone(&p.service);
        s.resource = Arc::clone(&p.resource);
        s.scope = p.scope.clone();
    };
    if in_order {
        // The usual case: every list placed once, in document order.
        for p in &placements {
            if let Some(range) = lists.get(p.list).map(|l| l.range.clone()) {
                for s in spans.get_mut(range).into_iter().flatten() {
                    fill(s, p);
                }
            }
        }
        return spans;
    }
    let total = inline.len()
        + placements
            .iter()
            .filter_map(|p| lists.get(p.list).map(|l| l.range.len()))
            .sum::<usize>();
    let mut out = Vec::with_capacity(total);
    let mut inline = inline.into_iter();
    let mut placed_inline = 0;
    for p in &placements {
        while placed_inline < p.at {
            match inline.next() {
                Some(s) => out.push(s),
                None => break,
            }
            placed_inline += 1;
        }
        let Some(range) = lists.get(p.list).map(|l| l.range.clone()) else {
            continue;
        };
        for s in spans.get_mut(range).into_iter().flatten() {
            let mut s = s.clone();
            fill(&mut s, p);
            out.push(s);
        }
    }
    out.extend(inline);
    spans.clear();
    out
}

/// The span lists of the stream being finished, for the skeleton's decoder on this thread.
struct Prepared {
    marker: String,
    lists: Vec<List>,
    placements: Vec<Placement>,
    /// The first error of a list met by the skeleton's decoder.
    failed: Option<FormatError>,
}

/// A list the skeleton's decoder met: where, and with which resource and scope.
struct Placement {
    list: usize,
    /// How many spans the skeleton's decoder had pushed itself before it.
    at: usize,
    service: Arc<str>,
    resource: Arc<[KeyValue]>,
    scope: Option<Arc<str>>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Prepared>> = const { RefCell::new(None) };
}

/// True while a stream's skeleton is being decoded on this thread (markers stand for span lists).
pub(super) fn active() -> bool {
    ACTIVE.with(|a| a.borrow().is_some())
}

/// What [`take`] made of a string found where a span list belongs.
pub(super) enum Taken {
    /// Not a marker: the string is the wrong type there.
    NotMarker,
    /// The list is placed.
    Placed,
    /// The list held an error (kept for [`SpanStream::finish`]).
    Failed,
}

/// Places the list a marker stands for, with the resource and scope of the place it was met.
pub(super) fn take(
    text: &str,
    at: usize,
    service: &Arc<str>,
    resource: &Arc<[KeyValue]>,
    scope: Option<&Arc<str>>,
) -> Taken {
    ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        let Some(p) = a.as_mut() else {
            return Taken::NotMarker;
        };
        let Some(list) = text
            .strip_prefix(p.marker.as_str())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return Taken::NotMarker;
        };
        let Some(l) = p.lists.get_mut(list) else {
            return Taken::NotMarker;
        };
        if let Some(e) = l.error.take() {
            p.failed.get_or_insert(e);
            return Taken::Failed;
        }
        p.placements.push(Placement {
            list,
            at,
            service: Arc::clone(service),
            resource: Arc::clone(resource),
            scope: scope.cloned(),
        });
        Taken::Placed
    })
}

/// How many lists have been placed (a mark to [`refill_resource`] and [`refill_scope`] from).
pub(super) fn placed() -> usize {
    ACTIVE.with(|a| a.borrow().as_ref().map_or(0, |p| p.placements.len()))
}

/// A resource read after its spans: given to the lists placed since `from`.
pub(super) fn refill_resource(from: usize, service: &Arc<str>, resource: &Arc<[KeyValue]>) {
    ACTIVE.with(|a| {
        if let Some(p) = a.borrow_mut().as_mut() {
            for pl in p.placements.iter_mut().skip(from) {
                pl.service = Arc::clone(service);
                pl.resource = Arc::clone(resource);
            }
        }
    });
}

/// A scope read after its spans: given to the lists placed since `from`.
pub(super) fn refill_scope(from: usize, scope: &Arc<str>) {
    ACTIVE.with(|a| {
        if let Some(p) = a.borrow_mut().as_mut() {
            for pl in p.placements.iter_mut().skip(from) {
                pl.scope = Some(Arc::clone(scope));
            }
        }
    });
}
