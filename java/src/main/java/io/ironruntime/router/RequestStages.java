package io.ironruntime.router;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ironruntime.Json;
import io.ironruntime.config.KeyMode;
import io.ironruntime.config.RouterConfig;
import io.ironruntime.control.Admission;
import io.ironruntime.control.ControlSession;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The fixed request-side sequence. Head stages run as soon as the request line and headers arrive;
 * body stages once the whole body is in.
 */
final class RequestStages {
    private static final ObjectMapper JSON = Json.MAPPER;
    /**
     * A stage's answer "not yet": the request waits for {@link ProxyRequest#waitFor} (a key fetch, a lease
     * handshake or refresh under way) and the stage runs again. Never sent to a client.
     */
    static final ErrorReply WAIT = ErrorReply.unavailable("waiting", "waiting for the control server");
    /** Waits per request: a key, a lease, a refresh, and one spare. */
    static final int MAX_WAITS = 4;

    final List<RequestStage> head;
    final List<RequestStage> body;

    /** @param pii null when PII handling is off */
    /** @param control null outside control-server mode */
    RequestStages(RouterConfig config, IntSupplier boundPort, Accounting accounting, PiiGuard pii, Resilience resilience,
            ControlSession control) {
        HostGuard hosts = new HostGuard(config.host(), boundPort);
        ClientAuth auth = config.localToken() == null ? null : new ClientAuth(config.localToken());
        this.head = List.of(
                new HostCheck(hosts),
                RequestStages::routeExists,
                new AuthCheck(auth, accounting.agents),
                new DeclaredSizeCheck(config.maxRequestBytes()));
        List<RequestStage> body = new java.util.ArrayList<>();
        body.add(RequestStages::parseJson);
        body.add(new ModelRouting(config.modelAliases(), accounting.pricing, config.keyMode()));
        body.add(new CredentialCheck(config, control));
        if (pii != null) {
            body.add(pii::admit); // before metering: a blocked request reserves nothing, a redacted one is priced as sent
        }
        body.add(accounting::admit); // a reservation must not wait on a later refusal: only the rate limit follows
        if (resilience.limiter != null) {
            body.add(resilience::admitRate); // takes the tokens the reservation was sized for; releases it when it refuses
        }
        this.body = List.copyOf(body);
    }

    static ErrorReply run(List<RequestStage> stages, ProxyRequest request) {
        for (RequestStage stage : stages) {
            ErrorReply reply = stage.apply(request);
            if (reply != null) {
                return reply;
            }
        }
        return null;
    }

    record HostCheck(HostGuard guard) implements RequestStage {
        @Override
        public ErrorReply apply(ProxyRequest r) {
            String host = r.header("Host");
            if (guard.allows(host)) {
                return null;
            }
            return ErrorReply.forbidden("host_not_allowed", "Host '" + printable(host) + "' is not allowed:"
                    + " this router only serves clients that address it as 127.0.0.1 or localhost");
        }
    }

    static ErrorReply routeExists(ProxyRequest r) {
        if (r.route.kind() == Route.Kind.NOT_FOUND) {
            return ErrorReply.notFound("Unknown path " + printable(pathOnly(r.head.getPath()))
                    + ": the router serves /v1/... (optionally under /openai or /anthropic) /iron/health and /metrics");
        }
        return null;
    }

    /** The router's own token, or a runtime agent's token (which attributes the request to that agent). */
    record AuthCheck(ClientAuth auth, AgentAccounts agents) implements RequestStage {
        @Override
        public ErrorReply apply(ProxyRequest r) {
            if (auth == null || r.route.kind() == Route.Kind.HEALTH) {
                return null;
            }
            String authorization = r.header("Authorization");
            String apiKey = r.header("x-api-key");
            if (auth.accepts(authorization, apiKey)) {
                return null;
            }
            // Metrics show every agent's figures: an agent's token is for its own LLM calls only.
            if (!agents.isEmpty() && r.route.kind() == Route.Kind.PROXY) {
                AgentAccount agent = agents.forToken(ClientAuth.bearer(authorization));
                r.agent = agent != null ? agent : agents.forToken(apiKey == null ? null : apiKey.strip());
                if (r.agent != null) {
                    return null;
                }
            }
            boolean presented = authorization != null || apiKey != null;
            return ErrorReply.unauthorized(presented
                    ? "Invalid router token: use the api_key of your LlmRouter (router.api_key), not a provider key"
                    : "Missing router token: send 'Authorization: Bearer <router.api_key>' or 'x-api-key: <router.api_key>'");
        }
    }

    record DeclaredSizeCheck(long limit) implements RequestStage {
        @Override
        public ErrorReply apply(ProxyRequest r) {
            return r.declaredLength > limit ? tooLarge(limit) : null;
        }
    }

    static ErrorReply tooLarge(long limit) {
        return ErrorReply.tooLarge("Request body is larger than the router's limit of " + limit
                + " bytes (max_request_bytes)");
    }

    static ErrorReply parseJson(ProxyRequest r) {
        if (r.body == null || r.body.length == 0 || !looksJson(r)) {
            return null;
        }
        try {
            r.json = JSON.readTree(r.body);
            return null;
        } catch (JsonProcessingException e) {
            return ErrorReply.badRequest("invalid_json", "Request body is not valid JSON: "
                    + e.getOriginalMessage() + " (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (java.io.IOException e) {
            return ErrorReply.badRequest("invalid_json", "Request body could not be read as JSON");
        }
    }

    private static boolean looksJson(ProxyRequest r) {
        String ct = r.header("Content-Type");
        if (ct != null) {
            return ct.toLowerCase(Locale.ROOT).contains("json");
        }
        for (byte b : r.body) {
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return b == '{' || b == '[';
            }
        }
        return false;
    }

    /** The key and the origin: the router's own, the control server's, or none (passthrough). */
    record CredentialCheck(RouterConfig config, ControlSession control) implements RequestStage {
        @Override
        public ErrorReply apply(ProxyRequest r) {
            Provider p = r.route.provider();
            r.origin = config.origin(p);
            if (config.keyMode() == KeyMode.PASSTHROUGH) {
                return null;
            }
            if (control != null) {
                Admission a = control.credential(p);
                if (a.pending() != null) {
                    ErrorReply wait = r.waitFor(a.pending());
                    return wait != null ? wait : ErrorReply.controlServer(503, "control_server_unavailable",
                            "No provider key: the Iron Cage server at " + config.serverUrl() + " did not answer in time");
                }
                if (a.refusal() != null) {
                    return a.refusal();
                }
                r.controlKey = a.key();
                r.upstreamKey = a.key().key();
                r.origin = control.origin(a.key(), r.origin);
                return null;
            }
            String key = config.providerKeys().get(p);
            if (key == null) {
                String env = p == Provider.ANTHROPIC ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
                String why = r.translation == null ? "" : " (model " + printable(r.model()) + " is served by " + p.wireName()
                        + ", so the request was to be translated to its format)";
                return ErrorReply.badRequest("provider_not_configured", "This request goes to " + p.wireName() + why
                        + " but the router has no " + p.wireName() + " key: pass provider_key={'" + p.wireName()
                        + "': ...} or set " + env);
            }
            r.upstreamKey = key;
            return null;
        }
    }

    private static String pathOnly(String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        return q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    }

    /** Header values and paths echoed in errors: bounded and without control characters. */
    static String printable(String s) {
        if (s == null) {
            return "";
        }
        String t = s.length() > 200 ? s.substring(0, 200) + "..." : s;
        return t.replaceAll("[\\p{Cntrl}]", "?");
    }
}
