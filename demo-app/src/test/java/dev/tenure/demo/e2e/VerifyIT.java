package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.testkit.ChildJvms;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar demo-app.jar verify} as users run it: the CI profile injects every fault kind and finds the
 * history valid; the unsafe mode (acknowledging after the leader's own append) is caught; a run stopped with
 * SIGTERM stops every process it started. Each run prints its seed first; on failure its output is in the
 * assertion message. Processes are found through the run's pid list ({@code pids.txt}).
 */
class VerifyIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> RUNS = List.of("ci", "unsafe", "interrupted");

    @TempDir
    Path dir;

    private record Run(int exit, List<String> lines) {
        JsonNode result() throws IOException {
            for (String line : lines) {
                if (line.startsWith("RESULT ")) {
                    return JSON.readTree(line.substring("RESULT ".length()));
                }
            }
            throw new AssertionError("no RESULT line:\n" + this);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n" + String.join("\n", lines);
        }
    }

    private Process start(Path work, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                EmbeddedDemoIT.javaBin(),
                "-Xmx512m",
                "-jar",
                System.getProperty("demo.jar"),
                "verify",
                "--dir",
                work.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** SIGTERM first, so the harness's shutdown hook stops its processes; SIGKILL if it does not exit in 60 s. */
    private static void stop(Process p) throws IOException, InterruptedException {
        if (p.isAlive()) {
            ChildJvms.stop(List.of(p.toHandle()), Duration.ofSeconds(60));
        }
    }

    private Run run(Path work, long timeoutSeconds, String... args) throws Exception {
        Process p = start(work, args);
        List<String> lines = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                stop(p);
                synchronized (lines) {
                    throw new AssertionError(
                            "verify did not finish within " + timeoutSeconds + " s:\n" + String.join("\n", lines));
                }
            }
        } finally {
            stop(p);
        }
        reader.join(10_000);
        synchronized (lines) {
            return new Run(p.exitValue(), List.copyOf(lines));
        }
    }

    /**
     * The processes the run in {@code work} started (its pid list, which must exist: a run without one would make
     * every check of this kind pass) that are still alive.
     */
    private static List<ProcessHandle> aliveProcessesOf(Path work) throws IOException {
        Path pids = work.resolve("pids.txt");
        assertTrue(Files.exists(pids), "the run wrote no pid list: " + pids);
        return Files.readAllLines(pids).stream()
                .map(line ->
                        Long.parseLong(line.substring(line.indexOf(' ') + 1).trim()))
                .map(ProcessHandle::of)
                .flatMap(Optional::stream)
                .filter(ProcessHandle::isAlive)
                .toList();
    }

    /** Whatever a failed test left behind is stopped by its pid, so one failure does not leak into the next. */
    @AfterEach
    void stopLeftovers() throws IOException {
        for (String run : RUNS) {
            if (Files.exists(dir.resolve(run).resolve("pids.txt"))) {
                aliveProcessesOf(dir.resolve(run)).forEach(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    @Timeout(600)
    void theCiProfileInjectsEveryFaultKindAndTheHistoryIsValid() throws Exception {
        Path work = dir.resolve("ci");
        Run run = run(work, 540, "--seed", "20261126");
        System.out.println(run);
        assertEquals(0, run.exit(), run.toString());
        JsonNode result = run.result();
        assertEquals("VALID", result.get("verdict").asText(), run.toString());
        assertEquals(8, result.get("faults").size());
        result.get("faults")
                .fields()
                .forEachRemaining(f -> assertTrue(f.getValue().asInt() >= 1, f.getKey() + " was not injected"));
        assertTrue(result.get("operations").asInt() > 1000, "a real workload ran: " + result);
        assertTrue(Files.size(work.resolve("history.jsonl")) > 0);
        assertTrue(Files.readAllLines(work.resolve("pids.txt")).size() >= 6, "the pid list names every process");
        assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
    }

    @Test
    @Timeout(300)
    void acknowledgingAfterTheLeadersOwnAppendIsCaught() throws Exception {
        Path work = dir.resolve("unsafe");
        Run run = run(
                work,
                240,
                "--seed",
                "11",
                "--faults",
                "isolate-replica",
                "--target",
                "leader",
                "--unsafe-commit-on-local-append");
        System.out.println(run);
        assertEquals(1, run.exit(), run.toString());
        JsonNode result = run.result();
        assertEquals("INVALID", result.get("verdict").asText());
        int found = result.get("linearizabilityViolations").asInt()
                + result.get("lostWrites").asInt()
                + result.get("positionViolations").asInt();
        assertTrue(found > 0, run.toString());
        assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
    }

    @Test
    @Timeout(300)
    void aRunStoppedWithSigtermStopsEveryProcessItStarted() throws Exception {
        Path work = dir.resolve("interrupted");
        Process p = start(work, "--seed", "5", "--faults", "pause-leader", "--target", "leader");
        List<String> seen = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                seen.add(line);
                if (line.contains("fault 1:")) { // the leader is SIGSTOPped now: the hardest moment to clean up
                    break;
                }
            }
            assertEquals(6, aliveProcessesOf(work).size(), "3 replicas and 3 ZooKeeper servers run: " + seen);
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "verify exits after SIGTERM");
        } finally {
            stop(p);
        }
        assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped: " + seen);
    }
}
