package io.ironruntime.router;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hc.core5.function.Decorator;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.protocol.HttpCoreContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.reactor.IOSessionListener;

/**
 * The provider connections, by local address, for two repairs to HttpCore's behaviour:
 * <ul>
 * <li>An exchange whose client left closes its own provider connection. Cancelling HttpClient's
 * future is not enough: a call that had to open a new connection is not cancellable once running,
 * and the provider would keep generating for nobody.</li>
 * <li>End-of-stream is reported one read event late. HttpCore's chunk decoder reads several chunks per
 * call and, when it meets the end of the socket in the same call, throws "premature end" with those
 * chunks undelivered: a provider that sends its last events and drops the connection at once would
 * lose them. Until the next read event, reads at EOF say "no data yet", so the decoder hands over what
 * it has; the socket stays readable, so the next event reports the EOF for real.</li>
 * </ul>
 */
final class UpstreamSessions implements Decorator<IOSession>, IOSessionListener {
    /**
     * Every live connection by session id. The id is known from the start and the TLS layer reports
     * the same one, while a closed socket no longer knows its address: removal must not depend on it.
     */
    private final ConcurrentHashMap<String, Watched> byId = new ConcurrentHashMap<>();
    /** Connected ones by local address, which is what an exchange's context knows of its connection. */
    private final ConcurrentHashMap<SocketAddress, Watched> byAddress = new ConcurrentHashMap<>();

    @Override
    public IOSession decorate(IOSession session) {
        Watched w = new Watched(session);
        byId.put(session.getId(), w);
        return w;
    }

    /** Closes the connection the exchange with this context runs on, if it has one yet. */
    void abort(HttpCoreContext context) {
        EndpointDetails endpoint = context.getEndpointDetails();
        SocketAddress local = endpoint == null ? null : endpoint.getLocalAddress();
        Watched session = local == null ? null : byAddress.remove(local);
        if (session != null) {
            session.close(CloseMode.IMMEDIATE);
        }
    }

    /** Provider connections open now (pooled idle ones included). */
    int open() {
        return byId.size();
    }

    @Override
    public void connected(IOSession session) {
        Watched w = byId.get(session.getId());
        SocketAddress local = session.getLocalAddress();
        if (w != null && local != null) {
            w.local = local;
            byAddress.put(local, w);
        }
    }

    @Override
    public void inputReady(IOSession session) {
        // With TLS the listener sees the TLS session, which reports the same id.
        Watched w = session instanceof Watched s ? s : byId.get(session.getId());
        if (w != null) {
            w.readEvents++;
        }
    }

    @Override
    public void disconnected(IOSession session) {
        Watched w = byId.remove(session.getId());
        if (w != null && w.local != null) {
            byAddress.remove(w.local, w);
        }
    }

    @Override
    public void startTls(IOSession session) {
    }

    @Override
    public void outputReady(IOSession session) {
    }

    @Override
    public void timeout(IOSession session) {
    }

    @Override
    public void exception(IOSession session, Exception ex) {
    }

    /** Holds back EOF for the rest of the read event in which it was first seen. Reactor thread only. */
    private static final class Watched extends ForwardingIOSession {
        long readEvents;
        /** Set once connected; kept, since a closed socket cannot tell it any more. */
        volatile SocketAddress local;
        private long eofHeldDuring = -1;

        Watched(IOSession session) {
            super(session);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = super.read(dst);
            if (n >= 0) {
                return n;
            }
            if (eofHeldDuring < 0) {
                eofHeldDuring = readEvents;
            }
            return eofHeldDuring == readEvents ? 0 : n;
        }
    }
}
