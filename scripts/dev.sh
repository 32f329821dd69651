#!/usr/bin/env bash
# Set up a virtual environment (once) and run the app or the checks.
#
#   scripts/dev.sh app     set up, then start VSA Desktop
#   scripts/dev.sh test    set up, then run ruff, mypy and the whole test suite
#   scripts/dev.sh setup   only set up
#   scripts/dev.sh qt-check  say which system libraries Qt's window (xcb) needs, if any
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

# Shared libraries Qt's xcb platform plugin links to, and the packages that ship them.
# soname : Debian/Ubuntu package : Fedora package
QT_XCB_PACKAGES="
libxcb-cursor.so.0:libxcb-cursor0:xcb-util-cursor
libxcb-icccm.so.4:libxcb-icccm4:xcb-util-wm
libxcb-keysyms.so.1:libxcb-keysyms1:xcb-util-keysyms
libxcb-image.so.0:libxcb-image0:xcb-util-image
libxcb-render-util.so.0:libxcb-render-util0:xcb-util-renderutil
libxcb-util.so.1:libxcb-util1:xcb-util
libxcb-xkb.so.1:libxcb-xkb1:libxcb
libxcb-shape.so.0:libxcb-shape0:libxcb
libxcb-randr.so.0:libxcb-randr0:libxcb
libxcb-render.so.0:libxcb-render0:libxcb
libxcb-shm.so.0:libxcb-shm0:libxcb
libxcb-sync.so.1:libxcb-sync1:libxcb
libxcb-xfixes.so.0:libxcb-xfixes0:libxcb
libxcb-xinerama.so.0:libxcb-xinerama0:libxcb
libxcb-xinput.so.0:libxcb-xinput0:libxcb
libxcb-glx.so.0:libxcb-glx0:libxcb
libxcb.so.1:libxcb1:libxcb
libxkbcommon-x11.so.0:libxkbcommon-x11-0:libxkbcommon-x11
libxkbcommon.so.0:libxkbcommon0:libxkbcommon
libX11-xcb.so.1:libx11-xcb1:libX11-xcb
libX11.so.6:libx11-6:libX11
libSM.so.6:libsm6:libSM
libICE.so.6:libice6:libICE
libfontconfig.so.1:libfontconfig1:fontconfig
libfreetype.so.6:libfreetype6:freetype
libdbus-1.so.3:libdbus-1-3:dbus-libs
libglib-2.0.so.0:libglib2.0-0:glib2
libGL.so.1:libgl1:libglvnd-glx
libEGL.so.1:libegl1:libglvnd-egl
libOpenGL.so.0:libopengl0:libglvnd-opengl
"

# Before the window starts: when Qt's xcb plugin cannot load, print the one command that
# installs what is missing (instead of Qt's "could not load the Qt platform plugin" text).
qt_check() {
    case "$(uname -s)" in Linux) ;; *) return 0 ;; esac # macOS, Windows: Qt brings its own
    case "${QT_QPA_PLATFORM:-xcb}" in xcb*) ;; *) return 0 ;; esac # offscreen, wayland, ...
    command -v ldd >/dev/null || return 0
    local plugin qpa
    plugin=$(ls "$VENV"/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so 2>/dev/null | head -n 1 || true)
    [ -n "$plugin" ] || return 0
    qpa="$(dirname "$plugin")/../../lib/libQt6XcbQpa.so.6"
    local missing
    missing=$(ldd "$plugin" "$qpa" 2>/dev/null | awk '/=> not found/ {print $1}' || true)
    # Qt 6.5+ loads libxcb-cursor at run time (dlopen): ldd cannot see that one.
    if command -v ldconfig >/dev/null && ! ldconfig -p 2>/dev/null | grep -q "libxcb-cursor.so.0 "; then
        missing="$missing libxcb-cursor.so.0"
    fi
    missing=$(echo "$missing" | tr ' ' '\n' | { grep -v '^$' || true; } | sort -u)
    [ -n "$missing" ] || return 0
    local os_release="${VSA_OS_RELEASE:-/etc/os-release}" family="" id="" like=""
    if [ -r "$os_release" ]; then
        id=$(. "$os_release" && echo "${ID:-}")
        like=$(. "$os_release" && echo "${ID_LIKE:-}")
    fi
    case " $id $like " in
        *" debian "* | *" ubuntu "*) family=debian ;;
        *" fedora "* | *" rhel "* | *" centos "*) family=fedora ;;
    esac
    local debian="" fedora="" unknown="" soname entry
    for soname in $missing; do
        entry=$(printf '%s\n' "$QT_XCB_PACKAGES" | grep -F "$soname:" | head -n 1 || true)
        if [ -z "$entry" ]; then
            unknown="$unknown $soname"
            continue
        fi
        debian="$debian $(echo "$entry" | cut -d: -f2)"
        fedora="$fedora $(echo "$entry" | cut -d: -f3)"
    done
    debian=$(echo "$debian" | tr ' ' '\n' | sort -u | xargs)
    fedora=$(echo "$fedora" | tr ' ' '\n' | sort -u | xargs)
    local sudo="sudo "
    [ "$(id -u)" = "0" ] && sudo=""
    {
        echo "VSA Desktop cannot open its window: Qt needs system libraries that are missing"
        echo "($(echo "$missing" | xargs | sed 's/ /, /g')). Install them with:"
        case "$family" in
            debian) echo "    ${sudo}apt-get install -y $debian" ;;
            fedora) echo "    ${sudo}dnf install -y $fedora" ;;
            *)
                echo "    ${sudo}apt-get install -y $debian      # Debian, Ubuntu"
                echo "    ${sudo}dnf install -y $fedora      # Fedora"
                ;;
        esac
        [ -z "$unknown" ] || echo "(also missing, package unknown:$unknown)"
    } >&2
    return 1
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
    app) setup; shift; qt_check || exit 1; exec "$VENV/bin/vsa-desktop" "$@" ;;
    qt-check) qt_check ;;
    test) setup; shift; checks "$@" ;;
    *) echo "usage: scripts/dev.sh app|test|setup|qt-check" >&2; exit 2 ;;
esac
