package dev.tenure.demo.client;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code delete --url URL KEY}. */
@Command(
        name = "delete",
        description = "Delete KEY. Committed once the leader has replicated the deletion.",
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = ClientCommands.EXIT_CODES_FOOTER)
public final class DeleteCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key (1 to 1024 bytes of UTF-8).")
    String key;

    @Override
    int execute(KvClient client) {
        Outcome outcome;
        try {
            outcome = client.delete(key);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        return reportWrite(outcome);
    }
}
