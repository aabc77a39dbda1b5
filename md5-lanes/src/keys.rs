//! The keys of a batch: a slice of anything byte-like, or a [`KeyBuffer`]
//! of keys laid end to end (no allocation per key, for keys formatted on
//! the fly).

/// Keys hashed in one batch, by position.
pub trait Keys {
    /// How many keys there are.
    fn count(&self) -> usize;
    /// Key `index`, below [`Keys::count`].
    fn key(&self, index: usize) -> &[u8];
}

impl<S: AsRef<[u8]>> Keys for [S] {
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }

    #[inline]
    fn key(&self, index: usize) -> &[u8] {
        self[index].as_ref()
    }
}

/// Keys written one after another into one buffer.
#[derive(Debug, Clone, Default)]
pub struct KeyBuffer {
    bytes: Vec<u8>,
    /// Where each key ends in `bytes`.
    ends: Vec<usize>,
}

impl KeyBuffer {
    /// An empty buffer.
    pub fn new() -> KeyBuffer {
        KeyBuffer::default()
    }

    /// Forgets every key, keeping the memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Adds a key.
    pub fn push(&mut self, key: &[u8]) {
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
    }

    /// Adds the key `write` appends to the buffer's bytes (which it must
    /// only append to).
    #[inline]
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        // A writer that truncated instead makes an empty key, not a bad range.
        self.ends.push(self.bytes.len().max(start));
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl Keys for KeyBuffer {
    #[inline]
    fn count(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    fn key(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.bytes.get(start..self.ends[index]).unwrap_or_default()
    }
}
