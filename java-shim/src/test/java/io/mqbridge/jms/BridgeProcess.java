package io.mqbridge.jms;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real mqbridge started for the tests: the release binary ($MQBRIDGE_BIN, else
 * target/release/mqbridge of the workspace) with a temporary config whose AMQP and OpenWire
 * listeners bind port 0; the ports are read from the "Listening. listener=amqp address=..."
 * (and listener=openwire) log lines.
 */
final class BridgeProcess implements AutoCloseable {
    private static final Pattern LISTENING =
            Pattern.compile("Listening\\. listener=(amqp|openwire|http) address=(\\S+):(\\d+)");

    final Process process;
    final String host;
    final int port;
    /** The OpenWire listener's port (same host). */
    final int openwirePort;
    /** The HTTP listener's port (management API; same host). */
    final int httpPort;
    private final Path dir;

    private BridgeProcess(Process process, String host, int port, int openwirePort, int httpPort, Path dir) {
        this.process = process;
        this.host = host;
        this.port = port;
        this.openwirePort = openwirePort;
        this.httpPort = httpPort;
        this.dir = dir;
    }

    static Path binary() {
        String env = System.getenv("MQBRIDGE_BIN");
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        String ws = System.getProperty("mqbridge.workspace", "..");
        return Path.of(ws, "target", "release", "mqbridge");
    }

    static BridgeProcess start() throws Exception {
        return start("");
    }

    /** A bridge whose config has {@code extraConfig} (top-level YAML keys) appended. */
    static BridgeProcess start(String extraConfig) throws Exception {
        Path bin = binary();
        if (!Files.isExecutable(bin)) {
            throw new IllegalStateException("no mqbridge binary at " + bin
                    + ": run `cargo build --release` or set MQBRIDGE_BIN");
        }
        Path dir = Files.createTempDirectory("mqbridge-jms-test");
        Path config = dir.resolve("mqbridge.yaml");
        Files.writeString(config, "listeners:\n  amqp:\n    bind: \"127.0.0.1:0\"\n  openwire:\n    bind: \"127.0.0.1:0\"\n"
                + "  http:\n    bind: \"127.0.0.1:0\"\n"
                + "storage:\n  dir: \"" + dir.resolve("data") + "\"\n"
                + "vhosts: [\"/\"]\nusers: []\n" + extraConfig);
        ProcessBuilder pb = new ProcessBuilder(bin.toString(), "run", "--config", config.toString());
        // The log goes to stdout or stderr depending on the build; read both.
        pb.redirectErrorStream(true);
        pb.environment().put("MQBRIDGE_LOG", "info");
        Process p = pb.start();
        CompletableFuture<String[]> address = new CompletableFuture<>();
        CompletableFuture<String[]> openwire = new CompletableFuture<>();
        CompletableFuture<String[]> http = new CompletableFuture<>();
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (log) {
                        log.append(line).append('\n');
                    }
                    Matcher m = LISTENING.matcher(line.replaceAll("\u001B\\[[0-9;]*m", ""));
                    if (m.find()) {
                        String[] found = {m.group(2), m.group(3)};
                        switch (m.group(1)) {
                            case "amqp" -> address.complete(found);
                            case "openwire" -> openwire.complete(found);
                            case "http" -> http.complete(found);
                            default -> { }
                        }
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
            address.completeExceptionally(new IllegalStateException("mqbridge exited before listening"));
            openwire.completeExceptionally(new IllegalStateException("mqbridge exited before listening"));
            http.completeExceptionally(new IllegalStateException("mqbridge exited before listening"));
        }, "mqbridge-log");
        reader.setDaemon(true);
        reader.start();
        try {
            String[] a = address.get(30, TimeUnit.SECONDS);
            String[] o = openwire.get(30, TimeUnit.SECONDS);
            String[] h = http.get(30, TimeUnit.SECONDS);
            return new BridgeProcess(p, a[0], Integer.parseInt(a[1]), Integer.parseInt(o[1]),
                    Integer.parseInt(h[1]), dir);
        } catch (Exception e) {
            p.destroyForcibly();
            synchronized (log) {
                throw new IllegalStateException("mqbridge did not start: " + e + "\n" + log, e);
            }
        }
    }

    String uri(String user, String password) {
        return "mqbridge://" + user + ":" + password + "@" + host + ":" + port + "/";
    }

    String uri() {
        return uri("guest", "guest");
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
