#!/usr/bin/env bash
# Builds the embedded store (FerretDB, version pinned in tools/ferretdb/go.mod + go.sum) into
# .bin/ferretdb, once. Re-running is cheap: it returns at once when the binary is current.
# FerretDB's own build writes build/version/version.txt before compiling; a module download has
# no such file, so we vendor the module graph, add it, build, and drop the vendor tree.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/tools/ferretdb"
out="$root/.bin/ferretdb"
version="$(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/FerretDB/FerretDB") print $(i + 1)}' "$tools/go.mod" | head -1)"
stamp="$root/.bin/ferretdb.version"

if [[ -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
  exit 0
fi
command -v go >/dev/null || { echo "build-ferretdb: the Go toolchain is needed to build the embedded store (or set MONGODB_URI)" >&2; exit 1; }
echo "build-ferretdb: building FerretDB $version (once; about two minutes)…" >&2
export GOTOOLCHAIN=local GOFLAGS=-mod=vendor CGO_ENABLED=0
cd "$tools"
rm -rf vendor
go mod vendor
echo "$version" > vendor/github.com/FerretDB/FerretDB/build/version/version.txt
mkdir -p "$root/.bin"
go build -trimpath -o "$out.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
rm -rf vendor
mv "$out.tmp" "$out"
echo "$version" > "$stamp"
"$out" --version | head -1 >&2
