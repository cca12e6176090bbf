#!/usr/bin/env bash
# Installs a build into a temporary prefix and uses it as an outsider would:
# the public headers compile alone, examples/count_parameters builds against
# find_package(ptscope) and agrees with `ptscope inspect`, the installed CLI
# finds its installed plugin, the man page renders without warnings and the
# bash completion completes.
#   scripts/check_install.sh BUILD_DIR [plugin|no-plugin]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd -P)
build=$(cd "$1" && pwd -P)
plugin=${2:-plugin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)  # Backend::load reports resolved paths
prefix=$tmp/prefix
fail() { echo "check_install: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null

# Every public header alone (and twice), with nothing but the installed tree.
for h in "$prefix"/include/ptscope/*.h; do
  printf '#include <ptscope/%s>\n#include <ptscope/%s>\n' "${h##*/}" "${h##*/}" |
    "${CXX:-c++}" -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I"$prefix/include" -x c++ - ||
    fail "${h#$prefix/} does not compile on its own"
done
# The build tree's private folders must not leak into the installed package.
if grep -l "$src" -r "$prefix/lib/cmake"; then fail "the installed CMake package names $src"; fi

# A fresh CMake process, as another project would build.
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$src/examples/count_parameters" -B "$tmp/example" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log" >&2; fail "the example does not configure"; }
cmake --build "$tmp/example" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log" >&2; fail "the example does not build"; }

fixture=$src/fixtures/tied_lm.pt
got=$("$tmp/example/count_parameters" "$fixture")
"$prefix/bin/ptscope" inspect --format json "$fixture" >"$tmp/inspect.json"
cat >"$tmp/parameters.cmake" <<'CMAKE'
file(READ "${json}" text)
string(JSON n GET "${text}" 0 parameters numel)
message("${n}")
CMAKE
want=$(cmake -Djson="$tmp/inspect.json" -P "$tmp/parameters.cmake" 2>&1)
[[ "$got" == "$want" ]] || fail "count_parameters says '$got', ptscope inspect says '$want'"
echo "count_parameters: $got parameters, as ptscope inspect says"

# Its error path: one line naming the file, exit 1.
rc=0
"$tmp/example/count_parameters" "$src/README.md" 2>"$tmp/err" >/dev/null || rc=$?
[[ $rc == 1 && $(<"$tmp/err") == "$src/README.md: "* ]] || fail "count_parameters on README.md: exit $rc, '$(<"$tmp/err")'"

if [[ $plugin == plugin ]]; then
  out=$(env -u PTSCOPE_BACKEND "$prefix/bin/ptscope" backend) || fail "installed ptscope backend failed"
  grep -qx "plugin *$prefix/lib/ptscope/libptscope_torch.so" <<<"$out" ||
    fail "installed ptscope backend did not load the installed plugin: $out"
  echo "installed ptscope backend: $prefix/lib/ptscope/libptscope_torch.so"
fi
# An executable with no plugin anywhere says every place it looked.
mkdir -p "$tmp/lonely/bin"
cp "$prefix/bin/ptscope" "$tmp/lonely/bin/"
rc=0
env -u PTSCOPE_BACKEND "$tmp/lonely/bin/ptscope" backend 2>"$tmp/err" >/dev/null || rc=$?
for place in "$tmp/lonely/bin/libptscope_torch.so" "$tmp/lonely/lib/ptscope/libptscope_torch.so"; do
  [[ $rc == 1 && $(<"$tmp/err") == *"$place"* ]] || fail "without a plugin: exit $rc, '$(<"$tmp/err")' does not name $place"
done

man=$prefix/share/man/man1/ptscope.1
[[ -f $man ]] || fail "no man page installed"
if command -v groff >/dev/null; then
  warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man" 2>&1)
  [[ -z $warnings ]] || fail "groff warns about ptscope.1: $warnings"
  echo "man page: renders without warnings"
else
  echo "man page: not rendered (no groff)"
fi

completion=$prefix/share/bash-completion/completions/ptscope
complete_words() {
  bash -c 'source "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1)); _ptscope; echo "${COMPREPLY[*]}"' \
    "$completion" "$@"
}
expect() { local want=$1; shift; local got; got=$(complete_words "$@")
  [[ $got == "$want" ]] || fail "completing '$*': '$got', expected '$want'"; }
expect "inspect estimate profile diff scan backend" ptscope ""
expect "needs-code dangerous" ptscope scan --fail-on ""
expect "zero1 zero2 zero3" ptscope estimate --strategy z
expect "fp32 fp16 bf16 int8 int4" ptscope estimate --dtype ""
expect "fp32 fp16 bf16" ptscope profile m.pt --dtype ""
expect "table json csv tsv" ptscope inspect -f ""
expect "--tensors --tree" ptscope inspect --t
expect "--verbose --version" ptscope --ver
echo "bash completion: completes"
