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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A size in bytes as a flag gives it: plain bytes ({@code 1048576}) or a whole number with a binary unit, {@code K} or
 * {@code KiB} (1,024), {@code M} or {@code MiB}, {@code G} or {@code GiB} (case-insensitive; {@code B} means bytes).
 * Stateless and thread-safe.
 */
final class ByteSize implements ITypeConverter<Long> {
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})\\s*([KMG]?I?B?)", Pattern.CASE_INSENSITIVE);

    @Override
    public Long convert(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /**
     * @throws IllegalArgumentException if {@code value} is not such a size, or is above {@link Long#MAX_VALUE} bytes
     */
    static long parse(String value) {
        Matcher m = SIZE.matcher(value.trim());
        String unit = m.matches() ? m.group(2).toUpperCase(Locale.ROOT) : null;
        long shift = switch (unit == null ? "?" : unit) {
            case "", "B" -> 0;
            case "K", "KIB" -> 10;
            case "M", "MIB" -> 20;
            case "G", "GIB" -> 30;
            default -> -1;
        };
        if (shift < 0) {
            throw new IllegalArgumentException("'" + value + "' is not a size: give bytes (1048576) or a whole number"
                    + " with K/KiB, M/MiB or G/GiB (64MiB)");
        }
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is too large a size", e);
        }
    }
}
