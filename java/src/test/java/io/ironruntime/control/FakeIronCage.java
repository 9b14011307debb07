package io.ironruntime.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ironruntime.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A fake Iron Cage control server for tests, faithful to docs/iron-cage-wire.md: the provider-key,
 * budget-lease (handshake, report, refresh, return) and analytics endpoints on 127.0.0.1, one owner budget
 * shared by every agent (amounts in micro-dollars), and HS256 IC tokens signed with its own random secret.
 * Tests inject failures, delays and outages and read what arrived. All state sits behind one lock; a
 * delayed call sleeps outside it, so other endpoints keep answering meanwhile.
 */
public final class FakeIronCage implements AutoCloseable {
    public static final long DEFAULT_GRANT = 10_000_000L;
    public static final long MAX_REQUESTED = 100_000_000L;
    public static final long DEFAULT_OWNER_BUDGET = 100_000_000L;
    private static final String ISSUER = "iron-control-panel";
    private static final Map<String, String> PATHS = Map.of(
            "provider-key", "/api/v1/agents/provider-key",
            "handshake", "/api/v1/budget/handshake",
            "report", "/api/v1/budget/report",
            "refresh", "/api/v1/budget/refresh",
            "return", "/api/v1/budget/return",
            "analytics", "/api/v1/analytics/events");
    private static final Map<String, String> ENDPOINTS = PATHS.entrySet().stream()
            .collect(Collectors.toUnmodifiableMap(Map.Entry::getValue, Map.Entry::getKey));
    private static final Pattern AGENT_CLAIM = Pattern.compile("agent_(\\d{1,9})");
    private static final Pattern UUID_TEXT =
            Pattern.compile("\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}");
    private static final Set<String> PROVIDERS = Set.of("openai", "anthropic");
    private static final Set<String> EVENT_TYPES = Set.of("llm_request_completed", "llm_request_failed");
    private static final Duration REBIND_DEADLINE = Duration.ofSeconds(5);
    private static final SecureRandom RANDOM = new SecureRandom();

    static {
        // The JDK server writes headers and body separately; with Nagle on, the body then waits for the
        // client's delayed ACK (about 40 ms a call). Read once per JVM, when its first HttpServer starts.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** An agent as the control panel knows it; provider, providerKey and baseUrl may be null. */
    public record Agent(String provider, String providerKey, String baseUrl, boolean keyEnabled) {
    }

    /** A snapshot of a lease; status is active, expired, closed or revoked. */
    public record Lease(String leaseId, int agentId, String provider, long granted, long spent, String status,
            List<String> reportedRequestIds) {
    }

    /** A key fetch that got past injected failures: its body and the status it was answered. */
    public record KeyFetch(JsonNode body, int status) {
    }

    /** A handshake that got past injected failures, with the Authorization header it carried (or null). */
    public record Handshake(JsonNode body, String authorization, int status) {
    }

    /** A refresh that got past injected failures and what it was answered. */
    public record Refresh(JsonNode body, int status, JsonNode answer) {
    }

    /** An accepted return: what the client said it spent and what went back to the owner. */
    public record Return(String leaseId, long spentMicrodollars, long returned) {
    }

    private record Reply(int status, ObjectNode body) {
    }

    /** Why a token is refused: {@code refusal} is null for a valid token, else INVALID_TOKEN or UNAUTHORIZED. */
    private record Verdict(int agentId, String refusal) {
    }

    /** {@code remaining} 0 means until cleared. */
    private record Failure(int status, int remaining) {
    }

    /** Thrown by the endpoint code to answer an error at once; cheap (no stack trace). */
    private static final class Refused extends RuntimeException {
        final transient Reply reply;

        Refused(Reply reply) {
            super(null, null, false, false);
            this.reply = reply;
        }
    }

    private static final class LeaseState {
        final String id;
        final int agentId;
        final String provider;
        final long granted;
        final List<String> requestIds = new ArrayList<>();
        long spent;
        String status = "active";

        LeaseState(String id, int agentId, String provider, long granted) {
            this.id = id;
            this.agentId = agentId;
            this.provider = provider;
            this.granted = granted;
        }

        Lease snapshot() {
            return new Lease(id, agentId, provider, granted, spent, status, List.copyOf(requestIds));
        }
    }

    private final byte[] secret = new byte[32];
    private final ExecutorService executor;
    private final int port;
    private final Object lock = new Object();
    // Guarded by this (the listening side) ...
    private HttpServer server;
    private boolean closed;
    // ... and by lock (everything the endpoints read and change).
    private final Map<Integer, Agent> agents = new HashMap<>();
    private long ownerRemaining = DEFAULT_OWNER_BUDGET;
    private final Map<String, LeaseState> leases = new LinkedHashMap<>();
    private final Set<String> acceptedRequestIds = new HashSet<>();
    private final Set<String> acceptedEventIds = new HashSet<>();
    private final Map<String, Integer> calls = new HashMap<>();
    private final Map<String, Failure> failures = new HashMap<>();
    private final Map<String, Duration> delays = new HashMap<>();
    private final List<KeyFetch> keyFetches = new ArrayList<>();
    private final List<Handshake> handshakes = new ArrayList<>();
    private final List<JsonNode> reports = new ArrayList<>();
    private final List<JsonNode> duplicateReports = new ArrayList<>();
    private final List<Refresh> refreshes = new ArrayList<>();
    private final List<Return> returns = new ArrayList<>();
    private final List<JsonNode> analytics = new ArrayList<>();
    private final List<JsonNode> duplicateEvents = new ArrayList<>();

    private FakeIronCage() {
        RANDOM.nextBytes(secret);
        agents.put(1, new Agent("openai", "sk-fake-" + letters(24), null, true));
        AtomicInteger threads = new AtomicInteger();
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-iron-cage-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server = listen(0);
        port = server.getAddress().getPort();
    }

    /** A started fake with agent 1 (openai, a random {@code sk-fake-} key, no base URL) and $100 for the owner. */
    public static FakeIronCage start() {
        return new FakeIronCage();
    }

    /** The path of an endpoint name: provider-key, handshake, report, refresh, return or analytics. */
    public static String path(String endpoint) {
        String path = PATHS.get(endpoint);
        if (path == null) {
            throw new IllegalArgumentException("unknown endpoint '" + endpoint + "', one of " + new TreeSet<>(PATHS.keySet()));
        }
        return path;
    }

    /** The server URL to configure the router with, without a trailing slash. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    // ---- agent 1, builder style; each applies at once, also while the server runs

    public FakeIronCage provider(String provider) {
        return changeAgent1(a -> new Agent(provider, a.providerKey(), a.baseUrl(), a.keyEnabled()));
    }

    public FakeIronCage providerKey(String providerKey) {
        return changeAgent1(a -> new Agent(a.provider(), providerKey, a.baseUrl(), a.keyEnabled()));
    }

    public FakeIronCage baseUrl(String baseUrl) {
        return changeAgent1(a -> new Agent(a.provider(), a.providerKey(), baseUrl, a.keyEnabled()));
    }

    public FakeIronCage keyEnabled(boolean keyEnabled) {
        return changeAgent1(a -> new Agent(a.provider(), a.providerKey(), a.baseUrl(), keyEnabled));
    }

    public FakeIronCage ownerBudget(long microdollars) {
        ownerRemaining(microdollars);
        return this;
    }

    /** Agent 1's provider key, the one a valid {@code token(1)} fetches. */
    public String providerKey() {
        return agent(1).providerKey();
    }

    private FakeIronCage changeAgent1(UnaryOperator<Agent> change) {
        synchronized (lock) {
            agents.put(1, change.apply(agents.get(1)));
        }
        return this;
    }

    /** Creates or replaces an agent. */
    public void setAgent(int id, String provider, String providerKey, String baseUrl, boolean keyEnabled) {
        synchronized (lock) {
            agents.put(id, new Agent(provider, providerKey, baseUrl, keyEnabled));
        }
    }

    /** The agent, or null when unknown. */
    public Agent agent(int id) {
        synchronized (lock) {
            return agents.get(id);
        }
    }

    public long ownerRemaining() {
        synchronized (lock) {
            return ownerRemaining;
        }
    }

    public void ownerRemaining(long microdollars) {
        synchronized (lock) {
            ownerRemaining = microdollars;
        }
    }

    // ---- tokens

    /** A valid IC token for the agent, expiring in an hour. */
    public String token(int agentId) {
        long now = Instant.now().getEpochSecond();
        return sign(claims(agentId, now, now + 3600));
    }

    /** An IC token for the agent, correctly signed but expired an hour ago. */
    public String expiredToken(int agentId) {
        long now = Instant.now().getEpochSecond();
        return sign(claims(agentId, now - 7200, now - 3600));
    }

    /** Signs any payload with this server's secret, for tests of odd claims (wrong issuer, no exp...). */
    public String sign(JsonNode payload) {
        ObjectNode header = Json.MAPPER.createObjectNode().put("alg", "HS256").put("typ", "JWT");
        String signed = base64(jsonBytes(header)) + "." + base64(jsonBytes(payload));
        return signed + "." + base64(hmac(signed));
    }

    private static ObjectNode claims(int agentId, long issuedAt, long expiresAt) {
        return Json.MAPPER.createObjectNode().put("sub", "agent_" + agentId).put("agent_id", "agent_" + agentId)
                .put("iss", ISSUER).put("iat", issuedAt).put("exp", expiresAt);
    }

    /** Checks the signature, algorithm and issuer (else INVALID_TOKEN), then expiry and agent (else UNAUTHORIZED). */
    private Verdict verify(String token) {
        Verdict invalid = new Verdict(0, "INVALID_TOKEN");
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            return invalid;
        }
        try {
            byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
            if (!MessageDigest.isEqual(signature, hmac(parts[0] + "." + parts[1]))) {
                return invalid;
            }
            JsonNode header = Json.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[0]));
            JsonNode claims = Json.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
            if (!"HS256".equals(header.path("alg").asText()) || !ISSUER.equals(claims.path("iss").asText())
                    || !claims.path("exp").isNumber()) {
                return invalid;
            }
            Matcher agent = AGENT_CLAIM.matcher(claims.path("agent_id").asText());
            if (claims.path("exp").asLong() <= Instant.now().getEpochSecond() || !agent.matches()
                    || !agents.containsKey(Integer.parseInt(agent.group(1)))) {
                return new Verdict(0, "UNAUTHORIZED");
            }
            return new Verdict(Integer.parseInt(agent.group(1)), null);
        } catch (IllegalArgumentException | IOException e) {
            return invalid;
        }
    }

    private byte[] hmac(String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(text.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    // ---- controls

    /** The next {@code times} calls of the endpoint (0: every call until {@link #clearFailures}) answer {@code status}. */
    public void fail(String endpoint, int status, int times) {
        path(endpoint);
        if (status < 400 || status > 599 || times < 0) {
            throw new IllegalArgumentException("status must be 400..599 and times >= 0");
        }
        synchronized (lock) {
            failures.put(endpoint, new Failure(status, times));
        }
    }

    public void clearFailures() {
        synchronized (lock) {
            failures.clear();
        }
    }

    /** Each call of the endpoint waits this long before it is processed; zero clears. */
    public void delay(String endpoint, Duration delay) {
        path(endpoint);
        synchronized (lock) {
            if (delay.isZero() || delay.isNegative()) {
                delays.remove(endpoint);
            } else {
                delays.put(endpoint, delay);
            }
        }
    }

    /** HTTP requests that arrived at the endpoint, whatever they were answered. */
    public int calls(String endpoint) {
        path(endpoint);
        synchronized (lock) {
            return calls.getOrDefault(endpoint, 0);
        }
    }

    public void revoke(String leaseId) {
        setStatus(leaseId, "revoked");
    }

    public void expire(String leaseId) {
        setStatus(leaseId, "expired");
    }

    private void setStatus(String leaseId, String status) {
        synchronized (lock) {
            LeaseState lease = leases.get(leaseId);
            if (lease == null) {
                throw new IllegalArgumentException("no lease " + leaseId);
            }
            lease.status = status;
        }
    }

    // ---- what arrived (immutable lists; JSON trees are copies)

    public List<KeyFetch> keyFetches() {
        return snapshot(keyFetches, f -> new KeyFetch(f.body().deepCopy(), f.status()));
    }

    public List<Handshake> handshakes() {
        return snapshot(handshakes, h -> new Handshake(h.body().deepCopy(), h.authorization(), h.status()));
    }

    /** Bodies of the accepted (charged) reports. */
    public List<JsonNode> reports() {
        return snapshot(reports, JsonNode::deepCopy);
    }

    /** Bodies of reports whose request_id had already been accepted (not charged again). */
    public List<JsonNode> duplicateReports() {
        return snapshot(duplicateReports, JsonNode::deepCopy);
    }

    public List<Refresh> refreshes() {
        return snapshot(refreshes, r -> new Refresh(r.body().deepCopy(), r.status(), r.answer().deepCopy()));
    }

    public List<Return> returns() {
        return snapshot(returns, r -> r);
    }

    /** Bodies of the accepted analytics events. */
    public List<JsonNode> analytics() {
        return snapshot(analytics, JsonNode::deepCopy);
    }

    /** Bodies of events whose event_id had already been accepted (not stored again). */
    public List<JsonNode> duplicateEvents() {
        return snapshot(duplicateEvents, JsonNode::deepCopy);
    }

    public List<Lease> leases() {
        synchronized (lock) {
            return leases.values().stream().map(LeaseState::snapshot).toList();
        }
    }

    /** A snapshot of the lease, or null when unknown. */
    public Lease lease(String leaseId) {
        synchronized (lock) {
            LeaseState lease = leases.get(leaseId);
            return lease == null ? null : lease.snapshot();
        }
    }

    private <T> List<T> snapshot(List<T> recorded, UnaryOperator<T> copy) {
        synchronized (lock) {
            return recorded.stream().map(copy).toList();
        }
    }

    // ---- listening

    /** Stops listening: new connections are refused until {@link #up}. */
    public synchronized void down() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** Listens again on the same port. */
    public synchronized void up() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (server == null) {
            server = listen(port);
        }
    }

    @Override
    public synchronized void close() {
        down();
        closed = true;
        executor.shutdownNow();
    }

    /** Binds, retrying a port that is briefly still held after {@link #down}. */
    private HttpServer listen(int onPort) {
        long deadline = System.nanoTime() + REBIND_DEADLINE.toNanos();
        while (true) {
            try {
                HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", onPort), 64);
                s.setExecutor(executor);
                s.createContext("/", this::handle);
                s.start();
                return s;
            } catch (BindException e) {
                if (System.nanoTime() > deadline) {
                    throw new UncheckedIOException("cannot listen again on port " + onPort, e);
                }
                pause(Duration.ofMillis(50));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            String endpoint = ENDPOINTS.get(exchange.getRequestURI().getPath());
            if (endpoint == null) {
                send(exchange, new Reply(404, error("Not found")));
                return;
            }
            Duration delay;
            synchronized (lock) {
                calls.merge(endpoint, 1, Integer::sum);
                delay = delays.get(endpoint);
            }
            if (delay != null) {
                pause(delay);
            }
            Reply reply = injectedFailure(endpoint);
            if (reply == null && !"POST".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "POST");
                reply = new Reply(405, error("Method not allowed"));
            }
            if (reply == null) {
                reply = answer(endpoint, parse(raw), exchange.getRequestHeaders().getFirst("Authorization"));
            }
            send(exchange, reply);
        } catch (RuntimeException e) {
            e.printStackTrace();
            send(exchange, new Reply(500, error("fake server bug: " + e)));
        } finally {
            exchange.close();
        }
    }

    private Reply injectedFailure(String endpoint) {
        synchronized (lock) {
            Failure failure = failures.get(endpoint);
            if (failure == null) {
                return null;
            }
            if (failure.remaining() == 1) {
                failures.remove(endpoint);
            } else if (failure.remaining() > 1) {
                failures.put(endpoint, new Failure(failure.status(), failure.remaining() - 1));
            }
            return new Reply(failure.status(), error("injected failure").put("code", "INTERNAL_ERROR"));
        }
    }

    private Reply answer(String endpoint, JsonNode body, String authorization) {
        synchronized (lock) {
            Reply reply;
            try {
                reply = route(endpoint, body, authorization);
            } catch (Refused refused) {
                reply = refused.reply;
            }
            if (endpoint.equals("provider-key")) {
                keyFetches.add(new KeyFetch(body, reply.status()));
            } else if (endpoint.equals("handshake")) {
                handshakes.add(new Handshake(body, authorization, reply.status()));
            } else if (endpoint.equals("refresh")) {
                refreshes.add(new Refresh(body, reply.status(), reply.body()));
            }
            return reply;
        }
    }

    private Reply route(String endpoint, JsonNode body, String authorization) {
        switch (endpoint) {
            case "provider-key":
                return providerKey(body);
            case "handshake":
                return handshake(body, authorization);
            case "report":
                return report(body);
            case "refresh":
                return refresh(body);
            case "return":
                return giveBack(body);
            default:
                return analyticsEvent(body);
        }
    }

    // ---- the endpoints (called under lock)

    private Reply providerKey(JsonNode body) {
        JsonNode token = body.path("ic_token");
        if (!token.isTextual() || token.asText().isEmpty()) {
            throw refused(400, "ic_token is required", "INVALID_TOKEN");
        }
        Verdict verdict = verify(token.asText());
        if ("INVALID_TOKEN".equals(verdict.refusal())) {
            throw refused(400, "Invalid IC Token", "INVALID_TOKEN");
        }
        if (verdict.refusal() != null) {
            throw refused(401, "IC Token expired or agent unknown", "UNAUTHORIZED");
        }
        Agent agent = agents.get(verdict.agentId());
        if (agent.provider() == null || !agent.keyEnabled()) {
            throw refused(403, "No provider key assigned to this agent", "NO_PROVIDER_ASSIGNED");
        }
        if (agent.providerKey() == null) {
            throw refused(404, "Provider key not found", "PROVIDER_NOT_FOUND");
        }
        ObjectNode answer = Json.MAPPER.createObjectNode().put("provider_key", agent.providerKey())
                .put("provider", agent.provider());
        if (agent.baseUrl() != null) {
            answer.put("base_url", agent.baseUrl());
        }
        return new Reply(200, answer);
    }

    private Reply handshake(JsonNode raw, String authorization) {
        String bearer = bearer(authorization);
        if (bearer == null) {
            throw refused(401, "Missing authorization");
        }
        JsonNode body = object(raw);
        String token = text(body, "ic_token");
        String provider = text(body, "provider");
        if (!PROVIDERS.contains(provider)) {
            throw refused(400, "provider must be openai or anthropic");
        }
        if (body.hasNonNull("provider_key_id") && !body.get("provider_key_id").isIntegralNumber()) {
            throw refused(400, "provider_key_id must be an integer");
        }
        long requested = requestedBudget(body);
        Verdict verdict = verify(token);
        if (verdict.refusal() != null || !bearer.equals(token)) {
            throw refused(401, "Invalid IC Token");
        }
        if (!provider.equals(agents.get(verdict.agentId()).provider())) {
            throw refused(403, "No provider key assigned for " + provider);
        }
        long grant = Math.min(requested, ownerRemaining);
        if (grant <= 0) {
            throw refused(403, "Budget limit exceeded");
        }
        LeaseState lease = open(verdict.agentId(), provider, grant);
        return new Reply(200, Json.MAPPER.createObjectNode().put("ip_token", "ip_v1:" + letters(32))
                .put("lease_id", lease.id).put("budget_granted", grant).put("budget_remaining", ownerRemaining)
                .putNull("expires_at"));
    }

    private Reply report(JsonNode raw) {
        JsonNode body = object(raw);
        String leaseId = text(body, "lease_id");
        String requestId = text(body, "request_id");
        count(body, "tokens");
        long cost = count(body, "cost_microdollars");
        text(body, "model");
        text(body, "provider");
        LeaseState lease = existing(leaseId);
        if (acceptedRequestIds.contains(requestId)) {
            duplicateReports.add(body);
            return success();
        }
        requireActive(lease);
        if (lease.granted - lease.spent < cost) {
            throw refused(403, "Insufficient lease budget");
        }
        lease.spent += cost;
        lease.requestIds.add(requestId);
        acceptedRequestIds.add(requestId);
        reports.add(body);
        return success();
    }

    private Reply refresh(JsonNode raw) {
        JsonNode body = object(raw);
        String token = text(body, "ic_token");
        String leaseId = text(body, "current_lease_id");
        long requested = requestedBudget(body);
        Verdict verdict = verify(token);
        if (verdict.refusal() != null) {
            throw refused(401, "Invalid IC Token");
        }
        LeaseState old = existing(leaseId);
        if (old.agentId != verdict.agentId()) {
            throw refused(403, "Lease belongs to another agent");
        }
        requireActive(old);
        long grant = Math.min(requested, ownerRemaining);
        ObjectNode answer = Json.MAPPER.createObjectNode();
        if (grant <= 0) {
            answer.put("status", "denied").putNull("budget_granted").put("budget_remaining", ownerRemaining)
                    .putNull("lease_id").put("reason", "insufficient_budget");
            return new Reply(200, answer);
        }
        // As the real server does: the old lease's unspent remainder is not credited back.
        old.status = "expired";
        LeaseState fresh = open(old.agentId, old.provider, grant);
        answer.put("status", "approved").put("budget_granted", grant).put("budget_remaining", ownerRemaining)
                .put("lease_id", fresh.id).putNull("reason");
        return new Reply(200, answer);
    }

    private Reply giveBack(JsonNode raw) {
        JsonNode body = object(raw);
        String leaseId = text(body, "lease_id");
        long spent = count(body, "spent_microdollars");
        LeaseState lease = existing(leaseId);
        if (!"active".equals(lease.status)) {
            throw refused(400, "Lease is not active");
        }
        long returned = Math.max(0, lease.granted - spent);
        ownerRemaining += returned;
        lease.status = "closed";
        returns.add(new Return(leaseId, spent, returned));
        return new Reply(200, Json.MAPPER.createObjectNode().put("success", true).put("returned", returned));
    }

    private Reply analyticsEvent(JsonNode raw) {
        JsonNode body = object(raw);
        String token = text(body, "ic_token");
        String eventId = text(body, "event_id");
        if (!UUID_TEXT.matcher(eventId).matches()) {
            throw refused(400, "event_id must be a UUID");
        }
        count(body, "timestamp_ms");
        if (!EVENT_TYPES.contains(text(body, "event_type"))) {
            throw refused(400, "event_type must be one of " + EVENT_TYPES);
        }
        text(body, "model");
        text(body, "provider");
        for (String field : List.of("input_tokens", "output_tokens", "cost_micros")) {
            if (body.hasNonNull(field)) {
                count(body, field);
            }
        }
        for (String field : List.of("provider_id", "error_code", "error_message")) {
            if (body.hasNonNull(field) && !body.get(field).isTextual()) {
                throw refused(400, field + " must be a string");
            }
        }
        if (verify(token).refusal() != null) {
            throw refused(401, "Invalid IC Token");
        }
        if (acceptedEventIds.add(eventId)) {
            analytics.add(body);
        } else {
            duplicateEvents.add(body);
        }
        return new Reply(200, Json.MAPPER.createObjectNode().put("success", true));
    }

    // ---- small helpers

    private LeaseState open(int agentId, String provider, long grant) {
        ownerRemaining -= grant;
        LeaseState lease = new LeaseState("lease_" + UUID.randomUUID(), agentId, provider, grant);
        leases.put(lease.id, lease);
        return lease;
    }

    private LeaseState existing(String leaseId) {
        LeaseState lease = leases.get(leaseId);
        if (lease == null) {
            throw refused(404, "Lease not found");
        }
        return lease;
    }

    private static void requireActive(LeaseState lease) {
        switch (lease.status) {
            case "active":
                return;
            case "expired":
                throw refused(403, "Lease expired");
            case "revoked":
                throw refused(403, "Lease has been revoked");
            default:
                throw refused(403, "Lease is not active");
        }
    }

    private Reply success() {
        return new Reply(200, Json.MAPPER.createObjectNode().put("success", true).put("budget_remaining", ownerRemaining));
    }

    /** The parsed body; a body that is not JSON is kept as its text (and fails the object check). */
    private static JsonNode parse(byte[] raw) {
        JsonNode tree = Json.readOrNull(raw);
        return tree != null ? tree : TextNode.valueOf(new String(raw, StandardCharsets.UTF_8));
    }

    private static JsonNode object(JsonNode body) {
        if (!body.isObject()) {
            throw refused(400, "body must be a JSON object");
        }
        return body;
    }

    private static String text(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || !value.isTextual() || value.asText().isEmpty()) {
            throw refused(400, field + " must be a non-empty string");
        }
        return value.asText();
    }

    private static long count(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
            throw refused(400, field + " must be an integer >= 0");
        }
        return value.asLong();
    }

    private static long requestedBudget(JsonNode body) {
        if (!body.hasNonNull("requested_budget")) {
            return DEFAULT_GRANT;
        }
        JsonNode value = body.get("requested_budget");
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 1 || value.asLong() > MAX_REQUESTED) {
            throw refused(400, "requested_budget must be an integer from 1 to " + MAX_REQUESTED);
        }
        return value.asLong();
    }

    private static String bearer(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = authorization.substring(7).trim();
        return token.isEmpty() ? null : token;
    }

    private static Refused refused(int status, String message) {
        return new Refused(new Reply(status, error(message)));
    }

    private static Refused refused(int status, String message, String code) {
        return new Refused(new Reply(status, error(message).put("code", code)));
    }

    private static ObjectNode error(String message) {
        return Json.MAPPER.createObjectNode().put("error", message);
    }

    private static void send(HttpExchange exchange, Reply reply) throws IOException {
        byte[] bytes = jsonBytes(reply.body());
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(reply.status(), bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static byte[] jsonBytes(JsonNode node) {
        try {
            return Json.MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String base64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Random lowercase letters: no digit runs a PII scanner could take for a card or phone number. */
    private static String letters(int n) {
        StringBuilder out = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            out.append((char) ('a' + RANDOM.nextInt(26)));
        }
        return out.toString();
    }

    /** Sleeps; an interrupt (the executor shutting down at close) just ends the wait. */
    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
