package io.ironruntime.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ironruntime.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A short run of the engine that the Python package starts in a separate JVM with
 * {@code -XX:ArchiveClassesAtExit}, so later Python processes map the engine's classes from the
 * archive instead of loading them (about half of a cold start).
 *
 * <p>The archive is written here rather than by the first user process because HotSpot's dump at
 * exit, run inside JPype's JVM shutdown, could crash that process after its work was done. The run
 * drives the {@link RouterBridge} the way Python does: a router in direct mode against a fake
 * provider in this JVM, plain and streamed calls in both wire formats with PII in them, the
 * metrics, budget and events read back, then a stop. Its state lives in a temporary directory that
 * is removed afterwards.
 */
public final class ClassSharingTraining {
    private static final String OPENAI_KEY = "sk-training-0000000000000000";
    private static final String ANTHROPIC_KEY = "sk-ant-training-0000000000000000";
    private static final String PII = "Mail jane.doe@example.com or call +1 415 555 0100, card 4111 1111 1111 1111.";

    private ClassSharingTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path state = Files.createTempDirectory("iron-runtime-cds-");
        HttpServer provider = fakeProvider();
        try {
            String origin = "http://127.0.0.1:" + provider.getAddress().getPort();
            ObjectNode settings = Json.MAPPER.createObjectNode();
            settings.putObject("provider_key").put("openai", OPENAI_KEY).put("anthropic", ANTHROPIC_KEY);
            settings.put("openai_base_url", origin);
            settings.put("anthropic_base_url", origin);
            settings.put("budget", "5");
            settings.put("state_dir", state.toString());
            settings.put("pii", "redact");
            settings.put("pii_scope", "both");
            RouterBridge bridge = RouterBridge.create(settings.toString());
            bridge.start();
            try {
                exercise(bridge);
            } finally {
                bridge.close();
            }
        } finally {
            provider.stop(0);
            deleteTree(state);
        }
    }

    private static void exercise(RouterBridge bridge) throws IOException, InterruptedException {
        int port = bridge.port();
        String token = bridge.localToken();
        String chat = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"" + PII + "\"}]";
        String messages = "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":64,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + PII + "\"}]";
        for (int round = 0; round < 2; round++) {
            post(port, "/v1/chat/completions", "Authorization: Bearer " + token, chat + "}");
            post(port, "/v1/chat/completions", "Authorization: Bearer " + token,
                    chat + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
            post(port, "/v1/messages", "x-api-key: " + token, messages + "}");
            post(port, "/v1/messages", "x-api-key: " + token, messages + ",\"stream\":true}");
        }
        get(port, "/health");
        bridge.flushLedger(5_000);
        bridge.metricsJson();
        bridge.budgetJson();
        bridge.describeJson();
        bridge.pollEventsJson(0);
    }

    private static void post(int port, String path, String auth, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange(port, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
                + "\r\nanthropic-version: 2023-06-01\r\nContent-Type: application/json\r\nContent-Length: "
                + bytes.length + "\r\nConnection: close\r\n\r\n", bytes);
    }

    private static void get(int port, String path) throws IOException {
        exchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", new byte[0]);
    }

    private static void exchange(int port, String head, byte[] body) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            s.getInputStream().readAllBytes();
        }
    }

    // ------------------------------------------------------------------ the fake provider

    private static HttpServer fakeProvider() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/v1/chat/completions", ex -> answer(ex, false));
        server.createContext("/v1/messages", ex -> answer(ex, true));
        server.start();
        return server;
    }

    private static void answer(HttpExchange ex, boolean anthropic) throws IOException {
        String request;
        try (InputStream in = ex.getRequestBody()) {
            request = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        boolean stream = request.contains("\"stream\":true");
        String body = anthropic ? (stream ? messagesStream() : messagesReply()) : (stream ? chatStream() : chatReply());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", stream ? "text/event-stream" : "application/json");
        ex.sendResponseHeaders(200, stream ? 0 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static final String TEXT = "Reply to jane.doe@example.com at +1 415 555 0100.";

    private static String chatReply() {
        return "{\"id\":\"chatcmpl-training\",\"object\":\"chat.completion\",\"created\":1741569952,"
                + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"" + TEXT + "\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}";
    }

    private static String chatStream() {
        String head = "{\"id\":\"chatcmpl-training\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,"
                + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":";
        StringBuilder sb = new StringBuilder();
        for (String word : TEXT.split(" ")) {
            sb.append("data: ").append(head).append("[{\"index\":0,\"delta\":{\"content\":\"").append(word)
                    .append(" \"},\"finish_reason\":null}]}\n\n");
        }
        sb.append("data: ").append(head).append("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        sb.append("data: ").append(head)
                .append("[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}\n\n");
        return sb.append("data: [DONE]\n\n").toString();
    }

    private static String messagesReply() {
        return "{\"id\":\"msg_training\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\","
                + "\"content\":[{\"type\":\"text\",\"text\":\"" + TEXT + "\"}],\"stop_reason\":\"end_turn\","
                + "\"stop_sequence\":null,\"usage\":{\"input_tokens\":30,\"output_tokens\":12}}";
    }

    private static String messagesStream() {
        StringBuilder sb = new StringBuilder();
        event(sb, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_training\",\"type\":\"message\","
                + "\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":null,"
                + "\"usage\":{\"input_tokens\":30,\"output_tokens\":1}}}");
        event(sb, "content_block_start",
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        for (String word : TEXT.split(" ")) {
            event(sb, "content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                    + "\"delta\":{\"type\":\"text_delta\",\"text\":\"" + word + " \"}}");
        }
        event(sb, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
        event(sb, "message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                + "\"usage\":{\"output_tokens\":12}}");
        event(sb, "message_stop", "{\"type\":\"message_stop\"}");
        return sb.toString();
    }

    private static void event(StringBuilder sb, String name, String data) {
        sb.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
