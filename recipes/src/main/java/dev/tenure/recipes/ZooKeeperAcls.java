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
package dev.tenure.recipes;

import com.google.common.base.Preconditions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;

/**
 * A ZooKeeper tree only Tenure can write: every node created through a client built with {@link #configure} carries
 * the ACL "the creator's identity may do anything, anyone may read" ({@code auth} = ALL, {@code world:anyone} =
 * READ), and the client authenticates with ZooKeeper's {@code digest} scheme as {@code user:password}. So only
 * clients holding the same credential can change the epoch node, election nodes, endpoints or the configuration;
 * others (and other credentials) get {@code NoAuth} and can at most read. Curator applies the provider to every
 * create, including parents made by {@code creatingParentsIfNeeded} and creates inside transactions.
 *
 * <pre>{@code
 * CuratorFramework client = ZooKeeperAcls.fromFile(Path.of("/etc/tenure/zk-auth"))   // "user:password"
 *         .configure(CuratorFrameworkFactory.builder().connectString(zk).retryPolicy(retry))
 *         .build();
 * }</pre>
 *
 * <p>Digest sends the password to ZooKeeper at every connection: use it with ZooKeeper client TLS ({@link
 * ZooKeeperClientTls}), or on a trusted
 * network (see docs/security.md for SASL and x509 instead). Nodes created before the ACLs were turned on keep their
 * open ACL: set theirs once (docs/security.md, "ZooKeeper ACLs"). Immutable and thread-safe; {@link #toString} never
 * shows the password.
 */
public final class ZooKeeperAcls {
    private final String user;
    private final String password;

    private ZooKeeperAcls(String user, String password) {
        this.user = user;
        this.password = password;
    }

    /**
     * The {@code digest} credential {@code user:password}.
     *
     * @throws IllegalArgumentException for an empty user or password, or a user with a colon
     */
    public static ZooKeeperAcls digest(String user, String password) {
        Preconditions.checkArgument(
                user != null && !user.isEmpty() && !user.contains(":"), "the ZooKeeper user must be non-empty, no ':'");
        Preconditions.checkArgument(
                password != null && !password.isEmpty(), "the ZooKeeper password must be non-empty");
        return new ZooKeeperAcls(user, password);
    }

    /**
     * The credential in {@code file}: one line {@code user:password} (surrounding white space ignored).
     *
     * @throws IllegalArgumentException naming the file if its content is not {@code user:password}
     */
    public static ZooKeeperAcls fromFile(Path file) throws IOException {
        String s = Files.readString(file, StandardCharsets.UTF_8).trim();
        int colon = s.indexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException(file + " must hold user:password (ZooKeeper digest authentication)");
        }
        return digest(s.substring(0, colon), s.substring(colon + 1));
    }

    /** The user name (the password is never exposed). */
    public String user() {
        return user;
    }

    /** The ACL of every node Tenure creates: the creator's identity may do anything, anyone may read. */
    public static List<ACL> acl() {
        // ZooDefs.Ids.CREATOR_ALL_ACL and READ_ACL_UNSAFE, spelt out. Not List.of: ZooKeeper asks contains(null).
        return java.util.Collections.unmodifiableList(java.util.Arrays.asList(
                new ACL(ZooDefs.Perms.ALL, new Id("auth", "")),
                new ACL(ZooDefs.Perms.READ, new Id("world", "anyone"))));
    }

    /** The provider that gives every created node {@link #acl()}. */
    public static ACLProvider aclProvider() {
        List<ACL> acl = acl();
        return new ACLProvider() {
            @Override
            public List<ACL> getDefaultAcl() {
                return acl;
            }

            @Override
            public List<ACL> getAclForPath(String path) {
                return acl;
            }
        };
    }

    /** Makes {@code builder}'s clients authenticate with this credential and create nodes with {@link #acl()}. */
    public CuratorFrameworkFactory.Builder configure(CuratorFrameworkFactory.Builder builder) {
        return builder.authorization("digest", (user + ":" + password).getBytes(StandardCharsets.UTF_8))
                .aclProvider(aclProvider());
    }

    @Override
    public String toString() {
        return "ZooKeeperAcls[digest " + user + ":(hidden)]";
    }
}
