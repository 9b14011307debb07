package io.ironruntime.agent;

import static io.ironruntime.agent.Scripts.PATIENCE;
import static io.ironruntime.agent.Scripts.eventually;
import static io.ironruntime.agent.Scripts.launch;
import static io.ironruntime.agent.Scripts.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentOutputTest {
    @TempDir
    Path dir;

    private static int exit(AgentProcess agent) throws Exception {
        return agent.onExit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    /** A python expression that waits until the test creates file {@code name} in the script's directory. */
    private static String waitFor(String name) {
        return "while not os.path.exists(os.path.join(here, '" + name + "')): time.sleep(0.01)\n";
    }

    @Test
    void stdoutAndStderrInterleaveInArrivalOrderAndStderrIsAlsoKeptAlone() throws Exception {
        // Each line waits for the test to have seen the previous one, so the arrival order is known.
        Path script = write(dir, "talk.py", "import os, sys, time\nhere = os.path.dirname(__file__)\n"
                + "print('out one')\n" + waitFor("1")
                + "print('err one', file=sys.stderr)\n" + waitFor("2")
                + "print('out two')\n" + waitFor("3")
                + "print('err two', file=sys.stderr)\n");
        AgentProcess agent = launch(script).build().start();
        String[] expected = {"out one", "err one", "out two", "err two"};
        for (int i = 0; i < expected.length; i++) {
            String line = expected[i];
            eventually("line '" + line + "'", () -> agent.output().tail(1).equals(line + "\n"),
                    () -> agent.output().tail(5));
            if (i < 3) {
                Files.createFile(dir.resolve(String.valueOf(i + 1)));
            }
        }
        assertEquals(0, exit(agent));
        assertEquals("out one\nerr one\nout two\nerr two\n", agent.output().tail(10));
        assertEquals("out two\nerr two\n", agent.output().tail(2));
        assertEquals("err one\nerr two\n", agent.output().stderrTail(10));
        assertEquals("err two\n", agent.output().stderrTail(1));
    }

    @Test
    void aLogFileGetsEverythingAndASecondRunAppends() throws Exception {
        Path log = dir.resolve("logs/deeper/agent.log");
        Path script = write(dir, "log.py", "import sys\nfor i in range(3):\n"
                + "    print('out', i)\n    print('err', i, file=sys.stderr)\n");
        AgentProcess first = launch(script).logFile(log).build().start();
        assertEquals(0, exit(first));
        assertEquals(log, first.output().logFile());
        String once = Files.readString(log);
        for (int i = 0; i < 3; i++) {
            assertTrue(once.contains("out " + i + "\n") && once.contains("err " + i + "\n"), once);
        }
        assertEquals(6, once.lines().count());

        assertEquals(0, exit(launch(script).logFile(log).build().start()));
        assertEquals(12, Files.readString(log).lines().count());
    }

    @Test
    void anUnwritableLogPathFailsTheLaunch() {
        Path script = write(dir, "a.py", "pass\n");
        Path blocked = write(dir, "file", "not a directory");
        AgentLaunchException e = assertThrows(AgentLaunchException.class,
                () -> launch(script).logFile(blocked.resolve("agent.log")).build().start());
        assertTrue(e.getMessage().startsWith("cannot open the agent log file " + blocked.resolve("agent.log")),
                e.getMessage());
    }

    @Test
    void fiveMegabytesDoNotBlockTheAgentAndTheRingKeepsTheNewest() throws Exception {
        // 50,000 lines of 100 bytes, written as fast as Python can, nobody reading the tail meanwhile.
        Path script = write(dir, "flood.py", "import sys\nout = sys.stdout\n"
                + "for i in range(50000):\n    out.write('line %07d %s\\n' % (i, 'x' * 86))\n"
                + "print('stderr survives', file=sys.stderr)\n");
        AgentProcess agent = launch(script).logFile(dir.resolve("flood.log")).build().start();
        assertEquals(0, exit(agent));

        AgentOutput output = agent.output();
        assertEquals(50000L * 100 + "stderr survives\n".length(), output.bytesCaptured());
        assertEquals(50000L * 100 + "stderr survives\n".length(), Files.size(dir.resolve("flood.log")));
        String all = output.tail(1_000_000);
        assertTrue(all.length() <= AgentOutput.DEFAULT_CAPACITY);
        assertTrue(all.length() > AgentOutput.DEFAULT_CAPACITY - 200, "kept " + all.length());
        assertTrue(all.startsWith("line "), "starts with a whole line");
        assertTrue(all.contains("line 0049999 "), "the newest line is kept");
        assertTrue(!all.contains("line 0000000 "), "the oldest line is gone");
        // The pumps run side by side: the stdout pump may lag, so where the stderr line lands in the
        // combined ring (or whether it is still there) is not fixed; the stderr ring always has it.
        assertEquals("stderr survives\n", output.stderrTail(5));
    }

    @Test
    void textIsUtf8WithReplacementAndAnUnfinishedLastLineIsKept() throws Exception {
        Path script = write(dir, "bytes.py", "import sys\n"
                + "sys.stdout.buffer.write(b'\\xff caf\\xc3\\xa9 \\xe2\\x9c\\x93\\n')\n"
                + "sys.stdout.buffer.write(b'no newline at the end')\n");
        AgentProcess agent = launch(script).build().start();
        assertEquals(0, exit(agent));
        assertEquals("\uFFFD café ✓\nno newline at the end", agent.output().tail(2));
    }

    @Test
    void aLineLongerThanTheHoldLimitIsPassedOnInPieces() throws Exception {
        int length = AgentOutput.MAX_HELD_LINE * 3 + 5;
        Path script = write(dir, "long.py", "import sys, time\nsys.stdout.write('y' * " + length + ")\n"
                + "sys.stdout.flush()\nprint('long line written', file=sys.stderr)\ntime.sleep(300)\n");
        AgentProcess agent = launch(script).build().start();
        try {
            eventually("long line fragments captured",
                    () -> agent.output().tail(10).chars().filter(c -> c == 'y').count() >= AgentOutput.MAX_HELD_LINE * 3);
        } finally {
            agent.kill();
        }
    }

    @Test
    void outputIsCapturedUpToTheExit() throws Exception {
        Path script = write(dir, "last.py", "import sys\nprint('last words', file=sys.stderr)\nsys.exit(4)\n");
        AgentProcess agent = launch(script).build().start();
        assertEquals(4, exit(agent));
        // onExit completes after the streams ended: nothing is still on its way.
        assertEquals("last words\n", agent.output().stderrTail(1));
    }
}
