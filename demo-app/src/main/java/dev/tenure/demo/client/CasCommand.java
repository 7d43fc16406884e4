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

import java.util.Base64;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cas --url URL KEY (--expect TEXT | --expect-absent) --update TEXT}. */
@Command(
        name = "cas",
        description = {
            "Compare-and-set: replace KEY's value with --update only if it is --expect.",
            "With --expect-absent, only if KEY has no value.",
            "On a mismatch, prints the current value (in base64 if it is not UTF-8 text) and exits 1."
        },
        exitCodeOnInvalidInput = ClientCommands.EXIT_USAGE,
        exitCodeOnExecutionException = ClientCommands.EXIT_UNKNOWN,
        footerHeading = ClientCommands.EXIT_CODES_HEADING,
        footer = ClientCommands.EXIT_CODES_FOOTER)
public final class CasCommand extends ClientCommand {
    /** Exactly one of {@code --expect TEXT} and {@code --expect-absent}. */
    static final class Expectation {
        @Option(names = "--expect", paramLabel = "TEXT", required = true, description = "The expected current value.")
        String text;

        @Option(names = "--expect-absent", required = true, description = "Expect KEY to have no value.")
        boolean absent;
    }

    @Parameters(index = "0", paramLabel = "KEY", description = "The key (1 to 1024 bytes of UTF-8).")
    String key;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Expectation expectation;

    @Option(names = "--update", paramLabel = "TEXT", required = true, description = "The new value, as UTF-8 text.")
    String update;

    @Override
    int execute(KvClient client) {
        Outcome outcome;
        try {
            outcome = client.cas(key, expectation.absent ? null : expectation.text, update);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (outcome.kind() == Outcome.Kind.CAS_FAILED) {
            Optional<byte[]> bytes = outcome.value();
            env.out()
                    .println(
                            outcome.current() != null
                                    ? "cas failed: current value " + quote(outcome.current())
                                    : bytes.isEmpty()
                                            ? "cas failed: the key is absent"
                                            : "cas failed: current value is not UTF-8 text; base64 "
                                                    + Base64.getEncoder().encodeToString(bytes.get()));
            env.out().flush();
            return ClientCommands.exitCode(outcome.kind());
        }
        return reportWrite(outcome);
    }
}
