//! The view-state parser: `view::state::ViewState::from_query` on any query string.
//!
//! The state crosses to the server as its own query string (`serde` goes through `to_query` and
//! `from_query`), so whatever a link parses to must come back unchanged from `to_query`, through serde
//! as well, and `to_query` always starts with the version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::view::state::{ViewState, VERSION};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let state = ViewState::from_query(query);
    let q = state.to_query();
    assert!(q.starts_with(&format!("v={VERSION}")), "{q}");
    assert_eq!(ViewState::from_query(&q), state, "{query:?} → {q:?}");
    let json = serde_json::to_string(&state).expect("a view state serializes");
    let back: ViewState = serde_json::from_str(&json).expect("and deserializes");
    assert_eq!(back, state, "{query:?} through serde as {json}");
    if let Some((from, to)) = state.window {
        assert!(from < to, "{query:?}: an empty zoom window {from}-{to}");
    }
});
