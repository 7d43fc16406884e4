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

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Defaults for {@code node}'s options from the environment (twelve-factor configuration): option {@code --foo-bar}
 * defaults to the variable {@code TENURE_FOO_BAR} when it is set and not blank. A flag on the command line wins over
 * the variable, and the variable over the built-in default; the value is checked exactly as the flag's would be (a bad
 * one is a usage error, exit 64, naming the option). A boolean flag takes {@code true} or {@code false}; a
 * comma-separated option takes a comma-separated value. {@code --help}, {@code --version} and hidden options have no
 * variable.
 *
 * <p>Immutable and thread-safe.
 */
public final class EnvironmentDefaults implements IDefaultValueProvider {
    /** The prefix of every variable. */
    public static final String PREFIX = "TENURE_";

    private final Map<String, String> environment;

    /** Reads the process's environment. picocli instantiates it from {@code @Command(defaultValueProvider = ...)}. */
    public EnvironmentDefaults() {
        this(System.getenv());
    }

    /** Reads {@code environment} instead (tests). */
    public EnvironmentDefaults(Map<String, String> environment) {
        this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
    }

    /** The variable that sets option {@code longName} ({@code --zk-auth-file} → {@code TENURE_ZK_AUTH_FILE}). */
    public static String variableOf(String longName) {
        return PREFIX + longName.replaceFirst("^--", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(ArgSpec spec) {
        if (!(spec instanceof OptionSpec option) || option.hidden() || option.usageHelp() || option.versionHelp()) {
            return null;
        }
        String value = environment.get(variableOf(option.longestName()));
        return value == null || value.isBlank() ? null : value.trim();
    }
}
