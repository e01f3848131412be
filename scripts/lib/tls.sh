# shellcheck shell=bash
# TLS helpers: a throwaway PKI made with openssl, and the TLS interop step (pika, stomp.py and
# the stock ActiveMQ JMS client over TLS to mqbridge).
#
#   source scripts/lib/tls.sh
#   tls_make_pki DIR
#       writes, all PEM unless noted: ca.pem/ca.key (the test CA), server.pem/server.key
#       (CN localhost, SAN DNS:localhost and IP:127.0.0.1), client.pem/client.key (CN
#       cert-user, signed by the CA), stranger.pem/stranger.key (CN stranger, signed by the
#       CA, no such user), and for Java truststore.p12 (the CA) and client.p12 (the client
#       certificate and key), both PKCS12 with the password `changeit`.
#   tls_interop
#       makes a PKI in a temp dir, starts mqbridge (release binary) with AMQP, STOMP and
#       OpenWire listeners plain and TLS (verify: optional) and the user cert-user, runs
#       tests/interop/tls against it, and stops it.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=mqbridge.sh
source "$(dirname "${BASH_SOURCE[0]}")/mqbridge.sh"

# tls_make_pki DIR
tls_make_pki() {
  local dir=${1:?tls_make_pki needs a directory} name cn
  mkdir -p "$dir"
  (
    set -e
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -keyout ca.key -out ca.pem -subj "/CN=mqbridge test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth" \
      "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.pem 2>/dev/null
    printf '%s\n' "extendedKeyUsage=clientAuth" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature" >client.ext
    for name in client:cert-user stranger:stranger; do
      cn=${name#*:}
      name=${name%%:*}
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$name.key" -out "$name.csr" -subj "/O=mqbridge tests/CN=$cn" 2>/dev/null
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile client.ext -out "$name.pem" 2>/dev/null
    done
    rm -f ./*.csr ./*.ext ./*.srl truststore.p12
    keytool -importcert -noprompt -alias mqbridge-test-ca -file ca.pem \
      -keystore truststore.p12 -storetype PKCS12 -storepass changeit >/dev/null 2>&1
    openssl pkcs12 -export -in client.pem -inkey client.key -name cert-user \
      -out client.p12 -passout pass:changeit
  )
}

tls_interop() {
  local dir extra hash rc=0
  dir=$(mktemp -d -t mqbridge-tls.XXXXXX)
  tls_make_pki "$dir/pki"
  hash=$(printf 'secret' | "$MQBRIDGE_BIN" hash-password)
  extra="tls:
  cert: \"$dir/pki/server.pem\"
  key: \"$dir/pki/server.key\"
  ca: \"$dir/pki/ca.pem\"
  verify: optional
listeners:
  amqp: { bind: \"127.0.0.1:0\", tls_bind: \"127.0.0.1:0\" }
  stomp: { bind: \"127.0.0.1:0\", tls_bind: \"127.0.0.1:0\" }
  openwire: { bind: \"127.0.0.1:0\", tls_bind: \"127.0.0.1:0\" }
users:
  - { name: cert-user, password_hash: \"$hash\" }"
  (cd tests/interop/routes/jms-tool && mvn -q -B package -DskipTests)
  MQBRIDGE_RUN_DIR="$dir/run" mqbridge_start "$extra" "$dir/data" || return 1
  TLS_PKI_DIR="$dir/pki" \
    AMQP_PORT=$MQBRIDGE_AMQP_PORT \
    AMQPS_PORT=$(mqbridge_read_port "$MQBRIDGE_LOG" amqps) \
    STOMP_PORT=$(mqbridge_read_port "$MQBRIDGE_LOG" stomp) \
    STOMP_TLS_PORT=$(mqbridge_read_port "$MQBRIDGE_LOG" stomp-tls) \
    OPENWIRE_TLS_PORT=$(mqbridge_read_port "$MQBRIDGE_LOG" openwire-tls) \
    JMS_TOOL_JAR="$MQB_REPO_ROOT/tests/interop/routes/jms-tool/target/jms-tool.jar" \
    MQBRIDGE_LOG_FILE="$MQBRIDGE_LOG" \
    timeout -k 10 300 .venv/bin/python -m pytest -p no:cacheprovider -q -rfE tests/interop/tls ||
    rc=$?
  mqbridge_stop || rc=$?
  rm -rf "$dir"
  return "$rc"
}
