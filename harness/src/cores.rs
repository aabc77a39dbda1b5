//! Which evaluator core an SDK runs on. SDKs that share a core share its
//! divergences, so a cross-SDK report counts independent opinions by core,
//! not by SDK: three SDKs on one core are one vote.

use ufc_protocol::SdkInfo;

/// An independent evaluator implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Core {
    /// The Rust core (`eppo_core`): the Rust SDK and Python 4.x.
    Rust,
    /// The TypeScript core (`@eppo/js-client-sdk-common`): Node, browser, React Native.
    Js,
    /// The Go SDK's own evaluator.
    Go,
    /// The JVM core (`cloud.eppo:sdk-common-jvm`): the Java server and Android SDKs.
    Jvm,
    /// The pure-Python evaluator of `eppo-server-sdk` 3.x.
    Python,
}

impl Core {
    /// Every core, in report order.
    pub const ALL: [Core; 5] = [Core::Rust, Core::Js, Core::Go, Core::Jvm, Core::Python];

    /// The short label reports use.
    pub fn label(self) -> &'static str {
        match self {
            Core::Rust => "RS",
            Core::Js => "JS",
            Core::Go => "Go",
            Core::Jvm => "JVM",
            Core::Python => "PY",
        }
    }

    /// The core of an SDK, from the package and version its adapter
    /// reported; `None` for the reference and unknown SDKs.
    pub fn of(sdk: &SdkInfo) -> Option<Core> {
        let major = sdk.version.split('.').next().and_then(|m| m.parse::<u64>().ok());
        match sdk.package.as_deref()? {
            "eppo-server-sdk" if major.is_some_and(|m| m < 4) => Some(Core::Python),
            "eppo-server-sdk" | "eppo" => Some(Core::Rust),
            "@eppo/node-server-sdk" | "@eppo/js-client-sdk-common" | "@eppo/js-client-sdk" => Some(Core::Js),
            "cloud.eppo:eppo-server-sdk" | "cloud.eppo:sdk-common-jvm" => Some(Core::Jvm),
            package if package.starts_with("github.com/Eppo-exp/golang-sdk") => Some(Core::Go),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk(package: &str, version: &str) -> SdkInfo {
        SdkInfo { name: "x".into(), package: Some(package.into()), version: version.into() }
    }

    #[test]
    fn python_changed_core_at_4_0() {
        assert_eq!(Core::of(&sdk("eppo-server-sdk", "3.7.0")), Some(Core::Python));
        assert_eq!(Core::of(&sdk("eppo-server-sdk", "4.4.1")), Some(Core::Rust));
        assert_eq!(Core::of(&sdk("@eppo/js-client-sdk-common", "4.14.4")), Some(Core::Js));
        assert_eq!(Core::of(&sdk("ufc-reference", "0.1.0")), None);
    }
}

/// The side most independent cores take in a disagreement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Majority {
    /// The parties of the majority's class, as the disagreement grouped them.
    pub parties: Vec<String>,
    /// The cores on that side, by label.
    pub cores: Vec<String>,
    /// How many cores answered at all.
    pub of: usize,
    /// Whether the reference is on the majority's side.
    pub with_reference: bool,
}

impl Majority {
    /// `python+java (RS, JVM: 2 of 3 cores)`.
    pub fn text(&self) -> String {
        format!("{} ({}: {} of {} cores)", self.parties.join("+"), self.cores.join(", "), self.cores.len(), self.of)
    }
}

/// The majority of a disagreement's classes (party names grouped by
/// agreement), counted by independent core: only where three or more cores
/// answered and one class holds more than half of them. Parties without a
/// core (the reference) do not vote.
pub fn majority(classes: &[Vec<String>], cores: &[(String, Option<Core>)]) -> Option<Majority> {
    let core_of = |party: &str| cores.iter().find(|(name, _)| name == party).and_then(|(_, core)| *core);
    // The classes each answering core's SDKs sit in.
    let mut seats: std::collections::BTreeMap<Core, Vec<usize>> = std::collections::BTreeMap::new();
    for (index, class) in classes.iter().enumerate() {
        for core in class.iter().filter_map(|party| core_of(party)) {
            let seat = seats.entry(core).or_default();
            if !seat.contains(&index) {
                seat.push(index);
            }
        }
    }
    let of = seats.len();
    if of < 3 {
        return None;
    }
    // A core whose SDKs split across classes speaks for neither.
    let mut votes: Vec<Vec<Core>> = vec![Vec::new(); classes.len()];
    for (core, seat) in &seats {
        if let [only] = seat[..] {
            votes[only].push(*core);
        }
    }
    let (index, winners) = votes.iter().enumerate().max_by_key(|(_, v)| v.len())?;
    (winners.len() * 2 > of).then(|| Majority {
        parties: classes[index].clone(),
        cores: winners.iter().map(|c| c.label().to_owned()).collect(),
        of,
        with_reference: classes[index].iter().any(|p| p == "reference"),
    })
}

#[cfg(test)]
mod majority_tests {
    use super::*;

    fn parties() -> Vec<(String, Option<Core>)> {
        [
            ("reference", None),
            ("python", Some(Core::Rust)),
            ("rust", Some(Core::Rust)),
            ("node", Some(Core::Js)),
            ("java", Some(Core::Jvm)),
            ("python-pure", Some(Core::Python)),
        ]
        .map(|(n, c)| (n.to_owned(), c))
        .to_vec()
    }

    fn classes(groups: &[&[&str]]) -> Vec<Vec<String>> {
        groups.iter().map(|g| g.iter().map(|p| (*p).to_owned()).collect()).collect()
    }

    #[test]
    fn the_majority_is_counted_by_core_not_by_sdk() {
        // RS (two SDKs) against JS, JVM and PY: three cores to one.
        let split = classes(&[&["reference", "python", "rust"], &["node", "java", "python-pure"]]);
        let majority = majority(&split, &parties()).expect("four cores answered");
        assert_eq!(majority.parties, ["node", "java", "python-pure"]);
        assert_eq!((majority.cores.len(), majority.of, majority.with_reference), (3, 4, false));
        // Two cores are not enough to call a majority.
        let few = classes(&[&["reference", "python"], &["node"]]);
        assert_eq!(super::majority(&few, &parties()), None);
        // Two against two is no majority.
        let even = classes(&[&["reference", "python", "node"], &["java", "python-pure"]]);
        assert_eq!(super::majority(&even, &parties()), None);
        // RS split across both sides votes for neither: JS, JVM and PY
        // make three of four.
        let split_core = classes(&[&["reference", "python"], &["rust", "node", "java", "python-pure"]]);
        let majority = super::majority(&split_core, &parties()).expect("four cores answered");
        assert_eq!((majority.cores, majority.of), (vec!["JS".to_owned(), "JVM".into(), "PY".into()], 4));
    }
}
