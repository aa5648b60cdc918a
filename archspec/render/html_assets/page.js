// archspec interactive page: inlined into every page by archspec/render/html.py.
// Contract (tests rely on it): [data-block] per block, [data-layer] per layer; clicking a block
// element (outside its layers) toggles whether its layers are shown.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("archspec-data").textContent);
  var top = document.getElementById("top"), vp = document.getElementById("vp");
  var cv = document.getElementById("cv"), ov = document.getElementById("ov");
  var info = document.getElementById("info"), q = document.getElementById("q");
  var hitsEl = document.getElementById("hits");
  var SVG = ov.namespaceURI;  // the SVG namespace, without writing a URL into the page
  var byBlock = new Map(), byLayer = new Map(), ends = new Map();
  document.querySelectorAll("[data-block]").forEach(function (e) { byBlock.set(e.dataset.block, e); });
  document.querySelectorAll("[data-layer]").forEach(function (e) { byLayer.set(e.dataset.layer, e); });
  document.querySelectorAll("[data-input]").forEach(function (e) { ends.set("in:" + e.dataset.input, e); });
  document.querySelectorAll("[data-output]").forEach(function (e) { ends.set(e.dataset.output, e); });
  function elOf(key) { return byBlock.get(key) || ends.get(key); }
  var heads = document.querySelectorAll(".hd,.ghd");

  // ------------------------------------------------------------ pan and zoom
  var tx = 20, ty = 0, k = 1;
  function apply() { cv.style.transform = "translate(" + tx + "px," + ty + "px) scale(" + k + ")"; }
  // as far out as zooming goes: ResNet-152 with every block open (40,000 px tall) still fits
  var MIN_ZOOM = 0.005;
  function zoomAt(f, x, y) {
    var nk = Math.min(4, Math.max(MIN_ZOOM, k * f));
    tx = x - (x - tx) * nk / k; ty = y - (y - ty) * nk / k; k = nk; apply();
  }
  function vpSize() { return [vp.clientWidth, vp.clientHeight]; }
  function fit() {  // the whole model in view (at most 1:1)
    var s = vpSize(), w = cv.offsetWidth, h = cv.offsetHeight;
    k = Math.max(MIN_ZOOM, Math.min(1, s[0] / w, s[1] / h));
    tx = (s[0] - w * k) / 2; ty = Math.max(0, (s[1] - h * k) / 2); apply();
  }
  function place() { vp.style.top = top.offsetHeight + "px"; }
  vp.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = vp.getBoundingClientRect();
    var dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    zoomAt(Math.exp(-dy * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  var drag = null, moved = false;
  vp.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty }; moved = false;
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!moved && Math.abs(dx) + Math.abs(dy) > 4) { moved = true; vp.classList.add("drag"); }
    if (moved) { tx = drag.tx + dx; ty = drag.ty + dy; apply(); }
  });
  window.addEventListener("pointerup", function () { drag = null; vp.classList.remove("drag"); });
  vp.addEventListener("click", function (e) {
    if (moved) { e.stopPropagation(); e.preventDefault(); moved = false; }
  }, true);

  // ------------------------------------------------------------ edges between blocks
  // The element an endpoint shows as: itself, or its outermost closed group.
  function shown(el) {
    var v = el;
    for (var p = el.parentElement; p && p !== cv; p = p.parentElement) {
      if (p.classList.contains("grp") && !p.classList.contains("open")) v = p;
    }
    return v;
  }
  // The outermost open group around `el` that does not hold `other` (else `el` itself).
  function outer(el, other) {
    var v = el;
    for (var p = el.parentElement; p && p !== cv; p = p.parentElement) {
      if (p.classList.contains("grp") && !p.contains(other)) v = p;
    }
    return v;
  }
  function svgEl(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var a in attrs) e.setAttribute(a, attrs[a]);
    parent.appendChild(e); return e;
  }
  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; draw(); });
  }
  function draw() {
    // a header says, to a screen reader, whether its block or instance box is open
    heads.forEach(function (h) { h.setAttribute("aria-expanded", h.parentElement.classList.contains("open")); });
    var c = cv.getBoundingClientRect();
    function box(el) {
      var r = el.getBoundingClientRect();
      return { l: (r.left - c.left) / k, t: (r.top - c.top) / k, r: (r.right - c.left) / k,
               b: (r.bottom - c.top) / k };
    }
    // visible units in document (emission) order
    var units = [], index = new Map(), boxes = new Map();
    document.querySelectorAll("[data-input],[data-block],[data-output]").forEach(function (e) {
      var s = shown(e);
      if (!index.has(s)) { index.set(s, units.length); units.push(s); boxes.set(s, box(s)); }
    });
    while (ov.childNodes.length > 1) ov.removeChild(ov.lastChild);
    var g = svgEl("g", {}, ov), done = new Set(), arcs = [];
    D.e.forEach(function (e) {
      var a = elOf(e[0]), b = elOf(e[1]);
      if (!a || !b) return;
      var s = shown(a), d = shown(b);
      var key = index.get(s) + ">" + index.get(d);
      if (s === d || done.has(key)) return;
      done.add(key);
      var S = boxes.get(s), T = boxes.get(d), is = index.get(s), id = index.get(d);
      var cls = e[3] ? "sc" : "";
      if (id === is + 1) {
        // between siblings: from the outermost open group left, to the outermost one entered
        var left = outer(s, d), entered = outer(d, s), L = box(left), E = box(entered);
        var x1 = (L.l + L.r) / 2, x2 = (E.l + E.r) / 2, ym = (L.b + E.t) / 2;
        var path = Math.abs(x1 - x2) < 1 ? "M" + x1 + " " + L.b + "V" + (E.t - 1)
          : "M" + x1 + " " + L.b + "V" + ym + "H" + x2 + "V" + (E.t - 1);
        // and inside them: from the block left out to its group's border, and from under the
        // entered group's title down to the block entered, so that no block seems unfed
        if (left !== s) path = "M" + (S.l + S.r) / 2 + " " + S.b + "V" + L.b + path;
        if (entered !== d) {
          var hd = box(entered.querySelector(".ghd")), x3 = (T.l + T.r) / 2;
          path += "M" + x3 + " " + hd.b + "V" + (T.t - 1);
        }
        svgEl("path", { d: path, class: cls, "marker-end": "url(#arrow)" }, g);
        if (e[2]) svgEl("text", { x: x2 + 6, y: ym + 3 }, g).textContent = e[2];
      } else {
        var right = 0;
        for (var i = Math.min(is, id); i <= Math.max(is, id); i++) right = Math.max(right, boxes.get(units[i]).r);
        arcs.push({ S: S, T: T, lo: Math.min(is, id), hi: Math.max(is, id), right: right, cls: cls, label: e[2] });
      }
    });
    arcs.sort(function (a, b) { return (a.hi - a.lo) - (b.hi - b.lo); });
    var placed = [];
    arcs.forEach(function (a) {
      var x = a.right + 16;
      for (var again = true; again;) {
        again = false;
        for (var j = 0; j < placed.length; j++) {
          var p = placed[j];
          // arcs that share a block too: one lane each, or one would run on into the other
          if (p.lo <= a.hi && a.lo <= p.hi && Math.abs(p.x - x) < 11) { x = p.x + 12; again = true; }
        }
      }
      a.x = x; placed.push(a);
      // an arc leaves its block low and enters high: one that leaves a block and one that
      // enters it do not share a line
      var sy = Math.max(a.S.b - 14, (a.S.t + a.S.b) / 2), dy = Math.min(a.T.t + 14, (a.T.t + a.T.b) / 2);
      var path = "M" + a.S.r + " " + sy + "H" + (x - 6) + "Q" + x + " " + sy + " " + x + " " + (sy + 6) +
        "V" + (dy - 6) + "Q" + x + " " + dy + " " + (x - 6) + " " + dy + "H" + (a.T.r + 1);
      svgEl("path", { d: path, class: "arc " + a.cls, "marker-end": "url(#arrow)" }, g);
      if (a.label) {  // beside its lane, near where it leaves (mid-way, other arcs came in)
        var t = svgEl("text", { x: x + 3, y: sy + (dy > sy ? 16 : -8) }, g);
        t.textContent = a.label;
      }
    });
    ov.setAttribute("width", cv.offsetWidth); ov.setAttribute("height", cv.offsetHeight);
  }

  // ------------------------------------------------------------ opening and closing
  function toggle(el, open) { el.classList.toggle("open", open); redraw(); }
  cv.addEventListener("click", function (e) {
    var t = e.target;
    var layer = t.closest("[data-layer]");
    if (layer) { pin(layer); return; }
    var gh = t.closest(".ghd");
    if (gh) { var grp = gh.parentElement; toggle(grp, !grp.classList.contains("open")); return; }
    var blk = t.closest("[data-block]");
    if (blk) { toggle(blk, !blk.classList.contains("open")); return; }
    if (!blk) unpin();
  });
  // "collapse all" closes every block and puts each instance box back as the page opened
  var grpOpen = new Map();
  document.querySelectorAll(".grp").forEach(function (g) { grpOpen.set(g, g.classList.contains("open")); });
  function setAll(open) {
    byBlock.forEach(function (e) { e.classList.toggle("open", open); });
    grpOpen.forEach(function (was, g) { g.classList.toggle("open", open || was); });
    redraw();
  }

  // ------------------------------------------------------------ details
  var pinned = null;
  function fmt(n) { return n === null || n === undefined ? "?" : n.toLocaleString("en-US"); }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }
  function rows(list) {
    return "<table>" + list.filter(function (r) { return r[1] !== "" && r[1] !== undefined; }).map(function (r) {
      return "<tr><td>" + esc(r[0]) + "</td><td>" + r[1] + "</td></tr>";
    }).join("") + "</table>";
  }
  function inputs(list) {
    return list.map(function (p) { return esc(p[0]) + " <b>" + esc(p[1]) + "</b>"; }).join("<br>");
  }
  function show(el) {
    var html;
    if (el.dataset.layer) {
      var n = D.n[el.dataset.layer], b = D.b[n.b] || {};
      html = "<h3>" + esc(el.dataset.layer) + "</h3>" + rows([
        ["layer", esc(n.k)], ["parameters", esc(n.t)], ["inputs", inputs(n.i)], ["output", "<b>" + esc(n.o) + "</b>"],
        ["params", fmt(n.p) + " (" + fmt(n.tr) + " trainable)"], ["MACs", fmt(n.m)],
        ["block", esc(n.b) + " (" + esc(b.t || "") + ")"], ["spec", esc(b.l || "")]]);
    } else if (el.dataset.block) {
      var d = D.b[el.dataset.block];
      html = "<h3>" + esc(el.dataset.block) + "</h3>" + rows([
        ["type", esc(d.t)], ["parameters", esc(d.s)], ["inputs", inputs(d.i)], ["output", "<b>" + esc(d.o) + "</b>"],
        ["params", fmt(d.p) + " (" + fmt(d.tr) + " trainable)"], ["MACs", fmt(d.m)],
        ["in", d.g ? esc(d.g[0] + " (" + d.g[1] + ")") : ""], ["spec", esc(d.l)]]);
    } else {
      var names = Array.prototype.map.call(el.querySelectorAll("[data-block]"), function (e) { return e.dataset.block; });
      var p = 0, tr = 0, m = 0, g = D.g[el.dataset.group] || {i: [], o: [], l: ""};
      names.forEach(function (x) { var d = D.b[x]; p += d.p; tr += d.tr; m = m === null || d.m === null ? null : m + d.m; });
      html = "<h3>" + esc(el.dataset.group) + "</h3>" + rows([
        ["type", esc(el.dataset.gtype)], ["blocks", String(names.length)], ["inputs", inputs(g.i)],
        [g.o.length > 1 ? "outputs" : "output", inputs(g.o)], ["params", fmt(p) + " (" + fmt(tr) + " trainable)"],
        ["MACs", fmt(m)], ["spec", esc(g.l)]]);
    }
    info.innerHTML = html; info.hidden = false;
  }
  function pin(el) {
    if (pinned) pinned.classList.remove("sel");
    pinned = el; el.classList.add("sel"); show(el);
  }
  function unpin() { if (pinned) pinned.classList.remove("sel"); pinned = null; info.hidden = true; }
  cv.addEventListener("mouseover", function (e) {
    if (pinned) return;
    var t = e.target.closest("[data-layer]") || e.target.closest(".hd,.ghd");
    if (t && !t.dataset.layer) t = t.parentElement;
    if (t) show(t);
  });

  // ------------------------------------------------------------ search
  var hits = [], cur = -1, searched = null;  // searched: the text the hits are for
  function clearHits() {
    hits.forEach(function (e) { e.classList.remove("hit", "cur"); });
    hits = []; cur = -1; searched = null; hitsEl.textContent = "";
  }
  function reveal(el) {
    for (var p = el.parentElement; p && p !== cv; p = p.parentElement) {
      if (p.classList.contains("grp") || (el.dataset.layer && p.dataset.block)) p.classList.add("open");
    }
    draw();
    var c = cv.getBoundingClientRect(), r = el.getBoundingClientRect(), s = vpSize();
    var x = ((r.left + r.right) / 2 - c.left) / k, y = ((r.top + r.bottom) / 2 - c.top) / k;
    if (k < 0.5) k = 0.8;
    tx = s[0] / 2 - x * k; ty = s[1] / 2 - y * k; apply();
  }
  function go(step) {
    if (!hits.length) return;
    if (cur >= 0) hits[cur].classList.remove("cur");
    cur = (cur + step + hits.length) % hits.length;
    hits[cur].classList.add("cur"); pin(hits[cur]); reveal(hits[cur]);  // reveal draws last
    hitsEl.textContent = (cur + 1) + " / " + hits.length;
  }
  function search() {
    clearHits();
    var text = q.value.trim().toLowerCase();
    searched = text;
    if (!text) return;
    // exact names first (a layer before the block of the same name: showing it opens the block)
    var exact = [[], [], []], part = [];
    document.querySelectorAll("[data-group],[data-block],[data-layer]").forEach(function (e) {
      var d = e.dataset, name = (d.block || d.layer || d.group).toLowerCase();
      if (name === text) exact[d.layer ? 0 : d.block ? 1 : 2].push(e);
      else if (name.indexOf(text) >= 0) part.push(e);
    });
    hits = exact[0].concat(exact[1], exact[2], part);
    hits.forEach(function (e) { e.classList.add("hit"); });
    if (hits.length) go(1); else hitsEl.textContent = "no match";
  }
  var timer = null;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 150); });
  q.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault(); clearTimeout(timer);
      // a new text searches at once (the typing pause may not have run yet); the same text steps
      if (q.value.trim().toLowerCase() !== searched) search();
      else go(e.shiftKey ? -1 : 1);
    } else if (e.key === "Escape") { q.value = ""; clearHits(); unpin(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== q) { e.preventDefault(); q.focus(); }
    else if (e.key === "Escape" && document.activeElement !== q) unpin();  // the details
  });
  vp.addEventListener("click", function (e) { if (!cv.contains(e.target)) unpin(); });

  // ------------------------------------------------------------ keyboard
  // Tab walks the instances' and blocks' headers and an open block's layers, in order (a closed
  // one's are not shown, so not reached); the focused one's details are pinned and it is
  // brought into view; Enter or Space does what a click does. Focus by the mouse pins nothing.
  document.querySelectorAll(".hd,.ghd,[data-layer]").forEach(function (e) { e.tabIndex = 0; });
  heads.forEach(function (h) { h.setAttribute("role", "button"); });
  var keyed = false;
  document.addEventListener("keydown", function () { keyed = true; }, true);
  document.addEventListener("pointerdown", function () { keyed = false; }, true);
  cv.addEventListener("focusin", function (e) {
    vp.scrollTop = 0; vp.scrollLeft = 0;  // the browser scrolls to what it focuses: pan instead
    if (!keyed) return;
    var t = e.target, el = t.dataset.layer ? t : t.parentElement;
    pin(el);
    var r = t.getBoundingClientRect(), v = vp.getBoundingClientRect();
    if (r.top < v.top || r.bottom > v.bottom || r.left < v.left || r.right > v.right) reveal(t);
  });
  cv.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.tabIndex === 0 && e.target !== cv) {
      e.preventDefault(); e.target.click();
    }
  });

  // ------------------------------------------------------------ buttons
  top.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b) return;
    var s = vpSize(), act = b.dataset.act;
    if (act === "in") zoomAt(1.25, s[0] / 2, s[1] / 2);
    else if (act === "out") zoomAt(0.8, s[0] / 2, s[1] / 2);
    else if (act === "fit") fit();
    else if (act === "one") zoomAt(1 / k, s[0] / 2, s[1] / 2);  // about the middle
    else if (act === "open") setAll(true);
    else if (act === "close") setAll(false);
  });
  window.addEventListener("resize", function () { place(); });

  place();
  var s0 = vpSize();
  k = Math.min(1, s0[0] / Math.max(1, cv.offsetWidth));
  tx = Math.max(0, (s0[0] - cv.offsetWidth * k) / 2); ty = 0; apply();
  draw();
  document.body.dataset.ready = "1";
})();
