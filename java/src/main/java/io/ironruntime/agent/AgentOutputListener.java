package io.ironruntime.agent;

/**
 * Receives what an agent prints as it is printed, for a caller that shows it live (the {@code run}
 * command). Called on the stream's own pump thread: in order within a stream, with whole lines
 * except for lines longer than 8 KiB and a last line without a newline, across all of the agent's
 * runs. The bytes are only valid during the call (copy them). A call that blocks holds the agent up
 * like a full pipe would, so only a caller that keeps reading should block.
 */
@FunctionalInterface
public interface AgentOutputListener {
    /** Which of the agent's streams the bytes came from. */
    enum Stream {
        STDOUT, STDERR;

        public String wireName() {
            return this == STDOUT ? "stdout" : "stderr";
        }
    }

    void output(Stream stream, byte[] bytes, int offset, int length);
}
