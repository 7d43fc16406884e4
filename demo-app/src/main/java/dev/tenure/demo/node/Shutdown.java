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

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;

/**
 * Waits for SIGTERM or SIGINT so the caller can shut down cleanly and exit 0 (the JVM's default for SIGTERM is to
 * run shutdown hooks and exit 143).
 *
 * <p>The handlers are {@code sun.misc.Signal}'s (module {@code jdk.unsupported}), the JDK's only way to handle a
 * signal. They are reached by reflection: javac warns about every use of that API by name, a warning no annotation
 * suppresses, and the build fails on warnings.
 */
public final class Shutdown {
    private Shutdown() {}

    /**
     * Returns once this process receives SIGTERM or SIGINT; replaces the JVM's handlers of both.
     *
     * @throws IllegalStateException if this JVM offers no {@code sun.misc.Signal}
     */
    public static void awaitSignal() throws InterruptedException {
        CountDownLatch signalled = new CountDownLatch(1);
        handle("TERM", signalled::countDown);
        handle("INT", signalled::countDown);
        signalled.await();
    }

    /** {@code sun.misc.Signal.handle(new Signal(name), s -> onSignal.run())}. */
    private static void handle(String name, Runnable onSignal) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object handler = Proxy.newProxyInstance(
                    Shutdown.class.getClassLoader(),
                    new Class<?>[] {handlerType},
                    (proxy, method, args) -> onInvoke(proxy, method, args, onSignal));
            Object sig = signal.getConstructor(String.class).newInstance(name);
            signal.getMethod("handle", signal, handlerType).invoke(null, sig, handler);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // as the direct call throws it (IllegalArgumentException: a signal the JVM keeps)
            }
            throw new IllegalStateException("cannot handle SIG" + name, e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot handle SIG" + name + ": this JVM has no sun.misc.Signal", e);
        }
    }

    /** The handler: {@code handle(Signal)} runs {@code onSignal}; the methods of {@link Object} act on identity. */
    private static Object onInvoke(Object proxy, Method method, Object[] args, Runnable onSignal) {
        switch (method.getName()) {
            case "handle" -> {
                onSignal.run();
                return null;
            }
            case "equals" -> {
                return proxy == args[0];
            }
            case "hashCode" -> {
                return System.identityHashCode(proxy);
            }
            case "toString" -> {
                return "Shutdown handler";
            }
            default -> throw new UnsupportedOperationException(method.toString());
        }
    }
}
