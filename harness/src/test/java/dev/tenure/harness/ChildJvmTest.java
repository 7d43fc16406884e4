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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Tag("slow")
class ChildJvmTest {
    @TempDir
    Path dir;

    /** A child's main: prints {@code READY <arg>}, then runs until it is signalled (or exits with the code given). */
    public static final class Child {
        public static void main(String[] args) throws InterruptedException {
            System.out.println("starting");
            System.out.println("READY " + args[0]);
            System.out.flush();
            if (args.length > 1) {
                System.exit(Integer.parseInt(args[1]));
            }
            Thread.sleep(Long.MAX_VALUE); // the child idles until the test signals it
        }
    }

    private ChildProcess.Builder child(String... args) throws IOException {
        return ChildJvm.builder("child")
                .jvmOptions(List.of("-Xmx32m", " "))
                .mainClass(Child.class.getName())
                .arguments(List.of(args))
                .process()
                .logFile(dir.resolve("logs").resolve("child.log"));
    }

    @Test
    void theInheritedOptionsAreTheEnvironmentVariablesWordsInOrderAndNoneWhenItIsUnsetOrBlank() {
        assertEquals(
                List.of("-XX:TieredStopAtLevel=1", "-Xss512k"),
                ChildJvm.inheritedOptions(
                        java.util.Map.of(ChildJvm.OPTIONS_VARIABLE, "  -XX:TieredStopAtLevel=1 \t -Xss512k ")));
        assertEquals(List.of(), ChildJvm.inheritedOptions(java.util.Map.of(ChildJvm.OPTIONS_VARIABLE, "  ")));
        assertEquals(List.of(), ChildJvm.inheritedOptions(java.util.Map.of()));
    }

    @Test
    void aChildJvmGetsThisJvmsClassPathWithAbsoluteEntries() throws Exception {
        String classPath = ChildJvm.childClassPath();
        for (String entry : classPath.split(java.io.File.pathSeparator, -1)) {
            assertTrue(Path.of(entry).isAbsolute(), entry);
        }
        assertTrue(classPath.contains("zookeeper"), "the servers' classes are on it: " + classPath);
        assertTrue(Files.isExecutable(Path.of(ChildJvm.javaExecutable())));
    }

    @Test
    @Timeout(60)
    void awaitReadyReturnsTheRestOfTheReadinessLineAndTheOutputGoesToTheLog() throws Exception {
        try (ChildProcess jvm = child("42").readyPrefix("READY ").start()) {
            assertEquals("42", jvm.awaitReady(Duration.ofSeconds(30)));
            assertTrue(jvm.isAlive());
            jvm.kill();
            assertFalse(jvm.isAlive());
            assertTrue(Files.readString(jvm.logFile()).contains("starting"));
        }
    }

    @Test
    @Timeout(60)
    void aChildThatExitsBeforeItIsReadyFailsTheWaitAndGivesItsExitCode() throws Exception {
        try (ChildProcess jvm = child("x", "3").readyPrefix("NEVER ").start()) {
            assertThrows(IOException.class, () -> jvm.awaitReady(Duration.ofSeconds(30)));
            assertEquals(3, jvm.awaitExit(Duration.ofSeconds(30)));
        }
    }

    @Test
    @Timeout(60)
    void closeStopsAPausedChildAndIsIdempotent() throws Exception {
        ChildProcess jvm = child("1").readyWhenOutputContains("READY").start();
        assertEquals("READY 1", jvm.awaitReady(Duration.ofSeconds(30)));
        jvm.pause();
        assertTrue(jvm.isPaused());
        jvm.resume();
        assertFalse(jvm.isPaused());
        jvm.pause();
        jvm.close(); // SIGCONT, SIGTERM
        assertFalse(jvm.isAlive());
        assertFalse(jvm.isPaused());
        jvm.close();
    }

    @Test
    @Timeout(60)
    void withoutAReadinessLineTheOutputIsAppendedToTheLogByTheProcessItself() throws Exception {
        Files.createDirectories(dir.resolve("logs"));
        Files.writeString(dir.resolve("logs").resolve("child.log"), "before\n");
        try (ChildProcess jvm = child("7", "0").stopGrace(Duration.ZERO).start()) {
            assertEquals("", jvm.awaitReady(Duration.ofSeconds(1)));
            assertEquals(0, jvm.awaitExit(Duration.ofSeconds(30)));
            assertEquals(List.of("before", "starting", "READY 7"), Files.readAllLines(jvm.logFile()));
        }
    }
}
