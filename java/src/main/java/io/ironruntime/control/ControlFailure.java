package io.ironruntime.control;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Why a call to the Iron Cage server did not succeed: it was unreachable ({@code status} 0), failed
 * (5xx) or refused (4xx, with the server's error code when it gave one).
 *
 * @param operation what the router was doing: {@code provider_key}, {@code handshake}, {@code report}, ...
 * @param code      the server's {@code code} ({@code INVALID_TOKEN}, {@code NO_PROVIDER_ASSIGNED}, ...), or
 *                  one of ours: {@code UNREACHABLE}, {@code HTTP_<status>}, {@code INVALID_RESPONSE}
 * @param message   the server's {@code error} text or the I/O error, bounded and printable; never a token
 */
public record ControlFailure(String operation, int status, String code, String message) {
    private static final int MAX_TEXT = 200;

    public static ControlFailure unreachable(String operation, Exception e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        return new ControlFailure(operation, 0, "UNREACHABLE", printable(why));
    }

    public static ControlFailure of(String operation, ControlClient.Reply reply) {
        JsonNode b = reply.body();
        String code = b.path("code").isTextual() ? printable(b.get("code").asText()) : "HTTP_" + reply.status();
        String text = b.path("error").isTextual() ? b.get("error").asText()
                : b.path("error").path("message").isTextual() ? b.get("error").get("message").asText() : "";
        return new ControlFailure(operation, reply.status(), code, printable(text));
    }

    public static ControlFailure invalid(String operation, int status, String why) {
        return new ControlFailure(operation, status, "INVALID_RESPONSE", printable(why));
    }

    /** Worth retrying soon: the server was unreachable, failing or busy; a refusal is not. */
    public boolean retryable() {
        return status == 0 || status >= 500 || status == 429 || status == 408;
    }

    /** For people: what happened, with the server's code. */
    public String describe(Object server) {
        if (status == 0) {
            return "the Iron Cage server at " + server + " is unreachable (" + message + ")";
        }
        return "the Iron Cage server at " + server + " answered " + status + " " + code + (message.isEmpty() ? "" : ": " + message);
    }

    static String printable(String s) {
        String t = s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) + "..." : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }
}
