#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is on PATH, as the HTML report's
# rendering test needs it. Where none is found it installs Debian's
# chromium package when run as root; otherwise it prints the install
# command and exits 2. It says what it found or did.
set -euo pipefail

find_chromium() {
	local name
	for name in chromium chromium-browser; do
		command -v "$name" 2>/dev/null && return 0
	done
	return 1
}

if bin=$(find_chromium); then
	echo "chromium: found $bin ($("$bin" --version 2>/dev/null | head -n1))"
	exit 0
fi

install_cmd="apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core"
if [ "$(id -u)" != 0 ]; then
	echo "chromium: not found on PATH. Install it with:" >&2
	echo "    sudo sh -c '$install_cmd'" >&2
	exit 2
fi

echo "chromium: not found; installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
bin=$(find_chromium) || { echo "chromium: install finished but no chromium on PATH" >&2; exit 2; }
echo "chromium: installed $bin ($("$bin" --version 2>/dev/null | head -n1))"
