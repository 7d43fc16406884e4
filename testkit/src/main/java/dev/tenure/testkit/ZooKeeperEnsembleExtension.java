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
package dev.tenure.testkit;

import java.time.Duration;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that gives a test class a started in-process ZooKeeper ensemble on loopback.
 *
 * <pre>{@code
 * class MyServiceTest {
 *     @RegisterExtension
 *     static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();
 *
 *     @Test
 *     void survivesSessionExpiry() throws Exception {
 *         CuratorFramework client = zk.ensemble().newClient();
 *         ...
 *         zk.ensemble().expireSession(client);
 *     }
 * }
 * }</pre>
 *
 * <p>The ensemble starts once per class (register the extension on a {@code static} field) and is closed
 * after the class. After each test, the clients and proxies the test made are closed and every server the
 * test killed or stopped is restarted, so tests do not see each other's faults. A test method may also
 * declare a {@link ZooKeeperEnsemble} parameter.
 *
 * <p>Not thread-safe: for test classes whose tests run one at a time (JUnit's default), since each test's faults
 * are healed after it. If the ensemble cannot start, {@code beforeAll} throws and JUnit fails the class's tests;
 * {@link #ensemble()} throws {@link IllegalStateException} before the ensemble started.
 */
public final class ZooKeeperEnsembleExtension
        implements BeforeAllCallback, AfterAllCallback, AfterEachCallback, ParameterResolver {
    private final ZooKeeperEnsemble.Builder builder;
    private ZooKeeperEnsemble ensemble;

    private ZooKeeperEnsembleExtension(ZooKeeperEnsemble.Builder builder) {
        this.builder = builder;
    }

    /** Three servers, default tick and session timeout. */
    public static ZooKeeperEnsembleExtension threeServers() {
        return new ZooKeeperEnsembleExtension(ZooKeeperEnsemble.builder());
    }

    /** Three servers; clients made by {@link ZooKeeperEnsemble#newClient()} use this session timeout. */
    public static ZooKeeperEnsembleExtension threeServers(Duration sessionTimeout) {
        return new ZooKeeperEnsembleExtension(ZooKeeperEnsemble.builder().sessionTimeout(sessionTimeout));
    }

    /** An ensemble configured by the given builder. */
    public static ZooKeeperEnsembleExtension of(ZooKeeperEnsemble.Builder builder) {
        return new ZooKeeperEnsembleExtension(builder);
    }

    /** The started ensemble. */
    public ZooKeeperEnsemble ensemble() {
        if (ensemble == null) {
            throw new IllegalStateException("the ensemble starts before all tests; register the extension statically");
        }
        return ensemble;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        ensemble = builder.build();
        ensemble.start();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (ensemble != null) {
            ensemble.closeClientsAndProxies();
            ensemble.restoreAll();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (ensemble != null) {
            ensemble.close();
            ensemble = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == ZooKeeperEnsemble.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context)
            throws ParameterResolutionException {
        return ensemble();
    }
}
