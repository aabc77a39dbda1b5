//! Allocation dates (`startAt`, `endAt`): plain ones well away from any
//! plausible "now", RFC 3339 spellings at the edges of the grammar and of
//! the calendar, and (for malformed documents only) dates the reference
//! rejects.
//!
//! No date is generated at "now": the parties read the wall clock, each at
//! its own instant, so a date at the boundary would make them disagree by
//! chance, and the same seed must give the same document. The boundary
//! cases are instead windows of zero width (`startAt == endAt`) and
//! inverted ones (`startAt > endAt`), both in the past or the future.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

/// Dates well in the past or the future of any plausible "now", in several
/// RFC 3339 spellings (fractional seconds, offsets).
pub const DATES: &[&str] = &[
    "2000-01-01T00:00:00Z",
    "2015-06-15T12:30:00.123Z",
    "2010-01-01T00:00:00+05:00",
    "2090-12-31T23:59:59Z",
    "2080-06-01T00:00:00.000-08:00",
    "2099-01-01T00:00:00Z",
];

/// Dates the reference reads (chrono's RFC 3339 parser) that lie at an
/// edge: lower-case `t` and `z`, a space for `T`, leap seconds (a real one
/// and a `:60` at noon), the epoch and just before it, years 0000 and
/// 9999, a leap day, nanoseconds and ten fractional digits, extreme and
/// negative-zero offsets.
pub const EDGE_DATES: &[&str] = &[
    "2000-01-01t00:00:00z",
    "2000-01-01 00:00:00Z",
    "2016-12-31T23:59:60Z",
    "2015-06-30T23:59:60.5Z",
    "2024-01-01T12:00:60Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "2024-02-29T00:00:00Z",
    "2010-01-01T00:00:00.1234567891Z",
    "2090-01-01T00:00:00+14:00",
    "2090-01-01T00:00:00+23:59",
    "2000-01-01T00:00:00-00:00",
];

/// Dates the reference rejects (the whole flag fails, spec 8.12) and the
/// JS core reads its own way or ignores: no zone (local time in JS), a
/// date alone, an impossible day, hour or offset, an empty string, an
/// extended year, a comma for the decimal point, padding, a number.
pub fn invalid_dates() -> Vec<Value> {
    let texts = [
        "2024-01-01T00:00:00",
        "2024-01-01",
        "2023-02-29T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:00+24:00",
        "",
        "+275760-09-13T00:00:00Z",
        "2024-01-01T00:00:00,5Z",
        " 2024-01-01T00:00:00Z",
        "2024-1-1T00:00:00Z",
        "tomorrow",
    ];
    let mut dates: Vec<Value> = texts.into_iter().map(Value::from).collect();
    dates.push(Value::from(1_704_067_200_000_u64));
    dates
}

/// One allocation's `startAt` and `endAt` (`None`: absent; `Some(Null)`:
/// an explicit `null`, which the reference reads as absent): mostly
/// absent, sometimes plain or edge dates on either side, now and then a
/// zero-width or inverted window.
pub fn date_window() -> BoxedStrategy<(Option<Value>, Option<Value>)> {
    let date = prop_oneof![
        3 => select(DATES).prop_map(Value::from),
        2 => select(EDGE_DATES).prop_map(Value::from),
        1 => Just(Value::Null),
    ];
    let one = || prop::option::weighted(0.2, date.clone());
    let point = prop_oneof![
        1 => select(DATES),
        1 => select(EDGE_DATES),
    ];
    prop_oneof![
        12 => (one(), one()),
        1 => point.prop_map(|at| (Some(Value::from(at)), Some(Value::from(at)))),
        // Inverted: the later starts. The plain dates' years all differ,
        // so their text order is their time order.
        1 => (0..DATES.len(), 1..DATES.len()).prop_map(|(first, step)| {
            let (a, b) = (DATES[first], DATES[(first + step) % DATES.len()]);
            (Some(Value::from(a.max(b))), Some(Value::from(a.min(b))))
        }),
    ]
    .boxed()
}
