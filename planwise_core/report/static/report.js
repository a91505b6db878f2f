/* The one script of both report pages. It counts the charts the browser really drew (an SVG with at least
   one mark of non-zero size) into body[data-charts-rendered], and records any script error in
   body[data-script-error]: the headless-browser tests read both. */
(function () {
  function fail(message) {
    if (document.body) { document.body.setAttribute("data-script-error", String(message)); }
  }
  window.onerror = function (message, source, line) { fail(message + " (line " + line + ")"); };
  function count() {
    try {
      var charts = document.querySelectorAll(".chart"), rendered = 0;
      for (var i = 0; i < charts.length; i++) {
        var marks = charts[i].querySelectorAll("svg rect.mark, svg path.mark, svg circle.mark");
        for (var j = 0; j < marks.length; j++) {
          var box = marks[j].getBBox();
          if (box.width > 0 || box.height > 0) { rendered++; break; }
        }
      }
      document.body.dataset.chartsTotal = String(charts.length);
      document.body.dataset.chartsRendered = String(rendered);
    } catch (e) {
      fail((e && e.message) || e);
    }
  }
  if (document.readyState === "complete") { count(); } else { window.addEventListener("load", count); }
})();
