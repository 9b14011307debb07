package io.ironruntime.state;

import java.time.Instant;
import java.util.UUID;

/**
 * The router session that holds leases and sends outbox rows. Its process (pid and start time) tells
 * a later session whether the holder is gone, so that its leftovers can be adopted.
 */
public record ControlOwner(String id, long pid, Long processStartedMs) {

    /** A new session of this process. */
    public static ControlOwner fresh() {
        ProcessHandle self = ProcessHandle.current();
        return new ControlOwner("session_" + UUID.randomUUID(), self.pid(),
                self.info().startInstant().map(Instant::toEpochMilli).orElse(null));
    }

    /** Whether the recorded holder's process still runs (a released row has no holder). */
    static boolean alive(String id, Long pid, Long processStartedMs) {
        return id != null && AgentTables.alive(pid, processStartedMs);
    }
}
