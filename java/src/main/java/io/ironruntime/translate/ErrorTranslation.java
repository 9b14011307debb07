package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * An upstream's error body in the client's format, so the client's SDK raises its usual error: pure.
 * <p>
 * The status is kept (the SDKs choose their exception and retry by it), except Anthropic's 529, which
 * OpenAI clients do not know: it becomes 503, which they retry. The upstream's message is kept and
 * capped; what only the upstream's format can say (Anthropic's error type, OpenAI's code and param, a
 * request id) goes where the client's format has room, so nothing useful is lost. A body that is not
 * the expected shape (a proxy's HTML page, an empty body: the caller passes null) still gives a
 * well-formed error whose message names the upstream and its status, never the raw body. An error body
 * with a status outside 400-599 is the upstream misbehaving and is answered with 502.
 */
public final class ErrorTranslation {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    /** The most characters of an upstream's message copied into ours. */
    static final int MAX_MESSAGE = 1000;
    /** The most characters of an error type, code, param or request id copied into ours. */
    private static final int MAX_DETAIL = 100;

    private ErrorTranslation() {
    }

    /**
     * An Anthropic error as OpenAI {@code {"error":{"message","type","param","code"}}}: {@code type} in
     * OpenAI's words for the status, {@code code} the Anthropic error type.
     */
    public static TranslatedError toOpenAi(int status, JsonNode anthropicErrorBody) {
        int upstream = errorStatus(status);
        JsonNode in = anthropicErrorBody == null ? F.missingNode() : anthropicErrorBody;
        JsonNode error = in.path("error");
        String message = message(error, "Anthropic", status);
        String requestId = detail(in.path("request_id"));
        if (requestId != null) {
            message += " (Anthropic request id: " + requestId + ")";
        }
        String code = detail(error.path("type"));
        ObjectNode body = F.objectNode();
        ObjectNode e = body.putObject("error");
        e.put("message", message);
        e.put("type", openAiType(upstream, code));
        e.putNull("param");
        e.put("code", code);
        return new TranslatedError(openAiStatus(upstream), body);
    }

    /** The status an OpenAI client gets for an Anthropic status: its 529 (overloaded) is a 503, which they know and retry. */
    public static int openAiStatus(int anthropicStatus) {
        return anthropicStatus == 529 ? 503 : anthropicStatus;
    }

    /** An OpenAI error as Anthropic {@code {"type":"error","error":{"type","message"}}}, typed by status. */
    public static TranslatedError toAnthropic(int status, JsonNode openAiErrorBody) {
        int upstream = errorStatus(status);
        JsonNode error = openAiErrorBody == null ? F.missingNode() : openAiErrorBody.path("error");
        String message = message(error, "OpenAI", status);
        List<String> details = new ArrayList<>(2);
        String code = detail(error.path("code"));
        if (code != null) {
            details.add("code: " + code);
        }
        String param = detail(error.path("param"));
        if (param != null) {
            details.add("param: " + param);
        }
        if (!details.isEmpty()) {
            message += " (OpenAI " + String.join(", ", details) + ")";
        }
        ObjectNode body = F.objectNode();
        body.put("type", "error");
        ObjectNode e = body.putObject("error");
        e.put("type", anthropicType(upstream));
        e.put("message", message);
        return new TranslatedError(upstream, body);
    }

    /** OpenAI's {@code error.type} for an Anthropic error type met without a status (mid-stream). */
    static String openAiType(String anthropicType) {
        return openAiType(statusOf(anthropicType), anthropicType);
    }

    /** The status Anthropic answers with an error of this type (the inverse of {@link #anthropicType}). */
    private static int statusOf(String anthropicType) {
        return switch (anthropicType == null ? "" : anthropicType) {
            case "invalid_request_error" -> 400;
            case "authentication_error" -> 401;
            case "billing_error" -> 402;
            case "permission_error" -> 403;
            case "not_found_error" -> 404;
            case "request_too_large" -> 413;
            case "rate_limit_error" -> 429;
            case "timeout_error" -> 504;
            case "overloaded_error" -> 529;
            default -> 500; // api_error and anything unknown
        };
    }

    /** OpenAI's {@code error.type} for an Anthropic error of this status and type. */
    private static String openAiType(int status, String anthropicType) {
        if ("billing_error".equals(anthropicType)) {
            return "insufficient_quota"; // OpenAI's word for an account that cannot pay
        }
        if (status == 429) {
            return "requests"; // OpenAI says requests or tokens; Anthropic does not say which limit
        }
        return status >= 500 ? "server_error" : "invalid_request_error";
    }

    /** Anthropic's {@code error.type} for this status (its docs list one type per status). */
    private static String anthropicType(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 402 -> "billing_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 503 -> "overloaded_error";
            case 504 -> "timeout_error";
            default -> status >= 500 ? "api_error" : "invalid_request_error"; // Anthropic uses the latter for other 4xx
        };
    }

    /** The upstream's {@code error.message}, capped; or, when there is none, what the upstream answered. */
    private static String message(JsonNode error, String provider, int status) {
        JsonNode m = error.path("message");
        if (m.isTextual() && !m.asText().isBlank()) {
            return cap(m.asText(), MAX_MESSAGE);
        }
        return "The upstream provider (" + provider + ") answered HTTP " + status + " without an error message the router could read.";
    }

    /** A type, code, param or request id worth passing on: a non-empty string or a number (OpenAI sends null for none). */
    private static String detail(JsonNode v) {
        return (v.isTextual() || v.isNumber()) && !v.asText().isEmpty() ? cap(v.asText(), MAX_DETAIL) : null;
    }

    /** A status outside 4xx/5xx on an error body is the upstream misbehaving: answer 502 Bad Gateway. */
    private static int errorStatus(int status) {
        return status >= 400 && status <= 599 ? status : 502;
    }

    /** At most {@code max} characters (never half a surrogate pair), marked when cut. */
    static String cap(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
        return s.substring(0, end) + "… (truncated)";
    }
}
