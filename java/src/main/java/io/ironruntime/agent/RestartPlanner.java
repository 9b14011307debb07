package io.ironruntime.agent;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Decides, each time one agent's process exits, whether it is started again and after how long.
 * Pure: the clock is passed in (milliseconds), so every rule is tested without waiting. One per agent,
 * used by its supervisor thread only (not thread-safe).
 *
 * <ul>
 * <li>A stop the user requested never restarts: {@link AgentStatus#STOPPED}.</li>
 * <li>{@link RestartPolicy#NEVER}: exit 0 is {@link AgentStatus#COMPLETED}, any other exit {@link AgentStatus#FAILED}.
 *     {@link RestartPolicy#ON_FAILURE}: exit 0 completes, any other exit restarts. {@link RestartPolicy#ALWAYS}:
 *     every exit restarts.</li>
 * <li>Intensity, as Erlang supervisors have it: a restart is allowed only while fewer than {@code maxRestarts}
 *     restarts happened within the last {@code window}; otherwise the agent ends (failed after a non-zero exit,
 *     completed after exit 0).</li>
 * <li>Backoff: {@code baseDelay * 2^(k-1)}, capped at {@code maxDelay}, where k counts consecutive restarts. A run
 *     that lasted longer than the window was stable: k starts again from 1. Deterministic, not jittered: one agent
 *     restarting has no herd to spread.</li>
 * </ul>
 */
public final class RestartPlanner {
    private final RestartSettings settings;
    /** When each restart within the last window was decided, oldest first. */
    private final Deque<Long> recent = new ArrayDeque<>();
    private long runStartedMillis = -1;
    private int consecutive;
    private int restarts;

    public RestartPlanner(RestartSettings settings) {
        this.settings = settings;
    }

    /**
     * What happens after an exit.
     *
     * @param restart     start the agent again after {@code delayMillis}
     * @param finalStatus the status the agent ends in when not restarting; {@link AgentStatus#RESTARTING} otherwise
     * @param reason      for the status history and {@code last_error}, e.g. "exited with code 1; restarted 3 times within 60 s"
     */
    public record Decision(boolean restart, long delayMillis, AgentStatus finalStatus, String reason) {
    }

    /** A run began (the first start and each restart): how long it lasts tells a stable run from a crash loop. */
    public void started(long nowMillis) {
        runStartedMillis = nowMillis;
    }

    /**
     * Decides after the process exited with {@code exitCode}; {@code requestedStop} when the user asked it to
     * stop. A restart it allows is counted at once. Without a {@link #started} call the run counts as unstable.
     */
    public Decision onExit(int exitCode, boolean requestedStop, long nowMillis) {
        if (requestedStop) {
            return new Decision(false, 0, AgentStatus.STOPPED, "stopped on request");
        }
        String exit = "exited with code " + exitCode;
        boolean wanted = switch (settings.policy()) {
            case NEVER -> false;
            case ON_FAILURE -> exitCode != 0;
            case ALWAYS -> true;
        };
        AgentStatus ending = exitCode == 0 ? AgentStatus.COMPLETED : AgentStatus.FAILED;
        if (!wanted) {
            return new Decision(false, 0, ending, exit);
        }
        long window = settings.window().toMillis();
        while (!recent.isEmpty() && recent.peekFirst() <= nowMillis - window) {
            recent.removeFirst();
        }
        if (recent.size() >= settings.maxRestarts()) {
            return new Decision(false, 0, ending, exit + "; restarted " + recent.size() + " times within "
                    + seconds(window) + " s (max_restarts=" + settings.maxRestarts() + ")");
        }
        if (runStartedMillis >= 0 && nowMillis - runStartedMillis > window) {
            consecutive = 0; // it had become stable: this crash starts a new series
        }
        consecutive++;
        restarts++;
        recent.addLast(nowMillis);
        long delay = delayMillis(consecutive);
        return new Decision(true, delay, AgentStatus.RESTARTING, exit + "; restart " + restarts + " in "
                + seconds(delay) + " s");
    }

    /** Restarts allowed so far, over the agent's whole life. */
    public int restarts() {
        return restarts;
    }

    /** {@code baseDelay * 2^(k-1)} capped at {@code maxDelay}, without overflowing for a large k. */
    long delayMillis(int k) {
        long base = settings.baseDelay().toMillis();
        long cap = settings.maxDelay().toMillis();
        int shift = Math.min(k - 1, 40); // 2^40 * any base above 0 ms is past the one-day cap
        long d = base << shift;
        return (d >>> shift) != base ? cap : Math.min(d, cap);
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? Long.toString(millis / 1000) : Double.toString(millis / 1000.0);
    }
}
