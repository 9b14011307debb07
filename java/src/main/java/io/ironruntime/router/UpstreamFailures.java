package io.ironruntime.router;

import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.core5.http.ConnectionClosedException;

/** Maps a failed upstream call to the error the client gets. Messages name the upstream, never a key. */
final class UpstreamFailures {
    private UpstreamFailures() {
    }

    static ErrorReply reply(Exception cause, URI origin) {
        String where = origin.getScheme() + "://" + origin.getHost() + (origin.getPort() > 0 ? ":" + origin.getPort() : "");
        if (isTimeout(cause)) {
            return ErrorReply.upstreamTimeout("The provider at " + where + " did not answer in time (" + reason(cause) + ")");
        }
        return ErrorReply.upstreamUnreachable("Could not reach the provider at " + where + " (" + reason(cause) + ")");
    }

    /**
     * True for a failure before any response that may be tried again: the connection could not be
     * made or was closed or reset before the response head. Not for the router's own first-byte and
     * total deadlines (the provider may still be working on the request) or TLS failures (settings).
     */
    static boolean retryable(Exception cause) {
        if (cause instanceof ConnectTimeoutException) {
            return true;
        }
        if (cause instanceof UpstreamTimeout || cause instanceof SocketTimeoutException || cause instanceof SSLException) {
            return false;
        }
        return cause instanceof java.io.IOException;
    }

    /** The error event that ends a stream the upstream broke off. */
    static ErrorReply midStream(Exception cause, Provider provider) {
        String what = cause instanceof UpstreamTimeout ? "was stopped" : isTimeout(cause) ? "stalled" : "broke off";
        ErrorReply base = isTimeout(cause) ? ErrorReply.upstreamTimeout("") : ErrorReply.upstreamUnreachable("");
        return new ErrorReply(base.status(), base.openaiType(), base.anthropicType(), base.code(),
                "The " + provider.wireName() + " stream " + what + " before it finished (" + reason(cause)
                        + "); the response above is incomplete");
    }

    static boolean isTimeout(Exception cause) {
        return cause instanceof SocketTimeoutException || cause instanceof ConnectTimeoutException
                || cause instanceof TimeoutException;
    }

    /** A short human reason; exception class names are internals and stay out of client bodies. */
    static String reason(Exception cause) {
        if (cause instanceof UpstreamTimeout) {
            return cause.getMessage();
        }
        if (cause instanceof ConnectTimeoutException) {
            return "connect timed out";
        }
        if (cause instanceof SocketTimeoutException || cause instanceof TimeoutException) {
            return "no data within the read timeout";
        }
        if (cause instanceof ConnectException || cause instanceof NoRouteToHostException) {
            return "connection refused";
        }
        if (cause instanceof UnknownHostException) {
            return "unknown host";
        }
        if (cause instanceof SSLException) {
            return "TLS failed: " + RequestStages.printable(String.valueOf(cause.getMessage()));
        }
        if (cause instanceof ConnectionClosedException) {
            return "connection closed by the provider";
        }
        String msg = cause.getMessage();
        return msg == null || msg.isBlank() ? "connection failed" : RequestStages.printable(msg);
    }
}
