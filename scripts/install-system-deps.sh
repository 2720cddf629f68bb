#!/usr/bin/env bash
# System programs the render path needs, from the distribution's packages:
# - headless Chromium prints the report to PDF when no quarto binary is on PATH (Quarto typesets
#   the PDF itself with Typst, so with Quarto it is not needed);
# - with --for-tests, pdftoppm (poppler-utils), with which the tests look at the PDF's pages.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
if ! have quarto && ! have chromium && ! have chromium-browser && ! have google-chrome; then
    missing+=(chromium)
fi
if [ "${1:-}" = "--for-tests" ] && ! have pdftoppm; then
    missing+=(poppler-utils)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! have apt-get; then
    echo "install-system-deps: please install ${missing[*]} with your package manager" >&2
    echo "  (or install Quarto, which typesets the PDF without Chromium)" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-system-deps: installing ${missing[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
