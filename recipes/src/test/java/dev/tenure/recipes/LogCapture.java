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

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/** Records what one class logs through SLF4J (Logback in tests) while open. Thread-safe. */
final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(Class<?> source) {
        this.logger = (Logger) LoggerFactory.getLogger(source);
        appender.start();
        logger.addAppender(appender);
    }

    static LogCapture of(Class<?> source) {
        return new LogCapture(source);
    }

    /** The events logged at ERROR so far. */
    List<ILoggingEvent> errors() {
        synchronized (appender) { // ListAppender appends under its own lock
            return appender.list.stream()
                    .filter(e -> e.getLevel() == Level.ERROR)
                    .collect(Collectors.toCollection(ArrayList::new));
        }
    }

    /** The messages of an event's throwable and its causes, outermost first. */
    static List<String> throwableMessages(ILoggingEvent event) {
        List<String> messages = new ArrayList<>();
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            messages.add(t.getClassName() + ": " + t.getMessage());
        }
        return messages;
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
