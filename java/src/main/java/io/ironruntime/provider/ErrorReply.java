package io.ironruntime.provider;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error the router itself answers with, before or instead of the upstream's answer. Rendered in
 * the wire shape of the provider the client speaks to by {@link ProviderErrors}.
 *
 * @param status        HTTP status
 * @param openaiType    OpenAI {@code error.type}
 * @param anthropicType Anthropic {@code error.type}
 * @param code          OpenAI {@code error.code} (a stable machine-readable reason)
 * @param message       for the user: what happened and what to do; never a secret
 * @param headers       extra response headers ({@code Retry-After}, rate-limit state), in order
 */
public record ErrorReply(int status, String openaiType, String anthropicType, String code, String message,
        Map<String, String> headers) {

    public ErrorReply {
        headers = headers.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    public ErrorReply(int status, String openaiType, String anthropicType, String code, String message) {
        this(status, openaiType, anthropicType, code, message, Map.of());
    }

    /** The same error with these headers added. */
    public ErrorReply withHeaders(Map<String, String> extra) {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.putAll(extra);
        return new ErrorReply(status, openaiType, anthropicType, code, message, all);
    }

    public static ErrorReply badRequest(String code, String message) {
        return new ErrorReply(400, "invalid_request_error", "invalid_request_error", code, message);
    }

    /** 402: the budget cannot pay for the request; {@code type} is the same for both providers. */
    public static ErrorReply paymentRequired(String type, String code, String message) {
        return new ErrorReply(402, type, type, code, message);
    }

    public static ErrorReply unauthorized(String message) {
        return new ErrorReply(401, "invalid_request_error", "authentication_error", "invalid_api_key", message);
    }

    public static ErrorReply forbidden(String code, String message) {
        return new ErrorReply(403, "invalid_request_error", "permission_error", code, message);
    }

    public static ErrorReply notFound(String message) {
        return new ErrorReply(404, "invalid_request_error", "not_found_error", "not_found", message);
    }

    public static ErrorReply tooLarge(String message) {
        return new ErrorReply(413, "invalid_request_error", "request_too_large", "request_too_large", message);
    }

    public static ErrorReply upstreamUnreachable(String message) {
        return new ErrorReply(502, "server_error", "api_error", "upstream_unreachable", message);
    }

    public static ErrorReply upstreamTimeout(String message) {
        return new ErrorReply(504, "server_error", "timeout_error", "upstream_timeout", message);
    }

    /** 429 from the router's own limits ({@code rate_limits}, {@code max_in_flight}). */
    public static ErrorReply rateLimited(String code, String message) {
        return new ErrorReply(429, "iron_cage_rate_limited", "iron_cage_rate_limited", code, message);
    }

    /** 503 while the upstream's circuit is open: the provider was not called. */
    public static ErrorReply circuitOpen(String message) {
        return new ErrorReply(503, "iron_cage_circuit_open", "iron_cage_circuit_open", "circuit_open", message);
    }

    /**
     * The Iron Cage control server could not provide what the request needs (a provider key, a budget
     * lease): 503 while it is unreachable or failing, 502 when it refused.
     */
    public static ErrorReply controlServer(int status, String code, String message) {
        return new ErrorReply(status, "iron_cage_control_server", "api_error", code, message);
    }

    public static ErrorReply unavailable(String code, String message) {
        return new ErrorReply(503, "server_error", "api_error", code, message);
    }
}
