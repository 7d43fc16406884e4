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
package dev.tenure.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line's conventions, on every command: {@code --version} and exit code 64 for bad arguments. */
class MainTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void versionPrintsTheBuildsVersionOnEveryCommandThatTakesIt() {
        String version = TenureVersion.version();
        assertFalse(version.isBlank() || version.equals("unknown") || version.contains("${"), version);
        for (List<String> command : List.of(
                List.of("--version"),
                List.of("node", "--version"),
                List.of("zk", "--version"),
                List.of("zk", "start", "--version"),
                List.of("verify", "--version"),
                List.of("tour", "--version"))) {
            Run r = run(command.toArray(String[]::new));
            assertEquals(0, r.code(), command + ": " + r.err());
            assertTrue(r.out().startsWith("Tenure " + version + "\n"), command + " printed: " + r.out());
        }
    }

    @Test
    void badArgumentsExit64OnEveryCommand() {
        for (List<String> command : List.of(
                List.of("--no-such-flag"),
                List.of("node", "--no-such-flag"),
                List.of("zk", "start", "--no-such-flag"),
                List.of("zk", "nope"),
                List.of("verify", "--no-such-flag"),
                List.of("tour", "--no-such-flag"),
                List.of("put", "--url", "http://127.0.0.1:1"),
                List.of("members", "--no-such-flag"))) {
            Run r = run(command.toArray(String[]::new));
            assertEquals(Main.EXIT_USAGE, r.code(), command + ": " + r.err());
            assertFalse(r.err().isBlank(), command + " said nothing about the mistake");
        }
    }
}
