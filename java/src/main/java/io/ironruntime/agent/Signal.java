package io.ironruntime.agent;

import com.sun.jna.Platform;

/**
 * The signals the runtime sends to agents. Their numbers differ between Linux and the BSDs (macOS),
 * so they are looked up here rather than written as constants at the call sites.
 */
public enum Signal {
    /** SIGTERM: asks the agent to finish; it may catch or ignore it. */
    TERMINATE(15, 15),
    /** SIGKILL: cannot be caught, ignored or held back by a stopped state. */
    KILL(9, 9),
    /** SIGSTOP: freezes the process (state 'T'); cannot be caught. */
    STOP(19, 17),
    /** SIGCONT: lets a stopped process run again. */
    CONTINUE(18, 19);

    private final int linux;
    private final int bsd;

    Signal(int linux, int bsd) {
        this.linux = linux;
        this.bsd = bsd;
    }

    /** This signal's number on the running OS. */
    public int number() {
        if (Platform.isLinux()) {
            return linux;
        }
        if (Platform.isMac() || Platform.isFreeBSD() || Platform.isOpenBSD() || Platform.isNetBSD()) {
            return bsd;
        }
        throw Posix.unsupported();
    }

    /** Java's exit code for a process this signal killed (128 + the signal number). */
    public int exitCode() {
        return 128 + number();
    }
}
