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
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;

/** {@code status --url URL}: prints the replica's status document, pretty-printed. */
@Command(
        name = "status",
        description = "Print the status of the replica at --url (role, leader, epoch, offsets, replicas) as JSON.",
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = ClientCommands.EXIT_CODES_FOOTER)
public final class StatusCommand extends ClientCommand {
    @Override
    int execute(KvClient client) {
        Outcome outcome = client.status();
        if (outcome.kind() != Outcome.Kind.OK) {
            return reportFailure(outcome, false);
        }
        byte[] body = outcome.value().orElseThrow();
        String text;
        try {
            JsonNode json = JSON.readTree(body);
            text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json);
        } catch (IOException e) {
            // Not JSON after all: show what the replica said rather than nothing.
            text = new String(body, StandardCharsets.UTF_8);
        }
        env.out().println(text);
        env.out().flush();
        return ClientCommands.EXIT_OK;
    }
}
