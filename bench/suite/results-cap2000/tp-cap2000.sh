#!/bin/bash
# The cap experiment's --tabpilot: tabpilot with --max-candidates 2000 on fit (before commit
# e0e8e4d made 2000 the default for a time-limited fit). TABPILOT: the binary (default: build/).
bin=${TABPILOT:-$(dirname "$0")/../../../build/tabpilot}
if [ "$1" = fit ]; then exec "$bin" "$@" --max-candidates 2000; else exec "$bin" "$@"; fi
