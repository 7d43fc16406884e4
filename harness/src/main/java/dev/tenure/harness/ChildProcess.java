/*
 * Copyright 2026 The Tenure authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package dev.tenure.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One child process, started from a command line. The one place in Tenure that starts a process: Java children (the
 * ZooKeeper ensemble, the {@code node} launcher, the benchmark's replicas, {@code verify}) get their command line
 * from {@link ChildJvm}; tests start other programs (a browser, a {@code sleep}) through {@link #builder(String,
 * List)} directly.
 *
 * <p>The process's standard output and error are appended to a log file. Without a readiness line they go straight
 * to the file (the process may outlive this JVM); with one, a daemon thread copies them and completes {@link
 * #awaitReady} at the first line that announces readiness. Its standard input is closed at once.
 *
 * <p>Signals: {@link #kill()} SIGKILL, {@link #killWithDescendants()} SIGKILL to the process and every process it
 * started, {@link #terminate()} SIGTERM, {@link #pause()} SIGSTOP, {@link #resume()} SIGCONT. {@link #close()}
 * (idempotent, never throws) resumes a paused process, sends SIGTERM, SIGKILL after the stop grace, and waits for
 * the exit; {@link #stop(Collection, Duration)} does the same for processes known only by their pid.
 *
 * <p>Thread-safe: the handle's methods are synchronized; the static helpers are stateless.
 */
public final class ChildProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChildProcess.class);
    /** How long {@link #close()} gives the process after SIGTERM before SIGKILL, by default. */
    public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);
    /** How long a stop waits for an exit after SIGKILL. */
    public static final Duration EXIT_AFTER_KILL = Duration.ofSeconds(10);

    private final String name;
    private final Process process;
    private final Path logFile;
    private final Duration stopGrace;
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    /** Copies the output to the log file while watching for the readiness line; null if the output goes there itself. */
    private final Thread pump;

    private boolean paused;

    private ChildProcess(
            String name, Process process, Path logFile, Duration stopGrace, Function<String, String> readyLine) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
        this.stopGrace = stopGrace;
        if (readyLine != null) {
            pump = new Thread(() -> pump(readyLine), "child-log-" + name);
            pump.setDaemon(true);
            pump.start();
            // Nothing waits on this stage: its action only completes `ready`, which is what callers await.
            CompletableFuture<Void> unused = process.onExit()
                    .thenRun(() -> ready.completeExceptionally(new IOException(
                            name + " exited with " + process.exitValue() + " before it was ready; see " + logFile)));
        } else {
            pump = null;
            ready.complete("");
        }
    }

    /** A builder for a child process called {@code name} (for logs and thread names) running {@code command}. */
    public static Builder builder(String name, List<String> command) {
        return new Builder(name, command);
    }

    /** Describes one child process; {@link #start()} may be called more than once (a restart). Not thread-safe. */
    public static final class Builder {
        private final String name;
        private final List<String> command;
        private final Map<String, String> environment = new LinkedHashMap<>();
        private Path logFile;
        private Path workingDirectory;
        private Function<String, String> readyLine;
        private Duration stopGrace = DEFAULT_STOP_GRACE;
        private Supplier<ClassDataArchives.Launch> launch = () -> ClassDataArchives.Launch.AS_IS;

        private Builder(String name, List<String> command) {
            this.name = Objects.requireNonNull(name, "name");
            this.command = List.copyOf(command);
            if (this.command.isEmpty()) {
                throw new IllegalArgumentException("an empty command for " + name);
            }
        }

        /** Sets an environment variable of the process (which otherwise gets this JVM's environment). */
        public Builder environment(String variable, String value) {
            environment.put(Objects.requireNonNull(variable, "variable"), Objects.requireNonNull(value, "value"));
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

        /** The output line prefix announcing readiness; {@link ChildProcess#awaitReady} returns the rest of the line. */
        public Builder readyPrefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            this.readyLine = line ->
                    line.startsWith(prefix) ? line.substring(prefix.length()).trim() : null;
            return this;
        }

        /**
         * The first output line containing {@code text} announces readiness; {@link ChildProcess#awaitReady} returns
         * it.
         */
        public Builder readyWhenOutputContains(String text) {
            Objects.requireNonNull(text, "text");
            this.readyLine = line -> line.contains(text) ? line : null;
            return this;
        }

        /** How long {@link ChildProcess#close()} waits after SIGTERM before SIGKILL; zero sends SIGKILL at once. */
        public Builder stopGrace(Duration grace) {
            if (grace.isNegative()) {
                throw new IllegalArgumentException("stop grace must not be negative: " + grace);
            }
            this.stopGrace = grace;
            return this;
        }

        /** The command line this builder starts (without the class-data-sharing options a start may add). */
        public List<String> command() {
            return command;
        }

        /** Asked at each start for options to put after the executable, and told the exit code. */
        Builder launch(Supplier<ClassDataArchives.Launch> launch) {
            this.launch = Objects.requireNonNull(launch, "launch");
            return this;
        }

        /** Starts the process. */
        public ChildProcess start() throws IOException {
            if (logFile == null) {
                throw new IllegalStateException("set a log file for " + name);
            }
            Path parent = logFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            ClassDataArchives.Launch launch = this.launch.get();
            List<String> launched = new ArrayList<>(command);
            launched.addAll(1, launch.options());
            ProcessBuilder builder = new ProcessBuilder(launched).redirectErrorStream(true);
            if (workingDirectory != null) {
                builder.directory(workingDirectory.toFile());
            }
            if (readyLine == null) {
                builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            }
            builder.environment().putAll(environment);
            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                launch.afterExit().accept(-1);
                throw e;
            }
            // Nothing waits on this stage: it settles a class-data archive the child may have written at its exit.
            CompletableFuture<Void> unusedSettled =
                    process.onExit().thenAccept(p -> launch.afterExit().accept(p.exitValue()));
            process.getOutputStream().close();
            log.info("started {} (pid {})", name, process.pid());
            return new ChildProcess(name, process, logFile, stopGrace, readyLine);
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
     * Waits for the readiness line; returns what follows the prefix, or the whole line (empty if the builder set no
     * readiness line).
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

    /** The name it was started with, used in messages. */
    public String name() {
        return name;
    }

    /** The process's pid. */
    public long pid() {
        return process.pid();
    }

    /** The process's handle. */
    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** True while the process runs (also while paused). */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** True while stopped by {@link #pause()}. */
    public synchronized boolean isPaused() {
        return paused && process.isAlive();
    }

    /** The file that receives the process's standard output and error. */
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
        // Through the handle: Process.destroyForcibly() also closes this side of the output pipe, so what the
        // process wrote and the log has not read yet would be lost.
        process.toHandle().destroyForcibly();
        awaitExitAfterKill();
    }

    /**
     * SIGKILL to every process this one started (and they started), then to this one, and waits for its exit (at
     * most {@link #EXIT_AFTER_KILL}): for a program that runs helper processes of its own, such as a browser.
     */
    public synchronized void killWithDescendants() throws IOException, InterruptedException {
        Stream.concat(process.descendants(), Stream.of(process.toHandle())).forEach(ProcessHandle::destroyForcibly);
        awaitExitAfterKill();
    }

    private void awaitExitAfterKill() throws IOException, InterruptedException {
        if (!process.waitFor(EXIT_AFTER_KILL.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IOException(
                    this + " did not exit within " + EXIT_AFTER_KILL.toSeconds() + " s of SIGKILL; see " + logFile);
        }
        paused = false;
    }

    /**
     * SIGTERM, without waiting. What the process writes from then on (its shutdown hooks' lines) still reaches the
     * log: the signal goes through its {@link ProcessHandle}, as {@link Process#destroy()} would also close this side
     * of its output pipe.
     */
    public void terminate() {
        process.toHandle().destroy();
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

    /**
     * Waits for the process to exit; returns its exit code. Its output up to its exit is then in the log file (with a
     * readiness line, the copy waits at most 2 s more for the pipe to close).
     */
    public int awaitExit(Duration timeout) throws InterruptedException, TimeoutException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException(name + " did not exit within " + timeout);
        }
        if (pump != null) {
            // The output it wrote before it exited reaches the log; at most 2 s, as a process it started may hold
            // the pipe open.
            pump.join(2_000);
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
    public static void closeAll(Collection<? extends ChildProcess> processes) {
        List<? extends ChildProcess> alive =
                processes.stream().filter(ChildProcess::isAlive).toList();
        if (alive.isEmpty()) {
            return;
        }
        Duration grace = Duration.ZERO;
        for (ChildProcess child : alive) {
            grace = child.stopGrace.compareTo(grace) > 0 ? child.stopGrace : grace;
            synchronized (child) {
                if (child.paused) {
                    try {
                        signal(child.pid(), "CONT");
                    } catch (IOException e) {
                        log.warn("could not SIGCONT {}: {}", child, e.toString());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    child.paused = false;
                }
            }
        }
        try {
            stop(alive.stream().map(ChildProcess::handle).toList(), grace);
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

    @Override
    public String toString() {
        return name + "(pid " + process.pid() + ")";
    }
}
