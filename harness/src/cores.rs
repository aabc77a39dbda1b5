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
