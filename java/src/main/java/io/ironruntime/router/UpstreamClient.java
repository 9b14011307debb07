package io.ironruntime.router;

import io.ironruntime.config.RouterConfig;
import io.ironruntime.resilience.Timeouts;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManager;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.nio.AsyncRequestProducer;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.protocol.HttpCoreContext;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.Timeout;

/**
 * The one HTTP client that talks to providers. HttpClient's own retries, redirects, cookies and
 * decompression are off: the router is the only place that decides to retry, and bodies pass as sent.
 */
final class UpstreamClient implements AutoCloseable {
    private final CloseableHttpAsyncClient client;
    private final UpstreamSessions sessions = new UpstreamSessions();

    UpstreamClient(RouterConfig config) {
        Timeouts timeouts = config.resilience().timeouts();
        // The exchange enforces first-byte, idle and total deadlines itself (with messages that say
        // which); the socket timeout is only a backstop behind them.
        Timeout silence = Timeout.of(timeouts.longestSilence().plusSeconds(30));
        int connections = Math.max(512, config.resilience().maxInFlight());
        LazyTlsStrategy tls = new LazyTlsStrategy();
        tls.warmUp();
        PoolingAsyncClientConnectionManager pool = PoolingAsyncClientConnectionManagerBuilder.create()
                .setTlsStrategy(tls)
                .setDefaultTlsConfig(TlsConfig.custom()
                        .setHandshakeTimeout(Timeout.of(timeouts.connect()))
                        .build())
                .setMaxConnTotal(2 * connections)
                .setMaxConnPerRoute(connections) // max_in_flight bounds the calls; the pool must not queue them again
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(timeouts.connect()))
                        .setSocketTimeout(silence)
                        .build())
                .build();
        HttpAsyncClientBuilder builder = HttpAsyncClients.custom()
                .setConnectionManager(pool)
                .setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1)
                .setIOReactorConfig(IOReactorConfig.custom()
                        .setIoThreadCount(RouterContext.IO_THREADS_PER_REACTOR)
                        .setTcpNoDelay(true)
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.of(timeouts.total()))
                        .setResponseTimeout(silence)
                        .setRedirectsEnabled(false)
                        // A client that leaves must abort the provider call at once (closing its connection).
                        .setHardCancellationEnabled(true)
                        .build())
                .setThreadFactory(daemonThreads("iron-upstream-io"))
                .setIoSessionDecorator(sessions)
                .setIOSessionListener(sessions)
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableContentCompression()
                .disableConnectionState();
        // An explicit proxy rather than useSystemProperties(): that one asks the system ProxySelector
        // (and parses a URI) on every request, measurable on the hot path.
        String proxyHost = System.getProperty("https.proxyHost");
        if (proxyHost != null && !proxyHost.isBlank()) {
            builder.setProxy(new HttpHost(proxyHost, Integer.getInteger("https.proxyPort", 443)));
        }
        this.client = builder.build();
        client.start();
    }

    <T> Future<T> execute(AsyncRequestProducer request, AsyncResponseConsumer<T> response, HttpCoreContext context) {
        return client.execute(request, response, null, context, null);
    }

    /** Stops a call whose client left: cancels it and closes its connection, wherever it got to. */
    void abandon(Future<?> call, HttpCoreContext context) {
        call.cancel(true);
        sessions.abort(context);
    }

    /** Provider connections open now (pooled idle ones included). */
    int openConnections() {
        return sessions.open();
    }

    @Override
    public void close() {
        client.close(CloseMode.IMMEDIATE);
    }

    static ThreadFactory daemonThreads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
