package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Platform;
import org.junit.jupiter.api.Test;

class PosixTest {
    /** Above any pid_max Linux allows (2^22): never a process. */
    private static final long NO_SUCH_PID = Integer.MAX_VALUE - 1;

    @Test
    void getpidIsThisJvm() {
        assertEquals(ProcessHandle.current().pid(), Posix.getpid());
        assertTrue(Posix.exists(Posix.getpid()));
        assertTrue(Posix.getpgid(Posix.getpid()) > 0);
    }

    @Test
    void aMissingProcessOrGroupIsAnAnswerNotAnError() {
        assertEquals(-1, Posix.getpgid(NO_SUCH_PID));
        assertFalse(Posix.exists(NO_SUCH_PID));
        assertFalse(Posix.kill(NO_SUCH_PID, 0));
        assertFalse(Posix.signal(NO_SUCH_PID, Signal.TERMINATE));
        assertFalse(Posix.killGroup(NO_SUCH_PID));
        assertFalse(ProcStat.gone(Posix.getpid()));
        assertTrue(ProcStat.gone(NO_SUCH_PID));
    }

    @Test
    void groupSignalsThatWouldReachFarMoreThanAnAgentAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Posix.killGroup(0));
        assertThrows(IllegalArgumentException.class, () -> Posix.killGroup(-5));
        assertThrows(IllegalArgumentException.class, () -> Posix.killGroup(1));
        IllegalArgumentException own = assertThrows(IllegalArgumentException.class,
                () -> Posix.stopGroup(Posix.getpgid(Posix.getpid())));
        assertTrue(own.getMessage().contains("this JVM's own group"), own.getMessage());
    }

    @Test
    void anErrorOtherThanNoSuchProcessIsAClearException() {
        // EINVAL (an invalid signal number) happens for every user, root included (EPERM does not).
        PosixException e = assertThrows(PosixException.class, () -> Posix.kill(Posix.getpid(), 999));
        assertEquals(22, e.errno());
        assertTrue(e.getMessage().startsWith("kill(" + Posix.getpid() + ", 999) failed:"), e.getMessage());
    }

    @Test
    void signalNumbersAreThoseOfThisOs() {
        assumeTrue(Platform.isLinux());
        assertEquals(9, Signal.KILL.number());
        assertEquals(15, Signal.TERMINATE.number());
        assertEquals(18, Signal.CONTINUE.number());
        assertEquals(19, Signal.STOP.number());
        assertEquals(137, Signal.KILL.exitCode());
    }

    @Test
    void procStatReadsTheStateLetter() {
        Character state = ProcStat.state(Posix.getpid());
        if (Platform.isLinux()) {
            assertTrue(state == 'R' || state == 'S', "state " + state);
        }
        assertEquals(null, ProcStat.state(NO_SUCH_PID));
    }
}
