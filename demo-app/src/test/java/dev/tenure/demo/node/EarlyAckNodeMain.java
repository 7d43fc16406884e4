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
package dev.tenure.demo.node;

import java.util.Arrays;
import picocli.CommandLine;

/**
 * <b>Breaks replication on purpose</b>: the demo's {@code node} command with an {@link EarlyAcks} transport, so the
 * leader acknowledges writes without a majority. Only on the test class path; the verification harness's own tests
 * run it as every replica's main class to show that the checker catches lost acknowledged writes.
 */
public final class EarlyAckNodeMain {
    private EarlyAckNodeMain() {}

    /** Takes the arguments a {@code NodeLauncher} gives a node's main: {@code node} and its options. */
    public static void main(String[] args) {
        String[] options = args.length > 0 && args[0].equals("node") ? Arrays.copyOfRange(args, 1, args.length) : args;
        NodeCommand command = new NodeCommand();
        command.beforeStart = node -> {
            System.err.println(
                    "WARNING: early-acknowledging node: acknowledged writes can be lost (a test's own node)");
            node.transportWrapper(EarlyAcks::new);
        };
        System.exit(new CommandLine(command).execute(options));
    }
}
