#!/usr/bin/env bash
# C++ formatting with Debian 12's LLVM 14 (style.md §5), over the files git tracks
# (.clang-format at the repository root says what is checked).
#
#   tools/lint/cpp.sh format-check [FILE...]  clang-format --dry-run --Werror; lists what differs
#   tools/lint/cpp.sh format [FILE...]        rewrites the files in place (clang-format -i)
# clang-tidy runs through tools/lint/tidy.mjs (cached per preprocessed unit).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
JOBS=${LINT_JOBS:-2}

die() {
  echo "cpp.sh: $*" >&2
  exit 2
}

cpp_files() {
  if [[ $# -gt 0 ]]; then
    printf '%s\n' "$@"
  else
    git -C "$ROOT" ls-files '*.cpp' '*.hpp' '*.h' '*.cc' | sed "s|^|$ROOT/|"
  fi
}

need() { command -v "$1" >/dev/null || die "$1 missing (Debian package clang-format-14)"; }

cmd=${1:-}
[[ -n $cmd ]] || die "usage: cpp.sh format-check|format [FILE...]"
shift
case $cmd in
  format-check)
    need "$CLANG_FORMAT"
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    rc=0
    cpp_files "$@" | xargs -r -P "$JOBS" -n 20 "$CLANG_FORMAT" --dry-run --Werror 2>"$out" || rc=$?
    if [[ $rc -ne 0 ]]; then
      grep -E '^/.*: error: code should be clang-formatted' "$out" | cut -d: -f1 | sort -u |
        sed "s|^$ROOT/||"
      echo "cpp.sh: $(grep -cE 'error: code should be clang-formatted' "$out") places in" \
        "$(grep -E 'error: code should be clang-formatted' "$out" | cut -d: -f1 | sort -u | wc -l)" \
        "files are not clang-formatted (tools/lint/cpp.sh format rewrites them)" >&2
      exit 1
    fi
    ;;
  format)
    need "$CLANG_FORMAT"
    cpp_files "$@" | xargs -r -P "$JOBS" -n 20 "$CLANG_FORMAT" -i
    ;;
  *) die "unknown mode $cmd (format-check, format)" ;;
esac
