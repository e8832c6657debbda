#!/usr/bin/env bash
# Sync-pipeline figures against the local services, each beside its baseline from the same run.
#   bench/sync-bench.sh lag [RATE] [SECONDS]        commit-to-both-sides lag at a steady claim rate
#   bench/sync-bench.sh catchup [ROWS] [PER_TX]     backlog rows/s: both pipelines vs a bare binlog tail
# JVM options in BENCH_JAVA_OPTS (default -Xmx256m, the daemon's memory figure).
# BENCH_JAVA_OPTS="-Xmx256m -Dbench.no-triggers=true" drops the claim table's version triggers once the daemon runs (lag only).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
"$here/bin/services" up --no-kafka >&2
eval "$("$here/bin/services" env)"
mvn -q -B -ntp -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >&2
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# shellcheck disable=SC2086
exec "$java" ${BENCH_JAVA_OPTS:--Xmx256m} -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" dev.rpctl.sync.SyncBench "$@"
