#!/usr/bin/env bash
# Installs the Debian packages the registry needs, only those missing, so a second run
# is quick and a machine that already has them is not touched. Packages named as
# arguments are installed too (`make qgis`: QGIS for the GIS client test).
set -euo pipefail

# libatomic1: Playwright's driver (its bundled node) needs it and a bare Debian lacks it.
# nginx with its brotli modules and openssl: the production stack (`make prod`), which the
# browser tests run against. fonts-liberation2: the serif of administrative documents
# (Times New Roman metrics, every Vietnamese letter); poppler-utils: pdftoppm, which turns
# them into the screenshots of docs/screenshots/ (scripts/screenshots.py).
packages=(postgresql-15 postgresql-15-postgis-3 gdal-bin gettext chromium fonts-dejavu-core libatomic1
  nginx libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static openssl fonts-liberation2 poppler-utils "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's own python3 needs python3-venv for `python3 -m venv`.
python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "error: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
  echo "       run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Debian starts a service when it installs it; nginx's default site would take port 80
# (the stack runs nginx with its own configuration, see scripts/prod.py). A machine that
# already forbids starts (containers) keeps its own policy.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
# Nor should it start at the next boot.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --quiet nginx 2>/dev/null || true
fi
