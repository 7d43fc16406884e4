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

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code certs}: writes a throwaway CA and one certificate per replica for mutual TLS between replicas. */
@Command(
        name = "certs",
        mixinStandardHelpOptions = true,
        exitCodeOnInvalidInput = 64, // EX_USAGE: bad arguments, on every command
        description = {
            "Writes a throwaway CA and, per replica, a certificate naming it, its key and a transport.properties for"
                    + " node --transport-tls-config (DIR/ID/transport.properties). For trying mutual TLS out; use your"
                    + " own CA in production (docs/security.md)."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:written", "1:could not write the files", "64:bad arguments"})
public final class CertsCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "where to write (created)")
    Path dir;

    @Option(
            names = "--replicas",
            split = ",",
            defaultValue = "r1,r2,r3",
            paramLabel = "ID,...",
            description = "the replica ids (default: ${DEFAULT-VALUE})")
    List<String> replicas;

    @Override
    public Integer call() {
        try {
            Map<String, Path> written = ClusterCertificates.write(dir, replicas);
            written.forEach((id, p) -> System.out.println(id + ": --transport-tls-config " + p));
            return 0;
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("certs: cannot write to " + dir + ": " + e.getMessage());
            return 1;
        }
    }
}
