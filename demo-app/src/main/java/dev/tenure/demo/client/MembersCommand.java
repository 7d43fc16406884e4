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

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code members show|add ID|remove ID|replace OLD NEW|cancel --url URL}: shows or changes the replica set
 * (docs/demo-app.md, "Replace a dead replica").
 */
@Command(
        name = "members",
        description =
                "Show or change the replica set: show, add ID, remove ID, replace OLD NEW, cancel. A change is sent"
                        + " to the leader (a follower at --url redirects) and waits until it is active: a new replica is first"
                        + " added as a learner, so start it once the command says so (or once `members show` lists it), and"
                        + " it becomes a voter when it has caught up. Raise --timeout-ms above --catch-up-ms plus a minute.",
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = MembersCommand.EXIT_CODES_FOOTER)
public final class MembersCommand extends ClientCommand {
    static final String EXIT_CODES_FOOTER = "  0   shown, or the change is active (the configuration is printed)%n"
            + "  1   not done: refused (bad id, another change in progress), stalled (the new%n"
            + "      replica did not catch up: it stays a learner; run members cancel), no%n"
            + "      leader, or could not connect; the voters are unchanged%n"
            + "  2   unknown: no answer in time or an unexpected answer; the change may%n"
            + "      still complete (check with members show)%n"
            + "  64  usage error: bad arguments";

    @Parameters(index = "0", paramLabel = "ACTION", description = "show, add, remove, replace or cancel")
    String action;

    @Parameters(index = "1..*", arity = "0..2", paramLabel = "ID", description = "the replica id(s) the action needs")
    List<String> ids = new ArrayList<>();

    @Option(
            names = "--catch-up-ms",
            paramLabel = "MS",
            description = "add, replace: how long the new replica may take to catch up as a learner (default:"
                    + " ${DEFAULT-VALUE})")
    long catchUpMs = 60_000;

    @Override
    int execute(KvClient client) {
        int needed = switch (action) {
            case "show", "cancel" -> 0;
            case "add", "remove" -> 1;
            case "replace" -> 2;
            default -> throw usage("unknown action " + action + "; one of show, add, remove, replace, cancel");
        };
        if (ids.size() != needed) {
            throw usage(action + " takes " + needed + " replica id(s), got " + ids.size());
        }
        if (catchUpMs < 1) {
            throw usage("--catch-up-ms must be positive, got " + catchUpMs);
        }
        Outcome outcome = switch (action) {
            case "show" -> client.members();
            case "cancel" -> client.changeMembers("cancel", "");
            case "add", "remove" -> client.changeMembers(action, "id=" + enc(ids.get(0)) + timeoutQuery());
            default ->
                client.changeMembers("replace", "old=" + enc(ids.get(0)) + "&new=" + enc(ids.get(1)) + timeoutQuery());
        };
        if (outcome.kind() != Outcome.Kind.OK) {
            return ClientCommands.reportNotOk(
                    env.err(), outcome, "the change may still complete, check with members show");
        }
        try {
            env.out().println(describe(JSON.readTree(outcome.value().orElse(new byte[0]))));
        } catch (IOException e) {
            env.err().println("outcome unknown: the answer is not a configuration: " + e.getMessage());
            env.err().flush();
            return ClientCommands.EXIT_UNKNOWN;
        }
        env.out().flush();
        return ClientCommands.EXIT_OK;
    }

    private String timeoutQuery() {
        return action.equals("remove") ? "" : "&timeout_ms=" + catchUpMs;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** {@code version 3: voters r1, r2, r4 (changing from r1, r2, r3); learners r5} */
    static String describe(JsonNode c) {
        StringBuilder b =
                new StringBuilder("version ").append(c.path("version").asLong()).append(": voters ");
        b.append(join(c.path("voters")));
        if (c.path("previousVoters").size() > 0) {
            b.append(" (changing from ").append(join(c.path("previousVoters"))).append(')');
        }
        if (c.path("learners").size() > 0) {
            b.append("; learners ").append(join(c.path("learners")));
        }
        return b.toString();
    }

    private static String join(JsonNode ids) {
        List<String> list = new ArrayList<>();
        ids.forEach(id -> list.add(id.asText()));
        return String.join(", ", list);
    }
}
