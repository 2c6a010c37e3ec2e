//! Path keys: each row of a trace keyed by its path of (service, span name) from the root, as a 64-bit
//! hash computed incrementally from its parent's key.
//!
//! Span names are normalised before hashing so that high-cardinality names align: every run of digits
//! becomes `#`, and every alphanumeric word of at least four characters made only of hex digits with at
//! least one digit among them (an id) becomes `#` too. So `GET /stock/SKU-42` and `GET /stock/SKU-7`
//! share a key, as do `order 9f3a2c1b` and `order 00e4d7aa`. Hashing streams the normalised bytes, so no
//! string is built per span.

use crate::domain::Trace;

/// The key of the (virtual) parent of top-level rows.
pub const ROOT_KEY: u64 = 0x9e37_79b9_7f4a_7c15;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    h
}

/// A final mix (splitmix64) so that keys of siblings differ in every bit.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn is_id_word(word: &[u8]) -> bool {
    word.len() >= 4 && word.iter().all(u8::is_ascii_hexdigit) && word.iter().any(u8::is_ascii_digit)
}

/// Feeds the normalised form of `name` to the hash (see the module doc).
fn hash_name(mut h: u64, name: &str) -> u64 {
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let word = &b[start..i];
            if is_id_word(word) {
                h = fnv(h, b"#");
                continue;
            }
            let mut j = 0;
            while j < word.len() {
                if word[j].is_ascii_digit() {
                    while j < word.len() && word[j].is_ascii_digit() {
                        j += 1;
                    }
                    h = fnv(h, b"#");
                } else {
                    h = fnv(h, &word[j..=j]);
                    j += 1;
                }
            }
        } else {
            h = fnv(h, &b[i..=i]);
            i += 1;
        }
    }
    h
}

/// The normalised form of a span name, as text (for display and tests; hashing does not build it).
pub fn normalise(name: &str) -> String {
    let b = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let word = &name[start..i];
            if is_id_word(word.as_bytes()) {
                out.push('#');
                continue;
            }
            let mut digits = false;
            for c in word.chars() {
                if c.is_ascii_digit() {
                    if !digits {
                        out.push('#');
                    }
                    digits = true;
                } else {
                    out.push(c);
                    digits = false;
                }
            }
        } else {
            // Not ASCII alphanumeric: copy the whole character.
            let ch_len = name[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&name[i..i + ch_len]);
            i += ch_len;
        }
    }
    out
}

/// The key of a child named (`service`, `name`) under a parent keyed `parent`.
pub fn child_key(parent: u64, service: &str, name: &str) -> u64 {
    let mut h = fnv(FNV_OFFSET ^ parent, service.as_bytes());
    h = fnv(h, &[0xff]);
    h = hash_name(h, name);
    mix(h ^ parent.rotate_left(17))
}

/// The key of every row of a trace, in row order (parents come before children in pre-order).
pub fn row_keys(trace: &Trace) -> Vec<u64> {
    let mut keys: Vec<u64> = Vec::with_capacity(trace.spans.len());
    for (span, node) in trace.spans.iter().zip(&trace.nodes) {
        let parent = node
            .parent
            .and_then(|p| keys.get(p as usize).copied())
            .unwrap_or(ROOT_KEY);
        keys.push(child_key(parent, &span.service, &span.name));
    }
    keys
}

/// The key of each row's parent (`ROOT_KEY` for top-level rows), in row order.
pub fn parent_keys(trace: &Trace, keys: &[u64]) -> Vec<u64> {
    trace
        .nodes
        .iter()
        .map(|n| {
            n.parent
                .and_then(|p| keys.get(p as usize).copied())
                .unwrap_or(ROOT_KEY)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_like_their_hash() {
        for (raw, norm) in [
            ("GET /stock/SKU-42", "GET /stock/SKU-#"),
            ("order 9f3a2c1b done", "order # done"),
            ("attempt 12 of 3", "attempt # of #"),
            ("cafe", "cafe"),
            ("v2 ✓ café", "v# ✓ café"),
        ] {
            assert_eq!(normalise(raw), norm, "{raw}");
        }
        let k = |n: &str| child_key(ROOT_KEY, "svc", n);
        assert_eq!(k("GET /stock/SKU-42"), k("GET /stock/SKU-7"));
        assert_eq!(k("order 9f3a2c1b"), k("order 00e4d7aa"));
        assert_ne!(k("GET /stock"), k("POST /stock"));
        assert_ne!(
            child_key(ROOT_KEY, "a", "bc"),
            child_key(ROOT_KEY, "ab", "c")
        );
        assert_ne!(child_key(1, "a", "b"), child_key(2, "a", "b"));
    }
}
