package io.ironruntime.agent;

import com.sun.jna.Platform;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * How to start one agent: a Python script run by a given interpreter with exactly the given
 * arguments, working directory and environment. {@link #start()} validates all of it (an
 * {@link AgentLaunchException} says what to fix), spawns the process and returns once the process
 * leads its own process group, so signals to the group reach everything it starts.
 *
 * <p>The child runs {@code python -c PRELUDE script args...}: the prelude makes the process a group
 * leader, on Linux asks the kernel to SIGKILL it when the JVM dies (PR_SET_PDEATHSIG, which holds
 * even for {@code kill -9} of the JVM), refuses to go on if the JVM is already gone, and then
 * {@code exec}s the interpreter on the script: same pid, the script's own argv, {@code sys.path[0]}
 * the script's directory, as if started by {@code python script.py args}. The parent-death signal
 * reaches the agent process only; processes the agent starts itself are not covered by it (they
 * are covered by the group kill that follows a normal exit or stop, see {@link AgentProcess}).
 *
 * <p>Instances are immutable; build them with {@link #builder(Path)}.
 */
public final class AgentLaunch {
    /** Set for the prelude only (the JVM's pid) and removed before the script runs. */
    public static final String PARENT_PID_VARIABLE = "IRON_RUNTIME_PARENT_PID";
    /** Exit code of an agent the prelude refused to start (JVM already gone, or prctl failed). */
    public static final int REFUSED_EXIT_CODE = 70;
    /** How long {@link #start()} waits for the child to lead its own process group. */
    static final Duration GROUP_LEADER_WAIT = Duration.ofSeconds(5);

    static final String PRELUDE = """
            import os, signal, sys
            os.setpgrp()
            # The JVM's thread may block signals or a host may ignore SIGTERM: both would survive exec.
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            if sys.platform.startswith("linux"):
                import ctypes
                if ctypes.CDLL(None, use_errno=True).prctl(1, ctypes.c_ulong(9)) != 0:  # PR_SET_PDEATHSIG, SIGKILL
                    sys.stderr.write("iron-runtime: prctl(PR_SET_PDEATHSIG) failed (errno %d); the agent was not started\\n" % ctypes.get_errno())
                    sys.exit(70)
            if os.environ.pop("IRON_RUNTIME_PARENT_PID", None) != str(os.getppid()):
                sys.stderr.write("iron-runtime: the runtime that launched this agent is gone; the agent was not started\\n")
                sys.exit(70)
            os.execv(sys.executable, [sys.executable] + sys.argv[1:])
            """;

    /**
     * Every agent is spawned on this one thread, never on a caller's: PR_SET_PDEATHSIG fires when the
     * spawning thread exits, and callers may be short-lived (Python threads through JPype). It is
     * never shut down, and tasks go through submit() so a failing spawn cannot kill and replace it.
     */
    private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "iron-agent-launcher");
        t.setDaemon(true);
        return t;
    });

    private final String python;
    private final Path script;
    private final List<String> args;
    private final Path cwd;
    private final Map<String, String> environment;
    private final Path logFile;
    private final int outputCapacity;
    private final int stderrCapacity;
    private final AgentOutputListener outputListener;

    private AgentLaunch(Builder b) {
        this.python = b.python;
        this.script = b.script;
        this.args = List.copyOf(b.args);
        this.cwd = b.cwd;
        this.environment = b.environment == null ? Map.copyOf(System.getenv()) : copyEnvironment(b.environment);
        this.logFile = b.logFile;
        this.outputCapacity = b.outputCapacity;
        this.stderrCapacity = b.stderrCapacity;
        this.outputListener = b.outputListener;
    }

    public static Builder builder(Path script) {
        return new Builder(script);
    }

    public String python() {
        return python;
    }

    public Path script() {
        return script;
    }

    public List<String> args() {
        return args;
    }

    /** The working directory, or null for this JVM's. */
    public Path cwd() {
        return cwd;
    }

    /** The agent's complete environment (without {@link #PARENT_PID_VARIABLE}). */
    public Map<String, String> environment() {
        return environment;
    }

    public Path logFile() {
        return logFile;
    }

    /**
     * Validates, spawns and returns the running agent, a process group leader by then (or already
     * exited, for a script that ends at once).
     *
     * @throws AgentLaunchException when anything is wrong with the launch; nothing is left running
     */
    public AgentProcess start() {
        if (Platform.isWindows()) {
            throw new AgentLaunchException("agents can only be launched on Linux or macOS (on Windows, "
                    + "run iron-runtime inside WSL): they are supervised with POSIX process groups and signals");
        }
        Path workDir = workingDirectory();
        Path scriptFile = scriptFile(workDir);
        Path interpreter = interpreter();
        AgentOutput output;
        try {
            output = new AgentOutput(logFile, outputCapacity, stderrCapacity, outputListener);
        } catch (IOException | RuntimeException e) {
            throw new AgentLaunchException("cannot open the agent log file " + logFile + ": " + e
                    + "; pass a writable path or none", e);
        }

        ProcessBuilder builder = new ProcessBuilder(command(interpreter, scriptFile, args))
                .directory(workDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = builder.environment();
        env.clear();
        env.putAll(environment);
        env.put(PARENT_PID_VARIABLE, Long.toString(ProcessHandle.current().pid()));

        Process process = spawn(builder, interpreter, scriptFile, output);
        long pid = process.pid();
        output.pump(process.getInputStream(), false, "iron-agent-" + pid + "-stdout");
        output.pump(process.getErrorStream(), true, "iron-agent-" + pid + "-stderr");
        AgentProcess agent = new AgentProcess(process, output);
        awaitGroupLeader(process);
        return agent;
    }

    /** The child's command line: the interpreter runs the prelude, which execs it on the script. */
    static List<String> command(Path interpreter, Path script, List<String> args) {
        List<String> command = new ArrayList<>(args.size() + 4);
        command.add(interpreter.toString());
        command.add("-c");
        command.add(PRELUDE);
        command.add(script.toString());
        command.addAll(args);
        return command;
    }

    private static Process spawn(ProcessBuilder builder, Path interpreter, Path script, AgentOutput output) {
        Future<Process> spawned = LAUNCHER.submit(builder::start);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    // Waited for even when interrupted: a process spawned meanwhile must not be lost.
                    return spawned.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            output.closeLog();
            throw new AgentLaunchException("could not start " + interpreter + " on " + script + ": "
                    + e.getCause().getMessage(), e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Waits until the prelude's setpgrp() took effect, so that a stop right after start reaches the
     * whole group. Until then the child is in this JVM's group and only the pid itself may be signalled.
     */
    private static void awaitGroupLeader(Process process) {
        long pid = process.pid();
        long deadline = System.nanoTime() + GROUP_LEADER_WAIT.toNanos();
        long pauseMillis = 1;
        while (process.isAlive()) {
            int group = Posix.getpgid(pid);
            if (group == pid || group < 0) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                Posix.signal(pid, Signal.KILL);
                throw new AgentLaunchException("the agent process " + pid + " did not make itself a process "
                        + "group leader within " + GROUP_LEADER_WAIT.toSeconds() + " s and was killed; "
                        + "check that the interpreter is a working CPython");
            }
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Posix.signal(pid, Signal.KILL);
                Thread.currentThread().interrupt();
                throw new AgentLaunchException("interrupted while the agent process " + pid
                        + " was starting; it was killed", e);
            }
            pauseMillis = Math.min(pauseMillis * 2, 20);
        }
    }

    private Path workingDirectory() {
        Path userDir = Path.of(System.getProperty("user.dir"));
        if (cwd == null) {
            return userDir;
        }
        Path dir = userDir.resolve(cwd).normalize();
        if (!Files.exists(dir)) {
            throw new AgentLaunchException("the agent's working directory does not exist: " + dir
                    + "; create it or pass an existing cwd");
        }
        if (!Files.isDirectory(dir)) {
            throw new AgentLaunchException("the agent's working directory is not a directory: " + dir);
        }
        return dir;
    }

    /** A relative script is found from the agent's working directory, as `python script.py` would. */
    private Path scriptFile(Path workDir) {
        Path file = workDir.resolve(script).normalize();
        if (!Files.exists(file)) {
            throw new AgentLaunchException("agent script not found: " + file
                    + (script.isAbsolute() ? "" : " (" + script + " resolved against " + workDir + ")"));
        }
        if (!Files.isRegularFile(file)) {
            throw new AgentLaunchException("the agent script is not a file: " + file);
        }
        if (!Files.isReadable(file)) {
            throw new AgentLaunchException("the agent script cannot be read: " + file + "; check its permissions");
        }
        return file;
    }

    /**
     * The interpreter as an absolute path. A bare name is looked up on this JVM's PATH here (the
     * JDK would do the same, with a vaguer error); a path is used as given, without resolving
     * symlinks, so a virtualenv's python keeps its environment.
     */
    private Path interpreter() {
        if (python.indexOf('/') >= 0) {
            Path file = Path.of(System.getProperty("user.dir")).resolve(python).normalize();
            if (!Files.exists(file)) {
                throw new AgentLaunchException("Python interpreter not found: " + file
                        + "; pass the full path of an existing python executable");
            }
            if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
                throw new AgentLaunchException("the Python interpreter " + file + " is not an executable file");
            }
            return file;
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isEmpty()) {
                    continue;
                }
                Path candidate = Path.of(dir, python);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate.toAbsolutePath();
                }
            }
        }
        throw new AgentLaunchException("Python interpreter '" + python + "' was not found on PATH (" + path
                + "); install it or pass the interpreter's full path");
    }

    private static Map<String, String> copyEnvironment(Map<String, String> given) {
        Map<String, String> copy = new HashMap<>(given.size());
        for (Map.Entry<String, String> e : given.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                throw new AgentLaunchException("invalid environment variable name: '" + name + "'");
            }
            if (e.getValue() == null || e.getValue().indexOf('\0') >= 0) {
                throw new AgentLaunchException("environment variable " + name
                        + " needs a value without NUL characters (remove it to leave it unset)");
            }
            copy.put(name, e.getValue());
        }
        return Map.copyOf(copy);
    }

    public static final class Builder {
        private final Path script;
        private String python = "python3";
        private List<String> args = List.of();
        private Path cwd;
        private Map<String, String> environment;
        private Path logFile;
        private int outputCapacity = AgentOutput.DEFAULT_CAPACITY;
        private int stderrCapacity = AgentOutput.DEFAULT_STDERR_CAPACITY;
        private AgentOutputListener outputListener;

        private Builder(Path script) {
            this.script = Objects.requireNonNull(script, "script");
        }

        /** The interpreter: a name looked up on PATH or a path (default "python3"). */
        public Builder python(String python) {
            if (python == null || python.isBlank()) {
                throw new AgentLaunchException("the Python interpreter must be a name or a path, got '" + python + "'");
            }
            this.python = python;
            return this;
        }

        public Builder args(List<String> args) {
            for (String a : Objects.requireNonNull(args, "args")) {
                if (a == null || a.indexOf('\0') >= 0) {
                    throw new AgentLaunchException("agent arguments must be strings without NUL characters, got " + args);
                }
            }
            this.args = List.copyOf(args);
            return this;
        }

        /** The working directory (relative: against this JVM's); null, the default, for this JVM's. */
        public Builder cwd(Path cwd) {
            this.cwd = cwd;
            return this;
        }

        /**
         * The agent's complete environment: nothing else is inherited. Null, the default, means a
         * copy of this JVM's environment.
         */
        public Builder environment(Map<String, String> environment) {
            this.environment = environment;
            return this;
        }

        /** A file everything the agent prints is appended to (parent directories created), or null. */
        public Builder logFile(Path logFile) {
            this.logFile = logFile;
            return this;
        }

        /** Bytes of combined output kept for {@link AgentOutput#tail} (default 1 MiB). */
        public Builder outputCapacity(int bytes) {
            this.outputCapacity = positive(bytes, "outputCapacity");
            return this;
        }

        /** Bytes of stderr kept for {@link AgentOutput#stderrTail} (default 64 KiB). */
        public Builder stderrCapacity(int bytes) {
            this.stderrCapacity = positive(bytes, "stderrCapacity");
            return this;
        }

        /** Also told everything each run prints, as it is printed (see {@link AgentOutputListener}); or null. */
        public Builder outputListener(AgentOutputListener listener) {
            this.outputListener = listener;
            return this;
        }

        public AgentLaunch build() {
            return new AgentLaunch(this);
        }

        private static int positive(int bytes, String name) {
            if (bytes <= 0) {
                throw new IllegalArgumentException(name + " must be positive, got " + bytes);
            }
            return bytes;
        }
    }
}
