#!/usr/bin/env bash
# Builds the embedded store (FerretDB, version pinned in tools/ferretdb/go.mod + go.sum) into
# .bin/ferretdb, once. Re-running is cheap: it returns at once when the binary is current.
# FerretDB's own build writes build/version/version.txt before compiling; a module download has
# no such file, so we vendor the module graph, add it, build, and drop the vendor tree.
#
# One local patch (ours, one line): FerretDB v1's SQLite backend looks documents up by _id with
# the expression _ferretdb_sjson->'$._id', while it builds the _id index on
# _ferretdb_sjson->"_id". SQLite uses an expression index only for the identical expression, so
# every lookup by _id scanned the whole table. Writing the lookup like the index makes those
# lookups index searches; the store detects this with explain (src/store/storeCapabilities.ts).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/tools/ferretdb"
out="$root/.bin/ferretdb"
version="$(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/FerretDB/FerretDB") { print $(i + 1); exit }}' "$tools/go.mod")"
stamp="$root/.bin/ferretdb.version"
build_id="$version+id-index-lookup.1"

if [[ -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$build_id" ]]; then
  exit 0
fi
command -v go >/dev/null || { echo "build-ferretdb: the Go toolchain is needed to build the embedded store (or set MONGODB_URI)" >&2; exit 1; }
echo "build-ferretdb: building FerretDB $version (once; about two minutes)…" >&2
export GOTOOLCHAIN=local GOFLAGS=-mod=vendor CGO_ENABLED=0
cd "$tools"
rm -rf vendor
go mod vendor
echo "$version" > vendor/github.com/FerretDB/FerretDB/build/version/version.txt
metadata=vendor/github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata/metadata.go
sed -i 's|IDColumn = DefaultColumn + "->'"'"'\$\._id'"'"'"|IDColumn = DefaultColumn + "->\\"_id\\""|' "$metadata"
grep -q 'IDColumn = DefaultColumn + "->\\"_id\\""' "$metadata" || { echo "build-ferretdb: the _id lookup patch no longer applies to $version" >&2; exit 1; }
mkdir -p "$root/.bin"
go build -trimpath -o "$out.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
rm -rf vendor
mv "$out.tmp" "$out"
echo "$build_id" > "$stamp"
# sed reads to the end: with `head -1` FerretDB could die of SIGPIPE on its second line, and
# pipefail would fail the build after it succeeded.
"$out" --version | sed -n 1p >&2
