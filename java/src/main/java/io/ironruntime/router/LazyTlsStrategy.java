package io.ironruntime.router;

import java.net.SocketAddress;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.nio.ssl.TlsStrategy;
import org.apache.hc.core5.net.NamedEndpoint;
import org.apache.hc.core5.reactor.ssl.TransportSecurityLayer;
import org.apache.hc.core5.util.Timeout;

/**
 * The system-default TLS strategy, built on first use or by {@link #warmUp()} on a background thread.
 * Loading the trust store takes a few hundred milliseconds that would otherwise sit between
 * {@code LlmRouter()} and a running router.
 */
final class LazyTlsStrategy implements TlsStrategy {
    private volatile TlsStrategy delegate;

    private TlsStrategy get() {
        TlsStrategy d = delegate;
        if (d == null) {
            synchronized (this) {
                d = delegate;
                if (d == null) {
                    d = DefaultClientTlsStrategy.createSystemDefault();
                    delegate = d;
                }
            }
        }
        return d;
    }

    void warmUp() {
        Thread t = new Thread(this::get, "iron-tls-warmup");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void upgrade(TransportSecurityLayer layer, NamedEndpoint endpoint, Object attachment, Timeout timeout,
            FutureCallback<TransportSecurityLayer> callback) {
        get().upgrade(layer, endpoint, attachment, timeout, callback);
    }

    @Override
    @Deprecated
    @SuppressWarnings("deprecation")
    public boolean upgrade(TransportSecurityLayer layer, HttpHost host, SocketAddress localAddress,
            SocketAddress remoteAddress, Object attachment, Timeout timeout) {
        return get().upgrade(layer, host, localAddress, remoteAddress, attachment, timeout);
    }
}
