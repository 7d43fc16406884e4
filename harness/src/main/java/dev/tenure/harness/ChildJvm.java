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

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The command line of a Java child process: {@code java [jvm options] MAIN args} with this JVM's class path (in the
 * {@code CLASSPATH} environment variable, so that the command line stays short enough for {@link
 * ProcessHandle.Info#commandLine()} to show the main class), or {@code java [jvm options] -jar JAR args}. {@link
 * Builder#process()} turns it into a {@link ChildProcess.Builder}, where the log file, readiness and stopping are
 * set. Everything in Tenure that starts a JVM (the ZooKeeper ensemble, the {@code node} launcher, the benchmark's
 * replicas, {@code verify}) goes through it.
 *
 * <p>The environment variable {@value #OPTIONS_VARIABLE}, if set, holds JVM options (separated by spaces) put before
 * the builder's own, so the builder's win where they clash. Children inherit the environment, so the options reach
 * every descendant JVM: the test build sets it to compile with C1 only, which spends far less CPU on the many
 * short-lived JVMs of the end-to-end tests.
 *
 * <p>The environment variable {@value #ARCHIVES_VARIABLE}, if set, names a directory of class-data-sharing archives
 * ({@code ClassDataArchives}): a child then maps the classes an earlier child of its kind loaded instead of loading
 * them again. A child running a main class on a class path with directories (a test class path) then gets a jar of
 * each directory in its place, since the JDK archives classes from jars only. The test build sets it too.
 *
 * <p>Stateless; builders are not thread-safe.
 */
public final class ChildJvm {
    /** The environment variable holding JVM options for every child JVM (and, inherited, their children). */
    public static final String OPTIONS_VARIABLE = "TENURE_CHILD_JVM_OPTIONS";
    /**
     * The environment variable naming a directory of class-data-sharing archives for child JVMs (and, inherited,
     * their children); unset or blank, children start without archives.
     */
    public static final String ARCHIVES_VARIABLE = "TENURE_CHILD_JVM_ARCHIVES";

    private ChildJvm() {}

    /** The archives of the directory {@value #ARCHIVES_VARIABLE} in {@code environment} names, if set. */
    static Optional<ClassDataArchives> archives(Map<String, String> environment) {
        String dir = environment.getOrDefault(ARCHIVES_VARIABLE, "").trim();
        return dir.isEmpty() ? Optional.empty() : Optional.of(new ClassDataArchives(Path.of(dir)));
    }

    /** The options of {@value #OPTIONS_VARIABLE} in {@code environment}, in order; empty if unset or blank. */
    static List<String> inheritedOptions(Map<String, String> environment) {
        String options = environment.getOrDefault(OPTIONS_VARIABLE, "").trim();
        return options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
    }

    /** A builder for a child JVM called {@code name} (for logs and thread names). */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Describes one child JVM's command line. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private final List<String> jvmOptions = new ArrayList<>();
        private final List<String> arguments = new ArrayList<>();
        private String mainClass;
        private Path jar;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** JVM options, before the main class or jar; blank ones are skipped. */
        public Builder jvmOptions(Collection<String> options) {
            options.stream().filter(o -> !o.isBlank()).forEach(jvmOptions::add);
            return this;
        }

        /** Runs {@code mainClass} on this JVM's class path. */
        public Builder mainClass(String mainClass) {
            this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
            this.jar = null;
            return this;
        }

        /** Runs an executable jar. */
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

        /** The command line this builder describes. */
        public List<String> command() {
            if (mainClass == null && jar == null) {
                throw new IllegalStateException("set a main class or a jar for " + name);
            }
            List<String> command = new ArrayList<>();
            command.add(javaExecutable());
            command.addAll(inheritedOptions(System.getenv()));
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

        /**
         * A process builder for this command line (with this JVM's class path for a main class); set its log file and
         * readiness there, then start it, as often as needed (a restart).
         */
        public ChildProcess.Builder process() throws IOException {
            ChildProcess.Builder process = ChildProcess.builder(name, command());
            Optional<ClassDataArchives> archives = archives(System.getenv());
            List<Path> classPath = jar != null
                    ? List.of(jar)
                    : Arrays.stream(childClassPath().split(File.pathSeparator))
                            .map(Path::of)
                            .toList();
            if (archives.isPresent() && mainClass != null) {
                classPath = archives.get().withDirectoriesJarred(classPath);
            }
            if (mainClass != null) {
                process.environment(
                        "CLASSPATH",
                        classPath.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator)));
            }
            if (archives.isPresent()) {
                List<Path> entries = classPath;
                String entryPoint = jar != null ? "-jar" : mainClass;
                // A subcommand (node, verify) names a kind; an option or a path (a server's own file) does not.
                String firstArgument =
                        arguments.isEmpty() || !arguments.get(0).matches("[a-z][a-z-]*") ? "" : arguments.get(0);
                process.launch(() -> archives.get().launch(entries, entryPoint, firstArgument));
            }
            return process;
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
