package dev.tenure.demo.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class NodeCommandTest {
    @TempDir
    Path dir;

    /** Runs {@code node} with valid required options plus {@code extra}; returns the exit code and stderr. */
    private String[] run(String... extra) {
        String[] base = {
            "--id", "r1",
            "--zk", "127.0.0.1:1",
            "--data-dir", dir.resolve("data").toString(),
            "--http", "127.0.0.1:0",
            "--repl", "127.0.0.1:0",
            "--replicas", "r1,r2,r3"
        };
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new NodeCommand()).execute(args);
        } finally {
            System.setErr(err);
        }
        return new String[] {String.valueOf(exit), captured.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void aRequestTimeoutBelowOneMillisecondIsABadArgumentAndNothingStarts() {
        String[] r = run("--request-timeout-ms", "0");

        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("--request-timeout-ms must be at least 1, was 0"), r[1]);
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    @Test
    void aBadAddressIsABadArgumentNamingTheFlag() {
        String[] r = run("--http-advertise", "no-port");

        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("--http-advertise must be HOST:PORT, was 'no-port'"), r[1]);
    }
}
