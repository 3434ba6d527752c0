#!/usr/bin/env bash
# Make sure a Chromium is installed for the browser tests (tests/site/).
#
# `make test` runs this first. The tests prefer Chromium's headless shell, Debian's
# `chromium-headless-shell` package: the same Blink and V8 as the `chromium` browser of
# the same version, without the browser's own layer, for about a fifth less CPU in the
# website's tests (tests/site/website.py says what was measured). A full Chromium or
# Google Chrome works too.
#
# With the headless shell on the PATH this does nothing. With only a full browser, it
# says how to add the shell and carries on. With neither, on a Debian or Ubuntu
# machine, it installs the shell with apt-get (as root, or through sudo when that works
# without a password), or Debian's `chromium` where the shell is not packaged.
# Elsewhere it only says how to install a Chromium; the browser tests are then skipped
# with a message, and everything else still runs. Set CHROMIUM_REQUIRED=1 (as .ci/run
# does) to make a missing browser an error instead.
set -uo pipefail

if command -v chromium-headless-shell >/dev/null 2>&1; then exit 0; fi

for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "The browser tests will use $name. Chromium's headless shell does the same" \
         "work with less CPU: sudo apt-get install chromium-headless-shell" >&2
    exit 0
  fi
done

missing() {
  if [ "${CHROMIUM_REQUIRED:-0}" = "1" ]; then
    echo "Chromium not found, and CHROMIUM_REQUIRED=1. $1" >&2
    exit 1
  fi
  echo "Chromium not found: the browser tests will be skipped. $1" >&2
  exit 0
}

if ! command -v apt-get >/dev/null 2>&1; then
  missing "Install Chromium or Google Chrome with your system's package manager."
fi

sudo=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    missing "Install it with: sudo apt-get install chromium-headless-shell"
  fi
fi

install() {
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1"
}

echo "Installing Debian's chromium-headless-shell package for the browser tests..." >&2
if ! $sudo apt-get update -qq; then
  missing "apt-get could not update its package lists; try: sudo apt-get install chromium-headless-shell"
fi
if ! install chromium-headless-shell; then
  echo "No chromium-headless-shell package here; installing chromium instead..." >&2
  if ! install chromium; then
    missing "apt-get could not install it; try: sudo apt-get install chromium"
  fi
fi
