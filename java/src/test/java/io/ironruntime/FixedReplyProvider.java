package io.ironruntime;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A provider on loopback (JDK HttpServer) whose {@code /v1/chat/completions} answers every call with the
 * same JSON body, recording the Authorization header each call carried and its trace headers. Statuses
 * queued with {@link #failNext} answer the next calls instead (a provider error body, no usage).
 */
public final class FixedReplyProvider implements AutoCloseable {
    private final HttpServer server;
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final List<String> traceparents = new CopyOnWriteArrayList<>();
    private final List<List<String>> tracestates = new CopyOnWriteArrayList<>();
    private final java.util.Queue<Integer> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();

    public FixedReplyProvider(String reply) {
        byte[] body = reply.getBytes(StandardCharsets.UTF_8);
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/v1/chat/completions", ex -> {
            authorizations.add(ex.getRequestHeaders().getFirst("Authorization"));
            traceparents.add(String.valueOf(ex.getRequestHeaders().getFirst("traceparent")));
            List<String> state = ex.getRequestHeaders().get("tracestate");
            tracestates.add(state == null ? List.of() : List.copyOf(state));
            ex.getRequestBody().readAllBytes();
            Integer failure = failures.poll();
            byte[] answer = failure == null ? body
                    : "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(failure == null ? 200 : failure, answer.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(answer);
            }
        });
        server.start();
    }

    public String origin() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The Authorization header of each call so far, in order. */
    public List<String> authorizations() {
        return List.copyOf(authorizations);
    }

    /** The traceparent header of each call so far ("null" when absent). */
    public List<String> traceparents() {
        return List.copyOf(traceparents);
    }

    /** The tracestate headers of each call so far. */
    public List<List<String>> tracestates() {
        return List.copyOf(tracestates);
    }

    /** The next calls answer these statuses (with an error body), in order, before the fixed reply again. */
    public void failNext(int... statuses) {
        for (int s : statuses) {
            failures.add(s);
        }
    }

    public int calls() {
        return authorizations.size();
    }

    /** One {@code gpt-4o-mini} chat call through a router at {@code baseUrl} with {@code token}; the status. */
    public static int chat(String baseUrl, String token) throws IOException, InterruptedException {
        java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(java.net.URI.create(baseUrl
                + "/chat/completions"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"))
                .build();
        return java.net.http.HttpClient.newHttpClient().send(req, java.net.http.HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
