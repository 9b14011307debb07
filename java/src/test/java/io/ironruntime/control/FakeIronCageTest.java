package io.ironruntime.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake control server against the wire document, over real HTTP on loopback. */
class FakeIronCageTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final HttpClient HTTP = client();

    private FakeIronCage cage;

    private record Answer(int status, JsonNode body, String text) {
        String error() {
            return body.path("error").asText();
        }

        String code() {
            return body.path("code").asText();
        }
    }

    @BeforeEach
    void start() {
        cage = FakeIronCage.start();
    }

    @AfterEach
    void stop() {
        cage.close();
    }

    @Test
    void tokensAreHs256JwtsFromTheControlPanelForOneAgent() {
        long now = Instant.now().getEpochSecond();
        String token = cage.token(7);
        String[] parts = token.split("\\.", -1);
        assertEquals(3, parts.length);
        assertFalse(token.contains("="), "base64url without padding");
        assertEquals(Json.readOrNull("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"), decode(parts[0]));
        JsonNode claims = decode(parts[1]);
        assertEquals("agent_7", claims.path("sub").asText());
        assertEquals("agent_7", claims.path("agent_id").asText());
        assertEquals("iron-control-panel", claims.path("iss").asText());
        long exp = claims.path("exp").asLong();
        assertTrue(exp > now + 3500 && exp < now + 3700, "an hour ahead: " + (exp - now));
        assertTrue(claims.path("iat").asLong() <= exp);
        assertTrue(decode(cage.expiredToken(7).split("\\.")[1]).path("exp").asLong() < now, "expired an hour ago");
    }

    @Test
    void aValidTokenFetchesTheAgentsKeyAndProviderWithBaseUrlOnlyWhenSet() {
        String key = cage.providerKey();
        assertTrue(key.matches("sk-fake-[a-z]+"), key);
        String token = cage.token(1);
        Answer first = keyFetch(token);
        assertEquals(200, first.status());
        assertEquals(json("provider_key", key, "provider", "openai"), first.body(), "no base_url when the agent has none");

        cage.provider("anthropic").providerKey("sk-ant-other").baseUrl("http://127.0.0.1:9/up");
        Answer second = keyFetch(token);
        assertEquals(json("provider_key", "sk-ant-other", "provider", "anthropic", "base_url", "http://127.0.0.1:9/up"),
                second.body());
        assertEquals(List.of(200, 200), cage.keyFetches().stream().map(FakeIronCage.KeyFetch::status).toList());
        assertEquals(json("ic_token", token), cage.keyFetches().get(1).body());
        assertEquals(2, cage.calls("provider-key"));
    }

    @Test
    void keyFetchErrorsCarryTheDocumentedCodesAndNeverEchoTheToken() {
        assertKeyError(400, "INVALID_TOKEN", "{not json");
        assertKeyError(400, "INVALID_TOKEN", "{}");
        assertKeyError(400, "INVALID_TOKEN", json("ic_token", "").toString());
        assertKeyError(400, "INVALID_TOKEN", json("ic_token", 5).toString());
        assertKeyError(400, "INVALID_TOKEN", json("ic_token", "not-a-jwt").toString());
        assertKeyError(401, "UNAUTHORIZED", json("ic_token", cage.expiredToken(1)).toString());
        assertKeyError(401, "UNAUTHORIZED", json("ic_token", cage.token(99)).toString());

        cage.setAgent(2, null, "sk-unassigned", null, true);
        assertKeyError(403, "NO_PROVIDER_ASSIGNED", json("ic_token", cage.token(2)).toString());
        cage.setAgent(2, "openai", "sk-disabled", null, false);
        assertKeyError(403, "NO_PROVIDER_ASSIGNED", json("ic_token", cage.token(2)).toString());
        cage.setAgent(2, "openai", null, null, true);
        assertKeyError(404, "PROVIDER_NOT_FOUND", json("ic_token", cage.token(2)).toString());
        assertEquals(10, cage.keyFetches().size());
    }

    @Test
    void aTokenIsValidOnlyWithThisServersSignatureTheIssuerAFutureExpiryAndAKnownAgent() {
        String token = cage.token(1);
        String[] parts = token.split("\\.");
        ObjectNode forged = (ObjectNode) decode(parts[1]);
        forged.put("agent_id", "agent_2");
        cage.setAgent(2, "openai", "sk-two", null, true);
        String resigned = parts[0] + "." + base64(forged.toString()) + "." + parts[2];
        assertEquals(400, keyFetch(resigned).status(), "claims changed under the old signature");
        try (FakeIronCage other = FakeIronCage.start()) {
            assertEquals(400, keyFetch(other.token(1)).status(), "another server's secret");
        }
        assertEquals(400, keyFetch(base64("{\"alg\":\"none\"}") + "." + parts[1] + ".").status(), "unsigned");
        assertEquals(400, keyFetch(parts[0] + "." + parts[1]).status(), "two parts");
        long exp = Instant.now().getEpochSecond() + 600;
        assertEquals(400, keyFetch(cage.sign(json("agent_id", "agent_1", "iss", "someone-else", "exp", exp))).status());
        assertEquals(400, keyFetch(cage.sign(json("agent_id", "agent_1", "iss", "iron-control-panel"))).status(), "no exp");
        assertEquals(401, keyFetch(cage.sign(json("agent_id", "bob", "iss", "iron-control-panel", "exp", exp))).status());
        assertEquals(200, keyFetch(cage.sign(json("agent_id", "agent_1", "iss", "iron-control-panel", "exp", exp))).status());
        assertEquals(200, keyFetch(token).status());
    }

    @Test
    void aHandshakeGrantsTheDefaultOrTheRequestedAmountFromTheOwnersBudget() {
        String token = cage.token(1);
        Answer first = handshake(token, "openai");
        assertEquals(200, first.status(), first.text());
        assertEquals(10_000_000, first.body().path("budget_granted").asLong());
        assertEquals(90_000_000, first.body().path("budget_remaining").asLong());
        assertTrue(first.body().path("ip_token").asText().startsWith("ip_v1:"));
        assertTrue(first.body().has("expires_at") && first.body().get("expires_at").isNull());
        String leaseId = first.body().path("lease_id").asText();
        assertTrue(leaseId.matches("lease_[0-9a-f-]{36}"), leaseId);
        assertEquals(new FakeIronCage.Lease(leaseId, 1, "openai", 10_000_000, 0, "active", List.of()), cage.lease(leaseId));

        Answer second = handshake(token,
                json("ic_token", token, "provider", "openai", "provider_key_id", 3, "requested_budget", 2_500_000));
        assertEquals(2_500_000, second.body().path("budget_granted").asLong());
        assertEquals(87_500_000, cage.ownerRemaining());
        assertEquals(2, cage.leases().size());
        FakeIronCage.Handshake recorded = cage.handshakes().get(1);
        assertEquals("Bearer " + token, recorded.authorization());
        assertEquals(2_500_000, recorded.body().path("requested_budget").asLong());
    }

    @Test
    void aHandshakeGrantsWhatTheOwnerHasLeftThenRefuses() {
        cage.ownerBudget(3_000_000);
        assertEquals(3_000_000, handshake(1, "openai").body().path("budget_granted").asLong());
        Answer refused = handshake(1, "openai");
        assertEquals(403, refused.status());
        assertEquals("Budget limit exceeded", refused.error());
        assertEquals(0, cage.ownerRemaining());
        assertEquals(1, cage.leases().size());
    }

    @Test
    void handshakeErrorsChangeNothing() {
        String token = cage.token(1);
        Answer missing = post("handshake", json("ic_token", token, "provider", "openai"));
        assertEquals(401, missing.status());
        assertEquals("Missing authorization", missing.error());
        assertEquals(400, send(HTTP, url("handshake"), "{not json", "Bearer " + token).status());
        assertEquals(400, handshake(token, json("provider", "openai")).status());
        assertEquals(400, handshake(token, json("ic_token", token, "provider", "gemini")).status());
        assertEquals(400, handshake(token, json("ic_token", token, "provider", "openai", "provider_key_id", "three")).status());
        for (Object bad : new Object[] {0, -5, 100_000_001, 1.5, "5"}) {
            Answer answer = handshake(token, json("ic_token", token, "provider", "openai", "requested_budget", bad));
            assertEquals(400, answer.status(), "requested_budget " + bad);
            assertFalse(answer.error().isEmpty());
        }
        Answer otherBearer = handshake(cage.token(2), json("ic_token", token, "provider", "openai"));
        assertEquals(401, otherBearer.status());
        assertEquals("Invalid IC Token", otherBearer.error());
        assertEquals(401, handshake(cage.expiredToken(1), "openai").status());
        Answer wrongProvider = handshake(1, "anthropic");
        assertEquals(403, wrongProvider.status());
        assertEquals("No provider key assigned for anthropic", wrongProvider.error());
        assertFalse(wrongProvider.text().contains(token));
        assertEquals(FakeIronCage.DEFAULT_OWNER_BUDGET, cage.ownerRemaining());
        assertEquals(List.of(), cage.leases());
    }

    @Test
    void aReportChargesItsLeaseOncePerRequestIdOnAnyLease() {
        String lease = openLease(5_000_000);
        String other = openLease(1_000_000);
        Answer charged = report(lease, "req-a", 1_200_000);
        assertEquals(200, charged.status());
        assertEquals(json("success", true, "budget_remaining", 94_000_000), charged.body());
        Answer again = report(lease, "req-a", 1_200_000);
        assertEquals(json("success", true, "budget_remaining", 94_000_000), again.body(), "acknowledged, not charged");
        assertEquals(200, report(other, "req-a", 300).status(), "the same request id on another lease");
        assertEquals(1_200_000, cage.lease(lease).spent());
        assertEquals(List.of("req-a"), cage.lease(lease).reportedRequestIds());
        assertEquals(0, cage.lease(other).spent());
        assertEquals(1, cage.reports().size());
        assertEquals(2, cage.duplicateReports().size());
        assertEquals(other, cage.duplicateReports().get(1).path("lease_id").asText());
    }

    @Test
    void reportErrors() {
        String lease = openLease(1_000);
        ObjectNode valid = reportBody(lease, "r1", 10);
        for (String field : List.of("lease_id", "request_id", "tokens", "cost_microdollars", "model", "provider")) {
            ObjectNode body = valid.deepCopy();
            body.remove(field);
            assertEquals(400, post("report", body).status(), "without " + field);
        }
        assertEquals(400, post("report", valid.deepCopy().put("tokens", -1)).status());
        assertEquals(400, post("report", valid.deepCopy().put("cost_microdollars", "10")).status());
        assertEquals(400, post("report", valid.deepCopy().put("model", "")).status());
        assertEquals(400, post("report", "[]").status());
        assertError(404, "Lease not found", report("lease_unknown", "r1", 10));
        assertError(403, "Insufficient lease budget", report(lease, "r1", 1_001));
        assertEquals(200, report(lease, "r1", 1_000).status(), "exactly what is left");
        assertEquals(List.of(), List.copyOf(cage.duplicateReports()));

        String expired = openLease(1_000);
        cage.expire(expired);
        assertError(403, "Lease expired", report(expired, "r2", 1));
        String revoked = openLease(1_000);
        cage.revoke(revoked);
        assertError(403, "Lease has been revoked", report(revoked, "r3", 1));
        String closed = openLease(1_000);
        assertEquals(200, post("return", json("lease_id", closed, "spent_microdollars", 0)).status());
        assertError(403, "Lease is not active", report(closed, "r4", 1));
        assertEquals(1, cage.reports().size());
    }

    @Test
    void aRefreshOpensANewLeaseAndExpiresTheOldOneWithoutCreditingItsRemainder() {
        String old = openLease(10_000_000);
        assertEquals(200, report(old, "r1", 1_000_000).status());
        Answer refreshed = post("refresh", json("ic_token", cage.token(1), "current_lease_id", old, "requested_budget", 5_000_000));
        assertEquals(200, refreshed.status(), refreshed.text());
        String fresh = refreshed.body().path("lease_id").asText();
        assertNotEquals(old, fresh);
        assertEquals(json("status", "approved", "budget_granted", 5_000_000, "budget_remaining", 85_000_000,
                "lease_id", fresh, "reason", null), refreshed.body());
        assertEquals("expired", cage.lease(old).status());
        assertEquals(new FakeIronCage.Lease(fresh, 1, "openai", 5_000_000, 0, "active", List.of()), cage.lease(fresh));
        assertEquals(85_000_000, cage.ownerRemaining(), "the old lease's unspent 9,000,000 is gone");
        assertError(403, "Lease expired", report(old, "r2", 1));
        assertEquals(200, report(fresh, "r2", 1).status());
        FakeIronCage.Refresh recorded = cage.refreshes().get(0);
        assertEquals(old, recorded.body().path("current_lease_id").asText());
        assertEquals(refreshed.text(), recorded.answer().toString());

        Answer byDefault = post("refresh", json("ic_token", cage.token(1), "current_lease_id", fresh));
        assertEquals(10_000_000, byDefault.body().path("budget_granted").asLong());
    }

    @Test
    void aRefreshTheOwnerCannotFundIsDeniedAndKeepsTheOldLease() {
        cage.ownerBudget(10_000_000);
        String lease = openLease(10_000_000);
        Answer denied = post("refresh", json("ic_token", cage.token(1), "current_lease_id", lease));
        assertEquals(200, denied.status());
        assertEquals(json("status", "denied", "budget_granted", null, "budget_remaining", 0, "lease_id", null,
                "reason", "insufficient_budget"), denied.body());
        assertEquals("active", cage.lease(lease).status());
        assertEquals(1, cage.leases().size());
    }

    @Test
    void refreshErrors() {
        String lease = openLease(1_000);
        String token = cage.token(1);
        assertEquals(400, post("refresh", json("ic_token", token)).status());
        assertEquals(400, post("refresh", json("current_lease_id", lease)).status());
        assertEquals(400, post("refresh", json("ic_token", token, "current_lease_id", lease, "requested_budget", 0)).status());
        assertError(401, "Invalid IC Token", post("refresh", json("ic_token", cage.expiredToken(1), "current_lease_id", lease)));
        assertError(404, "Lease not found", post("refresh", json("ic_token", token, "current_lease_id", "lease_x")));
        cage.setAgent(2, "openai", "sk-two", null, true);
        assertEquals(403, post("refresh", json("ic_token", cage.token(2), "current_lease_id", lease)).status(), "another agent's");
        String expired = openLease(1_000);
        cage.expire(expired);
        assertError(403, "Lease expired", post("refresh", json("ic_token", token, "current_lease_id", expired)));
        String revoked = openLease(1_000);
        cage.revoke(revoked);
        assertError(403, "Lease has been revoked", post("refresh", json("ic_token", token, "current_lease_id", revoked)));
        String closed = openLease(1_000);
        post("return", json("lease_id", closed, "spent_microdollars", 0));
        assertError(403, "Lease is not active", post("refresh", json("ic_token", token, "current_lease_id", closed)));
        assertEquals(4, cage.leases().size(), "no lease opened by a refused refresh");
        assertEquals(9, cage.refreshes().size());
    }

    @Test
    void aReturnCreditsTheUnspentPartOnceAndClosesTheLease() {
        String lease = openLease(10_000_000);
        Answer returned = post("return", json("lease_id", lease, "spent_microdollars", 2_500_000));
        assertEquals(json("success", true, "returned", 7_500_000), returned.body());
        assertEquals(97_500_000, cage.ownerRemaining());
        assertEquals("closed", cage.lease(lease).status());
        assertEquals(List.of(new FakeIronCage.Return(lease, 2_500_000, 7_500_000)), cage.returns());
        assertError(400, "Lease is not active", post("return", json("lease_id", lease, "spent_microdollars", 0)));
        assertEquals(97_500_000, cage.ownerRemaining());

        String overspent = openLease(1_000);
        assertEquals(0, post("return", json("lease_id", overspent, "spent_microdollars", 5_000)).body().path("returned").asLong());
        assertError(404, "Lease not found", post("return", json("lease_id", "lease_x", "spent_microdollars", 0)));
        assertEquals(400, post("return", json("lease_id", lease, "spent_microdollars", -1)).status());
        assertEquals(400, post("return", json("spent_microdollars", 0)).status());
        assertEquals(2, cage.returns().size());
    }

    @Test
    void analyticsStoresEachEventIdOnce() {
        ObjectNode completed = event("llm_request_completed").put("input_tokens", 12).put("output_tokens", 3)
                .put("cost_micros", 450).put("provider_id", "ip_openai-001");
        assertEquals(json("success", true), post("analytics", completed).body());
        assertEquals(json("success", true), post("analytics", completed).body(), "a resend is acknowledged");
        ObjectNode failed = event("llm_request_failed").put("error_code", "rate_limited").put("error_message", "429");
        assertEquals(200, post("analytics", failed).status());
        assertEquals(List.of(completed, failed), cage.analytics());
        assertEquals(List.of(completed), cage.duplicateEvents());
    }

    @Test
    void analyticsErrorsStoreNothing() {
        assertEquals(400, post("analytics", event("llm_request_completed").put("event_id", "not-a-uuid")).status());
        assertEquals(400, post("analytics", event("something_else")).status());
        ObjectNode noTime = event("llm_request_completed");
        noTime.remove("timestamp_ms");
        assertEquals(400, post("analytics", noTime).status());
        assertEquals(400, post("analytics", event("llm_request_completed").put("input_tokens", -1)).status());
        assertEquals(400, post("analytics", event("llm_request_completed").put("error_code", 5)).status());
        assertEquals(400, post("analytics", event("llm_request_completed").put("model", "")).status());
        assertError(401, "Invalid IC Token", post("analytics", event("llm_request_completed").put("ic_token", cage.expiredToken(1))));
        assertEquals(List.of(), cage.analytics());
        assertEquals(List.of(), cage.duplicateEvents());
    }

    @Test
    void injectedFailuresAnswerFirstChangeNothingAndCount() {
        cage.fail("handshake", 503, 2);
        for (int i = 0; i < 2; i++) {
            Answer failed = handshake(1, "openai");
            assertEquals(503, failed.status());
            assertEquals(json("error", "injected failure", "code", "INTERNAL_ERROR"), failed.body());
        }
        assertEquals(List.of(), cage.leases());
        assertEquals(List.of(), cage.handshakes(), "injected before any processing");
        String lease = handshake(1, "openai").body().path("lease_id").asText();
        assertEquals(3, cage.calls("handshake"));

        cage.fail("report", 500, 0);
        for (int i = 0; i < 3; i++) {
            assertEquals(500, report(lease, "r1", 10).status());
        }
        assertEquals(0, cage.lease(lease).spent());
        cage.clearFailures();
        assertEquals(200, report(lease, "r1", 10).status());
        assertEquals(10, cage.lease(lease).spent());
        assertEquals(4, cage.calls("report"));
        assertThrows(IllegalArgumentException.class, () -> cage.fail("nope", 500, 1));
    }

    @Test
    void aDelayedEndpointWaitsWhileTheOthersAnswer() throws Exception {
        String lease = openLease(1_000);
        Duration delay = Duration.ofSeconds(2);
        cage.delay("report", delay);
        long started = System.nanoTime();
        CompletableFuture<HttpResponse<String>> slow =
                HTTP.sendAsync(request(url("report"), reportBody(lease, "r1", 5).toString(), null), HttpResponse.BodyHandlers.ofString());
        waitFor(() -> cage.calls("report") == 1);
        assertEquals(200, keyFetch(cage.token(1)).status());
        assertFalse(slow.isDone(), "the key fetch was answered while the report waited");
        assertEquals(200, slow.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).statusCode());
        assertTrue(System.nanoTime() - started >= delay.toNanos());
        assertEquals(5, cage.lease(lease).spent());
        cage.delay("report", Duration.ZERO);
        assertEquals(200, report(lease, "r2", 5).status());
    }

    @Test
    void downRefusesConnectionsAndUpListensAgainOnTheSamePortWithTheStateKept() {
        String lease = openLease(1_000);
        String url = cage.url();
        cage.down();
        HttpClient fresh = client();
        assertThrows(ConnectException.class,
                () -> fresh.send(request(url("report"), reportBody(lease, "r1", 5).toString(), null),
                        HttpResponse.BodyHandlers.ofString()));
        cage.up();
        assertEquals(url, cage.url());
        assertEquals(200, send(client(), url("report"), reportBody(lease, "r1", 5).toString(), null).status());
        assertEquals(5, cage.lease(lease).spent());
        assertEquals(1, cage.calls("report"), "the refused connection never arrived");
    }

    @Test
    void aCallInFlightWhenTheServerGoesDownIsAppliedButItsAnswerIsLost() throws Exception {
        String lease = openLease(1_000);
        cage.delay("report", Duration.ofSeconds(1));
        CompletableFuture<HttpResponse<String>> inFlight =
                HTTP.sendAsync(request(url("report"), reportBody(lease, "r1", 5).toString(), null), HttpResponse.BodyHandlers.ofString());
        waitFor(() -> cage.calls("report") == 1);
        cage.down();
        ExecutionException lost = assertThrows(ExecutionException.class, () -> inFlight.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertTrue(lost.getCause() instanceof IOException, lost.toString());
        waitFor(() -> cage.lease(lease).spent() == 5);
        assertEquals(List.of("r1"), cage.lease(lease).reportedRequestIds(), "what a client retry must be deduplicated against");
    }

    @Test
    void otherPathsAndMethodsGetJsonErrors() throws Exception {
        Answer unknown = send(HTTP, cage.url() + "/api/v1/budget/nope", "{}", null);
        assertEquals(404, unknown.status());
        assertFalse(unknown.error().isEmpty());
        HttpResponse<String> get = HTTP.send(HttpRequest.newBuilder(URI.create(url("provider-key"))).timeout(TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        assertTrue(Json.readOrNull(get.body()).has("error"));
        assertEquals(1, cage.calls("provider-key"));
        assertEquals(List.of(), cage.keyFetches());
    }

    @Test
    void theEndpointsSitOnTheDocumentedPaths() {
        String token = cage.token(1);
        assertEquals(200, send(HTTP, cage.url() + "/api/v1/agents/provider-key", json("ic_token", token).toString(), null).status());
        Answer handshake = send(HTTP, cage.url() + "/api/v1/budget/handshake",
                json("ic_token", token, "provider", "openai").toString(), "Bearer " + token);
        String lease = handshake.body().path("lease_id").asText();
        assertEquals(200, send(HTTP, cage.url() + "/api/v1/budget/report", reportBody(lease, "r", 1).toString(), null).status());
        Answer refresh = send(HTTP, cage.url() + "/api/v1/budget/refresh", json("ic_token", token, "current_lease_id", lease).toString(), null);
        assertEquals(200, send(HTTP, cage.url() + "/api/v1/budget/return",
                json("lease_id", refresh.body().path("lease_id").asText(), "spent_microdollars", 0).toString(), null).status());
        assertEquals(200, send(HTTP, cage.url() + "/api/v1/analytics/events", event("llm_request_completed").toString(), null).status());
        for (String endpoint : List.of("provider-key", "handshake", "report", "refresh", "return", "analytics")) {
            assertEquals(1, cage.calls(endpoint), endpoint);
        }
    }

    @Test
    void readsAreSnapshots() {
        String lease = openLease(1_000);
        FakeIronCage.Lease before = cage.lease(lease);
        List<FakeIronCage.Lease> leases = cage.leases();
        report(lease, "r1", 10);
        assertEquals(0, before.spent());
        assertEquals(0, leases.get(0).spent());
        assertThrows(UnsupportedOperationException.class, () -> leases.add(before));
        ((ObjectNode) cage.reports().get(0)).put("cost_microdollars", 999);
        assertEquals(10, cage.reports().get(0).path("cost_microdollars").asLong());
    }

    // ---- helpers

    private String openLease(long requested) {
        Answer answer = handshake(cage.token(1), json("ic_token", cage.token(1), "provider", "openai", "requested_budget", requested));
        assertEquals(200, answer.status(), answer.text());
        return answer.body().path("lease_id").asText();
    }

    private Answer handshake(int agentId, String provider) {
        return handshake(cage.token(agentId), provider);
    }

    private Answer handshake(String token, String provider) {
        return handshake(token, json("ic_token", token, "provider", provider));
    }

    private Answer handshake(String bearer, ObjectNode body) {
        return send(HTTP, url("handshake"), body.toString(), "Bearer " + bearer);
    }

    private Answer report(String leaseId, String requestId, long cost) {
        return post("report", reportBody(leaseId, requestId, cost));
    }

    private static ObjectNode reportBody(String leaseId, String requestId, long cost) {
        return json("lease_id", leaseId, "request_id", requestId, "tokens", 42, "cost_microdollars", cost,
                "model", "gpt-4o-mini", "provider", "openai");
    }

    private ObjectNode event(String type) {
        return json("ic_token", cage.token(1), "event_id", UUID.randomUUID().toString(), "timestamp_ms",
                System.currentTimeMillis(), "event_type", type, "model", "gpt-4o-mini", "provider", "openai");
    }

    private Answer keyFetch(String token) {
        return post("provider-key", json("ic_token", token));
    }

    private void assertKeyError(int status, String code, String body) {
        Answer answer = post("provider-key", body);
        assertEquals(status, answer.status(), body);
        assertEquals(code, answer.code(), body);
        assertFalse(answer.error().isEmpty());
        JsonNode token = Json.readOrNull(body) == null ? null : Json.readOrNull(body).path("ic_token");
        if (token != null && token.isTextual() && !token.asText().isEmpty()) {
            assertFalse(answer.text().contains(token.asText()), "the token is not echoed");
        }
    }

    private static void assertError(int status, String error, Answer answer) {
        assertEquals(status, answer.status(), answer.text());
        assertEquals(error, answer.error());
    }

    private Answer post(String endpoint, ObjectNode body) {
        return post(endpoint, body.toString());
    }

    private Answer post(String endpoint, String body) {
        return send(HTTP, url(endpoint), body, null);
    }

    private String url(String endpoint) {
        return cage.url() + FakeIronCage.path(endpoint);
    }

    private static Answer send(HttpClient client, String url, String body, String authorization) {
        try {
            HttpResponse<String> response = client.send(request(url, body, authorization), HttpResponse.BodyHandlers.ofString());
            assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
            JsonNode tree = Json.readOrNull(response.body());
            assertTrue(tree != null && tree.isObject(), "a JSON body: " + response.body());
            return new Answer(response.statusCode(), tree, response.body());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static HttpRequest request(String url, String body, String authorization) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        return builder.build();
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
    }

    private static ObjectNode json(Object... keysAndValues) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            node.set((String) keysAndValues[i], Json.MAPPER.valueToTree(keysAndValues[i + 1]));
        }
        return node;
    }

    private static JsonNode decode(String part) {
        return Json.readOrNull(Base64.getUrlDecoder().decode(part));
    }

    private static String base64(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not met in " + TIMEOUT);
            Thread.sleep(10);
        }
    }
}
