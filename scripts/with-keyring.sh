#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked
# gnome-keyring, so tests talk to a real Secret Service (the OS keyring on
# Linux desktops). SECUREKAPI_REQUIRE_KEYRING=1 tells tests that a missing
# keyring is a failure, not a reason to skip.
#
# Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ "${1:-}" != "--inside" ]; then
  for bin in dbus-run-session gnome-keyring-daemon; do
    command -v "$bin" >/dev/null || { echo "with-keyring: $bin missing: apt-get install -y gnome-keyring dbus-x11 libsecret-tools" >&2; exit 1; }
  done
  exec dbus-run-session -- "$0" --inside "$@"
fi
shift
# A private data dir: gnome-keyring keeps its keyrings under
# $XDG_DATA_HOME/keyrings, and a user's existing login keyring (with another
# password) would make the unlock below fail. The rest of HOME (Go caches,
# tools) stays as it is.
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home"
# The daemon prints GNOME_KEYRING_CONTROL=...; the secrets component is
# reached through the session bus this script runs in.
eval "$(printf 'securekapi-test' | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
export SECUREKAPI_REQUIRE_KEYRING=1
"$@"
