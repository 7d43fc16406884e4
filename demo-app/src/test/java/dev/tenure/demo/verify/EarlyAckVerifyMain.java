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
package dev.tenure.demo.verify;

import dev.tenure.demo.node.EarlyAckNodeMain;
import picocli.CommandLine;

/**
 * {@code verify} over replicas that acknowledge writes without a majority ({@link EarlyAckNodeMain}): the harness's
 * teeth. Only on the test class path; {@code VerifyIT} runs it in a child JVM and requires the run to be INVALID.
 */
public final class EarlyAckVerifyMain {
    private EarlyAckVerifyMain() {}

    /** Takes {@code verify}'s options. */
    public static void main(String[] args) {
        VerifyCommand command = new VerifyCommand();
        command.nodeMainClass = EarlyAckNodeMain.class.getName();
        System.exit(new CommandLine(command).execute(args));
    }
}
