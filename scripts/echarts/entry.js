/* qifu's ECharts: only what the pages draw (front/charts.js, assessments/ranking-chart.js). Rebuild with
   scripts/build-echarts after a change here; a chart of a new type needs its chart (and components) below.
     bar    policy-performance, appeal-trend, appeal-daily, overdue-by-unit, ranking-bar
     line   appeal-trend, appeal-daily          pie    industry-pie          radar  profile-radar
     grid (x/y axes), legend (plain and scroll), radar (its coordinate system), tooltip; canvas renderer
   The global `echarts` has what the scripts and the browser tests call: init, getInstanceByDom. */
import { use } from "echarts/core";
import { BarChart, LineChart, PieChart, RadarChart } from "echarts/charts";
import { GridComponent, LegendComponent, RadarComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, LineChart, PieChart, RadarChart,
     GridComponent, LegendComponent, RadarComponent, TooltipComponent,
     CanvasRenderer]);

export { init, getInstanceByDom, dispose, version } from "echarts/core";
