package io.ironruntime.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * The Iron Cage server's HTTP API: JSON in, status and JSON out. Blocking (HttpClient 5 classic): it runs
 * on the control threads, never on a request's I/O thread. Never retries by itself; callers decide.
 * The token travels in bodies (and as a Bearer header where the server authenticates with it) and is
 * never part of a message.
 */
public final class ControlClient implements AutoCloseable {
    public static final String PROVIDER_KEY = "/api/v1/agents/provider-key";
    public static final String HANDSHAKE = "/api/v1/budget/handshake";
    public static final String REPORT = "/api/v1/budget/report";
    public static final String REFRESH = "/api/v1/budget/refresh";
    public static final String RETURN = "/api/v1/budget/return";
    public static final String ANALYTICS = "/api/v1/analytics/events";
    /** A reply body larger than this is not an Iron Cage answer. */
    static final int MAX_REPLY_BYTES = 1 << 20;

    private final URI server;
    private final String base;
    private final String icToken;
    private final CloseableHttpClient http;

    /** The server's answer: its status and its JSON body (an empty object when it sent none or not JSON). */
    public record Reply(int status, JsonNode body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    public ControlClient(URI server, String icToken, Duration connectTimeout, Duration responseTimeout) {
        this.server = server;
        String s = server.toString();
        this.base = s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
        this.icToken = icToken;
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(4)
                .setMaxConnPerRoute(4)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(connectTimeout))
                        .setSocketTimeout(Timeout.of(responseTimeout))
                        .build())
                .build();
        this.http = HttpClients.custom()
                .setConnectionManager(pool)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(Timeout.of(responseTimeout))
                        .setConnectionRequestTimeout(Timeout.of(connectTimeout))
                        .build())
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableCookieManagement()
                .setUserAgent("iron-runtime")
                .build();
    }

    public URI server() {
        return server;
    }

    /** A body with the token in it, as every call but report and return needs. */
    public ObjectNode bodyWithToken() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("ic_token", icToken);
        return o;
    }

    /**
     * POSTs {@code body} to {@code path}; {@code bearer} adds {@code Authorization: Bearer <token>}.
     *
     * @throws IOException when the server could not be reached or the exchange broke off
     */
    public Reply post(String path, JsonNode body, boolean bearer) throws IOException {
        HttpPost post = new HttpPost(base + path);
        post.setEntity(new ByteArrayEntity(Json.MAPPER.writeValueAsBytes(body), ContentType.APPLICATION_JSON));
        post.setHeader("Accept", "application/json");
        if (bearer) {
            post.setHeader("Authorization", "Bearer " + icToken);
        }
        return http.execute(post, response -> new Reply(response.getCode(), parse(response.getEntity())));
    }

    private static JsonNode parse(HttpEntity entity) throws IOException {
        if (entity == null) {
            return Json.MAPPER.createObjectNode();
        }
        try (InputStream in = entity.getContent()) {
            byte[] bytes = in.readNBytes(MAX_REPLY_BYTES + 1);
            if (bytes.length > MAX_REPLY_BYTES) {
                throw new IOException("the reply is larger than " + MAX_REPLY_BYTES + " bytes");
            }
            try {
                JsonNode n = Json.MAPPER.readTree(bytes);
                return n == null ? Json.MAPPER.createObjectNode() : n;
            } catch (IOException notJson) {
                return Json.MAPPER.createObjectNode(); // a proxy's HTML error page: the status says enough
            }
        }
    }

    @Override
    public void close() {
        http.close(CloseMode.IMMEDIATE);
    }
}
