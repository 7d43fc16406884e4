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

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** A PNG chart of a process-mode run: write throughput against writes in flight, both axes logarithmic. */
final class Chart {
    private Chart() {}

    static void write(JsonNode result, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeries lib = new XYSeries("Tenure, library API");
        XYSeries zk = new XYSeries("ZooKeeper setData (Curator)");
        XYSeries http = new XYSeries("Tenure, demo-app HTTP API");
        XYSeries five = new XYSeries("Tenure, 5 replicas");
        for (JsonNode l : result.path("writes")) {
            lib.add(
                    l.path("inflight").asInt(),
                    l.path("tenure").path("ops_per_s").asDouble());
            zk.add(
                    l.path("inflight").asInt(),
                    l.path("zookeeper").path("ops_per_s").asDouble());
        }
        for (JsonNode l : result.path("http_writes")) {
            http.add(
                    l.path("inflight").asInt(),
                    l.path("tenure_http").path("ops_per_s").asDouble());
        }
        for (JsonNode l : result.path("replicas_5")) {
            five.add(
                    l.path("inflight").asInt(),
                    l.path("tenure").path("ops_per_s").asDouble());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : new XYSeries[] {lib, five, http, zk}) {
            if (s.getItemCount() > 0) {
                data.addSeries(s);
            }
        }
        LogAxis x = new LogAxis("writes in flight");
        x.setBase(2);
        x.setSmallestValue(1);
        x.setTickUnit(new NumberTickUnit(1)); // one tick per power of two
        x.setNumberFormatOverride(new DecimalFormat("0"));
        LogAxis y = new LogAxis("committed writes per second (fsync on)");
        y.setBase(10);
        y.setTickUnit(new NumberTickUnit(1)); // one tick per power of ten
        y.setNumberFormatOverride(new DecimalFormat("#,##0"));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        Color[] colors = {
            new Color(0xD62728), new Color(0x9467BD), new Color(0x2CA02C), new Color(0x1F77B4),
        };
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, colors[i % colors.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("Replicated writes on one 2-core machine (3 replicas unless noted)", plot);
        chart.setBackgroundPaint(Color.WHITE);
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 560);
    }
}
