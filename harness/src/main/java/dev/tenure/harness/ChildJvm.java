package dev.tenure.harness;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Java child process: {@code java [jvm options] MAIN args} with this JVM's class path, or {@code java [jvm
 * options] -jar JAR args}. The one place in Tenure that starts a process; everything else (the ZooKeeper ensemble,
 * the {@code node} launcher, the benchmark's replicas, {@code verify}) goes through it.
 *
 * <p>The process's standard output and error are appended to a log file. Without a readiness prefix they go straight
 * to the file (the process may outlive this JVM); with one (or another readiness line), a daemon thread copies them and completes {@link
 * #awaitReady} at the first line starting with the prefix. The class path goes in the {@code CLASSPATH} environment
 * variable, so the command line stays short enough for {@link ProcessHandle.Info#commandLine()} to show the main
 * class.
 *
 * <p>Signals: {@link #kill()} SIGKILL, {@link #terminate()} SIGTERM, {@link #pause()} SIGSTOP, {@link #resume()}
 * SIGCONT. {@link #close()} (idempotent, never throws) resumes a paused process, sends SIGTERM, SIGKILL after the
 * stop grace, and waits for the exit; {@link #stop(Collection, Duration)} does the same for processes known only
 * by their pid.
 *
 * <p>Thread-safe: the handle's methods are synchronized; the static helpers are stateless.
 */
public final class ChildJvm implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChildJvm.class);
    /** How long {@link #close()} gives the process after SIGTERM before SIGKILL, by default. */
    public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);
    /** How long a stop waits for an exit after SIGKILL. */
    public static final Duration EXIT_AFTER_KILL = Duration.ofSeconds(10);

    private final String name;
    private final Process process;
    private final Path logFile;
    private final Duration stopGrace;
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private boolean paused;

    private ChildJvm(
            String name, Process process, Path logFile, Duration stopGrace, Function<String, String> readyLine) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
        this.stopGrace = stopGrace;
        if (readyLine != null) {
            Thread pump = new Thread(() -> pump(readyLine), "child-log-" + name);
            pump.setDaemon(true);
            pump.start();
            // Nothing waits on this stage: its action only completes `ready`, which is what callers await.
            CompletableFuture<Void> unused = process.onExit()
                    .thenRun(() -> ready.completeExceptionally(new IOException(
                            name + " exited with " + process.exitValue() + " before it was ready; see " + logFile)));
        } else {
            ready.complete("");
        }
    }

    /** A builder for a child JVM called {@code name} (for logs and thread names). */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Describes one child JVM; {@link #start()} may be called more than once (a restart). Not thread-safe. */
    public static final class Builder {
        private final String name;
        private final List<String> jvmOptions = new ArrayList<>();
        private final List<String> arguments = new ArrayList<>();
        private String mainClass;
        private Path jar;
        private Path logFile;
        private Path workingDirectory;
        private Function<String, String> readyLine;
        private Duration stopGrace = DEFAULT_STOP_GRACE;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** JVM options, before the main class or jar; blank ones are skipped. */
        public Builder jvmOptions(Collection<String> options) {
            options.stream().filter(o -> !o.isBlank()).forEach(jvmOptions::add);
            return this;
        }

        /** Runs {@code mainClass} from this JVM's class path ({@link #childClassPath()}). */
        public Builder mainClass(String mainClass) {
            this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
            this.jar = null;
            return this;
        }

        /** Runs {@code java -jar jar}. */
        public Builder jar(Path jar) {
            this.jar = Objects.requireNonNull(jar, "jar");
            this.mainClass = null;
            return this;
        }

        /** Program arguments, after the main class or jar. */
        public Builder arguments(Collection<String> arguments) {
            this.arguments.addAll(arguments);
            return this;
        }

        /** Where the process's output is appended (required; its directory is created). */
        public Builder logFile(Path logFile) {
            this.logFile = Objects.requireNonNull(logFile, "logFile");
            return this;
        }

        /** The process's working directory (default: this JVM's). */
        public Builder workingDirectory(Path dir) {
            this.workingDirectory = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** The output line prefix announcing readiness; {@link ChildJvm#awaitReady} returns the rest of the line. */
        public Builder readyPrefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            this.readyLine = line ->
                    line.startsWith(prefix) ? line.substring(prefix.length()).trim() : null;
            return this;
        }

        /** The first output line containing {@code text} announces readiness; {@link ChildJvm#awaitReady} returns it. */
        public Builder readyWhenOutputContains(String text) {
            Objects.requireNonNull(text, "text");
            this.readyLine = line -> line.contains(text) ? line : null;
            return this;
        }

        /** How long {@link ChildJvm#close()} waits after SIGTERM before SIGKILL; zero sends SIGKILL at once. */
        public Builder stopGrace(Duration grace) {
            if (grace.isNegative()) {
                throw new IllegalArgumentException("stop grace must not be negative: " + grace);
            }
            this.stopGrace = grace;
            return this;
        }

        /** The command line this builder starts. */
        public List<String> command() {
            if (mainClass == null && jar == null) {
                throw new IllegalStateException("set a main class or a jar for " + name);
            }
            List<String> command = new ArrayList<>();
            command.add(javaExecutable());
            command.addAll(jvmOptions);
            if (jar != null) {
                command.add("-jar");
                command.add(jar.toString());
            } else {
                command.add(mainClass);
            }
            command.addAll(arguments);
            return command;
        }

        /** Starts the process. */
        public ChildJvm start() throws IOException {
            if (logFile == null) {
                throw new IllegalStateException("set a log file for " + name);
            }
            List<String> command = command();
            Path parent = logFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            if (workingDirectory != null) {
                builder.directory(workingDirectory.toFile());
            }
            if (readyLine == null) {
                builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            }
            if (mainClass != null) {
                builder.environment().put("CLASSPATH", childClassPath());
            }
            Process process = builder.start();
            process.getOutputStream().close();
            log.info("started {} (pid {})", name, process.pid());
            return new ChildJvm(name, process, logFile, stopGrace, readyLine);
        }
    }

    private void pump(Function<String, String> readyLine) {
        try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                PrintWriter out = new PrintWriter(
                        Files.newBufferedWriter(
                                logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                        true)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.println(line);
                String announced = ready.isDone() ? null : readyLine.apply(line);
                if (announced != null) {
                    ready.complete(announced);
                }
            }
        } catch (IOException e) {
            ready.completeExceptionally(e);
        }
    }

    /**
     * Waits for the readiness line; returns what follows the prefix (empty if the builder set no prefix).
     *
     * @throws IOException if the process exited first
     * @throws TimeoutException if the line did not come within {@code timeout}
     */
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

    public ProcessHandle handle() {
        return process.toHandle();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** True while stopped by {@link #pause()}. */
    public synchronized boolean isPaused() {
        return paused && process.isAlive();
    }

    public Path logFile() {
        return logFile;
    }

    /** Completes when the process has exited. */
    public CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    /**
     * The exit code.
     *
     * @throws IllegalStateException if the process is still running
     */
    public int exitValue() {
        return process.exitValue();
    }

    /** SIGKILL, and waits for the exit (at most {@link #EXIT_AFTER_KILL}). */
    public synchronized void kill() throws IOException, InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(EXIT_AFTER_KILL.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IOException(
                    this + " did not exit within " + EXIT_AFTER_KILL.toSeconds() + " s of SIGKILL; see " + logFile);
        }
        paused = false;
    }

    /** SIGTERM, without waiting. */
    public void terminate() {
        process.destroy();
    }

    /** SIGSTOP: the process freezes (threads, timers, sockets unread) until {@link #resume()}. */
    public synchronized void pause() throws IOException, InterruptedException {
        requireAlive();
        signal(process.pid(), "STOP");
        paused = true;
    }

    /** SIGCONT. */
    public synchronized void resume() throws IOException, InterruptedException {
        requireAlive();
        signal(process.pid(), "CONT");
        paused = false;
    }

    private void requireAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException(this + " is not running");
        }
    }

    private static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed");
        }
    }

    /** Waits for the process to exit; returns its exit code. */
    public int awaitExit(Duration timeout) throws InterruptedException, TimeoutException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException(name + " did not exit within " + timeout);
        }
        return process.exitValue();
    }

    /**
     * Stops the process: SIGCONT if paused, SIGTERM, SIGKILL if it is still alive after the stop grace, then waits
     * at most {@link #EXIT_AFTER_KILL} for the exit. Idempotent; does not throw: a process that outlives SIGKILL is
     * logged; if interrupted, it sends SIGKILL and keeps the interrupt status.
     */
    @Override
    public void close() {
        closeAll(List.of(this));
    }

    /**
     * Stops every process still alive at once, as {@link #close()} does, with the longest stop grace among them.
     * Does not throw.
     */
    public static void closeAll(Collection<ChildJvm> jvms) {
        List<ChildJvm> alive = jvms.stream().filter(ChildJvm::isAlive).toList();
        if (alive.isEmpty()) {
            return;
        }
        Duration grace = Duration.ZERO;
        for (ChildJvm jvm : alive) {
            grace = jvm.stopGrace.compareTo(grace) > 0 ? jvm.stopGrace : grace;
            synchronized (jvm) {
                if (jvm.paused) {
                    try {
                        signal(jvm.pid(), "CONT");
                    } catch (IOException e) {
                        log.warn("could not SIGCONT {}: {}", jvm, e.toString());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    jvm.paused = false;
                }
            }
        }
        try {
            stop(alive.stream().map(ChildJvm::handle).toList(), grace);
        } catch (IOException e) {
            log.warn("{}: {}", alive, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sends SIGTERM to every process (SIGKILL at once if {@code grace} is zero), then SIGKILL to those still alive
     * after {@code grace}, and waits for each to exit (at most {@link #EXIT_AFTER_KILL} after SIGKILL). If
     * interrupted, sends SIGKILL to every process still alive before throwing.
     *
     * @throws IOException naming the pids that did not exit
     */
    public static void stop(Collection<ProcessHandle> handles, Duration grace)
            throws IOException, InterruptedException {
        try {
            List<ProcessHandle> stubborn = new ArrayList<>();
            if (grace.isZero()) {
                stubborn.addAll(handles);
            } else {
                handles.forEach(ProcessHandle::destroy);
                long graceDeadline = deadline(grace);
                for (ProcessHandle handle : handles) {
                    if (!awaitExit(handle, graceDeadline)) {
                        stubborn.add(handle);
                    }
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

    /** {@code System.nanoTime()} {@code timeout} from now. */
    static long deadline(Duration timeout) {
        return System.nanoTime() + timeout.toNanos();
    }

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

    @Override
    public String toString() {
        return name + "(pid " + process.pid() + ")";
    }
}
