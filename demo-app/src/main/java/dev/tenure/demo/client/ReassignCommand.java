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
import com.google.common.base.Splitter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code reassign start PARTITION A,B,C --url URL} and {@code reassign show PARTITION --url URL}: moves a partition's
 * replicas through the controller, and shows where the move stands (docs/demo-app.md, "Reassignment").
 */
@Command(
        name = "reassign",
        description = "With --leadership controller: move a partition to another replica set (start PARTITION A,B,C,"
                + " preferred leader first), or show where it stands (show PARTITION). Any node answers: the others"
                + " redirect to the controller. The new replicas join as learners, then vote with the old ones, then"
                + " alone; the removed replicas then delete their copy.",
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = ReassignCommand.EXIT_CODES_FOOTER)
public final class ReassignCommand extends ClientCommand {
    static final String EXIT_CODES_FOOTER = "  0   started (or already in progress with this target), or shown%n"
            + "  1   not done: refused (unknown partition, empty target, a node named twice%n"
            + "      or not registered, another reassignment in progress), no controller,%n"
            + "      or could not connect%n"
            + "  2   unknown: no answer in time; the reassignment may have started (check%n"
            + "      with reassign show)%n"
            + "  64  usage error: bad arguments";

    @Parameters(index = "0", paramLabel = "ACTION", description = "start or show")
    String action;

    @Parameters(index = "1", paramLabel = "PARTITION", description = "the partition's id, e.g. p3")
    String partition;

    @Parameters(
            index = "2",
            arity = "0..1",
            paramLabel = "REPLICAS",
            description = "start: the target replica set, comma-separated, preferred leader first")
    String replicas;

    @Override
    int execute(KvClient client) {
        Outcome outcome;
        switch (action) {
            case "start" -> {
                if (replicas == null) {
                    throw usage("start takes the target replicas, e.g. reassign start p3 r2,r3,r4");
                }
                List<String> target = Splitter.on(',').trimResults().splitToList(replicas);
                outcome = client.reassign(partition, target);
            }
            case "show" -> {
                if (replicas != null) {
                    throw usage("show takes only the partition");
                }
                outcome = client.reassignment(partition);
            }
            default -> throw usage("unknown action " + action + "; one of start, show");
        }
        if (outcome.kind() != Outcome.Kind.OK) {
            return ClientCommands.reportNotOk(
                    env.err(), outcome, "the reassignment may have started, check with reassign show");
        }
        try {
            env.out().println(describe(JSON.readTree(outcome.value().orElse(new byte[0]))));
        } catch (IOException e) {
            env.err().println("outcome unknown: the answer is not a partition state: " + e.getMessage());
            env.err().flush();
            return ClientCommands.EXIT_UNKNOWN;
        }
        env.out().flush();
        return ClientCommands.EXIT_OK;
    }

    /**
     * {@code p3: replicas r1, r2, r3; leader r1 in epoch 7; reassigning to r2, r3, r4 (learning: adding r4, removing
     * r1)}, or {@code p3: replicas r2, r3, r4; leader r2 in epoch 9; no reassignment}.
     */
    static String describe(JsonNode s) {
        StringBuilder b = new StringBuilder(s.path("partition").asText())
                .append(": replicas ")
                .append(join(s.path("replicas")));
        if (s.path("leader").isTextual()) {
            b.append("; leader ").append(s.path("leader").asText());
        } else {
            b.append("; no leader");
        }
        b.append(" in epoch ").append(s.path("leaderEpoch").asLong());
        if (s.path("reassigning").asBoolean()) {
            b.append("; reassigning to ")
                    .append(join(s.path("targetReplicas")))
                    .append(" (")
                    .append(s.path("phase").asText())
                    .append(": adding ")
                    .append(join(s.path("addingReplicas")))
                    .append(", removing ")
                    .append(join(s.path("removingReplicas")))
                    .append(')');
        } else {
            b.append("; no reassignment");
        }
        return b.toString();
    }

    private static String join(JsonNode ids) {
        List<String> list = new ArrayList<>();
        ids.forEach(id -> list.add(id.asText()));
        return list.isEmpty() ? "none" : String.join(", ", list);
    }
}
