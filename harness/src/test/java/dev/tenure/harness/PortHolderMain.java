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
package dev.tenure.harness;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A child JVM for {@link ServerPortsTest}: reserves {@code count} ports of [first, end) through the lock directory
 * given, prints {@code HOLDING p1,p2,...} and keeps them until it is stopped.
 */
public final class PortHolderMain {
    private PortHolderMain() {}

    public static void main(String[] args) throws Exception {
        Path directory = Path.of(args[0]);
        int first = Integer.parseInt(args[1]);
        int end = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        List<String> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(Integer.toString(ServerPorts.reserve(directory, first, end)));
        }
        System.out.println("HOLDING " + String.join(",", ports));
        System.out.flush();
        new CountDownLatch(1).await(); // holds the reservations until the test stops this process
    }
}
