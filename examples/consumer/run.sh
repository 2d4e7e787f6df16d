#!/usr/bin/env bash
# Builds this separate project against the INSTALLED org.panmax:panmax artifact (run `mvn install` in the repo
# root first; `./panmax test` does) and runs its two programs: one on the module path (requires org.panmax), one
# on the class path. Exits non-zero if either fails. Needs JAVA_HOME set to a JDK >= 23 (the panmax script does).
set -euo pipefail
cd "$(dirname "$0")"
: "${JAVA_HOME:?set JAVA_HOME to a JDK >= 23}"
JAVA="$JAVA_HOME/bin/java"
MVN=(mvn -B -ntp -q)
[[ -n "${PANMAX_MAVEN_REPO:-}" ]] && MVN+=("-Dmaven.repo.local=$PANMAX_MAVEN_REPO")
"${MVN[@]}" package
jar=(target/panmax-consumer-*.jar)
echo "== consumer: module path"
"$JAVA" --enable-native-access=org.panmax -p "${jar[0]}:target/lib" \
    -m org.example.consumer/org.example.consumer.ModularMain
echo "== consumer: class path"
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "${jar[0]}:target/lib/*" org.example.consumer.ClasspathMain
