//! Every backend this CPU runs against the `md-5` crate: digests and first
//! words of `prefix + key`, keys of mixed lengths in one batch.

use md5::{Digest, Md5};
use md5_lanes::{Backend, KeyBuffer, Prefix};
use proptest::collection::vec;
use proptest::prelude::*;

fn reference(prefix: &[u8], key: &[u8]) -> [u8; 16] {
    let mut hasher = Md5::new();
    hasher.update(prefix);
    hasher.update(key);
    hasher.finalize().into()
}

fn first_word(digest: [u8; 16]) -> u32 {
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Checks every available backend on one batch, digests and first words.
fn check_batch(prefix: &[u8], keys: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let lanes = Prefix::new(prefix);
    let expected: Vec<[u8; 16]> = keys.iter().map(|key| reference(prefix, key)).collect();
    for backend in Backend::available() {
        let mut digests = vec![[0u8; 16]; keys.len()];
        lanes.digests(backend, keys, &mut digests);
        for (index, (got, want)) in digests.iter().zip(&expected).enumerate() {
            prop_assert_eq!(
                got,
                want,
                "{} digest of key {} ({} bytes) after a {}-byte prefix",
                backend,
                index,
                keys[index].len(),
                prefix.len()
            );
        }
        let mut words = vec![0u32; keys.len()];
        lanes.first_words(backend, keys, &mut words);
        let want: Vec<u32> = expected.iter().map(|digest| first_word(*digest)).collect();
        prop_assert_eq!(&words, &want, "{} first words after a {}-byte prefix", backend, prefix.len());
    }
    for (key, want) in keys.iter().zip(&expected) {
        prop_assert_eq!(&lanes.digest(key), want);
        prop_assert_eq!(lanes.first_word(key), first_word(*want));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bytes, keys of 0 to 300 bytes, batches of 0 to 80 keys (so
    /// full and partial groups of every lane width), prefixes of 0 to 150.
    #[test]
    fn every_backend_agrees_with_md5_on_random_batches(
        prefix in vec(any::<u8>(), 0..150),
        keys in vec(vec(any::<u8>(), 0..300), 0..80),
    ) {
        check_batch(&prefix, &keys)?;
    }

    /// Batches whose keys all have one length, so that every lane takes
    /// the path where no lane waits on another.
    #[test]
    fn every_backend_agrees_with_md5_on_uniform_batches(
        prefix in vec(any::<u8>(), 0..100),
        len in 0usize..200,
        count in 0usize..70,
        seed in any::<u8>(),
    ) {
        let keys: Vec<Vec<u8>> =
            (0..count).map(|k| (0..len).map(|i| seed ^ (i as u8).wrapping_mul(31) ^ k as u8).collect()).collect();
        check_batch(&prefix, &keys)?;
    }
}

#[test]
fn every_prefix_and_key_length_up_to_two_blocks_agrees_with_md5() {
    // Every split of up to 130 bytes between prefix and key straddles the
    // one-block limit (55), the block size and the two-block limit; each
    // batch holds keys of every length, so lanes finish at different blocks.
    let text: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
    let keys: Vec<Vec<u8>> = (0..=130).map(|len| text[100..100 + len].to_vec()).collect();
    for prefix_len in 0..=130 {
        if let Err(failure) = check_batch(&text[..prefix_len], &keys) {
            panic!("{failure}");
        }
    }
}

#[test]
fn a_key_buffer_hashes_as_a_slice_of_keys_does() {
    let keys: Vec<String> = (0..1000).map(|i| format!("subject-{i}")).collect();
    let mut buffer = KeyBuffer::new();
    for key in &keys {
        buffer.push_with(|text| text.push_str(key));
    }
    assert_eq!(buffer.len(), keys.len());
    assert_eq!(buffer.get(7), Some("subject-7"));
    assert_eq!(buffer.get(keys.len()), None);
    let prefix = Prefix::new(b"salt-");
    let backend = Backend::best();
    let (mut from_slice, mut from_buffer) = (vec![0; keys.len()], vec![0; keys.len()]);
    prefix.first_words(backend, &keys[..], &mut from_slice);
    prefix.first_words(backend, &buffer, &mut from_buffer);
    assert_eq!(from_slice, from_buffer);
    assert_eq!(from_slice[7], first_word(reference(b"salt-", b"subject-7")));
    buffer.clear();
    assert!(buffer.is_empty());
}

#[test]
fn the_best_backend_is_available_and_scalar_always_is() {
    assert!(Backend::best().is_available());
    assert_eq!(Backend::available().last(), Some(&Backend::Scalar));
    for backend in Backend::ALL {
        assert_eq!(Backend::from_name(backend.name()), Some(backend));
    }
    #[cfg(target_arch = "x86_64")]
    assert!(Backend::Sse2.is_available() && !Backend::Neon.is_available());
}

#[test]
fn an_unavailable_backend_falls_back_to_the_same_results() {
    let keys = ["a", "bb", "ccc"];
    let prefix = Prefix::new(b"p");
    for backend in Backend::ALL {
        let mut words = [0u32; 3];
        prefix.first_words(backend, &keys[..], &mut words);
        for (key, word) in keys.iter().zip(words) {
            assert_eq!(word, first_word(reference(b"p", key.as_bytes())), "{backend}");
        }
    }
}

#[test]
fn a_short_output_gets_only_the_keys_it_has_room_for() {
    let keys = ["a", "b", "c", "d"];
    let mut words = [0u32; 2];
    Prefix::default().first_words(Backend::best(), &keys[..], &mut words);
    assert_eq!(words, [first_word(reference(b"", b"a")), first_word(reference(b"", b"b"))]);
}
