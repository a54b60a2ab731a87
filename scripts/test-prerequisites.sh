#!/usr/bin/env bash
# What `npm test` needs beyond node_modules, run first by it (and by .ci/run):
#   - Chromium and a CJK font for the browser tests (test/integration/console.browser.test.ts; CHROMIUM_PATH
#     names another browser, default /usr/bin/chromium);
#   - LibreOffice Calc (Debian's libreoffice-calc-nogui; SOFFICE_PATH names another) for the tests that open our
#     lists in a second spreadsheet program (test/integration/list-workbook.test.ts);
#   - MariaDB on 127.0.0.1:3306, root without a password over TCP, for the SQL-source tests
#     (test/integration/sql-connector.test.ts), unless TEST_MYSQL_URL names a server.
# PostgreSQL is not needed: the tests start an embedded server unless TEST_DATABASE_URL names one.
# Whatever is missing is installed from Debian when this runs as root with apt-get; otherwise it fails in one
# line naming the command to run. With everything present it does nothing (no network, well under a second).
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
APT_BROWSER="chromium fonts-wqy-zenhei"
APT_OFFICE="libreoffice-calc-nogui"

has_browser() { [ -x "$CHROMIUM" ]; }
has_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; }
has_office() {
  if [ -n "${SOFFICE_PATH:-}" ]; then [ -x "$SOFFICE_PATH" ]; else command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1; fi
}
has_mariadb() { [ -n "${TEST_MYSQL_URL:-}" ] || (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; }
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
fail() {
  echo "npm test: $*" >&2
  exit 1
}

browser_ok=true
{ has_browser && has_cjk_font; } || browser_ok=false
office_ok=true
has_office || office_ok=false
mariadb_ok=true
has_mariadb || mariadb_ok=false
$browser_ok && $office_ok && $mariadb_ok && exit 0

if ! can_install; then
  $office_ok || fail "the list tests need LibreOffice Calc: run \`sudo apt-get install -y $APT_OFFICE\`" \
    "(or set SOFFICE_PATH to a soffice)"
  if $browser_ok && $mariadb_ok; then exit 0; fi
  if ! $browser_ok && ! $mariadb_ok; then
    fail "the browser tests need Chromium and a CJK font and the SQL-source tests MariaDB: run" \
      "\`sudo bash scripts/test-prerequisites.sh\` (apt-get install -y $APT_BROWSER mariadb-server, then starts" \
      "MariaDB), or set CHROMIUM_PATH / TEST_MYSQL_URL"
  elif ! $browser_ok; then
    fail "the browser tests need Chromium and a CJK font: run \`sudo apt-get install -y $APT_BROWSER\`" \
      "(or set CHROMIUM_PATH to a Chromium and install a CJK font)"
  else
    fail "the SQL-source tests need MariaDB on 127.0.0.1:3306: run \`sudo bash scripts/test-prerequisites.sh\`" \
      "(apt-get install -y mariadb-server, then starts it), or set TEST_MYSQL_URL"
  fi
fi

updated=false
apt_install() {
  $updated || apt-get update -qq
  updated=true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! $browser_ok; then
  echo "npm test: installing $APT_BROWSER for the browser tests (apt-get)" >&2
  # shellcheck disable=SC2086 # two package names
  apt_install $APT_BROWSER
  has_browser || fail "Chromium is not at $CHROMIUM after apt-get install chromium: set CHROMIUM_PATH"
fi

if ! $office_ok; then
  echo "npm test: installing $APT_OFFICE for the list tests (apt-get)" >&2
  apt_install --no-install-recommends $APT_OFFICE
  has_office || fail "LibreOffice is not on PATH after apt-get install $APT_OFFICE: set SOFFICE_PATH"
fi

if ! $mariadb_ok; then
  if ! command -v mariadbd >/dev/null 2>&1; then
    echo "npm test: installing mariadb-server for the SQL-source tests (apt-get)" >&2
    apt_install mariadb-server
  fi
  echo "npm test: starting MariaDB" >&2
  (service mariadb start || mariadbd-safe --user=mysql &) >/dev/null 2>&1
  for _ in $(seq 1 30); do
    has_mariadb && break
    sleep 1
  done
  has_mariadb || fail "MariaDB did not start on 127.0.0.1:3306: start it (\`service mariadb start\`) or set TEST_MYSQL_URL"
  # Debian's root uses socket authentication; the tests connect over TCP without a password.
  mariadb -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD(''); FLUSH PRIVILEGES" ||
    true
fi
