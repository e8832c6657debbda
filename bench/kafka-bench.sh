#!/usr/bin/env bash
# Kafka-mode figures against the local services (with their KRaft broker), each beside its baseline from the same run.
#   bench/kafka-bench.sh lag [RATE] [SECONDS]       commit-to-both-sides lag through the publisher, the topic and one applier a side,
#                                                   beside the direct pipelines' lag in the same run, and where the time goes stage by stage
#   bench/kafka-bench.sh catchup [ROWS] [PER_TX]    backlog rows/s: direct pipelines, plain SETs, the publisher, 1 and 2 appliers a side
# JVM options in BENCH_JAVA_OPTS (default -Xmx256m); -Dbench.partitions=N sizes the topic (default 12);
# -Dbench.rounds=N alternates the direct and the Kafka lag passes N times and prints their medians.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
"$here/bin/services" up >&2
eval "$("$here/bin/services" env)"
mvn -q -B -ntp -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >&2
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
mode="${1:-lag}"
[ $# -gt 0 ] && shift
# shellcheck disable=SC2086
exec "$java" ${BENCH_JAVA_OPTS:--Xmx256m} -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" \
  dev.rpctl.sync.SyncBench "kafka-$mode" "$@"
