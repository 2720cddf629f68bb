#!/usr/bin/env bash
# Headless Chromium prints the report to PDF when no quarto binary is on PATH; pdftoppm
# (poppler-utils) lets the tests look at the PDF. Both come from the distribution's packages.
set -euo pipefail

find_browser() {
    for name in chromium chromium-browser google-chrome google-chrome-stable; do
        command -v "$name" >/dev/null 2>&1 && return 0
    done
    return 1
}

missing=()
find_browser || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v quarto >/dev/null 2>&1 && [ "${missing[*]}" = "poppler-utils" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: please install ${missing[*]} with your package manager" >&2
    echo "  (or install Quarto, which typesets the PDF itself)" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-system-deps: installing ${missing[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
