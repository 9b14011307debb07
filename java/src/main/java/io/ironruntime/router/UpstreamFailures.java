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

/** Maps a failed upstream call to the error the client gets. Messages name the upstream, never a key. */
final class UpstreamFailures {
    private UpstreamFailures() {
    }

    static ErrorReply reply(Exception cause, URI origin) {
        String where = origin.getScheme() + "://" + origin.getHost() + (origin.getPort() > 0 ? ":" + origin.getPort() : "");
        if (isTimeout(cause)) {
            return ErrorReply.upstreamTimeout("The provider at " + where + " did not answer in time ("
                    + describe(cause) + ")");
        }
        if (cause instanceof ConnectException || cause instanceof UnknownHostException
                || cause instanceof NoRouteToHostException) {
            return ErrorReply.upstreamUnreachable("Could not connect to the provider at " + where + " ("
                    + describe(cause) + ")");
        }
        if (cause instanceof SSLException) {
            return ErrorReply.upstreamUnreachable("TLS with the provider at " + where + " failed (" + describe(cause) + ")");
        }
        return ErrorReply.upstreamUnreachable("The connection to the provider at " + where + " failed ("
                + describe(cause) + ")");
    }

    /** The error event that ends a stream the upstream broke off. */
    static ErrorReply midStream(Exception cause, Provider provider) {
        String what = isTimeout(cause) ? "stalled" : "broke off";
        ErrorReply base = isTimeout(cause) ? ErrorReply.upstreamTimeout("") : ErrorReply.upstreamUnreachable("");
        return new ErrorReply(base.status(), base.openaiType(), base.anthropicType(), base.code(),
                "The " + provider.wireName() + " stream " + what + " before it finished (" + describe(cause)
                        + "); the response above is incomplete");
    }

    static boolean isTimeout(Exception cause) {
        return cause instanceof SocketTimeoutException || cause instanceof ConnectTimeoutException
                || cause instanceof TimeoutException;
    }

    private static String describe(Exception cause) {
        String msg = cause.getMessage();
        String name = cause.getClass().getSimpleName();
        return msg == null || msg.isBlank() ? name : name + ": " + RequestStages.printable(msg);
    }
}
