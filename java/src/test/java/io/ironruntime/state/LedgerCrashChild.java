package io.ironruntime.state;

import java.nio.file.Path;

/** Run as a separate JVM by LedgerStoreTest: appends rows until killed, reporting what is committed. */
public final class LedgerCrashChild {
    private LedgerCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        LedgerStore store = LedgerStore.open(Path.of(args[0]));
        for (long i = 0; ; i++) {
            store.append(LedgerStoreTest.row("child-" + i, "crash-budget", 1_000));
            if (i % 50 == 49) {
                store.flush(60_000);
                System.out.println("committed " + (i + 1));
                System.out.flush();
            }
        }
    }
}
