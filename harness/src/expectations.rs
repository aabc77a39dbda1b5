//! Known failures: a manifest per SDK listing the cases it is known to get
//! wrong, with the severity covered, the reason, a link, the SDK versions it
//! applies to and the divergence cause. Strict by default: a listed case
//! that now passes is reported as an unexpected pass and fails the run, so
//! the list cannot go stale.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::compare::Severity;
use crate::run::{CaseOutcome, RunResult, Status};

/// One manifest file (`<party>.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The entries.
    #[serde(default)]
    pub known: Vec<KnownFailure>,
}

/// One entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    /// Globs over case ids (`test-case-*/alice`): one string or a list.
    pub cases: CasePatterns,
    /// The highest severity this entry excuses; differences above it still fail.
    pub severity: Severity,
    /// Why the SDK fails these cases.
    pub reason: String,
    /// Where to read more (issue, spec section).
    #[serde(default)]
    pub link: Option<String>,
    /// Semver requirement on the SDK version (`>=3.10, <4`); absent: every version.
    #[serde(default)]
    pub versions: Option<String>,
    /// The divergence cause (an id in `test-cases/divergences/`).
    #[serde(default)]
    pub cause: Option<String>,
    /// The ways of giving the SDK its configurations this entry holds for
    /// (`plain`, `obfuscated`, `precomputed`); absent: every way. An SDK
    /// can read the same case differently in another format.
    #[serde(default)]
    pub configurations: Option<Vec<ConfigurationForm>>,
}

/// How a run gives the SDKs their configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigurationForm {
    /// The configuration files as they are (the SERVER format).
    Plain,
    /// Their obfuscated twins (the CLIENT format, `--obfuscated`).
    Obfuscated,
    /// Precomputed assignments (`--precomputed`).
    Precomputed,
}

/// One glob or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CasePatterns {
    /// A single glob.
    One(String),
    /// Several globs; any may match.
    Many(Vec<String>),
}

impl CasePatterns {
    fn globs(&self) -> Vec<&str> {
        match self {
            CasePatterns::One(glob) => vec![glob.as_str()],
            CasePatterns::Many(globs) => globs.iter().map(String::as_str).collect(),
        }
    }
}

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct ManifestError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// An entry of a manifest that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct EntryError {
    /// Where in the manifest: `known[3].cases "a/*["`, `known[0].versions`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

struct Compiled {
    entry: KnownFailure,
    globs: globset::GlobSet,
    versions: Option<semver::VersionReq>,
}

/// A manifest ready to apply to one party.
pub struct KnownFailures {
    entries: Vec<Compiled>,
}

impl KnownFailures {
    /// Reads and checks a manifest file.
    pub fn load(file: &Path) -> Result<KnownFailures, ManifestError> {
        let error = |message: String| ManifestError { file: file.to_owned(), message };
        let text = std::fs::read_to_string(file).map_err(|err| error(format!("cannot read: {err}")))?;
        let manifest: Manifest = toml::from_str(&text).map_err(|err| error(err.to_string()))?;
        KnownFailures::compile(manifest).map_err(|err| error(err.to_string()))
    }

    /// Checks the globs and version requirements of a manifest.
    pub fn compile(manifest: Manifest) -> Result<KnownFailures, EntryError> {
        let entries = manifest
            .known
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let mut set = globset::GlobSetBuilder::new();
                for pattern in entry.cases.globs() {
                    set.add(globset::Glob::new(pattern).map_err(|err| EntryError {
                        at: format!("known[{index}].cases {pattern:?}"),
                        message: err.to_string(),
                    })?);
                }
                let globs = set
                    .build()
                    .map_err(|err| EntryError { at: format!("known[{index}].cases"), message: err.to_string() })?;
                let versions = entry
                    .versions
                    .as_deref()
                    .map(|req| {
                        semver::VersionReq::parse(req).map_err(|err| EntryError {
                            at: format!("known[{index}].versions {req:?}"),
                            message: err.to_string(),
                        })
                    })
                    .transpose()?;
                Ok(Compiled { entry, globs, versions })
            })
            .collect::<Result<Vec<_>, EntryError>>()?;
        Ok(KnownFailures { entries })
    }

    fn matching(&self, case_id: &str, sdk_version: &str, form: ConfigurationForm) -> Option<&KnownFailure> {
        let version = semver::Version::parse(sdk_version).ok();
        self.entries
            .iter()
            .find(|c| {
                c.globs.is_match(case_id)
                    && c.entry.configurations.as_ref().is_none_or(|forms| forms.contains(&form))
                    && match (&c.versions, &version) {
                        (None, _) => true,
                        (Some(req), Some(v)) => req.matches(v),
                        (Some(_), None) => false,
                    }
            })
            .map(|c| &c.entry)
    }

    /// The causes the manifest files `case_id` under, whatever the versions
    /// its entries are limited to: what `history` attributes a failure of
    /// another SDK version to.
    pub fn causes_of(&self, case_id: &str) -> Vec<&str> {
        let mut causes: Vec<&str> = self
            .entries
            .iter()
            .filter(|c| c.globs.is_match(case_id))
            .filter_map(|c| c.entry.cause.as_deref())
            .collect();
        causes.dedup();
        causes
    }

    /// The manifest of each party that has one: from `dir` (`<name>.toml`)
    /// when given, else the party's own.
    pub fn for_parties(
        specs: &[crate::parties::PartySpec],
        dir: Option<&Path>,
    ) -> Result<Vec<(String, KnownFailures)>, ManifestError> {
        let mut manifests = Vec::new();
        for spec in specs {
            let path = match dir {
                Some(dir) => Some(dir.join(format!("{}.toml", spec.name))).filter(|p| p.is_file()),
                None => spec.known_failures.clone(),
            };
            if let Some(path) = path {
                manifests.push((spec.name.clone(), KnownFailures::load(&path)?));
            }
        }
        Ok(manifests)
    }

    /// Applies the manifest to `party`'s outcomes in a run that gave the
    /// configurations as `form`. With `strict`, a listed case that passes
    /// becomes an unexpected pass.
    pub fn apply(&self, result: &mut RunResult, party: &str, strict: bool, form: ConfigurationForm) {
        let version =
            result.parties.iter().find(|p| p.name == party).map(|p| p.sdk.version.clone()).unwrap_or_default();
        let fail_on = result.fail_on.clone();
        for outcome in result.outcomes.iter_mut().filter(|o| o.party == party) {
            let Some(entry) = self.matching(&outcome.case_id, &version, form) else { continue };
            apply_entry(outcome, entry, &fail_on, strict);
        }
    }
}

fn apply_entry(outcome: &mut CaseOutcome, entry: &KnownFailure, fail_on: &[Severity], strict: bool) {
    let label = match &entry.link {
        Some(link) => format!("{} ({link})", entry.reason),
        None => entry.reason.clone(),
    };
    match outcome.status {
        Status::Failed => {
            // Severity order: Critical < Major < Minor, so an entry excuses
            // differences at its own severity and below.
            let excused = outcome
                .differences
                .iter()
                .filter(|d| fail_on.contains(&d.severity))
                .all(|d| d.severity >= entry.severity);
            if excused {
                outcome.status = Status::KnownFailure;
                outcome.known_failure = Some(label);
                outcome.causes.extend(entry.cause.clone());
            }
        }
        Status::Passed if strict => {
            outcome.status = Status::UnexpectedPass;
            outcome.known_failure = Some(label);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_need_valid_globs_and_version_requirements() {
        let bad: Manifest =
            toml::from_str("[[known]]\ncases = \"a/[\"\nseverity = \"major\"\nreason = \"r\"\n").unwrap();
        assert!(KnownFailures::compile(bad).is_err());
        let bad: Manifest = toml::from_str(
            "[[known]]\ncases = \"a/*\"\nseverity = \"major\"\nreason = \"r\"\nversions = \"not a req\"\n",
        )
        .unwrap();
        assert!(KnownFailures::compile(bad).is_err());
        assert!(toml::from_str::<Manifest>(
            "[[known]]\ncases = \"a\"\nseverity = \"major\"\nreason = \"r\"\ntypo = 1\n"
        )
        .is_err());
    }

    #[test]
    fn an_entry_can_be_limited_to_some_configuration_forms() {
        let m: Manifest = toml::from_str(
            "[[known]]\ncases = \"flag/*\"\nseverity = \"major\"\nreason = \"r\"\nconfigurations = [\"plain\", \"precomputed\"]\n",
        )
        .unwrap();
        let k = KnownFailures::compile(m).unwrap();
        assert!(k.matching("flag/alice", "1.0.0", ConfigurationForm::Plain).is_some());
        assert!(k.matching("flag/alice", "1.0.0", ConfigurationForm::Precomputed).is_some());
        assert!(k.matching("flag/alice", "1.0.0", ConfigurationForm::Obfuscated).is_none());
        assert!(toml::from_str::<Manifest>(
            "[[known]]\ncases = \"a\"\nseverity = \"major\"\nreason = \"r\"\nconfigurations = [\"server\"]\n"
        )
        .is_err());
    }

    #[test]
    fn version_ranges_select_entries() {
        let m: Manifest = toml::from_str(
            "[[known]]\ncases = \"flag/*\"\nseverity = \"critical\"\nreason = \"old\"\nversions = \"<2\"\n",
        )
        .unwrap();
        let k = KnownFailures::compile(m).unwrap();
        assert!(k.matching("flag/alice", "1.4.0", ConfigurationForm::Plain).is_some());
        assert!(k.matching("flag/alice", "2.0.0", ConfigurationForm::Plain).is_none());
        assert!(k.matching("other/alice", "1.0.0", ConfigurationForm::Plain).is_none());
        let m: Manifest =
            toml::from_str("[[known]]\ncases = [\"a/x\", \"b/*\"]\nseverity = \"major\"\nreason = \"r\"\n").unwrap();
        let k = KnownFailures::compile(m).unwrap();
        assert!(
            k.matching("a/x", "1.0.0", ConfigurationForm::Plain).is_some()
                && k.matching("b/y", "1.0.0", ConfigurationForm::Plain).is_some()
        );
        assert!(k.matching("a/y", "1.0.0", ConfigurationForm::Plain).is_none());
    }
}
