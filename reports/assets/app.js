// The report site's browser side: charts (vendored Apache ECharts), tables, page
// filters, drill-down, the SMS preview. No network: every page carries its data as
// inline JSON (#report-blocks) and its settings (#report-config).
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("report-config").textContent);
  var blocks = JSON.parse(document.getElementById("report-blocks").textContent);
  var state = { filters: {}, dateFrom: "", dateTo: "" };
  var charts = [];
  var tables = [];
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;

  // --- formats (the same rules as marketing_engine/reports/formats.py) -------------------
  var numberCache = {};
  function nf(digits) {
    if (!numberCache[digits]) {
      numberCache[digits] = new Intl.NumberFormat(config.locale, {
        minimumFractionDigits: digits, maximumFractionDigits: digits
      });
    }
    return numberCache[digits];
  }
  var moneyFull = new Intl.NumberFormat(config.locale, {
    minimumFractionDigits: 2, maximumFractionDigits: 2
  });
  var trimmed = new Intl.NumberFormat(config.locale, { maximumFractionDigits: 2 });
  // Axis ticks: short and without trailing zeros (₹500K, ₹1.5M), the symbol on money.
  function compact(v, symbol) {
    var sign = v < 0 ? "-" : "", a = Math.abs(v);
    var sizes = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < sizes.length; i++) {
      if (a >= sizes[i][0]) { return sign + symbol + trimmed.format(a / sizes[i][0]) + sizes[i][1]; }
    }
    return sign + symbol + trimmed.format(a);
  }
  function missing(v) { return v === null || v === undefined || (typeof v === "number" && isNaN(v)); }
  function money(v, full) {
    var sign = v < 0 ? "-" : "", a = Math.abs(v), sym = config.currency_symbol;
    if (full) { return sign + sym + moneyFull.format(a); }
    var sizes = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < sizes.length; i++) {
      if (a >= sizes[i][0]) { return sign + sym + nf(2).format(a / sizes[i][0]) + sizes[i][1]; }
    }
    return sign + sym + nf(0).format(a);
  }
  function strftime(iso, pattern) {
    var parts = String(iso).slice(0, 10).split("-");
    if (parts.length < 2) { return String(iso); }
    var d = new Date(Date.UTC(+parts[0], +parts[1] - 1, +(parts[2] || 1)));
    var month = function (style) {
      return new Intl.DateTimeFormat(config.locale, { month: style, timeZone: "UTC" }).format(d);
    };
    return pattern.replace(/%([YmdbBe%])/g, function (_, c) {
      if (c === "Y") { return parts[0]; }
      if (c === "m") { return parts[1]; }
      if (c === "d") { return parts[2] || "01"; }
      if (c === "e") { return String(+(parts[2] || 1)); }
      if (c === "b") { return month("short"); }
      if (c === "B") { return month("long"); }
      return "%";
    });
  }
  function fmt(v, format) {
    if (missing(v)) { return "-"; }
    switch (format) {
      case "money_full": return money(+v, true);
      case "money": return money(+v, false);
      case "pct": return nf(config.pct_digits).format(100 * v) + "%";
      case "number": return nf(0).format(v);
      case "number2": case "ratio": return nf(2).format(v);
      case "p":
        if (v < 0.001) { return "<0.001"; }
        if (v > 0.999) { return ">0.999"; }
        return (+v).toFixed(3);
      case "date": return strftime(v, config.date_format);
      case "datetime": return (strftime(v, config.date_format) + " " + String(v).replace("T", " ").slice(11, 16)).trim();
      case "month": return strftime(v, config.month_format);
      case "bool": return v ? "Yes" : "No";
      default:
        if (v === true || v === false) { return v ? "Yes" : "No"; }
        return String(v);
    }
  }
  function axisFormat(format) {
    return function (v) {
      if (format === "money_full" || format === "money") { return compact(v, config.currency_symbol); }
      if (format === "pct") { return trimmed.format(100 * v) + "%"; }
      if (format === "date" || format === "month") { return fmt(v, format); }
      if (typeof v === "number" && Math.abs(v) >= 1e4) { return compact(v, ""); }
      return typeof v === "number" ? nf(Math.abs(v) < 10 && v % 1 ? 2 : 0).format(v) : String(v);
    };
  }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // --- data and filters ---------------------------------------------------------------------
  function col(block, name) {
    var cols = block.data.columns;
    for (var i = 0; i < cols.length; i++) { if (cols[i].name === name) { return i; } }
    return -1;
  }
  function column(block, name) { return block.data.columns[col(block, name)] || { name: name, label: name, format: "text" }; }
  function activeFilters() {
    var active = {};
    Object.keys(state.filters).forEach(function (k) { if (state.filters[k] !== "") { active[k] = state.filters[k]; } });
    return active;
  }
  function rowPasses(block, row) {
    var f = block.filters || {}, active = activeFilters();
    for (var kind in active) {
      if (f[kind] && String(row[col(block, f[kind])]) !== active[kind]) { return false; }
    }
    if (f.date && (state.dateFrom || state.dateTo)) {
      var d = String(row[col(block, f.date)]).slice(0, 10);
      if (state.dateFrom && d < state.dateFrom) { return false; }
      if (state.dateTo && d > state.dateTo) { return false; }
    }
    return true;
  }
  function filteredRows(block) { return block.data.rows.filter(function (r) { return rowPasses(block, r); }); }
  function filterNote(block) {
    var f = block.filters || {}, active = activeFilters(), on = [], off = [];
    var labels = filterLabels();
    Object.keys(active).forEach(function (k) { (f[k] ? on : off).push(labels[k] + (f[k] ? " = " + active[k] : "")); });
    if (state.dateFrom || state.dateTo) {
      var range = (state.dateFrom || "start") + " to " + (state.dateTo || "end");
      (f.date ? on : off).push(labels.date + (f.date ? " " + range : ""));
    }
    var parts = [];
    if (on.length) { parts.push("Filtered: " + on.join(", ") + "."); }
    if (off.length) { parts.push("Not filtered by " + off.join(", ") + " (no such column here)."); }
    return parts.join(" ");
  }
  function filterLabels() {
    var labels = { date: "Date" };
    Object.keys(blocks).forEach(function (id) {
      if (blocks[id].kind === "filters") { blocks[id].filters.forEach(function (f) { labels[f.kind] = f.label; }); }
    });
    return labels;
  }
  function showFilterNote(root, block) {
    var note = root.querySelector(".filter-state");
    if (!note) { return; }
    var text = filterNote(block);
    note.textContent = text;
    note.hidden = !text;
  }

  // Re-aggregate additive measures: group by the given columns, sum the measures.
  function aggregate(block, rows, keys, measures) {
    var ki = keys.map(function (k) { return col(block, k); });
    var mi = measures.map(function (m) { return col(block, m); });
    var groups = {}, order = [];
    rows.forEach(function (r) {
      var key = JSON.stringify(ki.map(function (i) { return r[i]; }));
      if (!groups[key]) {
        groups[key] = r.slice();
        mi.forEach(function (i) { groups[key][i] = null; });
        order.push(key);
      }
      mi.forEach(function (i) {
        if (!missing(r[i])) { groups[key][i] = (groups[key][i] || 0) + r[i]; }
      });
    });
    return order.map(function (k) { return groups[k]; });
  }

  // --- charts --------------------------------------------------------------------------------
  var palette = ["#3b6ea8", "#e07b39", "#4c9f70", "#c44e52", "#8172b3", "#937860",
                 "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd", "#2f4858", "#b5651d"];
  function unique(values) {
    var seen = {}, out = [];
    values.forEach(function (v) { var k = String(v); if (!seen[k]) { seen[k] = true; out.push(v); } });
    return out;
  }
  function baseOption(spec) {
    return {
      color: palette,
      backgroundColor: "transparent",
      animation: false,
      textStyle: { fontSize: 12 },
      grid: { left: 8, right: 24, top: 48, bottom: 8, containLabel: true },
      tooltip: { confine: true, appendToBody: false, className: "chart-tooltip" },
      legend: { type: "scroll", top: 0, left: 0, right: 0, show: false }
    };
  }
  function tooltipRow(label, value) {
    return '<div class="tt-row"><span>' + esc(label) + '</span><b>' + esc(value) + "</b></div>";
  }
  function chartRows(spec) {
    var rows = filteredRows(spec);
    if (spec.agg === "sum") {
      var keys = [spec.x].concat(spec.series ? [spec.series] : []);
      if (spec.kind === "heatmap") { keys = [spec.x, spec.y[0]]; }
      var measures = spec.kind === "heatmap" ? [spec.value] : spec.y.slice();
      if (spec.band_low) { measures.push(spec.band_low, spec.band_high); }
      rows = aggregate(spec, rows, keys, measures);
    }
    return rows;
  }
  // Category labels: whole words on as many lines as needed when each category has room,
  // else turned 40 degrees; horizontal bars get up to a third of the width.
  function categoryLabels(spec, n) {
    var width = (document.getElementById(spec.id).querySelector(".chart-box").clientWidth || 600) - 70;
    if (spec.horizontal) {
      return { interval: 0, width: Math.max(90, Math.min(220, width / 3)), overflow: "break", lineHeight: 13 };
    }
    var room = width / Math.max(1, n);
    if (room >= 58) { return { interval: 0, width: room - 6, overflow: "break", rotate: 0, lineHeight: 13 }; }
    return { interval: 0, rotate: 40, width: 110, overflow: "truncate", hideOverlap: true };
  }
  // Lines a category label wraps to at this width (whole words, as the axis breaks them).
  // ECharts' containLabel may reserve a single line for a label it then draws on two,
  // which cuts the second line off at the canvas' edge; the grid keeps room for them.
  var measure = document.createElement("canvas").getContext("2d");
  function wrappedLines(labels, width) {
    measure.font = "12px sans-serif";
    return labels.reduce(function (most, label) {
      var lines = 1, line = "";
      String(label).split(/\s+/).forEach(function (word) {
        var next = line ? line + " " + word : word;
        if (line && measure.measureText(next).width > width) { lines += 1; line = word; } else { line = next; }
      });
      return Math.max(most, lines);
    }, 1);
  }
  function barOrLine(spec, rows) {
    var option = baseOption(spec), xi = col(spec, spec.x), xcol = column(spec, spec.x);
    var categories = unique(rows.map(function (r) { return r[xi]; }));
    var series = [], seriesNames = [];
    var isTime = spec.kind === "line" && spec.time;
    function addSeries(name, yName, pick) {
      var yi = col(spec, yName);
      var data = isTime
        ? pick.map(function (r) { return [r[xi], r[yi]]; })
        : categories.map(function (c) {
            var found = pick.filter(function (r) { return String(r[xi]) === String(c); })[0];
            return found ? found[yi] : null;
          });
      seriesNames.push(name);
      var one = {
        name: name, type: spec.kind, data: data, connectNulls: false,
        stack: spec.stack ? "total" : undefined,
        showSymbol: spec.kind === "line" && rows.length < 60, symbolSize: 5,
        emphasis: { focus: "series" }
      };
      if ((spec.dashed || []).indexOf(yName) >= 0) { one.lineStyle = { type: "dashed", width: 2 }; }
      series.push(one);
    }
    if (spec.series) {
      var si = col(spec, spec.series);
      unique(rows.map(function (r) { return r[si]; })).forEach(function (s) {
        addSeries(String(s), spec.y[0], rows.filter(function (r) { return r[si] === s; }));
      });
    } else {
      spec.y.forEach(function (y) { addSeries(column(spec, y).label, y, rows); });
    }
    // A dashed line (the forecast) that begins where the solid line (the actuals) ends
    // starts from the solid line's last point, so the two join; that borrowed point is
    // drawn without a marker and left out of the tooltip.
    var joins = {};
    if (isTime && !spec.series) {
      var dashedYs = spec.dashed || [];
      var solid = spec.y.filter(function (y) { return dashedYs.indexOf(y) < 0; })[0];
      spec.y.forEach(function (y, i) {
        if (dashedYs.indexOf(y) < 0 || solid === undefined) { return; }
        var d = series[i].data, s = series[spec.y.indexOf(solid)].data, first = -1;
        for (var k = 0; k < d.length; k++) { if (!missing(d[k][1])) { first = k; break; } }
        if (first <= 0 || missing(s[first - 1][1]) || !missing(s[first][1])) { return; }
        d[first - 1] = { value: [d[first - 1][0], s[first - 1][1]], symbol: "none" };
        joins[series[i].name] = String(d[first - 1].value[0]);
      });
    }
    var yFormat = column(spec, spec.y[0]).format;
    if (spec.band_low && spec.band_high) {
      var lo = col(spec, spec.band_low), hi = col(spec, spec.band_high);
      var lowData = rows.map(function (r) { return isTime ? [r[xi], r[lo]] : r[lo]; });
      var spanData = rows.map(function (r) {
        var span = missing(r[hi]) || missing(r[lo]) ? null : r[hi] - r[lo];
        return isTime ? [r[xi], span] : span;
      });
      // The band is the span (high - low) stacked on an invisible low line; "all" stacks
      // a positive span on a negative low too (the default stacks by sign).
      var bandColor = dark ? "rgba(240,150,90,0.30)" : "rgba(224,123,57,0.20)";
      series.push({ name: spec.band_label, type: "line", data: lowData, stack: "band", stackStrategy: "all",
                    symbol: "none", connectNulls: false, lineStyle: { opacity: 0 }, itemStyle: { color: bandColor },
                    tooltip: { show: false }, silent: true, z: 1 });
      series.push({ name: spec.band_label, type: "line", data: spanData, stack: "band", stackStrategy: "all",
                    symbol: "none", connectNulls: false, lineStyle: { opacity: 0 }, itemStyle: { color: bandColor },
                    areaStyle: { color: bandColor, opacity: 1 }, tooltip: { show: false }, silent: true, z: 1 });
      seriesNames.push({ name: spec.band_label, icon: "rect", itemStyle: { color: bandColor } });
    }
    var errIndex = -1;
    if (spec.kind === "bar" && spec.err_low && spec.err_high && !spec.agg) {
      var el = col(spec, spec.err_low), eh = col(spec, spec.err_high);
      errIndex = series.length;
      series.push({
        name: "95% interval", type: "custom", z: 10,
        itemStyle: { color: dark ? "#ddd" : "#333" },
        // the whiskers count in the value axis' extent, so none runs off the chart
        encode: spec.horizontal ? { x: [0, 2], y: 1 } : { x: 0, y: [1, 2] },
        data: categories.map(function (c, i) {
          var r = rows.filter(function (row) { return String(row[xi]) === String(c); })[0];
          return spec.horizontal ? [r[el], i, r[eh]] : [i, r[el], r[eh]];
        }),
        renderItem: function (params, api) {
          var a, b, cap = 4, style = { stroke: dark ? "#ddd" : "#333", lineWidth: 1.2 };
          if (spec.horizontal) {
            a = api.coord([api.value(0), api.value(1)]); b = api.coord([api.value(2), api.value(1)]);
            return { type: "group", children: [
              { type: "line", shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: style },
              { type: "line", shape: { x1: a[0], y1: a[1] - cap, x2: a[0], y2: a[1] + cap }, style: style },
              { type: "line", shape: { x1: b[0], y1: b[1] - cap, x2: b[0], y2: b[1] + cap }, style: style }] };
          }
          a = api.coord([api.value(0), api.value(1)]); b = api.coord([api.value(0), api.value(2)]);
          return { type: "group", children: [
            { type: "line", shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: style },
            { type: "line", shape: { x1: a[0] - cap, y1: a[1], x2: a[0] + cap, y2: a[1] }, style: style },
            { type: "line", shape: { x1: b[0] - cap, y1: b[1], x2: b[0] + cap, y2: b[1] }, style: style }] };
        }
      });
      seriesNames.push("95% interval");
    }
    var categoryAxis = {
      type: isTime ? "time" : "category", name: spec.horizontal ? spec.ylabel : spec.xlabel,
      nameLocation: "middle", nameGap: spec.horizontal ? 0 : 28,
      data: isTime ? undefined : categories.map(function (c) { return fmt(c, xcol.format); }),
      axisLabel: isTime ? { hideOverlap: true } : categoryLabels(spec, categories.length),
      inverse: !!spec.horizontal
    };
    if (spec.horizontal) { categoryAxis.name = ""; }
    var valueAxis = {
      type: "value", name: spec.horizontal ? spec.xlabel : spec.ylabel,
      nameLocation: spec.horizontal ? "middle" : "end", nameGap: spec.horizontal ? 30 : 12,
      nameTextStyle: { align: spec.horizontal ? "center" : "left" },
      axisLabel: { formatter: axisFormat(yFormat), hideOverlap: true }
    };
    if (spec.horizontal) { valueAxis.nameGap = 26; option.grid.bottom = 30; }
    if (!spec.horizontal && !isTime && categoryAxis.axisLabel.rotate === 0) {
      var lines = wrappedLines(categoryAxis.data, categoryAxis.axisLabel.width);
      option.grid.bottom = 8 + 13 * (lines - 1);
    }
    option.xAxis = spec.horizontal ? valueAxis : categoryAxis;
    option.yAxis = spec.horizontal ? categoryAxis : valueAxis;
    if (!spec.horizontal && !isTime) { option.xAxis.name = ""; }
    if (isTime) { option.xAxis.name = ""; }
    option.series = series;
    option.legend.show = seriesNames.length > 1;
    option.legend.data = unique(seriesNames.filter(function (n) { return typeof n === "string"; }))
      .concat(seriesNames.filter(function (n) { return typeof n !== "string"; }));
    option.grid.top = option.legend.show ? 56 : 40;
    option.tooltip.trigger = "axis";
    option.tooltip.axisPointer = { type: spec.kind === "bar" ? "shadow" : "line" };
    option.tooltip.formatter = function (params) {
      var p = params[0];
      var key = isTime ? p.value[0] : categories[p.dataIndex];
      var html = "<b>" + esc(fmt(key, xcol.format)) + "</b>";
      params.forEach(function (q) {
        if (q.seriesType === "custom" || q.seriesName === spec.band_label) { return; }
        if (isTime && joins[q.seriesName] === String(key)) { return; }
        var v = isTime ? q.value[1] : q.value;
        html += tooltipRow(q.seriesName, fmt(v, yFormat));
      });
      var row = rows.filter(function (r) { return String(r[xi]) === String(key); })[0];
      if (row && spec.band_low && !missing(row[col(spec, spec.band_low)])) {
        html += tooltipRow(spec.band_label, fmt(row[col(spec, spec.band_low)], yFormat) + " to " +
          fmt(row[col(spec, spec.band_high)], yFormat));
      }
      if (row && errIndex >= 0) {
        html += tooltipRow("95% interval", fmt(row[col(spec, spec.err_low)], yFormat) + " to " +
          fmt(row[col(spec, spec.err_high)], yFormat));
      }
      return html;
    };
    if (isTime) {
      option.dataZoom = [{ type: "inside", filterMode: "none" },
                         { type: "slider", height: 18, bottom: 4, filterMode: "none" }];
      option.grid.bottom = 36;
    }
    option._categories = categories;
    return option;
  }
  function scatter(spec, rows) {
    var option = baseOption(spec), xi = col(spec, spec.x), yi = col(spec, spec.y[0]);
    var xcol = column(spec, spec.x), ycol = column(spec, spec.y[0]);
    var groups = spec.series ? unique(rows.map(function (r) { return r[col(spec, spec.series)]; })) : [""];
    option.series = groups.map(function (g) {
      var pick = spec.series ? rows.filter(function (r) { return r[col(spec, spec.series)] === g; }) : rows;
      return { name: String(g), type: "scatter", symbolSize: 6, large: pick.length > 2000,
               itemStyle: { opacity: 0.7 },
               data: pick.filter(function (r) { return !spec.logy || r[yi] > 0; })
                 .map(function (r) { return [r[xi], r[yi]]; }) };
    });
    option.xAxis = { type: spec.logx ? "log" : "value", name: spec.xlabel, nameLocation: "middle", nameGap: 26,
                     axisLabel: { formatter: axisFormat(xcol.format), hideOverlap: true }, scale: true };
    option.yAxis = { type: spec.logy ? "log" : "value", name: spec.ylabel, nameTextStyle: { align: "left" },
                     axisLabel: { formatter: axisFormat(ycol.format), hideOverlap: true }, scale: true };
    option.grid.bottom = 30;
    option.legend.show = groups.length > 1;
    option.grid.top = option.legend.show ? 60 : 40;
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      return (spec.series ? "<b>" + esc(p.seriesName) + "</b>" : "") +
        tooltipRow(xcol.label, fmt(p.value[0], xcol.format)) + tooltipRow(ycol.label, fmt(p.value[1], ycol.format));
    };
    return option;
  }
  function heatmap(spec, rows) {
    var option = baseOption(spec), xi = col(spec, spec.x), yi = col(spec, spec.y[0]), vi = col(spec, spec.value);
    var xcol = column(spec, spec.x), ycol = column(spec, spec.y[0]), vcol = column(spec, spec.value);
    function order(values, given) {
      var u = unique(values);
      if (given && given.length) { return given.filter(function (g) { return u.map(String).indexOf(g) >= 0; }); }
      if (u.every(function (v) { return typeof v === "number"; })) { return u.sort(function (a, b) { return a - b; }); }
      // months and dates in time order, whatever order the rows came in
      if (u.every(function (v) { return /^\d{4}-\d{2}/.test(String(v)); })) { return u.sort(); }
      return u;
    }
    var ys = order(rows.map(function (r) { return r[yi]; }), spec.y_order);
    var xs = order(rows.map(function (r) { return r[xi]; }), spec.x_order);
    if (!spec.x_order.length && xs.every(function (x) { return ys.map(String).indexOf(String(x)) >= 0; })) {
      xs = ys.filter(function (y) { return xs.map(String).indexOf(String(y)) >= 0; });
    }
    var main = [], diag = [], values = [];
    rows.forEach(function (r) {
      var cell = [xs.map(String).indexOf(String(r[xi])), ys.map(String).indexOf(String(r[yi])), r[vi]];
      if (cell[0] < 0 || cell[1] < 0) { return; }
      if (spec.diagonal === "muted" && String(r[xi]) === String(r[yi])) { diag.push(cell); return; }
      main.push(cell);
      if (!missing(r[vi])) { values.push(r[vi]); }
    });
    var max = values.length ? Math.max.apply(null, values) : 1;
    var min = values.length ? Math.min.apply(null, values) : 0;
    var boxWidth = document.getElementById(spec.id).querySelector(".chart-box").clientWidth || 600;
    var labels = xs.length * ys.length <= 200 && (boxWidth - 160) / Math.max(1, xs.length) >= 34;
    // axis names are in the caption above the chart ("Rows: ...; columns: ...")
    option.xAxis = { type: "category", data: xs.map(function (x) { return fmt(x, xcol.format); }),
                     splitArea: { show: true },
                     axisLabel: categoryLabels({ id: spec.id }, xs.length) };
    option.yAxis = { type: "category", data: ys.map(function (y) { return fmt(y, ycol.format); }),
                     inverse: true, splitArea: { show: true },
                     axisLabel: { interval: 0, width: 120, overflow: "break" } };
    option.grid.bottom = 8;
    option.grid.top = 56;
    option.visualMap = { min: min, max: max === min ? min + 1 : max, calculable: true, orient: "horizontal",
                         left: "center", top: 0, itemHeight: 120, itemWidth: 12, seriesIndex: 0,
                         formatter: function (v) { return fmt(v, vcol.format); },
                         inRange: { color: dark ? ["#1d2b3a", "#5b9bd5", "#f4d35e"] : ["#f1f6fb", "#6b9bd1", "#12355b"] } };
    var label = { show: labels, fontSize: 10, formatter: function (p) {
      return p.value[2] === 0 ? "" : fmt(p.value[2], vcol.format);  // 0 moves: an empty cell, not "0.0%"
    } };
    option.series = [{ name: spec.value_label, type: "heatmap", data: main, label: label }];
    if (diag.length) {
      option.series.push({ name: "Stayed (not on the colour scale)", type: "heatmap", data: diag, label: label,
                           itemStyle: { color: dark ? "#3a3f47" : "#d9dde3" } });
    }
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      return tooltipRow(ycol.label, fmt(ys[p.value[1]], ycol.format)) + tooltipRow(xcol.label, fmt(xs[p.value[0]], xcol.format)) +
        tooltipRow(spec.value_label, fmt(p.value[2], vcol.format));
    };
    return option;
  }
  // Horizontal bars: as tall as their wrapped names need at this width (a phone gives a
  // name a third of the width, so long names take more lines than on a desktop).
  function fitHeight(entry, rows) {
    var spec = entry.spec;
    if (spec.kind !== "bar" || !spec.horizontal) { return; }
    var xi = col(spec, spec.x), names = unique(rows.map(function (r) { return fmt(r[xi], column(spec, spec.x).format); }));
    var width = categoryLabels(spec, names.length).width;
    var longest = names.reduce(function (m, n) { return Math.max(m, String(n).length); }, 0);
    var lines = Math.max(1, Math.ceil(longest * 6.6 / width));
    var height = Math.max(300, Math.max(26, lines * 13 + 10) * names.length + 100);
    var box = entry.root.querySelector(".chart-box");
    if (parseInt(box.style.height, 10) !== height) { box.style.height = height + "px"; entry.chart.resize(); }
  }
  function drawChart(entry) {
    var spec = entry.spec, rows = chartRows(spec);
    fitHeight(entry, rows);
    var option = spec.kind === "scatter" ? scatter(spec, rows)
      : spec.kind === "heatmap" ? heatmap(spec, rows) : barOrLine(spec, rows);
    entry.categories = option._categories;
    delete option._categories;
    entry.chart.setOption(option, true);
    entry.root.classList.toggle("empty", rows.length === 0);
    showFilterNote(entry.root, spec);
  }
  function setupChart(spec) {
    var root = document.getElementById(spec.id);
    var box = root.querySelector(".chart-box");
    var chart = echarts.init(box, dark ? "dark" : null, { renderer: "canvas" });
    var entry = { spec: spec, root: root, chart: chart };
    if (spec.drill) {
      chart.on("click", function (p) {
        var value = spec.kind === "bar" && entry.categories ? entry.categories[p.dataIndex] : p.name;
        if (value !== undefined) { drill(spec.drill, String(value)); }
      });
    }
    charts.push(entry);
    drawChart(entry);
  }

  // --- tables --------------------------------------------------------------------------------
  function csvCell(v) {
    if (missing(v)) { return ""; }
    var s = String(v);
    // A text cell a spreadsheet would run as a formula (CSV injection) gets a leading
    // apostrophe; numbers keep their sign. The same rule as spreadsheet_safe in reports/data.py
    // (tests/formula_cases.py checks both on one vector).
    if (typeof v === "string" && /^[=+@\t\r-]/.test(s)) { s = "'" + s; }
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function matchingTotal(spec, filteredCount) {
    var data = spec.data;
    if (!data.capped) { return filteredCount; }
    var active = activeFilters(), f = spec.filters || {};
    if (!data.counts) { return data.total; }
    var keys = data.counts.keys, total = 0;
    data.counts.combos.forEach(function (combo) {
      for (var kind in active) {
        if (f[kind]) {
          var k = keys.indexOf(f[kind]);
          if (k >= 0 && String(combo[k]) !== active[kind]) { return; }
        }
      }
      total += combo[combo.length - 1];
    });
    return total;
  }
  // A capped table's download: the file of the active filter value when one was
  // written (the drill-down column), else the whole list, said plainly.
  function downloadLink(spec) {
    var data = spec.data, active = activeFilters(), f = spec.filters || {};
    if (!data.capped) { return null; }
    var files = data.files || { all: null, by: {} };
    var applied = Object.keys(active).filter(function (k) { return f[k]; });
    var labels = filterLabels();
    for (var i = 0; i < applied.length; i++) {
      var file = (files.by[f[applied[i]]] || {})[active[applied[i]]];
      if (file) {
        var rest = applied.filter(function (k) { return k !== applied[i]; });
        var count = data.counts ? matchingTotalFor(spec, [applied[i]]) : data.total;
        return { href: file, count: count, label: active[applied[i]] +
          (rest.length ? " (filter " + rest.map(function (k) { return labels[k]; }).join(", ") + " in your spreadsheet)" : "") };
      }
    }
    return { href: files.all, count: data.total, label: "all" +
      (applied.length ? " (filter " + applied.map(function (k) { return labels[k]; }).join(", ") + " in your spreadsheet)" : "") };
  }
  function matchingTotalFor(spec, kinds) {
    var saved = state.filters, only = {};
    kinds.forEach(function (k) { only[k] = saved[k]; });
    state.filters = only;
    var total = matchingTotal(spec, 0);
    state.filters = saved;
    return total;
  }
  function renderTable(entry) {
    var spec = entry.spec, mount = entry.mount, data = spec.data;
    var shown = spec.shown.map(function (name) { return column(spec, name); });
    var rows = filteredRows(spec);
    var inPage = rows.length;
    var term = entry.search.trim().toLowerCase();
    if (term) {
      rows = rows.filter(function (r) {
        return shown.some(function (c) { return fmt(r[col(spec, c.name)], c.format).toLowerCase().indexOf(term) >= 0; });
      });
    }
    if (entry.sort) {
      var si = col(spec, entry.sort), dir = entry.dir;
      rows = rows.slice().sort(function (a, b) {
        var x = a[si], y = b[si];
        if (missing(x)) { return missing(y) ? 0 : 1; }
        if (missing(y)) { return -1; }
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
    }
    var total = term ? rows.length : matchingTotal(spec, rows.length);
    var pages = Math.max(1, Math.ceil(rows.length / spec.page_size));
    entry.page = Math.min(entry.page, pages - 1);
    var start = entry.page * spec.page_size, pageRows = rows.slice(start, start + spec.page_size);
    var html = '<table><thead><tr>';
    shown.forEach(function (c) {
      var sorted = entry.sort === c.name ? (entry.dir > 0 ? "ascending" : "descending") : "none";
      html += '<th scope="col" class="' + (c.numeric ? "num" : "") + '" aria-sort="' + sorted + '"' +
        (c.description ? ' title="' + esc(c.description) + '"' : "") + '><button type="button" class="sort" data-col="' +
        esc(c.name) + '">' + esc(c.label) + '<span class="arrow" aria-hidden="true">' +
        (sorted === "ascending" ? " ▲" : sorted === "descending" ? " ▼" : "") + "</span></button></th>";
    });
    html += "</tr></thead><tbody>";
    pageRows.forEach(function (r) {
      html += "<tr>";
      shown.forEach(function (c) {
        var v = r[col(spec, c.name)], text = esc(fmt(v, c.format));
        if (spec.drill && c.name === spec.drill_column && !missing(v)) {
          text = '<button type="button" class="drill-link" data-drill="' + esc(spec.drill) + '" data-value="' + esc(v) + '">' + text + "</button>";
        }
        html += '<td class="' + (c.numeric ? "num" : c.wide ? "wide" : "text") + '" data-label="' + esc(c.label) + '">' + text + "</td>";
      });
      html += "</tr>";
    });
    if (!pageRows.length) { html += '<tr><td colspan="' + shown.length + '" class="empty-row">No rows match.</td></tr>'; }
    html += "</tbody></table>";
    var first = pageRows.length ? start + 1 : 0, last = start + pageRows.length;
    var count = nf(0).format(first) + "–" + nf(0).format(last) + " of " + nf(0).format(total);
    var note = "";
    if (data.capped && !term && total > inPage) {
      note = " (the first " + nf(0).format(inPage) + " are in the page)";
    }
    if (term) {
      note = " matching “" + entry.search + "”" +
        (data.capped ? " among the " + nf(0).format(inPage) + " rows in the page (download the full list to search all)" : "");
    }
    var link = downloadLink(spec);
    var download = link && link.href
      ? '<a class="download" href="' + esc(link.href) + '" download>Download CSV: ' + esc(link.label) + " (" + nf(0).format(link.count) + " rows)</a>"
      : '<button type="button" class="download">Download CSV (' + nf(0).format(inPage) + " rows)</button>";
    entry.body.innerHTML = html;
    entry.hint.hidden = entry.body.scrollWidth <= entry.body.clientWidth + 1;
    entry.count.textContent = "Rows " + count + note;
    entry.pager.querySelector(".prev").disabled = entry.page === 0;
    entry.pager.querySelector(".next").disabled = entry.page >= pages - 1;
    entry.pager.querySelector(".page-no").textContent = "Page " + (entry.page + 1) + " of " + pages;
    entry.downloadSlot.innerHTML = download;
    showFilterNote(entry.root, spec);
  }
  function downloadCsv(entry) {
    var spec = entry.spec, names = spec.data.columns.map(function (c) { return c.name; });
    var lines = [names.map(csvCell).join(",")];
    filteredRows(spec).forEach(function (r) { lines.push(r.map(csvCell).join(",")); });
    var blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = spec.stem + ".csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function setupTable(spec) {
    var root = document.getElementById(spec.id);
    var mount = root.querySelector(".table-mount");
    mount.innerHTML =
      '<div class="table-tools"><input type="search" class="table-search" placeholder="Search" aria-label="Search the table">' +
      '<span class="download-slot"></span></div><p class="scroll-hint" hidden>Scroll sideways for more columns →</p>' +
      '<div class="table-scroll"></div>' +
      '<div class="table-pager"><span class="table-count" aria-live="polite"></span>' +
      '<span class="pager"><button type="button" class="prev">Previous</button><span class="page-no"></span>' +
      '<button type="button" class="next">Next</button></span></div>';
    var entry = { spec: spec, root: root, mount: mount, body: mount.querySelector(".table-scroll"),
                  count: mount.querySelector(".table-count"), pager: mount.querySelector(".pager"),
                  downloadSlot: mount.querySelector(".download-slot"), hint: mount.querySelector(".scroll-hint"),
                  search: "", sort: null, dir: 1, page: 0 };
    mount.querySelector(".table-search").addEventListener("input", function (e) {
      entry.search = e.target.value; entry.page = 0; renderTable(entry);
    });
    entry.body.addEventListener("click", function (e) {
      var sort = e.target.closest("button.sort");
      if (sort) {
        var name = sort.getAttribute("data-col");
        entry.dir = entry.sort === name ? -entry.dir : 1;
        entry.sort = name; entry.page = 0; renderTable(entry);
        return;
      }
      var link = e.target.closest("button.drill-link");
      if (link) { drill(link.getAttribute("data-drill"), link.getAttribute("data-value")); }
    });
    entry.pager.querySelector(".prev").addEventListener("click", function () { entry.page -= 1; renderTable(entry); });
    entry.pager.querySelector(".next").addEventListener("click", function () { entry.page += 1; renderTable(entry); });
    entry.downloadSlot.addEventListener("click", function (e) {
      if (e.target.closest("button.download")) { downloadCsv(entry); }
    });
    tables.push(entry);
    renderTable(entry);
  }

  // --- filters and drill-down -------------------------------------------------------------------
  function refresh() {
    charts.forEach(drawChart);
    tables.forEach(function (t) { t.page = 0; renderTable(t); });
  }
  function setupFilters(spec) {
    var root = document.getElementById(spec.id);
    spec.filters.forEach(function (f) {
      if (f.kind === "date") {
        var dates = [];
        Object.keys(blocks).forEach(function (id) {
          var b = blocks[id];
          if (b.filters && b.filters.date) {
            var i = col(b, b.filters.date);
            b.data.rows.forEach(function (r) { if (!missing(r[i])) { dates.push(String(r[i]).slice(0, 10)); } });
          }
        });
        dates.sort();
        root.querySelectorAll('input[data-filter="date"]').forEach(function (input) {
          if (dates.length) { input.min = dates[0]; input.max = dates[dates.length - 1]; }
          input.addEventListener("change", function () {
            if (input.getAttribute("data-bound") === "from") { state.dateFrom = input.value; } else { state.dateTo = input.value; }
            refresh();
          });
        });
        return;
      }
      var values = [];
      Object.keys(blocks).forEach(function (id) {
        var b = blocks[id];
        if (b.filters && b.filters[f.kind]) {
          var i = col(b, b.filters[f.kind]);
          b.data.rows.forEach(function (r) { if (!missing(r[i])) { values.push(String(r[i])); } });
          if (b.data.counts) {
            var k = b.data.counts.keys.indexOf(b.filters[f.kind]);
            b.data.counts.combos.forEach(function (c) { if (!missing(c[k])) { values.push(String(c[k])); } });
          }
        }
      });
      var select = root.querySelector('select[data-filter="' + f.kind + '"]');
      unique(values).forEach(function (v) {
        var option = document.createElement("option");
        option.value = v; option.textContent = v;
        select.appendChild(option);
      });
      state.filters[f.kind] = "";
      select.addEventListener("change", function () { state.filters[f.kind] = select.value; refresh(); });
    });
    root.querySelector(".filters-reset").addEventListener("click", function () {
      root.querySelectorAll("select").forEach(function (s) { s.value = ""; });
      root.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      Object.keys(state.filters).forEach(function (k) { state.filters[k] = ""; });
      state.dateFrom = state.dateTo = "";
      refresh();
    });
  }
  function drill(kind, value) {
    var select = document.querySelector('select[data-filter="' + kind + '"]');
    if (!select) { return; }
    if (![].some.call(select.options, function (o) { return o.value === value; })) { return; }
    select.value = value;
    state.filters[kind] = value;
    refresh();
    var target = tables.filter(function (t) { return t.spec.data.capped && t.spec.filters[kind]; })[0] ||
      tables.filter(function (t) { return t.spec.filters[kind]; })[0];
    if (target) {
      // Land below the sticky filter bar, not under it.
      var bar = document.querySelector(".filters");
      var offset = bar && getComputedStyle(bar).position === "sticky" ? bar.offsetHeight + 12 : 8;
      window.scrollTo(0, target.root.getBoundingClientRect().top + window.scrollY - offset);
    }
  }

  // --- SMS preview ------------------------------------------------------------------------------
  function setupPhone(spec) {
    var root = document.getElementById(spec.id);
    var events = root.querySelector(".event-select"), offers = root.querySelector(".offer-select");
    var segments = root.querySelector(".segment-select");
    var messages = spec.messages;
    function fill(select, items, keep) {
      var previous = keep ? select.value : "";
      select.innerHTML = "";
      items.forEach(function (item) {
        var option = document.createElement("option");
        option.value = item[0]; option.textContent = item[1];
        select.appendChild(option);
      });
      if (previous && items.some(function (i) { return i[0] === previous; })) { select.value = previous; }
    }
    function pairs(list, id, name) {
      var seen = {}, out = [];
      list.forEach(function (m) { if (!seen[m[id]]) { seen[m[id]] = true; out.push([m[id], m[name]]); } });
      return out;
    }
    function forEvent() { return messages.filter(function (m) { return m.event_id === events.value; }); }
    function forOffer() { return forEvent().filter(function (m) { return m.offer_id === offers.value; }); }
    function show() {
      var m = forOffer().filter(function (x) { return x.segment_name === segments.value; })[0];
      var real = spec.names[m.segment_name];
      var name = real || spec.fallback_name;
      root.querySelector(".sms-preview").textContent = m.message_text.split("{first_name}").join(name);
      root.querySelector(".sender").textContent = spec.sender;
      root.querySelector(".clock").textContent = spec.time;
      root.querySelector(".thread-time").textContent = "Today " + spec.time;
      var facts = [
        ["Source", m.written_by ? m.written_by : m.generator === "template" ? "Template (fallback)" : m.generator ? "Language model (" + m.generator + ")" : "-"],
        ["Length", nf(0).format(m.preview_character_count) + " characters"],
        ["Encoding", m.preview_sms_encoding],
        ["Segments", nf(0).format(m.preview_sms_parts) + " SMS"],
        ["Preview name", real ? real + " (a customer in " + m.segment_name + ")" : name + " (" + spec.fallback_why + ")"]
      ];
      root.querySelector(".message-facts").innerHTML = facts.map(function (f) {
        return "<div><dt>" + esc(f[0]) + "</dt><dd>" + esc(f[1]) + "</dd></div>";
      }).join("");
    }
    events.addEventListener("change", function () { fill(offers, pairs(forEvent(), "offer_id", "offer_name"), true);
      fill(segments, pairs(forOffer(), "segment_name", "segment_name"), true); show(); });
    offers.addEventListener("change", function () { fill(segments, pairs(forOffer(), "segment_name", "segment_name"), true); show(); });
    segments.addEventListener("change", show);
    if (!messages.length) { root.querySelector(".sms-preview").textContent = "No messages."; return; }
    fill(events, pairs(messages, "event_id", "event_name"), false);
    fill(offers, pairs(forEvent(), "offer_id", "offer_name"), false);
    fill(segments, pairs(forOffer(), "segment_name", "segment_name"), false);
    show();
  }

  // --- page chrome -------------------------------------------------------------------------------
  document.querySelectorAll(".insights-button").forEach(function (button) {
    button.addEventListener("click", function () {
      var list = document.getElementById(button.getAttribute("aria-controls"));
      var open = list.hasAttribute("hidden");
      if (open) { list.removeAttribute("hidden"); } else { list.setAttribute("hidden", ""); }
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "Hide insights" : "Insights";
    });
  });
  document.querySelectorAll(".drill-button").forEach(function (button) {
    button.addEventListener("click", function () {
      drill(button.getAttribute("data-drill"), button.getAttribute("data-value"));
    });
  });
  var menu = document.querySelector(".menu");
  if (menu) {
    menu.addEventListener("click", function () {
      var open = document.getElementById("nav").classList.toggle("open");
      menu.setAttribute("aria-expanded", String(open));
    });
  }

  Object.keys(blocks).forEach(function (id) {
    var spec = blocks[id];
    if (spec.kind === "filters") { setupFilters(spec); }
  });
  Object.keys(blocks).forEach(function (id) {
    var spec = blocks[id];
    if (spec.kind === "table") { setupTable(spec); }
    else if (spec.kind === "phone") { setupPhone(spec); }
    else if (spec.kind !== "filters") { setupChart(spec); }
  });

  var resizeTimer;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.chart.resize(); drawChart(c); });
      tables.forEach(function (t) { t.hint.hidden = t.body.scrollWidth <= t.body.clientWidth + 1; });
    }, 100);
  });
  // Print: no zoom slider on paper (the zoomed range stays as the reader left it).
  function showSliders(show) {
    charts.forEach(function (c) {
      var zoom = c.chart.getOption().dataZoom;
      if (!zoom || zoom.length < 2) { return; }
      c.chart.setOption({ dataZoom: [{}, { show: show }], grid: { bottom: show ? 36 : 8 } });
    });
  }
  window.addEventListener("beforeprint", function () {
    showSliders(false);
    charts.forEach(function (c) { c.chart.resize(); });
    tables.forEach(function (t) { t.savedSize = t.spec.page_size; t.spec.page_size = 1e9; renderTable(t); });
  });
  window.addEventListener("afterprint", function () {
    showSliders(true);
    tables.forEach(function (t) { t.spec.page_size = t.savedSize; renderTable(t); });
    charts.forEach(function (c) { c.chart.resize(); });
  });
  // For tests and the curious: the page's state and charts.
  window.reportState = {
    state: state, charts: charts, tables: tables, drill: drill, blocks: blocks, csvCell: csvCell
  };
})();
