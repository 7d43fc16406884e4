package dev.tenure.demo.verify;

import dev.tenure.demo.Main;
import dev.tenure.testkit.ChildJvms;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of the key-value service as a child process ({@code node} in a JVM of its own, this JVM's class
 * path), with the signals the harness sends it: SIGKILL, SIGTERM, SIGSTOP and SIGCONT.
 *
 * <p>Thread-safe (every method is synchronized). The process's output goes to a log file. {@link #close()} kills
 * the process (after SIGCONT, so a stopped process goes too) and waits for it.
 */
final class ReplicaProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaProcess.class);
    private static final long EXIT_WAIT_SECONDS = 15;

    private final String id;
    private final List<String> arguments;
    private final Path logFile;
    private Process process;
    private boolean paused;
    private boolean closed;

    /**
     * @param id the replica's id
     * @param arguments the {@code node} command's arguments
     * @param logFile where the process's output is appended
     */
    ReplicaProcess(String id, List<String> arguments, Path logFile) {
        this.id = Objects.requireNonNull(id, "id");
        this.arguments = List.copyOf(arguments);
        this.logFile = Objects.requireNonNull(logFile, "logFile");
    }

    String id() {
        return id;
    }

    /** Starts the process (again). */
    synchronized void start() throws IOException {
        if (closed) {
            throw new IllegalStateException("replica " + id + " is closed: not starting it again");
        }
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("replica " + id + " is running (pid " + process.pid() + ")");
        }
        List<String> command = new ArrayList<>();
        command.add(ChildJvms.javaExecutable());
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC");
        command.add("-Djava.net.preferIPv4Stack=true");
        command.add("-Dtenure.log.level=INFO"); // the node log is the post-mortem of a failed run
        command.add(Main.class.getName());
        command.add("node");
        command.addAll(arguments);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        builder.environment().put("CLASSPATH", ChildJvms.childClassPath());
        process = builder.start();
        process.getOutputStream().close();
        paused = false;
        log.info("started replica {} (pid {})", id, process.pid());
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** True while stopped by {@link #pause()}. */
    synchronized boolean isPaused() {
        return paused && isAlive();
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    /** SIGKILL, and waits for the exit. */
    synchronized void kill() throws IOException, InterruptedException {
        requireAlive();
        process.destroyForcibly();
        awaitExit("SIGKILL");
        paused = false;
    }

    /** SIGSTOP: the process freezes (threads, timers, sockets unread) until {@link #resume()}. */
    synchronized void pause() throws IOException, InterruptedException {
        requireAlive();
        signal("STOP");
        paused = true;
    }

    /** SIGCONT. */
    synchronized void resume() throws IOException, InterruptedException {
        requireAlive();
        signal("CONT");
        paused = false;
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .redirectErrorStream(true)
                .start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    private void requireAlive() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("replica " + id + " is not running");
        }
    }

    private void awaitExit(String how) throws IOException, InterruptedException {
        if (!process.waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IOException("replica " + id + " (pid " + process.pid() + ") did not exit within "
                    + EXIT_WAIT_SECONDS + " s of " + how);
        }
    }

    /** Stops the process for good, whatever its state, and refuses to start it again; idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            if (paused) {
                signal("CONT");
            }
        } catch (IOException e) {
            log.warn("could not SIGCONT replica {}: {}", id, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
                log.warn("replica {} (pid {}) did not exit after SIGKILL", id, process.pid());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
