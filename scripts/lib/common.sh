# shellcheck shell=bash
# Shared helpers for scripts/test.sh and bench/ (source this file; it sets no shell options).

# Repository root (this file lives in scripts/lib/).
MQB_REPO_ROOT="${MQB_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export MQB_REPO_ROOT

section() {
  printf '\n\033[1m==== %s ====\033[0m\n' "$*" >&2
}

info() {
  printf '  -> %s\n' "$*" >&2
}

die() {
  printf 'ERROR: %s\n' "$*" >&2
  return 1
}

# port_open HOST PORT: true when a TCP connect succeeds.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port HOST PORT [TIMEOUT_SECONDS=30]
wait_for_port() {
  local host=$1 port=$2 timeout=${3:-30} i
  for ((i = 0; i < timeout * 10; i++)); do
    if port_open "$host" "$port"; then
      return 0
    fi
    sleep 0.1
  done
  die "nothing listens on $host:$port after ${timeout}s"
}

# as_root CMD...: run CMD as root (directly when root, with sudo otherwise).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}
