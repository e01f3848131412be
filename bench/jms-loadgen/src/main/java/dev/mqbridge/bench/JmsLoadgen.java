package dev.mqbridge.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import javax.jms.BytesMessage;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import org.HdrHistogram.Histogram;
import org.apache.activemq.ActiveMQConnection;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.activemq.command.ActiveMQQueue;

/**
 * mqbridge-jms-loadgen: the OpenWire (JMS) load generator behind {@code bench/run.sh
 * --openwire-only}, the JMS twin of the Rust {@code mqbridge-loadgen} (bench/loadgen).
 *
 * <p>One run = one fresh queue, N JMS producers and M consumers (each on its own connection),
 * producing as fast as the broker lets them. Producers send {@code BytesMessage}s whose first 8
 * bytes carry the send time (System.nanoTime() since a process-wide base, little-endian), so a
 * consumer in the same JVM computes the end-to-end latency. After {@code --warmup} seconds a
 * measurement window of {@code --duration} seconds counts consumed messages, records latencies
 * (HdrHistogram) and samples the broker's CPU time (utime+stime from /proc/PID/stat) at its
 * start and end. Result: one JSON line on stdout in the Rust loadgen's schema (plus a few
 * JMS-specific fields); progress and errors on stderr.
 *
 * <ul>
 *   <li>Transient: NON_PERSISTENT messages, async sends (ActiveMQ's default for non-persistent).
 *   <li>{@code --persistent}: PERSISTENT messages; with {@code --sync-send}
 *       (alwaysSyncSend=true, useAsyncSend=false) every send waits for the broker's response,
 *       i.e. for the message to be stored; without it, useAsyncSend=true.
 *   <li>Consumers: {@code --consumer-protocol openwire} = JMS consumers with
 *       jms.prefetchPolicy.queuePrefetch={@code --prefetch} and {@code --ack-mode}: auto
 *       (AUTO_ACKNOWLEDGE, the stock setting: one standard ack per message, sent without waiting),
 *       client (CLIENT_ACKNOWLEDGE, message.acknowledge() every {@code --ack-every} messages) or
 *       dups-ok (DUPS_OK_ACKNOWLEDGE: the client batches acks at half the prefetch).
 *       {@code --consumer-protocol amqp} = RabbitMQ Java client consumers on {@code --amqp-url}
 *       reading AMQP queue X (mqbridge maps JMS queue X to the durable AMQP queue X), basic.qos
 *       {@code --prefetch}, manual acks with multiple=true every {@code --ack-every}.
 *   <li>Queue depth cap: producers pause while published - consumed > {@code --max-depth}.
 * </ul>
 *
 * <p>At the end the queue is deleted: over AMQP when {@code --amqp-url} is given, else with
 * ActiveMQConnection.destroyDestination (which drops what is left in it).
 */
public final class JmsLoadgen {
  private static final long BASE = System.nanoTime();

  static long nowNs() {
    return System.nanoTime() - BASE;
  }

  // ---- options ----
  String url = "tcp://127.0.0.1:61616";
  String amqpUrl = null;
  String user = null;
  String password = null;
  int producers = 1;
  int consumers = 1;
  int size = 16;
  boolean persistent = false;
  boolean syncSend = false;
  double duration = 10;
  double warmup = 2;
  String queue = null;
  String consumerProtocol = "openwire";
  int prefetch = 200;
  String ackMode = "auto";
  int ackEvery = 50;
  long maxDepth = 10_000;
  Integer brokerPid = null;
  long clkTck = 100;
  String label = "";

  // ---- shared state ----
  final AtomicLong published = new AtomicLong();
  final AtomicLong consumed = new AtomicLong();
  final AtomicLong publishedWindow = new AtomicLong();
  final AtomicLong depthPauses = new AtomicLong();
  volatile boolean measuring = false;
  volatile boolean stop = false;
  final AtomicReference<String> failure = new AtomicReference<>();

  static void usage() {
    System.err.println(
        String.join(
            "\n",
            "usage: java -jar mqbridge-jms-loadgen.jar [options]",
            "  --url URL                 OpenWire broker URL (default tcp://127.0.0.1:61616); extra",
            "                            ActiveMQ URL options (jms.*, transport.*) are honoured",
            "  --amqp-url URL            AMQP 0-9-1 URL (AMQP consumers; also used to delete the queue)",
            "  --user U --password P     JMS credentials (default: none)",
            "  --producers N --consumers N   (default 1 / 1; one connection each)",
            "  --size BYTES              body size, >= 8 (default 16)",
            "  --persistent              PERSISTENT messages (default NON_PERSISTENT)",
            "  --sync-send               every send waits for the broker (alwaysSyncSend=true)",
            "  --duration S --warmup S   measurement window / warm-up seconds (default 10 / 2)",
            "  --queue NAME              default: a fresh bench-<pid>-<ns> name",
            "  --consumer-protocol openwire|amqp   (default openwire)",
            "  --prefetch N              queuePrefetch / basic.qos (default 200)",
            "  --ack-mode auto|client|dups-ok      JMS consumers' ack mode (default auto)",
            "  --ack-every N             client / AMQP acks: every N messages (default 50)",
            "  --max-depth N             producers pause while published - consumed > N (default 10000)",
            "  --broker-pid PID --clk-tck N        broker CPU sampling (/proc/PID/stat)",
            "  --label TEXT              copied into the JSON output"));
  }

  static JmsLoadgen parse(String[] a) {
    JmsLoadgen g = new JmsLoadgen();
    for (int i = 0; i < a.length; i++) {
      String o = a[i];
      String val = null;
      switch (o) {
        case "--persistent":
          g.persistent = true;
          continue;
        case "--sync-send":
          g.syncSend = true;
          continue;
        case "-h":
        case "--help":
          usage();
          System.exit(0);
          break;
        default:
          if (i + 1 >= a.length) {
            throw new IllegalArgumentException("unknown option or missing value: " + o);
          }
          val = a[++i];
      }
      switch (o) {
        case "--url" -> g.url = val;
        case "--amqp-url" -> g.amqpUrl = val;
        case "--user" -> g.user = val;
        case "--password" -> g.password = val;
        case "--producers" -> g.producers = Integer.parseInt(val);
        case "--consumers" -> g.consumers = Integer.parseInt(val);
        case "--size" -> g.size = Integer.parseInt(val);
        case "--duration" -> g.duration = Double.parseDouble(val);
        case "--warmup" -> g.warmup = Double.parseDouble(val);
        case "--queue" -> g.queue = val;
        case "--consumer-protocol" -> g.consumerProtocol = val;
        case "--prefetch" -> g.prefetch = Integer.parseInt(val);
        case "--ack-mode" -> g.ackMode = val;
        case "--ack-every" -> g.ackEvery = Integer.parseInt(val);
        case "--max-depth" -> g.maxDepth = Long.parseLong(val);
        case "--broker-pid" -> g.brokerPid = Integer.parseInt(val);
        case "--clk-tck" -> g.clkTck = Long.parseLong(val);
        case "--label" -> g.label = val;
        default -> throw new IllegalArgumentException("unknown option: " + o);
      }
    }
    if (g.size < 8) throw new IllegalArgumentException("--size must be at least 8");
    if (g.producers < 1 || g.consumers < 1)
      throw new IllegalArgumentException("--producers and --consumers must be at least 1");
    if (g.ackEvery < 1 || g.ackEvery > g.prefetch)
      throw new IllegalArgumentException("--ack-every must be between 1 and --prefetch");
    if (!g.consumerProtocol.equals("openwire") && !g.consumerProtocol.equals("amqp"))
      throw new IllegalArgumentException("--consumer-protocol must be openwire or amqp");
    if (g.consumerProtocol.equals("amqp") && g.amqpUrl == null)
      throw new IllegalArgumentException("--amqp-url is required with --consumer-protocol amqp");
    if (!List.of("auto", "client", "dups-ok").contains(g.ackMode))
      throw new IllegalArgumentException("--ack-mode must be auto, client or dups-ok");
    if (!(g.duration > 0) || !(g.warmup >= 0))
      throw new IllegalArgumentException("--duration must be > 0 and --warmup >= 0");
    return g;
  }

  public static void main(String[] args) {
    JmsLoadgen g;
    try {
      g = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("jms-loadgen: " + e.getMessage());
      usage();
      System.exit(2);
      return;
    }
    // A broker that stops answering must not hang the whole benchmark.
    long limitMs = (long) ((g.warmup + g.duration + 60) * 1000);
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(limitMs);
              } catch (InterruptedException e) {
                return;
              }
              System.err.println(
                  "jms-loadgen: gave up after " + limitMs / 1000 + "s: the broker stopped answering");
              Runtime.getRuntime().halt(1);
            },
            "watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    int rc;
    try {
      String json = g.run();
      System.out.println(json);
      System.out.flush();
      rc = 0;
    } catch (Throwable e) {
      String msg = e.toString();
      System.err.println("jms-loadgen: " + msg.replace('\n', ' '));
      rc = 1;
    }
    // Client threads (ActiveMQ transports, AMQP) must not keep the JVM alive.
    Runtime.getRuntime().halt(rc);
  }

  /** utime+stime in µs of a process (all threads) from /proc/PID/stat; null if unreadable. */
  Double cpuUs(String pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String rest = stat.substring(stat.lastIndexOf(')') + 1).trim();
      String[] f = rest.split("\\s+");
      // rest starts at field 3 (state); utime is field 14, stime field 15.
      long utime = Long.parseLong(f[11]);
      long stime = Long.parseLong(f[12]);
      return (utime + stime) * 1e6 / clkTck;
    } catch (Exception e) {
      return null;
    }
  }

  static Histogram newHistogram() {
    // ns, 1 µs .. 120 s, 3 significant digits (as the Rust loadgen).
    return new Histogram(1_000L, 120_000_000_000L, 3);
  }

  static void record(Histogram h, long sentNs, long now) {
    long lat = Math.max(1_000L, Math.min(120_000_000_000L, now - sentNs));
    h.recordValue(lat);
  }

  ActiveMQConnectionFactory factory() {
    ActiveMQConnectionFactory f = new ActiveMQConnectionFactory(url);
    if (user != null) f.setUserName(user);
    if (password != null) f.setPassword(password);
    f.getPrefetchPolicy().setQueuePrefetch(prefetch);
    if (syncSend) {
      f.setAlwaysSyncSend(true);
      f.setUseAsyncSend(false);
    } else if (persistent) {
      f.setUseAsyncSend(true);
    }
    return f;
  }

  void fail(String what, Throwable e) {
    if (stop) return; // errors while tearing down do not count
    failure.compareAndSet(null, what + ": " + e);
    stop = true;
  }

  /** One JMS producer on its own connection. */
  final class Producer extends Thread {
    final ActiveMQConnection conn;
    final Session session;
    final MessageProducer producer;

    Producer(int i, ActiveMQConnectionFactory f, String q) throws JMSException {
      super("producer-" + i);
      setDaemon(true);
      conn = (ActiveMQConnection) f.createConnection();
      conn.start();
      session = conn.createSession(false, Session.AUTO_ACKNOWLEDGE);
      producer = session.createProducer(session.createQueue(q));
      producer.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
    }

    @Override
    public void run() {
      byte[] body = new byte[size];
      ByteBuffer ts = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
      boolean paused = false;
      try {
        while (!stop) {
          if (published.get() - consumed.get() > maxDepth) {
            if (!paused) {
              depthPauses.incrementAndGet();
              paused = true;
            }
            LockSupport.parkNanos(200_000);
            continue;
          }
          paused = false;
          ts.putLong(0, nowNs());
          BytesMessage m = session.createBytesMessage();
          m.writeBytes(body);
          producer.send(m);
          published.incrementAndGet();
          if (measuring) publishedWindow.incrementAndGet();
        }
      } catch (Throwable e) {
        fail("producer", e);
      }
    }
  }

  interface Consumer {
    void begin() throws Exception;

    /** Stops consuming; returns when the consumer has stopped counting. */
    void finish() throws Exception;

    Histogram histogram();

    long counted();

    void close();
  }

  /** A JMS consumer on its own connection, receive() loop on its own thread. */
  final class JmsConsumer extends Thread implements Consumer {
    final ActiveMQConnection conn;
    final Session session;
    final MessageConsumer consumer;
    final Histogram hist = newHistogram();
    final boolean clientAck;
    long count = 0;
    final byte[] head = new byte[8];

    JmsConsumer(int i, ActiveMQConnectionFactory f, String q) throws JMSException {
      super("consumer-" + i);
      setDaemon(true);
      conn = (ActiveMQConnection) f.createConnection();
      int mode =
          switch (ackMode) {
            case "client" -> Session.CLIENT_ACKNOWLEDGE;
            case "dups-ok" -> Session.DUPS_OK_ACKNOWLEDGE;
            default -> Session.AUTO_ACKNOWLEDGE;
          };
      clientAck = mode == Session.CLIENT_ACKNOWLEDGE;
      session = conn.createSession(false, mode);
      consumer = session.createConsumer(session.createQueue(q));
      conn.start();
    }

    @Override
    public void begin() {
      start();
    }

    @Override
    public void run() {
      int unacked = 0;
      Message last = null;
      try {
        while (!stop) {
          Message m = consumer.receive(50);
          if (m == null) continue;
          long now = nowNs();
          consumed.incrementAndGet();
          if (measuring) {
            BytesMessage bm = (BytesMessage) m;
            if (bm.readBytes(head) != 8) throw new IllegalStateException("body shorter than 8 bytes");
            record(hist, ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong(0), now);
            count++;
          }
          if (clientAck) {
            last = m;
            if (++unacked >= ackEvery) {
              m.acknowledge();
              unacked = 0;
              last = null;
            }
          }
        }
        if (last != null) last.acknowledge();
      } catch (Throwable e) {
        fail("consumer", e);
      }
    }

    @Override
    public void finish() throws InterruptedException {
      join(5_000);
    }

    @Override
    public Histogram histogram() {
      return hist;
    }

    @Override
    public long counted() {
      return count;
    }

    @Override
    public void close() {
      try {
        conn.close();
      } catch (Exception e) {
        // tear-down
      }
    }
  }

  /** An AMQP 0-9-1 consumer (RabbitMQ Java client) on its own connection. */
  final class AmqpConsumer implements Consumer {
    final com.rabbitmq.client.Connection conn;
    final Channel ch;
    final String q;
    final Histogram hist = newHistogram();
    volatile long count = 0;
    long unacked = 0;
    long lastTag = 0;
    String tag;
    final Object lock = new Object();

    AmqpConsumer(int i, String q) throws Exception {
      com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
      f.setUri(amqpUrl);
      conn = f.newConnection("jms-loadgen-amqp-consumer-" + i);
      ch = conn.createChannel();
      ch.basicQos(prefetch);
      this.q = q;
    }

    @Override
    public void begin() throws Exception {
      tag =
          ch.basicConsume(
              q,
              false,
              new DefaultConsumer(ch) {
                @Override
                public void handleDelivery(
                    String consumerTag, Envelope env, AMQP.BasicProperties props, byte[] body) {
                  long now = nowNs();
                  synchronized (lock) {
                    if (stop) return;
                    consumed.incrementAndGet();
                    if (measuring) {
                      record(hist, ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).getLong(0), now);
                      count++;
                    }
                    lastTag = env.getDeliveryTag();
                    if (++unacked >= ackEvery) {
                      try {
                        ch.basicAck(lastTag, true);
                      } catch (Exception e) {
                        fail("basic.ack", e);
                      }
                      unacked = 0;
                    }
                  }
                }
              });
    }

    @Override
    public void finish() {
      synchronized (lock) {
        // stop is set: later deliveries are ignored.
      }
    }

    @Override
    public Histogram histogram() {
      synchronized (lock) {
        return hist;
      }
    }

    @Override
    public long counted() {
      synchronized (lock) {
        return count;
      }
    }

    @Override
    public void close() {
      try {
        conn.close(2_000);
      } catch (Exception e) {
        // tear-down
      }
    }
  }

  String run() throws Exception {
    String q =
        queue != null ? queue : "bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    ActiveMQConnectionFactory f = factory();

    // AMQP side: declare X durable (what mqbridge's OpenWire side declares for JMS queue X).
    com.rabbitmq.client.Connection setupConn = null;
    Channel setup = null;
    if (amqpUrl != null) {
      com.rabbitmq.client.ConnectionFactory af = new com.rabbitmq.client.ConnectionFactory();
      af.setUri(amqpUrl);
      setupConn = af.newConnection("jms-loadgen-setup");
      setup = setupConn.createChannel();
      setup.queueDeclare(q, true, false, false, null);
    }

    // Consumers first, so that nothing piles up before they are attached.
    List<Consumer> cs = new ArrayList<>();
    for (int i = 0; i < consumers; i++) {
      Consumer c = consumerProtocol.equals("amqp") ? new AmqpConsumer(i, q) : new JmsConsumer(i, f, q);
      cs.add(c);
      c.begin();
    }
    List<Producer> ps = new ArrayList<>();
    for (int i = 0; i < producers; i++) ps.add(new Producer(i, f, q));
    for (Producer p : ps) p.start();

    // Warm-up, then the measurement window.
    sleepS(warmup);
    String pid = brokerPid == null ? null : brokerPid.toString();
    Double brokerBefore = pid == null ? null : cpuUs(pid);
    Double selfBefore = cpuUs("self");
    long consumedBefore = consumed.get();
    long t0 = System.nanoTime();
    measuring = true;
    sleepS(duration);
    measuring = false;
    double window = (System.nanoTime() - t0) / 1e9;
    Double brokerAfter = pid == null ? null : cpuUs(pid);
    Double selfAfter = cpuUs("self");
    long consumedAfter = consumed.get();
    stop = true;

    for (Producer p : ps) p.join(10_000);
    Histogram hist = newHistogram();
    long messages = 0;
    for (Consumer c : cs) {
      c.finish();
      hist.add(c.histogram());
      messages += c.counted();
    }
    String failed = failure.get();

    // Tear down: close the clients (in parallel, bounded), then delete the queue.
    CountDownLatch closed = new CountDownLatch(ps.size() + cs.size());
    for (Producer p : ps) closeAsync(() -> p.conn.close(), closed);
    for (Consumer c : cs) closeAsync(c::close, closed);
    closed.await(10, TimeUnit.SECONDS);
    if (setup != null) {
      try {
        setup.queueDelete(q);
        setupConn.close(2_000);
      } catch (Exception e) {
        System.err.println("jms-loadgen: warning: queue.delete " + q + ": " + e);
      }
    } else {
      try {
        ActiveMQConnection c = (ActiveMQConnection) f.createConnection();
        c.start();
        c.destroyDestination(new ActiveMQQueue(q));
        c.close();
      } catch (Exception e) {
        System.err.println("jms-loadgen: warning: destroyDestination " + q + ": " + e);
      }
    }
    if (failed != null) throw new RuntimeException(failed);
    System.err.printf(
        "jms-loadgen: window consumed %d (counter delta %d), published total %d, consumed total %d%n",
        messages, consumedAfter - consumedBefore, published.get(), consumed.get());

    Double brokerCpu = brokerBefore != null && brokerAfter != null ? brokerAfter - brokerBefore : null;
    Double selfCpu = selfBefore != null && selfAfter != null ? selfAfter - selfBefore : null;
    StringBuilder j = new StringBuilder("{");
    kv(j, "label", label);
    kv(j, "protocol", "openwire");
    kv(j, "consumer_protocol", consumerProtocol);
    kv(j, "size", size);
    kv(j, "producers", producers);
    kv(j, "consumers", consumers);
    kv(j, "confirm", syncSend);
    kv(j, "persistent", persistent);
    kv(j, "duration_s", window);
    kv(j, "messages", messages);
    kv(j, "msgs_per_s", messages / window);
    kv(j, "published_per_s", publishedWindow.get() / window);
    kv(j, "p50_us", hist.getValueAtPercentile(50.0) / 1000.0);
    kv(j, "p99_us", hist.getValueAtPercentile(99.0) / 1000.0);
    kv(j, "p999_us", hist.getValueAtPercentile(99.9) / 1000.0);
    kv(j, "max_us", hist.getMaxValue() / 1000.0);
    kv(j, "broker_cpu_us", brokerCpu);
    kv(j, "broker_cpu_us_per_msg", brokerCpu != null && messages > 0 ? brokerCpu / messages : null);
    kv(j, "loadgen_cpu_us", selfCpu);
    kv(j, "depth_pauses", depthPauses.get());
    kv(j, "nacks", 0);
    kv(j, "threads", producers + consumers);
    kv(j, "shared_connection", false);
    kv(j, "sync_send", syncSend);
    kv(j, "ack_mode", consumerProtocol.equals("amqp") ? "amqp-multiple" : ackMode);
    kv(j, "ack_every", consumerProtocol.equals("amqp") || ackMode.equals("client") ? ackEvery : null);
    kv(j, "prefetch", prefetch);
    kv(j, "loadgen", "jms");
    j.setLength(j.length() - 1);
    return j.append('}').toString();
  }

  interface Closer {
    void close() throws Exception;
  }

  static void closeAsync(Closer c, CountDownLatch done) {
    Thread t =
        new Thread(
            () -> {
              try {
                c.close();
              } catch (Exception e) {
                // tear-down
              } finally {
                done.countDown();
              }
            });
    t.setDaemon(true);
    t.start();
  }

  static void sleepS(double s) throws InterruptedException {
    Thread.sleep((long) (s * 1000));
  }

  static void kv(StringBuilder j, String k, Object v) {
    j.append('"').append(k).append("\":");
    if (v == null) {
      j.append("null");
    } else if (v instanceof String s) {
      j.append('"');
      for (char c : s.toCharArray()) {
        if (c == '"' || c == '\\') j.append('\\').append(c);
        else if (c < 0x20) j.append(String.format("\\u%04x", (int) c));
        else j.append(c);
      }
      j.append('"');
    } else if (v instanceof Double d) {
      j.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.3f", d));
    } else {
      j.append(v);
    }
    j.append(',');
  }
}
