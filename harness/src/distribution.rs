//! Sample-ratio-mismatch (SRM) check for one flag: evaluate many synthetic
//! subjects with the reference, count what each variation received, and test
//! the counts against the shares the flag's traffic splits promise with a
//! chi-square goodness-of-fit test.
//!
//! **Subjects.** `subject-0` … `subject-<N-1>`, all with the same caller-given
//! attributes, evaluated at one fixed "now" with the flag's own variation type.
//!
//! **Expected shares: the exact rule.** Dates and rules do not depend on the
//! subject key here (every synthetic subject has the same attributes and the
//! same "now"), so each allocation is decided once: it is *eligible* when
//! now is within `startAt`/`endAt` and it has no rules or one of its rules
//! holds for those attributes. Only the traffic splits vary from subject to
//! subject. Their shares are computed by exact enumeration, not sampled:
//!
//! * Each distinct salt is modelled as an independent shard value `s` in
//!   `[0, totalShards)`, with `P(s)` = (number of 32-bit values `v` with
//!   `v % totalShards == s`) / 2³². This is the distribution of the first
//!   four MD5 bytes modulo `totalShards` if MD5 is uniform, including the
//!   tiny modulo bias (for 10,000 shards a 50 % range covers 50.00006 %).
//! * The range bounds of every shard of every eligible allocation cut each
//!   salt's shard space into intervals whose members all match or all miss
//!   every shard rule. The check enumerates every combination of one
//!   interval per salt (at most [`MAX_COMBINATIONS`]), walks the eligible
//!   allocations in order for it, as the evaluator does, and credits the
//!   combination's probability to the variation of the first split all of
//!   whose shards match, or to the default when none does. A split naming a
//!   variation the flag does not define, or whose value does not convert to
//!   the flag's type, serves the default, so its share goes there too.
//!
//! **Limits.** The prediction is exact for the model above; the model
//! assumes MD5 behaves uniformly and independently per salt (two shards with
//! the same salt are perfectly correlated, which the enumeration honours).
//! It cannot predict a flag whose eligible allocations have a rule on `id`
//! when the attributes carry no `id`: `id` then falls back to the subject
//! key, so the rule varies per subject. Such a flag, or one needing more
//! than [`MAX_COMBINATIONS`] combinations, gets observed counts only and the
//! verdict [`Verdict::Unpredictable`]. The chi-square test is an
//! approximation that needs every expected count to be about 5 or more; the
//! report notes when one is not.

use std::collections::HashMap;
use std::fmt::Write as _;

use rayon::prelude::*;
use serde::Serialize;
use ufc_reference::config::{Allocation, Flag, FlagEntry, ShardRule};
use ufc_reference::{Attributes, Configuration, FlagEvaluationCode, FlagRequest, Timestamp};

/// Synthetic subject keys are this prefix followed by 0, 1, 2, ….
pub const SUBJECT_PREFIX: &str = "subject-";

/// A p-value below this is a sample ratio mismatch. SRM checks use a strict
/// threshold because they run on every experiment and a false alarm stops one.
pub const ALPHA: f64 = 0.001;

/// The most salt-interval combinations the expected shares are enumerated over.
pub const MAX_COMBINATIONS: u64 = 1 << 22;

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
) -> Result<DistributionReport, String> {
    let flag = match config.flag(flag_key) {
        Some(FlagEntry::Valid(flag)) => flag,
        Some(FlagEntry::Invalid(err)) => return Err(format!("flag {flag_key:?} cannot be evaluated: {err}")),
        None => return Err(format!("flag {flag_key:?} is not in the configuration")),
    };
    if subjects == 0 {
        return Err("the distribution check needs at least one subject".to_owned());
    }
    let rows = RowIndex::of(flag);
    let observed = observe(config, flag_key, flag, &rows, subjects, attributes, now);
    let mut notes = Vec::new();
    let expected = match expected_shares(flag, &rows, attributes, now) {
        Ok(expected) => Some(expected),
        Err(reason) => {
            notes.push(reason);
            None
        }
    };

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

/// The report as aligned text, one line per row, then the test's result.
pub fn render_text(report: &DistributionReport) -> String {
    let mut out = String::new();
    let last = report.subjects.saturating_sub(1);
    let _ = writeln!(
        out,
        "Flag {}: {} subjects ({SUBJECT_PREFIX}0 .. {SUBJECT_PREFIX}{last})",
        report.flag, report.subjects
    );
    let name = |row: &DistributionRow| row.variation.clone().unwrap_or_else(|| "(default)".to_owned());
    let width = report.rows.iter().map(|r| name(r).chars().count()).chain([9]).max().unwrap_or(9);
    let _ = writeln!(out, "  {:<width$}  {:>10}  {:>10}  {:>10}", "variation", "subjects", "observed", "expected");
    for row in &report.rows {
        let expected = row.expected_share.map_or_else(|| "?".to_owned(), |e| format!("{:.3} %", e * 100.0));
        let _ = writeln!(
            out,
            "  {:<width$}  {:>10}  {:>10}  {:>10}",
            name(row),
            row.observed,
            format!("{:.3} %", row.observed_share * 100.0),
            expected
        );
    }
    match (report.chi_square, report.p_value) {
        (Some(chi_square), Some(p)) => {
            let _ = writeln!(
                out,
                "chi-square {chi_square:.3} with {} degree(s) of freedom, p = {p:.4}: {}",
                report.degrees_of_freedom,
                match report.verdict {
                    Verdict::Consistent => format!("consistent with the configured split (alpha {})", report.alpha),
                    _ => format!("SAMPLE RATIO MISMATCH (p < {})", report.alpha),
                }
            );
        }
        _ => {
            let _ = writeln!(out, "expected shares cannot be predicted: no test");
        }
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
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

/// The report's rows: variation keys in the order the splits first name
/// them, then the flag's other variations by key, then the default (`None`).
struct RowIndex {
    keys: Vec<Option<String>>,
    by_key: HashMap<String, usize>,
}

impl RowIndex {
    fn of(flag: &Flag) -> RowIndex {
        let mut keys: Vec<String> = Vec::new();
        let named = flag.allocations.iter().flat_map(|a| &a.splits).map(|s| &*s.variation_key);
        for key in named {
            if flag.variations.contains_key(key) && !keys.iter().any(|k| k == key) {
                keys.push(key.to_owned());
            }
        }
        let mut others: Vec<&String> = flag.variations.keys().filter(|k| !keys.contains(k)).collect();
        others.sort();
        keys.extend(others.into_iter().cloned());
        let by_key = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let mut keys: Vec<Option<String>> = keys.into_iter().map(Some).collect();
        keys.push(None);
        RowIndex { keys, by_key }
    }

    fn default_row(&self) -> usize {
        self.keys.len() - 1
    }

    /// The row a split's variation key lands in: its own, or the default
    /// when the flag cannot serve it.
    fn served(&self, flag: &Flag, variation_key: &str) -> usize {
        match flag.variations.get(variation_key) {
            Some(variation) if variation.typed.is_some() => {
                self.by_key.get(variation_key).copied().unwrap_or(self.default_row())
            }
            _ => self.default_row(),
        }
    }
}

/// Evaluates every synthetic subject and counts rows, on every core.
fn observe(
    config: &Configuration,
    flag_key: &str,
    flag: &Flag,
    rows: &RowIndex,
    subjects: usize,
    attributes: &Attributes,
    now: Timestamp,
) -> Vec<u64> {
    let width = rows.keys.len();
    (0..subjects)
        .into_par_iter()
        .with_min_len(1024)
        .fold(
            || (String::new(), vec![0u64; width]),
            |(mut key, mut counts), i| {
                key.clear();
                let _ = write!(key, "{SUBJECT_PREFIX}{i}");
                let request = FlagRequest::new(flag_key, &key, attributes, flag.variation_type);
                let outcome = config.evaluate(&request, now);
                let row = match (outcome.code, outcome.decision) {
                    (FlagEvaluationCode::Match, Some(decision)) => rows.served(flag, &decision.split.variation_key),
                    _ => rows.default_row(),
                };
                counts[row] += 1;
                (key, counts)
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

/// One salt's shard space cut into intervals by every range bound that
/// uses the salt.
struct SaltSpace<'f> {
    salt: &'f str,
    /// Interval starts, ascending, the first 0; each interval ends where the next starts.
    bounds: Vec<u32>,
    /// The probability of each interval.
    weights: Vec<f64>,
}

/// A shard rule over its salt's intervals.
struct ShardPlan {
    /// Index into the salt spaces.
    salt: usize,
    /// Whether the rule admits each interval.
    admitted: Vec<bool>,
}

/// A split: its shard rules and the row it serves.
struct SplitPlan {
    shards: Vec<ShardPlan>,
    row: usize,
}

/// The expected share of each row (see the module docs for the rule).
fn expected_shares(flag: &Flag, rows: &RowIndex, attributes: &Attributes, now: Timestamp) -> Result<Vec<f64>, String> {
    let mut shares = vec![0.0; rows.keys.len()];
    if !flag.enabled {
        shares[rows.default_row()] = 1.0;
        return Ok(shares);
    }
    let mut eligible: Vec<&Allocation> = Vec::new();
    for allocation in &flag.allocations {
        if allocation.start_at.is_some_and(|start| now < start) || allocation.end_at.is_some_and(|end| now > end) {
            continue;
        }
        let reads_subject_key = !attributes.contains_key("id")
            && allocation.rules.iter().flat_map(|r| &r.conditions).any(|c| c.attribute == "id");
        if reads_subject_key {
            return Err(format!(
                "allocation {:?} has a rule on \"id\", which falls back to the subject key when the attributes have no \"id\": \
                 its outcome varies per subject, so the expected shares cannot be computed (pass an \"id\" attribute to fix it)",
                allocation.key
            ));
        }
        // Every synthetic subject has the same attributes, so any key decides
        // the rules the same way.
        let passes = allocation.rules.is_empty()
            || allocation.rules.iter().any(|rule| rule.conditions.iter().all(|c| c.holds(SUBJECT_PREFIX, attributes)));
        if passes {
            eligible.push(allocation);
        }
    }

    // Cut each salt's shard space at every range bound that uses it.
    let total_shards = flag.total_shards;
    let mut spaces: Vec<SaltSpace<'_>> = Vec::new();
    let shard_rules = eligible.iter().flat_map(|a| &a.splits).flat_map(|s| &s.shards);
    for rule in shard_rules.clone() {
        let salt = rule.sharder.salt();
        let index = match spaces.iter().position(|s| s.salt == salt) {
            Some(index) => index,
            None => {
                spaces.push(SaltSpace { salt, bounds: vec![0], weights: Vec::new() });
                spaces.len() - 1
            }
        };
        for range in &rule.ranges {
            spaces[index].bounds.extend([range.start.min(total_shards), range.end.min(total_shards)]);
        }
    }
    let mut combinations: u64 = 1;
    for space in &mut spaces {
        space.bounds.sort_unstable();
        space.bounds.dedup();
        space.bounds.retain(|b| *b < total_shards);
        let ends = space.bounds.iter().skip(1).copied().chain([total_shards]);
        space.weights =
            space.bounds.iter().zip(ends).map(|(&start, end)| interval_probability(start, end, total_shards)).collect();
        combinations = combinations.saturating_mul(space.bounds.len() as u64);
    }
    if combinations > MAX_COMBINATIONS {
        return Err(format!(
            "the eligible allocations use {} salts whose ranges combine {combinations} ways (more than {MAX_COMBINATIONS}): \
             the expected shares are not enumerated",
            spaces.len()
        ));
    }

    let admits = |rule: &ShardRule| -> ShardPlan {
        let salt = rule.sharder.salt();
        let salt = spaces.iter().position(|s| s.salt == salt).unwrap_or_default();
        let admitted = spaces[salt].bounds.iter().map(|&shard| rule.admits_shard(shard)).collect();
        ShardPlan { salt, admitted }
    };
    // Per eligible allocation, its splits.
    let plan: Vec<Vec<SplitPlan>> = eligible
        .iter()
        .map(|allocation| {
            allocation
                .splits
                .iter()
                .map(|split| SplitPlan {
                    shards: split.shards.iter().map(admits).collect(),
                    row: rows.served(flag, &split.variation_key),
                })
                .collect()
        })
        .collect();

    // Odometer over one interval per salt.
    let mut choice = vec![0usize; spaces.len()];
    loop {
        let probability: f64 = spaces.iter().zip(&choice).map(|(space, &i)| space.weights[i]).product();
        let row = plan
            .iter()
            .find_map(|splits| {
                splits
                    .iter()
                    .find(|split| split.shards.iter().all(|shard| shard.admitted[choice[shard.salt]]))
                    .map(|split| split.row)
            })
            .unwrap_or(rows.default_row());
        shares[row] += probability;

        let mut digit = 0;
        loop {
            if digit == choice.len() {
                return Ok(shares);
            }
            choice[digit] += 1;
            if choice[digit] < spaces[digit].bounds.len() {
                break;
            }
            choice[digit] = 0;
            digit += 1;
        }
    }
}

/// `P(start <= v % total < end)` for `v` uniform over 32-bit values: each
/// shard below `2³² mod total` has one more preimage than the others.
fn interval_probability(start: u32, end: u32, total: u32) -> f64 {
    let space = 1u64 << 32;
    let (start, end, total) = (u64::from(start), u64::from(end), u64::from(total));
    let per_shard = space / total;
    let with_extra = space % total;
    let extra = end.min(with_extra).saturating_sub(start.min(with_extra));
    ((end - start) * per_shard + extra) as f64 / space as f64
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(distribution(&config, "nope", 10, &Attributes::new(), now()).is_err_and(|e| e.contains("nope")));
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
