package io.ironruntime.admin;

/** One admin endpoint. Runs on a server I/O thread: answer from memory or a quick database read. */
@FunctionalInterface
public interface AdminHandler {
    AdminReply handle(AdminRequest request) throws Exception;
}
