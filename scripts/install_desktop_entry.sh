#!/usr/bin/env bash
# Install (or remove) the VSA Desktop menu entry and icons for the current user (Linux).
#
#   scripts/install_desktop_entry.sh                      # ~/.local/share/{applications,icons}
#   scripts/install_desktop_entry.sh --exec /opt/vsa-desktop/vsa-desktop
#   scripts/install_desktop_entry.sh --prefix /usr/local  # system-wide (run as root)
#   DESTDIR=/tmp/stage scripts/install_desktop_entry.sh --prefix /usr   # packaging / tests
#   scripts/install_desktop_entry.sh --uninstall
#
# The entry's Exec= is the built app (dist/vsa-desktop/vsa-desktop) when it exists, else the
# `vsa-desktop` command on PATH (a pip install); --exec overrides both.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP_ID="vsa-desktop"
SIZES=(16 24 32 48 64 128 256)
PREFIX="$HOME/.local"
EXEC=""
UNINSTALL=0

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
        --exec) EXEC="${2:?--exec needs a path}"; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install_desktop_entry: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

SHARE="${DESTDIR:-}$PREFIX/share"
APPS="$SHARE/applications"
ICONS="$SHARE/icons/hicolor"

if [[ $UNINSTALL -eq 1 ]]; then
    rm -f "$APPS/$APP_ID.desktop" "$ICONS/scalable/apps/$APP_ID.svg"
    for size in "${SIZES[@]}"; do rm -f "$ICONS/${size}x${size}/apps/$APP_ID.png"; done
    echo "removed the $APP_ID menu entry and icons from $SHARE"
    exit 0
fi

if [[ -z "$EXEC" ]]; then
    if [[ -x "$ROOT/dist/vsa-desktop/vsa-desktop" ]]; then
        EXEC="$ROOT/dist/vsa-desktop/vsa-desktop"
    else
        EXEC="vsa-desktop"
    fi
fi

# Desktop Entry Exec= quoting: wrap in double quotes, escape " ` $ and \ inside.
quote_exec() {
    local value="$1"
    if [[ "$value" =~ [[:space:]\"\`\$\\] ]]; then
        value="${value//\\/\\\\\\\\}"
        value="${value//\"/\\\\\"}"
        value="${value//\`/\\\\\`}"
        value="${value//\$/\\\\\$}"
        value="\"$value\""
    fi
    printf '%s' "$value"
}

mkdir -p "$APPS" "$ICONS/scalable/apps"
exec_value="$(quote_exec "$EXEC")"
while IFS= read -r line; do
    case "$line" in
        Exec=*) printf 'Exec=%s\n' "$exec_value" ;;
        TryExec=*) printf 'TryExec=%s\n' "$EXEC" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$ROOT/packaging/linux/$APP_ID.desktop" > "$APPS/$APP_ID.desktop"
chmod 644 "$APPS/$APP_ID.desktop"

for size in "${SIZES[@]}"; do
    install -D -m 644 "$ROOT/resources/icons/$APP_ID-$size.png" \
        "$ICONS/${size}x${size}/apps/$APP_ID.png"
done
install -D -m 644 "$ROOT/resources/icons/$APP_ID.svg" "$ICONS/scalable/apps/$APP_ID.svg"

if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$APPS/$APP_ID.desktop"
fi
if [[ -z "${DESTDIR:-}" ]]; then  # caches belong to the target system when staging
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$APPS" || true
    command -v gtk-update-icon-cache >/dev/null \
        && gtk-update-icon-cache -q -t -f "$SHARE/icons/hicolor" 2>/dev/null || true
fi
echo "installed $APPS/$APP_ID.desktop (Exec=$exec_value) and icons in $ICONS"
