# shellcheck shell=bash
# Browser tests of the web UI (tests/ui): headless Debian Chromium driven by playwright-core,
# against the release binary.
#
#   source scripts/lib/ui.sh
#   ui_tests      installs chromium (apt) when /usr/bin/chromium is missing, runs `npm ci`
#                 and `node --test` in tests/ui. MQBRIDGE_BIN names the binary (default
#                 <repo>/target/release/mqbridge); the tests start it themselves (HTTP, AMQP
#                 and STOMP on port 0, temp config and data dir) and stop it.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=rabbitmq.sh
source "$(dirname "${BASH_SOURCE[0]}")/rabbitmq.sh" # apt_install

ui_install() {
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  info "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium: version unknown')"
  (cd "$MQB_REPO_ROOT/tests/ui" && npm ci --no-audit --no-fund --loglevel=error)
  info "playwright-core $(node -p 'require("'"$MQB_REPO_ROOT"'/tests/ui/node_modules/playwright-core/package.json").version')"
}

ui_tests() {
  ui_install
  (cd "$MQB_REPO_ROOT/tests/ui" &&
    MQBRIDGE_BIN="${MQBRIDGE_BIN:-$MQB_REPO_ROOT/target/release/mqbridge}" timeout -k 10 600 \
      node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec test/)
}
