#!/usr/bin/env bash
# Builds FerretDB (MongoDB wire protocol over SQLite), the engine the Mongo adapter's tests run on,
# into build/tools/bin/ferretdb. Idempotent: does nothing when the binary is already there.
#
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@VERSION` builds a binary that panics at
# start-up: the release process generates build/version/version.txt, which the module zip lacks.
# So this copies the module's source out of the module cache, writes that one file, and builds.
set -euo pipefail

VERSION="${FERRETDB_VERSION:-v1.24.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${ROOT}/build/tools/bin"
TARGET="${BIN_DIR}/ferretdb"

if [[ -x "${TARGET}" ]]; then
  exit 0
fi
command -v go >/dev/null || { echo "install_ferretdb: need the go command" >&2; exit 1; }

module_dir="$(go mod download -json "github.com/FerretDB/FerretDB@${VERSION}" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "${module_dir}" && -d "${module_dir}" ]] || {
  echo "install_ferretdb: could not download github.com/FerretDB/FerretDB@${VERSION}" >&2
  exit 1
}

src="$(mktemp -d "${ROOT}/build/ferretdb-src.XXXXXX")"
trap 'rm -rf "${src}"' EXIT
cp -R "${module_dir}/." "${src}/"
chmod -R u+w "${src}"
echo "${VERSION}" > "${src}/build/version/version.txt"

mkdir -p "${BIN_DIR}"
echo "install_ferretdb: building FerretDB ${VERSION} (a few minutes on a new machine)"
(cd "${src}" && go build -buildvcs=false -trimpath -o "${TARGET}.tmp" ./cmd/ferretdb)
mv "${TARGET}.tmp" "${TARGET}"
"${TARGET}" --version >/dev/null
