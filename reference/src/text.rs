//! [`SharedStr`]: configuration text (allocation and variation keys, the
//! environment name) that evaluation details repeat on every call.
//!
//! Details are built on every detailed evaluation and name several of these
//! strings each time. Copying a `String` allocates; sharing an `Arc<str>`
//! costs two atomic operations, which on a hot path cost about as much.
//! Most keys are short, so a short text is stored inline and copied as 24
//! plain bytes; only a long one is shared.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Text up to this many bytes is stored inline.
const INLINE: usize = 22;

/// An immutable string, cheap to clone: inline up to 22 bytes, else shared.
#[derive(Clone)]
pub struct SharedStr(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

impl SharedStr {
    /// A copy of `text`.
    pub fn new(text: &str) -> SharedStr {
        if text.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            SharedStr(Repr::Inline { len: text.len() as u8, bytes })
        } else {
            SharedStr(Repr::Shared(Arc::from(text)))
        }
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always valid: the bytes were copied from a `str` and cut at its length.
            Repr::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            Repr::Shared(text) => text,
        }
    }
}

impl Deref for SharedStr {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for SharedStr {
    fn from(text: &str) -> SharedStr {
        SharedStr::new(text)
    }
}

impl From<String> for SharedStr {
    fn from(text: String) -> SharedStr {
        SharedStr::new(&text)
    }
}

impl PartialEq for SharedStr {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SharedStr {}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::hash::Hash for SharedStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SharedStr, D::Error> {
        String::deserialize(deserializer).map(SharedStr::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_text_round_trip() {
        let long = "x".repeat(200);
        for text in ["", "a", "exactly-twenty-two-b!!", "twenty-three-bytes-long", "ümlaut-日本", long.as_str()] {
            let shared = SharedStr::new(text);
            assert_eq!(shared.as_str(), text);
            assert_eq!(shared.clone(), shared);
            assert_eq!(shared, text);
            assert_eq!(format!("{shared}"), text);
            assert_eq!(format!("{shared:?}"), format!("{text:?}"));
            let json = serde_json::to_value(&shared).unwrap_or_default();
            assert_eq!(json, serde_json::Value::from(text));
            assert_eq!(serde_json::from_value::<SharedStr>(json).ok(), Some(shared));
        }
    }
}
