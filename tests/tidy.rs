//! Tidy checks over the source tree (in the manner of rust-analyzer's `tidy` tests): the layers import
//! one way only, the pure layers stay free of I/O frameworks, and every module says what it owns.
//!
//! Allowed `crate::` imports (ARCHITECTURE.md, "Layers"):
//! domain → ∅; correlate → domain; view → domain, correlate; connectors → domain, correlate;
//! server → domain, correlate, connectors, view (and a future store); api → everything below ui;
//! ui → domain, view, api. `app`, `cli`, `lib.rs` and `main.rs` sit on top and may name anything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    Some(match layer {
        "domain" => &[],
        "correlate" => &["domain"],
        "view" => &["domain", "correlate"],
        "connectors" => &["domain", "correlate"],
        "store" => &["domain", "correlate", "connectors"],
        "server" => &["domain", "correlate", "connectors", "store", "view"],
        "api" => &[
            "domain",
            "correlate",
            "connectors",
            "store",
            "view",
            "server",
        ],
        "ui" => &["domain", "view", "api"],
        _ => return None,
    })
}

/// Layers that must compile without a server framework and do no I/O.
const PURE: &[&str] = &["domain", "correlate", "view"];
const FRAMEWORKS: &[&str] = &[
    "leptos",
    "leptos_axum",
    "axum",
    "reqwest",
    "tokio",
    "moka",
    "tower",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file with comments and string literals blanked, so that text about a module
/// (`//! see crate::server`) or a string is never read as an import.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            // A plain string literal (raw strings hold no `crate::` paths in this tree).
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A one-character literal such as '"' or '{'.
            i += 3;
            out.push_str("' '");
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Top-level modules named through `crate::x` and `crate::{x, y::z}`.
fn crate_names(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(is_ident) {
            continue; // e.g. `mycrate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            names.insert(first_segment(&item));
        } else {
            names.insert(rest.chars().take_while(|c| is_ident(*c)).collect());
        }
    }
    names.retain(|n| !n.is_empty() && n != "self");
    names
}

fn first_segment(item: &str) -> String {
    item.trim().chars().take_while(|c| is_ident(*c)).collect()
}

/// External crates a file uses (`use leptos::…`, `leptos::…` paths, `#[server]` aside).
fn frameworks_named(code: &str) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for fw in FRAMEWORKS {
        let pat = format!("{fw}::");
        let mut rest = code;
        while let Some(at) = rest.find(&pat) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + pat.len()..];
            if !before.is_some_and(|c| is_ident(c) || c == ':') {
                out.insert(*fw);
            }
        }
    }
    out
}

fn src_files() -> Vec<(String, PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&src)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            (rel, p, text)
        })
        .collect()
}

fn layer_of(rel: &str) -> Option<&str> {
    let (first, _) = rel.split_once('/')?;
    Some(first)
}

#[test]
fn layers_import_one_way() {
    let mut bad = Vec::new();
    let mut checked = 0;
    for (rel, _, text) in src_files() {
        let Some(layer) = layer_of(&rel) else {
            continue;
        };
        let Some(ok) = allowed(layer) else { continue };
        checked += 1;
        for name in crate_names(&code_only(&text)) {
            if name != layer && allowed(&name).is_some() && !ok.contains(&name.as_str()) {
                bad.push(format!("{rel}: {layer} -> {name}"));
            }
        }
    }
    assert!(
        checked > 50,
        "the tidy test found only {checked} files under src/"
    );
    assert!(
        bad.is_empty(),
        "imports that cross a layer the wrong way (see ARCHITECTURE.md, Layers):\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn pure_layers_name_no_framework() {
    let mut bad = Vec::new();
    for (rel, _, text) in src_files() {
        let Some(layer) = layer_of(&rel) else {
            continue;
        };
        if !PURE.contains(&layer) {
            continue;
        }
        for fw in frameworks_named(&code_only(&text)) {
            bad.push(format!("{rel}: {layer} names `{fw}`"));
        }
    }
    assert!(
        bad.is_empty(),
        "domain, correlate and view stay free of I/O and UI frameworks:\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn every_module_says_what_it_owns() {
    let missing: Vec<String> = src_files()
        .into_iter()
        .filter(|(_, _, text)| !text.trim_start().starts_with("//!"))
        .map(|(rel, _, _)| rel)
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` module doc:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_checker_sees_what_it_must() {
    let code = code_only(
        "use crate::{domain::TraceId, view::{rows, state}};\n\
         // crate::server in a comment\n\
         let s = \"crate::api in a string\";\n\
         fn f() -> crate::connectors::X { mycrate::y() }\n",
    );
    let names: Vec<String> = crate_names(&code).into_iter().collect();
    assert_eq!(names, ["connectors", "domain", "view"]);
    assert_eq!(
        frameworks_named(&code_only(
            "use leptos::prelude::*; let x = my_tokio::a; axum::serve();"
        )),
        BTreeSet::from(["axum", "leptos"])
    );
}
