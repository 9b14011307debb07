package io.ironruntime.agent;

import static io.ironruntime.agent.Scripts.PATIENCE;
import static io.ironruntime.agent.Scripts.awaitValue;
import static io.ironruntime.agent.Scripts.environment;
import static io.ironruntime.agent.Scripts.launch;
import static io.ironruntime.agent.Scripts.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentLaunchTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static int exit(AgentProcess agent) throws Exception {
        return agent.onExit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    private static JsonNode jsonLine(AgentProcess agent, String key) throws IOException {
        return JSON.readTree(awaitValue(agent, key));
    }

    @Test
    void theEnvironmentIsExactlyTheGivenMapAndTheParentPidVariableIsGone() throws Exception {
        Path script = write(dir, "env.py", "import json, os\nprint('env', json.dumps(dict(os.environ)))\n");
        Map<String, String> env = environment();
        env.put("IRON_TEST_MARK", "given ✓ with spaces");
        assertTrue(System.getenv().keySet().stream().anyMatch(k -> !env.containsKey(k)),
                "the JVM has variables the map lacks");

        AgentProcess agent = launch(script).environment(env).build().start();
        Map<String, String> seen = new TreeMap<>();
        jsonLine(agent, "env").fields().forEachRemaining(e -> seen.put(e.getKey(), e.getValue().asText()));
        assertEquals(new TreeMap<>(env), seen);
        assertFalse(seen.containsKey(AgentLaunch.PARENT_PID_VARIABLE));
        assertEquals(0, exit(agent));
    }

    @Test
    void argvCwdAndProcessGroupAreAsIfRunAsPythonScript() throws Exception {
        Path scriptDir = Files.createDirectories(dir.resolve("agents"));
        Path cwd = Files.createDirectories(dir.resolve("work"));
        Path script = write(scriptDir, "argv.py", "import json, os, sys\n"
                + "print('facts', json.dumps({'argv': sys.argv, 'cwd': os.getcwd(), 'path0': sys.path[0],"
                + " 'pid': os.getpid(), 'pgid': os.getpgid(0), 'ppid': os.getppid(),"
                + " 'stdin': sys.stdin.read()}))\n");
        List<String> args = List.of("plain", "with space", "", "--flag=1", "ünïcode");

        AgentProcess agent = launch(script).args(args).cwd(cwd).build().start();
        JsonNode facts = jsonLine(agent, "facts");
        List<String> argv = new ArrayList<>();
        facts.get("argv").forEach(a -> argv.add(a.asText()));
        assertEquals(script.toString(), argv.get(0));
        assertEquals(args, argv.subList(1, argv.size()));
        assertEquals(cwd.toRealPath().toString(), facts.get("cwd").asText());
        assertEquals(scriptDir.toRealPath().toString(), Path.of(facts.get("path0").asText()).toRealPath().toString());
        assertEquals(agent.pid(), facts.get("pid").asLong(), "exec kept the pid");
        assertEquals(agent.pid(), facts.get("pgid").asLong(), "the agent leads its own group");
        assertEquals(ProcessHandle.current().pid(), facts.get("ppid").asLong());
        assertEquals("", facts.get("stdin").asText(), "stdin is empty, not a pipe left open");
        assertEquals(0, exit(agent));
    }

    @Test
    void aRelativeScriptIsFoundFromTheWorkingDirectory() throws Exception {
        Path cwd = Files.createDirectories(dir.resolve("project"));
        write(cwd, "sub/rel.py", "print('ran', 'yes')\n");
        // Also the default interpreter, "python3" looked up on PATH.
        AgentProcess agent = AgentLaunch.builder(Path.of("sub/rel.py")).environment(environment()).cwd(cwd).build().start();
        assertEquals("yes", awaitValue(agent, "ran"));
        assertEquals(0, exit(agent));
    }

    @Test
    void exitCodesAreTheScriptsOwnOr128PlusTheSignal() throws Exception {
        Path ok = write(dir, "ok.py", "print('done')\n");
        Path three = write(dir, "three.py", "import sys\nsys.exit(3)\n");
        Path killed = write(dir, "killed.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n");
        Path raises = write(dir, "raises.py", "raise RuntimeError('boom')\n");
        assertEquals(0, exit(launch(ok).build().start()));
        assertEquals(3, exit(launch(three).build().start()));
        assertEquals(128 + 9, exit(launch(killed).build().start()));
        AgentProcess failed = launch(raises).build().start();
        assertEquals(1, exit(failed));
        assertTrue(failed.output().stderrTail(5).contains("RuntimeError: boom"), failed.output().stderrTail(5));
    }

    @Test
    void anAgentOutlivesTheShortLivedThreadThatStartedIt() throws Exception {
        // PR_SET_PDEATHSIG follows the spawning thread: spawning on the caller's thread would kill it here.
        Path script = write(dir, "long.py", "import time\nprint('up', 1)\ntime.sleep(300)\n");
        AtomicReference<AgentProcess> started = new AtomicReference<>();
        Thread caller = new Thread(() -> started.set(launch(script).build().start()));
        caller.start();
        caller.join(PATIENCE.toMillis());
        AgentProcess agent = started.get();
        awaitValue(agent, "up");
        Scripts.pause(500);
        assertTrue(agent.alive(), "agent died with its caller's thread: " + agent.output().tail(5));
        assertFalse(ProcStat.gone(agent.pid()));
        assertEquals(128 + 15, agent.stop(PATIENCE));
    }

    @Test
    void thePreludeRefusesToStartAnAgentWhoseRuntimeIsGone() throws Exception {
        Path marker = dir.resolve("ran");
        Path script = write(dir, "never.py", "open(" + JSON.writeValueAsString(marker.toString()) + ", 'w').close()\n");
        // The prelude as the launch runs it, but the named parent is not its parent: as if the JVM died.
        ProcessBuilder pb = new ProcessBuilder(AgentLaunch.command(Path.of(Scripts.PYTHON), script, List.of()));
        pb.environment().put(AgentLaunch.PARENT_PID_VARIABLE, "1");
        Process p = pb.start();
        assertTrue(p.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(AgentLaunch.REFUSED_EXIT_CODE, p.exitValue(), stderr);
        assertTrue(stderr.contains("the runtime that launched this agent is gone"), stderr);
        assertFalse(Files.exists(marker), "the script must not have run");
    }

    @Test
    void aMissingScriptIsAClearError() {
        AgentLaunchException e = assertThrows(AgentLaunchException.class,
                () -> launch(dir.resolve("nope.py")).build().start());
        assertTrue(e.getMessage().startsWith("agent script not found: " + dir.resolve("nope.py")), e.getMessage());

        AgentLaunchException relative = assertThrows(AgentLaunchException.class,
                () -> launch(Path.of("nope.py")).cwd(dir).build().start());
        assertTrue(relative.getMessage().contains("resolved against " + dir), relative.getMessage());

        AgentLaunchException directory = assertThrows(AgentLaunchException.class,
                () -> launch(dir).build().start());
        assertEquals("the agent script is not a file: " + dir, directory.getMessage());
    }

    @Test
    void aMissingOrUnusablePythonIsAClearError() throws IOException {
        Path script = write(dir, "a.py", "pass\n");
        AgentLaunchException byName = assertThrows(AgentLaunchException.class,
                () -> launch(script).python("no-such-python-3.99").build().start());
        assertTrue(byName.getMessage().startsWith("Python interpreter 'no-such-python-3.99' was not found on PATH"),
                byName.getMessage());
        assertTrue(byName.getMessage().endsWith("install it or pass the interpreter's full path"), byName.getMessage());

        AgentLaunchException byPath = assertThrows(AgentLaunchException.class,
                () -> launch(script).python(dir.resolve("bin/python").toString()).build().start());
        assertEquals("Python interpreter not found: " + dir.resolve("bin/python")
                + "; pass the full path of an existing python executable", byPath.getMessage());

        Path notExecutable = write(dir, "python-text", "#!/bin/sh\n");
        AgentLaunchException notExec = assertThrows(AgentLaunchException.class,
                () -> launch(script).python(notExecutable.toString()).build().start());
        assertEquals("the Python interpreter " + notExecutable + " is not an executable file", notExec.getMessage());

        assertThrows(AgentLaunchException.class, () -> launch(script).python(" "));
    }

    @Test
    void aMissingWorkingDirectoryIsAClearError() {
        Path script = write(dir, "a.py", "pass\n");
        Path missing = dir.resolve("no/such/dir");
        AgentLaunchException e = assertThrows(AgentLaunchException.class,
                () -> launch(script).cwd(missing).build().start());
        assertEquals("the agent's working directory does not exist: " + missing
                + "; create it or pass an existing cwd", e.getMessage());
        AgentLaunchException file = assertThrows(AgentLaunchException.class,
                () -> launch(script).cwd(script).build().start());
        assertEquals("the agent's working directory is not a directory: " + script, file.getMessage());
    }

    @Test
    void badEnvironmentEntriesAreRejectedBeforeSpawning() {
        Path script = write(dir, "a.py", "pass\n");
        Map<String, String> env = new java.util.HashMap<>(environment());
        env.put("A=B", "x");
        assertThrows(AgentLaunchException.class, () -> AgentLaunch.builder(script).environment(env).build());
        Map<String, String> nullValue = new java.util.HashMap<>(environment());
        nullValue.put("EMPTY", null);
        AgentLaunchException e = assertThrows(AgentLaunchException.class,
                () -> AgentLaunch.builder(script).environment(nullValue).build());
        assertTrue(e.getMessage().startsWith("environment variable EMPTY needs a value"), e.getMessage());
    }
}
