package dev.mqbridge.interop.openwire;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.UUID;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Assumptions;

/**
 * The broker under test, from the environment:
 *
 * <ul>
 *   <li>{@code OPENWIRE_URL} (required), e.g. {@code tcp://127.0.0.1:61626}
 *   <li>{@code BROKER_KIND} {@code activemq} or {@code mqbridge} (default), for the few
 *       assertions that differ (documented in tests/interop/README.md)
 *   <li>{@code AMQP_URL} mqbridge's AMQP listener (cross-protocol tests, mqbridge only)
 *   <li>{@code STOMP_HOST_PORT} the same broker's STOMP listener (JMS to STOMP tests, both)
 *   <li>{@code BROKER_RESTART_CMD} a shell command that restarts the broker on the same port
 *       and data, returning once it listens again (failover test)
 * </ul>
 *
 * <p>This file is written once, against javax.jms (module jms5); module jms6 compiles a copy
 * with javax.jms replaced by jakarta.jms. {@link #JMS_API} tells which copy runs.
 */
final class Env {
  /** "javax" here; the jms6 build rewrites it to "jakarta". */
  static final String JMS_API = "javax";

  private Env() {}

  static String openwireUrl() {
    String url = System.getenv("OPENWIRE_URL");
    assertNotNull(url, "OPENWIRE_URL must be set (tcp://127.0.0.1:PORT)");
    assertTrue(!url.isBlank(), "OPENWIRE_URL must be set");
    return url;
  }

  static String kind() {
    String k = System.getenv("BROKER_KIND");
    return k == null || k.isBlank() ? "mqbridge" : k.trim();
  }

  static boolean isActiveMq() {
    return kind().equals("activemq");
  }

  static boolean isMqbridge() {
    return kind().equals("mqbridge");
  }

  /** Skips the calling test unless the broker is mqbridge. */
  static void assumeMqbridge(String why) {
    Assumptions.assumeTrue(isMqbridge(), "mqbridge only (" + why + "), BROKER_KIND=" + kind());
  }

  static String env(String name) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? null : v;
  }

  static ActiveMQConnectionFactory factory() {
    return factory(openwireUrl());
  }

  static ActiveMQConnectionFactory factory(String url) {
    ActiveMQConnectionFactory f = new ActiveMQConnectionFactory(url);
    f.setTrustedPackages(List.of("java.lang", "java.util", Env.class.getPackageName()));
    return f;
  }

  /** A destination name unique to this run: it.ow.[javax|jakarta].XXXXXXXX.label */
  static String name(String label) {
    return "it.ow." + JMS_API + "." + UUID.randomUUID().toString().substring(0, 8) + "." + label;
  }
}
