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
package dev.tenure.demo.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tenure.demo.client.StubReplica.Reply;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class ClientCommandsTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final FakeTime time = new FakeTime();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private FakeLeader kv;
    private StubReplica leader;
    private StubReplica follower;

    @BeforeEach
    void startReplicas() {
        kv = new FakeLeader();
        leader = stub(kv);
        follower = stub(kv.follower(leader.url()));
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private StubReplica stub(StubReplica.Responder responder) {
        StubReplica s = StubReplica.start(responder);
        closeables.add(s);
        return s;
    }

    /** Runs the command line on captured streams, with a fake clock so retries do not really wait. */
    private int run(String... args) {
        ClientEnvironment env = new ClientEnvironment(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                time::client);
        return ClientCommands.run(env, args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private String url(StubReplica s) {
        return s.url().toString();
    }

    // ---- results and exit 0 ----

    @Test
    void putPrintsTheCommitAndExitsZero() {
        int code = run("put", "--url", url(follower), "greeting", "hello wörld");

        assertEquals(0, code, err());
        assertEquals("committed at epoch 3 offset 1" + System.lineSeparator(), out());
        assertEquals("", err());
        assertArrayEquals("hello wörld".getBytes(StandardCharsets.UTF_8), kv.value("greeting"));
    }

    @Test
    void putReadsTheValueFromAFileByteForByte(@TempDir Path dir) throws Exception {
        byte[] bytes = {1, 2, (byte) 0xFE, 0, '\n'};
        Path file = Files.write(dir.resolve("v.bin"), bytes);

        int code = run("put", "--url", url(follower), "--value-file", file.toString(), "blob");

        assertEquals(0, code, err());
        assertArrayEquals(bytes, kv.value("blob"));
    }

    @Test
    void getWritesTheRawValueToStdout() {
        byte[] bytes = {'a', 0, (byte) 0xFF, '\n'};
        kv.values.put("k/1", bytes);

        int code = run("get", "--url", url(follower), "k/1");

        assertEquals(0, code, err());
        assertArrayEquals(bytes, out.toByteArray());
        assertEquals("/kv/k%2F1", leader.requests().get(0).rawPath());
    }

    @Test
    void getLocalReadsFromTheReplicaAtUrl() {
        kv.values.put("k", "v".getBytes(StandardCharsets.UTF_8));

        int code = run("get", "--url", url(follower), "--local", "k");

        assertEquals(0, code, err());
        assertEquals("v", out());
        assertEquals("consistency=local", follower.requests().get(0).rawQuery());
        assertTrue(leader.requests().isEmpty());
    }

    @Test
    void deletePrintsTheCommit() {
        kv.values.put("k", new byte[] {1});

        int code = run("delete", "--url", url(follower), "k");

        assertEquals(0, code, err());
        assertEquals("committed at epoch 3 offset 1" + System.lineSeparator(), out());
        assertNull(kv.value("k"));
    }

    @Test
    void casPrintsTheCommitWhenTheExpectationHolds() {
        kv.values.put("k", "old".getBytes(StandardCharsets.UTF_8));

        int code = run("cas", "--url", url(follower), "k", "--expect", "old", "--update", "new");

        assertEquals(0, code, err());
        assertEquals("committed at epoch 3 offset 1" + System.lineSeparator(), out());
        assertEquals("new", new String(kv.value("k"), StandardCharsets.UTF_8));
    }

    @Test
    void casExpectAbsentCreatesAMissingKey() throws Exception {
        int code = run("cas", "--url", url(leader), "new-key", "--expect-absent", "--update", "v");

        assertEquals(0, code, err());
        assertTrue(FakeLeader.JSON
                .readTree(leader.requests().get(0).body())
                .get("expect")
                .isNull());
    }

    @Test
    void statusPrettyPrintsTheJson() throws Exception {
        int code = run("status", "--url", url(follower));

        assertEquals(0, code, err());
        assertTrue(out().contains("\"role\" : \"follower\""), out());
        assertTrue(out().lines().count() > 10, out());
        JsonNode printed = FakeLeader.JSON.readTree(out());
        assertEquals(FakeLeader.JSON.readTree(FakeLeader.statusJson("follower")), printed);
    }

    // ---- exit 1: definitely not applied ----

    @Test
    void getOfAMissingKeyExitsOneWithNothingOnStdout() {
        int code = run("get", "--url", url(follower), "nope");

        assertEquals(1, code);
        assertEquals("", out());
        assertTrue(err().startsWith("not found: not_found [HTTP 404 from " + leader.url()), err());
    }

    @Test
    void casMismatchExitsOneAndPrintsTheCurrentValue() {
        kv.values.put("k", "actual\nvalue".getBytes(StandardCharsets.UTF_8));

        int code = run("cas", "--url", url(follower), "k", "--expect", "guess", "--update", "new");

        assertEquals(1, code);
        assertEquals("cas failed: current value \"actual\\nvalue\"" + System.lineSeparator(), out());
        assertEquals("actual\nvalue", new String(kv.value("k"), StandardCharsets.UTF_8));
    }

    @Test
    void casMismatchOnAValueThatIsNotUtf8PrintsItInBase64() {
        kv.values.put("k", new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF});

        int code = run("cas", "--url", url(follower), "k", "--expect", "guess", "--update", "new");

        assertEquals(1, code);
        assertEquals("cas failed: current value is not UTF-8 text; base64 wyj/" + System.lineSeparator(), out());
    }

    @Test
    void casExpectAbsentOnAPresentKeyExitsOne() {
        kv.values.put("k", "x".getBytes(StandardCharsets.UTF_8));

        int code = run("cas", "--url", url(follower), "k", "--expect-absent", "--update", "new");

        assertEquals(1, code);
        assertEquals("cas failed: current value \"x\"" + System.lineSeparator(), out());
    }

    @Test
    void casOnAnAbsentKeyExitsOneAndSaysSo() {
        int code = run("cas", "--url", url(follower), "k", "--expect", "x", "--update", "new");

        assertEquals(1, code);
        assertEquals("cas failed: the key is absent" + System.lineSeparator(), out());
    }

    @Test
    void noLeaderIsRetriedThenExitsOne() {
        StubReplica s = stub(r ->
                Reply.json(503, "{\"error\":\"no_leader\",\"applied\":false}").header("Retry-After", "1"));

        int code = run("put", "--url", url(s), "k", "v");

        assertEquals(1, code);
        assertEquals(6, s.requests().size());
        assertEquals(KvClient.RETRY_BUDGET, time.slept());
        assertTrue(err().startsWith("not applied: no_leader [HTTP 503 from "), err());
    }

    @Test
    void aRefusedConnectionForAWriteExitsOne() throws Exception {
        int code = run("put", "--url", KvClientTest.refusingUrl().toString(), "k", "v");

        assertEquals(1, code);
        assertTrue(err().startsWith("not applied: could not connect"), err());
    }

    // ---- exit 2: unknown ----

    @Test
    void a503WithoutAppliedFalseExitsTwo() {
        StubReplica s = stub(r -> Reply.json(503, "{\"error\":\"overloaded\"}").header("Retry-After", "1"));

        int code = run("put", "--url", url(s), "k", "v");

        assertEquals(2, code);
        assertEquals(1, s.requests().size());
        assertTrue(err().startsWith("outcome unknown: overloaded [HTTP 503 from "), err());
        assertTrue(err().contains("may or may not have been applied"), err());
    }

    @Test
    void aTokenFileIsSentAsABearerTokenWithWritesAndAdminRequestsButNotWithReads(@TempDir Path dir) throws Exception {
        StubReplica s = stub(r -> Reply.json(200, "{\"epoch\":1,\"offset\":1}"));
        Path token = Files.writeString(dir.resolve("token"), "s3cret\n");

        assertEquals(0, run("put", "--url", url(s), "--token-file", token.toString(), "k", "v"), err());
        run("snapshot", "--url", url(s), "--token-file", token.toString());
        run("get", "--url", url(s), "--token-file", token.toString(), "k");

        List<StubReplica.Request> seen = s.requests();
        assertEquals("Bearer s3cret", seen.get(0).authorization(), "PUT");
        assertEquals("POST", seen.get(1).method());
        assertEquals("Bearer s3cret", seen.get(1).authorization(), "POST /admin/snapshot");
        assertEquals("application/json", seen.get(1).contentType(), "every POST is JSON");
        assertEquals("GET", seen.get(2).method());
        assertNull(seen.get(2).authorization(), "reads carry no token");
    }

    @Test
    void anEmptyTokenFileIsABadArgument(@TempDir Path dir) throws Exception {
        StubReplica s = stub(r -> Reply.json(200, "{\"epoch\":1,\"offset\":1}"));
        Path token = Files.writeString(dir.resolve("token"), " \n");

        assertEquals(64, run("put", "--url", url(s), "--token-file", token.toString(), "k", "v"));
        assertTrue(s.requests().isEmpty());
    }

    @Test
    void a500ExitsTwo() {
        StubReplica s = stub(r -> Reply.json(500, "{\"error\":\"internal\"}"));

        assertEquals(2, run("delete", "--url", url(s), "k"));
        assertEquals(1, s.requests().size());
    }

    @Test
    void aServerThatNeverAnswersTimesOutAndExitsTwo() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int code = run(
                    "cas",
                    "--url",
                    "http://127.0.0.1:" + silent.getLocalPort(),
                    "--timeout-ms",
                    "200",
                    "k",
                    "--expect",
                    "a",
                    "--update",
                    "b");

            assertEquals(2, code);
            assertTrue(err().startsWith("outcome unknown: no answer in time"), err());
        }
    }

    // ---- exit 64: usage ----

    static Stream<Arguments> badArguments() {
        String u = "http://127.0.0.1:9"; // never contacted
        return Stream.of(
                Arguments.of((Object) new String[] {}),
                Arguments.of((Object) new String[] {"frobnicate", "--url", u}),
                Arguments.of((Object) new String[] {"put", "k", "v"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "k"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "k", "v", "--value-file", "/etc/hostname"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "k", "--value-file", "/no/such/file"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "k", "v", "extra"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "", "v"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "x".repeat(1025), "v"}),
                Arguments.of((Object) new String[] {"put", "--url", "ftp://127.0.0.1:9", "k", "v"}),
                Arguments.of((Object) new String[] {"put", "--url", "not a url", "k", "v"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "--timeout-ms", "0", "k", "v"}),
                Arguments.of((Object) new String[] {"put", "--url", u, "--timeout-ms", "soon", "k", "v"}),
                Arguments.of((Object) new String[] {"get", "--url", u}),
                Arguments.of((Object) new String[] {"get", "--url", u, "--bogus", "k"}),
                Arguments.of((Object) new String[] {"delete", "--url", u}),
                Arguments.of((Object) new String[] {"cas", "--url", u, "k", "--update", "v"}),
                Arguments.of((Object)
                        new String[] {"cas", "--url", u, "k", "--expect", "a", "--expect-absent", "--update", "v"}),
                Arguments.of((Object) new String[] {"cas", "--url", u, "k", "--expect", "a"}),
                Arguments.of((Object) new String[] {"status"}),
                Arguments.of((Object) new String[] {"status", "--url", u, "extra"}));
    }

    @ParameterizedTest
    @MethodSource("badArguments")
    void badArgumentsExitSixtyFourAndSendNothing(String[] args) {
        int code = run(args);

        assertEquals(64, code, () -> String.join(" ", args) + "\n" + err());
        assertTrue(err().length() > 0);
        assertTrue(time.sleeps().isEmpty());
    }

    @Test
    void helpDocumentsTheExitCodes() {
        for (String command : List.of("put", "get", "delete", "cas", "status")) {
            out.reset();

            assertEquals(0, run(command, "--help"));

            assertTrue(out().contains("Exit codes:"), out());
            assertTrue(out().contains("  64  usage error"), out());
            assertTrue(out().contains("  2   outcome unknown"), out());
        }
    }

    @Command(name = "main")
    static final class ForeignMain implements Runnable {
        @Override
        public void run() {}
    }

    @Test
    void theCommandsKeepTheirExitCodesUnderAnotherParent() {
        CommandLine main = new CommandLine(new ForeignMain());
        ClientCommands.COMMANDS.forEach(main::addSubcommand);
        main.setErr(new PrintWriter(new StringWriter()));

        assertEquals(64, main.execute("put", "k", "v"));
        assertEquals(64, main.execute("cas", "--url", "http://127.0.0.1:9", "k", "--update", "v"));
        assertEquals(64, main.execute("get", "--url", "http://127.0.0.1:9", "x".repeat(1025)));
    }

    @Test
    void runUsesTheRealEnvironmentByDefault() {
        PrintStream savedErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertEquals(64, ClientCommands.run("get"));
        } finally {
            System.setErr(savedErr);
        }
        assertTrue(captured.toString(StandardCharsets.UTF_8).contains("--url"));
    }

    @Test
    void urlIsRequiredToBeAbsolute() {
        assertEquals(64, run("status", "--url", URI.create("/relative").toString()));
    }
}
