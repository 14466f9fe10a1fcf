/* ECharts on the pages that have charts: <div data-chart="KIND" data-chart-data="ID of a json_script">, in the page
   or in a fragment HTMX swaps in.
   Loaded after vendor/echarts/echarts-qifu.min.js (a build of the charts drawn here: scripts/echarts/entry.js); no inline script (Content-Security-Policy). */
(function () {
  "use strict";

  function wrap(name) {
    var half = Math.ceil(name.length / 2);
    return name.length > 5 ? name.slice(0, half) + "\n" + name.slice(half) : name;
  }

  var KINDS = {
    "industry-pie": function (data) {
      return {tooltip: {trigger: "item"}, series: [{type: "pie", radius: ["35%", "70%"],
        data: data.map(function (d) { return {name: d[0], value: d[1]}; })}]};
    },
    "profile-radar": function (data) {
      return {
        tooltip: {trigger: "item"},
        radar: {indicator: data.indicators, radius: "58%", center: ["50%", "54%"],
                axisName: {color: "#333", fontSize: 12, formatter: wrap}},
        series: [{type: "radar", areaStyle: {opacity: 0.25}, data: [{value: data.values, name: data.label}]}]
      };
    },
    "policy-performance": function (data, el) {
      return {
        tooltip: {trigger: "axis"}, legend: {},
        grid: {left: 40, right: 10, bottom: 60},
        xAxis: {type: "category", data: data.labels, axisLabel: {rotate: 30}},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: el.dataset.labelEligible, type: "bar", data: data.eligible},
                 {name: el.dataset.labelGranted, type: "bar", data: data.granted}]
      };
    },
    "appeal-trend": function (data) {
      var names = data.names;
      return {
        tooltip: {trigger: "axis"}, legend: {type: "scroll"},
        grid: {left: 40, right: 45, bottom: 30},
        xAxis: {type: "category", data: data.labels},
        yAxis: [{type: "value", minInterval: 1}, {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}}],
        series: [{name: names.received, type: "bar", data: data.received},
                 {name: names.handled, type: "bar", data: data.handled},
                 {name: names.closed, type: "bar", data: data.closed},
                 {name: names.on_time_rate, type: "line", yAxisIndex: 1, connectNulls: true, data: data.on_time_rate},
                 {name: names.satisfaction_rate, type: "line", yAxisIndex: 1, connectNulls: true,
                  data: data.satisfaction_rate}]
      };
    },
    "appeal-daily": function (data) {
      return {
        tooltip: {trigger: "axis"}, legend: {},
        grid: {left: 40, right: 10, bottom: 40},
        xAxis: {type: "category", data: data.labels},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: data.names.received, type: "bar", data: data.received, cursor: "pointer"},
                 {name: data.names.closed, type: "line", data: data.closed, symbolSize: 8, cursor: "pointer"}]
      };
    },
    "overdue-by-unit": function (data) {
      return {
        tooltip: {trigger: "axis"},
        grid: {left: 40, right: 10, bottom: 60},
        xAxis: {type: "category", data: data.labels, axisLabel: {rotate: 30, interval: 0}},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: data.name, type: "bar", barMaxWidth: 48, data: data.values, itemStyle: {color: "#dc3545"}, cursor: "pointer"}]
      };
    }
  };

  // data.links[i]: the page a click on the i-th bar or point opens (a list with the figure's filters);
  // with several series, data.series_links[s][i] for the i-th bar or point of series s
  function linkClicks(chart, data) {
    if (!data || !(data.links || data.series_links)) { return; }
    chart.on("click", function (params) {
      var links = data.series_links ? data.series_links[params.seriesIndex] : data.links;
      var url = links && links[params.dataIndex];
      if (url) { window.location.href = url; }
    });
  }

  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = KINDS[el.dataset.chart];
      var source = document.getElementById(el.dataset.chartData);
      if (!kind || !source || el.dataset.chartDrawn) { return; }
      el.dataset.chartDrawn = "1";
      var chart = window.echarts.init(el);
      chart.on("finished", function () { el.dataset.chartReady = "1"; });  // drawn, animations over (tests wait on it)
      var data = JSON.parse(source.textContent);
      chart.setOption(kind(data, el));
      linkClicks(chart, data);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
  document.addEventListener("htmx:load", draw);  // a chart that comes after the page (hx-trigger="load")
})();
