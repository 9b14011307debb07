/*
 * iron-runtime translation benchmark (issue 9: OpenAI Chat Completions <-> Anthropic Messages).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/TranslateBench.java [--quick] [--no-router]
 *
 * Three parts, all in one JVM, each side of every comparison measured interleaved in the same run so
 * the machine's noise hits both:
 *
 * 1. Streams: the per-event cost of translating a realistic streamed answer (200 text deltas of about
 *    four tokens, then a tool call whose arguments come in 20 pieces) with MessagesStreamToChat and
 *    ChatStreamToMessages, next to the floor: parsing the same events' JSON and nothing else.
 * 2. Bodies: Direction.request (plus re-encoding the result, as the router does) for a typical request
 *    (system + 6 turns + 2 tools) and ResponseTranslation.body for a typical answer (text + a tool call),
 *    both ways, next to parsing the same body alone (which every request pays anyway).
 * 3. End to end: a real LlmRouter with keys for both providers, both base URLs on an in-process fake
 *    upstream that answers /v1/chat/completions and /v1/messages with prebuilt bodies and streams. One
 *    request at a time: direct calls to the fake in each format, native calls through the router and
 *    translated calls through the router, plain and streamed (time to last byte), all interleaved.
 *
 * Parts 1 and 2 report medians of rounds after a warm-up; part 3 reports p50 (and p99) of all calls.
 * Only JDK classes and the engine's public API are used (the engine's dependencies are relocated in the
 * shaded jar and are not an API: the parsed trees the translators take are held in `var`s, never named).
 */

import io.ironruntime.Json;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.provider.SseEvent;
import io.ironruntime.provider.SseParser;
import io.ironruntime.router.LlmRouter;
import io.ironruntime.translate.ChatStreamToMessages;
import io.ironruntime.translate.Direction;
import io.ironruntime.translate.MessagesStreamToChat;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

public final class TranslateBench {
    static final String OPENAI_KEY = "sk-bench-openai";
    static final String ANTHROPIC_KEY = "sk-ant-bench";
    static final String GPT = "gpt-4o-mini";
    static final String CLAUDE = "claude-haiku-4-5";
    static final String GPT_DATED = "gpt-4o-mini-2024-07-18";
    static final String CLAUDE_DATED = "claude-haiku-4-5-20251001";
    static final long CREATED = 1_767_225_600L;
    static final int TEXT_DELTAS = 200;
    static final int ARGUMENT_PIECES = 20;

    /** Keeps results alive so the JIT cannot drop the work. */
    static long sink;

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        boolean router = true;
        for (String a : args) {
            switch (a) {
                case "--quick" -> quick = true;
                case "--no-router" -> router = false;
                case "-h", "--help" -> {
                    System.out.println("usage: java -cp target/iron-runtime-0.1.0.jar bench/TranslateBench.java"
                            + " [--quick] [--no-router]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
            }
        }
        // The engine logs through its own relocated SLF4J simple logger: keep its INFO lines out of the table.
        System.setProperty("io.ironruntime.shaded.slf4j.simpleLogger.defaultLogLevel", "warn");
        Wire wire = new Wire();
        System.out.printf(Locale.ROOT, "iron-runtime translation benchmark: %d CPUs, Java %s, load average %.2f%s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), quick ? ", --quick" : "");
        Micro.run(wire, quick);
        int errors = 0;
        if (router) {
            errors = EndToEnd.run(wire, quick);
        }
        System.out.printf(Locale.ROOT, "%nload average at the end %.2f%n",
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        // No orderly stop: the process ends here (as RouterBench does).
        System.exit(errors > 0 ? 2 : 0);
    }

    // ---- the payloads ----------------------------------------------------------------------------

    /**
     * Everything that goes over the wire, built once: requests in both formats, answers in both formats,
     * and the same streamed answer as Anthropic events and as OpenAI chunks.
     */
    static final class Wire {
        final String chatRequest;            // an OpenAI client's request (model filled in per use)
        final String messagesRequest;        // the same conversation as an Anthropic client's request
        final byte[] chatAnswer;             // a chat.completion (text + one tool call)
        final byte[] messageAnswer;          // the same answer as an Anthropic message
        final List<SseEvent> chatStream;     // chat.completion.chunk events, usage chunk and [DONE]
        final List<SseEvent> messagesStream; // Anthropic events, from message_start to message_stop

        Wire() {
            chatRequest = json(chatRequest(CLAUDE, false));
            messagesRequest = json(messagesRequest(GPT, false));
            String answerText = "Lisbon will be mild for your dates: around 19 to 22 degrees in the afternoon, cooler"
                    + " by the river in the evening, and a chance of showers on the second day. Pack a light jacket"
                    + " and comfortable shoes: the old town is hilly and the pavements are slippery when wet. The"
                    + " agency's guide recommends the tram 28 early in the morning, before the queues, and booking"
                    + " the Belem tower online. For Porto I will check the forecast now, since the trip continues"
                    + " there on Thursday and the coast is often windier than the capital at this time of year.";
            String args = "{\"location\":\"Porto, PT\",\"unit\":\"celsius\",\"days\":3,\"include_hourly\":false,"
                    + "\"fields\":[\"temperature\",\"precipitation\",\"wind_speed\"]}";
            chatAnswer = bytes(json(map(
                    "id", "chatcmpl-BbnchQ2rD0v6x7cFZtJ1k9Lm3",
                    "object", "chat.completion",
                    "created", CREATED,
                    "model", GPT_DATED,
                    "choices", list(map(
                            "index", 0,
                            "message", map("role", "assistant", "content", answerText, "refusal", null,
                                    "tool_calls", list(map("id", "call_Ox3kTn8WqZ4vYbLm2sJd0Hfa", "type", "function",
                                            "function", map("name", "get_weather", "arguments", args))),
                                    "annotations", list()),
                            "logprobs", null,
                            "finish_reason", "tool_calls")),
                    "usage", map("prompt_tokens", 812, "completion_tokens", 164, "total_tokens", 976,
                            "prompt_tokens_details", map("cached_tokens", 512, "audio_tokens", 0),
                            "completion_tokens_details", map("reasoning_tokens", 0, "audio_tokens", 0,
                                    "accepted_prediction_tokens", 0, "rejected_prediction_tokens", 0)),
                    "service_tier", "default",
                    "system_fingerprint", "fp_560af6e559")));
            messageAnswer = bytes(json(map(
                    "id", "msg_01XFDUDYJgAACzvnptvVoYEL",
                    "type", "message",
                    "role", "assistant",
                    "model", CLAUDE_DATED,
                    "content", list(
                            map("type", "text", "text", answerText),
                            map("type", "tool_use", "id", "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name", "get_weather",
                                    "input", new RawJson(args))),
                    "stop_reason", "tool_use",
                    "stop_sequence", null,
                    "usage", map("input_tokens", 300, "cache_creation_input_tokens", 0,
                            "cache_read_input_tokens", 512, "output_tokens", 164, "service_tier", "standard"))));

            // The streamed answer: 200 deltas of four words (about four tokens each), then the tool call's
            // arguments in 20 pieces.
            String[] words = answerText.replace(",", "").replace(".", "").replace(":", "").split(" ");
            Random random = new Random(42);
            List<String> deltas = new ArrayList<>();
            for (int i = 0; i < TEXT_DELTAS; i++) {
                StringBuilder d = new StringBuilder();
                for (int w = 0; w < 4; w++) {
                    d.append(i == 0 && w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
                }
                deltas.add(d.toString());
            }
            List<String> pieces = new ArrayList<>();
            for (int i = 0; i < ARGUMENT_PIECES; i++) {
                pieces.add(args.substring(args.length() * i / ARGUMENT_PIECES, args.length() * (i + 1) / ARGUMENT_PIECES));
            }
            chatStream = chatStream(deltas, pieces);
            messagesStream = messagesStream(deltas, pieces);
        }

        static Map<String, Object> chatRequest(String model, boolean stream) {
            Map<String, Object> r = map(
                    "model", model,
                    "messages", list(
                            map("role", "system", "content", SYSTEM),
                            map("role", "user", "content", TURNS[0]),
                            map("role", "assistant", "content", TURNS[1]),
                            map("role", "user", "content", TURNS[2]),
                            map("role", "assistant", "content", null, "tool_calls", list(map(
                                    "id", "call_Qm4Zr8TnVx2LpYd6Hs0Kw1Jb", "type", "function",
                                    "function", map("name", "get_weather", "arguments", TOOL_ARGS)))),
                            map("role", "tool", "tool_call_id", "call_Qm4Zr8TnVx2LpYd6Hs0Kw1Jb", "content", TOOL_RESULT),
                            map("role", "user", "content", TURNS[3])),
                    "tools", list(
                            map("type", "function", "function", map("name", "get_weather",
                                    "description", "Current weather and forecast for a city.", "parameters", WEATHER)),
                            map("type", "function", "function", map("name", "search_docs",
                                    "description", "Search the agency's travel documents.", "parameters", SEARCH))),
                    "temperature", 0.7);
            if (stream) {
                r.put("stream", true);
                r.put("stream_options", map("include_usage", true));
            }
            return r;
        }

        /** The same conversation as Anthropic Messages: the tool result and the last question share a user turn. */
        static Map<String, Object> messagesRequest(String model, boolean stream) {
            Map<String, Object> r = map(
                    "model", model,
                    "max_tokens", 1024,
                    "system", SYSTEM,
                    "messages", list(
                            map("role", "user", "content", TURNS[0]),
                            map("role", "assistant", "content", TURNS[1]),
                            map("role", "user", "content", TURNS[2]),
                            map("role", "assistant", "content", list(map("type", "tool_use",
                                    "id", "toolu_01Qm4Zr8TnVx2LpYd6Hs0Kw", "name", "get_weather",
                                    "input", new RawJson(TOOL_ARGS)))),
                            map("role", "user", "content", list(
                                    map("type", "tool_result", "tool_use_id", "toolu_01Qm4Zr8TnVx2LpYd6Hs0Kw",
                                            "content", TOOL_RESULT),
                                    map("type", "text", "text", TURNS[3])))),
                    "tools", list(
                            map("name", "get_weather", "description", "Current weather and forecast for a city.",
                                    "input_schema", WEATHER),
                            map("name", "search_docs", "description", "Search the agency's travel documents.",
                                    "input_schema", SEARCH)),
                    "temperature", 0.7);
            if (stream) {
                r.put("stream", true);
            }
            return r;
        }

        static final String SYSTEM = "You are the travel assistant of a small agency. Answer briefly and in plain"
                + " language. Use the tools when the user asks about the weather or about the agency's documents;"
                + " never invent prices or opening hours, and say so when you do not know.";
        static final String[] TURNS = {
            "Hi! We are two adults flying to Lisbon next Monday for four nights and then taking the train to Porto."
                    + " Could you suggest what to see on the first day? We like museums and long walks.",
            "Welcome! For a first day in Lisbon: start in Alfama with the castle early, walk down to the cathedral and"
                    + " the Baixa, have lunch near the Time Out market, and spend the afternoon at the Gulbenkian"
                    + " museum. If you still have energy, the sunset from the Santa Catarina viewpoint is lovely.",
            "Sounds great. What will the weather be like in Lisbon while we are there?",
            "Thanks. And will it rain in Porto on Thursday? Also, does the agency have notes on the train?",
        };
        static final String TOOL_ARGS = "{\"location\":\"Lisbon, PT\",\"unit\":\"celsius\",\"days\":4}";
        static final String TOOL_RESULT = "{\"location\":\"Lisbon, PT\",\"forecast\":[{\"day\":\"Mon\",\"high\":22,"
                + "\"low\":15,\"rain\":0.1},{\"day\":\"Tue\",\"high\":21,\"low\":14,\"rain\":0.6},{\"day\":\"Wed\","
                + "\"high\":19,\"low\":14,\"rain\":0.3},{\"day\":\"Thu\",\"high\":20,\"low\":13,\"rain\":0.0}]}";
        static final Map<String, Object> WEATHER = map("type", "object", "properties", map(
                        "location", map("type", "string", "description", "City and country, e.g. Paris, FR"),
                        "unit", map("type", "string", "enum", list("celsius", "fahrenheit")),
                        "days", map("type", "integer", "minimum", 1, "maximum", 10)),
                "required", list("location"));
        static final Map<String, Object> SEARCH = map("type", "object", "properties", map(
                        "query", map("type", "string", "description", "What to look for"),
                        "max_results", map("type", "integer", "minimum", 1, "maximum", 20)),
                "required", list("query"));

        private static List<SseEvent> chatStream(List<String> deltas, List<String> pieces) {
            List<SseEvent> out = new ArrayList<>();
            out.add(chunk(map("role", "assistant", "content", "", "refusal", null), null, true));
            for (String d : deltas) {
                out.add(chunk(map("content", d), null, true));
            }
            out.add(chunk(map("tool_calls", list(map("index", 0, "id", "call_Ox3kTn8WqZ4vYbLm2sJd0Hfa", "type", "function",
                    "function", map("name", "get_weather", "arguments", "")))), null, true));
            for (String p : pieces) {
                out.add(chunk(map("tool_calls", list(map("index", 0, "function", map("arguments", p)))), null, true));
            }
            out.add(chunk(map(), "tool_calls", true));
            Map<String, Object> usage = chunkHead();
            usage.put("choices", list());
            usage.put("usage", map("prompt_tokens", 812, "completion_tokens", 1044, "total_tokens", 1856,
                    "prompt_tokens_details", map("cached_tokens", 512, "audio_tokens", 0),
                    "completion_tokens_details", map("reasoning_tokens", 0, "audio_tokens", 0,
                            "accepted_prediction_tokens", 0, "rejected_prediction_tokens", 0)));
            usage.put("obfuscation", "mQ3eZ");
            out.add(SseEvent.of(null, json(usage)));
            out.add(SseEvent.of(null, "[DONE]"));
            return out;
        }

        private static Map<String, Object> chunkHead() {
            return map("id", "chatcmpl-BbnchQ2rD0v6x7cFZtJ1k9Lm3", "object", "chat.completion.chunk", "created", CREATED,
                    "model", GPT_DATED, "service_tier", "default", "system_fingerprint", "fp_560af6e559");
        }

        private static SseEvent chunk(Map<String, Object> delta, String finish, boolean includeUsage) {
            Map<String, Object> c = chunkHead();
            c.put("choices", list(map("index", 0, "delta", delta, "logprobs", null, "finish_reason", finish)));
            if (includeUsage) {
                c.put("usage", null);
            }
            c.put("obfuscation", "Xq3b");
            return SseEvent.of(null, json(c));
        }

        private static List<SseEvent> messagesStream(List<String> deltas, List<String> pieces) {
            List<SseEvent> out = new ArrayList<>();
            out.add(event("message_start", map("type", "message_start", "message", map(
                    "id", "msg_01XFDUDYJgAACzvnptvVoYEL", "type", "message", "role", "assistant", "model", CLAUDE_DATED,
                    "content", list(), "stop_reason", null, "stop_sequence", null,
                    "usage", map("input_tokens", 300, "cache_creation_input_tokens", 0, "cache_read_input_tokens", 512,
                            "output_tokens", 2, "service_tier", "standard")))));
            out.add(event("content_block_start", map("type", "content_block_start", "index", 0,
                    "content_block", map("type", "text", "text", ""))));
            out.add(event("ping", map("type", "ping")));
            for (String d : deltas) {
                out.add(event("content_block_delta", map("type", "content_block_delta", "index", 0,
                        "delta", map("type", "text_delta", "text", d))));
            }
            out.add(event("content_block_stop", map("type", "content_block_stop", "index", 0)));
            out.add(event("content_block_start", map("type", "content_block_start", "index", 1, "content_block",
                    map("type", "tool_use", "id", "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name", "get_weather", "input", map()))));
            out.add(event("content_block_delta", map("type", "content_block_delta", "index", 1,
                    "delta", map("type", "input_json_delta", "partial_json", ""))));
            for (String p : pieces) {
                out.add(event("content_block_delta", map("type", "content_block_delta", "index", 1,
                        "delta", map("type", "input_json_delta", "partial_json", p))));
            }
            out.add(event("content_block_stop", map("type", "content_block_stop", "index", 1)));
            out.add(event("message_delta", map("type", "message_delta",
                    "delta", map("stop_reason", "tool_use", "stop_sequence", null),
                    "usage", map("output_tokens", 1044))));
            out.add(event("message_stop", map("type", "message_stop")));
            return out;
        }

        private static SseEvent event(String name, Map<String, Object> data) {
            return SseEvent.of(name, json(data));
        }

        /** A streamed answer as the bytes of a chunked HTTP body: one chunk per event, then the last chunk. */
        static List<byte[]> chunked(List<SseEvent> events) {
            List<byte[]> out = new ArrayList<>();
            for (SseEvent e : events) {
                byte[] head = (Integer.toHexString(e.raw().length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
                byte[] c = Arrays.copyOf(head, head.length + e.raw().length + 2);
                System.arraycopy(e.raw(), 0, c, head.length, e.raw().length);
                c[c.length - 2] = '\r';
                c[c.length - 1] = '\n';
                out.add(c);
            }
            out.add("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            return out;
        }
    }

    // ---- parts 1 and 2: the pure translators ------------------------------------------------------

    /** One thing measured: {@code units} of work per call of {@code op} (events of a stream, or one body). */
    record Measure(String name, int units, Op op) {
    }

    interface Op {
        long run() throws Exception;
    }

    static final class Micro {
        static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

        static void run(Wire w, boolean quick) throws Exception {
            // The trees the router holds when a request reaches ModelRouting: parsed once, as the client sent it.
            var chatTree = Json.readOrNull(w.chatRequest);
            var messagesTree = Json.readOrNull(w.messagesRequest);
            byte[] chatRequestBytes = bytes(w.chatRequest);
            byte[] messagesRequestBytes = bytes(w.messagesRequest);
            long[] out = new long[1];
            Consumer<SseEvent> client = e -> out[0] += e.raw().length;

            List<Measure> m = new ArrayList<>();
            m.add(new Measure("Messages events -> chat chunks (MessagesStreamToChat)", w.messagesStream.size(), () -> {
                MessagesStreamToChat t = new MessagesStreamToChat(true, CREATED);
                for (SseEvent e : w.messagesStream) {
                    t.onEvent(e, client);
                }
                t.onEnd(client);
                return out[0];
            }));
            m.add(new Measure("  floor: parse the Messages events' JSON", w.messagesStream.size(),
                    () -> parseAll(w.messagesStream)));
            m.add(new Measure("chat chunks -> Messages events (ChatStreamToMessages)", w.chatStream.size(), () -> {
                ChatStreamToMessages t = new ChatStreamToMessages();
                for (SseEvent e : w.chatStream) {
                    t.onEvent(e, client);
                }
                t.onEnd(client);
                return out[0];
            }));
            m.add(new Measure("  floor: parse the chat chunks' JSON", w.chatStream.size(), () -> parseAll(w.chatStream)));
            // What the router pays per event anyway, translated or not: cutting the bytes into events.
            m.add(new Measure("reference: SseParser.feed, the Messages events' bytes", w.messagesStream.size(),
                    () -> sseParse(w.messagesStream)));
            m.add(new Measure("reference: SseParser.feed, the chat chunks' bytes", w.chatStream.size(),
                    () -> sseParse(w.chatStream)));

            // Request translation as ModelRouting does it: translate the parsed tree, encode the result.
            m.add(new Measure("request chat -> Messages: Direction.request + encode", 1,
                    () -> Json.MAPPER.writeValueAsBytes(Direction.CHAT_TO_MESSAGES.request(chatTree, 0).body()).length));
            m.add(new Measure("  reference: parse the chat request", 1, () -> parsed(chatRequestBytes)));
            m.add(new Measure("request Messages -> chat: Direction.request + encode", 1,
                    () -> Json.MAPPER.writeValueAsBytes(Direction.MESSAGES_TO_CHAT.request(messagesTree, 0).body()).length));
            m.add(new Measure("  reference: parse the Messages request", 1, () -> parsed(messagesRequestBytes)));
            // Answers: ResponseTranslation.body parses, translates and encodes.
            m.add(new Measure("answer Messages -> chat: ResponseTranslation.body", 1,
                    () -> Direction.CHAT_TO_MESSAGES.response(chatTree, CREATED).body(200, w.messageAnswer).length));
            m.add(new Measure("  reference: parse the Messages answer", 1, () -> parsed(w.messageAnswer)));
            m.add(new Measure("answer chat -> Messages: ResponseTranslation.body", 1,
                    () -> Direction.MESSAGES_TO_CHAT.response(messagesTree, CREATED).body(200, w.chatAnswer).length));
            m.add(new Measure("  reference: parse the chat answer", 1, () -> parsed(w.chatAnswer)));

            checkOutputs(w);

            long warmNanos = quick ? 2_000_000_000L : 6_000_000_000L;
            long sliceNanos = quick ? 40_000_000L : 120_000_000L;
            int rounds = quick ? 7 : 15;
            // Warm-up: every op in turn, so the JIT sees them all before anything is measured.
            long warmEnd = System.nanoTime() + warmNanos;
            while (System.nanoTime() < warmEnd) {
                for (Measure x : m) {
                    slice(x, 10_000_000L);
                }
            }
            double[][] perUnit = new double[m.size()][rounds]; // thread CPU time
            double[][] wall = new double[m.size()][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < m.size(); k++) {
                    int i = r % 2 == 0 ? k : m.size() - 1 - k; // the order flips every round
                    double[] cpuAndWall = slice(m.get(i), sliceNanos);
                    perUnit[i][r] = cpuAndWall[0];
                    wall[i][r] = cpuAndWall[1];
                }
            }
            double[] med = new double[m.size()];
            double[] wallMed = new double[m.size()];
            for (int i = 0; i < m.size(); i++) {
                Arrays.sort(perUnit[i]);
                Arrays.sort(wall[i]);
                med[i] = perUnit[i][rounds / 2];
                wallMed[i] = wall[i][rounds / 2];
            }
            System.out.println();
            System.out.printf(Locale.ROOT, "1. Stream translation, per upstream event (%d Anthropic events of %d bytes"
                    + " / %d OpenAI chunks of %d bytes on average%n   per answer: %d text deltas of 4 words, a tool call in"
                    + " %d pieces); medians of %d rounds of %d ms each, after %d s of warm-up.%n   ns per event, thread CPU"
                    + " time (wall time in the last column; x = translation / floor):%n", w.messagesStream.size(),
                    averageBytes(w.messagesStream), w.chatStream.size(), averageBytes(w.chatStream), TEXT_DELTAS,
                    ARGUMENT_PIECES, rounds, sliceNanos / 1_000_000, warmNanos / 1_000_000_000);
            for (int i = 0; i < 6; i++) {
                line(m.get(i).name(), med[i], perUnit[i], wallMed[i], 1, "ns", i % 2 == 1 && i < 4 ? med[i - 1] / med[i] : Double.NaN);
            }
            System.out.printf(Locale.ROOT, "%n2. Body translation (request: system + 6 turns + 2 tools, %d / %d bytes;"
                    + " answer: text + a tool call, %d / %d bytes).%n   us per body, thread CPU time (wall time in the"
                    + " last column; x = translation / parse alone):%n", chatRequestBytes.length,
                    messagesRequestBytes.length, w.messageAnswer.length, w.chatAnswer.length);
            for (int i = 6; i < m.size(); i++) {
                line(m.get(i).name(), med[i], perUnit[i], wallMed[i], 1e3, "us", i % 2 == 1 ? med[i - 1] / med[i] : Double.NaN);
            }
            if (sink == 42) {
                System.out.println(); // never: keeps sink alive
            }
        }

        private static void line(String name, double median, double[] sorted, double wall, double scale, String unit,
                double ratio) {
            String r = Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "x%.1f", ratio);
            System.out.printf(Locale.ROOT, "   %-56s %8.1f %s  (rounds %7.1f-%7.1f)  %-6s wall %8.1f%n", name, median / scale,
                    unit, sorted[0] / scale, sorted[sorted.length - 1] / scale, r, wall / scale);
        }

        /** Runs {@code m} for about {@code nanos} of wall time; returns nanoseconds per unit: thread CPU, wall. */
        private static double[] slice(Measure m, long nanos) throws Exception {
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            long end = t0 + nanos;
            long ops = 0;
            long s = 0;
            long t;
            do {
                s += m.op().run();
                ops++;
                t = System.nanoTime();
            } while (t < end);
            long c1 = THREADS.getCurrentThreadCpuTime();
            sink += s;
            return new double[] {(double) (c1 - c0) / (ops * m.units()), (double) (t - t0) / (ops * m.units())};
        }

        private static long parseAll(List<SseEvent> events) {
            long n = 0;
            for (SseEvent e : events) {
                if (e.data() != null && !e.data().equals("[DONE]")) { // [DONE] is not JSON; the translator checks for it first
                    n += Json.readOrNull(e.data()) != null ? 1 : 0;
                }
            }
            return n;
        }

        private static int averageBytes(List<SseEvent> events) {
            return events.stream().mapToInt(e -> e.raw().length).sum() / events.size();
        }

        private static long sseParse(List<SseEvent> events) {
            long[] n = new long[1];
            SseParser parser = new SseParser();
            for (SseEvent e : events) {
                parser.feed(java.nio.ByteBuffer.wrap(e.raw()), x -> n[0]++);
            }
            return n[0] + parser.finish(x -> n[0]++).length;
        }

        private static long parsed(byte[] body) {
            return Json.readOrNull(body) != null ? 1 : 0;
        }

        /** The translations must succeed and produce what a client expects, or the figures measure an error path. */
        private static void checkOutputs(Wire w) throws Exception {
            List<SseEvent> chunks = new ArrayList<>();
            MessagesStreamToChat toChat = new MessagesStreamToChat(true, CREATED);
            w.messagesStream.forEach(e -> toChat.onEvent(e, chunks::add));
            toChat.onEnd(chunks::add);
            expect(chunks.size() == TEXT_DELTAS + ARGUMENT_PIECES + 5 && chunks.get(chunks.size() - 1).data().equals("[DONE]"),
                    "MessagesStreamToChat gave " + chunks.size() + " chunks");
            List<SseEvent> events = new ArrayList<>();
            ChatStreamToMessages toMessages = new ChatStreamToMessages();
            w.chatStream.forEach(e -> toMessages.onEvent(e, events::add));
            toMessages.onEnd(events::add);
            expect(!events.isEmpty() && "message_stop".equals(events.get(events.size() - 1).event())
                    && events.stream().noneMatch(e -> "error".equals(e.event())), "ChatStreamToMessages did not end with message_stop");
            String completion = new String(Direction.CHAT_TO_MESSAGES.response(Json.readOrNull(w.chatRequest), CREATED)
                    .body(200, w.messageAnswer), StandardCharsets.UTF_8);
            expect(completion.contains("\"tool_calls\"") && completion.contains(CLAUDE_DATED), "answer to chat: " + completion);
            String message = new String(Direction.MESSAGES_TO_CHAT.response(Json.readOrNull(w.messagesRequest), CREATED)
                    .body(200, w.chatAnswer), StandardCharsets.UTF_8);
            expect(message.contains("\"tool_use\"") && message.contains(GPT_DATED), "answer to Messages: " + message);
            String toAnthropic = Direction.CHAT_TO_MESSAGES.request(Json.readOrNull(w.chatRequest), 0).body().toString();
            expect(toAnthropic.contains("\"tool_result\"") && toAnthropic.contains("\"input_schema\""), "request: " + toAnthropic);
            String toOpenAi = Direction.MESSAGES_TO_CHAT.request(Json.readOrNull(w.messagesRequest), 0).body().toString();
            expect(toOpenAi.contains("\"role\":\"tool\"") && toOpenAi.contains("\"parameters\""), "request: " + toOpenAi);
        }
    }

    static void expect(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("unexpected translation: " + what);
        }
    }

    // ---- part 3: end to end through the router ---------------------------------------------------

    static final class EndToEnd {
        static final int PLAIN_PER_STREAM = 3;

        static int run(Wire w, boolean quick) throws Exception {
            FakeUpstream upstream = new FakeUpstream(w);
            upstream.start();
            String origin = "http://127.0.0.1:" + upstream.port();
            LlmRouter router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":{\"openai\":\"" + OPENAI_KEY
                    + "\",\"anthropic\":\"" + ANTHROPIC_KEY + "\"},\"openai_base_url\":\"" + origin
                    + "\",\"anthropic_base_url\":\"" + origin + "\",\"persist\":false}"));
            router.start();
            String token = router.config().localToken();
            int up = upstream.port();
            int rp = router.port();

            // Pairs: [native, translated] for each client format; each with its direct call in the upstream's format.
            List<Call> calls = new ArrayList<>();
            for (boolean stream : new boolean[] {false, true}) {
                String chatGpt = json(Wire.chatRequest(GPT, stream));
                String chatClaude = json(Wire.chatRequest(CLAUDE, stream));
                String msgClaude = json(Wire.messagesRequest(CLAUDE, stream));
                String msgGpt = json(Wire.messagesRequest(GPT, stream));
                calls.add(Call.openAi("direct chat, " + GPT, up, OPENAI_KEY, chatGpt, stream, GPT_DATED));
                calls.add(Call.anthropic("direct messages, " + CLAUDE, up, ANTHROPIC_KEY, msgClaude, stream, CLAUDE_DATED));
                calls.add(Call.openAi("OpenAI client, " + GPT + " (native)", rp, token, chatGpt, stream, GPT_DATED));
                calls.add(Call.openAi("OpenAI client, " + CLAUDE + " (translated)", rp, token, chatClaude, stream, CLAUDE_DATED));
                calls.add(Call.anthropic("Anthropic client, " + CLAUDE + " (native)", rp, token, msgClaude, stream, CLAUDE_DATED));
                calls.add(Call.anthropic("Anthropic client, " + GPT + " (translated)", rp, token, msgGpt, stream, GPT_DATED));
            }

            long warm = quick ? 4_000_000_000L : 15_000_000_000L;
            long measure = quick ? 8_000_000_000L : 50_000_000_000L;
            int[] errors = new int[1];
            // Plain calls alone first: a stream takes as long as ten of them, and the router's per-request code
            // needs thousands of calls before the JIT has compiled it.
            int warmRounds = rounds(calls.subList(0, 6), warm / 2, null, errors);
            warmRounds += rounds(calls, warm / 2, null, errors);
            RouterCpu cpu = new RouterCpu(); // after the warm-up: every router thread exists by now
            int rounds = rounds(calls, measure, cpu, errors);

            System.out.printf(Locale.ROOT, "%n3. End to end, one request at a time, one keep-alive connection per kind,"
                    + " all %d kinds interleaved%n   (%d rounds of 3 plain calls and 1 stream of each kind, after %d warm-up rounds; router with keys for both"
                    + " providers, default settings, persist off).%n   Latency in ms; router CPU = CPU time of the"
                    + " router's %d threads during the call, p50 in us:%n", calls.size(), rounds, warmRounds, cpu.threads());
            report(calls.subList(0, 6), "non-streaming, complete answer");
            report(calls.subList(6, 12), "streamed (" + w.chatStream.size() + " / " + w.messagesStream.size()
                    + " events, sent without pauses), time to last byte");
            if (errors[0] > 0) {
                System.out.println("   " + errors[0] + " calls failed: the figures above are not trustworthy");
            }
            return errors[0];
        }

        /** Calls every kind once per round, the order rotating and flipping, for about {@code nanos}; records when {@code cpu} is set. */
        private static int rounds(List<Call> calls, long nanos, RouterCpu cpu, int[] errors) {
            long end = System.nanoTime() + nanos;
            int n = calls.size();
            int r = 0;
            while (System.nanoTime() < end) {
                for (int k = 0; k < n * PLAIN_PER_STREAM; k++) {
                    int i = r % 2 == 0 ? (r / 2 + k) % n : (n - 1 - k % n + r / 2) % n;
                    Call c = calls.get(i);
                    if (c.stream && k >= n) {
                        continue; // one stream of each kind per round, PLAIN_PER_STREAM plain calls
                    }
                    try {
                        long before = cpu == null ? 0 : cpu.now();
                        long t = c.call();
                        if (cpu != null) {
                            c.routerCpu.add(cpu.now() - before);
                            c.latency.add(t);
                        }
                    } catch (IOException | RuntimeException e) {
                        c.reset();
                        if (++errors[0] <= 5) {
                            System.err.println(c.name + " failed: " + e);
                        }
                        if (errors[0] > 50) {
                            throw new IllegalStateException("too many failed calls");
                        }
                    }
                }
                r++;
            }
            return r;
        }

        /** {@code six}: direct chat, direct messages, then native and translated for each client format. */
        private static void report(List<Call> six, String title) {
            System.out.println("   " + title + ":");
            System.out.printf(Locale.ROOT, "   %-44s %8s %8s %9s %10s%n", "", "p50", "p99", "added p50", "router CPU");
            long dChat = six.get(0).latency.pct(50);
            long dMsg = six.get(1).latency.pct(50);
            row(six.get(0), -1, "");
            row(six.get(1), -1, "");
            // The added latency is the router's p50 minus the direct p50 of the format the upstream speaks.
            long nativeChat = row(six.get(2), dChat, "(- direct chat)");
            long translatedChat = row(six.get(3), dMsg, "(- direct messages)");
            long nativeMsg = row(six.get(4), dMsg, "(- direct messages)");
            long translatedMsg = row(six.get(5), dChat, "(- direct chat)");
            // Same client format: what a user sees when switching models. Same upstream: the same provider answer
            // goes through the same meter and PII stages, so the difference is the translation (request and response).
            System.out.printf(Locale.ROOT, "   translated - native, same client format: OpenAI client %+.3f ms (x%.2f),"
                    + " Anthropic client %+.3f ms (x%.2f)%n", (translatedChat - nativeChat) / 1e6,
                    (double) translatedChat / nativeChat, (translatedMsg - nativeMsg) / 1e6, (double) translatedMsg / nativeMsg);
            System.out.printf(Locale.ROOT, "   translated - native, same upstream:      Claude %+.3f ms (x%.2f),"
                    + " GPT %+.3f ms (x%.2f)%n", (translatedChat - nativeMsg) / 1e6, (double) translatedChat / nativeMsg,
                    (translatedMsg - nativeChat) / 1e6, (double) translatedMsg / nativeChat);
            double[] c = new double[4];
            for (int i = 0; i < 4; i++) {
                c[i] = six.get(2 + i).routerCpu.pct(50) / 1e3;
            }
            System.out.printf(Locale.ROOT, "   router CPU, translated - native:         same client format %+.0f us (x%.2f)"
                    + " and %+.0f us (x%.2f); same upstream %+.0f us (x%.2f) and %+.0f us (x%.2f)%n", c[1] - c[0], c[1] / c[0],
                    c[3] - c[2], c[3] / c[2], c[1] - c[2], c[1] / c[2], c[3] - c[0], c[3] / c[0]);
        }

        private static long row(Call c, long direct, String note) {
            long p50 = c.latency.pct(50);
            String added = direct < 0 ? "" : String.format(Locale.ROOT, "%9.3f", (p50 - direct) / 1e6);
            String cpu = direct < 0 ? "" : String.format(Locale.ROOT, "%10.0f", c.routerCpu.pct(50) / 1e3);
            System.out.printf(Locale.ROOT, "   %-44s %8.3f %8.3f %9s %10s %s%n", c.name, p50 / 1e6, c.latency.pct(99) / 1e6,
                    added, cpu, note);
            return p50 - direct;
        }
    }

    /**
     * CPU time of the router's threads (HttpCore's server reactor, the engine's upstream client and its other
     * "iron-" threads, named as RouterBench groups them). At one call at a time, their CPU between the start
     * and the end of a call is that call's cost to the router, free of the time other processes take the cores.
     */
    static final class RouterCpu {
        private final java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        private final long[] ids;

        RouterCpu() {
            List<Long> found = new ArrayList<>();
            for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
                if (t != null && (t.getThreadName().startsWith("server-") || t.getThreadName().startsWith("httpcore")
                        || t.getThreadName().startsWith("iron-"))) {
                    found.add(t.getThreadId());
                }
            }
            ids = found.stream().mapToLong(Long::longValue).toArray();
        }

        int threads() {
            return ids.length;
        }

        long now() {
            long sum = 0;
            for (long id : ids) {
                sum += Math.max(0, mx.getThreadCpuTime(id));
            }
            return sum;
        }
    }

    /** One kind of call on its own keep-alive connection; checks every answer, since a benchmark of errors is worthless. */
    static final class Call {
        final String name;
        final int port;
        final byte[] request;
        final boolean openAiAnswer;
        final boolean stream;
        final String model;
        final LongList latency = new LongList();
        final LongList routerCpu = new LongList();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream(128 * 1024);
        private Socket socket;
        private HttpIo io;

        private Call(String name, int port, byte[] request, boolean openAiAnswer, boolean stream, String model) {
            this.name = name;
            this.port = port;
            this.request = request;
            this.openAiAnswer = openAiAnswer;
            this.stream = stream;
            this.model = model;
        }

        static Call openAi(String name, int port, String bearer, String body, boolean stream, String model) {
            return new Call(name, port, HttpIo.request("/v1/chat/completions", port, body, "Authorization: Bearer " + bearer
                    + "\r\nUser-Agent: OpenAI/Python 1.99.0\r\nX-Stainless-Lang: python\r\n"), true, stream, model);
        }

        static Call anthropic(String name, int port, String key, String body, boolean stream, String model) {
            return new Call(name, port, HttpIo.request("/v1/messages", port, body, "x-api-key: " + key
                    + "\r\nanthropic-version: 2023-06-01\r\nUser-Agent: Anthropic/Python 0.64.0\r\nX-Stainless-Lang: python\r\n"),
                    false, stream, model);
        }

        long call() throws IOException {
            if (socket == null) {
                socket = new Socket();
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                io = new HttpIo(socket);
            }
            long t0 = System.nanoTime();
            io.out.write(request);
            io.out.flush();
            HttpIo.Head h = io.readHead();
            if (h == null) {
                throw new EOFException("connection closed");
            }
            body.reset();
            io.readBody(h, body);
            long t1 = System.nanoTime();
            check(h);
            if ("close".equalsIgnoreCase(h.headers.get("connection"))) {
                reset();
            }
            return t1 - t0;
        }

        private void check(HttpIo.Head h) throws IOException {
            String b = body.toString(StandardCharsets.UTF_8);
            boolean ok = h.status == 200 && b.contains(model);
            if (stream) {
                ok &= openAiAnswer ? b.contains("chat.completion.chunk") && b.endsWith("data: [DONE]\n\n")
                        : b.contains("event: message_stop") && !b.contains("event: error");
            } else {
                ok &= openAiAnswer ? b.contains("\"chat.completion\"") && b.contains("\"tool_calls\"")
                        : b.contains("\"type\":\"message\"") && b.contains("\"tool_use\"");
            }
            if (!ok) {
                throw new IOException("status " + h.status + ", answer " + b.substring(0, Math.min(300, b.length())));
            }
        }

        void reset() {
            try {
                if (socket != null) {
                    socket.close();
                }
            } catch (IOException ignored) {
                // closing a broken connection
            }
            socket = null;
        }
    }

    /**
     * The provider: answers POST /v1/chat/completions (Bearer key) and /v1/messages (x-api-key and
     * anthropic-version) with a prebuilt answer, or for "stream":true a prebuilt chunked event stream, one
     * write per event. Blocking sockets, a thread per connection, keep-alive.
     */
    static final class FakeUpstream {
        private final ServerSocket server;
        private final byte[] chatAnswer;
        private final byte[] messageAnswer;
        private final List<byte[]> chatStream;
        private final List<byte[]> messagesStream;

        FakeUpstream(Wire w) throws IOException {
            server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
            chatAnswer = w.chatAnswer;
            messageAnswer = w.messageAnswer;
            chatStream = Wire.chunked(w.chatStream);
            messagesStream = Wire.chunked(w.messagesStream);
        }

        int port() {
            return server.getLocalPort();
        }

        void start() {
            Thread t = new Thread(() -> {
                while (true) {
                    try {
                        Socket s = server.accept();
                        s.setTcpNoDelay(true);
                        Thread c = new Thread(() -> serve(s), "fake-upstream-conn");
                        c.setDaemon(true);
                        c.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "fake-upstream");
            t.setDaemon(true);
            t.start();
        }

        private void serve(Socket s) {
            try (s) {
                HttpIo io = new HttpIo(s);
                ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
                for (HttpIo.Head h; (h = io.readHead()) != null; ) {
                    body.reset();
                    io.readBody(h, body);
                    boolean chat = h.target.endsWith("/v1/chat/completions");
                    boolean messages = h.target.endsWith("/v1/messages");
                    boolean authorised = chat ? ("Bearer " + OPENAI_KEY).equals(h.headers.get("authorization"))
                            : messages && ANTHROPIC_KEY.equals(h.headers.get("x-api-key"))
                                    && h.headers.containsKey("anthropic-version");
                    if (!authorised) {
                        byte[] err = bytes("{\"error\":{\"message\":\"bad path or key\",\"type\":\"invalid_request_error\"}}");
                        io.out.write(bytes("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: "
                                + err.length + "\r\n\r\n"));
                        io.out.write(err);
                        io.out.flush();
                        continue;
                    }
                    if (body.toString(StandardCharsets.UTF_8).contains("\"stream\":true")) {
                        io.out.write(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                                + "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n"));
                        for (byte[] c : chat ? chatStream : messagesStream) {
                            io.out.write(c);
                            io.out.flush();
                        }
                    } else {
                        byte[] answer = chat ? chatAnswer : messageAnswer;
                        io.out.write(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                + answer.length + "\r\n\r\n"));
                        io.out.write(answer);
                        io.out.flush();
                    }
                }
            } catch (IOException ignored) {
                // the router closed the connection
            }
        }
    }

    /** Just enough HTTP/1.1 for both ends: heads, Content-Length and chunked bodies, read from one buffer. */
    static final class HttpIo {
        final InputStream in;
        final OutputStream out;
        private final byte[] buf = new byte[64 * 1024];
        private int pos;
        private int lim;

        HttpIo(Socket s) throws IOException {
            in = s.getInputStream();
            out = new java.io.BufferedOutputStream(s.getOutputStream(), 16 * 1024);
        }

        static byte[] request(String path, int port, String body, String headers) {
            byte[] b = bytes(body);
            byte[] head = bytes("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAccept: application/json\r\n"
                    + "Content-Type: application/json\r\n" + headers + "Content-Length: " + b.length + "\r\n\r\n");
            byte[] all = Arrays.copyOf(head, head.length + b.length);
            System.arraycopy(b, 0, all, head.length, b.length);
            return all;
        }

        static final class Head {
            int status;
            String target;
            final Map<String, String> headers = new HashMap<>();
        }

        /** A request or response head, or null at a clean end of the connection. */
        Head readHead() throws IOException {
            String first = line();
            if (first == null) {
                return null;
            }
            Head h = new Head();
            String[] parts = first.split(" ", 3);
            if (first.startsWith("HTTP/")) {
                h.status = Integer.parseInt(parts[1]);
            } else {
                h.target = parts.length > 1 ? parts[1] : "";
            }
            for (String l; (l = line()) != null && !l.isEmpty(); ) {
                int c = l.indexOf(':');
                if (c > 0) {
                    h.headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
                }
            }
            return h;
        }

        void readBody(Head h, ByteArrayOutputStream into) throws IOException {
            String length = h.headers.get("content-length");
            if (length != null) {
                copy(Long.parseLong(length), into);
            } else if ("chunked".equalsIgnoreCase(h.headers.get("transfer-encoding"))) {
                while (true) {
                    String size = line();
                    if (size == null) {
                        throw new EOFException("stream cut");
                    }
                    int semi = size.indexOf(';');
                    long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                    if (n == 0) {
                        while (true) { // trailers, then the blank line
                            String l = line();
                            if (l == null || l.isEmpty()) {
                                return;
                            }
                        }
                    }
                    copy(n, into);
                    line();
                }
            } else if (h.target == null) {
                throw new IOException("response without length or chunked framing");
            }
        }

        private void copy(long n, ByteArrayOutputStream into) throws IOException {
            while (n > 0) {
                if (pos == lim && !fill()) {
                    throw new EOFException("body cut");
                }
                int k = (int) Math.min(n, lim - pos);
                into.write(buf, pos, k);
                pos += k;
                n -= k;
            }
        }

        private String line() throws IOException {
            StringBuilder sb = null;
            while (true) {
                if (pos == lim && !fill()) {
                    if (sb == null) {
                        return null;
                    }
                    throw new EOFException("line cut");
                }
                int start = pos;
                while (pos < lim && buf[pos] != '\n') {
                    pos++;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(new String(buf, start, pos - start, StandardCharsets.ISO_8859_1));
                if (pos < lim) {
                    pos++; // the '\n'
                    int n = sb.length();
                    if (n > 0 && sb.charAt(n - 1) == '\r') {
                        sb.setLength(n - 1);
                    }
                    return sb.toString();
                }
            }
        }

        private boolean fill() throws IOException {
            int n = in.read(buf, 0, buf.length);
            if (n <= 0) {
                return false;
            }
            pos = 0;
            lim = n;
            return true;
        }
    }

    static final class LongList {
        private long[] a = new long[1024];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        /** Nearest-rank percentile. */
        long pct(double p) {
            if (n == 0) {
                return 0;
            }
            long[] s = Arrays.copyOf(a, n);
            Arrays.sort(s);
            return s[Math.max(0, (int) Math.ceil(p / 100 * n) - 1)];
        }
    }

    // ---- a little JSON writer: payloads are written as maps and lists, so every string is escaped right ----

    /** JSON text inserted as it is (a tool's input object). */
    record RawJson(String text) {
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static List<Object> list(Object... items) {
        return new ArrayList<>(Arrays.asList(items));
    }

    static String json(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append('"');
        } else if (v instanceof RawJson r) {
            sb.append(r.text());
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, e.getKey().toString());
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, l.get(i));
            }
            sb.append(']');
        } else {
            sb.append(v); // numbers and booleans
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
