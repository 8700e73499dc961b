#!/usr/bin/env bash
# The test command: builds everything, runs every test, and lints. CI runs this (.ci/run).
# Installs what the tests need when it is missing: strace (the host-side check that guest
# syscalls never reach the host), gcc with static glibc (the tests compile C guests), and
# the host tools the sandbox is tested on (python3, perl, sqlite3, git, make).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: $* missing and not root; install it (apt-get install $*)" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v strace >/dev/null 2>&1; then
  apt_install strace || echo "test.sh: without strace the emulation check is skipped" >&2
fi
if [ ! -x /bin/busybox ]; then
  apt_install busybox-static || echo "test.sh: without busybox-static the busybox tests are skipped" >&2
fi
missing=""
for tool in python3 perl sqlite3 git make; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  apt_install $missing || echo "test.sh: without$missing the host-tools tests are skipped" >&2
fi
if ! command -v gcc >/dev/null 2>&1 || [ ! -e "$(gcc -print-file-name=libc.a)" ]; then
  apt_install gcc libc6-dev
fi

cargo build --workspace --all-targets
cargo test --workspace
# The integration suite once more on the other platform (the default, auto, is systrap).
SANDBOX_TEST_PLATFORM=ptrace cargo test -p sandbox-tests
cargo clippy --workspace --all-targets -- -D warnings
