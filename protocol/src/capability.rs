//! Capabilities an adapter declares in its `hello` answer, and the modes of
//! the `bench` op.
//!
//! Capabilities travel as strings. A string this version does not know is
//! kept as [`Capability::Unknown`] rather than rejected, so that a newer
//! adapter still works with an older harness (which reports what it ignored).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One declared capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// `assign`: flag evaluation returning the typed value.
    Assign,
    /// `details`: flag results carry evaluation details.
    Details,
    /// `events`: results carry the assignment events the logger received.
    Events,
    /// `bandits`: bandit action selection.
    Bandits,
    /// `bandit-details`: bandit results carry details and bandit events.
    BanditDetails,
    /// `bench`: the in-process `bench` op.
    Bench,
    /// `obfuscated`: reads obfuscated (CLIENT) configurations (spec section 6).
    Obfuscated,
    /// `precompute`: the `precompute` op (spec section 7).
    Precompute,
    /// `precomputed-client`: `configure` may carry a `precomputed`
    /// configuration, which then answers `evaluate` through the SDK's
    /// precomputed client (spec section 7).
    PrecomputedClient,
    /// `online`: the `init`, `drainEvents` and `stopClient` ops, which point
    /// the SDK's ordinary client at a base URL (the mock CDN).
    Online,
    /// A capability this version of the protocol does not define.
    Unknown(String),
}

impl Capability {
    /// Every capability this version defines.
    pub const KNOWN: [Capability; 10] = [
        Capability::Assign,
        Capability::Details,
        Capability::Events,
        Capability::Bandits,
        Capability::BanditDetails,
        Capability::Bench,
        Capability::Obfuscated,
        Capability::Precompute,
        Capability::PrecomputedClient,
        Capability::Online,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Capability::Assign => "assign",
            Capability::Details => "details",
            Capability::Events => "events",
            Capability::Bandits => "bandits",
            Capability::BanditDetails => "bandit-details",
            Capability::Bench => "bench",
            Capability::Obfuscated => "obfuscated",
            Capability::Precompute => "precompute",
            Capability::PrecomputedClient => "precomputed-client",
            Capability::Online => "online",
            Capability::Unknown(name) => name,
        }
    }

    /// The capability a wire name stands for.
    pub fn parse(name: &str) -> Capability {
        Capability::KNOWN
            .into_iter()
            .find(|known| known.as_str() == name)
            .unwrap_or_else(|| Capability::Unknown(name.to_owned()))
    }

    /// Whether this version of the protocol defines it.
    pub fn is_known(&self) -> bool {
        !matches!(self, Capability::Unknown(_))
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Capability {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Capability::parse(&name))
    }
}

/// The capabilities one adapter declared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Capabilities(Vec<Capability>);

impl Capabilities {
    /// A set of capabilities, in the order given.
    pub fn new(capabilities: impl IntoIterator<Item = Capability>) -> Capabilities {
        let mut set = Vec::new();
        for capability in capabilities {
            if !set.contains(&capability) {
                set.push(capability);
            }
        }
        Capabilities(set)
    }

    /// Whether `capability` was declared.
    pub fn has(&self, capability: &Capability) -> bool {
        self.0.contains(capability)
    }

    /// The declared capabilities this version does not define, which the
    /// harness ignores (and reports).
    pub fn unknown(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter(|c| !c.is_known()).map(Capability::as_str)
    }

    /// Every declared capability.
    pub fn iter(&self) -> impl Iterator<Item = &Capability> {
        self.0.iter()
    }
}

/// What a `bench` loop does per iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchMode {
    /// Evaluate the flag and build the assignment event.
    Assign,
    /// The same, with evaluation details.
    Details,
    /// Choose a bandit action and build both events.
    Bandit,
}

impl BenchMode {
    /// Every mode, in report order.
    pub const ALL: [BenchMode; 3] = [BenchMode::Assign, BenchMode::Details, BenchMode::Bandit];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BenchMode::Assign => "assign",
            BenchMode::Details => "details",
            BenchMode::Bandit => "bandit",
        }
    }

    /// The capability an adapter needs for this mode, besides `bench`.
    pub fn needs(self) -> Capability {
        match self {
            BenchMode::Assign => Capability::Assign,
            BenchMode::Details => Capability::Details,
            BenchMode::Bandit => Capability::Bandits,
        }
    }
}

impl fmt::Display for BenchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_round_trip_and_unknown_ones_are_kept() {
        for capability in Capability::KNOWN {
            let json = serde_json::to_string(&capability).unwrap();
            assert_eq!(serde_json::from_str::<Capability>(&json).unwrap(), capability);
        }
        let declared: Capabilities = serde_json::from_str(r#"["assign", "teleport", "assign"]"#).unwrap();
        assert!(declared.has(&Capability::Assign));
        assert!(!declared.has(&Capability::Details));
        assert_eq!(declared.unknown().collect::<Vec<_>>(), ["teleport"]);
    }

    #[test]
    fn bench_modes_use_their_wire_names() {
        assert_eq!(serde_json::to_string(&BenchMode::Details).unwrap(), "\"details\"");
        assert!(serde_json::from_str::<BenchMode>("\"warp\"").is_err());
    }
}
