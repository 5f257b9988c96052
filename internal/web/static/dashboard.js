// Charts of the dashboard and the report page, drawn with ECharts from the
// figures the page embeds as JSON (#dash-data, #report-data). Every chart
// has a table beside it with the same numbers, for people who prefer
// numbers and for screen readers; clicking a bar of an area opens that
// area's page, as the table's links do.
(function () {
  'use strict';

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function pct(r) { return Math.round((r || 0) * 1000) / 10; }

  var charts = [];
  function draw(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return; }
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    option.animation = false;
    option.grid = option.grid || { left: 48, right: 16, top: 36, bottom: 48, containLabel: true };
    chart.setOption(option);
    if (onClick) { chart.on('click', onClick); }
    charts.push(chart);
  }
  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c.resize(); });
  });

  var percentAxis = { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } };
  var classes = ['A', 'B', 'C'];
  var classNames = ['A类', 'B类', 'C类'];

  function rateBars(names, series, horizontal) {
    var cat = { type: 'category', data: names, axisLabel: { interval: 0, rotate: horizontal ? 0 : (names.length > 6 ? 30 : 0) } };
    return {
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return v + '%'; } },
      legend: { top: 0 },
      xAxis: horizontal ? percentAxis : cat,
      yAxis: horizontal ? cat : percentAxis,
      series: series.map(function (s) { return { name: s.name, type: 'bar', data: s.data }; })
    };
  }

  function countBars(names, series) {
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      xAxis: { type: 'category', data: names, axisLabel: { interval: 0, rotate: names.length > 5 ? 30 : 0 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: series.map(function (s) { return { name: s.name, type: 'bar', data: s.data }; })
    };
  }

  function byClass(m, c, field) { return (m && m[c] ? m[c][field] : 0) || 0; }

  function toArea(page, extra) {
    return function (list) {
      return function (p) {
        var x = list[p.dataIndex];
        if (x) { window.location.href = page + encodeURIComponent(x) + (extra || ''); }
      };
    };
  }

  function dashboard(o, statuses) {
    draw('chart-classes', rateBars(classNames, [
      { name: '本周按时完成率', data: classes.map(function (c) { return pct(byClass(o.compliance.by_class, c, 'rate')); }) },
      { name: '本月月探访率', data: classes.map(function (c) { return pct(byClass(o.monthly.by_class, c, 'rate')); }) }
    ]));

    var weeks = o.trend.map(function (p) { return p.week; });
    var lines = [{ name: '合计', type: 'line', data: o.trend.map(function (p) { return pct(p.rate); }) }];
    classes.forEach(function (c, i) {
      lines.push({ name: classNames[i], type: 'line', data: o.trend.map(function (p) { return pct(byClass(p.by_class, c, 'rate')); }) });
    });
    draw('chart-trend', {
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return v + '%'; } },
      legend: { top: 0 },
      xAxis: { type: 'category', data: weeks, axisLabel: { rotate: 30 } },
      yAxis: percentAxis,
      series: lines
    });

    if (o.children && o.children.length) {
      var codes = o.children.map(function (c) { return c.area.code; });
      var many = o.children.length > 8;
      var el = document.getElementById('chart-children');
      if (el && many) { el.style.height = Math.max(320, o.children.length * 28) + 'px'; }
      draw('chart-children', rateBars(o.children.map(function (c) { return c.area.name; }), [
        { name: '本周按时完成率', data: o.children.map(function (c) { return pct(c.week.rate); }) },
        { name: '本月月探访率', data: o.children.map(function (c) { return pct(c.month.rate); }) }
      ], many), toArea('/dashboard?area_code=')(codes));
    }

    if (o.visitors && o.visitors.length) {
      draw('chart-visitors', rateBars(o.visitors.map(function (v) { return v.name || ('#' + v.id); }), [
        { name: '本周按时完成率', data: o.visitors.map(function (v) { return pct(v.rate); }) }
      ]), toArea('/tasks?visitor_id=')(o.visitors.map(function (v) { return String(v.id); })));
    }

    var kinds = o.followups.by_kind;
    draw('chart-followups', countBars(kinds.map(function (k) { return k.label; }), [
      { name: '未办结', data: kinds.map(function (k) { return k.n; }) },
      { name: '逾期', data: kinds.map(function (k) { return k.overdue || 0; }) }
    ]));

    statuses = statuses || [];
    draw('chart-status', countBars(statuses.map(function (s) { return s.Label; }), [
      { name: '人数', data: statuses.map(function (s) { return s.N; }) }
    ]));
  }

  function report(r, period) {
    draw('chart-report-classes', rateBars(classNames, [
      { name: '按时完成率（按周计）', data: classes.map(function (c) { return pct(byClass(r.compliance.by_class, c, 'rate')); }) }
    ].concat(r.months.map(function (m) {
      return { name: m.month + ' 月探访率', data: classes.map(function (c) { return pct(byClass(m.by_class, c, 'rate')); }) };
    }))));
    if (r.children && r.children.length) {
      var many = r.children.length > 8;
      var el = document.getElementById('chart-report-children');
      if (el && many) { el.style.height = Math.max(320, r.children.length * 28) + 'px'; }
      draw('chart-report-children', rateBars(r.children.map(function (c) { return c.area.name; }), [
        { name: '按时完成率', data: r.children.map(function (c) { return pct(c.compliance.rate); }) },
        { name: '月探访率', data: r.children.map(function (c) { return pct(c.monthly.rate); }) }
      ], many), toArea('/reports?area_code=', '&period=' + encodeURIComponent(period))(r.children.map(function (c) { return c.area.code; })));
    }
  }

  var o = data('dash-data');
  if (o) { dashboard(o, data('dash-statuses')); }
  var r = data('report-data');
  if (r) { report(r, r.period); }
})();
