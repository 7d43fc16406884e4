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

import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The client commands ({@code put}, {@code get}, {@code delete}, {@code cas}, {@code status}, {@code snapshot}) and
 * their exit codes.
 *
 * <p>To add them to another picocli command, register each class in {@link #COMMANDS} as a subcommand. Each
 * carries its own exit codes in its {@code @Command} annotation (64 for invalid input, 2 for an unexpected
 * exception), so they hold under any parent, unless the parent's {@code CommandLine} overrides them with
 * {@code setExitCodeOnInvalidInput} after adding the subcommands.
 */
public final class ClientCommands {
    /** Committed (put, delete, cas), or read ok (get, status). */
    public static final int EXIT_OK = 0;
    /** Definitely not applied, including {@code not_found} for get and {@code cas_failed} for cas. */
    public static final int EXIT_NOT_APPLIED = 1;
    /** Outcome unknown: a write may or may not have been applied. */
    public static final int EXIT_UNKNOWN = 2;
    /** Usage error: bad arguments (as sysexits.h EX_USAGE). */
    public static final int EXIT_USAGE = 64;

    /** The command classes, in the order of the help listing. */
    public static final List<Class<?>> COMMANDS = List.of(
            PutCommand.class,
            GetCommand.class,
            DeleteCommand.class,
            CasCommand.class,
            StatusCommand.class,
            SnapshotCommand.class,
            MembersCommand.class,
            ReassignCommand.class);

    static final String EXIT_CODES_HEADING = "%nExit codes:%n";
    static final String EXIT_CODES_FOOTER = "  0   committed (put, delete, cas), or read ok (get, status)%n"
            + "  1   definitely not applied: refused by the server, no leader, too many%n"
            + "      redirects, could not connect; also not found (get), mismatch (cas)%n"
            + "  2   outcome unknown: timeout, connection reset, server error; a write%n"
            + "      may have been applied, so check before retrying it%n"
            + "  64  usage error: bad arguments";

    private ClientCommands() {}

    /** The exit code of an outcome. */
    public static int exitCode(Outcome.Kind kind) {
        switch (kind) {
            case OK:
                return EXIT_OK;
            case UNKNOWN:
                return EXIT_UNKNOWN;
            default:
                return EXIT_NOT_APPLIED;
        }
    }

    /**
     * Reports an outcome that is not {@link Outcome.Kind#OK} on {@code err}: an unknown outcome with {@code
     * unknownHint} (what may still happen and how to check it), any other as not done; with the HTTP status and URL.
     *
     * @return the outcome's exit code
     */
    static int reportNotOk(java.io.PrintStream err, Outcome outcome, String unknownHint) {
        String where = (outcome.httpStatus() < 0 ? "no response from " : "HTTP " + outcome.httpStatus() + " from ")
                + outcome.url();
        if (outcome.kind() == Outcome.Kind.UNKNOWN) {
            err.println("outcome unknown: " + outcome.error().orElse("?") + " [" + where + "]; " + unknownHint);
        } else {
            err.println("not done: " + outcome.error().orElse("?") + " [" + where + "]");
        }
        err.flush();
        return exitCode(outcome.kind());
    }

    /**
     * Runs {@code args} (for example {@code put --url http://127.0.0.1:8081 k v}) through a small top-level
     * command with the client commands as subcommands, on the process's stdout and stderr.
     *
     * @return the exit code
     */
    public static int run(String... args) {
        return run(ClientEnvironment.system(), args);
    }

    static int run(ClientEnvironment env, String... args) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                K made = defaults.create(type);
                if (made instanceof ClientCommand command) {
                    command.env = env;
                }
                return made;
            }
        };
        CommandLine commandLine = new CommandLine(new Top(), factory);
        // What picocli prints (usage, errors) is text in the platform's charset, as System.out and System.err write it.
        commandLine.setOut(new PrintWriter(env.out(), true, Charset.defaultCharset()));
        commandLine.setErr(new PrintWriter(env.err(), true, Charset.defaultCharset()));
        return commandLine.execute(args);
    }

    @Command(
            name = "kv",
            description = "Client of the demo key-value service.",
            subcommands = {
                PutCommand.class,
                GetCommand.class,
                DeleteCommand.class,
                CasCommand.class,
                StatusCommand.class,
                SnapshotCommand.class,
                MembersCommand.class,
                ReassignCommand.class
            },
            exitCodeOnInvalidInput = EXIT_USAGE,
            exitCodeOnExecutionException = EXIT_UNKNOWN,
            footerHeading = EXIT_CODES_HEADING,
            footer = EXIT_CODES_FOOTER)
    static final class Top implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = {"-h", "--help"},
                usageHelp = true,
                description = "Show this help message and exit.")
        boolean help;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "Missing required subcommand");
        }
    }
}
