package io.ironruntime.router;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.locks.Lock;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.Command;
import org.apache.hc.core5.reactor.IOEventHandler;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.util.Timeout;

/** An {@link IOSession} that forwards every call; subclasses watch or adjust single calls. */
class ForwardingIOSession implements IOSession {
    private final IOSession d;

    ForwardingIOSession(IOSession delegate) {
        this.d = delegate;
    }

    @Override public int read(ByteBuffer dst) throws IOException { return d.read(dst); }
    @Override public int write(ByteBuffer src) throws IOException { return d.write(src); }
    @Override public boolean isOpen() { return d.isOpen(); }
    @Override public void close() { d.close(); }
    @Override public void close(CloseMode closeMode) { d.close(closeMode); }
    @Override public String getId() { return d.getId(); }
    @Override public IOEventHandler getHandler() { return d.getHandler(); }
    @Override public void upgrade(IOEventHandler handler) { d.upgrade(handler); }
    @Override public Lock getLock() { return d.getLock(); }
    @Override public void enqueue(Command command, Command.Priority priority) { d.enqueue(command, priority); }
    @Override public boolean hasCommands() { return d.hasCommands(); }
    @Override public Command poll() { return d.poll(); }
    @Override public ByteChannel channel() { return d.channel(); }
    @Override public SocketAddress getRemoteAddress() { return d.getRemoteAddress(); }
    @Override public SocketAddress getLocalAddress() { return d.getLocalAddress(); }
    @Override public int getEventMask() { return d.getEventMask(); }
    @Override public void setEventMask(int ops) { d.setEventMask(ops); }
    @Override public void setEvent(int op) { d.setEvent(op); }
    @Override public void clearEvent(int op) { d.clearEvent(op); }
    @Override public Status getStatus() { return d.getStatus(); }
    @Override public Timeout getSocketTimeout() { return d.getSocketTimeout(); }
    @Override public void setSocketTimeout(Timeout timeout) { d.setSocketTimeout(timeout); }
    @Override public long getLastReadTime() { return d.getLastReadTime(); }
    @Override public long getLastWriteTime() { return d.getLastWriteTime(); }
    @Override public long getLastEventTime() { return d.getLastEventTime(); }
    @Override public void updateReadTime() { d.updateReadTime(); }
    @Override public void updateWriteTime() { d.updateWriteTime(); }

    @Override
    public String toString() {
        return d.toString();
    }
}
