#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked
# gnome-keyring, so tests talk to a real Secret Service (the OS keyring on
# Linux desktops). SECUREKAPI_REQUIRE_KEYRING=1 tells tests that a missing
# keyring is a failure, not a reason to skip.
#
# Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ "${1:-}" != "--inside" ]; then
  for bin in dbus-run-session dbus-send gnome-keyring-daemon; do
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
# The daemon runs in the foreground, as this script's child, so that its
# warnings land in a log (SECUREKAPI_KEYRING_LOG) the tests can quote, and
# are printed below when the command fails. The secrets component is reached
# through the session bus this script runs in, once it owns its name.
export SECUREKAPI_KEYRING_LOG="$keyring_home/gnome-keyring.log"
printf 'securekapi-test' | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>"$SECUREKAPI_KEYRING_LOG" &
daemon=$!
# The trap must not fail: under set -e a failing kill (the daemon already
# gone) would replace the command's exit code.
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$keyring_home"' EXIT
# Ready means our daemon owns the name and lists the login collection
# (unlocked by --unlock). Asking NameHasOwner starts nothing; a Secret
# Service call before that would D-Bus-activate a second, locked daemon.
login_listed() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' &&
    dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
      org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Service string:Collections 2>/dev/null |
    grep -q '/org/freedesktop/secrets/collection/login'
}
ready=
for _ in $(seq 100); do
  if login_listed; then
    ready=1
    break
  fi
  kill -0 "$daemon" 2>/dev/null || { echo "with-keyring: gnome-keyring-daemon exited:" >&2; cat "$SECUREKAPI_KEYRING_LOG" >&2; exit 1; }
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "with-keyring: gnome-keyring-daemon did not list the login collection within 10 s:" >&2
  cat "$SECUREKAPI_KEYRING_LOG" >&2
  exit 1
fi
export SECUREKAPI_REQUIRE_KEYRING=1
rc=0
"$@" || rc=$?
if [ "$rc" != 0 ] && [ -s "$SECUREKAPI_KEYRING_LOG" ]; then
  echo "with-keyring: the command failed (exit $rc); gnome-keyring-daemon logged:" >&2
  tail -n 50 "$SECUREKAPI_KEYRING_LOG" >&2
fi
exit "$rc"
