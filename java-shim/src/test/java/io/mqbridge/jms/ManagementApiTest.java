package io.mqbridge.jms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.jms.Connection;
import javax.jms.MessageProducer;
import javax.jms.Session;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Test;

/**
 * The bridge's management API lists the shim's connections under protocol {@code jni}, next
 * to the ActiveMQ client's {@code openwire} ones, and counts what the shim published.
 */
class ManagementApiTest {
    private static String get(BridgeProcess b, String path) throws Exception {
        String auth = Base64.getEncoder().encodeToString("guest:guest".getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + b.host + ":" + b.httpPort + path))
                .header("Authorization", "Basic " + auth)
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    private static int count(String text, String needle) {
        Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void shimConnectionsAreListedAsJni() throws Exception {
        try (BridgeProcess b = BridgeProcess.start()) {
            Connection shim = new MqbridgeConnectionFactory(b.uri("guest", "guest")).createConnection();
            Connection activemq = new ActiveMQConnectionFactory("tcp://" + b.host + ":" + b.openwirePort)
                    .createConnection("guest", "guest");
            try {
                shim.start();
                activemq.start();
                Session s = shim.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("mgmt.api"));
                for (int i = 0; i < 3; i++) {
                    p.send(s.createTextMessage("m" + i));
                }
                String connections = get(b, "/api/connections");
                assertEquals(1, count(connections, "\"protocol\":\"jni\""), connections);
                assertEquals(1, count(connections, "\"protocol\":\"openwire\""), connections);
                assertTrue(connections.contains("\"user\":\"guest\""), connections);
                String overview = get(b, "/api/overview");
                assertTrue(overview.contains("\"jni\":1"), overview);
                String queue = get(b, "/api/queues/%2F/mgmt.api");
                assertTrue(queue.contains("\"messages\":3"), queue);
            } finally {
                shim.close();
                activemq.close();
            }
            String after = get(b, "/api/connections");
            assertEquals(0, count(after, "\"protocol\":\"jni\""), after);
        }
    }
}
