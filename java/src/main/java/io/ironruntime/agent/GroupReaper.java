package io.ironruntime.agent;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small watchdog process that kills the agents' process groups when this JVM's process dies, however
 * it dies. The JVM tells it each group that starts and ends through its stdin; when stdin reaches end
 * of file (the runtime shut down, or the process holding the pipe is gone, even by SIGKILL) it SIGKILLs
 * the groups still listed. Each agent also dies by itself with the JVM (PR_SET_PDEATHSIG on Linux); the
 * reaper is what reaches the processes the agents started, and agents on systems without that signal.
 * It keeps itself out of the terminal's signals (Ctrl-C is for its owner) and ignores SIGTERM, so a
 * signal to the owner's whole group does not take it away before it has done its job.
 */
final class GroupReaper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupReaper.class);
    static final String SCRIPT = """
            import os, signal, sys
            os.setpgrp()
            for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
                signal.signal(s, signal.SIG_IGN)
            groups = set()
            for line in sys.stdin:
                line = line.strip()
                if line.startswith("+"):
                    groups.add(int(line[1:]))
                elif line.startswith("-"):
                    groups.discard(int(line[1:]))
            for g in groups:
                try:
                    os.killpg(g, signal.SIGKILL)
                except OSError:
                    pass
            """;

    private final Process process;
    private final OutputStream pipe;
    private boolean broken;

    private GroupReaper(Process process) {
        this.process = process;
        this.pipe = process.getOutputStream();
    }

    /** Starts the watchdog with {@code python}; null (with a warning) when it cannot start. */
    static GroupReaper start(String python) {
        try {
            ProcessBuilder b = new ProcessBuilder(python, "-S", "-c", SCRIPT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            Map<String, String> env = b.environment();
            env.keySet().removeIf(name -> !name.equals("PATH"));
            return new GroupReaper(b.start());
        } catch (IOException | RuntimeException e) {
            LOG.warn("the agents' watchdog ({} -c ...) did not start: {}; agents still die with this process, but"
                    + " processes they started may not if it is killed", python, e.getMessage());
            return null;
        }
    }

    synchronized void watch(long pgid) {
        send("+" + pgid + "\n");
    }

    synchronized void forget(long pgid) {
        send("-" + pgid + "\n");
    }

    long pid() {
        return process.pid();
    }

    private void send(String line) {
        if (broken) {
            return;
        }
        try {
            pipe.write(line.getBytes(StandardCharsets.US_ASCII));
            pipe.flush();
        } catch (IOException e) {
            broken = true;
            LOG.warn("the agents' watchdog is gone ({}); agents still die with this process", e.getMessage());
        }
    }

    /** The runtime shut down: the watchdog reads end of file and exits (having no group left to kill). */
    @Override
    public synchronized void close() {
        try {
            pipe.close();
        } catch (IOException e) {
            // it is gone already
        }
    }
}
