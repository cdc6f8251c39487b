#!/usr/bin/env bash
# Make dist/twinviewer_VERSION_amd64.deb from the bundle folder that packaging/build-bundle.sh
# made, and try it: install it with apt-get, run /usr/bin/twinviewer, remove it.
#
# The package: /opt/twinviewer (the bundle), /usr/bin/twinviewer (a link to it), the desktop
# integration under /usr/share (menu entry, icons, file types, AppStream metainfo; dpkg's
# triggers of desktop-file-utils, shared-mime-info and hicolor-icon-theme refresh their caches,
# so there are no maintainer scripts). Depends: the packages of the system libraries the bundle
# links (found with ldd and dpkg -S when it is built) and those it opens at run time (OpenGL,
# EGL, Pango for PDF reports, fonts).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG="$(basename "$0")"
APP_ID="io.github.twinviewer.TwinViewer"

usage() {
  cat <<EOF
Usage: $PROG [--bundle DIR] [--skip-test] [--help]

Packs the bundle folder (default: build/bundle/stage/TwinViewer-VERSION, made by
packaging/build-bundle.sh) as dist/twinviewer_VERSION_ARCH.deb, then tests it (unless
--skip-test): dpkg-deb --info/--contents, lintian if installed, and, as root, apt-get install
of the package, /usr/bin/twinviewer check and demo mine --render, apt-get remove.
EOF
}

die() {
  echo "$PROG: error: $*" >&2
  exit 1
}

BUNDLE=""
TEST=1
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle)
      [ $# -ge 2 ] || die "--bundle needs a folder (see --help)"
      BUNDLE="$2"
      shift 2
      ;;
    --bundle=*) BUNDLE="${1#--bundle=}"; shift ;;
    --skip-test) TEST=""; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

command -v dpkg-deb >/dev/null || die "dpkg-deb is not installed (this script makes Debian packages, on Debian or Ubuntu)"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/twinviewer/__init__.py")"
[ -n "$VERSION" ] || die "no __version__ = \"...\" line in $ROOT/twinviewer/__init__.py"
BUNDLE="${BUNDLE:-$ROOT/build/bundle/stage/TwinViewer-$VERSION}"
[ -x "$BUNDLE/twinviewer" ] && [ -d "$BUNDLE/_internal" ] \
  || die "$BUNDLE is not a TwinViewer bundle (no twinviewer and _internal/ in it): run packaging/build-bundle.sh first"
ARCH="$(dpkg --print-architecture)"
DEB="$ROOT/dist/twinviewer_${VERSION}_${ARCH}.deb"
PKG="$ROOT/build/deb/root"
T0=$(date +%s.%N)

echo "== twinviewer $VERSION .deb from $BUNDLE"
rm -rf "$ROOT/build/deb"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/doc/twinviewer" "$ROOT/dist"
cp -a "$BUNDLE" "$PKG/opt/twinviewer"
# system-wide, the desktop files go to /usr/share (below); the per-user installer is not needed
rm -rf "$PKG/opt/twinviewer/share" "$PKG/opt/twinviewer/install-desktop.sh"
ln -s /opt/twinviewer/twinviewer "$PKG/usr/bin/twinviewer"
SHARE="$BUNDLE/share"
[ -d "$SHARE" ] || SHARE="$ROOT/packaging/linux/share"
if [ -d "$SHARE" ]; then
  for d in applications icons mime metainfo; do
    [ -d "$SHARE/$d" ] && cp -r "$SHARE/$d" "$PKG/usr/share/$d"
  done
else
  echo "   (no desktop files: neither $BUNDLE/share nor packaging/linux/share)"
fi
cp "$ROOT/LICENSE" "$PKG/usr/share/doc/twinviewer/copyright"

# Depends, part 1: the packages of the libraries the bundle links from the system. ldd runs
# with the bundle's own folders first, as the bundle's loader sees them; what resolves outside
# the bundle is looked up with dpkg -S.
libdirs="$(find "$BUNDLE/_internal" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)"
mapfile -t system_libs < <(
  find "$BUNDLE" -type f \( -name '*.so*' -o -name twinviewer \) -print0 \
    | LD_LIBRARY_PATH="$libdirs" xargs -0 ldd 2>/dev/null \
    | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | grep -v "^$BUNDLE/" | sort -u
)
linked=()
unowned=()
for lib in "${system_libs[@]}"; do
  pkg="$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)" \
    || pkg="$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)" || pkg=""
  if [ -n "$pkg" ]; then linked+=("$pkg"); else unowned+=("$lib"); fi
done
[ "${#unowned[@]}" -eq 0 ] || echo "   libraries the bundle links that no package owns here: ${unowned[*]}"
# Depends, part 2: what the bundle opens at run time by name (dlopen), invisible to ldd: OpenGL
# and EGL (VTK's render windows, Qt's xcb GL integration), Mesa's drivers (software rendering
# where there is no GPU driver), Pango (WeasyPrint's PDF reports), fontconfig and a font.
opened=(libgl1 libegl1 libgl1-mesa-dri libpango-1.0-0 libpangoft2-1.0-0 libfontconfig1 fonts-dejavu-core)
DEPENDS="$(printf '%s\n' "${linked[@]}" "${opened[@]}" | sort -u | paste -sd, | sed 's/,/, /g')"

INSTALLED_KB="$(du -sk "$PKG" | cut -f1)"
cat >"$PKG/DEBIAN/control" <<EOF
Package: twinviewer
Version: $VERSION
Architecture: $ARCH
Maintainer: TwinViewer developers <twinviewer@users.noreply.github.com>
Installed-Size: $INSTALLED_KB
Depends: $DEPENDS
Section: graphics
Priority: optional
Homepage: https://github.com/twinviewer/twinviewer
Description: desktop viewer for industrial digital twins
 TwinViewer shows 3D models of plants, machines and vehicles coloured by live
 sensor data (MQTT, OPC UA, Sparkplug B), with alarms, history, replays,
 simulation results, predictions and review reports.
 .
 This package is the self-contained bundle (its own Python, Qt and VTK) in
 /opt/twinviewer, with /usr/bin/twinviewer and the desktop integration.
EOF

rm -f "$DEB"
# xz level 1: ten times faster than dpkg-deb's default (6) on this 1.3 GB tree, ~10% bigger
dpkg-deb --build --root-owner-group -Zxz -z1 "$PKG" "$DEB" >/dev/null
echo "   $(basename "$DEB"): $(du -h "$DEB" | cut -f1), installed $((INSTALLED_KB / 1024)) MiB; built in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
echo "   Depends: $DEPENDS"

[ -n "$TEST" ] || exit 0

# --- try it ------------------------------------------------------------------------------------
dpkg-deb --info "$DEB" >/dev/null || die "dpkg-deb cannot read $DEB"
dpkg-deb --contents "$DEB" | grep -q " ./usr/bin/twinviewer -> /opt/twinviewer/twinviewer" \
  || die "$DEB has no /usr/bin/twinviewer link"
if command -v lintian >/dev/null; then
  echo "-- lintian (not required to be clean):"
  lintian --no-tag-display-limit "$DEB" 2>&1 | sed 's/^/   /' | head -40 || true
else
  echo "   (lintian is not installed: not run)"
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "   (not root: the package was not installed and tried)"
  exit 0
fi
if dpkg-query -W -f='${Status}' twinviewer 2>/dev/null | grep -q "install ok installed"; then
  die "a twinviewer package is already installed here; remove it first (apt-get remove twinviewer)"
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/twinviewer-deb.XXXXXX")"
cleanup() {
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq twinviewer >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
echo "-- apt-get install $DEB"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB" >"$TMP/apt.log" 2>&1 \
  || { tail -20 "$TMP/apt.log"; die "apt-get could not install $DEB"; }
run() { env -i PATH=/usr/bin:/bin HOME="$TMP/home" LANG=C.UTF-8 "$@"; }
run twinviewer --version
run twinviewer check /opt/twinviewer/_internal/twinviewer/demos/mine/mine.twin.yaml >"$TMP/check.txt" 2>&1 \
  || { tail -20 "$TMP/check.txt"; die "twinviewer check failed in the installed package"; }
tail -1 "$TMP/check.txt"
run twinviewer demo mine --render "$TMP/render.png"
[ "$(head -c 4 "$TMP/render.png" | tail -c 3)" = "PNG" ] || die "the installed package rendered no PNG"
if [ -f "/usr/share/applications/$APP_ID.desktop" ] && command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "/usr/share/applications/$APP_ID.desktop" && echo "   the installed desktop entry validates"
fi
if [ -f "/usr/share/mime/packages/$APP_ID.xml" ]; then
  [ -f /usr/share/mime/application/x-twinviewer-project.xml ] \
    || die "the MIME database does not know application/x-twinviewer-project (shared-mime-info's trigger did not run)"
  echo "   the MIME database knows application/x-twinviewer-project (dpkg's trigger ran)"
fi
echo "-- apt-get remove twinviewer"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq twinviewer >/dev/null 2>&1 || die "apt-get remove twinviewer failed"
[ ! -e /opt/twinviewer ] && [ ! -e /usr/bin/twinviewer ] || die "files left behind after apt-get remove"
echo "   installed, ran and removed cleanly"
