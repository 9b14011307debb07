package io.ironruntime.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's scheduler state from /proc/&lt;pid&gt;/stat (Linux only): for metrics and tests. */
public final class ProcStat {
    private ProcStat() {
    }

    /**
     * The state letter ('R' running, 'S' sleeping, 'T' stopped, 'Z' zombie, ...), or null when the
     * process does not exist or the OS has no /proc.
     */
    public static Character state(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        // "pid (comm) S ...": comm may itself hold spaces and parentheses, so look after the last ')'.
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            return null;
        }
        return stat.charAt(close + 2);
    }

    /** Whether {@code pid} is gone or a zombie (dead, only waiting to be reaped). */
    public static boolean gone(long pid) {
        Character s = state(pid);
        if (s != null) {
            return s == 'Z' || s == 'X';
        }
        return !Posix.exists(pid);
    }
}
