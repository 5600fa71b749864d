#!/usr/bin/env bash
# Builds the embedded store (FerretDB, version pinned in tools/ferretdb/go.mod + go.sum) into
# .bin/ferretdb, with our patch set (tools/ferretdb/patches/*.patch, each saying what and why;
# see docs/store.md). Re-running is cheap: it returns at once when the binary matches the
# version and the patches (stamp .bin/ferretdb.version: version + hash of the patches).
#
#   scripts/build-ferretdb.sh          the patched store, .bin/ferretdb (what `npm start` runs)
#   scripts/build-ferretdb.sh --stock  stock FerretDB, no patches, .bin/ferretdb-stock (benchmarks)
#   scripts/build-ferretdb.sh --test   the Go tests of the patched code (`npm run store:test`, CI)
#
# A first start only builds: the patch set's Go tests run in `npm run store:test` (and in CI),
# not before every first build. Tests and build compile with the same flags (BUILD_FLAGS), so
# whichever runs second finds the packages they share in the Go build cache.
#
# FerretDB's own build writes build/version/version.txt before compiling; a module download has
# no such file, so we vendor the module graph, add it, patch, build, and drop the vendor tree.
# A patch that no longer applies fails the build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/tools/ferretdb"
mode="${1:-patched}"
version="$(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/FerretDB/FerretDB") { print $(i + 1); exit }}' "$tools/go.mod")"
patches=("$tools"/patches/*.patch)
# Patches of other vendored modules FerretDB builds with (paths from vendor/, e.g. a/modernc.org/libc/…).
module_patches=("$tools"/patches/modules/*.patch)

case "$mode" in
  patched | --test)
    out="$root/.bin/ferretdb"
    build_id="$version+patches.$(cat "${patches[@]}" "${module_patches[@]}" | sha256sum | cut -c1-16)"
    ;;
  --stock)
    out="$root/.bin/ferretdb-stock"
    build_id="$version+stock"
    ;;
  *) echo "usage: $0 [--stock | --test]" >&2; exit 2 ;;
esac
stamp="$out.version"

if [[ "$mode" != --test && -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$build_id" ]]; then
  exit 0
fi
command -v go >/dev/null || { echo "build-ferretdb: the Go toolchain is needed to build the embedded store (or set MONGODB_URI)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-mod=vendor CGO_ENABLED=0
# The same for `go test` and `go build`: a package compiled with other flags is compiled again.
BUILD_FLAGS=(-trimpath)
cd "$tools"
# One build at a time in this tree (parallel test workers may all ask for the binary).
mkdir -p "$root/.bin"
exec 9>"$root/.bin/build.lock"
flock 9
if [[ "$mode" != --test && -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$build_id" ]]; then
  exit 0
fi
trap 'rm -rf "$tools/vendor"' EXIT
rm -rf vendor
go mod vendor
module=vendor/github.com/FerretDB/FerretDB
echo "$version" > "$module/build/version/version.txt"
if [[ "$mode" != --stock ]]; then
  for patch in "${patches[@]}"; do
    if ! patch -d "$module" -p1 --forward --batch --fuzz=0 --no-backup-if-mismatch --reject-file=- --silent < "$patch"; then
      echo "build-ferretdb: $(basename "$patch") no longer applies to FerretDB $version" >&2
      exit 1
    fi
  done
  for patch in "${module_patches[@]}"; do
    if ! patch -d vendor -p1 --forward --batch --fuzz=0 --no-backup-if-mismatch --reject-file=- --silent < "$patch"; then
      echo "build-ferretdb: modules/$(basename "$patch") no longer applies to the modules FerretDB $version vendors" >&2
      exit 1
    fi
  done
fi
if [[ "$mode" == --test ]]; then
  echo "build-ferretdb: testing the patched FerretDB $version…" >&2
  go test "${BUILD_FLAGS[@]}" -count=1 github.com/FerretDB/FerretDB/internal/backends/sqlite/... github.com/FerretDB/FerretDB/internal/handler github.com/FerretDB/FerretDB/internal/handler/common github.com/FerretDB/FerretDB/internal/handler/sjson github.com/FerretDB/FerretDB/internal/util/fsql modernc.org/libc >&2
  exit 0
fi
echo "build-ferretdb: building FerretDB $version ($build_id; once, about a minute)…" >&2
go build "${BUILD_FLAGS[@]}" -o "$out.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
mv "$out.tmp" "$out"
echo "$build_id" > "$stamp"
# sed reads to the end: with `head -1` FerretDB could die of SIGPIPE on its second line, and
# pipefail would fail the build after it succeeded.
"$out" --version | sed -n 1p >&2
