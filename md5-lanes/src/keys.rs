//! The keys of a batch: a slice of anything byte-like, or a [`KeyBuffer`]
//! of text keys laid end to end (no allocation per key, for keys formatted
//! on the fly).

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

/// Text keys written one after another into one buffer.
#[derive(Debug, Clone, Default)]
pub struct KeyBuffer {
    text: String,
    /// Where each key ends in `text`.
    ends: Vec<usize>,
}

impl KeyBuffer {
    /// An empty buffer.
    pub fn new() -> KeyBuffer {
        KeyBuffer::default()
    }

    /// Forgets every key, keeping the memory.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Adds a key.
    pub fn push(&mut self, key: &str) {
        self.text.push_str(key);
        self.ends.push(self.text.len());
    }

    /// Adds the key `write` appends to the buffer's text (for example with
    /// `write!`). A writer that removes text instead adds an empty key and
    /// leaves the keys before it empty too, never out of range.
    #[inline]
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.ends.push(self.text.len());
    }

    /// Key `index`, if there is one.
    #[inline]
    pub fn get(&self, index: usize) -> Option<&str> {
        let start = if index == 0 { 0 } else { *self.ends.get(index - 1)? };
        self.text.get(start..*self.ends.get(index)?)
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
        self.get(index).unwrap_or_default().as_bytes()
    }
}
