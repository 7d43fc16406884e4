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
package dev.tenure.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchOptionsTest {
    @Test
    void aMembershipWindowBelowOneSecondIsRefusedBeforeAnythingStarts() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute("--sections", "membership", "--membership-before-s", "0");
        assertEquals(2, exit, "a usage error; stderr:\n" + err);
        assertTrue(err.toString().contains("--membership-before-s must be at least 1"), err.toString());
        assertTrue(out.toString().isEmpty(), "nothing ran: " + out);
    }

    @Test
    void negativeControllerTrialsAreRefusedBeforeAnythingStarts() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute("--sections", "controller", "--controller-trials", "-1");
        assertEquals(2, exit, "a usage error; stderr:\n" + err);
        assertTrue(err.toString().contains("--controller-trials and"), err.toString());
        assertTrue(err.toString().contains(">= 0"), err.toString());
        assertTrue(out.toString().isEmpty(), "nothing ran: " + out);
    }
}
