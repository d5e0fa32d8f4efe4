#!/usr/bin/env bash
# Reproduces src/parkbrain/web/static/vendor/ from the npm registry (pinned versions).
# The copies are committed: installs and the running console need neither npm nor the internet.
# Usage: scripts/vendor_web.sh   (needs npm; run from anywhere)
set -euo pipefail

LEAFLET_VERSION="1.9.4"
ECHARTS_VERSION="5.6.0"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/src/parkbrain/web/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "leaflet@$LEAFLET_VERSION" "echarts@$ECHARTS_VERSION" >/dev/null
mkdir leaflet echarts
tar xzf "leaflet-$LEAFLET_VERSION.tgz" -C leaflet --strip-components=1
tar xzf "echarts-$ECHARTS_VERSION.tgz" -C echarts --strip-components=1

rm -rf "$DEST/leaflet" "$DEST/echarts"
mkdir -p "$DEST/leaflet/images" "$DEST/echarts"
cp leaflet/dist/leaflet.js leaflet/dist/leaflet.css leaflet/LICENSE "$DEST/leaflet/"
cp leaflet/dist/images/*.png "$DEST/leaflet/images/"
cp echarts/dist/echarts.min.js echarts/LICENSE echarts/NOTICE "$DEST/echarts/"
echo "vendored leaflet $LEAFLET_VERSION and echarts $ECHARTS_VERSION into $DEST"
