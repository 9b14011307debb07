package io.ironruntime;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.router.LlmRouter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Plain HTTP to a router's own endpoints and its chat route, with its admin token unless told otherwise. */
public final class AdminClient {
    private final HttpClient http = HttpClient.newHttpClient();
    private final LlmRouter router;

    /** A reply; {@code json} is null when the body is not JSON. */
    public record Reply(int status, String body, JsonNode json) {
        public String errorCode() {
            return json == null ? null : json.path("error").path("code").asText(null);
        }

        public String errorMessage() {
            return json == null ? null : json.path("error").path("message").asText(null);
        }
    }

    public AdminClient(LlmRouter router) {
        this.router = router;
    }

    public Reply get(String path) {
        return send("GET", path, "Authorization", "Bearer " + router.config().adminToken());
    }

    public Reply post(String path) {
        return send("POST", path, "Authorization", "Bearer " + router.config().adminToken());
    }

    /** {@code headers}: name, value, name, value... (none: no token at all). */
    public Reply send(String method, String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            if (r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
                json = Json.MAPPER.readTree(r.body());
            }
            return new Reply(r.statusCode(), r.body(), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One chat completion through the router with its client token; returns the status. */
    public int chat(String model, String text) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(router.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + router.config().localToken())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model + "\",\"max_tokens\":20,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}"))
                .build();
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
