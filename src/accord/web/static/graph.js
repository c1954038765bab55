// Accord console: draw an object's neighbourhood with the vendored cytoscape.js; click to open.
"use strict";
(function () {
  function draw() {
    var box = document.getElementById("graph");
    if (!box || typeof cytoscape !== "function") { return; }
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    var fg = dark ? "#e6edf3" : "#1b1f24";
    fetch(box.getAttribute("data-elements"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (g) {
        var cy = cytoscape({
          container: box,
          elements: g.elements,
          layout: { name: "cose", animate: false, nodeRepulsion: 8000 },
          style: [
            { selector: "node", style: { "label": "data(label)", "color": fg, "font-size": 10,
              "text-wrap": "ellipsis", "text-max-width": 120, "background-color": "#2f6fb0",
              "width": 18, "height": 18 } },
            { selector: "node[?root]", style: { "background-color": "#e36209", "width": 26, "height": 26 } },
            { selector: "node[type = 'sighting']", style: { "background-color": "#b42318", "shape": "diamond" } },
            { selector: "node[type = 'report']", style: { "background-color": "#146c2e", "shape": "round-rectangle" } },
            { selector: "edge", style: { "label": "data(label)", "font-size": 8, "color": fg,
              "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
              "line-color": "#8a939c", "target-arrow-color": "#8a939c" } }
          ]
        });
        cy.on("tap", "node", function (e) {
          window.location.href = "/console/object/" + encodeURIComponent(e.target.id());
        });
        box.accordGraph = cy;  // for the browser tests: tap a node as a click would
        box.setAttribute("data-ready", String(g.elements.length));
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
