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

import picocli.CommandLine.Command;

/** {@code snapshot --url URL}: the replica at URL takes a snapshot now. */
@Command(
        name = "snapshot",
        description = "Make the replica at --url (that replica, not the leader) snapshot its state now, and wait until"
                + " the snapshot is durable. Raise --timeout-ms for a large state.",
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = SnapshotCommand.EXIT_CODES_FOOTER)
public final class SnapshotCommand extends ClientCommand {
    static final String EXIT_CODES_FOOTER = "  0   the snapshot is durable (its offset and epoch are printed)%n"
            + "  1   no snapshot was taken: not supported (501), failed (500), the replica%n"
            + "      stopped after a failure (503), or could not connect%n"
            + "  2   unknown: no answer in time or an unexpected answer; the snapshot may%n"
            + "      still complete%n"
            + "  64  usage error: bad arguments";

    @Override
    int execute(KvClient client) {
        Outcome outcome = client.snapshot();
        String where = (outcome.httpStatus() < 0 ? "no response from " : "HTTP " + outcome.httpStatus() + " from ")
                + outcome.url();
        switch (outcome.kind()) {
            case OK:
                env.out()
                        .println("snapshot durable at offset "
                                + outcome.offset().orElse(-1) + " (epoch "
                                + outcome.epoch().orElse(-1) + ") on "
                                + outcome.url().resolve("/"));
                env.out().flush();
                return ClientCommands.EXIT_OK;
            case UNKNOWN:
                env.err()
                        .println("outcome unknown: " + outcome.error().orElse("?") + " [" + where
                                + "]; the snapshot may still complete");
                env.err().flush();
                return ClientCommands.EXIT_UNKNOWN;
            default:
                env.err().println("no snapshot taken: " + outcome.error().orElse("?") + " [" + where + "]");
                env.err().flush();
                return ClientCommands.EXIT_NOT_APPLIED;
        }
    }
}
