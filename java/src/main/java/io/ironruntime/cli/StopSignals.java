package io.ironruntime.cli;

import java.util.concurrent.atomic.AtomicReference;

/**
 * SIGINT and SIGTERM, caught for the {@code run} command so that it can stop its agent gracefully
 * (SIGTERM to its group, SIGKILL after the stop timeout) and print its summary before exiting with
 * 130 or 143. A shutdown hook cannot do that: the runtime's own hook SIGKILLs every agent at JVM
 * exit and hooks run concurrently. That hook stays the backstop for any other way the JVM ends.
 */
final class StopSignals {
    private final AtomicReference<String> received = new AtomicReference<>();

    private StopSignals() {
    }

    /** Handlers for SIGINT and SIGTERM in this JVM; without them (-Xrs, no sun.misc) the JVM's defaults stay. */
    static StopSignals install() {
        StopSignals s = new StopSignals();
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> s.received.compareAndSet(null, "SIG" + name));
            } catch (IllegalArgumentException | LinkageError e) {
                // Reserved by the VM (-Xrs) or unavailable: the runtime's shutdown hook still kills the agent.
            }
        }
        return s;
    }

    /** Never receives anything (for callers inside a larger program, and tests). */
    static StopSignals none() {
        return new StopSignals();
    }

    /** "SIGINT" or "SIGTERM" once one arrived (the first one counts), else null. */
    String received() {
        return received.get();
    }

    /** The exit status of a command stopped by {@code signal}: 128 + its number, as shells report it. */
    static int exitStatus(String signal) {
        return "SIGINT".equals(signal) ? 130 : 143;
    }
}
