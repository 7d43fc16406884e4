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
