#!/usr/bin/env bash
# C++ formatting and static analysis with Debian 12's LLVM 14 (style.md §5), over the files git
# tracks (.clang-format and .clang-tidy at the repository root say what is checked).
#
#   tools/lint/cpp.sh format-check [FILE...]  clang-format --dry-run --Werror; lists what differs
#   tools/lint/cpp.sh format [FILE...]        rewrites the files in place (clang-format -i)
#   tools/lint/cpp.sh tidy [REGEX...]         clang-tidy over build/asan/compile_commands.json
#                                             (configured when missing), -j $LINT_JOBS (default 2);
#                                             REGEX limits the translation units (run-clang-tidy);
#                                             prints the findings per check, fails on any
#   tools/lint/cpp.sh tidy-summary LOG        findings per check in a saved clang-tidy log
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
RUN_CLANG_TIDY=${RUN_CLANG_TIDY:-run-clang-tidy-14}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy-14}
BUILD_DIR=${LINT_BUILD_DIR:-$ROOT/build/asan}
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

need() { command -v "$1" >/dev/null || die "$1 missing (Debian packages clang-format, clang-tidy)"; }

# One line per finding, deduplicated (a header's finding is reported by every unit including it),
# then the count per check, largest first.
tidy_summary() {
  sed -E 's/\x1b\[[0-9;]*m//g' "$1" |
    grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): .*\[[a-z0-9.,-]+\]$' |
    sort -u |
    sed -E 's/.*\[([a-z0-9.,-]+)\]$/\1/; s/,-warnings-as-errors$//' |
    sort | uniq -c | sort -rn
}

cmd=${1:-}
[[ -n $cmd ]] || die "usage: cpp.sh format-check|format|tidy|tidy-summary [ARGS...]"
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
  tidy)
    need "$RUN_CLANG_TIDY"
    need "$CLANG_TIDY"
    if [[ ! -f $BUILD_DIR/compile_commands.json ]]; then
      [[ $BUILD_DIR == "$ROOT/build/asan" ]] || die "no $BUILD_DIR/compile_commands.json"
      (cd "$ROOT" && cmake --preset asan >/dev/null)
    fi
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    rc=0
    "$RUN_CLANG_TIDY" -clang-tidy-binary "$(command -v "$CLANG_TIDY")" -p "$BUILD_DIR" \
      -j "$JOBS" -quiet "$@" >"$log" 2>&1 || rc=$?
    summary=$(tidy_summary "$log")
    if [[ -n $summary ]]; then
      sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' |
        sort -u | sed "s|^$ROOT/||"
      echo "findings per check:"
      echo "$summary"
      exit 1
    fi
    if [[ $rc -ne 0 ]]; then
      cat "$log"
      exit 1
    fi
    ;;
  tidy-summary)
    [[ $# -eq 1 ]] || die "usage: cpp.sh tidy-summary LOG"
    tidy_summary "$1"
    ;;
  *) die "unknown mode $cmd (format-check, format, tidy, tidy-summary)" ;;
esac
