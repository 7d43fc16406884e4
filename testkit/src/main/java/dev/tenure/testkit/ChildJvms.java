package dev.tenure.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Helpers for starting Java child processes from this JVM's class path and for stopping processes by pid.
 *
 * <p>Thread-safe: every method is stateless.
 */
public final class ChildJvms {
    /** How long {@link #stop(Collection, Duration)} waits for an exit after SIGKILL. */
    static final Duration EXIT_AFTER_KILL = Duration.ofSeconds(10);

    private ChildJvms() {}

    /** The {@code java} executable running this JVM. */
    public static String javaExecutable() {
        return ProcessHandle.current()
                .info()
                .command()
                .filter(command -> Files.isExecutable(Path.of(command)))
                .orElseGet(() ->
                        Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * This JVM's class path as a child JVM needs it, every entry made absolute (a child may run in another
     * directory). Under Surefire it is the test class path ({@code surefire.test.class.path}) rather than the
     * booter's manifest-only jar, which Surefire deletes when the test JVM exits.
     *
     * @throws IOException if the class path is empty
     */
    public static String childClassPath() throws IOException {
        String surefire = System.getProperty("surefire.test.class.path", "");
        String classPath = surefire.isBlank() ? System.getProperty("java.class.path", "") : surefire;
        String absolute = Arrays.stream(classPath.split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> new File(entry).getAbsolutePath())
                .collect(Collectors.joining(File.pathSeparator));
        if (absolute.isEmpty()) {
            throw new IOException("java.class.path is empty: cannot start a child JVM with this JVM's classes");
        }
        return absolute;
    }

    /**
     * Sends SIGTERM to every process, then SIGKILL to those still alive after {@code grace}, and waits for each
     * to exit (at most 10 s after SIGKILL). If interrupted, sends SIGKILL to every process still alive before
     * throwing.
     *
     * @throws IOException naming the pids that did not exit
     */
    public static void stop(Collection<ProcessHandle> handles, Duration grace)
            throws IOException, InterruptedException {
        try {
            handles.forEach(ProcessHandle::destroy);
            long graceDeadline = deadline(grace);
            List<ProcessHandle> stubborn = new ArrayList<>();
            for (ProcessHandle handle : handles) {
                if (!awaitExit(handle, graceDeadline)) {
                    stubborn.add(handle);
                }
            }
            stubborn.forEach(ProcessHandle::destroyForcibly);
            long killDeadline = deadline(EXIT_AFTER_KILL);
            List<Long> survivors = new ArrayList<>();
            for (ProcessHandle handle : stubborn) {
                if (!awaitExit(handle, killDeadline)) {
                    survivors.add(handle.pid());
                }
            }
            if (!survivors.isEmpty()) {
                throw new IOException("processes " + survivors + " did not exit after SIGTERM and SIGKILL");
            }
        } catch (InterruptedException e) {
            handles.forEach(ProcessHandle::destroyForcibly);
            throw e;
        }
    }

    private static boolean awaitExit(ProcessHandle handle, long deadline) throws InterruptedException {
        try {
            handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return !handle.isAlive();
        }
    }

    static long deadline(Duration timeout) {
        return System.nanoTime() + timeout.toNanos();
    }
}
