//! Attribute keys shared by every span that uses them.
//!
//! A trace repeats the same few dozen attribute keys (`http.route`, `db.query.text`, …) on every span:
//! a 100k-span trace with 15 attributes a span carried 1.5 million copies of them. Decoders take keys
//! from here instead, so each distinct key is one `Arc<str>` shared by all its spans. The table is per
//! decoding thread and bounded ([`MAX_KEYS`] keys of at most [`MAX_KEY_LEN`] bytes): a payload of
//! random keys fills it once and the rest are simply not shared, so nothing grows without bound.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

/// Distinct keys kept per thread.
pub const MAX_KEYS: usize = 4096;
/// Longer keys are never shared.
pub const MAX_KEY_LEN: usize = 128;

thread_local! {
    static KEYS: RefCell<HashSet<Arc<str>>> = RefCell::new(HashSet::new());
}

/// The shared copy of attribute key `k`.
pub fn key(k: &str) -> Arc<str> {
    if k.len() > MAX_KEY_LEN {
        return Arc::from(k);
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(found) = keys.get(k) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(k);
        if keys.len() < MAX_KEYS {
            keys.insert(shared.clone());
        }
        shared
    })
}

/// Serde: an attribute key read as borrowed text where the input allows, then shared; `null` is "".
pub(super) fn deserialize_key<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Arc<str>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Arc<str>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an attribute key")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Arc<str>, E> {
            Ok(key(v))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Arc<str>, E> {
            Ok(key(""))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Arc<str>, E> {
            Ok(key(""))
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Arc<str>, D2::Error> {
            d.deserialize_str(V)
        }
    }
    d.deserialize_option(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_key() {
        let a = key("http.route");
        let b = key(&String::from("http.route"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "http.route");
    }

    #[test]
    fn the_table_is_bounded() {
        std::thread::spawn(|| {
            for i in 0..MAX_KEYS + 100 {
                let _ = key(&format!("k{i}"));
            }
            KEYS.with(|k| assert_eq!(k.borrow().len(), MAX_KEYS));
            // Past the bound a key is still right, just not shared.
            let a = key("beyond.the.bound");
            let b = key("beyond.the.bound");
            assert_eq!(a, b);
            assert!(!Arc::ptr_eq(&a, &b));
            let long = "x".repeat(MAX_KEY_LEN + 1);
            assert_eq!(&*key(&long), long);
        })
        .join()
        .expect("thread");
    }
}
