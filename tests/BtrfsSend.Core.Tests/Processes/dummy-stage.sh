#!/bin/sh
# A stand-in child for StreamPipelineTests (as CliWrap tests itself against a dummy program):
# each mode is one way a stage of a streaming pipeline can behave or fail.
mode=$1
n=${2:-0}
case "$mode" in
  cat) exec cat ;;
  emit) exec head -c "$n" /dev/zero ;;
  exit) cat >/dev/null; echo "dummy: read everything, failing with $n" >&2; exit "$n" ;;
  exit-now) echo "dummy: refusing without reading, exit $n" >&2; exit "$n" ;;
  signal) head -c 4096 >/dev/null; echo "dummy: killing myself" >&2; kill -KILL $$ ;;
  close-stdin) exec 0<&-; echo "dummy: done early, exit 0" >&2; exit 0 ;;
  write-then-fail) head -c 65536 /dev/zero; echo "dummy: broke after writing, exit $n" >&2; exit "$n" ;;
  stall) exec sleep 600 ;;
  *) echo "dummy: unknown mode '$mode'" >&2; exit 2 ;;
esac
