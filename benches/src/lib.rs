//! Fixture loading shared by the criterion benches in `benches/`.
//!
//! The benches run over real configurations and subjects: Eppo's shared
//! test data, read in place from `../shared/eppo-sdk-test-data` next to the
//! repository (never copied into it), or, when that is missing, the
//! project's own `ufc-fixtures/<group>/` with `test-cases/<group>/`. Set
//! `UFC_BENCH_DATA` to a suite directory of either layout to bench another.
//!
//! Everything here is parsed before timing starts; the benches time only
//! the evaluator.
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use ufc_reference::bandit::{Action, SubjectAttributes};
use ufc_reference::{Attributes, VariationType};

/// The shared Eppo data, relative to this crate.
pub const SHARED_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/eppo-sdk-test-data");

/// The repository root, where the project's own fixtures live.
pub const REPOSITORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// "Now" for every bench: fixed, and before the shared data's date test
/// (`start-and-end-date-test`) ends in 2050.
pub fn now() -> ufc_reference::Timestamp {
    chrono::DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
}

/// Every configuration and subject the benches use.
#[derive(Debug, Default)]
pub struct Fixtures {
    /// Where they were read from.
    pub root: PathBuf,
    /// Flag configurations and their subjects.
    pub flag_groups: Vec<FlagGroup>,
    /// Bandit configurations, models and subjects.
    pub bandit_groups: Vec<BanditGroup>,
}

/// One flag configuration file and the subjects of its test files.
#[derive(Debug)]
pub struct FlagGroup {
    /// `ufc` for the shared data, else the project's group folder.
    pub name: String,
    /// The configuration file's bytes, for the load benches.
    pub config_json: Vec<u8>,
    /// The configuration file's name.
    pub config_file: String,
    /// Subjects grouped by flag key, flags in the order the test files name them.
    pub flags: Vec<FlagSubjects>,
}

/// The subjects of one flag.
#[derive(Debug)]
pub struct FlagSubjects {
    /// The flag key.
    pub flag: String,
    /// The type the test files ask for.
    pub variation_type: VariationType,
    /// Subject key and attributes.
    pub subjects: Vec<(String, Attributes)>,
}

/// One bandit configuration with its models and test subjects.
#[derive(Debug)]
pub struct BanditGroup {
    /// `ufc-bandits` for the shared data, else the project's group folder.
    pub name: String,
    /// `bandit-flags-v1.json` (or the group's `flags-v1.json`).
    pub config_json: Vec<u8>,
    /// The configuration file's name.
    pub config_file: String,
    /// `bandit-models-v1.json`.
    pub models_json: Vec<u8>,
    /// Every bandit test subject, in file order.
    pub subjects: Vec<BanditSubject>,
}

/// A bandit test subject, prepared the way an SDK would hold it.
#[derive(Debug)]
pub struct BanditSubject {
    /// The flag.
    pub flag: String,
    /// The subject key.
    pub subject_key: String,
    /// The default variation.
    pub default_variation: String,
    /// The attributes, merged for the flag's rules and cleaned for scoring.
    pub attributes: SubjectAttributes,
    /// Candidate actions.
    pub actions: Vec<Action>,
}

impl Fixtures {
    /// Loads `UFC_BENCH_DATA` if set, else the shared data if present, else
    /// the project's own fixtures. Panics with the path at fault when
    /// nothing can be read: a bench without data measures nothing.
    pub fn load() -> Fixtures {
        let root = std::env::var_os("UFC_BENCH_DATA").map(PathBuf::from).unwrap_or_else(|| {
            let shared = PathBuf::from(SHARED_DATA);
            if shared.join("ufc").is_dir() {
                shared
            } else {
                PathBuf::from(REPOSITORY)
            }
        });
        let fixtures = Fixtures::load_from(&root);
        if fixtures.flag_groups.is_empty() && fixtures.bandit_groups.is_empty() {
            eprintln!("ufc-benches: no fixtures found under {}", root.display());
        }
        fixtures
    }

    /// Loads a suite directory: Eppo's layout (`ufc/flags-v1.json`,
    /// `ufc/tests/`, `ufc/bandit-*`) or the project's
    /// (`ufc-fixtures/<group>/` with `test-cases/<group>/`).
    pub fn load_from(root: &Path) -> Fixtures {
        let mut fixtures = Fixtures { root: root.to_owned(), ..Fixtures::default() };
        let ufc = root.join("ufc");
        if ufc.is_dir() {
            if let Some(group) = load_flag_group("ufc", &ufc.join("flags-v1.json"), &ufc.join("tests")) {
                fixtures.flag_groups.push(group);
            }
            if let Some(group) = load_bandit_group(
                "ufc-bandits",
                &ufc.join("bandit-flags-v1.json"),
                &ufc.join("bandit-models-v1.json"),
                &ufc.join("bandit-tests"),
            ) {
                fixtures.bandit_groups.push(group);
            }
            return fixtures;
        }
        for dir in sorted_entries(&root.join("ufc-fixtures")).into_iter().filter(|p| p.is_dir()) {
            let name = file_name(&dir);
            let tests = root.join("test-cases").join(&name);
            let flags = dir.join("flags-v1.json");
            if let Some(group) = load_flag_group(&name, &flags, &tests) {
                fixtures.flag_groups.push(group);
            }
            if let Some(group) =
                load_bandit_group(&name, &flags, &dir.join("bandit-models-v1.json"), &tests.join("bandit-tests"))
            {
                fixtures.bandit_groups.push(group);
            }
        }
        fixtures
    }

    /// A label for a flag of a group: the flag key for the shared data,
    /// `<group>/<flag>` for the project's groups (whose keys may repeat).
    pub fn label(group: &str, flag: &str) -> String {
        if group == "ufc" || group == "ufc-bandits" {
            flag.to_owned()
        } else {
            format!("{group}/{flag}")
        }
    }
}

fn load_flag_group(name: &str, config: &Path, tests: &Path) -> Option<FlagGroup> {
    let config_json = std::fs::read(config).ok()?;
    let mut flags: Vec<FlagSubjects> = Vec::new();
    for file in sorted_entries(tests).into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let Some(test) = read_json(&file) else { continue };
        let (Some(flag), Some(variation_type)) = (
            test.get("flag").and_then(Value::as_str),
            test.get("variationType").and_then(Value::as_str).and_then(VariationType::parse),
        ) else {
            continue;
        };
        let subjects = test.get("subjects").and_then(Value::as_array).into_iter().flatten().filter_map(|s| {
            let key = s.get("subjectKey")?.as_str()?.to_owned();
            let attributes =
                s.get("subjectAttributes").and_then(Value::as_object).map(Attributes::from_json).unwrap_or_default();
            Some((key, attributes))
        });
        match flags.iter_mut().find(|f| f.flag == flag && f.variation_type == variation_type) {
            Some(existing) => existing.subjects.extend(subjects),
            None => flags.push(FlagSubjects { flag: flag.to_owned(), variation_type, subjects: subjects.collect() }),
        }
    }
    Some(FlagGroup { name: name.to_owned(), config_json, config_file: file_name(config), flags })
}

fn load_bandit_group(name: &str, config: &Path, models: &Path, tests: &Path) -> Option<BanditGroup> {
    let models_json = std::fs::read(models).ok()?;
    let config_json = std::fs::read(config).ok()?;
    let mut subjects = Vec::new();
    for file in sorted_entries(tests).into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let Some(test) = read_json(&file) else { continue };
        let (Some(flag), Some(default_variation)) =
            (test.get("flag").and_then(Value::as_str), test.get("defaultValue").and_then(Value::as_str))
        else {
            continue;
        };
        for s in test.get("subjects").and_then(Value::as_array).into_iter().flatten() {
            let Some(subject_key) = s.get("subjectKey").and_then(Value::as_str) else { continue };
            let actions =
                s.get("actions").and_then(Value::as_array).into_iter().flatten().filter_map(Action::from_value);
            subjects.push(BanditSubject {
                flag: flag.to_owned(),
                subject_key: subject_key.to_owned(),
                default_variation: default_variation.to_owned(),
                attributes: s.get("subjectAttributes").map(SubjectAttributes::from_value).unwrap_or_default(),
                actions: actions.collect(),
            });
        }
    }
    Some(BanditGroup { name: name.to_owned(), config_json, config_file: file_name(config), models_json, subjects })
}

fn read_json(file: &Path) -> Option<Value> {
    let bytes = std::fs::read(file).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    entries.sort();
    entries
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `n` distinct subject keys shaped like real ones (UUIDs, 36 bytes), from
/// a fixed seed so every run hashes the same bytes.
pub fn uuid_keys(n: usize) -> Vec<String> {
    let mut state: u64 = KEY_SEED;
    (0..n)
        .map(|_| {
            let hi = splitmix64(&mut state);
            let lo = splitmix64(&mut state);
            format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0xfff,
                (lo >> 48) & 0x3fff | 0x8000,
                lo & 0xffff_ffff_ffff
            )
        })
        .collect()
}

/// The seed of [`uuid_keys`].
const KEY_SEED: u64 = 0x5eed_0f5b_1ec7;

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Every shard salt of a configuration, with its flag's `totalShards`, in
/// document order, each once.
pub fn shard_salts(config_json: &[u8]) -> Vec<(String, u32)> {
    let Ok(document) = serde_json::from_slice::<Value>(config_json) else { return Vec::new() };
    let mut salts: Vec<(String, u32)> = Vec::new();
    for flag in document.get("flags").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
        let total =
            flag.get("totalShards").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(10_000);
        let shards = flag
            .get("allocations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("splits")?.as_array())
            .flatten()
            .filter_map(|s| s.get("shards")?.as_array())
            .flatten();
        for shard in shards {
            if let Some(salt) = shard.get("salt").and_then(Value::as_str) {
                if !salts.iter().any(|(s, t)| s == salt && *t == total) {
                    salts.push((salt.to_owned(), total));
                }
            }
        }
    }
    salts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_keys_are_distinct_and_uuid_shaped() {
        let keys = uuid_keys(1000);
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), 1000);
        assert!(keys.iter().all(|k| k.len() == 36 && k.as_bytes()[14] == b'4'), "{:?}", &keys[..3]);
    }

    #[test]
    fn the_fixtures_load_and_every_subject_evaluates() {
        // Whichever data is found (the shared data in CI): some group has
        // flag subjects and some has salts, and every subject evaluates.
        let fixtures = Fixtures::load();
        let mut subjects = 0;
        let mut salts = 0;
        for group in &fixtures.flag_groups {
            let config = ufc_reference::Configuration::from_json(&group.config_json).expect("configuration loads");
            for flag in &group.flags {
                for (key, attributes) in &flag.subjects {
                    let request = ufc_reference::FlagRequest::new(&flag.flag, key, attributes, flag.variation_type);
                    let _ = config.evaluate_details(&request, now());
                    subjects += 1;
                }
            }
            salts += shard_salts(&group.config_json).len();
        }
        assert!(subjects > 0 && salts > 0, "{}: {subjects} subjects, {salts} salts", fixtures.root.display());
    }
}
