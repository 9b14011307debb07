package io.ironruntime.router;

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

    UpstreamTimeout(Kind kind, Duration limit) {
        super(kind.what + " " + kind.setting + " (" + seconds(limit) + " s)");
        this.kind = kind;
    }

    private static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
    }
}
