#!/usr/bin/env bash
# Set up the Rust SDK adapter in DEST: `cargo build --release --locked` with
# its target directory in DEST/target, and DEST/run. Cargo's own freshness
# check makes a second run quick, and rebuilds when the adapter or the
# `ufc-protocol` crate it depends on (../../../protocol) changed.
# Usage: install.sh DEST [VERSION] | install.sh --list-versions
# With VERSION (any eppo release from 3.0.0), the same sources build against
# that release instead of the pin (see below).
set -euo pipefail

if [[ "${1:-}" == "--list-versions" ]]; then
    # Every release crates.io serves, one per line (yanked ones left out):
    # cargo resolves a throwaway `eppo = "*"` manifest, which refreshes its
    # cached index entry for the crate, and that entry lists every release.
    probe=$(mktemp -d)
    trap 'rm -rf "$probe"' EXIT
    mkdir "$probe/src" && touch "$probe/src/lib.rs"
    printf '[package]\nname = "probe"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[dependencies]\neppo = "*"\n' \
        > "$probe/Cargo.toml"
    cargo generate-lockfile --quiet --manifest-path "$probe/Cargo.toml" >&2
    python3 - "${CARGO_HOME:-$HOME/.cargo}"/registry/index/*/.cache/ep/po/eppo <<'PY'
import json, sys
versions = set()
for path in sys.argv[1:]:
    # The cache holds the index lines NUL-separated, after a short header.
    for part in open(path, "rb").read().split(b"\0"):
        try:
            release = json.loads(part)
        except ValueError:
            continue
        if isinstance(release, dict) and release.get("name") == "eppo" and not release.get("yanked"):
            versions.add(release["vers"])
print("\n".join(sorted(versions, key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")])))
PY
    exit 0
fi

DEST=${1:?usage: install.sh DEST [VERSION]}
VERSION=${2:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)

PINNED=$(sed -n 's/^eppo = "=\(.*\)"$/\1/p' "$HERE/Cargo.toml")
if [[ -z "$VERSION" ]]; then
    BIN="$DEST/target/release/ufc-adapter-rust"
    stamp() { [[ -x "$BIN" ]] && stat -c %Y "$BIN" || echo none; }
    before=$(stamp)
    echo "rust adapter: cargo build --release --locked (target dir $DEST/target)" >&2
    cargo build --release --locked --quiet \
        --manifest-path "$HERE/Cargo.toml" --target-dir "$DEST/target" >&2
    if [[ "$before" != none && "$before" == "$(stamp)" ]]; then
        echo "rust adapter: binary up to date ($BIN)" >&2
    fi
else
    major=${VERSION%%.*}
    if ! [[ "$major" =~ ^[0-9]+$ ]] || (( major < 3 )); then
        echo "rust adapter: eppo $VERSION predates the UFC client (3.0.0) the adapter drives" >&2
        exit 1
    fi
    # Another release: a manifest of its own in DEST/crate that builds the
    # same sources against eppo =VERSION and the eppo_core that release
    # pins (read back from the lockfile cargo resolves), with the
    # dependencies resolved that day. Every version shares one target
    # directory beside DEST, so what they have in common builds once; the
    # package is named after the version, because cargo hashes a path
    # package by its name, not its folder, and two versions' adapters (and
    # build-script outputs) must not share one build.
    CRATE="$DEST/crate"
    BIN="$DEST/bin/ufc-adapter-rust"
    mkdir -p "$CRATE" "$DEST/bin"
    manifest() {
        cat <<TOML
# Written by $HERE/install.sh for eppo $VERSION.
[package]
name = "ufc-adapter-rust-at-${VERSION//[^A-Za-z0-9]/-}"
version = "0.1.0"
edition = "2021"
publish = false
build = "$HERE/build.rs"

[[bin]]
name = "ufc-adapter-rust"
path = "$HERE/src/main.rs"

[workspace]

[dependencies]
eppo = "=$VERSION"
$1
chrono = { version = "0.4", default-features = false, features = ["clock"] }
serde = "1"
serde_json = "1"
ufc-protocol = { path = "$HERE/../../../protocol" }

[profile.release]
debug = "line-tables-only"
TOML
    }
    if [[ "$VERSION" == "$PINNED" ]]; then
        # The pin by number: the committed lockfile, so the same build.
        cp "$HERE/Cargo.lock" "$CRATE/Cargo.lock"
    elif [[ ! -f "$CRATE/Cargo.lock" ]] || ! grep -q "^eppo = \"=$VERSION\"" "$CRATE/Cargo.toml" 2>/dev/null; then
        rm -f "$CRATE/Cargo.lock"
        manifest "" > "$CRATE/Cargo.toml"
        cargo generate-lockfile --quiet --manifest-path "$CRATE/Cargo.toml" >&2 \
            || { echo "rust adapter: crates.io has no eppo $VERSION (or it does not resolve)" >&2; exit 1; }
    fi
    core=$(grep -A1 '^name = "eppo_core"$' "$CRATE/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')
    [[ -n "$core" ]] || { echo "rust adapter: eppo $VERSION resolves no eppo_core" >&2; exit 1; }
    manifest "eppo_core = \"=$core\"" > "$CRATE/Cargo.toml.new"
    cmp -s "$CRATE/Cargo.toml.new" "$CRATE/Cargo.toml" && rm "$CRATE/Cargo.toml.new" || mv "$CRATE/Cargo.toml.new" "$CRATE/Cargo.toml"
    SHARED_TARGET=$(dirname "$DEST")/rust-versions-target
    echo "rust adapter: cargo build --release for eppo $VERSION (eppo_core $core; target dir $SHARED_TARGET)" >&2
    log="$DEST/build.log"
    if ! cargo build --release --quiet --manifest-path "$CRATE/Cargo.toml" --target-dir "$SHARED_TARGET" 2> "$log"; then
        cat "$log" >&2
        first=$(grep -m1 '^error' "$log" || true)
        echo "rust adapter: eppo $VERSION lacks an API the adapter calls: ${first:-see the build output above}" >&2
        exit 1
    fi
    cp "$SHARED_TARGET/release/ufc-adapter-rust" "$BIN.new" && mv "$BIN.new" "$BIN"
fi

cat > "$DEST/run" <<RUN
#!/bin/sh
# Generated by $HERE/install.sh: starts the Rust SDK adapter.
exec "$BIN" "\$@"
RUN
chmod +x "$DEST/run"
echo "rust adapter: ready: $DEST/run" >&2
