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
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ChildProcessTest {
    @TempDir
    Path dir;

    private ChildProcess.Builder shell(String script) {
        return ChildProcess.builder("sh", List.of("sh", "-c", script))
                .logFile(dir.resolve("logs").resolve("sh.log"));
    }

    @Test
    @Timeout(30)
    void awaitReadyReturnsTheRestOfTheReadinessLineTheOutputGoesToTheLogAndCloseStopsTheProcess() throws Exception {
        ChildProcess sh = shell("echo starting; echo 'READY 42'; exec sleep 60")
                .readyPrefix("READY ")
                .start();
        try (sh) {
            assertEquals("42", sh.awaitReady(Duration.ofSeconds(10)));
            assertTrue(sh.isAlive());
            assertTrue(Files.readString(sh.logFile()).contains("starting"));
        }
        assertFalse(sh.isAlive());
        sh.close();
    }

    @Test
    @Timeout(30)
    void theEnvironmentAndWorkingDirectoryAreTheBuildersAndWithoutAReadinessLineTheOutputIsAppended() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(dir.resolve("logs"));
        Files.writeString(dir.resolve("logs").resolve("sh.log"), "before\n");
        try (ChildProcess sh = shell("echo \"$TENURE_TEST_VALUE\"; pwd")
                .environment("TENURE_TEST_VALUE", "from the builder")
                .workingDirectory(work)
                .start()) {
            assertEquals("", sh.awaitReady(Duration.ofSeconds(1)));
            assertEquals(0, sh.awaitExit(Duration.ofSeconds(10)));
            assertEquals(
                    List.of("before", "from the builder", work.toRealPath().toString()),
                    Files.readAllLines(sh.logFile()));
        }
    }

    @Test
    @Timeout(30)
    void aProcessThatExitsBeforeItIsReadyFailsTheWaitAndGivesItsExitCode() throws Exception {
        try (ChildProcess sh = shell("exit 3").readyPrefix("NEVER ").start()) {
            assertThrows(IOException.class, () -> sh.awaitReady(Duration.ofSeconds(10)));
            assertEquals(3, sh.awaitExit(Duration.ofSeconds(10)));
            assertEquals(3, sh.exitValue());
        }
    }

    /**
     * What a process writes after SIGTERM (a shutdown hook's last words) reaches its log: the signal must not close
     * this side of the output pipe, as {@link Process#destroy()} does.
     */
    @Test
    @Timeout(30)
    void whatAProcessWritesAfterSigtermReachesItsLog() throws Exception {
        try (ChildProcess sh = shell(
                        "trap 'echo stopped by SIGTERM; exit 0' TERM; echo READY; while :; do sleep 0.05; done")
                .readyPrefix("READY")
                .start()) {
            sh.awaitReady(Duration.ofSeconds(10));
            sh.terminate();
            assertEquals(0, sh.awaitExit(Duration.ofSeconds(10)));
            assertTrue(
                    Files.readString(sh.logFile()).contains("stopped by SIGTERM"),
                    "the log: " + Files.readString(sh.logFile()));
        }
    }

    @Test
    @Timeout(60)
    void killWithDescendantsKillsTheProcessesItStartedToo() throws Exception {
        ChildProcess sh = shell("sleep 60 & echo \"CHILD $!\"; wait")
                .readyPrefix("CHILD ")
                .start();
        long child = Long.parseLong(sh.awaitReady(Duration.ofSeconds(10)));
        try (sh) {
            assertTrue(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "sleep runs");
            sh.killWithDescendants();
            assertFalse(sh.isAlive());
            assertTrue(ended(child), "the child of the child was killed too");
        } finally {
            ProcessHandle.of(child).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void anEmptyCommandIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ChildProcess.builder("nothing", List.of()));
        assertThrows(
                IllegalStateException.class,
                () -> ChildProcess.builder("no log", List.of("true")).start());
    }

    /**
     * Whether {@code pid} has ended: gone, or a zombie not yet reaped by its new parent (PID 1 after its parent
     * died), which {@link ProcessHandle#isAlive()} still counts as alive.
     */
    private static boolean ended(long pid) throws InterruptedException, IOException {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {
            return true;
        }
        try {
            handle.get().onExit().get(10, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
                return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
            } catch (NoSuchFileException gone) {
                return true;
            }
        }
    }
}
