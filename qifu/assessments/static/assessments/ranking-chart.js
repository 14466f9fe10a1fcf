/* The ranking page's bar charts: <div data-chart="ranking-bar" data-chart-data="ID of a json_script"> with
   {labels, values, links, name}; a click on a unit's bar opens its appeals list. No inline script (CSP). */
(function () {
  "use strict";

  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart='ranking-bar']").forEach(function (el) {
      var source = document.getElementById(el.dataset.chartData);
      if (!source || el.dataset.chartDrawn) { return; }
      el.dataset.chartDrawn = "1";
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.init(el);
      chart.on("finished", function () { el.dataset.chartReady = "1"; });
      chart.setOption({
        tooltip: {trigger: "axis"},
        grid: {left: 100, right: 20, top: 10, bottom: 30},
        xAxis: {type: "value"},
        yAxis: {type: "category", inverse: true, data: data.labels, axisLabel: {width: 90, overflow: "truncate"}},
        series: [{name: data.name, type: "bar", barMaxWidth: 24, data: data.values, cursor: "pointer",
                  label: {show: true, position: "right"}}]
      });
      chart.on("click", function (params) {
        var url = data.links && data.links[params.dataIndex];
        if (url) { window.location.href = url; }
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
