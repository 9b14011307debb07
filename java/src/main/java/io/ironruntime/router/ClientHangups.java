package io.ironruntime.router;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hc.core5.function.Decorator;
import org.apache.hc.core5.reactor.IOSession;

/**
 * Notices a client that hangs up while its request waits for the provider's answer. HttpCore treats
 * a connection whose request is fully read and whose response has not started as idle, so an EOF
 * then only schedules a graceful close and the exchange is never told; the provider call would run
 * to the end for nobody. This decorator sees the EOF on the socket and tells the waiting exchange.
 */
final class ClientHangups implements Decorator<IOSession> {
    private final ConcurrentHashMap<SocketAddress, ProxyExchange> waiting = new ConcurrentHashMap<>();

    void waitingForUpstream(SocketAddress client, ProxyExchange exchange) {
        if (client != null) {
            waiting.put(client, exchange);
        }
    }

    void doneWaiting(SocketAddress client, ProxyExchange exchange) {
        if (client != null) {
            waiting.remove(client, exchange);
        }
    }

    @Override
    public IOSession decorate(IOSession session) {
        return new Watched(session);
    }

    private void hungUp(SocketAddress client) {
        ProxyExchange exchange = client == null ? null : waiting.remove(client);
        if (exchange != null) {
            exchange.failed(new IOException("client closed the connection before the response started"));
        }
    }

    /** Looks at what read() returns; everything else is delegated. */
    private final class Watched extends ForwardingIOSession {
        Watched(IOSession session) {
            super(session);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = super.read(dst);
            if (n < 0) {
                hungUp(getRemoteAddress());
            }
            return n;
        }
    }
}
