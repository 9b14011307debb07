package io.ironruntime.router;

import java.util.List;
import org.apache.hc.core5.http.HttpResponse;

/** The response head of a translated request, as its client's format expects it. */
final class TranslatedHeaders {
    /** Names the client's fields that had no counterpart in the provider's format and were left out. */
    static final String DROPPED = "x-iron-translation-dropped";

    private TranslatedHeaders() {
    }

    /**
     * @param upstreamStatus what the provider answered
     * @param jsonBody       true when the body the client gets is JSON the router wrote (an error page included)
     * @param dropped        the client's fields the translation left out
     */
    static void adjust(HttpResponse response, int upstreamStatus, boolean jsonBody, List<String> dropped) {
        if (jsonBody) {
            response.setHeader("Content-Type", "application/json");
            response.removeHeaders("Content-Length"); // the router frames the rewritten body itself
        }
        if (upstreamStatus == 529 && response.getCode() == 503) {
            // Overloaded is worth retrying: the SDKs read these two headers.
            response.setHeader("x-should-retry", "true");
            if (!response.containsHeader("retry-after") && !response.containsHeader("retry-after-ms")) {
                response.setHeader("retry-after", "1");
            }
        }
        if (!dropped.isEmpty()) {
            response.setHeader(DROPPED, ModelRouting.shown(dropped));
        }
    }
}
