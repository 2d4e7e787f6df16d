#!/usr/bin/env bash
# Builds this separate project against the INSTALLED org.panmax:panmax artifact (run `mvn install` in the repo
# root first; `./panmax test` does), checks the installed POM (CheckPom.java) and runs the two programs: one on the
# module path (requires org.panmax), one on the class path. Exits non-zero if any of these fails. Needs JAVA_HOME
# set to a JDK >= 23 (the panmax script does).
set -euo pipefail
cd "$(dirname "$0")"
: "${JAVA_HOME:?set JAVA_HOME to a JDK >= 23}"
JAVA="$JAVA_HOME/bin/java"
MVN=(mvn -B -ntp -q)
[[ -n "${PANMAX_MAVEN_REPO:-}" ]] && MVN+=("-Dmaven.repo.local=$PANMAX_MAVEN_REPO")
"${MVN[@]}" package
# The installed POM (copied to target/ by the build above) must give a consumer nothing it does not need: no
# test-scope dependency, none of the artifacts shaded into the jar, no build section. The check is first shown to
# reject the project's own pom.xml (JUnit at test scope, picocli and jackson-core, the build), so it cannot pass
# vacuously.
echo "== consumer: installed POM"
if "$JAVA" CheckPom.java ../../pom.xml ../../pom.xml >/dev/null 2>&1; then
    echo "CheckPom.java accepts the project's own pom.xml: the check is broken" >&2
    exit 1
fi
"$JAVA" CheckPom.java target/panmax-installed.pom ../../pom.xml
jar=(target/panmax-consumer-*.jar)
echo "== consumer: module path"
"$JAVA" --enable-native-access=org.panmax -p "${jar[0]}:target/lib" \
    -m org.example.consumer/org.example.consumer.ModularMain
echo "== consumer: class path"
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "${jar[0]}:target/lib/*" org.example.consumer.ClasspathMain
