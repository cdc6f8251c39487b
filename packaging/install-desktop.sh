#!/usr/bin/env bash
# Put TwinViewer in the desktop's menus, file associations and software centre, for this user:
# the desktop entry, the icons, the file types (shared-mime-info) and the AppStream metainfo,
# into ${XDG_DATA_HOME:-~/.local/share}. No root needed. Run it from the unpacked bundle (it
# finds `twinviewer` and `share/` beside itself), or from the repository (packaging/linux/share)
# with --exec pointing at an installed `twinviewer` (e.g. pipx's).
set -euo pipefail

APP_ID="io.github.twinviewer.TwinViewer"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROG="$(basename "$0")"

usage() {
  cat <<EOF
Usage: $PROG [--exec PATH] [--uninstall] [--help]

Installs TwinViewer's desktop integration for the current user (no root) into
\${XDG_DATA_HOME:-\$HOME/.local/share}: the menu entry ($APP_ID.desktop), its icons,
the file types it opens (*.twin.yaml projects, models, simulation results) and the
AppStream metainfo. Running it again updates them.

  --exec PATH   the twinviewer program the menu entry starts (default: the bundle's
                'twinviewer' beside this script; else 'twinviewer' on PATH)
  --uninstall   remove exactly the files this script installs
  -h, --help    show this help
EOF
}

die() {
  echo "$PROG: error: $*" >&2
  exit 1
}

EXEC=""
UNINSTALL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --exec)
      [ $# -ge 2 ] || die "--exec needs a path (see --help)"
      EXEC="$2"
      shift 2
      ;;
    --exec=*)
      EXEC="${1#--exec=}"
      shift
      ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

DATA="${XDG_DATA_HOME:-}"
if [ -z "$DATA" ]; then
  [ -n "${HOME:-}" ] || die "neither XDG_DATA_HOME nor HOME is set"
  DATA="$HOME/.local/share"
fi

# The files this script installs, relative to share/ (the same tree in the bundle and in the
# repository's packaging/linux/share).
SIZES=(16 24 32 48 64 128 256 512)
FILES=(
  "applications/$APP_ID.desktop"
  "mime/packages/$APP_ID.xml"
  "metainfo/$APP_ID.metainfo.xml"
  "icons/hicolor/scalable/apps/$APP_ID.svg"
)
for s in "${SIZES[@]}"; do FILES+=("icons/hicolor/${s}x${s}/apps/$APP_ID.png"); done

# refresh the caches the desktop reads, with whichever tools this system has (quietly)
refresh() {
  if command -v update-mime-database >/dev/null 2>&1 && [ -d "$DATA/mime/packages" ]; then
    update-mime-database "$DATA/mime" >/dev/null 2>&1 || true
  fi
  if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$DATA/applications" ]; then
    update-desktop-database -q "$DATA/applications" >/dev/null 2>&1 || true
  fi
  # only where the user's hicolor theme has an index (a cache without one is ignored anyway)
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$DATA/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t -f "$DATA/icons/hicolor" >/dev/null 2>&1 || true
  fi
}

if [ -n "$UNINSTALL" ]; then
  for f in "${FILES[@]}"; do
    rm -f "$DATA/$f"
  done
  # the MIME database keeps a generated file per type: rebuilding it from the remaining packages
  # drops ours; when ours was the only package, remove the generated database entirely
  if [ -d "$DATA/mime/packages" ] && [ -z "$(ls -A "$DATA/mime/packages")" ]; then
    rm -rf "$DATA/mime"
  fi
  refresh
  # a desktop-file cache of no entries at all is only ours to leave behind
  if [ "$(ls -A "$DATA/applications" 2>/dev/null)" = "mimeinfo.cache" ]; then
    rm -f "$DATA/applications/mimeinfo.cache"
  fi
  # folders we made and left empty (never a folder that holds anything else)
  for f in "${FILES[@]}"; do
    d="$(dirname "$DATA/$f")"
    while [ "$d" != "$DATA" ] && rmdir "$d" 2>/dev/null; do d="$(dirname "$d")"; done
  done
  echo "TwinViewer's desktop integration removed from $DATA"
  exit 0
fi

# the files to install: the bundle's share/, or the repository's packaging/linux/share
SRC=""
for candidate in "$HERE/share" "$HERE/linux/share"; do
  if [ -f "$candidate/applications/$APP_ID.desktop" ]; then SRC="$candidate"; break; fi
done
[ -n "$SRC" ] || die "no share/applications/$APP_ID.desktop beside $HERE: run this script from the unpacked TwinViewer bundle"
for f in "${FILES[@]}"; do
  [ -f "$SRC/$f" ] || die "missing $SRC/$f: the bundle is incomplete"
done

# the program the menu entry starts, as an absolute path
if [ -z "$EXEC" ]; then
  if [ -x "$HERE/twinviewer" ] && [ ! -d "$HERE/twinviewer" ]; then
    EXEC="$HERE/twinviewer"
  elif command -v twinviewer >/dev/null 2>&1; then
    EXEC="$(command -v twinviewer)"
  else
    die "no twinviewer executable beside this script ($HERE/twinviewer) nor on PATH: pass --exec PATH"
  fi
fi
case "$EXEC" in
  /*) ;;
  */*) EXEC="$(cd "$(dirname "$EXEC")" && pwd)/$(basename "$EXEC")" ;;
  *) EXEC="$(command -v "$EXEC" 2>/dev/null)" || die "'$EXEC' is not on PATH: pass --exec PATH" ;;
esac
[ -f "$EXEC" ] && [ -x "$EXEC" ] || die "$EXEC is not an executable file"
# the Exec key: a path of plain characters as it is; one with spaces in double quotes (a literal
# % doubled); the characters that need the desktop entry's backslash escapes are refused
case "$EXEC" in
  *[\\\"\`\$]* | *$'\n'*) die "$EXEC: a path with \\, \", \`, \$ or a newline cannot go in a desktop entry: move the program" ;;
esac
if [[ "$EXEC" =~ ^[A-Za-z0-9_./+-]+$ ]]; then
  EXEC_FIELD="$EXEC"
else
  EXEC_FIELD="\"${EXEC//%/%%}\""
fi

for f in "${FILES[@]}"; do
  install -D -m 0644 "$SRC/$f" "$DATA/$f"
done
# the entry starts this program: Exec and TryExec name it by its absolute path
desktop="$DATA/applications/$APP_ID.desktop"
tmp="$(mktemp "$desktop.XXXXXX")"
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    Exec=twinviewer*) printf 'Exec=%s%s\n' "$EXEC_FIELD" "${line#Exec=twinviewer}" ;;
    TryExec=*) printf 'TryExec=%s\n' "$EXEC" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$SRC/applications/$APP_ID.desktop" >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$desktop"
refresh

echo "TwinViewer's desktop integration installed in $DATA (starts $EXEC)"
echo "It may take a new login for every menu and file manager to show it."
