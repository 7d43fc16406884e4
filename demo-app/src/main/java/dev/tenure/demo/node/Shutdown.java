package dev.tenure.demo.node;

import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * Waits for SIGTERM or SIGINT so the caller can shut down cleanly and exit 0 (the JVM's default for
 * SIGTERM is to run shutdown hooks and exit 143).
 */
public final class Shutdown {
    private Shutdown() {}

    public static void awaitSignal() throws InterruptedException {
        CountDownLatch signalled = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> signalled.countDown());
        Signal.handle(new Signal("INT"), s -> signalled.countDown());
        signalled.await();
    }
}
