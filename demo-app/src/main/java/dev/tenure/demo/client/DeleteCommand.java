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
