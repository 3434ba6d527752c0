#!/usr/bin/env bash
# Make sure a Chromium is installed for the browser tests (tests/test_website.py).
#
# `make test` runs this first. With Chromium already on the PATH it does nothing. On a
# Debian or Ubuntu machine it installs Debian's `chromium` package with apt-get (as root,
# or through sudo when that works without a password). Elsewhere it only says how to
# install a Chromium; the browser tests are then skipped with a message, and everything
# else still runs. Set CHROMIUM_REQUIRED=1 (as .ci/run does) to make a missing browser
# an error instead.
set -uo pipefail

for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then exit 0; fi
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
    missing "Install it with: sudo apt-get install chromium"
  fi
fi

echo "Installing Debian's chromium package for the browser tests..." >&2
if ! { $sudo apt-get update -qq &&
       DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; }; then
  missing "apt-get could not install it; try: sudo apt-get install chromium"
fi
