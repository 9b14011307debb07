package io.ironruntime.agent;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The few libc calls process supervision needs (through JNA): signals to a process or a whole process
 * group, and process group lookups. A missing process or group is an answer ({@code false} / -1), not
 * an error; any other failure (EPERM, ...) is a {@link PosixException}. Linux and macOS; on Windows
 * every call throws {@link UnsupportedOperationException}.
 */
public final class Posix {
    /** errno: no such process or process group. */
    static final int ESRCH = 3;

    private Posix() {
    }

    /** libc, bound on first use so that merely loading this class never needs the native library. */
    private interface LibC extends Library {
        int kill(int pid, int sig);

        int getpgid(int pid);

        int getpid();

        String strerror(int errnum);
    }

    private static final class Bound {
        static final LibC C = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
        /** This JVM's own group: never a target of a group signal (an agent always has its own). */
        static final int OWN_GROUP = C.getpgid(0);
    }

    private static LibC c() {
        if (Platform.isWindows()) {
            throw unsupported();
        }
        return Bound.C;
    }

    static UnsupportedOperationException unsupported() {
        return new UnsupportedOperationException(
                "iron-runtime supervises agent processes with POSIX signals and process groups, which "
                        + System.getProperty("os.name") + " does not have: run agents on Linux or macOS "
                        + "(on Windows, inside WSL)");
    }

    /** This JVM's process id. */
    public static int getpid() {
        return c().getpid();
    }

    /** The process group of {@code pid}, or -1 when there is no such process. */
    public static int getpgid(long pid) {
        int p = checkedPid(pid);
        int group = c().getpgid(p);
        if (group >= 0) {
            return group;
        }
        int errno = Native.getLastError();
        if (errno == ESRCH) {
            return -1;
        }
        throw failure("getpgid(" + p + ")", errno);
    }

    /**
     * Sends signal number {@code sig} to process {@code pid} (0 only checks that it exists). Returns
     * false when there is no such process. A zombie still counts as existing.
     */
    public static boolean kill(long pid, int sig) {
        return send(checkedPid(pid), sig);
    }

    /** Sends {@code signal} to one process; false when there is no such process. */
    public static boolean signal(long pid, Signal signal) {
        return send(checkedPid(pid), signal.number());
    }

    /** Whether {@code pid} exists (a zombie does: use {@link ProcStat} to tell). */
    public static boolean exists(long pid) {
        return send(checkedPid(pid), 0);
    }

    /**
     * Sends {@code signal} to every process in group {@code pgid} (kill(-pgid, sig)). Returns false when
     * the group has no process left. Refuses group ids that would reach far more than an agent:
     * 0 and 1 (kill(0) is our own group, kill(-1) every process we may signal) and this JVM's own group.
     */
    public static boolean signalGroup(long pgid, Signal signal) {
        int group = checkedPid(pgid);
        c();
        if (group == 1 || group == Bound.OWN_GROUP) {
            throw new IllegalArgumentException("refusing to signal process group " + group
                    + (group == 1 ? " (init's group)" : " (this JVM's own group)"));
        }
        return send(-group, signal.number());
    }

    public static boolean stopGroup(long pgid) {
        return signalGroup(pgid, Signal.STOP);
    }

    public static boolean continueGroup(long pgid) {
        return signalGroup(pgid, Signal.CONTINUE);
    }

    public static boolean terminateGroup(long pgid) {
        return signalGroup(pgid, Signal.TERMINATE);
    }

    public static boolean killGroup(long pgid) {
        return signalGroup(pgid, Signal.KILL);
    }

    private static boolean send(int target, int sig) {
        if (c().kill(target, sig) == 0) {
            return true;
        }
        int errno = Native.getLastError();
        if (errno == ESRCH) {
            return false;
        }
        throw failure("kill(" + target + ", " + sig + ")", errno);
    }

    private static int checkedPid(long pid) {
        if (pid <= 0 || pid > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("not a process id: " + pid);
        }
        return (int) pid;
    }

    private static PosixException failure(String call, int errno) {
        String reason = c().strerror(errno);
        String hint = errno == 1 ? " (the process belongs to another user: the runtime can only "
                + "signal processes it may signal)" : "";
        return new PosixException(call + " failed: " + reason + " (errno " + errno + ")" + hint, errno);
    }
}
