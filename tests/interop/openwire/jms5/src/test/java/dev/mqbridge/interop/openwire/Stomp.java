package dev.mqbridge.interop.openwire;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A tiny raw-socket STOMP 1.2 client (no escaping needed by the tests' header values). */
final class Stomp implements AutoCloseable {
  record Frame(String command, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private Stomp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new java.io.BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  static Stomp connect(String hostPort) throws IOException {
    int colon = hostPort.lastIndexOf(':');
    Socket s = new Socket(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    s.setTcpNoDelay(true);
    Stomp st = new Stomp(s);
    st.send("CONNECT", Map.of("accept-version", "1.2", "host", "/", "login", "guest",
        "passcode", "guest", "heart-beat", "0,0"), null);
    Frame f = st.read(10_000);
    if (f == null || !f.command().equals("CONNECTED")) {
      st.close();
      throw new IOException("STOMP CONNECT to " + hostPort + " answered " + f);
    }
    return st;
  }

  void send(String command, Map<String, String> headers, byte[] body) throws IOException {
    StringBuilder sb = new StringBuilder(command).append('\n');
    for (Map.Entry<String, String> h : headers.entrySet()) {
      sb.append(h.getKey()).append(':').append(h.getValue()).append('\n');
    }
    sb.append('\n');
    out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    if (body != null) {
      out.write(body);
    }
    out.write(0);
    out.flush();
  }

  /** SEND with a receipt; returns once the RECEIPT came back. */
  void sendWithReceipt(Map<String, String> headers, byte[] body) throws IOException {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put("receipt", "r-" + System.nanoTime());
    send("SEND", h, body);
    Frame f = read(10_000);
    if (f == null || !f.command().equals("RECEIPT") || !h.get("receipt").equals(f.headers().get("receipt-id"))) {
      throw new IOException("no RECEIPT for SEND: " + f);
    }
  }

  /** The next frame, or null after timeoutMs without one. */
  Frame read(long timeoutMs) throws IOException {
    socket.setSoTimeout((int) timeoutMs);
    try {
      int b = in.read();
      while (b == '\n' || b == '\r') { // heart-beats
        b = in.read();
      }
      if (b < 0) {
        return null;
      }
      String command = (char) b + line();
      Map<String, String> headers = new LinkedHashMap<>();
      for (String l = line(); !l.isEmpty(); l = line()) {
        int c = l.indexOf(':');
        headers.putIfAbsent(l.substring(0, c), l.substring(c + 1));
      }
      byte[] body;
      if (headers.containsKey("content-length")) {
        body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        in.read(); // NUL
      } else {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        for (int x = in.read(); x > 0; x = in.read()) {
          bo.write(x);
        }
        body = bo.toByteArray();
      }
      return new Frame(command, headers, body);
    } catch (SocketTimeoutException e) {
      return null;
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    for (int x = in.read(); x != '\n'; x = in.read()) {
      if (x < 0) {
        throw new IOException("STOMP connection closed");
      }
      bo.write(x);
    }
    String s = bo.toString(StandardCharsets.UTF_8);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  @Override
  public void close() throws IOException {
    try {
      send("DISCONNECT", Map.of(), null);
    } catch (IOException ignored) {
      // already closed
    }
    socket.close();
  }
}
