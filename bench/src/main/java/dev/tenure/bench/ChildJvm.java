package dev.tenure.bench;

import dev.tenure.testkit.ChildJvms;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Java process started by the benchmark with this JVM's class path (the bench jar, or the test class path
 * under Surefire). Its standard output and error go to a log file; the first output line starting with a
 * given prefix is its readiness announcement.
 *
 * <p>Thread-safe. {@link #kill()} sends SIGKILL, {@link #terminate()} SIGTERM; {@link #close()} stops it (SIGTERM,
 * then SIGKILL after 10 s) and is idempotent.
 */
public final class ChildJvm implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChildJvm.class);
    /** How long {@link #close()} gives the process to exit after SIGTERM before it sends SIGKILL. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final String name;
    private final Process process;
    private final Path logFile;
    private final CompletableFuture<String> ready = new CompletableFuture<>();

    private ChildJvm(String name, Process process, Path logFile, String readyPrefix) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
        Thread pump = new Thread(() -> pump(readyPrefix), "bench-log-" + name);
        pump.setDaemon(true);
        pump.start();
        process.onExit()
                .thenRun(() -> ready.completeExceptionally(new IOException(
                        name + " exited with " + process.exitValue() + " before it was ready; see " + logFile)));
    }

    /**
     * Starts {@code java jvmOptions mainClass args} with this JVM's class path.
     *
     * @param readyPrefix the output line prefix announcing readiness; {@link #awaitReady} returns the rest
     */
    public static ChildJvm start(
            String name, List<String> jvmOptions, String mainClass, List<String> args, Path logFile, String readyPrefix)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ChildJvms.javaExecutable());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(ChildJvms.childClassPath());
        cmd.add(mainClass);
        cmd.addAll(args);
        return start(name, cmd, logFile, readyPrefix);
    }

    /** Starts an arbitrary command (for example {@code java -jar demo-app.jar ...}). */
    public static ChildJvm start(String name, List<String> command, Path logFile, String readyPrefix)
            throws IOException {
        Files.createDirectories(logFile.getParent());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new ChildJvm(name, p, logFile, readyPrefix);
    }

    private void pump(String readyPrefix) {
        try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                PrintWriter log = new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8), true)) {
            String line;
            while ((line = in.readLine()) != null) {
                log.println(line);
                if (readyPrefix != null && !ready.isDone() && line.startsWith(readyPrefix)) {
                    ready.complete(line.substring(readyPrefix.length()).trim());
                }
            }
        } catch (IOException e) {
            ready.completeExceptionally(e);
        }
    }

    /** Waits for the readiness line; returns what follows the prefix. */
    public String awaitReady(Duration timeout) throws IOException, InterruptedException, TimeoutException {
        try {
            return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new TimeoutException(name + " not ready within " + timeout + "; see " + logFile);
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path logFile() {
        return logFile;
    }

    /** SIGKILL, and wait for the exit. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, without waiting. */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the process to exit; returns its exit code. */
    public int awaitExit(Duration timeout) throws InterruptedException, TimeoutException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException(name + " did not exit within " + timeout);
        }
        return process.exitValue();
    }

    /**
     * Stops the process with {@link ChildJvms#stop}: SIGTERM, SIGKILL if it is still alive after 10 s,
     * then waits at most 10 s for the exit. Does not throw: a process that outlives SIGKILL is logged; if
     * interrupted, it sends SIGKILL and keeps the interrupt status.
     */
    @Override
    public void close() {
        closeAll(List.of(this));
    }

    /**
     * Stops every process still alive at once with {@link ChildJvms#stop}: SIGTERM to all, SIGKILL to those still
     * alive 10 s later, then waits at most 10 s for their exits. Does not throw, like {@link #close()}: processes
     * that outlive SIGKILL are logged; if interrupted, it sends SIGKILL to every one and keeps the interrupt status.
     */
    public static void closeAll(Collection<ChildJvm> jvms) {
        List<ChildJvm> alive = jvms.stream().filter(ChildJvm::isAlive).toList();
        if (alive.isEmpty()) {
            return;
        }
        try {
            ChildJvms.stop(alive.stream().map(j -> j.process.toHandle()).toList(), STOP_GRACE);
        } catch (IOException e) {
            log.warn("{}: {}", alive, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name + "(pid " + process.pid() + ")";
    }
}
