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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Class-data archives for child JVMs, with real JVMs on a real jar. */
@Tag("slow")
class ClassDataArchivesTest {
    private static final String CHILD = ChildJvmTest.Child.class.getName();

    @TempDir
    Path dir;

    private Path jar;
    private ClassDataArchives archives;

    /** A jar holding only the test's child main (executable: {@code java -jar child.jar ARG [EXIT]}). */
    @BeforeEach
    void jar() throws IOException {
        jar = dir.resolve("child.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, CHILD);
        String entry = CHILD.replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(jar);
                JarOutputStream out = new JarOutputStream(file, manifest);
                InputStream in = getClass().getClassLoader().getResourceAsStream(entry)) {
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
        }
        archives = new ClassDataArchives(dir.resolve("archives"));
    }

    private ChildProcess.Builder child(List<String> jvmOptions, String... args) throws IOException {
        return ChildJvm.builder("child")
                .jvmOptions(jvmOptions)
                .jar(jar)
                .arguments(List.of(args))
                .process()
                .logFile(dir.resolve("child.log"))
                .launch(() -> archives.launch(List.of(jar), "-jar", args[0]));
    }

    private List<String> files() throws IOException {
        if (!Files.isDirectory(archives.dir())) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(archives.dir())) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    /** Waits (at most 30 s) for what a child's exit settles in the background. */
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "within 30 s: " + what);
            Thread.sleep(20); // polling a condition with a deadline
        }
    }

    private boolean archiveWritten() {
        try {
            return files().stream().anyMatch(f -> f.endsWith(".jsa"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Timeout(120)
    void theFirstChildOfAKindDumpsTheArchiveAtItsExitAndTheNextMapsItsClassesFromIt() throws Exception {
        try (ChildProcess first = child(List.of(), "a", "0").start()) {
            assertEquals(0, first.awaitExit(Duration.ofSeconds(60)));
        }
        await(this::archiveWritten, "the archive is in place");
        assertTrue(files().stream().noneMatch(f -> f.endsWith(".part")), files().toString());

        // The same kind (same jar, same first argument; the exit code differs). -Xshare:on: the JVM refuses to start if
        // it cannot map the archive; the class log names where each class came from.
        Files.deleteIfExists(dir.resolve("child.log"));
        try (ChildProcess second =
                child(List.of("-Xshare:on", "-Xlog:class+load=info"), "a", "1").start()) {
            assertEquals(1, second.awaitExit(Duration.ofSeconds(60)));
        }
        List<String> lines = Files.readAllLines(dir.resolve("child.log"));
        assertTrue(
                lines.stream().anyMatch(l -> l.contains(CHILD) && l.contains("shared objects file (top)")),
                "the child's main class came from the archive:\n" + String.join("\n", lines));
        assertTrue(lines.contains("READY a"), lines.toString());
    }

    @Test
    @Timeout(120)
    void aDumpingChildThatIsKilledLeavesNoArchiveAndGivesTheClaimToTheNextChild() throws Exception {
        try (ChildProcess first = child(List.of(), "a").readyPrefix("READY ").start()) {
            first.awaitReady(Duration.ofSeconds(60));
            assertTrue(files().stream().anyMatch(f -> f.endsWith(".claim")), files().toString());
            first.kill();
        }
        await(
                () -> {
                    try {
                        return files().isEmpty();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                },
                "the claim is given back and nothing is left");
        ClassDataArchives.Launch next = archives.launch(List.of(jar), "-jar", "a");
        assertTrue(next.options().stream().anyMatch(o -> o.startsWith("-XX:ArchiveClassesAtExit=")), next.toString());
    }

    @Test
    void whileOneChildDumpsTheNextOfItsKindStartsAsItIsAndAnotherKindDumpsItsOwn() throws Exception {
        ClassDataArchives.Launch first = archives.launch(List.of(jar), "-jar", "node");
        ClassDataArchives.Launch second = archives.launch(List.of(jar), "-jar", "node");
        ClassDataArchives.Launch otherKind = archives.launch(List.of(jar), "-jar", "verify");
        assertTrue(first.options().stream().anyMatch(o -> o.startsWith("-XX:ArchiveClassesAtExit=")));
        assertEquals(List.of(), second.options());
        assertTrue(otherKind.options().stream().anyMatch(o -> o.startsWith("-XX:ArchiveClassesAtExit=")));
    }

    @Test
    @Timeout(120)
    void anArchiveTheJvmCannotUseIsSkippedAndTheChildRunsAndPrintsAsWithout() throws Exception {
        String key = ClassDataArchives.key(List.of(jar), "-jar", "a").orElseThrow();
        Files.createDirectories(archives.dir());
        Files.writeString(archives.dir().resolve(key + ".jsa"), "not an archive");
        ClassDataArchives.Launch launch = archives.launch(List.of(jar), "-jar", "a");
        assertTrue(launch.options().stream().anyMatch(o -> o.startsWith("-XX:SharedArchiveFile=")), launch.toString());
        try (ChildProcess child = child(List.of(), "a", "0").start()) {
            assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
        }
        assertEquals(List.of("starting", "READY a"), Files.readAllLines(dir.resolve("child.log")));
    }

    @Test
    void aClassPathWithADirectoryOrAMissingEntryHasNoKindAndARebuiltJarIsANewKind() throws Exception {
        assertTrue(ClassDataArchives.key(List.of(jar, dir), "-jar", "").isEmpty());
        assertTrue(ClassDataArchives.key(List.of(dir.resolve("missing.jar")), "-jar", "")
                .isEmpty());
        assertTrue(ClassDataArchives.key(List.of(), "Main", "").isEmpty());
        assertEquals(ClassDataArchives.Launch.AS_IS, archives.launch(List.of(jar, dir), "-jar", ""));
        String before = ClassDataArchives.key(List.of(jar), "-jar", "").orElseThrow();
        assertEquals(before, ClassDataArchives.key(List.of(jar), "-jar", "").orElseThrow());
        assertNotEquals(before, ClassDataArchives.key(List.of(jar), "Main", "").orElseThrow());
        assertNotEquals(
                before, ClassDataArchives.key(List.of(jar), "-jar", "node").orElseThrow());
        Files.setLastModifiedTime(
                jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 1_000));
        assertNotEquals(before, ClassDataArchives.key(List.of(jar), "-jar", "").orElseThrow());
    }

    @Test
    @Timeout(120)
    void aClassDirectoryIsJarredOncePerContentAndAChildOnTheJarredClassPathGetsAnArchiveToo() throws Exception {
        Path classes = dir.resolve("classes");
        String entry = CHILD.replace('.', '/') + ".class";
        Files.createDirectories(classes.resolve(entry).getParent());
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(entry)) {
            Files.copy(in, classes.resolve(entry));
        }
        List<Path> jarred = archives.withDirectoriesJarred(List.of(classes, jar));
        assertEquals(jar, jarred.get(1), "a jar stays as it is");
        Path classesJar = jarred.get(0);
        assertTrue(Files.isRegularFile(classesJar) && classesJar.startsWith(archives.dir()), jarred.toString());
        FileTime written = Files.getLastModifiedTime(classesJar);
        assertEquals(jarred, archives.withDirectoriesJarred(List.of(classes, jar)), "the same content, the same jar");
        assertEquals(written, Files.getLastModifiedTime(classesJar), "and it is not written again");

        List<Path> classPath = List.of(classesJar);
        for (int start = 0; start < 2; start++) {
            List<String> options = start == 0 ? List.of() : List.of("-Xshare:on", "-Xlog:class+load=info");
            Files.deleteIfExists(dir.resolve("child.log"));
            try (ChildProcess child = ChildJvm.builder("child")
                    .jvmOptions(options)
                    .mainClass(CHILD)
                    .arguments(List.of("a", "0"))
                    .process()
                    .environment("CLASSPATH", classesJar.toString())
                    .logFile(dir.resolve("child.log"))
                    .launch(() -> archives.launch(classPath, CHILD, "a"))
                    .start()) {
                assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
            }
            await(this::archiveWritten, "the archive is in place");
        }
        List<String> lines = Files.readAllLines(dir.resolve("child.log"));
        assertTrue(
                lines.stream().anyMatch(l -> l.contains(CHILD) && l.contains("shared objects file (top)")),
                "the child's main class came from the archive:\n" + String.join("\n", lines));

        Files.setLastModifiedTime(
                classes.resolve(entry),
                FileTime.fromMillis(
                        Files.getLastModifiedTime(classes.resolve(entry)).toMillis() + 1_000));
        assertNotEquals(
                classesJar, archives.withDirectoriesJarred(List.of(classes)).get(0), "new content, new jar");
    }

    @Test
    void theDirectoryComesFromTheEnvironmentVariableAndNoneIsUsedWhenItIsUnsetOrBlank() {
        assertEquals(
                Path.of("/tmp/a").toAbsolutePath(),
                ChildJvm.archives(Map.of(ChildJvm.ARCHIVES_VARIABLE, " /tmp/a "))
                        .orElseThrow()
                        .dir());
        assertFalse(ChildJvm.archives(Map.of(ChildJvm.ARCHIVES_VARIABLE, " ")).isPresent());
        assertFalse(ChildJvm.archives(Map.of()).isPresent());
    }
}
