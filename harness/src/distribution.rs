//! Sample-ratio-mismatch (SRM) check for one flag: evaluate many synthetic
//! subjects with the reference, count what each variation received, and test
//! the counts against the shares the flag's traffic splits promise with a
//! chi-square goodness-of-fit test. The pipeline ends in a typed
//! [`DistributionReport`]; `report::distribution` renders it.
//!
//! **Subjects.** `subject-0` … `subject-<N-1>`, all with the same caller-given
//! attributes, evaluated at one fixed "now" with the flag's own variation type.
//!
//! **Expected shares** are the reference's
//! ([`Configuration::population_shares`]): its own date and rule checks
//! decide which allocations are eligible for those attributes (so CLIENT
//! configurations work as they evaluate), and the shard ranges are read as
//! exact probabilities under a uniform MD5 (see `ufc_reference::population`).
//!
//! **Limits.** A flag whose eligible allocations have a rule on `id` when
//! the attributes carry no `id` (the rule then reads the subject key), or
//! one needing more than [`MAX_COMBINATIONS`] salt-interval combinations,
//! gets observed counts only and the verdict [`Verdict::Unpredictable`]. The
//! chi-square test is an approximation that needs every expected count to be
//! about 5 or more; the report notes when one is not.

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;
use ufc_reference::config::{Flag, Split};
pub use ufc_reference::population::MAX_COMBINATIONS;
use ufc_reference::population::{PopulationShares, SharesError};
use ufc_reference::shard::{FlagShards, KeyBuffer};
use ufc_reference::{Attributes, Configuration, ConfigurationError, FlagLookupError, FlagRequest, Timestamp};

use crate::report::distribution::DistributionFormat;
use ufc_protocol::exit_codes;

/// Synthetic subject keys are this prefix followed by 0, 1, 2, ….
pub const SUBJECT_PREFIX: &str = "subject-";

/// A p-value below this is a sample ratio mismatch. SRM checks use a strict
/// threshold because they run on every experiment and a false alarm stops one.
pub const ALPHA: f64 = 0.001;

/// What `ufc-harness distribution` was asked, validated.
#[derive(Debug, Clone)]
pub struct DistributionOptions {
    /// The flag configuration file (plain or CLIENT, or a configuration-wire envelope).
    pub config: PathBuf,
    /// The flag key.
    pub flag: String,
    /// How many synthetic subjects to evaluate.
    pub subjects: usize,
    /// The attributes every subject has.
    pub attributes: Attributes,
    /// The evaluation clock.
    pub now: Timestamp,
    /// How the report is rendered.
    pub format: DistributionFormat,
}

/// Why a distribution check could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistributionError {
    /// The configuration file cannot be read.
    #[error("reading {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a UFC configuration.
    #[error("{} is not a UFC configuration", path.display())]
    NotAConfiguration {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: ConfigurationError,
    },
    /// The flag is missing or unreadable.
    #[error(transparent)]
    Flag(#[from] FlagLookupError),
    /// `--subjects 0`.
    #[error("the distribution check needs at least one subject")]
    NoSubjects,
}

/// The outcome of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The counts fit the configured split (p ≥ [`ALPHA`]).
    Consistent,
    /// They do not (p < [`ALPHA`]), or a variation with no configured traffic was served.
    Mismatch,
    /// The expected shares cannot be computed; see the report's notes.
    Unpredictable,
}

impl Verdict {
    /// The verdict as the JSON report spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Consistent => "consistent",
            Verdict::Mismatch => "mismatch",
            Verdict::Unpredictable => "unpredictable",
        }
    }

    /// The exit code of `ufc-harness distribution` for the verdict.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Consistent => exit_codes::SUCCESS,
            Verdict::Mismatch => exit_codes::FAILURES,
            Verdict::Unpredictable => exit_codes::ERRORS,
        }
    }
}

/// One served outcome: a variation, or the caller's default.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DistributionRow {
    /// The variation key; `null` for the default (no allocation matched, or
    /// the selected variation could not be served).
    pub variation: Option<String>,
    /// Subjects that received it.
    pub observed: u64,
    /// `observed / subjects`.
    pub observed_share: f64,
    /// The share the configuration promises; `null` when unpredictable.
    pub expected_share: Option<f64>,
}

/// The result of a distribution check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DistributionReport {
    /// The flag key.
    pub flag: String,
    /// How many synthetic subjects were evaluated.
    pub subjects: usize,
    /// Every variation the flag defines, in the order its splits first name
    /// them (then any unnamed ones by key), and the default last.
    pub rows: Vec<DistributionRow>,
    /// Pearson's statistic over the rows with a positive expected share;
    /// infinite (`null` in JSON) when a row with no expected share was
    /// served; `null` when unpredictable.
    pub chi_square: Option<f64>,
    /// Rows with a positive expected share, minus one.
    pub degrees_of_freedom: usize,
    /// `P(χ² ≥ chiSquare)`; `null` when unpredictable.
    pub p_value: Option<f64>,
    /// The significance level the verdict uses ([`ALPHA`]).
    pub alpha: f64,
    /// What the counts say.
    pub verdict: Verdict,
    /// Caveats: why the shares are unpredictable, small expected counts.
    pub notes: Vec<String>,
}

/// A chi-square goodness-of-fit result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoodnessOfFit {
    /// Pearson's statistic.
    pub chi_square: f64,
    /// Categories with a positive expected share, minus one.
    pub degrees_of_freedom: usize,
    /// `P(χ² ≥ chi_square)`.
    pub p_value: f64,
}

/// Reads the configuration named in `options` and runs the check.
pub fn check(options: &DistributionOptions) -> Result<DistributionReport, DistributionError> {
    let path = &options.config;
    let bytes = std::fs::read(path).map_err(|source| DistributionError::Read { path: path.clone(), source })?;
    let config = Configuration::from_json(&bytes)
        .map_err(|source| DistributionError::NotAConfiguration { path: path.clone(), source })?;
    distribution(&config, &options.flag, options.subjects, &options.attributes, options.now)
}

/// Evaluates `subjects` synthetic subjects (`subject-0` …) with `attributes`
/// against `flag` at `now`, in parallel, and tests the counts against the
/// configured split. Fails when the flag is missing or unreadable, or when
/// `subjects` is 0.
pub fn distribution(
    config: &Configuration,
    flag_key: &str,
    subjects: usize,
    attributes: &Attributes,
    now: Timestamp,
) -> Result<DistributionReport, DistributionError> {
    let flag = config.valid_flag(flag_key)?;
    if subjects == 0 {
        return Err(DistributionError::NoSubjects);
    }
    let mut notes = Vec::new();
    let shares = match config.population_shares(flag_key, attributes, now) {
        Ok(shares) => Some(shares),
        Err(SharesError::Flag(err)) => return Err(err.into()),
        Err(unpredictable) => {
            notes.push(unpredictable.to_string());
            None
        }
    };
    let rows = RowIndex::of(flag);
    let observed = observe(config, flag, flag_key, &rows, subjects, attributes, now);
    let expected = shares.as_ref().map(|shares| rows.expected(shares));

    let total = subjects as f64;
    let report_rows = rows
        .keys
        .iter()
        .enumerate()
        .map(|(i, key)| DistributionRow {
            variation: key.clone(),
            observed: observed[i],
            observed_share: observed[i] as f64 / total,
            expected_share: expected.as_ref().map(|e| e[i]),
        })
        .collect();
    let (fit, verdict) = match &expected {
        None => (None, Verdict::Unpredictable),
        Some(expected) => {
            let fit = goodness_of_fit(&observed, expected);
            let small = expected.iter().filter(|share| **share > 0.0 && **share * total < 5.0).count();
            if small > 0 {
                notes.push(format!(
                    "{small} variation(s) expect fewer than 5 subjects; the chi-square approximation is unreliable, use more subjects"
                ));
            }
            let verdict = if fit.p_value < ALPHA { Verdict::Mismatch } else { Verdict::Consistent };
            (Some(fit), verdict)
        }
    };
    Ok(DistributionReport {
        flag: flag_key.to_owned(),
        subjects,
        rows: report_rows,
        chi_square: fit.map(|f| f.chi_square),
        degrees_of_freedom: fit.map_or(0, |f| f.degrees_of_freedom),
        p_value: fit.map(|f| f.p_value),
        alpha: ALPHA,
        verdict,
        notes,
    })
}

/// Pearson's chi-square test of `observed` counts against `expected_shares`
/// (which should sum to 1). Categories with a zero expected share are left
/// out, unless they were observed, which makes the statistic infinite and p 0.
pub fn goodness_of_fit(observed: &[u64], expected_shares: &[f64]) -> GoodnessOfFit {
    let total: u64 = observed.iter().sum();
    let total = total as f64;
    let mut chi_square = 0.0;
    let mut categories = 0usize;
    for (&seen, &share) in observed.iter().zip(expected_shares) {
        if share > 0.0 {
            categories += 1;
            let expected = share * total;
            let diff = seen as f64 - expected;
            chi_square += diff * diff / expected;
        } else if seen > 0 {
            chi_square = f64::INFINITY;
        }
    }
    let degrees_of_freedom = categories.saturating_sub(1);
    let p_value = chi_square_p_value(chi_square, degrees_of_freedom);
    GoodnessOfFit { chi_square, degrees_of_freedom, p_value }
}

/// `P(X ≥ statistic)` for `X` chi-square distributed with `degrees_of_freedom`:
/// the regularized upper incomplete gamma function `Q(k/2, x/2)`. With 0
/// degrees of freedom the distribution is a point mass at 0.
pub fn chi_square_p_value(statistic: f64, degrees_of_freedom: usize) -> f64 {
    if statistic.is_nan() {
        return f64::NAN;
    }
    if degrees_of_freedom == 0 {
        return if statistic > 0.0 { 0.0 } else { 1.0 };
    }
    regularized_upper_gamma(degrees_of_freedom as f64 / 2.0, statistic / 2.0)
}

/// `Q(a, x) = Γ(a, x) / Γ(a)` for `a > 0`: a power series for `P = 1 − Q`
/// when `x < a + 1`, where it converges fast, else Lentz's continued
/// fraction for `Q` (Numerical Recipes, section 6.2).
pub fn regularized_upper_gamma(a: f64, x: f64) -> f64 {
    const EPSILON: f64 = 1e-15;
    const TINY: f64 = 1e-300;
    const MAX_TERMS: usize = 10_000;
    if a.is_nan() || x.is_nan() || a <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    // x^a e^-x / Γ(a), in logs to stay finite for large arguments.
    let prefactor = (a * x.ln() - x - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut n = a;
        for _ in 0..MAX_TERMS {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        (1.0 - sum * prefactor).clamp(0.0, 1.0)
    } else {
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..=MAX_TERMS {
            let i = i as f64;
            let an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < EPSILON {
                break;
            }
        }
        (prefactor * h).clamp(0.0, 1.0)
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine coefficients; relative error
/// about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The report's rows: the variations in the order the reference lists them
/// (as the splits first name them, then the others by key), then the
/// default (`None`).
struct RowIndex {
    keys: Vec<Option<String>>,
    by_key: HashMap<String, usize>,
}

impl RowIndex {
    fn of(flag: &Flag) -> RowIndex {
        let order = flag.variation_keys_in_split_order();
        let by_key = order.iter().enumerate().map(|(i, key)| ((*key).to_owned(), i)).collect();
        let mut keys: Vec<Option<String>> = order.into_iter().map(|key| Some(key.to_owned())).collect();
        keys.push(None);
        RowIndex { keys, by_key }
    }

    fn default_row(&self) -> usize {
        self.keys.len() - 1
    }

    /// Each row's expected share (the reference lists the variations in
    /// the rows' order).
    fn expected(&self, shares: &PopulationShares<'_>) -> Vec<f64> {
        let mut expected = vec![0.0; self.keys.len()];
        for variation in &shares.variations {
            if let Some(&row) = self.by_key.get(variation.key) {
                expected[row] = variation.share;
            }
        }
        expected[self.default_row()] = shares.default;
        expected
    }
}

/// Subjects a worker formats, shards and evaluates at a time.
const CHUNK: usize = 4096;

/// One worker's buffers: the chunk's subject keys and their shards.
#[derive(Default)]
struct Scratch {
    keys: KeyBuffer,
    shards: FlagShards,
    known: Vec<u32>,
}

/// Evaluates every synthetic subject and counts rows, on every core, a
/// chunk at a time: the chunk's keys are formatted into one buffer and
/// sharded under each of the flag's salts in vector lanes, and each
/// evaluation is handed its subject's shards instead of hashing them one
/// by one (the decisions are the same; see `FlagRequest::known_shards`).
fn observe(
    config: &Configuration,
    flag: &Flag,
    flag_key: &str,
    rows: &RowIndex,
    subjects: usize,
    attributes: &Attributes,
    now: Timestamp,
) -> Vec<u64> {
    let width = rows.keys.len();
    let salts = salts_worth_hashing(config, flag, flag_key, attributes, now);
    // Each split's row, found by the split's address: a decision names its
    // split, and comparing addresses costs less than hashing its variation
    // key for every subject.
    let split_rows: Vec<(&Split, usize)> = flag
        .allocations
        .iter()
        .flat_map(|allocation| &allocation.splits)
        .map(|split| (split, rows.by_key.get(&*split.variation_key).copied().unwrap_or(rows.default_row())))
        .collect();
    let row_of = |split: &Split| {
        split_rows.iter().find(|(known, _)| std::ptr::eq(*known, split)).map_or(rows.default_row(), |(_, row)| *row)
    };
    (0..subjects.div_ceil(CHUNK))
        .into_par_iter()
        .fold(
            || (Scratch::default(), vec![0u64; width]),
            |(mut scratch, mut counts), chunk| {
                let first = chunk * CHUNK;
                let range = first..subjects.min(first + CHUNK);
                subject_keys(range.clone(), &mut scratch.keys);
                scratch.shards.compute_salts(flag, &scratch.keys, &salts);
                for index in 0..range.len() {
                    scratch.shards.subject(index, &mut scratch.known);
                    let key = scratch.keys.get(index).unwrap_or_default();
                    let request = FlagRequest::new(flag_key, key, attributes, flag.variation_type)
                        .with_known_shards(&scratch.known);
                    let outcome = config.evaluate(&request, now);
                    // A served value means a MATCH, whose split names a variation
                    // the flag defines; anything else serves the default.
                    let row = match (outcome.value(), outcome.decision) {
                        (Some(_), Some(decision)) => row_of(decision.split),
                        _ => rows.default_row(),
                    };
                    counts[row] += 1;
                }
                (scratch, counts)
            },
        )
        .map(|(_, counts)| counts)
        .reduce(
            || vec![0u64; width],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// The salts (by number) worth sharding in bulk: those of allocations that
/// may serve some subject with `attributes` at `now`, that is, eligible ones
/// and those whose verdict reads the subject key. An allocation its dates or
/// its rules on the fixed attributes reject is rejected for every subject,
/// no evaluation reaches its shards, and hashing them for every subject
/// would only cost time. All salts when the flag cannot be judged.
fn salts_worth_hashing(
    config: &Configuration,
    flag: &Flag,
    flag_key: &str,
    attributes: &Attributes,
    now: Timestamp,
) -> Vec<bool> {
    let Ok(judged) = config.allocation_eligibility(flag_key, SUBJECT_PREFIX, attributes, now) else {
        return vec![true; flag.distinct_salts];
    };
    let mut wanted = vec![false; flag.distinct_salts];
    for allocation in judged.iter().filter(|a| a.is_eligible() || a.reads_subject_key) {
        for rule in allocation.allocation.splits.iter().flat_map(|split| &split.shards) {
            if let Some(slot) = wanted.get_mut(rule.salt_index) {
                *slot = true;
            }
        }
    }
    wanted
}

/// `subject-<i>` for every `i` in `range`, into `keys` (emptied first).
fn subject_keys(range: std::ops::Range<usize>, keys: &mut KeyBuffer) {
    keys.clear();
    let mut digits = itoa::Buffer::new();
    for i in range {
        keys.push_with(|text| {
            text.push_str(SUBJECT_PREFIX);
            text.push_str(digits.format(i));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::distribution::render_text;
    use ufc_reference::AttributeValue;

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
    }

    fn config(flags: &str) -> Configuration {
        let json = format!(r#"{{"environment": {{"name": "Test"}}, "flags": {{{flags}}}}}"#);
        Configuration::from_json(json.as_bytes()).expect("the test configuration loads")
    }

    /// A STRING flag with variations a, b, c and the given allocations.
    fn flag(key: &str, allocations: &str) -> String {
        format!(
            r#""{key}": {{"key": "{key}", "enabled": true, "variationType": "STRING", "totalShards": 10000,
              "variations": {{"a": {{"key": "a", "value": "A"}}, "b": {{"key": "b", "value": "B"}}, "c": {{"key": "c", "value": "C"}}}},
              "allocations": [{allocations}]}}"#
        )
    }

    fn split(variation: &str, shards: &[(&str, u32, u32)]) -> String {
        let shards: Vec<String> = shards
            .iter()
            .map(|(salt, start, end)| {
                format!(r#"{{"salt": "{salt}", "ranges": [{{"start": {start}, "end": {end}}}]}}"#)
            })
            .collect();
        format!(r#"{{"variationKey": "{variation}", "shards": [{}]}}"#, shards.join(", "))
    }

    const FIFTY_THIRTY_TWENTY: &str = "split-50-30-20";

    fn fifty_thirty_twenty() -> Configuration {
        let splits = [
            split("a", &[("srm-test", 0, 5000)]),
            split("b", &[("srm-test", 5000, 8000)]),
            split("c", &[("srm-test", 8000, 10000)]),
        ];
        config(&flag(FIFTY_THIRTY_TWENTY, &format!(r#"{{"key": "experiment", "splits": [{}]}}"#, splits.join(", "))))
    }

    fn shares(report: &DistributionReport) -> Vec<(Option<&str>, f64)> {
        report.rows.iter().map(|r| (r.variation.as_deref(), r.expected_share.unwrap_or(f64::NAN))).collect()
    }

    fn row<'r>(report: &'r DistributionReport, variation: Option<&str>) -> &'r DistributionRow {
        report.rows.iter().find(|r| r.variation.as_deref() == variation).expect("the report has the row")
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn chi_square_tail_matches_tables() {
        // Critical values from the standard table.
        for (statistic, df, p) in
            [(3.841, 1, 0.05), (10.828, 1, 0.001), (5.991, 2, 0.05), (18.307, 10, 0.05), (0.455, 1, 0.5)]
        {
            let got = chi_square_p_value(statistic, df);
            assert!((got - p).abs() < p * 0.01, "chi2({statistic}, {df}) = {got}, expected {p}");
        }
    }

    #[test]
    fn a_fifty_thirty_twenty_split_is_consistent_and_deterministic() {
        let config = fifty_thirty_twenty();
        let report = distribution(&config, FIFTY_THIRTY_TWENTY, 20_000, &Attributes::new(), now())
            .expect("a distribution report");
        let variations: Vec<Option<&str>> = report.rows.iter().map(|r| r.variation.as_deref()).collect();
        assert_eq!(variations, [Some("a"), Some("b"), Some("c"), None]);
        let expected = shares(&report);
        for ((_, got), want) in expected.iter().zip([0.5, 0.3, 0.2, 0.0]) {
            // Exact, including the modulo bias of 2^32 mod 10,000 (< 1e-5).
            assert!(close(*got, want, 1e-5), "{expected:?}");
        }
        assert!(close(expected.iter().map(|(_, s)| s).sum::<f64>(), 1.0, 1e-12));
        // The counts are a pure function of md5("srm-test-subject-<i>").
        let observed: Vec<u64> = report.rows.iter().map(|r| r.observed).collect();
        assert_eq!(observed.iter().sum::<u64>(), 20_000);
        assert_eq!(observed, PINNED_COUNTS);
        assert_eq!(report.degrees_of_freedom, 2);
        let p = report.p_value.unwrap_or_default();
        assert!(p > ALPHA, "{report:#?}");
        assert_eq!(report.verdict, Verdict::Consistent);
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        // Sequential re-evaluation agrees with the parallel count.
        let again = distribution(&config, FIFTY_THIRTY_TWENTY, 20_000, &Attributes::new(), now())
            .expect("a distribution report");
        assert_eq!(again, report);
    }

    /// What `subject-0` … `subject-19999` receive from the 50/30/20 flag.
    const PINNED_COUNTS: [u64; 4] = [10_004, 5_961, 4_035, 0];

    #[test]
    fn the_report_serializes_with_the_documented_field_names() {
        let report = distribution(&fifty_thirty_twenty(), FIFTY_THIRTY_TWENTY, 1000, &Attributes::new(), now())
            .expect("a distribution report");
        let json = serde_json::to_value(&report).unwrap_or_default();
        for field in
            ["flag", "subjects", "rows", "chiSquare", "degreesOfFreedom", "pValue", "verdict", "alpha", "notes"]
        {
            assert!(json.get(field).is_some(), "{field} missing from {json}");
        }
        let row = &json["rows"][0];
        for field in ["variation", "observed", "observedShare", "expectedShare"] {
            assert!(row.get(field).is_some(), "{field} missing from {row}");
        }
        assert_eq!(json["rows"][3]["variation"], serde_json::Value::Null);
        assert_eq!(json["verdict"], "consistent");
        let text = render_text(&report);
        assert!(text.contains("Flag split-50-30-20: 1000 subjects"), "{text}");
        assert!(text.contains("(default)") && text.contains("50.000 %") && text.contains("consistent"), "{text}");
    }

    #[test]
    fn traffic_exposure_and_two_salts_multiply_and_the_rest_is_default() {
        // 40 % of traffic, split 50/50 by another salt; one split also needs
        // a second shard of the traffic salt that overlaps half of the first.
        let splits = [
            split("a", &[("traffic", 0, 4000), ("split", 0, 5000)]),
            split("b", &[("traffic", 0, 4000), ("split", 5000, 10000), ("traffic", 2000, 10000)]),
        ];
        let config = config(&flag("f", &format!(r#"{{"key": "x", "splits": [{}]}}"#, splits.join(", "))));
        let report = distribution(&config, "f", 5000, &Attributes::new(), now()).expect("a distribution report");
        let expected = shares(&report);
        // a: 0.4 × 0.5; b: 0.2 (traffic 2000..4000) × 0.5; default: the rest.
        let want = [("a", 0.2), ("b", 0.1), ("c", 0.0)];
        for ((variation, got), (name, share)) in expected.iter().zip(want) {
            assert_eq!(*variation, Some(name));
            assert!(close(*got, share, 1e-5), "{expected:?}");
        }
        assert!(close(expected[3].1, 0.7, 1e-5), "{expected:?}");
        assert_eq!(report.verdict, Verdict::Consistent, "{report:#?}");
    }

    #[test]
    fn bulk_sharded_counts_are_those_of_one_by_one_evaluation() {
        // Two hashed salts (one shard repeating the traffic salt), one
        // always-admitting salt that is never hashed, and partial chunks.
        let splits = [
            split("a", &[("traffic", 0, 4000), ("split", 0, 5000), ("everyone", 0, 10000)]),
            split("b", &[("traffic", 0, 4000), ("split", 5000, 10000), ("traffic", 2000, 10000)]),
            split("c", &[("split", 9000, 10000)]),
        ];
        let config = config(&flag("f", &format!(r#"{{"key": "x", "splits": [{}]}}"#, splits.join(", "))));
        let flag = config.valid_flag("f").expect("the flag compiles");
        assert_eq!(flag.salt_sharders().iter().map(Option::is_some).collect::<Vec<_>>(), [true, true, false]);
        let subjects = 3 * CHUNK + 17;
        let rows = RowIndex::of(flag);
        let bulk = observe(&config, flag, "f", &rows, subjects, &Attributes::new(), now());
        let (mut one_by_one, nobody) = (vec![0u64; rows.keys.len()], Attributes::new());
        for i in 0..subjects {
            let key = format!("{SUBJECT_PREFIX}{i}");
            let request = FlagRequest::new("f", &key, &nobody, flag.variation_type);
            let served = config.evaluate(&request, now()).decision.map(|d| d.split.variation_key.to_string());
            let row = served.and_then(|key| rows.by_key.get(&key).copied()).unwrap_or(rows.default_row());
            one_by_one[row] += 1;
        }
        assert_eq!(bulk, one_by_one);
        assert!(bulk.iter().filter(|count| **count > 0).count() >= 3, "{bulk:?}");
    }

    #[test]
    fn salts_of_allocations_no_subject_reaches_are_not_hashed_in_bulk() {
        let allocations = [
            format!(
                r#"{{"key": "us", "rules": [{{"conditions": [{{"attribute": "country", "operator": "ONE_OF", "value": ["US"]}}]}}], "splits": [{}]}}"#,
                split("b", &[("us-salt", 0, 5000)])
            ),
            format!(r#"{{"key": "rest", "splits": [{}]}}"#, split("a", &[("rest-salt", 0, 2500)])),
        ];
        let config = config(&flag("f", &allocations.join(", ")));
        let flag = config.valid_flag("f").expect("the flag compiles");
        let fr: Attributes = [("country".to_owned(), AttributeValue::String("FR".into()))].into_iter().collect();
        assert_eq!(salts_worth_hashing(&config, flag, "f", &fr, now()), [false, true]);
        let us: Attributes = [("country".to_owned(), AttributeValue::String("US".into()))].into_iter().collect();
        assert_eq!(salts_worth_hashing(&config, flag, "f", &us, now()), [true, true]);
        let report = distribution(&config, "f", 4000, &fr, now()).expect("a distribution report");
        assert_eq!(row(&report, Some("b")).observed, 0);
        assert_eq!(report.verdict, Verdict::Consistent, "{report:#?}");
    }

    #[test]
    fn dates_and_rules_are_decided_once_for_the_fixed_attributes() {
        let allocations = [
            format!(r#"{{"key": "over", "endAt": "2020-01-01T00:00:00Z", "splits": [{}]}}"#, split("c", &[])),
            format!(
                r#"{{"key": "us", "rules": [{{"conditions": [{{"attribute": "country", "operator": "ONE_OF", "value": ["US"]}}]}}], "splits": [{}]}}"#,
                split("b", &[])
            ),
            format!(r#"{{"key": "rest", "splits": [{}]}}"#, split("a", &[("s", 0, 2500)])),
        ];
        let config = config(&flag("f", &allocations.join(", ")));
        let us: Attributes = [("country".to_owned(), AttributeValue::String("US".into()))].into_iter().collect();
        let report = distribution(&config, "f", 2000, &us, now()).expect("a distribution report");
        assert_eq!(row(&report, Some("b")).expected_share, Some(1.0));
        assert_eq!(row(&report, Some("b")).observed, 2000);
        assert_eq!(report.degrees_of_freedom, 0);
        assert_eq!(report.verdict, Verdict::Consistent);

        let fr: Attributes = [("country".to_owned(), AttributeValue::String("FR".into()))].into_iter().collect();
        let report = distribution(&config, "f", 2000, &fr, now()).expect("a distribution report");
        let expected = shares(&report);
        let a = row(&report, Some("a")).expected_share.unwrap_or_default();
        let default = row(&report, None).expected_share.unwrap_or_default();
        assert!(close(a, 0.25, 1e-5) && close(default, 0.75, 1e-5), "{expected:?}");
        assert_eq!(row(&report, Some("c")).observed, 0, "the ended allocation serves nothing");
        assert_eq!(report.verdict, Verdict::Consistent, "{report:#?}");
    }

    #[test]
    fn a_rule_on_the_subject_key_makes_the_shares_unpredictable() {
        let allocation = format!(
            r#"{{"key": "some", "rules": [{{"conditions": [{{"attribute": "id", "operator": "MATCHES", "value": "1$"}}]}}], "splits": [{}]}}"#,
            split("a", &[])
        );
        let config = config(&flag("f", &allocation));
        let report = distribution(&config, "f", 1000, &Attributes::new(), now()).expect("a distribution report");
        assert_eq!(report.verdict, Verdict::Unpredictable);
        assert!(report.p_value.is_none() && report.rows.iter().all(|r| r.expected_share.is_none()));
        assert_eq!(report.rows[0].observed, 100, "subjects ending in 1");
        assert!(report.notes[0].contains("\"id\""), "{:?}", report.notes);
        assert!(render_text(&report).contains("cannot be predicted"));
        // With an explicit id the rule is the same for everyone again.
        let id: Attributes = [("id".to_owned(), AttributeValue::String("user-1".into()))].into_iter().collect();
        let report = distribution(&config, "f", 1000, &id, now()).expect("a distribution report");
        assert_eq!(report.verdict, Verdict::Consistent);
    }

    #[test]
    fn unknown_flags_and_zero_subjects_are_errors() {
        let config = fifty_thirty_twenty();
        assert!(
            distribution(&config, "nope", 10, &Attributes::new(), now()).is_err_and(|e| e.to_string().contains("nope"))
        );
        assert!(distribution(&config, FIFTY_THIRTY_TWENTY, 0, &Attributes::new(), now()).is_err());
    }

    #[test]
    fn a_disabled_flag_expects_the_default_only() {
        let json = flag("off", &format!(r#"{{"key": "x", "splits": [{}]}}"#, split("a", &[])))
            .replace("\"enabled\": true", "\"enabled\": false");
        let report =
            distribution(&config(&json), "off", 100, &Attributes::new(), now()).expect("a distribution report");
        assert_eq!(report.rows[3].observed, 100);
        assert_eq!(report.rows[3].expected_share, Some(1.0));
        assert_eq!(report.verdict, Verdict::Consistent);
    }

    #[test]
    fn skewed_counts_are_a_mismatch() {
        // (600−500)²/500 + 0 + (100−200)²/200 = 20 + 50 = 70 on 2 dof: p = e^−35.
        let fit = goodness_of_fit(&[600, 300, 100, 0], &[0.5, 0.3, 0.2, 0.0]);
        assert!(close(fit.chi_square, 70.0, 1e-9));
        assert_eq!(fit.degrees_of_freedom, 2);
        assert!(close(fit.p_value, (-35.0f64).exp(), 1e-20), "{fit:?}");
        // Traffic where none was configured is impossible under the model.
        let fit = goodness_of_fit(&[500, 1], &[1.0, 0.0]);
        assert_eq!((fit.chi_square, fit.p_value), (f64::INFINITY, 0.0));
    }

    #[test]
    fn chi_square_p_values_match_tables() {
        // Critical values at 5 % (to full precision, then as tables print them).
        for (x, dof) in [
            (3.841_458_820_694_124, 1),
            (5.991_464_547_107_979, 2),
            (18.307_038_053_275_146, 10),
            (124.342_113_404_004_07, 100),
        ] {
            let p = chi_square_p_value(x, dof);
            assert!(close(p, 0.05, 1e-9), "dof {dof}: {p}");
        }
        for (x, dof) in [(3.841, 1), (5.991, 2), (18.307, 10)] {
            let p = chi_square_p_value(x, dof);
            assert!(close(p, 0.05, 1e-4), "dof {dof}: {p}");
        }
        // 0.1 % on 1 dof; 99 % on 3 dof (small x: the series branch).
        assert!(close(chi_square_p_value(10.827_566_170_662_733, 1), 0.001, 1e-10));
        assert!(close(chi_square_p_value(0.114_831_789_593_854_13, 3), 0.99, 1e-8));
        // 2 dof is exactly e^(−x/2).
        for x in [0.01, 0.5, 1.0, 2.0, 7.5, 30.0, 200.0] {
            assert!(close(chi_square_p_value(x, 2), (-x / 2.0).exp(), 1e-13 * (1.0 + (-x / 2.0f64).exp())), "x = {x}");
        }
        assert_eq!(chi_square_p_value(0.0, 4), 1.0);
        assert_eq!(chi_square_p_value(f64::INFINITY, 4), 0.0);
        assert_eq!(chi_square_p_value(0.0, 0), 1.0);
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!(close(ln_gamma(1.0), 0.0, 1e-14));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-14));
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-12));
        assert!(close(ln_gamma(0.1), 2.252_712_651_734_206, 1e-12));
    }
}
