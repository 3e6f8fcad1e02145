#!/usr/bin/env bash
# Renders an mcl-ref HTML report to a PNG with headless Chromium, to look at it as a browser shows
# it (and for the picture in README.md). Needs chromium (Debian: apt-get install -y chromium).
#
#   scripts/render_report.sh report.html report.png [WIDTH] [HEIGHT]
#
# The page is loaded from disk with the network disabled (the report must not need it). WIDTH and
# HEIGHT are the window in CSS pixels (default 1040×2400); the PNG is the window, not the whole page,
# so choose HEIGHT to cover what you want to see. Written atomically (temporary file, then renamed).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH] [HEIGHT]" >&2
    exit 2
fi
html="$1" png="$2" width="${3:-1040}" height="${4:-2400}"
[ -f "$html" ] || { echo "$0: $html: no such file" >&2; exit 2; }
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "$0: chromium not found (Debian: apt-get install -y chromium)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$tmp/profile" --proxy-server="127.0.0.1:9" --proxy-bypass-list="<-loopback>" \
    --window-size="$width,$height" --screenshot="$tmp/shot.png" "$url" >"$tmp/log" 2>&1 || {
    cat "$tmp/log" >&2
    exit 1
}
[ -s "$tmp/shot.png" ] || { echo "$0: chromium wrote no screenshot" >&2; cat "$tmp/log" >&2; exit 1; }
mv "$tmp/shot.png" "$png"
echo "wrote $png (${width}x${height})" >&2
