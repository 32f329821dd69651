#!/usr/bin/env bash
# Set up a virtual environment (once) and run the app or the checks.
#
#   scripts/dev.sh app     set up, then start VSA Desktop
#   scripts/dev.sh test    set up, then run ruff, mypy and the whole test suite
#   scripts/dev.sh setup   only set up
#
# Environment: PYTHON (default python3, 3.11+), VSA_VENV (default .venv),
# VSA_TORCH_INDEX (a pip index URL for the CPU build of torch on machines whose default
# index would pick a CUDA build), VSA_NO_TORCH=1 (skip torch/transformers: the app then
# runs on the built-in lite text model and ONNX models).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VSA_VENV:-.venv}
TORCH_PIN="torch==2.13.0"

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> creating $VENV with $($PYTHON --version)"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp
    stamp="$VENV/.vsa-setup-$(cat pyproject.toml scripts/dev.sh | sha256sum | cut -c1-16)"
    if [ -f "$stamp" ]; then
        return
    fi
    local pip=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
    local extras="dev"
    if [ "${VSA_NO_TORCH:-0}" = "1" ]; then
        extras="test"
    elif ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
        # Pin torch first: an unpinned torch can pull a multi-GB CUDA build.
        echo "==> installing $TORCH_PIN (CPU build)"
        if [ -n "${VSA_TORCH_INDEX:-}" ]; then
            "${pip[@]}" "$TORCH_PIN" --index-url "$VSA_TORCH_INDEX"
        else
            "${pip[@]}" "$TORCH_PIN"
        fi
    fi
    echo "==> installing vsa-desktop[$extras] (editable)"
    "${pip[@]}" -e ".[$extras]" 2>&1 | grep -v "^WARNING: Location" || true
    "$VENV/bin/python" -c "import vsa_desktop.core.pipeline" # fail here if the install failed
    rm -f "$VENV"/.vsa-setup-*
    touch "$stamp"
}

checks() {
    export QT_QPA_PLATFORM=offscreen
    echo "==> ruff"
    "$VENV/bin/ruff" check vsa_desktop tests scripts benchmarks
    "$VENV/bin/ruff" format --check vsa_desktop tests scripts benchmarks
    echo "==> mypy (core)"
    "$VENV/bin/mypy" vsa_desktop/core
    echo "==> pytest"
    "$VENV/bin/python" -m pytest "$@"
}

case "${1:-}" in
    setup) setup ;;
    app) setup; shift; exec "$VENV/bin/vsa-desktop" "$@" ;;
    test) setup; shift; checks "$@" ;;
    *) echo "usage: scripts/dev.sh app|test|setup" >&2; exit 2 ;;
esac
