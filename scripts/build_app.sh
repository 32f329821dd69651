#!/usr/bin/env bash
# Build the one-folder desktop app with PyInstaller, then self-test it from the built folder
# in a clean environment (no Python on PATH, a throwaway VSA_HOME, no network needed).
#
#   scripts/build_app.sh                 # dist/vsa-desktop/{vsa-desktop,vsa,_internal/}
#   VSA_BUNDLE_TORCH=1 scripts/build_app.sh   # with torch + transformers (much bigger)
#   PYTHON=/path/to/python scripts/build_app.sh
#   CLEAN=1 scripts/build_app.sh         # empty PyInstaller's caches first (slower)
#
# Exit status: non-zero when the build or the self-test fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DIST="$ROOT/dist/vsa-desktop"
cd "$ROOT"

if [[ ! -f resources/models/text-lite/model.npz ]]; then
    echo "build_app: resources/models/text-lite/model.npz is missing; the bundle needs it." >&2
    exit 1
fi

if [[ ! -x "$PYTHON" ]]; then
    echo "== setting up .venv first (scripts/dev.sh setup)"
    bash scripts/dev.sh setup
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "== installing PyInstaller (the [build] extra)"
    "$PYTHON" -m pip install --disable-pip-version-check -q -e ".[build]"
fi

started=$(date +%s)
"$PYTHON" -m PyInstaller build.spec --noconfirm --log-level WARN ${CLEAN:+--clean}
built=$(date +%s)

scratch="$(mktemp -d "${TMPDIR:-/tmp}/vsa-build-selftest.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/vsa-home"

run_clean() {
    # Only HOME, a temporary VSA_HOME, the offscreen Qt platform and the system PATH.
    env -i HOME="$scratch/home" VSA_HOME="$scratch/vsa-home" QT_QPA_PLATFORM=offscreen \
        PATH=/usr/bin:/bin "$@"
}

status=0
echo "== vsa self-test (built folder, clean environment)"
run_clean "$DIST/vsa" self-test || status=1
echo "== vsa-desktop --self-test (built folder, clean environment)"
run_clean "$DIST/vsa-desktop" --self-test || status=1
echo "== vsa-desktop launch to first window (offscreen; seconds from exec to the Show event)"
run_clean VSA_LAUNCH_T0="$(date +%s.%N)" "$DIST/vsa-desktop" --quit-after-show --no-warmup \
    || status=1

echo "== summary"
echo "build time: $((built - started)) s"
echo "folder size: $(du -sh "$DIST" | cut -f1) ($(du -sb "$DIST" | cut -f1) bytes) in $DIST"
if [[ $status -ne 0 ]]; then
    echo "build_app: the self-test of the built folder FAILED" >&2
fi
exit $status
