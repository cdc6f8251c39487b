#!/usr/bin/env bash
# Build TwinViewer's self-contained Linux bundle and smoke-test it.
#
# PyInstaller (one folder, packaging/twinviewer.spec) freezes the app with its own Python, Qt
# (with the xcb platform plugin), VTK and the demo twins, in a throwaway venv under
# build/bundle/; the folder is packed as dist/TwinViewer-VERSION-linux-x86_64.tar.xz, then
# unpacked elsewhere and tried with an empty environment: `check` a demo, a headless render, a
# PDF report, the same again with every Python of this machine hidden, and the window under Xvfb
# (its screenshot lands beside the tarball). Run from anywhere; see --help.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG="$(basename "$0")"
PYINSTALLER_VERSION="6.22.3"  # the freezer, pinned: a new one is tried deliberately
WORK="$ROOT/build/bundle"
DIST="$ROOT/dist"

usage() {
  cat <<EOF
Usage: $PROG [--keep-venv] [--skip-smoke] [--deb] [--xz-level N] [--python PYTHON] [--help]

Builds dist/TwinViewer-VERSION-linux-x86_64.tar.xz, a folder with the twinviewer program that
needs no Python on the machine, and smoke-tests it (unless --skip-smoke).

  --keep-venv      reuse the build venv of a previous run (build/bundle/venv): only the
                   twinviewer wheel is reinstalled (saves ~2 minutes)
  --skip-smoke     build and pack only
  --deb            also build dist/twinviewer_VERSION_amd64.deb (packaging/build-deb.sh)
  --xz-level N     xz's compression level, 0-9 (default 1: about a minute on 2 cores; 6 is
                   about 10% smaller and takes ten times as long)
  --python PYTHON  the Python the bundle is made of (default: python3; 3.10 or newer, built
                   with a shared libpython, with the venv module)
  -h, --help       show this help

Needs: tar and xz; for the smoke tests xvfb-run (Debian: xvfb xauth) and the system
libraries of packaging/install-debian.sh. Hiding this machine's Pythons for the "no Python"
test needs root and unshare (skipped, with a note, otherwise).
EOF
}

die() {
  echo "$PROG: error: $*" >&2
  exit 1
}

KEEP_VENV=""
SMOKE=1
DEB=""
PYTHON="python3"
XZ_LEVEL=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-venv) KEEP_VENV=1; shift ;;
    --skip-smoke) SMOKE=""; shift ;;
    --deb) DEB=1; shift ;;
    --python)
      [ $# -ge 2 ] || die "--python needs a program (see --help)"
      PYTHON="$2"
      shift 2
      ;;
    --python=*) PYTHON="${1#--python=}"; shift ;;
    --xz-level)
      [ $# -ge 2 ] || die "--xz-level needs a number 0-9 (see --help)"
      XZ_LEVEL="$2"
      shift 2
      ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

# --- timings -------------------------------------------------------------------------------
T_START=$(date +%s.%N)
TIMINGS=()
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# timed LABEL COMMAND...: runs it, records how long it took
timed() {
  local label="$1" t0
  shift
  t0=$(now)
  "$@"
  TIMINGS+=("$(printf '%-34s %7s s' "$label" "$(since "$t0")")")
}
size_of() { du -sh "$1" | cut -f1; }

# --- what we build from --------------------------------------------------------------------
[ "$(uname -s)" = Linux ] || die "this script builds the Linux bundle; see .github/workflows/bundle.yml for Windows and macOS"
ARCH="$(uname -m)"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/twinviewer/__init__.py")"
[ -n "$VERSION" ] || die "no __version__ = \"...\" line in $ROOT/twinviewer/__init__.py"
NAME="TwinViewer-$VERSION"
TARBALL="$DIST/$NAME-linux-$ARCH.tar.xz"
SCREENSHOT="$DIST/$NAME-linux-$ARCH-screenshot.png"
STAGE="$WORK/stage/$NAME"
command -v "$PYTHON" >/dev/null || die "no '$PYTHON' on PATH (give one with --python)"
"$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
  || die "$PYTHON is not Python >= 3.10 with the venv and ensurepip modules (Debian: python3-venv)"
"$PYTHON" -c 'import sysconfig, sys; sys.exit(not sysconfig.get_config_var("Py_ENABLE_SHARED"))' \
  || die "$PYTHON has no shared libpython, which PyInstaller needs (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared)"
case "$XZ_LEVEL" in [0-9]) ;; *) die "--xz-level must be a number 0-9, not '$XZ_LEVEL'" ;; esac
command -v xz >/dev/null || die "xz is not installed (Debian: xz-utils)"
if [ -n "$SMOKE" ]; then
  command -v xvfb-run >/dev/null || die "xvfb-run is not installed (packaging/install-debian.sh; or use --skip-smoke)"
fi
mkdir -p "$WORK" "$DIST"
echo "== TwinViewer $VERSION bundle for linux-$ARCH, with $("$PYTHON" -V) ($(command -v "$PYTHON"))"

# --- the build venv: PyInstaller and the app from this checkout --------------------------------
VENV="$WORK/venv"
LOG="$WORK/pip.log"
build_venv() {
  if [ -n "$KEEP_VENV" ] && [ -x "$VENV/bin/pyinstaller" ]; then
    echo "-- reusing the build venv $VENV"
  else
    echo "-- a new build venv in $VENV (pip's output: $LOG)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >"$LOG" 2>&1 \
      || { tail -20 "$LOG"; die "could not upgrade pip in $VENV"; }
  fi
  echo "-- the twinviewer wheel from $ROOT"
  rm -rf "$WORK/wheel"
  "$VENV/bin/python" -m pip wheel -q --no-deps "$ROOT" -w "$WORK/wheel" >>"$LOG" 2>&1 \
    || { tail -20 "$LOG"; die "could not build the wheel of $ROOT"; }
  local wheel
  wheel="$(ls "$WORK"/wheel/twinviewer-*.whl)"
  # the extras the bundle carries: OPC UA (with cryptography for its security) and PostgreSQL
  "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel" >>"$LOG" 2>&1 \
    || { tail -20 "$LOG"; die "could not install $wheel"; }
  "$VENV/bin/python" -m pip install -q "pyinstaller==$PYINSTALLER_VERSION" \
    "$wheel[opcua,postgres]" "cryptography>=41" >>"$LOG" 2>&1 \
    || { tail -20 "$LOG"; die "could not install PyInstaller and twinviewer's dependencies (see $LOG)"; }
}
timed "build venv + wheel" build_venv

# --- freeze --------------------------------------------------------------------------------
freeze() {
  echo "-- PyInstaller $PYINSTALLER_VERSION with packaging/twinviewer.spec (log: $WORK/pyinstaller.log)"
  rm -rf "$WORK/dist"
  (cd "$WORK" && "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
    --workpath "$WORK/work" --distpath "$WORK/dist" "$ROOT/packaging/twinviewer.spec") \
    >"$WORK/pyinstaller.log" 2>&1 \
    || { tail -30 "$WORK/pyinstaller.log"; die "PyInstaller failed (see $WORK/pyinstaller.log)"; }
  [ -x "$WORK/dist/twinviewer/twinviewer" ] || die "PyInstaller made no $WORK/dist/twinviewer/twinviewer"
  [ -f "$WORK/dist/twinviewer/_internal/twinviewer/demos/mine/mine.twin.yaml" ] \
    || die "the demos are not at _internal/twinviewer/demos in the bundle"
}
timed "PyInstaller" freeze

# --- the folder as shipped: the program, the desktop files, the licence, a README -------------
stage() {
  rm -rf "$WORK/stage"
  mkdir -p "$WORK/stage"
  mv "$WORK/dist/twinviewer" "$STAGE"
  cp "$ROOT/LICENSE" "$STAGE/LICENSE"
  # the desktop integration (menu entry, icons, file types), when the checkout has it
  if [ -d "$ROOT/packaging/linux/share" ]; then
    cp -r "$ROOT/packaging/linux/share" "$STAGE/share"
  else
    echo "   (no packaging/linux/share: the bundle has no desktop files)"
  fi
  if [ -f "$ROOT/packaging/install-desktop.sh" ]; then
    cp "$ROOT/packaging/install-desktop.sh" "$STAGE/install-desktop.sh"
    chmod +x "$STAGE/install-desktop.sh"
  fi
  cat >"$STAGE/README.txt" <<EOF
TwinViewer $VERSION for Linux ($ARCH): a desktop viewer for industrial digital twins.

This folder is the whole program: it needs no Python. Keep the folder together; run
./twinviewer from it (or put it anywhere and link bin/twinviewer to it).

  ./twinviewer                  the window (start page: open a project or a demo)
  ./twinviewer demo mine        the underground mine demo, live
  ./twinviewer check FILE       validate a project or a model
  ./twinviewer --help           every command

  ./install-desktop.sh          add TwinViewer to your desktop's menu and file types (for
                                you only, no root); ./install-desktop.sh --uninstall removes it

Needs from the system: glibc 2.36 or newer (Debian 12, Ubuntu 23.04, RHEL 10 or later), an X
server or XWayland, OpenGL (Mesa or a GPU driver: libGL, libEGL), the xcb libraries Qt uses
(libxkbcommon-x11, libxcb-cursor, libxcb-icccm, ...), fontconfig; for PDF reports Pango
(libpango-1.0, libpangoft2-1.0). A desktop has them; a bare server gets them with the Debian
package list in TwinViewer's packaging/install-debian.sh.

Your data (copies of the demos, their histories) goes to ~/.local/share/TwinViewer; nothing
is written inside this folder. Licence: LICENSE (Apache-2.0); the demo data's licences:
_internal/twinviewer/demos/DATA-LICENSES.md.
EOF
}
timed "stage (desktop files, README)" stage

pack() {
  echo "-- packing $TARBALL (xz -$XZ_LEVEL)"
  rm -f "$TARBALL" "$TARBALL.part"
  tar -C "$WORK/stage" --owner=0 --group=0 -cf - "$NAME" | xz -T0 "-$XZ_LEVEL" >"$TARBALL.part"
  mv "$TARBALL.part" "$TARBALL"
}
timed "pack tar.xz" pack

# --- smoke tests, on the unpacked tarball ---------------------------------------------------
SMOKE_NOTES=()
if [ -n "$SMOKE" ]; then
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/twinviewer-smoke.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
  mkdir -p "$TMP/home"
  HOST_PY="$VENV/bin/python"  # only to judge the pictures: the bundle itself runs without it
  SMOKE_PY="$ROOT/packaging/smoke_png.py"
  timed "unpack tar.xz" tar -C "$TMP" -xJf "$TARBALL"
  APP="$TMP/$NAME/twinviewer"
  DEMO="$TMP/$NAME/_internal/twinviewer/demos/mine/mine.twin.yaml"
  # an empty environment: no PYTHON*, no VIRTUAL_ENV, no LD_LIBRARY_PATH, a fresh home
  clean() { env -i PATH=/usr/bin:/bin HOME="$TMP/home" LANG=C.UTF-8 "$@"; }

  timed "smoke: --version (cold start)" clean "$APP" --version
  check_demo() {
    clean "$APP" check "$DEMO" >"$TMP/check.txt" 2>&1 \
      || { tail -20 "$TMP/check.txt"; die "twinviewer check $DEMO failed"; }
    tail -1 "$TMP/check.txt"
  }
  timed "smoke: check the mine demo" check_demo
  timed "smoke: demo mine --render" clean "$APP" demo mine --render "$TMP/render.png"
  "$HOST_PY" "$SMOKE_PY" check "$TMP/render.png" || die "the headless render is blank"
  cp "$TMP/render.png" "$DIST/$NAME-linux-$ARCH-render.png"
  USER_DEMO="$TMP/home/.local/share/TwinViewer/demos/mine/mine.twin.yaml"
  [ -f "$USER_DEMO" ] || die "the demo was not copied to the user's data folder ($USER_DEMO)"
  # a few seconds of the simulated feed into the demo's history (Parquet), then the review
  # report of it as PDF (WeasyPrint over the system's Pango)
  timed "smoke: record 3 s (Parquet history)" clean "$APP" record "$USER_DEMO" --duration 3
  timed "smoke: report as PDF" clean "$APP" report "$USER_DEMO" -o "$TMP/report.pdf"
  [ "$(head -c 5 "$TMP/report.pdf")" = "%PDF-" ] || die "the report is not a PDF"

  # No Python at all: in a private mount namespace, every Python of this machine (interpreters,
  # standard libraries, libpython, pyenv, venvs) is hidden, then check and render run again.
  no_python() {
    local hide=() p
    for p in /usr/lib/python3* /usr/local/lib/python3* /usr/lib/x86_64-linux-gnu/libpython3* \
      /usr/bin/python3* /usr/local/bin/python3* "${PYENV_ROOT:-$HOME/.pyenv}" "$ROOT/.venv" "$VENV"; do
      p="$(readlink -f "$p")"  # mount over what a link points to (a dangling one: nothing)
      [ -e "$p" ] && hide+=("$p")
    done
    mapfile -t hide < <(printf '%s\n' "${hide[@]}" | sort -u)
    local script="$TMP/no-python.sh"
    {
      echo 'set -eu'
      for p in "${hide[@]}"; do
        # (a file inside a folder hidden before it is gone already)
        if [ -d "$p" ]; then echo "mount -t tmpfs none '$p'"; else echo "[ ! -e '$p' ] || mount --bind /dev/null '$p'"; fi
      done
      echo 'if env -i PATH=/usr/bin:/bin python3 -c pass 2>/dev/null; then echo "a Python is still there" >&2; exit 1; fi'
      echo "env -i PATH=/usr/bin:/bin HOME='$TMP/home' LANG=C.UTF-8 '$APP' check '$DEMO' >/dev/null"
      echo "env -i PATH=/usr/bin:/bin HOME='$TMP/home' LANG=C.UTF-8 '$APP' demo mine --render '$TMP/render-no-python.png'"
    } >"$script"
    unshare --mount --propagation private bash "$script"
    "$HOST_PY" "$SMOKE_PY" check "$TMP/render-no-python.png" || die "the render without Python is blank"
  }
  if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && unshare --mount true 2>/dev/null; then
    timed "smoke: check + render, Python hidden" no_python
  else
    SMOKE_NOTES+=("not run: check + render with every Python hidden (needs root and unshare)")
  fi

  # The window under Xvfb: `twinviewer demo mine` opens the live demo; the whole screen is
  # grabbed once it shows a picture (and again a few seconds later), then the app is closed.
  window() {
    xvfb-run -a -s "-screen 0 1600x1000x24" bash -c '
      env -i PATH=/usr/bin:/bin HOME="$1" LANG=C.UTF-8 DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" \
        "$2" demo mine >"$3" 2>&1 &
      app=$!
      "$4" "$5" grab "$6"; rc=$?
      if ! kill -0 "$app" 2>/dev/null; then echo "the window closed by itself" >&2; rc=1; fi
      kill "$app" 2>/dev/null; wait "$app" 2>/dev/null
      exit "$rc"' _ "$TMP/home" "$APP" "$TMP/window.log" "$HOST_PY" "$SMOKE_PY" "$SCREENSHOT" \
      || { tail -20 "$TMP/window.log"; die "the window did not show (log above; screenshot: $SCREENSHOT)"; }
  }
  timed "smoke: window under Xvfb" window
fi

if [ -n "$DEB" ]; then
  timed "build-deb.sh" "$ROOT/packaging/build-deb.sh" --bundle "$STAGE" $([ -n "$SMOKE" ] || echo --skip-test)
fi

# --- what was made ---------------------------------------------------------------------------
echo
echo "== done: TwinViewer $VERSION for linux-$ARCH"
printf '   %-40s %s\n' "bundle folder $(basename "$STAGE")/" "$(size_of "$STAGE")" \
  "$(basename "$TARBALL")" "$(size_of "$TARBALL")"
[ -n "$SMOKE" ] && printf '   %-40s %s\n' "$(basename "$SCREENSHOT")" "$(size_of "$SCREENSHOT")"
for line in "${TIMINGS[@]}"; do echo "   $line"; done
for line in "${SMOKE_NOTES[@]+"${SMOKE_NOTES[@]}"}"; do echo "   $line"; done
echo "   total: $(since "$T_START") s"
