package io.ironruntime.router;

import io.ironruntime.telemetry.TraceParent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpMessage;

/**
 * The W3C trace context a request carries to the provider. A valid {@code traceparent} from the
 * client goes upstream unchanged, with its {@code tracestate}; without one (absent, invalid, or sent
 * twice) the router starts a trace, and a {@code tracestate} is dropped because it described another
 * trace (W3C Trace Context, processing model). Every attempt of a request sends the same one.
 *
 * @param parent    what goes upstream and is recorded with the request
 * @param continued true when it is the client's own
 * @param state     the client's {@code tracestate} values in order; empty unless continued
 */
record RequestTrace(TraceParent parent, boolean continued, List<String> state) {
    static final String TRACEPARENT = "traceparent";
    static final String TRACESTATE = "tracestate";

    static RequestTrace of(HttpMessage head, Random random) {
        Header[] parents = head.getHeaders(TRACEPARENT);
        TraceParent given = parents.length == 1 ? TraceParent.parse(parents[0].getValue()) : null;
        if (given == null) {
            return new RequestTrace(TraceParent.generate(random), false, List.of());
        }
        List<String> state = new ArrayList<>();
        for (Header h : head.getHeaders(TRACESTATE)) {
            state.add(h.getValue());
        }
        return new RequestTrace(given, true, List.copyOf(state));
    }

    /** Sets the trace headers of the provider request (the client's were not copied). */
    void addTo(HttpMessage upstream) {
        upstream.setHeader(TRACEPARENT, parent.header());
        for (String s : state) {
            upstream.addHeader(TRACESTATE, s);
        }
    }
}
