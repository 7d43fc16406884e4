package dev.tenure.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
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
        LogAxis y = new LogAxis("committed writes per second (fsync on)");
        y.setBase(10);
        XYPlot plot = new XYPlot(data, x, y, new XYLineAndShapeRenderer(true, true));
        JFreeChart chart = new JFreeChart("Replicated writes, 3 servers on one 2-core machine", plot);
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 560);
    }
}
