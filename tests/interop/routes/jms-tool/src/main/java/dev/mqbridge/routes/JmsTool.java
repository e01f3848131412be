package dev.mqbridge.routes;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * The JMS end of the route interop tests (tests/interop/routes): a producer that numbers its
 * messages and a consumer that prints every message it gets, so the Python tests can count each
 * id on both sides of a route.
 *
 * <pre>
 * java -jar jms-tool.jar produce --url tcp://127.0.0.1:61626 --queue Q --count 10000 \
 *     [--start 0] [--prefix m-] [--non-persistent] [--batch 500] [--rate MSGS_PER_S] [--type route-test] \
 *     [--prop key=value]... [--cycle key=v1|v2|...]... [--pad BYTES] [--bytes] [--topic]
 * java -jar jms-tool.jar consume --url tcp://127.0.0.1:61626 --queue Q [--expect N] \
 *     [--idle 5] [--timeout 120] [--selector "..."] [--quiet]
 * java -jar jms-tool.jar unsubscribe --url tcp://127.0.0.1:61626 --client-id ID --queue SUBSCRIPTION
 * </pre>
 *
 * <p>produce: message i (from --start) is a TextMessage with body and String property {@code
 * mid} = prefix + i, int property {@code seq} = i, long {@code weight} = i * 1000003, double
 * {@code ratio} = i / 4.0, boolean {@code even}, JMSCorrelationID {@code corr-<mid>}, JMSType
 * --type, PERSISTENT unless --non-persistent; --pad adds a space and that many filler bytes to
 * the body, --bytes sends BytesMessages (UTF-8 of the same text), --topic sends to the topic
 * named by --queue; --prop adds a String property to every message,
 * --cycle gives message i the value number (i mod n), an empty value leaving the property out. With --batch B (default 500) the session is
 * transacted and commits every B messages, so every message is stored at the broker when the
 * tool exits 0 (a commit is synchronous); --batch 0 sends one by one (persistent sends are
 * synchronous in the ActiveMQ client); --rate paces the sends. One JSON line on stdout: sent, seconds, rate.
 *
 * <p>consume: a transacted session committing every 100 messages and at the end, so what the
 * tool printed is what it removed from the queue. One JSON line per message on stdout (unless
 * --quiet); stops once --expect messages arrived, after --idle seconds without a message, or at
 * --timeout (exit 0 in every case: the caller counts). The summary goes to stderr.
 */
public final class JmsTool {
  public static void main(String[] args) {
    if (args.length == 0) {
      usage();
    }
    try {
      Options o = Options.parse(args);
      switch (args[0]) {
        case "produce" -> produce(o);
        case "consume" -> consume(o);
        case "unsubscribe" -> unsubscribe(o);
        default -> usage();
      }
    } catch (IllegalArgumentException e) {
      System.err.println("jms-tool: " + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      System.err.println("jms-tool: " + e);
      e.printStackTrace(System.err);
      System.exit(1);
    }
    System.exit(0);
  }

  static void usage() {
    System.err.println("usage: jms-tool produce|consume --url URL --queue Q [options] (see JmsTool.java)");
    System.exit(2);
  }

  static final class Options {
    String url = "tcp://127.0.0.1:61626";
    String user = null;
    String password = null;
    String queue = null;
    int count = 0;
    int start = 0;
    String prefix = "m-";
    boolean persistent = true;
    int batch = 500;
    double rate = 0;
    int pad = 0;
    boolean bytes = false;
    boolean topic = false;
    String clientId = null;
    String type = "route-test";
    final Map<String, String> props = new LinkedHashMap<>();
    final Map<String, String[]> cycles = new LinkedHashMap<>();
    int expect = Integer.MAX_VALUE;
    double idle = 5;
    double timeout = 120;
    String selector = null;
    boolean quiet = false;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 1; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--non-persistent")) {
          o.persistent = false;
          continue;
        }
        if (a.equals("--topic")) {
          o.topic = true;
          continue;
        }
        if (a.equals("--bytes")) {
          o.bytes = true;
          continue;
        }
        if (a.equals("--quiet")) {
          o.quiet = true;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(a + " needs a value");
        }
        String v = args[++i];
        switch (a) {
          case "--url" -> o.url = v;
          case "--user" -> o.user = v;
          case "--password" -> o.password = v;
          case "--queue" -> o.queue = v;
          case "--count" -> o.count = Integer.parseInt(v);
          case "--start" -> o.start = Integer.parseInt(v);
          case "--prefix" -> o.prefix = v;
          case "--batch" -> o.batch = Integer.parseInt(v);
          case "--rate" -> o.rate = Double.parseDouble(v);
          case "--pad" -> o.pad = Integer.parseInt(v);
          case "--client-id" -> o.clientId = v;
          case "--type" -> o.type = v;
          case "--prop" -> {
            int eq = v.indexOf('=');
            if (eq <= 0) {
              throw new IllegalArgumentException("--prop wants key=value, got " + v);
            }
            o.props.put(v.substring(0, eq), v.substring(eq + 1));
          }
          case "--cycle" -> {
            int eq = v.indexOf('=');
            if (eq <= 0) {
              throw new IllegalArgumentException("--cycle wants key=v1|v2, got " + v);
            }
            o.cycles.put(v.substring(0, eq), v.substring(eq + 1).split("\\|", -1));
          }
          case "--expect" -> o.expect = Integer.parseInt(v);
          case "--idle" -> o.idle = Double.parseDouble(v);
          case "--timeout" -> o.timeout = Double.parseDouble(v);
          case "--selector" -> o.selector = v;
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      }
      if (o.queue == null) {
        throw new IllegalArgumentException("--queue is required");
      }
      return o;
    }
  }

  static Connection connect(Options o) throws JMSException {
    ActiveMQConnectionFactory f = new ActiveMQConnectionFactory(o.url);
    if (o.user != null) {
      f.setUserName(o.user);
      f.setPassword(o.password);
    }
    // Stock settings otherwise: persistent sends are synchronous, a transacted commit waits.
    Connection c = f.createConnection();
    if (o.clientId != null) {
      c.setClientID(o.clientId);
    }
    c.start();
    return c;
  }

  static void produce(Options o) throws JMSException, InterruptedException {
    long t0 = System.nanoTime();
    Connection c = connect(o);
    try {
      boolean transacted = o.batch > 0;
      Session s = c.createSession(transacted, transacted ? Session.SESSION_TRANSACTED : Session.AUTO_ACKNOWLEDGE);
      Destination q = o.topic ? s.createTopic(o.queue) : s.createQueue(o.queue);
      MessageProducer p = s.createProducer(q);
      p.setDeliveryMode(o.persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
      int inBatch = 0;
      for (int i = o.start; i < o.start + o.count; i++) {
        String mid = o.prefix + i;
        // The body is the id, then --pad bytes of filler ("0123456789" repeated).
        String text = o.pad > 0 ? mid + " " + "0123456789".repeat(o.pad / 10 + 1).substring(0, o.pad) : mid;
        Message m;
        if (o.bytes) {
          BytesMessage bm = s.createBytesMessage();
          bm.writeBytes(text.getBytes(StandardCharsets.UTF_8));
          m = bm;
        } else {
          m = s.createTextMessage(text);
        }
        m.setStringProperty("mid", mid);
        m.setIntProperty("seq", i);
        m.setLongProperty("weight", i * 1000003L);
        m.setDoubleProperty("ratio", i / 4.0);
        m.setBooleanProperty("even", i % 2 == 0);
        for (Map.Entry<String, String> e : o.props.entrySet()) {
          m.setStringProperty(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, String[]> e : o.cycles.entrySet()) {
          String value = e.getValue()[Math.floorMod(i, e.getValue().length)];
          // An empty value leaves the property out (messages without the header).
          if (!value.isEmpty()) {
            m.setStringProperty(e.getKey(), value);
          }
        }
        m.setJMSCorrelationID("corr-" + mid);
        m.setJMSType(o.type);
        if (o.rate > 0) {
          // Paced: message k of this run leaves no earlier than k / rate seconds after the start.
          long due = t0 + (long) ((i - o.start) * 1e9 / o.rate);
          long ahead = due - System.nanoTime();
          if (ahead > 0) {
            Thread.sleep(ahead / 1_000_000, (int) (ahead % 1_000_000));
          }
        }
        p.send(m);
        if (transacted && ++inBatch >= o.batch) {
          s.commit();
          inBatch = 0;
        }
      }
      if (transacted && inBatch > 0) {
        s.commit();
      }
    } finally {
      c.close();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.println(String.format(Locale.ROOT, "{\"sent\":%d,\"seconds\":%.3f,\"rate\":%.1f}",
        o.count, secs, o.count / Math.max(secs, 1e-9)));
  }

  /** Remove the durable subscription --queue of --client-id (what a route test leaves). */
  static void unsubscribe(Options o) throws JMSException {
    Connection c = connect(o);
    try {
      c.createSession(false, Session.AUTO_ACKNOWLEDGE).unsubscribe(o.queue);
    } finally {
      c.close();
    }
  }

  static void consume(Options o) throws Exception {
    long t0 = System.nanoTime();
    long deadline = t0 + (long) (o.timeout * 1e9);
    long idleNs = (long) (o.idle * 1e9);
    PrintStream err = System.err;
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    Connection c = connect(o);
    int received = 0;
    String stop = "expect";
    try {
      Session s = c.createSession(true, Session.SESSION_TRANSACTED);
      Queue q = s.createQueue(o.queue);
      MessageConsumer consumer = o.selector == null ? s.createConsumer(q) : s.createConsumer(q, o.selector);
      long last = System.nanoTime();
      int uncommitted = 0;
      while (received < o.expect) {
        long now = System.nanoTime();
        if (now >= deadline) {
          stop = "timeout";
          break;
        }
        if (now - last >= idleNs) {
          stop = "idle";
          break;
        }
        long waitMs = Math.max(1, Math.min(deadline - now, idleNs - (now - last)) / 1_000_000);
        Message m = consumer.receive(Math.min(waitMs, 500));
        if (m == null) {
          if (uncommitted > 0) {
            s.commit();
            out.flush();
            uncommitted = 0;
          }
          continue;
        }
        last = System.nanoTime();
        received++;
        if (!o.quiet) {
          out.write(describe(m));
          out.write('\n');
        }
        if (++uncommitted >= 100) {
          s.commit();
          out.flush();
          uncommitted = 0;
        }
      }
      if (uncommitted > 0) {
        s.commit();
      }
      out.flush();
    } finally {
      c.close();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    err.println(String.format(Locale.ROOT, "jms-tool consume: %d messages from %s in %.3fs (stopped: %s)",
        received, o.queue, secs, stop));
  }

  static String describe(Message m) throws JMSException {
    StringBuilder b = new StringBuilder(256);
    b.append('{');
    field(b, "message_id", m.getJMSMessageID());
    b.append(',');
    field(b, "correlation_id", m.getJMSCorrelationID());
    b.append(',');
    field(b, "type", m.getJMSType());
    b.append(",\"persistent\":").append(m.getJMSDeliveryMode() == DeliveryMode.PERSISTENT);
    b.append(",\"redelivered\":").append(m.getJMSRedelivered());
    b.append(",\"priority\":").append(m.getJMSPriority());
    b.append(',');
    String kind;
    String body;
    if (m instanceof TextMessage t) {
      kind = "text";
      body = t.getText();
    } else if (m instanceof BytesMessage bm) {
      kind = "bytes";
      byte[] data = new byte[(int) bm.getBodyLength()];
      bm.readBytes(data);
      body = new String(data, StandardCharsets.UTF_8);
    } else {
      kind = m.getClass().getSimpleName();
      body = null;
    }
    field(b, "kind", kind);
    b.append(',');
    field(b, "body", body);
    b.append(",\"props\":{");
    List<String> names = new ArrayList<>();
    for (Enumeration<?> e = m.getPropertyNames(); e.hasMoreElements(); ) {
      names.add(String.valueOf(e.nextElement()));
    }
    Collections.sort(names);
    boolean first = true;
    for (String name : names) {
      Object v = m.getObjectProperty(name);
      if (!first) {
        b.append(',');
      }
      first = false;
      string(b, name);
      b.append(":{");
      field(b, "t", v == null ? "null" : v.getClass().getSimpleName());
      b.append(',');
      field(b, "v", v == null ? null : String.valueOf(v));
      b.append('}');
    }
    b.append("}}");
    return b.toString();
  }

  static void field(StringBuilder b, String name, String value) {
    string(b, name);
    b.append(':');
    if (value == null) {
      b.append("null");
    } else {
      string(b, value);
    }
  }

  static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (ch < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
        }
      }
    }
    b.append('"');
  }
}
