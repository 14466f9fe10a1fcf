/* ECharts on the pages that have charts: <div data-chart="KIND" data-chart-data="ID of a json_script">.
   Loaded after vendor/echarts/echarts.min.js; no inline script (Content-Security-Policy). */
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
    }
  };

  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = KINDS[el.dataset.chart];
      var source = document.getElementById(el.dataset.chartData);
      if (!kind || !source || el.dataset.chartDrawn) { return; }
      el.dataset.chartDrawn = "1";
      var chart = window.echarts.init(el);
      chart.setOption(kind(JSON.parse(source.textContent), el));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
