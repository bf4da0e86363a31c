# shellcheck shell=bash
# lucene.sh: sourced by bench/build_bench.sh and bench/query_bench.sh.
#
# lucene_setup WORKDIR compiles LuceneBench.java with javac against Debian's
# liblucene8-java jars into WORKDIR/lucene-classes and sets LUCENE_JAVA (the
# command words that run it: java -cp ... LuceneBench). When java, javac or a
# jar is missing it returns 1 with the reason in LUCENE_NOTE, so the caller can
# skip the engine and say why.
# shellcheck disable=SC2034 # LUCENE_NOTE and LUCENE_JAVA are read by the caller
LUCENE_JARDIR="${LUCENE_JARDIR:-/usr/share/java}"
LUCENE_INSTALL="apt-get install -y liblucene8-java default-jdk-headless"

lucene_setup() {
  local work=$1 here jar cp="" part
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  LUCENE_NOTE="" LUCENE_JAVA=()
  for part in java javac; do
    if ! command -v "$part" >/dev/null; then
      LUCENE_NOTE="lucene skipped: $part not found ($LUCENE_INSTALL)"
      return 1
    fi
  done
  for part in core analyzers-common queryparser; do
    # Debian names the jars by version (lucene-core-8.7.0.jar); take the newest 8.x.
    jar=$(find "$LUCENE_JARDIR" -maxdepth 1 -name "lucene-$part-8.*.jar" 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$jar" ]; then
      LUCENE_NOTE="lucene skipped: no lucene-$part-8.*.jar in $LUCENE_JARDIR ($LUCENE_INSTALL)"
      return 1
    fi
    cp="$cp:$jar"
  done
  mkdir -p "$work/lucene-classes"
  if ! javac -nowarn -d "$work/lucene-classes" -cp "${cp#:}" "$here/LuceneBench.java" >&2; then
    LUCENE_NOTE="lucene skipped: javac failed on $here/LuceneBench.java"
    return 1
  fi
  LUCENE_JAVA=(java -cp "$work/lucene-classes$cp" LuceneBench)
}
