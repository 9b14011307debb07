package io.ironruntime.cli;

import io.ironruntime.agent.AgentOutputFeed;
import io.ironruntime.agent.AgentOutputListener;
import java.io.PrintStream;
import java.util.List;

/**
 * The user's terminal while {@code run} runs: the agent's output passed on to stdout and stderr as
 * it comes, and on a terminal one status line at the bottom, redrawn in place. Every write happens
 * on the command's one thread, so the status line is always erased before output goes out.
 */
final class AgentConsole {
    private static final String ERASE_LINE = "\r\033[K";

    private final PrintStream out;
    private final PrintStream err;
    private final boolean statusLine;
    private String shown;
    private boolean drawn;
    /** False while a stream's last output did not end with a newline: a status line would stick to it. */
    private boolean atLineStart = true;

    AgentConsole(PrintStream out, PrintStream err, boolean statusLine) {
        this.out = out;
        this.err = err;
        this.statusLine = statusLine;
    }

    void write(List<AgentOutputFeed.Chunk> chunks) {
        if (chunks.isEmpty()) {
            return;
        }
        erase();
        for (AgentOutputFeed.Chunk c : chunks) {
            PrintStream to = c.stream() == AgentOutputListener.Stream.STDOUT ? out : err;
            to.write(c.bytes(), 0, c.bytes().length);
            to.flush();
            atLineStart = c.bytes()[c.bytes().length - 1] == '\n';
        }
        redraw();
    }

    /** Shows {@code line} as the status (on a terminal only). */
    void status(String line) {
        if (!statusLine) {
            return;
        }
        shown = line;
        redraw();
    }

    /** Takes the status line away for good (before the summary). */
    void clearStatus() {
        erase();
        shown = null;
    }

    private void redraw() {
        if (statusLine && shown != null && atLineStart) {
            err.print(ERASE_LINE + shown);
            err.flush();
            drawn = true;
        }
    }

    private void erase() {
        if (drawn) {
            err.print(ERASE_LINE);
            err.flush();
            drawn = false;
        }
    }
}
