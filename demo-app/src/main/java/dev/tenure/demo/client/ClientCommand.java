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

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What the client commands share: {@code --url}, {@code --timeout-ms}, {@code --help}, making the
 * {@link KvClient}, and turning an {@link Outcome} into a line of output and an exit code.
 */
abstract class ClientCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help message and exit.")
    boolean help;

    /** Replaced by {@link ClientCommands#run(ClientEnvironment, String...)}; the real streams otherwise. */
    ClientEnvironment env = ClientEnvironment.system();

    @Override
    public final Integer call() {
        KvClient client;
        try {
            client = env.clients().apply(connection.uri(spec), connection.timeout(spec));
            javax.net.ssl.SSLContext tls = connection.sslContext(spec);
            if (tls != null) {
                client = client.withTls(tls);
            }
            String token = connection.token(spec);
            if (token != null) {
                client.bearerToken(token);
            }
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        return execute(client);
    }

    /**
     * Sends the command's request and reports it. The {@link KvClient} throws {@link IllegalArgumentException}
     * only before sending anything, so implementations turn it into a usage error with {@link #usage}.
     */
    abstract int execute(KvClient client);

    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Prints the one-line result of a write and returns its exit code. */
    int reportWrite(Outcome outcome) {
        if (outcome.kind() == Outcome.Kind.OK) {
            env.out().println(committedLine(outcome));
            env.out().flush();
            return ClientCommands.EXIT_OK;
        }
        return reportFailure(outcome, true);
    }

    /** Prints a non-OK outcome to stderr and returns its exit code. */
    int reportFailure(Outcome outcome, boolean write) {
        String where = (outcome.httpStatus() < 0 ? "no response from " : "HTTP " + outcome.httpStatus() + " from ")
                + outcome.url();
        String why = outcome.error().orElse("?") + " [" + where + "]";
        switch (outcome.kind()) {
            case UNKNOWN:
                env.err()
                        .println("outcome unknown: " + why
                                + (write ? "; the write may or may not have been applied, check before retrying" : ""));
                break;
            case NOT_FOUND:
                env.err().println("not found: " + why);
                break;
            default:
                env.err().println("not applied: " + why);
                break;
        }
        env.err().flush();
        return ClientCommands.exitCode(outcome.kind());
    }

    static String committedLine(Outcome outcome) {
        if (outcome.epoch().isPresent() && outcome.offset().isPresent()) {
            return "committed at epoch " + outcome.epoch().getAsLong() + " offset "
                    + outcome.offset().getAsLong();
        }
        return "committed";
    }

    /** {@code text} as a JSON string literal: quoted, with control characters escaped, so it stays one line. */
    static String quote(String text) {
        try {
            return JSON.writeValueAsString(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
