package dev.tenure.harness;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One Java child process: {@code java [jvm options] MAIN args} with this JVM's class path, or {@code java [jvm
 * options] -jar JAR args}; a {@link ChildProcess}, with its output, readiness, signals and stopping. Everything in
 * Tenure that starts a JVM (the ZooKeeper ensemble, the {@code node} launcher, the benchmark's replicas, {@code
 * verify}) goes through it.
 *
 * <p>The class path goes in the {@code CLASSPATH} environment variable, so the command line stays short enough for
 * {@link ProcessHandle.Info#commandLine()} to show the main class.
 *
 * <p>Thread-safe, as {@link ChildProcess} is.
 */
public final class ChildJvm extends ChildProcess {
    private ChildJvm(
            String name, Process process, Path logFile, Duration stopGrace, Function<String, String> readyLine) {
        super(name, process, logFile, stopGrace, readyLine);
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
        private String readyPrefix;
        private String readyText;
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
            this.readyPrefix = Objects.requireNonNull(prefix, "prefix");
            this.readyText = null;
            return this;
        }

        /** The first output line containing {@code text} announces readiness; {@link ChildJvm#awaitReady} returns it. */
        public Builder readyWhenOutputContains(String text) {
            this.readyText = Objects.requireNonNull(text, "text");
            this.readyPrefix = null;
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
            ChildProcess.Builder process =
                    ChildProcess.builder(name, command()).logFile(logFile).stopGrace(stopGrace);
            if (workingDirectory != null) {
                process.workingDirectory(workingDirectory);
            }
            if (readyPrefix != null) {
                process.readyPrefix(readyPrefix);
            } else if (readyText != null) {
                process.readyWhenOutputContains(readyText);
            }
            if (mainClass != null) {
                process.environment("CLASSPATH", childClassPath());
            }
            return process.start(ChildJvm::new);
        }
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
}
