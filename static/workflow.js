// Draws the ticket workflow (GET /api/v1/workflows) as an SVG: the five top-level states,
// the sub-states of consult/repair/complaint, and arrows for the events between them.
// Progressive enhancement: the server-rendered table is complete without this script.
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var holder = document.getElementById("workflow-diagram");
  if (!holder || !window.fetch || !document.createElementNS) {
    return;
  }
  var stateNames = JSON.parse(holder.getAttribute("data-states") || "{}");
  var eventNames = JSON.parse(holder.getAttribute("data-events") || "{}");

  // Layout: suspended as a bar above the three kinds, closed as a bar below them, so every
  // kind reaches both with straight vertical arrows.
  var COLUMN = 300, GAP = 110, MARGIN = 100, BAR_H = 46, BAR_GAP = 110;
  var HEADER = 40, LEAF_W = 190, LEAF_H = 30, LEAF_GAP = 28, LEAF_X = 16, LINE = 13;
  var TOP = 20 + BAR_H + BAR_GAP;

  function el(name, attrs, text) {
    var node = document.createElementNS(SVGNS, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function stateLabel(name) { return stateNames[name] || name; }
  function eventLabel(name) { return eventNames[name] || name; }

  // The API may serve the description itself or wrap it; find the object with states.
  function pick(data) {
    if (data && data.states && data.events) { return data; }
    var list = (data && (data.workflows || data.items)) || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].states && list[i].events) { return list[i]; }
    }
    if (data && data.ticket && data.ticket.states) { return data.ticket; }
    throw new Error("no workflow in the response");
  }

  function layout(wf) {
    var boxes = {}, parentOf = {}, kinds = [], others = [], maxBottom = 0;
    wf.states.forEach(function (s) {
      if (s.children && s.children.length) { kinds.push(s); } else { others.push(s); }
    });
    kinds.forEach(function (s, i) {
      var x = MARGIN + i * (COLUMN + GAP);
      var h = HEADER + s.children.length * (LEAF_H + LEAF_GAP);
      boxes[s.name] = {x: x, y: TOP, w: COLUMN, h: h, kind: true, index: i};
      s.children.forEach(function (c, j) {
        var leaf = s.name + "_" + c.name;
        boxes[leaf] = {x: x + LEAF_X, y: TOP + HEADER + j * (LEAF_H + LEAF_GAP),
                       w: LEAF_W, h: LEAF_H, index: j};
        parentOf[leaf] = s.name;
      });
      parentOf[s.name] = s.name;
      maxBottom = Math.max(maxBottom, TOP + h);
    });
    var inner = kinds.length * COLUMN + (kinds.length - 1) * GAP;
    // The first state without sub-states goes above the kinds, the rest below, one bar each.
    others.forEach(function (s, i) {
      var y = i === 0 ? 20 : maxBottom + BAR_GAP + (i - 1) * (BAR_H + BAR_GAP);
      boxes[s.name] = {x: MARGIN, y: y, w: inner, h: BAR_H, bar: true, above: i === 0};
      parentOf[s.name] = s.name;
    });
    var bottom = maxBottom + Math.max(0, others.length - 1) * (BAR_GAP + BAR_H);
    return {boxes: boxes, parentOf: parentOf, kinds: kinds, others: others, kindsBottom: maxBottom,
            width: MARGIN * 2 + inner, height: bottom + 30};
  }

  function label(svg, x, y, lines, anchor) {
    var text = el("text", {x: x, y: y - (lines.length - 1) * LINE / 2, "class": "wf-label",
                           "text-anchor": anchor || "start"});
    lines.forEach(function (line, i) {
      text.appendChild(el("tspan", {x: x, dy: i ? LINE : 0}, line));
    });
    svg.appendChild(text);
    return text;
  }

  function arrow(svg, d, cls, both) {
    var attrs = {d: d, "class": "wf-edge " + (cls || ""), "marker-end": "url(#wf-arrow)"};
    if (both) { attrs["marker-start"] = "url(#wf-arrow)"; }
    svg.appendChild(el("path", attrs));
  }

  function draw(wf) {
    var L = layout(wf), boxes = L.boxes, parentOf = L.parentOf;
    var svg = el("svg", {viewBox: "0 0 " + L.width + " " + L.height, role: "img",
                         "class": "wf-svg", "aria-label": holder.getAttribute("data-title") || ""});
    var defs = el("defs");
    var marker = el("marker", {id: "wf-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
                               markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"});
    marker.appendChild(el("path", {d: "M0,0 L10,5 L0,10 z", "class": "wf-arrowhead"}));
    defs.appendChild(marker);
    svg.appendChild(defs);

    var status = wf.display_status || {};
    L.kinds.forEach(function (s) {
      var b = boxes[s.name];
      svg.appendChild(el("rect", {x: b.x, y: b.y, width: b.w, height: b.h, rx: 10,
                                  "class": "wf-top wf-" + s.name}));
      svg.appendChild(el("text", {x: b.x + 14, y: b.y + 26, "class": "wf-title"},
                         stateLabel(s.name)));
      s.children.forEach(function (c) {
        var leaf = s.name + "_" + c.name, lb = boxes[leaf];
        svg.appendChild(el("rect", {x: lb.x, y: lb.y, width: lb.w, height: lb.h, rx: 6,
                                    "class": "wf-leaf status-" + (status[leaf] || "")}));
        svg.appendChild(el("text", {x: lb.x + lb.w / 2, y: lb.y + 20, "text-anchor": "middle",
                                    "class": "wf-leaf-text"}, stateLabel(leaf).replace(/^[^:：]*[:：]\s*/, "")));
      });
    });
    L.others.forEach(function (s) {
      var b = boxes[s.name];
      svg.appendChild(el("rect", {x: b.x, y: b.y, width: b.w, height: b.h, rx: 10,
                                  "class": "wf-top wf-" + s.name + " status-" + (status[s.name] || "")}));
      svg.appendChild(el("text", {x: b.x + b.w / 2, y: b.y + 29, "text-anchor": "middle",
                                  "class": "wf-title"}, stateLabel(s.name)));
    });

    // Inside a kind: leaf to leaf. Between top-level states: one arrow per pair, all events.
    var inner = [], outer = {};
    wf.events.forEach(function (ev) {
      (ev.transitions || []).forEach(function (t) {
        if (t.source === t.dest || !boxes[t.source] || !boxes[t.dest]) { return; }
        var from = parentOf[t.source], to = parentOf[t.dest];
        if (from === to) {
          inner.push({source: t.source, dest: t.dest, event: ev.name});
        } else {
          var key = from + ">" + to;
          outer[key] = outer[key] || {from: from, to: to, events: []};
          if (outer[key].events.indexOf(ev.name) < 0) { outer[key].events.push(ev.name); }
        }
      });
    });

    var seenInner = {};
    inner.forEach(function (e) {
      var key = e.source + ">" + e.dest;
      var a = boxes[e.source], b = boxes[e.dest], steps = b.index - a.index;
      var label = eventLabel(e.event);
      if (seenInner[key]) { seenInner[key].text.textContent += ", " + label; return; }
      var text;
      if (steps === 1) {
        var x = a.x + 30;
        svg.appendChild(el("path", {d: "M" + x + "," + (a.y + a.h) + " L" + x + "," + b.y,
                                    "class": "wf-edge", "marker-end": "url(#wf-arrow)"}));
        text = el("text", {x: x + 8, y: a.y + a.h + LEAF_GAP / 2 + 4, "class": "wf-label"}, label);
      } else {
        // Skips and returns go round the right-hand side of the sub-state boxes.
        var right = a.x + a.w, bulge = 16 + 12 * Math.abs(steps);
        var y1 = a.y + a.h / 2 + (steps > 0 ? 4 : -4), y2 = b.y + b.h / 2 + (steps > 0 ? -4 : 4);
        svg.appendChild(el("path", {d: "M" + right + "," + y1 + " C" + (right + bulge) + "," + y1 +
                                        " " + (right + bulge) + "," + y2 + " " + right + "," + y2,
                                    "class": "wf-edge", "marker-end": "url(#wf-arrow)"}));
        text = el("text", {x: right + bulge * 0.75 + 4, y: (y1 + y2) / 2 + 4, "class": "wf-label"},
                  label);
      }
      svg.appendChild(text);
      seenInner[key] = {text: text};
    });

    Object.keys(outer).forEach(function (key) {
      var e = outer[key], a = boxes[e.from], b = boxes[e.to];
      var lines = e.events.map(eventLabel);
      if (a.kind && b.kind) {
        // Reclassify: one two-headed arrow per pair of kinds.
        if (outer[e.to + ">" + e.from] && e.from > e.to) { return; }
        var both = !!outer[e.to + ">" + e.from];
        var left = a.x < b.x ? a : b, right = a.x < b.x ? b : a;
        if (right.index - left.index === 1) {
          var y = TOP + HEADER / 2;
          arrow(svg, "M" + (left.x + left.w) + "," + y + " L" + right.x + "," + y,
                "wf-reclassify", both);
          label(svg, (left.x + left.w + right.x) / 2, y - 8, lines, "middle");
        } else {
          // Non-neighbours: down, along 30px under every kind, and up again (round corners).
          var x1 = left.x + left.w * 0.8, x2 = right.x + right.w * 0.2, r = 16;
          var low = L.kindsBottom + 30;
          arrow(svg, "M" + x1 + "," + (left.y + left.h) + " L" + x1 + "," + (low - r) +
                " Q" + x1 + "," + low + " " + (x1 + r) + "," + low + " L" + (x2 - r) + "," + low +
                " Q" + x2 + "," + low + " " + x2 + "," + (low - r) + " L" + x2 + "," +
                (right.y + right.h), "wf-reclassify", both);
          label(svg, left.x + left.w + GAP / 2, low - 5, lines, "middle");
        }
        return;
      }
      if (a.bar && b.bar) {
        // Between the two bars: round the right-hand side of the kinds.
        var top = a.y < b.y ? a : b, low = a.y < b.y ? b : a, xr = a.x + a.w;
        var ya = a.y + a.h / 2, yb = b.y + b.h / 2;
        arrow(svg, "M" + xr + "," + ya + " C" + (xr + 60) + "," + ya + " " + (xr + 60) + "," +
              yb + " " + xr + "," + yb, "", false);
        label(svg, xr + 50, (top.y + low.y + low.h) / 2, lines, "start");
        return;
      }
      // A kind and a bar: straight vertical arrows, going out on the left, coming back on
      // the right of the kind's centre line, labels on their outer side.
      var kind = a.kind ? a : b, bar = a.bar ? a : b, outward = a.kind;
      var x = kind.x + kind.w / 2 + (outward ? -22 : 22);
      var yk = bar.above ? kind.y : kind.y + kind.h, yb2 = bar.above ? bar.y + bar.h : bar.y;
      var from = outward ? yk : yb2, to = outward ? yb2 : yk;
      arrow(svg, "M" + x + "," + from + " L" + x + "," + to, "", false);
      label(svg, x + (outward ? -6 : 6), (yk + yb2) / 2 + 4, lines, outward ? "end" : "start");
    });

    holder.appendChild(svg);
    holder.hidden = false;
    // Squeeze a sub-state name that is wider than its box (lengths exist once displayed).
    Array.prototype.forEach.call(svg.querySelectorAll(".wf-leaf-text"), function (text) {
      if (text.getComputedTextLength() > LEAF_W - 10) {
        text.setAttribute("textLength", LEAF_W - 10);
        text.setAttribute("lengthAdjust", "spacingAndGlyphs");
      }
    });
  }

  fetch(holder.getAttribute("data-src"), {credentials: "same-origin",
                                          headers: {Accept: "application/json"}})
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) { draw(pick(data)); })
    .catch(function () { holder.hidden = true; });
})();
