#!/usr/bin/env bash
# make vuln: govulncheck against the Go vulnerability database, built
# offline. vuln.go.dev cannot be reached from every machine that builds
# Veedel, but the database's source, golang.org/x/vulndb (OSV JSON files),
# is a Go module the module proxy serves; its own cmd/indexdb turns it into
# the v1 database layout govulncheck reads with -db file://.
#
# VULNDB=latest (default) takes the newest database the proxy has; pin a
# pseudo-version to repeat an earlier check. Exit status: govulncheck's
# (3 when the code reaches a vulnerability).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${GO:=go}"
: "${VULNDB:=latest}"
: "${GOVULNCHECK:=v1.9.0}"

src=$("$GO" mod download -json "golang.org/x/vulndb@$VULNDB" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
ver=$("$GO" mod download -json "golang.org/x/vulndb@$VULNDB" | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')
[ -d "$src/data/osv" ] || { echo "vuln: no OSV files in golang.org/x/vulndb@$VULNDB ($src)" >&2; exit 1; }

db="${VULNDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/veedel/vulndb}/$ver"
if [ ! -f "$db/index/db.json" ]; then
  echo "vuln: building the database from golang.org/x/vulndb@$ver"
  rm -rf "$db.tmp"
  mkdir -p "$(dirname "$db")"
  "$GO" run "golang.org/x/vulndb/cmd/indexdb@$ver" -vulns "$src/data/osv" -out "$db.tmp"
  mv "$db.tmp" "$db"
fi
echo "vuln: golang.org/x/vulndb@$ver, $("$GO" env GOVERSION)"
exec "$GO" run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK" -db "file://$db" ./...
