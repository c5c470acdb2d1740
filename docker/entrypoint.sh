#!/bin/sh
# Entry point of every edge-harness image (L4T, desktop GPU, CPU).
#   docker run IMAGE                       -> harness run (the quick suite on a synthetic sequence)
#   docker run IMAGE run --suite seed ...  -> harness run --suite seed ...
#   docker run IMAGE python3 -m harness .. -> that command as given (how `harness deploy` starts the runner)
# The first argument runs as a program when it is one on PATH (a path, not a shell builtin), else it is
# a harness subcommand.
set -e
if [ "$#" -eq 0 ]; then
    exec harness run
fi
case "$(command -v -- "$1" 2>/dev/null || true)" in
    /*) exec "$@" ;;
esac
exec harness "$@"
