package io.ironruntime.router;

import io.ironruntime.resilience.Timeouts;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** A deadline the exchange enforces itself ran out; the message names the setting and its value. */
final class UpstreamTimeout extends TimeoutException {
    private static final long serialVersionUID = 1L;

    enum Kind {
        FIRST_BYTE("first_byte_timeout", "no response head within"),
        IDLE("idle_timeout", "nothing arrived for"),
        TOTAL("total_timeout", "the call took longer than");

        final String setting;
        private final String what;

        Kind(String setting, String what) {
            this.setting = setting;
            this.what = what;
        }
    }

    final Kind kind;

    UpstreamTimeout(Kind kind, Timeouts timeouts) {
        super(kind.what + " " + kind.setting + " (" + Timeouts.seconds(limit(kind, timeouts)) + " s)");
        this.kind = kind;
    }

    static Duration limit(Kind kind, Timeouts timeouts) {
        return switch (kind) {
            case FIRST_BYTE -> timeouts.firstByte();
            case IDLE -> timeouts.idle();
            case TOTAL -> timeouts.total();
        };
    }
}
