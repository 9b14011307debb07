/*
 * iron-runtime router benchmark (issue 2, "Performance").
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/RouterBench.java [--quick] [--seconds N] [options]
 *
 * One JVM holds everything: a fast fake OpenAI upstream, the engine's LlmRouter in front of it, and a
 * load generator that sends the same requests to the upstream directly and through the router,
 * interleaved in the same run so that machine noise (this is meant to run on small, shared boxes)
 * hits both sides alike. Only JDK classes and the engine's public API are used: the engine's own
 * dependencies are relocated inside the shaded jar and are not an API.
 *
 * Options (see bench/README.md):
 *   --quick            ~15 s smoke run (short warm-up and sections; the JIT is not warm: figures are rough)
 *   --seconds N        measuring time split over the sections (default 60; warm-up comes on top)
 *   --warmup N         warm-up seconds, extended up to 2N until the JIT is quiet (default 20, quick 3)
 *   --concurrency N    connections for the concurrent section (default 64)
 *   --events N         content events per stream (default 20)
 *   --gap-ms X         upstream pause between stream events (default 5)
 *   --phase-ms N       length of one direct/router slice in the concurrent section (default 250)
 *   --client raw|jdk   load generator: raw keep-alive sockets (default) or java.net.http.HttpClient
 *   --baseline         also measure a trivial blocking JDK-only proxy, as a floor for "one extra hop"
 *   --budget           also measure a second router with a budget and the SQLite ledger on (issue 3);
 *                      the plain router then runs without budget and without ledger (cost tracking stays on)
 *   --pii              also measure a second router with PII redaction on (issue 4, the default);
 *                      the plain router then runs with pii=off
 *   --resilience       also measure a second router with every issue-5 defence engaged (circuit breaker,
 *                      retries, rate limits so high they never refuse); the plain router then runs with
 *                      circuit_breaker=False and max_retries=0 (its in-flight gate and deadlines stay on)
 *   --feeds            also measure a second router with two live-feed subscribers that never read (a
 *                      WebSocket and an SSE stream, opened again whenever the router drops them); the
 *                      plain router has none (issue 7: slow subscribers never slow the proxy)
 *   --readers          with --feeds: the plain router has two subscribers that read everything, so (h)
 *                      compares stuck subscribers with healthy ones
 *   --prompt-kb N      pad each request with an N KiB earlier turn (default: a ~260-byte request)
 *   --threads          diagnostics: list the busiest threads at the end
 *   --soak N           diagnostics: after warm-up, load the router alone for N s (attach perf/JFR)
 */

import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.router.LlmRouter;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

public final class RouterBench {
    static final String PROVIDER_KEY = "sk-bench";
    static final String PATH = "/v1/chat/completions";

    // ---- options ---------------------------------------------------------------------------------

    static final class Options {
        boolean quick;
        double seconds = 60;
        double warmup = 20;
        int concurrency = 64;
        int events = 20;
        double gapMs = 5;
        int phaseMs = 250;
        String client = "raw";
        boolean baseline;
        boolean budget;
        boolean pii;
        boolean resilience;
        boolean feeds;
        boolean readers;
        boolean threads;
        double soak;
        int promptKb;

        static Options parse(String[] args) {
            Options o = new Options();
            boolean secondsGiven = false;
            boolean warmupGiven = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--quick" -> o.quick = true;
                    case "--baseline" -> o.baseline = true;
                    case "--budget" -> o.budget = true;
                    case "--pii" -> o.pii = true;
                    case "--resilience" -> o.resilience = true;
                    case "--feeds" -> o.feeds = true;
                    case "--readers" -> o.readers = true;
                    case "--threads" -> o.threads = true;
                    case "--soak" -> o.soak = Double.parseDouble(value(args, ++i, a));
                    case "--prompt-kb" -> o.promptKb = Integer.parseInt(value(args, ++i, a));
                    case "--seconds" -> { o.seconds = Double.parseDouble(value(args, ++i, a)); secondsGiven = true; }
                    case "--warmup" -> { o.warmup = Double.parseDouble(value(args, ++i, a)); warmupGiven = true; }
                    case "--concurrency" -> o.concurrency = Integer.parseInt(value(args, ++i, a));
                    case "--events" -> o.events = Integer.parseInt(value(args, ++i, a));
                    case "--gap-ms" -> o.gapMs = Double.parseDouble(value(args, ++i, a));
                    case "--phase-ms" -> o.phaseMs = Integer.parseInt(value(args, ++i, a));
                    case "--client" -> o.client = value(args, ++i, a);
                    case "-h", "--help" -> {
                        System.out.println("usage: java -cp target/iron-runtime-0.1.0.jar bench/RouterBench.java"
                                + " [--quick] [--seconds N] [--warmup N] [--concurrency N] [--events N]"
                                + " [--gap-ms X] [--phase-ms N] [--client raw|jdk] [--baseline] [--feeds] [--prompt-kb N] [--threads] [--soak N]");
                        System.exit(0);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
                }
            }
            if (o.quick) {
                if (!secondsGiven) {
                    o.seconds = 10;
                }
                if (!warmupGiven) {
                    o.warmup = 3;
                }
            }
            if (!o.client.equals("raw") && !o.client.equals("jdk")) {
                throw new IllegalArgumentException("--client must be raw or jdk");
            }
            return o;
        }

        private static String value(String[] args, int i, String name) {
            if (i >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            return args[i];
        }
    }

    // ---- main ------------------------------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Payloads.requests(o.promptKb);
        // The engine logs through its own relocated SLF4J simple logger: keep its INFO lines out of the table.
        System.setProperty("io.ironruntime.shaded.slf4j.simpleLogger.defaultLogLevel", "warn");
        long gapNanos = (long) (o.gapMs * 1_000_000);
        FakeUpstream upstream = new FakeUpstream(o.events, gapNanos);
        upstream.start();

        String common = "\"provider_key\":\"" + PROVIDER_KEY + "\",\"openai_base_url\":\"http://127.0.0.1:"
                + upstream.port() + "\"";
        // The plain router keeps no ledger file: a benchmark should not grow the user's database.
        LlmRouter router = new LlmRouter(RouterConfigReader.fromJson("{" + common + ",\"persist\":false"
                + (o.pii ? ",\"pii\":\"off\"" : "")
                + (o.resilience ? ",\"circuit_breaker\":false,\"max_retries\":0" : "") + "}"));
        router.start();

        List<Target> targets = new ArrayList<>();
        targets.add(new Target("direct", upstream.port(), PROVIDER_KEY));
        targets.add(new Target("router", router.port(), router.config().localToken()));
        TrivialProxy trivial = null;
        if (o.baseline) {
            trivial = new TrivialProxy(upstream.port());
            trivial.start();
            targets.add(new Target("trivial", trivial.port(), PROVIDER_KEY));
        } else if (o.budget) {
            // A budget that never runs out (every request reserves and settles) and the ledger in a temp dir.
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("iron-bench-ledger-");
            LlmRouter budgeted = new LlmRouter(RouterConfigReader.fromJson("{" + common
                    + ",\"budget\":1000000,\"budget_id\":\"bench\",\"state_dir\":\"" + dir + "\"}"));
            budgeted.start();
            targets.add(new Target("budget", budgeted.port(), budgeted.config().localToken()));
        } else if (o.resilience) {
            LlmRouter defended = new LlmRouter(RouterConfigReader.fromJson("{" + common + ",\"persist\":false,"
                    + "\"rate_limits\":{\"rpm\":1000000000,\"tpm\":10000000000}}"));
            defended.start();
            targets.add(new Target("resil", defended.port(), defended.config().localToken()));
        } else if (o.feeds) {
            LlmRouter watched = new LlmRouter(RouterConfigReader.fromJson("{" + common + ",\"persist\":false}"));
            watched.start();
            stuckFeeds = new FeedSubscribers(watched, false);
            stuckFeeds.start();
            if (o.readers) {
                new FeedSubscribers(router, true).start();
            }
            targets.add(new Target("feeds", watched.port(), watched.config().localToken()));
        } else if (o.pii) {
            LlmRouter guarded = new LlmRouter(RouterConfigReader.fromJson("{" + common + ",\"persist\":false,\"pii\":\"redact\"}"));
            guarded.start();
            targets.add(new Target("pii", guarded.port(), guarded.config().localToken()));
        }
        Bench b = new Bench(o, targets, upstream);
        double load0 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        System.out.printf(Locale.ROOT, "iron-runtime router benchmark: %d CPUs, Java %s, client=%s, router %s,"
                        + " fake upstream :%d%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), o.client, router.baseUrl(), upstream.port());

        b.warmup(o.warmup);
        b.connections("warm-up");
        if (o.soak > 0) {
            // Diagnostics: load the router alone so a profiler (perf, strace, JFR) can attach cleanly.
            b.soak(o.soak);
            System.exit(0);
        }
        Result r = new Result();
        r.c1 = b.sequential(o.seconds * 0.25);
        r.c1Cpu = b.lastSectionCpu;
        b.connections("(a)");
        r.cN = b.concurrent(o.seconds * 0.30);
        b.connections("(b)/(d)");
        r.stream = b.streaming(o.seconds * 0.45);
        r.streamCpu = b.lastSectionCpu;
        b.connections("(c)");
        r.loadBefore = load0;
        r.loadAfter = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        r.print(o, targets, b.errors.get());
        if (o.threads) {
            Cpu.printTopThreads(15);
        }
        // No orderly stop: the process ends here, and stopping is the engine tests' business, not a benchmark's.
        System.exit(b.errors.get() > 0 ? 2 : 0);
    }

    // ---- targets and callers ---------------------------------------------------------------------

    /** Something to send chat completions to: the upstream itself, the router, or the trivial proxy. */
    static final class Target {
        final String name;
        final int port;
        final String bearer;
        /** Connections the load generator opened to this target (keep-alive should make it ~N callers). */
        final AtomicLong connects = new AtomicLong();
        final byte[] plainRequest;
        final byte[] streamRequest;
        final byte[] warmStreamRequest; // same stream, but the upstream sends it without pauses

        Target(String name, int port, String bearer) {
            this.name = name;
            this.port = port;
            this.bearer = bearer;
            this.plainRequest = rawRequest(Payloads.PLAIN_REQUEST, null);
            this.streamRequest = rawRequest(Payloads.STREAM_REQUEST, null);
            this.warmStreamRequest = rawRequest(Payloads.STREAM_REQUEST, "0");
        }

        /** The bytes an SDK would send (header set modelled on the openai Python SDK). */
        private byte[] rawRequest(byte[] body, String gapMicros) {
            StringBuilder sb = new StringBuilder(512);
            sb.append("POST ").append(PATH).append(" HTTP/1.1\r\n");
            sb.append("Host: 127.0.0.1:").append(port).append("\r\n");
            for (String[] h : headers(gapMicros)) {
                sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
            }
            sb.append("Content-Length: ").append(body.length).append("\r\n\r\n");
            byte[] head = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
            byte[] all = Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            return all;
        }

        List<String[]> headers(String gapMicros) {
            List<String[]> h = new ArrayList<>(List.of(
                    new String[] {"Accept", "application/json"},
                    new String[] {"Content-Type", "application/json"},
                    new String[] {"User-Agent", "OpenAI/Python 1.52.0"},
                    new String[] {"X-Stainless-Lang", "python"},
                    new String[] {"X-Stainless-Package-Version", "1.52.0"},
                    new String[] {"X-Stainless-Runtime", "CPython"},
                    new String[] {"X-Stainless-Retry-Count", "0"},
                    new String[] {"Authorization", "Bearer " + bearer}));
            if (gapMicros != null) {
                h.add(new String[] {FakeUpstream.GAP_HEADER, gapMicros});
            }
            return h;
        }
    }

    /** One client's handle on one target; not thread-safe (one per worker thread and target). */
    interface Caller {
        /** A non-streaming chat completion; returns its latency in nanoseconds. */
        long plain() throws IOException, InterruptedException;

        /** A streaming chat completion, recorded into {@code rec}. */
        void stream(StreamRecord rec, boolean warm) throws IOException, InterruptedException;

        /** Closes the connection, so that no section leaves sockets for the GC to close later. */
        default void close() {
        }
    }

    interface CallerFactory {
        Caller open(Target t);
    }

    /**
     * The default load generator: one keep-alive socket per caller, requests written as prebuilt bytes
     * and responses parsed in place. Its own cost is a few microseconds per request, so almost all of
     * the "direct" time is the loopback round trip and the upstream, and the router's share stands out.
     */
    static final class RawCaller implements Caller, Wire.Sink {
        private final Target target;
        private Socket socket;
        private Wire in;
        private OutputStream out;
        private long bodyBytes;

        RawCaller(Target target) {
            this.target = target;
        }

        private void open() throws IOException {
            if (socket == null) {
                socket = new Socket();
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.port));
                target.connects.incrementAndGet();
                in = new Wire(socket.getInputStream(), 64 * 1024);
                out = socket.getOutputStream();
            }
        }

        @Override
        public void close() {
            reset();
        }

        private void reset() {
            try {
                if (socket != null) {
                    socket.close();
                }
            } catch (IOException ignored) {
                // closing a broken socket
            }
            socket = null;
        }

        @Override
        public long plain() throws IOException {
            try {
                open();
                long t0 = System.nanoTime();
                out.write(target.plainRequest);
                Head h = in.readHead(false);
                if (h == null) {
                    throw new EOFException(target.name + " closed the connection");
                }
                bodyBytes = 0;
                in.readBody(h, this);
                long t1 = System.nanoTime();
                Checks.plain(target, h.status(), bodyBytes);
                if (h.close) {
                    reset();
                }
                return t1 - t0;
            } catch (IOException | RuntimeException e) {
                reset();
                throw e;
            }
        }

        @Override
        public void accept(byte[] b, int off, int len, long arrival) {
            bodyBytes += len;
        }

        @Override
        public void stream(StreamRecord rec, boolean warm) throws IOException {
            try {
                open();
                long t0 = System.nanoTime();
                out.write(warm ? target.warmStreamRequest : target.streamRequest);
                Head h = in.readHead(false);
                if (h == null) {
                    throw new EOFException(target.name + " closed the connection");
                }
                Checks.streamHead(target, h.status(), h.get("content-type"));
                SseScanner sc = new SseScanner(t0, rec);
                in.readBody(h, sc);
                sc.end(target);
                if (h.close) {
                    reset();
                }
            } catch (IOException | RuntimeException e) {
                reset();
                throw e;
            }
        }
    }

    /**
     * java.net.http.HttpClient as the load generator (--client jdk), for comparison. Its selector
     * thread and executor hand-offs add tens to hundreds of microseconds and a lot of jitter per
     * request on a 2-core machine, which is why it is not the default.
     */
    static final class JdkCaller implements Caller {
        private final HttpClient client;
        private final Target target;
        private final HttpRequest plain;
        private final HttpRequest stream;
        private final HttpRequest warmStream;

        JdkCaller(HttpClient client, Target target) {
            this.client = client;
            this.target = target;
            this.plain = request(Payloads.PLAIN_REQUEST, null);
            this.stream = request(Payloads.STREAM_REQUEST, null);
            this.warmStream = request(Payloads.STREAM_REQUEST, "0");
        }

        private HttpRequest request(byte[] body, String gap) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port + PATH))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body));
            for (String[] h : target.headers(gap)) {
                b.header(h[0], h[1]);
            }
            return b.build();
        }

        @Override
        public long plain() throws IOException, InterruptedException {
            long t0 = System.nanoTime();
            HttpResponse<byte[]> r = client.send(plain, HttpResponse.BodyHandlers.ofByteArray());
            long t1 = System.nanoTime();
            Checks.plain(target, r.statusCode(), r.body().length);
            return t1 - t0;
        }

        @Override
        public void stream(StreamRecord rec, boolean warm) throws IOException, InterruptedException {
            long t0 = System.nanoTime();
            HttpResponse<InputStream> r = client.send(warm ? warmStream : stream,
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = r.body()) {
                Checks.streamHead(target, r.statusCode(), r.headers().firstValue("content-type").orElse(null));
                SseScanner sc = new SseScanner(t0, rec);
                byte[] buf = new byte[16 * 1024];
                for (int n; (n = body.read(buf)) >= 0; ) {
                    sc.accept(buf, 0, n, System.nanoTime());
                }
                sc.end(target);
            }
        }
    }

    /** Fails a call whose answer is not what the upstream sends: a benchmark of errors is worthless. */
    static final class Checks {
        static void plain(Target t, int status, long bodyBytes) throws IOException {
            if (status != 200 || bodyBytes != Payloads.PLAIN_RESPONSE_BODY.length) {
                throw new IOException(t.name + ": status " + status + ", " + bodyBytes + " body bytes (expected 200, "
                        + Payloads.PLAIN_RESPONSE_BODY.length + ")");
            }
        }

        static void streamHead(Target t, int status, String contentType) throws IOException {
            if (status != 200 || contentType == null || !contentType.startsWith("text/event-stream")) {
                throw new IOException(t.name + ": stream answered " + status + " " + contentType);
            }
        }
    }

    // ---- measurement -----------------------------------------------------------------------------

    /** Sample lists of one target in one section. */
    static final class Series {
        final LongList latency = new LongList();
        long completed;
        long phaseNanos;
        final long[] cpu = new long[Cpu.GROUPS.length];
    }

    /** Per-target record of streaming calls. */
    static final class StreamRecord {
        final LongList ttfe = new LongList();
        final LongList eventDelay = new LongList();
        long streams;
    }

    static final class Result {
        Series[] c1;
        Series[] cN;
        StreamRecord[] stream;
        long[] c1Cpu;
        long[] streamCpu;
        double loadBefore;
        double loadAfter;

        void print(Options o, List<Target> targets, long errors) {
            int n = targets.size();
            boolean base = n > 2;
            String stamp = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            System.out.println();
            System.out.printf(Locale.ROOT, "Results (%s; load average %.2f before, %.2f after; %d call errors)%n",
                    stamp, loadBefore, loadAfter, errors);
            System.out.println("All latencies in ms. 'added' = router percentile minus direct percentile,"
                    + " measured interleaved in this run.");
            String header = String.format(Locale.ROOT, "%-34s %9s %9s %9s  %-10s %-4s", "measure", "direct", "router",
                    "added", "target", "");
            String third = base ? targets.get(2).name : "";
            if (base) {
                header += String.format(Locale.ROOT, " %9s %9s", third, third.charAt(0) + ".added");
            }
            System.out.println(header);
            System.out.println("-".repeat(header.length()));

            row("(a) non-stream c=1      p50", c1[0].latency.pct(50), c1[1].latency.pct(50),
                    base ? c1[2].latency.pct(50) : -1, 0.3);
            row("                        p99", c1[0].latency.pct(99), c1[1].latency.pct(99),
                    base ? c1[2].latency.pct(99) : -1, 2.0);
            String cn = "(b) non-stream c=" + o.concurrency;
            row(String.format("%-24s p50", cn), cN[0].latency.pct(50), cN[1].latency.pct(50),
                    base ? cN[2].latency.pct(50) : -1, Double.NaN);
            row("                        p99", cN[0].latency.pct(99), cN[1].latency.pct(99),
                    base ? cN[2].latency.pct(99) : -1, Double.NaN);
            row("(c) stream first event  p50", stream[0].ttfe.pct(50), stream[1].ttfe.pct(50),
                    base ? stream[2].ttfe.pct(50) : -1, Double.NaN);
            row("                        p99", stream[0].ttfe.pct(99), stream[1].ttfe.pct(99),
                    base ? stream[2].ttfe.pct(99) : -1, Double.NaN);
            row("    per-event delay     p50", stream[0].eventDelay.pct(50), stream[1].eventDelay.pct(50),
                    base ? stream[2].eventDelay.pct(50) : -1, Double.NaN);
            row("                        p99", stream[0].eventDelay.pct(99), stream[1].eventDelay.pct(99),
                    base ? stream[2].eventDelay.pct(99) : -1, 0.5);

            double[] rps = new double[n];
            for (int i = 0; i < n; i++) {
                rps[i] = cN[i].completed / (cN[i].phaseNanos / 1e9);
            }
            double ratio = rps[1] / rps[0];
            String tp = String.format(Locale.ROOT, "%-34s %9.0f %9.0f %9s  %-10s %-4s", "(d) throughput c=" + o.concurrency
                    + " req/s", rps[0], rps[1], String.format(Locale.ROOT, "x%.2f", ratio), ">= x0.50",
                    ratio >= 0.5 ? "ok" : "MISS");
            if (base) {
                tp += String.format(Locale.ROOT, " %9.0f %9s", rps[2], String.format(Locale.ROOT, "x%.2f", rps[2] / rps[0]));
            }
            System.out.println(tp);
            if (o.budget) {
                double kept = rps[2] / rps[1];
                System.out.println(String.format(Locale.ROOT, "%-34s %9.0f %9.0f %9s  %-10s %-4s",
                        "(e) budget+ledger / router req/s", rps[1], rps[2], String.format(Locale.ROOT, "x%.2f", kept),
                        ">= x0.90", kept >= 0.9 ? "ok" : "MISS"));
            }
            if (o.resilience) {
                double kept = rps[2] / rps[1];
                System.out.println(String.format(Locale.ROOT, "%-34s %9.0f %9.0f %9s  %-10s %-4s",
                        "(g) defences on / off req/s", rps[1], rps[2], String.format(Locale.ROOT, "x%.2f", kept), "", ""));
                for (int q : new int[] {50, 99}) {
                    System.out.println(String.format(Locale.ROOT, "%-34s %9.3f %9.3f %9.3f",
                            "(g) c=1 latency off/on p" + q, c1[1].latency.pct(q) / 1e6, c1[2].latency.pct(q) / 1e6,
                            (c1[2].latency.pct(q) - c1[1].latency.pct(q)) / 1e6));
                }
            }
            if (o.feeds) {
                double kept = rps[2] / rps[1];
                String none = o.readers ? "reading" : "none";
                System.out.println(String.format(Locale.ROOT, "%-34s %9.0f %9.0f %9s  %-10s %-4s",
                        "(h) stuck feeds / " + none + " req/s", rps[1], rps[2], String.format(Locale.ROOT, "x%.2f", kept), "", ""));
                for (int q : new int[] {50, 99}) {
                    System.out.println(String.format(Locale.ROOT, "%-34s %9.3f %9.3f %9.3f",
                            "(h) c=1 latency " + none + "/stuck p" + q, c1[1].latency.pct(q) / 1e6, c1[2].latency.pct(q) / 1e6,
                            (c1[2].latency.pct(q) - c1[1].latency.pct(q)) / 1e6));
                }
                for (int q : new int[] {50, 99}) {
                    System.out.println(String.format(Locale.ROOT, "%-34s %9.3f %9.3f %9.3f",
                            "(h) per-event " + none + "/stuck p" + q, stream[1].eventDelay.pct(q) / 1e6,
                            stream[2].eventDelay.pct(q) / 1e6,
                            (stream[2].eventDelay.pct(q) - stream[1].eventDelay.pct(q)) / 1e6));
                }
                System.out.println(stuckFeeds.summary());
            }
            if (o.pii) {
                double kept = rps[2] / rps[1];
                System.out.println(String.format(Locale.ROOT, "%-34s %9.0f %9.0f %9s  %-10s %-4s",
                        "(f) pii=redact / pii=off req/s", rps[1], rps[2], String.format(Locale.ROOT, "x%.2f", kept), "", ""));
                for (int q : new int[] {50, 99}) {
                    double added = (stream[2].eventDelay.pct(q) - stream[1].eventDelay.pct(q)) / 1e6;
                    System.out.println(String.format(Locale.ROOT, "%-34s %9.3f %9.3f %9.3f  %-10s %-4s",
                            "(f) per-event delay pii-off p" + q, stream[1].eventDelay.pct(q) / 1e6,
                            stream[2].eventDelay.pct(q) / 1e6, added, q == 99 ? "<= 0.2" : "",
                            q == 99 ? (added <= 0.2 ? "ok" : "MISS") : ""));
                }
            }

            System.out.println();
            System.out.print("samples: c=1 " + c1[0].latency.size() + "/" + c1[1].latency.size());
            System.out.print(", c=" + o.concurrency + " " + cN[0].latency.size() + "/" + cN[1].latency.size());
            System.out.println(", streams " + stream[0].streams + "/" + stream[1].streams + " (events "
                    + stream[0].eventDelay.size() + "/" + stream[1].eventDelay.size() + ")"
                    + " [direct/router]");

            // Where the CPU went in the concurrent section: thread CPU time per request, by owner.
            System.out.println();
            System.out.println("CPU per request in (b)/(d), microseconds (thread CPU time; 'other' = rest of"
                    + " the process: GC, JIT, ...):");
            StringBuilder h = new StringBuilder(String.format("%-9s", "target"));
            for (String g : Cpu.GROUPS) {
                h.append(String.format("%10s", g));
            }
            h.append(String.format("%10s", "total"));
            System.out.println(h);
            for (int i = 0; i < n; i++) {
                StringBuilder line = new StringBuilder(String.format("%-9s", targets.get(i).name));
                long total = 0;
                for (long c : cN[i].cpu) {
                    total += c;
                }
                for (long c : cN[i].cpu) {
                    line.append(String.format(Locale.ROOT, "%10.1f", c / 1e3 / cN[i].completed));
                }
                line.append(String.format(Locale.ROOT, "%10.1f", total / 1e3 / cN[i].completed));
                System.out.println(line);
            }
            // At c=1 and in streams the proxy threads serve only their own target's calls, so their CPU
            // divided by those calls is the proxy's own cost, free of the load of the other target.
            StringBuilder one = new StringBuilder(String.format(Locale.ROOT,
                    "proxy thread CPU at c=1: router %.1f us/request", c1Cpu[2] / 1e3 / c1[1].completed));
            StringBuilder ev = new StringBuilder(String.format(Locale.ROOT,
                    "proxy thread CPU in streams: router %.1f us/event", streamCpu[2] / 1e3
                            / Math.max(1, stream[1].eventDelay.size())));
            if (o.budget || o.pii || o.resilience || o.feeds) {
                // Both routers' threads share names, so their CPU is one group: per request of either.
                one = new StringBuilder(String.format(Locale.ROOT, "proxy thread CPU at c=1: routers %.1f us/request",
                        c1Cpu[2] / 1e3 / (c1[1].completed + c1[2].completed)));
                ev = new StringBuilder(String.format(Locale.ROOT, "proxy thread CPU in streams: routers %.1f us/event",
                        streamCpu[2] / 1e3 / Math.max(1, stream[1].eventDelay.size() + stream[2].eventDelay.size())));
            } else if (base) {
                one.append(String.format(Locale.ROOT, ", trivial %.1f us/request", c1Cpu[3] / 1e3 / c1[2].completed));
                ev.append(String.format(Locale.ROOT, ", trivial %.1f us/event", streamCpu[3] / 1e3
                        / Math.max(1, stream[2].eventDelay.size())));
            }
            System.out.println(one);
            System.out.println(ev + " (per-stream work included)");
        }

        private static void row(String label, long direct, long router, long trivial, double targetMs) {
            double added = (router - direct) / 1e6;
            String target = Double.isNaN(targetMs) ? "" : String.format(Locale.ROOT, "<= %.1f", targetMs);
            String verdict = Double.isNaN(targetMs) ? "" : added <= targetMs ? "ok" : "MISS";
            String s = String.format(Locale.ROOT, "%-34s %9.3f %9.3f %9.3f  %-10s %-4s", label, direct / 1e6,
                    router / 1e6, added, target, verdict);
            if (trivial >= 0) {
                s += String.format(Locale.ROOT, " %9.3f %9.3f", trivial / 1e6, (trivial - direct) / 1e6);
            }
            System.out.println(s);
        }
    }

    static final class Bench {
        final Options o;
        final List<Target> targets;
        final FakeUpstream upstream;
        final CallerFactory factory;
        final AtomicLong errors = new AtomicLong();
        final AtomicLong calls = new AtomicLong();

        Bench(Options o, List<Target> targets, FakeUpstream upstream) {
            this.o = o;
            this.targets = targets;
            this.upstream = upstream;
            if (o.client.equals("jdk")) {
                HttpClient shared = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                this.factory = t -> new JdkCaller(shared, t);
            } else {
                this.factory = RawCaller::new;
            }
        }

        /** CPU by group over the last sequential or streaming section (router threads serve only the router). */
        long[] lastSectionCpu;
        private long lastAccepted;
        private long lastJit;
        private final long[] lastConnects = new long[8];

        /**
         * Prints how many connections a section opened. With keep-alive everywhere this is about one per
         * caller; much more means someone closes connections per request, which costs a lot.
         */
        void connections(String section) {
            long jit = jitMillis();
            StringBuilder sb = new StringBuilder("  " + section + ": JIT compile time " + (jit - lastJit)
                    + " ms; connections opened: upstream accepted " + (upstream.accepted.get() - lastAccepted));
            lastJit = jit;
            lastAccepted = upstream.accepted.get();
            for (int i = 0; i < targets.size() && o.client.equals("raw"); i++) {
                long c = targets.get(i).connects.get();
                sb.append(", client->").append(targets.get(i).name).append(' ').append(c - lastConnects[i]);
                lastConnects[i] = c;
            }
            System.out.println(sb);
        }

        private Caller[] callers() {
            Caller[] c = new Caller[targets.size()];
            for (int i = 0; i < c.length; i++) {
                c[i] = factory.open(targets.get(i));
            }
            return c;
        }

        /** Counts a failed call; too many of them mean the numbers are meaningless, so stop. */
        private void failed(Target t, Exception e) {
            long n = errors.incrementAndGet();
            if (n <= 5) {
                System.err.println("call to " + t.name + " failed: " + e);
            }
            if (n > 50 && n * 100 > calls.get()) {
                System.err.println("more than 1% of calls failed; giving up");
                System.exit(3);
            }
        }

        /**
         * Brings the JIT to steady state on every path the sections use: plain calls at c=1 and under
         * concurrency, and streams sent without pauses so thousands of events go through quickly.
         * On 2 cores the compiler threads starve while 64 connections keep every core busy, so most of
         * the warm-up runs at c=1 (the compiler then has a core to itself), and it goes on, up to twice
         * the asked time, until the JIT has gone quiet: otherwise the first section measures the JIT.
         */
        void warmup(double seconds) throws Exception {
            long t0 = System.nanoTime();
            System.out.printf(Locale.ROOT, "warming up for %.0f s or more, until the JIT is quiet ...%n", seconds);
            mixed(seconds * 0.35);
            concurrent(seconds * 0.25);
            mixed(seconds * 0.40);
            long cap = System.nanoTime() + (long) (seconds * 1e9);
            long quiet = -1;
            while (System.nanoTime() < cap) {
                long j0 = jitMillis();
                mixed(1.0);
                quiet = jitMillis() - j0;
                if (quiet < 50) {
                    break;
                }
            }
            System.out.printf(Locale.ROOT, "warm-up done in %.1f s (%d upstream requests; JIT compile time in the"
                    + " last second %d ms)%n", (System.nanoTime() - t0) / 1e9, upstream.requests.get(), quiet);
        }

        static long jitMillis() {
            return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
        }

        /** Warm-up traffic at c=1: plain calls, and every fourth round a stream without pauses, per target. */
        private void mixed(double seconds) throws Exception {
            Caller[] c = callers();
            StreamRecord[] scratch = newStreamRecords();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (int round = 0; System.nanoTime() < end; round++) {
                for (int i = 0; i < c.length; i++) {
                    try {
                        calls.incrementAndGet();
                        if (round % 4 == 3) {
                            c[i].stream(scratch[i], true);
                        } else {
                            c[i].plain();
                        }
                    } catch (IOException e) {
                        failed(targets.get(i), e);
                    }
                }
            }
            close(c);
        }

        /** (a) one request at a time, alternating targets per request (and the order per round). */
        Series[] sequential(double seconds) throws Exception {
            Series[] s = newSeries();
            Caller[] c = callers();
            Cpu cpu = new Cpu();
            Map<Long, Long> cpu0 = cpu.snapshot();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (int round = 0; System.nanoTime() < end; round++) {
                for (int k = 0; k < c.length; k++) {
                    int i = (round + k) % c.length;
                    try {
                        calls.incrementAndGet();
                        s[i].latency.add(c[i].plain());
                        s[i].completed++;
                    } catch (IOException e) {
                        failed(targets.get(i), e);
                    }
                }
            }
            cpu.addDelta(cpu0, cpu.snapshot(), lastSectionCpu = new long[Cpu.GROUPS.length]);
            close(c);
            return s;
        }

        /**
         * (b) and (d): N closed-loop connections. Time is cut into short slices; in each slice every
         * connection talks to the same target (all direct, then all via the router, ...), so each side
         * is measured under its own full load while slow drifts of the machine hit both. Barriers
         * separate slices so no request of one target overlaps the other's slice.
         */
        Series[] concurrent(double seconds) throws Exception {
            int n = o.concurrency;
            Series[] s = newSeries();
            LongList[][] perThread = new LongList[n][targets.size()];
            CyclicBarrier begin = new CyclicBarrier(n + 1);
            CyclicBarrier done = new CyclicBarrier(n + 1);
            AtomicInteger current = new AtomicInteger();
            AtomicLong sliceEnd = new AtomicLong();
            AtomicInteger stop = new AtomicInteger();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < n; w++) {
                int id = w;
                for (int t = 0; t < targets.size(); t++) {
                    perThread[w][t] = new LongList();
                }
                Thread th = new Thread(() -> {
                    Caller[] c = callers();
                    try {
                        while (true) {
                            begin.await();
                            if (stop.get() != 0) {
                                return;
                            }
                            int t = current.get();
                            long end = sliceEnd.get();
                            while (System.nanoTime() < end) {
                                try {
                                    calls.incrementAndGet();
                                    perThread[id][t].add(c[t].plain());
                                } catch (IOException e) {
                                    failed(targets.get(t), e);
                                }
                            }
                            done.await();
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    } finally {
                        close(c);
                    }
                }, "load-" + w);
                th.setDaemon(true);
                th.start();
                workers.add(th);
            }
            long phase = o.phaseMs * 1_000_000L;
            long slices = Math.max(targets.size(), Math.round(seconds * 1e9 / phase));
            slices -= slices % targets.size();
            Cpu cpu = new Cpu();
            for (long k = 0; k < slices; k++) {
                int t = (int) (k % targets.size());
                current.set(t);
                Map<Long, Long> cpu0 = cpu.snapshot();
                long t0 = System.nanoTime();
                sliceEnd.set(t0 + phase);
                begin.await();
                done.await();
                long t1 = System.nanoTime();
                Map<Long, Long> cpu1 = cpu.snapshot();
                s[t].phaseNanos += t1 - t0;
                cpu.addDelta(cpu0, cpu1, s[t].cpu);
            }
            stop.set(1);
            begin.await();
            for (Thread th : workers) {
                th.join();
            }
            for (int t = 0; t < targets.size(); t++) {
                for (int w = 0; w < n; w++) {
                    s[t].latency.addAll(perThread[w][t]);
                }
                s[t].completed = s[t].latency.size();
            }
            return s;
        }

        /** --soak: the concurrent section against the router alone, for profiling from outside. */
        void soak(double seconds) throws Exception {
            List<Target> all = new ArrayList<>(targets);
            targets.retainAll(List.of(all.get(1)));
            System.out.printf(Locale.ROOT, "soak: %d connections to the router only for %.0f s (pid %d)%n",
                    o.concurrency, seconds, ProcessHandle.current().pid());
            Series s = concurrent(seconds)[0];
            long total = 0;
            for (long c : s.cpu) {
                total += c;
            }
            System.out.printf(Locale.ROOT, "soak: %.0f req/s, p50 %.3f ms, p99 %.3f ms, CPU per request %.1f us"
                            + " (router threads %.1f us)%n", s.completed / (s.phaseNanos / 1e9), s.latency.pct(50) / 1e6,
                    s.latency.pct(99) / 1e6, total / 1e3 / s.completed, s.cpu[2] / 1e3 / s.completed);
            targets.clear();
            targets.addAll(all);
        }

        /** (c) one stream at a time, alternating targets per stream. */
        StreamRecord[] streaming(double seconds) throws Exception {
            StreamRecord[] r = newStreamRecords();
            Caller[] c = callers();
            Cpu cpu = new Cpu();
            Map<Long, Long> cpu0 = cpu.snapshot();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (int round = 0; System.nanoTime() < end; round++) {
                for (int k = 0; k < c.length; k++) {
                    int i = (round + k) % c.length;
                    try {
                        calls.incrementAndGet();
                        c[i].stream(r[i], false);
                    } catch (IOException e) {
                        failed(targets.get(i), e);
                    }
                }
            }
            cpu.addDelta(cpu0, cpu.snapshot(), lastSectionCpu = new long[Cpu.GROUPS.length]);
            close(c);
            return r;
        }

        private static void close(Caller[] c) {
            for (Caller x : c) {
                x.close();
            }
        }

        private Series[] newSeries() {
            Series[] s = new Series[targets.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = new Series();
            }
            return s;
        }

        private StreamRecord[] newStreamRecords() {
            StreamRecord[] r = new StreamRecord[targets.size()];
            for (int i = 0; i < r.length; i++) {
                r[i] = new StreamRecord();
            }
            return r;
        }
    }

    /** Thread CPU time grouped by owner, from the thread names (ours, HttpCore's and the engine's). */
    static final class Cpu {
        static final String[] GROUPS = {"client", "upstream", "router", "trivial", "other"};
        private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        private final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

        /** Thread id to CPU nanoseconds of every live thread, plus the process total under key -1. */
        Map<Long, Long> snapshot() {
            Map<Long, Long> m = new HashMap<>();
            for (long id : mx.getAllThreadIds()) {
                long t = mx.getThreadCpuTime(id);
                if (t >= 0) {
                    m.put(id, t);
                }
            }
            m.put(-1L, os.getProcessCpuTime());
            return m;
        }

        /**
         * Adds the CPU spent between two snapshots to {@code into}, per group. Per thread id, so threads
         * that start or end in between do not skew the groups; the rest of the process is "other".
         */
        void addDelta(Map<Long, Long> before, Map<Long, Long> after, long[] into) {
            long named = 0;
            for (Map.Entry<Long, Long> e : after.entrySet()) {
                if (e.getKey() < 0) {
                    continue;
                }
                ThreadInfo info = mx.getThreadInfo(e.getKey());
                if (info == null) {
                    continue;
                }
                int g = group(info.getThreadName());
                if (g == GROUPS.length - 1) {
                    continue;
                }
                long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
                into[g] += d;
                named += d;
            }
            into[GROUPS.length - 1] += after.get(-1L) - before.get(-1L) - named;
        }

        /** Diagnostics (--threads): the busiest threads of the whole run, by CPU time. */
        static void printTopThreads(int limit) {
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long[] ids = mx.getAllThreadIds();
            ThreadInfo[] infos = mx.getThreadInfo(ids);
            List<long[]> rows = new ArrayList<>();
            for (int i = 0; i < ids.length; i++) {
                if (infos[i] != null) {
                    rows.add(new long[] {mx.getThreadCpuTime(ids[i]), i});
                }
            }
            rows.sort((a, b) -> Long.compare(b[0], a[0]));
            System.out.println();
            System.out.println("busiest live threads (CPU seconds over the whole run):");
            for (long[] r : rows.subList(0, Math.min(limit, rows.size()))) {
                System.out.printf(Locale.ROOT, "  %8.2f  %s%n", r[0] / 1e9, infos[(int) r[1]].getThreadName());
            }
        }

        private static int group(String name) {
            if (name.startsWith("load-") || name.startsWith("HttpClient-") || name.equals("main")) {
                return 0;
            }
            if (name.startsWith("upstream-")) {
                return 1;
            }
            // HttpCore's server reactor threads (listener, dispatchers) and the engine's upstream client.
            if (name.startsWith("server-") || name.startsWith("httpcore") || name.startsWith("iron-")) {
                return 2;
            }
            if (name.startsWith("trivial-")) {
                return 3;
            }
            return 4;
        }
    }

    // ---- streaming client side -------------------------------------------------------------------

    /**
     * Splits a response body into SSE events as bytes arrive and timestamps each event at the read
     * that completed it. Events carry the upstream's send time ("x_sent_ns", System.nanoTime() of
     * this same JVM), so arrival minus send is exact: no clock sync, no guessing.
     */
    static final class SseScanner implements Wire.Sink {
        private static final byte[] SENT_KEY = "\"x_sent_ns\":".getBytes(StandardCharsets.ISO_8859_1);
        private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.ISO_8859_1);
        private final long t0;
        private final StreamRecord rec;
        private byte[] acc = new byte[8192];
        private int len;
        private int scanned;
        private int events;
        private boolean done;

        SseScanner(long t0, StreamRecord rec) {
            this.t0 = t0;
            this.rec = rec;
        }

        @Override
        public void accept(byte[] b, int off, int n, long arrival) {
            if (len + n > acc.length) {
                acc = Arrays.copyOf(acc, Math.max(acc.length * 2, len + n));
            }
            System.arraycopy(b, off, acc, len, n);
            len += n;
            int start = 0;
            for (int i = Math.max(scanned, 1); i < len; i++) {
                if (acc[i] == '\n' && acc[i - 1] == '\n') {
                    event(start, i, arrival);
                    start = i + 1;
                }
            }
            System.arraycopy(acc, start, acc, 0, len - start);
            len -= start;
            scanned = len;
        }

        private void event(int from, int to, long arrival) {
            int k = indexOf(acc, from, to, SENT_KEY);
            if (k >= 0) {
                long sent = 0;
                for (int i = k + SENT_KEY.length; i < to && acc[i] >= '0' && acc[i] <= '9'; i++) {
                    sent = sent * 10 + (acc[i] - '0');
                }
                if (events == 0) {
                    rec.ttfe.add(arrival - t0);
                }
                rec.eventDelay.add(arrival - sent);
                events++;
            } else if (indexOf(acc, from, to, DONE) >= 0) {
                done = true;
            }
        }

        void end(Target t) throws IOException {
            rec.streams++;
            if (!done || events != FakeUpstream.eventsPerStream) {
                throw new IOException(t.name + ": stream ended after " + events + " timed events, [DONE] "
                        + (done ? "seen" : "missing") + " (expected " + FakeUpstream.eventsPerStream + ")");
            }
        }
    }

    static int indexOf(byte[] a, int from, int to, byte[] key) {
        outer:
        for (int i = from; i <= to - key.length; i++) {
            for (int j = 0; j < key.length; j++) {
                if (a[i + j] != key[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ---- minimal HTTP/1.1 wire code (shared by client, fake upstream and trivial proxy) ----------

    /** A message head: start line and header lines, with the framing headers picked out. */
    static final class Head {
        final String start;
        final List<String> lines = new ArrayList<>(16);
        long contentLength = -1;
        boolean chunked;
        boolean close;

        Head(String start) {
            this.start = start;
        }

        void add(String line) {
            lines.add(line);
            int c = line.indexOf(':');
            if (c <= 0) {
                return;
            }
            String name = line.substring(0, c).trim();
            if (name.equalsIgnoreCase("content-length")) {
                contentLength = Long.parseLong(line.substring(c + 1).trim());
            } else if (name.equalsIgnoreCase("transfer-encoding")) {
                chunked = line.substring(c + 1).toLowerCase(Locale.ROOT).contains("chunked");
            } else if (name.equalsIgnoreCase("connection")) {
                close = line.substring(c + 1).toLowerCase(Locale.ROOT).contains("close");
            }
        }

        String get(String name) {
            for (String line : lines) {
                int c = line.indexOf(':');
                if (c == name.length() && line.regionMatches(true, 0, name, 0, c)) {
                    return line.substring(c + 1).trim();
                }
            }
            return null;
        }

        int status() {
            return Integer.parseInt(start.substring(9, 12));
        }
    }

    /** Buffered reader of HTTP/1.1 messages that remembers when each read returned. */
    static final class Wire {
        interface Sink {
            void accept(byte[] b, int off, int len, long arrivalNanos) throws IOException;
        }

        private final InputStream in;
        private final byte[] buf;
        private int pos;
        private int lim;
        private long lastRead;

        Wire(InputStream in, int size) {
            this.in = in;
            this.buf = new byte[size];
        }

        private boolean fill() throws IOException {
            if (pos == lim) {
                pos = lim = 0;
            } else if (lim == buf.length) {
                if (pos == 0) {
                    throw new IOException("header line longer than " + buf.length + " bytes");
                }
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            int n = in.read(buf, lim, buf.length - lim);
            if (n < 0) {
                return false;
            }
            lastRead = System.nanoTime();
            lim += n;
            return true;
        }

        /** The next line without its CRLF; null on a clean end of stream before it. */
        String readLine() throws IOException {
            int seen = 0;
            while (true) {
                for (int i = pos + seen; i < lim; i++) {
                    if (buf[i] == '\n') {
                        int end = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                        String s = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
                        pos = i + 1;
                        return s;
                    }
                }
                seen = lim - pos;
                if (!fill()) {
                    if (seen == 0) {
                        return null;
                    }
                    throw new EOFException("connection closed mid-line");
                }
            }
        }

        private String line() throws IOException {
            String s = readLine();
            if (s == null) {
                throw new EOFException("connection closed mid-message");
            }
            return s;
        }

        /** Reads a request or response head; null when the peer closed between messages. */
        Head readHead(boolean request) throws IOException {
            String start = readLine();
            while (start != null && start.isEmpty()) {
                start = readLine();
            }
            if (start == null) {
                return null;
            }
            Head h = new Head(start);
            for (String line = line(); !line.isEmpty(); line = line()) {
                h.add(line);
            }
            if (request && !h.chunked && h.contentLength < 0) {
                h.contentLength = 0;
            }
            return h;
        }

        /** Hands the body to {@code sink} piece by piece, as it arrives (chunked framing removed). */
        void readBody(Head h, Sink sink) throws IOException {
            if (h.chunked) {
                while (true) {
                    String size = line();
                    int semi = size.indexOf(';');
                    long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                    if (n == 0) {
                        while (!line().isEmpty()) {
                            // trailers: none expected, skipped
                        }
                        return;
                    }
                    copy(n, sink);
                    line();
                }
            } else if (h.contentLength >= 0) {
                copy(h.contentLength, sink);
            } else {
                while (pos < lim || fill()) {
                    sink.accept(buf, pos, lim - pos, lastRead);
                    pos = lim;
                }
                h.close = true;
            }
        }

        private void copy(long n, Sink sink) throws IOException {
            while (n > 0) {
                if (pos == lim && !fill()) {
                    throw new EOFException("connection closed mid-body");
                }
                int k = (int) Math.min(n, lim - pos);
                sink.accept(buf, pos, k, lastRead);
                pos += k;
                n -= k;
            }
        }

        byte[] readBodyBytes(Head h) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(64, h.contentLength));
            readBody(h, (b, off, len, t) -> out.write(b, off, len));
            return out.toByteArray();
        }
    }

    static byte[] chunk(byte[] data) {
        byte[] size = (Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[size.length + data.length + 2];
        System.arraycopy(size, 0, out, 0, size.length);
        System.arraycopy(data, 0, out, size.length, data.length);
        out[out.length - 2] = '\r';
        out[out.length - 1] = '\n';
        return out;
    }

    /** Set with --feeds: the stuck subscribers of the second router. */
    static FeedSubscribers stuckFeeds;

    /**
     * Keeps two live-feed subscribers on a router: a WebSocket and an SSE stream. Stuck ones never read
     * a byte after their response head, on sockets with a 4 KiB receive buffer: the router drops them
     * once their buffers are full, and every 100 ms this opens new ones in their place, so the router
     * spends the whole run feeding, cutting off and admitting stuck clients (the worst case, not a quiet
     * one). Reading ones drain everything on a thread each, as a dashboard would.
     */
    static final class FeedSubscribers {
        private final LlmRouter router;
        private final boolean read;
        private final List<Socket> open = new ArrayList<>();
        private int opened;

        FeedSubscribers(LlmRouter router, boolean read) {
            this.router = router;
            this.read = read;
        }

        void start() throws IOException {
            reopen();
            daemon(read ? "reading-feeds" : "stuck-feeds", () -> {
                while (true) {
                    LockSupport.parkNanos(100_000_000L);
                    try {
                        if (router.metrics().get("feed_subscribers").asInt() < 2) {
                            reopen();
                        }
                    } catch (IOException e) {
                        System.err.println("stuck feed subscriber could not connect: " + e);
                    }
                }
            }).start();
        }

        private synchronized void reopen() throws IOException {
            for (Socket s : open) {
                s.close();
            }
            open.clear();
            String auth = "Authorization: Bearer " + router.config().adminToken() + "\r\n";
            int wsPort = URI.create(router.eventsUrl()).getPort();
            open.add(subscribe(wsPort, "GET /iron/ws HTTP/1.1\r\nHost: 127.0.0.1:" + wsPort + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + auth + "\r\n"));
            open.add(subscribe(router.port(), "GET /iron/events HTTP/1.1\r\nHost: 127.0.0.1:" + router.port() + "\r\n"
                    + auth + "\r\n"));
            opened += 2;
        }

        /** Sends {@code head}, reads the status line, then reads on (a reader) or never again (stuck). */
        private Socket subscribe(int port, String head) throws IOException {
            Socket s = new Socket();
            if (!read) {
                s.setReceiveBufferSize(4096);
            }
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                // the status line
            }
            if (read) {
                daemon("feed-reader", () -> {
                    byte[] buf = new byte[64 * 1024];
                    try {
                        while (in.read(buf) >= 0) {
                            // a dashboard that keeps up
                        }
                    } catch (IOException e) {
                        // closed
                    }
                }).start();
            }
            return s;
        }

        synchronized String summary() {
            var m = router.metrics(); // a relocated Jackson node: named only through var
            return String.format(Locale.ROOT, "(h) stuck subscribers opened %d, dropped by the router %d,"
                    + " feed messages sent %d", opened, m.get("feed_subscribers_dropped").asLong(),
                    m.get("feed_messages_sent").asLong());
        }
    }

    static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    // ---- payloads --------------------------------------------------------------------------------

    /** Realistic OpenAI Chat Completions bodies (shapes as the API sends them in 2025). */
    static final class Payloads {
        static byte[] PLAIN_REQUEST;
        static byte[] STREAM_REQUEST;

        /**
         * Builds the request bodies: a short chat by default (about 260 bytes), or with --prompt-kb an
         * earlier assistant turn of that size, as agents that resend their history do.
         */
        static void requests(int promptKb) {
            StringBuilder history = new StringBuilder();
            if (promptKb > 0) {
                history.append("{\"role\":\"assistant\",\"content\":\"");
                while (history.length() < promptKb * 1024) {
                    history.append("The proxy forwards each request and counts tokens on the side. ");
                }
                history.append("\"},");
            }
            String common = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\","
                    + "\"content\":\"You are a helpful assistant.\"}," + history + "{\"role\":\"user\",\"content\":"
                    + "\"Summarise the benefits of running a local governance proxy in front of an LLM API in two"
                    + " sentences.\"}],\"temperature\":0.2,\"max_tokens\":256";
            PLAIN_REQUEST = (common + "}").getBytes(StandardCharsets.UTF_8);
            STREAM_REQUEST = (common + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        static final byte[] PLAIN_RESPONSE_BODY = ("{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\","
                + "\"object\":\"chat.completion\",\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"A local governance"
                + " proxy keeps provider keys out of agent processes and enforces budgets, rate limits and PII"
                + " rules in one place. It also gives one audit trail of every model call without changing the"
                + " agent's code.\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":"
                + "\"stop\"}],\"usage\":{\"prompt_tokens\":41,\"completion_tokens\":45,\"total_tokens\":86,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":"
                + "{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
                + "\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\",\"system_fingerprint\":"
                + "\"fp_06737a9306\"}").getBytes(StandardCharsets.UTF_8);
        static final String CHUNK_PREFIX = "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":"
                + "\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\","
                + "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":";
        static final String[] WORDS = ("A local governance proxy keeps provider keys out of agent processes and"
                + " enforces budgets rate limits and PII rules in one place").split(" ");

        /** Event i of a stream with {@code content} content events, then one usage event (i == content). */
        static byte[] chunkEvent(int i, int content, long sentNanos) {
            String choices;
            if (i == content) {
                choices = "[],\"usage\":{\"prompt_tokens\":41,\"completion_tokens\":" + content
                        + ",\"total_tokens\":" + (41 + content) + ",\"prompt_tokens_details\":{\"cached_tokens\":0,"
                        + "\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                        + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";
            } else if (i == 0) {
                choices = "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
                        + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null";
            } else if (i == content - 1) {
                choices = "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null";
            } else {
                choices = "[{\"index\":0,\"delta\":{\"content\":\" " + WORDS[i % WORDS.length]
                        + "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null";
            }
            return (CHUNK_PREFIX + choices + ",\"x_sent_ns\":" + sentNanos + "}\n\n").getBytes(StandardCharsets.UTF_8);
        }
    }

    // ---- fake upstream ---------------------------------------------------------------------------

    /**
     * A fake OpenAI on loopback: blocking sockets, one daemon thread per connection. With keep-alive
     * connections and at most a few hundred of them this is the cheapest JDK-only server there is
     * (no selector, no hand-off between threads: the thread that reads the request writes the answer),
     * much cheaper than com.sun.net.httpserver, whose dispatcher hands every exchange to a pool thread.
     */
    static final class FakeUpstream {
        static final String GAP_HEADER = "X-Bench-Gap-Us";
        static volatile int eventsPerStream;
        private static final byte[] PLAIN_HEAD = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + Payloads.PLAIN_RESPONSE_BODY.length + "\r\n"
                + "x-request-id: req_6b1c3e2f9a8d4b7c\r\nopenai-processing-ms: 412\r\nopenai-version: 2020-10-01\r\n"
                + "x-ratelimit-limit-requests: 10000\r\nx-ratelimit-remaining-requests: 9999\r\n"
                + "x-ratelimit-reset-requests: 6ms\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        private static final byte[] PLAIN = concat(PLAIN_HEAD, Payloads.PLAIN_RESPONSE_BODY);
        private static final byte[] STREAM_HEAD = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                + "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\nx-request-id: req_6b1c3e2f9a8d4b7c\r\n"
                + "openai-processing-ms: 98\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        private static final byte[] DONE_AND_END = concat(chunk("data: [DONE]\n\n".getBytes(StandardCharsets.ISO_8859_1)),
                "0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));

        private final int events;
        private final long gapNanos;
        private final ServerSocket server;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong accepted = new AtomicLong();
        private final AtomicInteger threads = new AtomicInteger();
        private final List<Socket> open = new ArrayList<>();

        FakeUpstream(int events, long gapNanos) throws IOException {
            this.events = events;
            this.gapNanos = gapNanos;
            eventsPerStream = events + 1; // content events plus the usage event, all timestamped
            this.server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        }

        int port() {
            return server.getLocalPort();
        }

        void start() {
            daemon("upstream-accept", () -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        s.setTcpNoDelay(true);
                        accepted.incrementAndGet();
                        synchronized (open) {
                            open.add(s);
                        }
                        daemon("upstream-" + threads.incrementAndGet(), () -> serve(s)).start();
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }).start();
        }

        void stop() throws IOException {
            server.close();
            synchronized (open) {
                for (Socket s : open) {
                    s.close();
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                Wire in = new Wire(s.getInputStream(), 16 * 1024);
                OutputStream out = s.getOutputStream();
                while (true) {
                    Head h = in.readHead(true);
                    if (h == null) {
                        return;
                    }
                    byte[] body = in.readBodyBytes(h);
                    requests.incrementAndGet();
                    if (!h.start.startsWith("POST " + PATH + " ") || !("Bearer " + PROVIDER_KEY).equals(h.get("authorization"))) {
                        // The router must forward the path and inject the provider key: say so loudly if not.
                        byte[] msg = ("{\"error\":{\"message\":\"fake upstream: unexpected " + h.start
                                + " or key\"}}").getBytes(StandardCharsets.UTF_8);
                        out.write(concat(("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                                + "Content-Length: " + msg.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), msg));
                    } else if (indexOf(body, 0, body.length, STREAM_TRUE) >= 0) {
                        String gap = h.get(GAP_HEADER);
                        stream(out, gap == null ? gapNanos : Long.parseLong(gap) * 1000);
                    } else {
                        out.write(PLAIN); // head and body in one write: one segment on the wire
                    }
                    if (h.close) {
                        return;
                    }
                }
            } catch (IOException e) {
                // peer went away; nothing to report for a fake server
            }
        }

        private static final byte[] STREAM_TRUE = "\"stream\":true".getBytes(StandardCharsets.ISO_8859_1);

        /** Head, then each event in its own chunk and its own write, timestamped just before the write. */
        private void stream(OutputStream out, long gap) throws IOException {
            out.write(STREAM_HEAD);
            for (int i = 0; i <= events; i++) {
                if (i > 0 && gap > 0) {
                    LockSupport.parkNanos(gap);
                }
                out.write(chunk(Payloads.chunkEvent(i, events, System.nanoTime())));
            }
            out.write(DONE_AND_END);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    // ---- trivial proxy (--baseline) --------------------------------------------------------------

    /**
     * The least a proxy can do: blocking sockets, one thread per client connection with its own
     * keep-alive connection upstream, request forwarded as received, response head forwarded, body
     * relayed piece by piece as it arrives (re-chunked when chunked). No parsing beyond framing, no
     * auth, no JSON. Its added latency is the floor for "one more loopback hop" on this machine.
     */
    static final class TrivialProxy {
        private final int upstreamPort;
        private final ServerSocket server;
        private final AtomicInteger threads = new AtomicInteger();

        TrivialProxy(int upstreamPort) throws IOException {
            this.upstreamPort = upstreamPort;
            this.server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        }

        int port() {
            return server.getLocalPort();
        }

        void start() {
            daemon("trivial-accept", () -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        s.setTcpNoDelay(true);
                        daemon("trivial-" + threads.incrementAndGet(), () -> relay(s)).start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }).start();
        }

        void stop() throws IOException {
            server.close();
        }

        private void relay(Socket client) {
            try (client; Socket up = new Socket()) {
                up.setTcpNoDelay(true);
                up.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort));
                Wire cin = new Wire(client.getInputStream(), 16 * 1024);
                Wire uin = new Wire(up.getInputStream(), 16 * 1024);
                OutputStream cout = client.getOutputStream();
                OutputStream uout = up.getOutputStream();
                ByteArrayOutputStream msg = new ByteArrayOutputStream(4096);
                while (true) {
                    Head req = cin.readHead(true);
                    if (req == null) {
                        return;
                    }
                    msg.reset();
                    writeHead(msg, req);
                    cin.readBody(req, (b, off, len, t) -> msg.write(b, off, len));
                    msg.writeTo(uout);
                    Head resp = uin.readHead(false);
                    if (resp == null) {
                        return;
                    }
                    msg.reset();
                    writeHead(msg, resp);
                    if (resp.chunked) {
                        msg.writeTo(cout);
                        uin.readBody(resp, (b, off, len, t) -> {
                            cout.write(chunk(Arrays.copyOfRange(b, off, off + len)));
                        });
                        cout.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    } else {
                        // Small fixed-length body: send head and body together, as any decent proxy would.
                        uin.readBody(resp, (b, off, len, t) -> msg.write(b, off, len));
                        msg.writeTo(cout);
                    }
                    if (req.close || resp.close) {
                        return;
                    }
                }
            } catch (IOException e) {
                // either side went away
            }
        }

        private static void writeHead(ByteArrayOutputStream out, Head h) {
            StringBuilder sb = new StringBuilder(512).append(h.start).append("\r\n");
            for (String line : h.lines) {
                sb.append(line).append("\r\n");
            }
            sb.append("\r\n");
            byte[] b = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
            out.write(b, 0, b.length);
        }
    }

    // ---- small utilities -------------------------------------------------------------------------

    /** Growable long array with nearest-rank percentiles. */
    static final class LongList {
        private long[] a = new long[1024];
        private int n;
        private long[] sorted;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
            sorted = null;
        }

        void addAll(LongList o) {
            for (int i = 0; i < o.n; i++) {
                add(o.a[i]);
            }
        }

        int size() {
            return n;
        }

        long pct(double p) {
            if (n == 0) {
                return 0;
            }
            if (sorted == null) {
                sorted = Arrays.copyOf(a, n);
                Arrays.sort(sorted);
            }
            int rank = (int) Math.ceil(p / 100.0 * n);
            return sorted[Math.max(0, Math.min(n - 1, rank - 1))];
        }
    }
}
