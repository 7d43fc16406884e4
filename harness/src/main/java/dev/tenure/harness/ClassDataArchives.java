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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Class-data sharing for child JVMs (JDK 17 dynamic AppCDS archives), kept in one directory: the first child JVM of a
 * kind dumps the classes it loaded into an archive when it exits ({@code -XX:ArchiveClassesAtExit}), and every later
 * child of that kind maps the archive ({@code -XX:SharedArchiveFile}) instead of reading, parsing and verifying those
 * classes again. Much of a short-lived JVM's start is that work: a short {@code verify} run of 8 JVMs took 22–24
 * CPU-seconds with archives against 28–32 without (docs/performance.md, "The suite's time").
 *
 * <p>A kind is a Java runtime, a class path made of files only (each with its size and modification time, so a
 * rebuilt jar is a new kind), the main class or {@code -jar}, and the subcommand if any (such as {@code node}; {@link
 * ChildJvm} passes the first program argument if it is a lower-case word, not an option or a path): children of one
 * kind load nearly the same classes, and each kind costs one dump (a few CPU-seconds). A class path with a directory
 * gets no archive, since the JDK dumps none for it ({@link #withDirectoriesJarred} replaces the directories with jars
 * first).
 *
 * <p>Failure behaviour: archives only make starts cheaper, never change what a child does. One child per kind at a
 * time holds the claim to dump (a file created atomically, so children of several parent processes sharing the
 * directory agree); the archive it writes counts only if it exited with 0 or after SIGTERM or SIGINT and the file is
 * not empty, and is renamed into place after its exit, so no child maps a half-written file. A dumping child that
 * was killed leaves no archive and gives the claim back; the next child of its kind dumps instead. An archive the JVM
 * refuses (another JDK build at the same path, say) is skipped by the JVM, which then loads the classes as without it.
 * The children's class-data-sharing log is off, so their output is the same either way. If the parent exits before a
 * dumping child, the claim stays and that kind runs without an archive.
 *
 * <p>Thread-safe: the state is the directory's files.
 */
final class ClassDataArchives {
    private static final Logger log = LoggerFactory.getLogger(ClassDataArchives.class);
    /** Exit codes of a clean exit: normal, and the JVM's after SIGINT and SIGTERM. */
    private static final Set<Integer> CLEAN_EXITS = Set.of(0, 130, 143);
    /** Keeps the JVM's class-data-sharing messages (warnings on archiving or mapping) out of the child's output. */
    static final String QUIET = "-Xlog:cds*=off";

    private final Path dir;

    ClassDataArchives(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** The directory holding the archives. */
    Path dir() {
        return dir;
    }

    /**
     * How to start one child JVM of the kind given: with the archive if it exists, as the child that dumps it if no
     * other child holds the claim, or as it is.
     *
     * @param classPath the child's class path; a directory among its entries (or a missing entry) means no archive
     * @param entryPoint the main class, or {@code -jar}
     * @param firstArgument the first program argument, empty if none
     */
    Launch launch(List<Path> classPath, String entryPoint, String firstArgument) {
        Optional<String> key = key(classPath, entryPoint, firstArgument);
        if (key.isEmpty()) {
            return Launch.AS_IS;
        }
        Path archive = dir.resolve(key.get() + ".jsa");
        if (Files.isRegularFile(archive)) {
            return new Launch(List.of(QUIET, "-XX:SharedArchiveFile=" + archive), exit -> {});
        }
        Path claim = dir.resolve(key.get() + ".claim");
        try {
            Files.createDirectories(dir);
            Files.createFile(claim);
        } catch (FileAlreadyExistsException e) {
            return Launch.AS_IS; // another child is dumping this kind's archive
        } catch (IOException e) {
            log.warn("no class-data archive for {}: {}", entryPoint, e.toString());
            return Launch.AS_IS;
        }
        Path part = dir.resolve(key.get() + "." + UUID.randomUUID() + ".part");
        return new Launch(
                List.of(QUIET, "-XX:ArchiveClassesAtExit=" + part), exit -> settle(exit, part, archive, claim));
    }

    /**
     * {@code classPath} with each directory replaced by a jar of its files, so that a child on a test class path (the
     * build's class directories first) can have an archive too. The jar of a directory is written once per content
     * (the files' names, sizes and modification times) under {@code jars/} here, and never replaced, so its size and
     * time, which name the kind, stay the same. A directory that cannot be read or jarred stays as it is (and that
     * class path gets no archive).
     */
    List<Path> withDirectoriesJarred(List<Path> classPath) {
        List<Path> jarred = new ArrayList<>();
        for (Path entry : classPath) {
            jarred.add(Files.isDirectory(entry) ? jarOf(entry).orElse(entry) : entry);
        }
        return jarred;
    }

    private Optional<Path> jarOf(Path directory) {
        try {
            List<Path> files;
            try (Stream<Path> walk = Files.walk(directory)) {
                files = walk.sorted().toList();
            }
            MessageDigest sha = sha256();
            for (Path file : files) {
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                String line = directory.relativize(file) + "\n" + attributes.size() + "\n"
                        + attributes.lastModifiedTime().toMillis() + "\n";
                sha.update(line.getBytes(StandardCharsets.UTF_8));
            }
            String name = directory.getFileName() + "-" + HexFormat.of().formatHex(sha.digest(), 0, 12) + ".jar";
            Path jar = dir.resolve("jars").resolve(name);
            if (Files.isRegularFile(jar)) {
                return Optional.of(jar);
            }
            Files.createDirectories(jar.getParent());
            Path part = jar.resolveSibling(name + "." + UUID.randomUUID() + ".part");
            try {
                try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(part))) {
                    for (Path file : files) {
                        if (file.equals(directory)) {
                            continue;
                        }
                        String entry = directory.relativize(file).toString().replace(File.separatorChar, '/');
                        boolean isDirectory = Files.isDirectory(file);
                        out.putNextEntry(new JarEntry(isDirectory ? entry + "/" : entry));
                        if (!isDirectory) {
                            Files.copy(file, out);
                        }
                        out.closeEntry();
                    }
                }
                Files.createLink(jar, part); // atomic, and never replaces a jar another child may already run on
            } catch (FileAlreadyExistsException e) {
                // Another process wrote the same content's jar first: that one stays.
            } finally {
                Files.deleteIfExists(part);
            }
            return Optional.of(jar);
        } catch (IOException | UncheckedIOException e) {
            log.warn("class directory {} stays a directory (no class-data archive): {}", directory, e.toString());
            return Optional.empty();
        }
    }

    /** After the dumping child's exit: its archive into place if it exited cleanly, else the claim given back. */
    private static void settle(int exit, Path part, Path archive, Path claim) {
        try {
            if (CLEAN_EXITS.contains(exit) && Files.isRegularFile(part) && Files.size(part) > 0) {
                Files.move(part, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                log.debug("class-data archive {} written", archive);
            } else {
                Files.deleteIfExists(part);
                Files.deleteIfExists(claim);
            }
        } catch (IOException e) {
            log.warn("class-data archive {}: {}", archive, e.toString());
        }
    }

    /**
     * The kind's name (hex of a SHA-256), or empty if the class path has an entry that is not a regular file. Covers
     * this JVM's runtime (children run this JVM's {@code java}), each entry's path, size and modification time, the
     * entry point and the first argument.
     */
    static Optional<String> key(List<Path> classPath, String entryPoint, String firstArgument) {
        Objects.requireNonNull(entryPoint, "entryPoint");
        Objects.requireNonNull(firstArgument, "firstArgument");
        if (classPath.isEmpty()) {
            return Optional.empty();
        }
        List<String> parts = new ArrayList<>();
        parts.add(Runtime.version().toString());
        parts.add(System.getProperty("java.home", ""));
        try {
            for (Path entry : classPath) {
                BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class);
                if (!attributes.isRegularFile()) {
                    return Optional.empty();
                }
                parts.add(entry.toAbsolutePath().toString());
                parts.add(Long.toString(attributes.size()));
                parts.add(Long.toString(attributes.lastModifiedTime().toMillis()));
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        parts.add(entryPoint);
        parts.add(firstArgument);
        byte[] digest = sha256().digest(String.join("\n", parts).getBytes(StandardCharsets.UTF_8));
        return Optional.of(HexFormat.of().formatHex(digest, 0, 12));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * JVM options for one start and what to do after the child's exit (given its exit code).
     *
     * @param options put right after the {@code java} executable
     * @param afterExit runs once the child has exited
     */
    record Launch(List<String> options, java.util.function.IntConsumer afterExit) {
        static final Launch AS_IS = new Launch(List.of(), exit -> {});
    }
}
