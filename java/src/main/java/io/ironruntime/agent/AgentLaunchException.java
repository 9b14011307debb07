package io.ironruntime.agent;

/**
 * An agent could not be started: a bad script, interpreter, working directory or log path, an
 * unsupported OS, or a child that never became its own process group leader. The message says what
 * to fix. Nothing is left running when this is thrown.
 */
public final class AgentLaunchException extends RuntimeException {
    AgentLaunchException(String message) {
        super(message);
    }

    AgentLaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
