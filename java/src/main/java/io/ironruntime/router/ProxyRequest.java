package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpRequest;

/** One client request as the stages see it: the head, then the body, then where it goes and with which key. */
public final class ProxyRequest {
    final String id;
    final HttpRequest head;
    final long declaredLength;
    Route route;
    byte[] body;
    /** The parsed body when it is JSON, else null. */
    JsonNode json;
    /** The real key to send upstream; null when the client's own credentials pass through. */
    String upstreamKey;
    /** Where the request goes: the configured origin of its provider, or the one the control server named. */
    java.net.URI origin;
    /** The key from the control server this request uses (to suspect it when the provider refuses it), or null. */
    io.ironruntime.control.ProviderKey controlKey;
    /** What a stage that answered {@link RequestStages#WAIT} waits for; the stage runs again when it completes. */
    java.util.concurrent.CompletableFuture<Void> waitFor;
    /** How often the request has waited: a stage asks at most a few times before it answers. */
    int waits;
    /** How the response returns to the client's wire format when the request was translated; else null. */
    io.ironruntime.translate.ResponseTranslation translation;
    /** The client's fields the translation left out (named in a response header); empty when none. */
    java.util.List<String> translationDropped = java.util.List.of();
    /** True when the upstream needs an output bound the client did not give: the ledger sets one. */
    boolean outputBoundRequired;
    /** The money side of a metered request, set by the metering stage; null when it is not charged. */
    RequestCharge charge;
    /** The runtime agent whose token the request presented; null for the router's own token. */
    AgentAccount agent;
    /** The trace context sent upstream with every attempt and recorded with the request. */
    final RequestTrace trace;
    /** PII detections in this request and its response, counted as the guard finds them. */
    final AtomicInteger piiDetections = new AtomicInteger();

    ProxyRequest(String id, HttpRequest head, long declaredLength) {
        this.id = id;
        this.head = head;
        this.declaredLength = declaredLength;
        this.route = RouteResolver.resolve(head.getRequestUri());
        this.trace = RequestTrace.of(head, ThreadLocalRandom.current());
    }

    public String method() {
        return head.getMethod();
    }

    public Route route() {
        return route;
    }

    /** The provider the request goes to. */
    public Provider provider() {
        return route.provider();
    }

    /** The provider whose wire format the client speaks: errors are shaped for it. */
    public Provider clientFormat() {
        return translation != null ? translation.direction().client : route.provider();
    }

    String header(String name) {
        Header h = head.getFirstHeader(name);
        return h == null ? null : h.getValue();
    }

    /** Waits for {@code f}, then the stage that asked runs again; null (go on) when the request waited too often. */
    ErrorReply waitFor(java.util.concurrent.CompletableFuture<Void> f) {
        if (waits >= RequestStages.MAX_WAITS) {
            return null;
        }
        waits++;
        waitFor = f;
        return RequestStages.WAIT;
    }

    /**
     * Makes {@link #body} the encoding of {@link #json} after a stage changed the tree; null when done, else
     * the 400 to answer.
     */
    ErrorReply encodeJson() {
        try {
            body = io.ironruntime.Json.MAPPER.writeValueAsBytes(json);
            return null;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return ErrorReply.badRequest("invalid_json", "The request body could not be re-encoded");
        }
    }

    /** The agent the request is attributed to, or null. */
    public String agentId() {
        return agent == null ? null : agent.agentId();
    }

    /** Whether the body asks for a streamed response ({@code "stream": true}). */
    public boolean stream() {
        JsonNode s = json == null ? null : json.get("stream");
        return s != null && s.isBoolean() && s.booleanValue();
    }

    public String model() {
        if (json == null) {
            return null;
        }
        JsonNode m = json.get("model");
        return m != null && m.isTextual() ? m.asText() : null;
    }
}
