#!/usr/bin/env bash
# Builds the test harness's Neo4j (Neo4j 5 Community, embedded, Bolt on; see
# gateway/neo4j_launcher) into build/tools/neo4j: neo4j-launcher.jar, its lib/ and a class-data
# sharing archive that shortens the JVM's start. Idempotent: does nothing when what is there was
# built from the current launcher sources.
#
# Run it as `java -Xmx1g -XX:SharedArchiveFile=build/tools/neo4j/neo4j-launcher.jsa \
#   -jar build/tools/neo4j/neo4j-launcher.jar <home-dir> <bolt-port>` (tests/engines.py does).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${ROOT}/gateway/neo4j_launcher"
OUT="${ROOT}/build/tools/neo4j"
STAMP="${OUT}/.sources.sha256"

stamp="$(cd "${SRC}" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)"
if [[ -f "${OUT}/neo4j-launcher.jar" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${stamp}" ]]; then
  exit 0
fi
command -v mvn >/dev/null || { echo "install_neo4j: need mvn (Maven) and a Java 17 JDK" >&2; exit 1; }
command -v java >/dev/null || { echo "install_neo4j: need java (17)" >&2; exit 1; }

echo "install_neo4j: building the Neo4j launcher (downloads ~130 MB from Maven Central once)"
build="${ROOT}/build/neo4j-launcher"
rm -rf "${build}"
mvn -B -q -f "${SRC}/pom.xml" -Dlauncher.build.dir="${build}" package

rm -rf "${OUT}"
mkdir -p "${OUT}"
cp "${build}/neo4j-launcher.jar" "${OUT}/"
cp -R "${build}/lib" "${OUT}/lib"
rm -rf "${build}"

# Class-data sharing: one training start records the classes Neo4j loads; later starts map them
# instead of parsing ~200 jars again. The JVM ignores an archive it cannot use.
home="$(mktemp -d)"
log="${home}/launcher.log"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
java -Xmx1g -XX:ArchiveClassesAtExit="${OUT}/neo4j-launcher.jsa" \
  -jar "${OUT}/neo4j-launcher.jar" "${home}/neo4j" "${port}" >"${log}" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  grep -q 'neo4j-launcher: ready' "${log}" && break
  kill -0 "${pid}" 2>/dev/null || break
  sleep 0.5
done
if ! grep -q 'neo4j-launcher: ready' "${log}"; then
  kill "${pid}" 2>/dev/null || true
  echo "install_neo4j: the launcher did not start:" >&2
  tail -30 "${log}" >&2
  rm -rf "${home}"
  exit 1
fi
kill -TERM "${pid}"
wait "${pid}" || true
rm -rf "${home}"
[[ -f "${OUT}/neo4j-launcher.jsa" ]] || echo "install_neo4j: no CDS archive written (starts will be slower)" >&2
echo "${stamp}" >"${STAMP}"
