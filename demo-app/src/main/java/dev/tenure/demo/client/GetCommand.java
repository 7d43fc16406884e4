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
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code get --url URL [--local] KEY}: writes the raw value to stdout. */
@Command(
        name = "get",
        description = {
            "Read KEY and write its raw value to stdout, byte for byte (no newline added).",
            "Linearizable by default: a follower redirects the read to the leader.",
            "With --local the replica at --url answers itself; the value may be stale."
        },
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = ClientCommands.EXIT_CODES_FOOTER)
public final class GetCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key (1 to 1024 bytes of UTF-8).")
    String key;

    @Option(
            names = "--local",
            description = "Read from the replica at --url (?consistency=local); the value may be stale.")
    boolean local;

    @Override
    int execute(KvClient client) {
        Outcome outcome;
        try {
            outcome = client.get(key, local);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (outcome.kind() != Outcome.Kind.OK) {
            return reportFailure(outcome, false);
        }
        byte[] value = outcome.value().orElseThrow();
        env.out().write(value, 0, value.length);
        env.out().flush();
        return ClientCommands.EXIT_OK;
    }
}
