package io.ironruntime.router;

import io.ironruntime.provider.Provider;
import java.net.URI;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.message.BasicHttpRequest;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.AsyncRequestProducer;
import org.apache.hc.core5.http.nio.entity.AsyncEntityProducers;
import org.apache.hc.core5.http.nio.support.BasicRequestProducer;

/** Builds the request sent to the provider: same method, path, query, body and headers, the real key
 * injected, the request's trace context set. */
final class UpstreamRequests {
    private UpstreamRequests() {
    }

    static AsyncRequestProducer producer(ProxyRequest request) {
        Provider provider = request.provider();
        URI origin = request.origin;
        HttpHost target = new HttpHost(origin.getScheme(), origin.getHost(), origin.getPort());
        String basePath = origin.getRawPath() == null ? "" : origin.getRawPath();
        BasicHttpRequest upstream = new BasicHttpRequest(request.method(), target,
                basePath + request.route.upstreamPath());

        boolean passthrough = request.upstreamKey == null;
        for (Header h : request.head.getHeaders()) {
            if (!HeaderPolicy.dropFromRequest(h.getName(), passthrough)
                    && !(request.translation != null && HeaderPolicy.otherProvider(h.getName(), provider))) {
                upstream.addHeader(h);
            }
        }
        if (!passthrough) {
            if (provider == Provider.ANTHROPIC) {
                upstream.setHeader("x-api-key", request.upstreamKey);
            } else {
                upstream.setHeader("Authorization", "Bearer " + request.upstreamKey);
            }
        }
        if (provider == Provider.ANTHROPIC && !upstream.containsHeader("anthropic-version")) {
            upstream.setHeader("anthropic-version", Provider.DEFAULT_ANTHROPIC_VERSION);
        }
        upstream.setHeader("Accept-Encoding", "identity");
        request.trace.addTo(upstream);

        AsyncEntityProducer entity = null;
        if (request.body != null) {
            String ct = request.header("Content-Type");
            entity = AsyncEntityProducers.create(request.body, ct == null ? null : ContentType.parseLenient(ct));
        }
        return new BasicRequestProducer(upstream, entity);
    }
}
