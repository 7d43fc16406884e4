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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code put --url URL KEY (VALUE | --value-file PATH)}. */
@Command(
        name = "put",
        description = "Store a value under KEY. Committed once the leader has replicated it.",
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = ClientCommands.EXIT_CODES_FOOTER)
public final class PutCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key (1 to 1024 bytes of UTF-8).")
    String key;

    @Parameters(
            index = "1",
            arity = "0..1",
            paramLabel = "VALUE",
            description = "The value, as UTF-8 text. Give either VALUE or --value-file.")
    String value;

    @Option(
            names = "--value-file",
            paramLabel = "PATH",
            description = "Read the value's bytes from this file instead (at most 1 MiB).")
    Path valueFile;

    @Override
    int execute(KvClient client) {
        if ((value == null) == (valueFile == null)) {
            throw usage("Give exactly one of VALUE and --value-file");
        }
        byte[] bytes;
        if (valueFile != null) {
            try {
                bytes = Files.readAllBytes(valueFile);
            } catch (IOException e) {
                throw usage("Cannot read --value-file " + valueFile + ": " + e);
            }
        } else {
            try {
                bytes = Keys.utf8(value);
            } catch (IllegalArgumentException e) {
                throw usage("VALUE: " + e.getMessage());
            }
        }
        Outcome outcome;
        try {
            outcome = client.put(key, bytes);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        return reportWrite(outcome);
    }
}
