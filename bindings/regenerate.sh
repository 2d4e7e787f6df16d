#!/usr/bin/env bash
# Regenerates bindings/src from native/include/panmax.h. Run it after every header change and commit
# the result on its own. Needs a jextract whose output runs on JDK 23+ (set JEXTRACT; see
# bindings/README.md for the version used) — CI never runs this: BindingsTest
# (src/test/java/org/panmax/BindingsTest.java) checks the recorded header hash instead.
set -euo pipefail
cd "$(dirname "$0")/.."
JEXTRACT="${JEXTRACT:-jextract}"
CLANG_INCLUDE="${CLANG_INCLUDE:-/usr/lib/llvm-19/lib/clang/19/include}"
rm -rf bindings/src
# No --library: the generated lookup finds libpanmax.so once org.panmax's loader has System.load-ed it.
"$JEXTRACT" \
    --output bindings/src \
    --target-package org.panmax.bindings \
    --header-class-name panmax_h \
    -I "$CLANG_INCLUDE" \
    @bindings/includes.txt \
    native/include/panmax.h
sha256sum native/include/panmax.h | cut -d' ' -f1 > bindings/panmax.h.sha256
"$JEXTRACT" --version 2>&1 | head -1 > bindings/jextract.version
