#!/usr/bin/env bash
# Figures for the sync pipeline against the local services (bin/services):
#   bench/sync-bench.sh lag [RATE] [SECONDS]   commit-to-side lag at a steady claim rate
#   bench/sync-bench.sh catchup [ROWS]         backlog rows/s: pipelines vs a bare binlog tail
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
eval "$(/work/main/bin/services env 2>/dev/null || bin/services env)"
mvn -q -B -o -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
exec java -cp "target/test-classes:target/classes:$(cat target/bench.cp)" dev.rpctl.sync.SyncBench "$@"
