package io.ironruntime.telemetry;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * Writes each record as one line to stderr (looked up per record, so a redirected {@code System.err}
 * is honoured). {@link Shape#ENGINE}: the line slf4j-simple wrote before, date, SLF4J level name, the
 * logger's short name, the message, then a stack trace if any. {@link Shape#BARE}: the message alone
 * (structured lines carry their own fields).
 */
final class LogLine extends Handler {
    enum Shape { ENGINE, BARE }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ")
            .withZone(ZoneId.systemDefault());

    private final Shape shape;

    LogLine(Shape shape) {
        this.shape = shape;
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        String line = format(record, shape);
        PrintStream err = System.err;
        synchronized (this) { // whole lines, never interleaved
            err.print(line);
            err.flush();
        }
    }

    static String format(LogRecord r, Shape shape) {
        String message = r.getMessage() == null ? "" : r.getMessage();
        if (shape == Shape.BARE) {
            return message + System.lineSeparator();
        }
        StringBuilder b = new StringBuilder(64 + message.length());
        b.append(TIME.format(Instant.ofEpochMilli(r.getMillis()))).append(' ').append(levelName(r.getLevel())).append(' ');
        String name = r.getLoggerName() == null ? "" : r.getLoggerName();
        b.append(name.substring(name.lastIndexOf('.') + 1)).append(" - ").append(message).append(System.lineSeparator());
        if (r.getThrown() != null) {
            StringWriter trace = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(trace));
            b.append(trace);
        }
        return b.toString();
    }

    /** SLF4J's names, which slf4j-jdk14 mapped onto JUL's levels. */
    static String levelName(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (v >= Level.WARNING.intValue()) {
            return "WARN";
        }
        if (v >= Level.INFO.intValue()) {
            return "INFO";
        }
        return v >= Level.FINE.intValue() ? "DEBUG" : "TRACE";
    }

    @Override
    public void flush() {
        System.err.flush();
    }

    @Override
    public void close() {
        // stderr is not ours to close
    }
}
