#!/usr/bin/env bash
# Install TwinViewer on Debian/Ubuntu: the system libraries Qt and VTK need, then the package and
# its test tools into ./.venv. Run from the repository root, as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # a virtual X server for headless machines and GUI tests
  xvfb xauth
  # what Qt's xcb platform plugin and VTK's OpenGL (Mesa, software rendering) load at run time
  libgl1 libegl1 libglx-mesa0 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
  libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libxrender1 libxi6 libsm6 libice6 libdbus-1-3
  libfontconfig1 libxt6 fonts-dejavu-core
  # a real MQTT broker for the tests and for `twinviewer simulate --mqtt`
  mosquitto mosquitto-clients
  # a real PostgreSQL server for the history backend tests (started per test session)
  postgresql
  # OpenMP, which LightGBM's wheel links (remaining-useful-life models)
  libgomp1
  # the review report as PDF: WeasyPrint lays text out with Pango (fonts: fonts-dejavu-core);
  # pdftoppm and pdfinfo for the report's tests and screenshots
  libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
  # the Linux desktop integration's checks: desktop-file-validate, appstreamcli validate,
  # update-mime-database (tests/test_desktop_integration.py)
  desktop-file-utils appstream shared-mime-info
)
# wanted where the distribution has them (WeasyPrint subsets fonts with it; warns without)
OPTIONAL=(libharfbuzz-subset0)
if ! command -v python3 >/dev/null || ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  PACKAGES+=(python3 python3-venv python3-pip)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
updated=""
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  updated=1
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for p in "${OPTIONAL[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
  if [ -z "$updated" ]; then $SUDO apt-get update -qq; updated=1; fi
  if apt-cache show "$p" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$p"
  fi
done

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,dev]"
echo "TwinViewer installed in $(pwd)/.venv: run .venv/bin/twinviewer"
