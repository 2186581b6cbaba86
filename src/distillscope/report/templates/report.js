(function () {
  "use strict";
  var root = document.documentElement;
  var errors = [];
  function record(message) {
    errors.push(String(message));
    root.setAttribute("data-report-errors", String(errors.length));
    root.setAttribute("data-report-error-text", errors.join(" | ").slice(0, 500));
  }
  window.addEventListener("error", function (e) { record(e.message || "error"); });
  window.addEventListener("unhandledrejection", function (e) { record(e.reason || "rejection"); });
  document.addEventListener("securitypolicyviolation", function (e) { record("blocked " + e.blockedURI); });

  var PAGE = 50;
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function metaSpans(parent, obj) {
    Object.keys(obj || {}).forEach(function (k) { parent.appendChild(el("span", null, k + " " + obj[k])); });
  }
  function iceItem(d) {
    var art = el("article", "ev");
    var head = el("div", "meta");
    var badge = el("span", "badge lvl-" + d.level, d.level);
    head.appendChild(badge);
    head.appendChild(el("span", null, "#" + d.index));
    if (d.judge) { head.appendChild(el("span", null, "judge " + d.judge)); }
    metaSpans(head, d.lineage);
    metaSpans(head, d.probe);
    art.appendChild(head);
    if (d.prompt) {
      var det = el("details");
      det.appendChild(el("summary", null, "Prompt (" + d.prompt.length + " characters)"));
      det.appendChild(el("pre", "text", d.prompt));
      art.appendChild(det);
    }
    var pre = el("pre", "text");
    pre.appendChild(document.createTextNode(d.before || ""));
    if (d.mark) { pre.appendChild(el("mark", null, d.mark)); }
    pre.appendChild(document.createTextNode(d.after || ""));
    art.appendChild(pre);
    if (!d.mark && d.evidence) { art.appendChild(el("p", "meta", "Evidence: " + d.evidence)); }
    return art;
  }
  function setupPager(button) {
    var source = document.getElementById(button.getAttribute("data-source"));
    var list = document.getElementById(button.getAttribute("data-target"));
    if (!source || !list) { return; }
    var items = null;
    var shown = 0;
    function label() {
      var left = items === null ? Number(button.getAttribute("data-count")) : items.length - shown;
      button.textContent = "Show " + Math.min(PAGE, left) + " more (" + left + " left)";
      if (left <= 0) { button.hidden = true; }
    }
    button.addEventListener("click", function () {
      if (items === null) { items = JSON.parse(source.textContent || "[]"); }
      var frag = document.createDocumentFragment();
      items.slice(shown, shown + PAGE).forEach(function (d) { frag.appendChild(iceItem(d)); });
      list.appendChild(frag);
      shown = Math.min(items.length, shown + PAGE);
      label();
    });
    button.hidden = false;
    label();
  }
  var pagers = document.querySelectorAll("button.more[data-source]");
  Array.prototype.forEach.call(pagers, setupPager);
  function expandAll() {
    Array.prototype.forEach.call(pagers, function (b) { while (!b.hidden) { b.click(); } });
  }
  // report.html#all-evidence shows every embedded item (for searching the page or printing it).
  if (window.location.hash === "#all-evidence") { expandAll(); }
  window.addEventListener("hashchange", function () { if (window.location.hash === "#all-evidence") { expandAll(); } });
  window.addEventListener("beforeprint", expandAll);
  root.setAttribute("data-report-ready", "1");
})();
