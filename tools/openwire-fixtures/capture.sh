#!/usr/bin/env bash
# Regenerates tests/fixtures/openwire/*.bin: the stock ActiveMQ 5.18 JMS client talks to the
# Debian ActiveMQ 5.17 broker (OpenWire on 127.0.0.1:61626, scripts/lib/activemq.sh) through a
# recording proxy inside Capture.java; each scenario writes NAME.client.bin and NAME.server.bin.
#
#   tools/openwire-fixtures/capture.sh            # from the repository root
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(cd ../.. && pwd)
# shellcheck source=../../scripts/lib/activemq.sh
source "$ROOT/scripts/lib/activemq.sh"
activemq_start
mvn -q -B compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
java -cp "target/classes:$(cat target/classpath.txt)" Capture \
  "127.0.0.1:${ACTIVEMQ_OPENWIRE_PORT:-61626}" "$ROOT/tests/fixtures/openwire"
