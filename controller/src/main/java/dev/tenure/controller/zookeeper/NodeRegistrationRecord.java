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
package dev.tenure.controller.zookeeper;

import com.google.common.base.Splitter;
import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The text form of a node's registration in {@code P/nodes/ID}: a format line, the node's id (the same as the node's
 * name) and its endpoint, each line ending with a newline:
 *
 * <pre>
 * tenure-node 1
 * node=n1
 * endpoint=10.0.0.7:7001
 * </pre>
 *
 * The node epoch is not in the record: it is the node's czxid. Decoding is strict and refuses with an {@link
 * IllegalArgumentException} naming the path. Stateless and thread-safe.
 */
final class NodeRegistrationRecord {
    static final String FORMAT = "tenure-node 1";
    private static final int MAX_BYTES = 4096;
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?");

    private NodeRegistrationRecord() {}

    static byte[] encode(String node, String endpoint) {
        return (FORMAT + "\nnode=" + node + "\nendpoint=" + endpoint + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The endpoint in the registration of {@code node} at {@code path}.
     *
     * @throws IllegalArgumentException naming {@code path} and what is wrong
     */
    static String decodeEndpoint(byte[] data, String node, String path) {
        if (data == null || data.length > MAX_BYTES) {
            throw refused(path, data == null ? "it holds no data" : "it holds more than " + MAX_BYTES + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data))
                    .toString();
        } catch (CharacterCodingException e) {
            throw refused(path, "it is not UTF-8 text");
        }
        List<String> lines = Splitter.on('\n').splitToList(text);
        if (lines.size() != 4 || !lines.get(3).isEmpty()) {
            throw refused(path, "it is not three lines, each ending with a newline");
        }
        if (!lines.get(0).equals(FORMAT)) {
            throw refused(path, "it does not start with \"" + FORMAT + "\"");
        }
        if (!lines.get(1).equals("node=" + node)) {
            throw refused(path, "its second line is not node=" + node);
        }
        if (!lines.get(2).startsWith("endpoint=")) {
            throw refused(path, "its third line is not endpoint=HOST:PORT");
        }
        String endpoint = lines.get(2).substring("endpoint=".length());
        try {
            return checkEndpoint(endpoint);
        } catch (IllegalArgumentException e) {
            throw refused(path, e.getMessage());
        }
    }

    /**
     * Checks an endpoint: {@code HOST:PORT} with an IP literal ({@code [v6]} in brackets) or a host name of letters,
     * digits, dots and hyphens, and a port from 1 to 65535 (a value planted in ZooKeeper is never looked up or
     * connected to unless it has this shape).
     *
     * @return {@code endpoint}
     * @throws IllegalArgumentException if it is not one
     */
    static String checkEndpoint(String endpoint) {
        if (endpoint == null || endpoint.isEmpty() || endpoint.length() > 300) {
            throw new IllegalArgumentException("the endpoint must be HOST:PORT of at most 300 characters");
        }
        HostAndPort hp;
        try {
            hp = HostAndPort.fromString(endpoint);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the endpoint " + endpoint + " is not HOST:PORT", e);
        }
        if (!hp.hasPort() || hp.getPort() < 1 || hp.getPort() > 65_535) {
            throw new IllegalArgumentException("the endpoint " + endpoint + " has no port from 1 to 65535");
        }
        String host = hp.getHost();
        if (!InetAddresses.isInetAddress(host) && !HOST_NAME.matcher(host).matches()) {
            throw new IllegalArgumentException("the endpoint " + endpoint + " has no valid host name or IP address");
        }
        return endpoint;
    }

    private static IllegalArgumentException refused(String path, String what) {
        return new IllegalArgumentException("registration node " + path + " is malformed: " + what);
    }
}
