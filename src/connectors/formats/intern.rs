//! Attribute keys shared by every span that uses them; values and names shared within a payload.
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
    static KEYS: RefCell<HashSet<Arc<str>, foldhash::fast::RandomState>> = RefCell::new(HashSet::default());
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
    d.deserialize_option(Shared {
        share: key,
        expecting: "an attribute key",
    })
}

/// A string (or `null`, read as "") read as borrowed text where the input allows and handed to
/// `share` (the key table or the payload's text table).
struct Shared {
    share: fn(&str) -> Arc<str>,
    expecting: &'static str,
}

impl<'de> serde::de::Visitor<'de> for Shared {
    type Value = Arc<str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Arc<str>, E> {
        Ok((self.share)(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Arc<str>, E> {
        Ok((self.share)(""))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Arc<str>, E> {
        Ok((self.share)(""))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Arc<str>, D::Error> {
        d.deserialize_str(self)
    }
}

/// Longest attribute value or span name shared within a payload; longer ones are each their own.
pub const MAX_TEXT_LEN: usize = 512;
/// Distinct values and names shared within one payload; past it, new ones are simply not shared.
pub const MAX_TEXTS: usize = 1 << 16;

type TextTable = HashSet<Arc<str>, foldhash::fast::RandomState>;

thread_local! {
    static TEXTS: RefCell<Option<TextTable>> = const { RefCell::new(None) };
}

/// While a `Sharing` is alive, [`text`] gives every repeat of a value or name within the payload
/// being decoded on this thread the same `Arc<str>` (a trace repeats `GET`, `postgresql`, a user
/// agent, an operation name on thousands of spans). The table goes with the outermost `Sharing`, so
/// nothing outlives the decode; the hash is seeded, so hostile input cannot force collisions.
pub struct Sharing {
    outermost: bool,
}

/// Starts sharing values and names on this thread until the returned guard is dropped.
pub fn sharing() -> Sharing {
    TEXTS.with(|t| {
        let mut t = t.borrow_mut();
        let outermost = t.is_none();
        if outermost {
            *t = Some(TextTable::default());
        }
        Sharing { outermost }
    })
}

impl Drop for Sharing {
    fn drop(&mut self) {
        if self.outermost {
            TEXTS.with(|t| *t.borrow_mut() = None);
        }
    }
}

/// An attribute value or span name: the payload's shared copy while a [`Sharing`] is alive, else a
/// copy of its own.
pub fn text(s: &str) -> Arc<str> {
    if s.len() > MAX_TEXT_LEN {
        return Arc::from(s);
    }
    TEXTS.with(|t| {
        let mut t = t.borrow_mut();
        let Some(table) = t.as_mut() else {
            return Arc::from(s);
        };
        if let Some(found) = table.get(s) {
            return Arc::clone(found);
        }
        let shared: Arc<str> = Arc::from(s);
        if table.len() < MAX_TEXTS {
            table.insert(Arc::clone(&shared));
        }
        shared
    })
}

/// Serde: a string (or `null`, read as "") as [`text`] gives it: read as borrowed text where the input
/// allows, shared within the payload.
pub(super) struct SharedText(pub Arc<str>);

impl<'de> serde::Deserialize<'de> for SharedText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_option(Shared {
            share: text,
            expecting: "a string",
        })
        .map(SharedText)
    }
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

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn values_are_shared_only_while_a_payload_is_decoded() {
        std::thread::spawn(|| {
            let a = text("GET");
            assert!(
                !Arc::ptr_eq(&a, &text("GET")),
                "no sharing outside a decode"
            );
            {
                let _outer = sharing();
                let b = text("GET");
                {
                    let _inner = sharing();
                    assert!(
                        Arc::ptr_eq(&b, &text("GET")),
                        "nested decodes share the table"
                    );
                }
                assert!(
                    Arc::ptr_eq(&b, &text("GET")),
                    "the inner end keeps the table"
                );
                let long = "q".repeat(MAX_TEXT_LEN + 1);
                assert!(!Arc::ptr_eq(&text(&long), &text(&long)));
                assert_eq!(&*text(&long), long);
            }
            TEXTS.with(|t| assert!(t.borrow().is_none(), "the table goes with the decode"));
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn the_value_table_is_bounded() {
        std::thread::spawn(|| {
            let _s = sharing();
            for i in 0..MAX_TEXTS + 10 {
                let _ = text(&i.to_string());
            }
            TEXTS.with(|t| assert_eq!(t.borrow().as_ref().map(HashSet::len), Some(MAX_TEXTS)));
            let a = text("past the bound");
            let b = text("past the bound");
            assert_eq!(a, b);
            assert!(!Arc::ptr_eq(&a, &b));
        })
        .join()
        .expect("thread");
    }
}
