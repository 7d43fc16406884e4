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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.demo.client.StubReplica.Reply;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code members show|add|remove|replace|cancel --url URL} against a stub replica on 127.0.0.1: what it sends, what it
 * prints, and its exit code — the change is active (0), certainly not done (1), or unknown (2).
 */
class MembersCommandTest {
    private static final String ABD = "{\"version\":3,\"voters\":[\"r1\",\"r2\",\"r4\"],\"previousVoters\":[],"
            + "\"learners\":[],\"changeInProgress\":false}";

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final FakeTime time = new FakeTime();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

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

    @Test
    void replaceSendsBothIdsAndTheCatchUpTimeoutAndPrintsTheActiveConfiguration() {
        StubReplica s = stub(r -> Reply.json(200, ABD));

        int code = run(
                "members",
                "replace",
                "r3",
                "r4",
                "--catch-up-ms",
                "9000",
                "--url",
                s.url().toString());

        assertEquals(0, code, err());
        assertEquals("version 3: voters r1, r2, r4\n", out());
        assertEquals(1, s.requests().size());
        assertEquals("POST", s.requests().get(0).method());
        assertEquals(
                "/admin/members/replace?old=r3&new=r4&timeout_ms=9000",
                s.requests().get(0).pathAndQuery());
    }

    @Test
    void showPrintsAChangeInProgressAndItsLearners() {
        StubReplica s = stub(r -> Reply.json(
                200,
                "{\"version\":2,\"voters\":[\"r1\",\"r2\",\"r4\"],\"previousVoters\":[\"r1\",\"r2\",\"r3\"],"
                        + "\"learners\":[\"r5\"],\"changeInProgress\":true}"));

        assertEquals(0, run("members", "show", "--url", s.url().toString()), err());
        assertEquals("version 2: voters r1, r2, r4 (changing from r1, r2, r3); learners r5\n", out());
        assertEquals("GET", s.requests().get(0).method());
        assertEquals("/admin/members", s.requests().get(0).pathAndQuery());
    }

    @Test
    void aStalledChangeExitsOneAndSaysWhy() {
        StubReplica s = stub(r -> Reply.json(
                409, "{\"error\":\"stalled\",\"detail\":\"learner r4 has not caught up\",\"applied\":false}"));

        assertEquals(1, run("members", "add", "r4", "--url", s.url().toString()));
        assertTrue(err().startsWith("not done: stalled"), err());
        assertTrue(err().contains("learner r4 has not caught up"), err());
        assertEquals(1, s.requests().size(), "never retried");
    }

    @Test
    void aTimeoutAnswerExitsTwoSinceTheChangeMayStillComplete() {
        StubReplica s = stub(r -> Reply.json(503, "{\"error\":\"timeout\"}"));

        assertEquals(2, run("members", "remove", "r3", "--url", s.url().toString()));
        assertTrue(err().startsWith("outcome unknown: timeout"), err());
        assertTrue(err().contains("members show"), err());
    }

    @Test
    void wrongArgumentsAreUsageErrorsAndSendNothing() {
        StubReplica s = stub(r -> Reply.json(200, ABD));

        assertEquals(64, run("members", "replace", "r3", "--url", s.url().toString()));
        assertEquals(64, run("members", "grow", "--url", s.url().toString()));
        assertEquals(64, run("members", "add", "--url", s.url().toString()));
        assertEquals(
                64,
                run(
                        "members",
                        "add",
                        "r4",
                        "--catch-up-ms",
                        "0",
                        "--url",
                        s.url().toString()));
        assertEquals(0, s.requests().size());
    }

    @Test
    void helpDocumentsTheExitCodes() {
        assertEquals(0, run("members", "--help"));

        assertTrue(out().contains("  0   shown, or the change is active"), out());
        assertTrue(out().contains("  1   not done"), out());
        assertTrue(out().contains("  2   unknown"), out());
    }
}
