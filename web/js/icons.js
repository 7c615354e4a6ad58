// Line icons as inline SVG, built with createElementNS (no markup strings).
// Decorative: always aria-hidden, always next to a text that says the same.

const NS = "http://www.w3.org/2000/svg";

// name -> list of [element, attributes]
/** @type {Record<string, [string, Record<string, string | number>][]>} */
const ICONS = {
  lock: [
    ["rect", { x: 4, y: 11, width: 16, height: 10, rx: 2 }],
    ["path", { d: "M8 11V7a4 4 0 0 1 8 0v4" }],
  ],
  bulb: [
    ["path", { d: "M9 18h6M10 21h4" }],
    ["path", { d: "M12 3a6 6 0 0 0-3.5 10.9c.6.5 1 1.2 1 2V16h5v-.1c0-.8.4-1.5 1-2A6 6 0 0 0 12 3z" }],
  ],
  trophy: [
    ["path", { d: "M8 21h8M12 17v4" }],
    ["path", { d: "M7 4h10v5a5 5 0 0 1-10 0V4z" }],
    ["path", { d: "M17 6h3v1a4 4 0 0 1-3.5 4M7 6H4v1a4 4 0 0 0 3.5 4" }],
  ],
  smile: [
    ["circle", { cx: 12, cy: 12, r: 9 }],
    ["path", { d: "M8.5 14.5s1.3 2 3.5 2 3.5-2 3.5-2" }],
    ["path", { d: "M9 9.5h.01M15 9.5h.01" }],
  ],
  search: [
    ["circle", { cx: 11, cy: 11, r: 7 }],
    ["path", { d: "M20 20l-4-4" }],
  ],
  door: [
    ["path", { d: "M10 20H5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1h5" }],
    ["path", { d: "M15 16l4-4-4-4M19 12H9" }],
  ],
  clock: [
    ["circle", { cx: 12, cy: 12, r: 9 }],
    ["path", { d: "M12 7v5l3 2" }],
  ],
  alert: [
    ["path", { d: "M10.3 4.2L2.6 18a2 2 0 0 0 1.7 3h15.4a2 2 0 0 0 1.7-3L13.7 4.2a2 2 0 0 0-3.4 0z" }],
    ["path", { d: "M12 10v4M12 17.5h.01" }],
  ],
  star: [
    ["path", { d: "M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3 6.5 20.2l1-6.2L3 9.6l6.2-.9L12 3z" }],
  ],
  pen: [
    ["path", { d: "M4 20h4L19 9a2.1 2.1 0 0 0-3-3L5 17v3z" }],
    ["path", { d: "M14 8l2 2" }],
  ],
  users: [
    ["circle", { cx: 9, cy: 8, r: 3.5 }],
    ["path", { d: "M2.5 20a6.5 6.5 0 0 1 13 0" }],
    ["path", { d: "M16 4.6a3.5 3.5 0 0 1 0 6.8M18 14a6.5 6.5 0 0 1 3.5 6" }],
  ],
  wave: [
    ["path", { d: "M7 11V6.5a1.5 1.5 0 0 1 3 0V11M10 10V4.5a1.5 1.5 0 0 1 3 0V10M13 10V5.5a1.5 1.5 0 0 1 3 0V12" }],
    ["path", { d: "M16 9.5a1.5 1.5 0 0 1 3 0V14a7 7 0 0 1-7 7h-.5a6 6 0 0 1-4.8-2.4L4 15a1.6 1.6 0 0 1 2.4-2L7 14V11" }],
  ],
};

/**
 * @param {string} name
 * @param {string} [className]
 * @returns {SVGSVGElement}
 */
export function icon(name, className = "icon") {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", className);
  for (const [tag, attrs] of ICONS[name] || []) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.appendChild(el);
  }
  return svg;
}

/**
 * Fill every <span data-icon="name"> of the page.
 * @param {ParentNode} [root]
 */
export function mountIcons(root = document) {
  for (const slot of root.querySelectorAll("[data-icon]")) {
    if (!(slot instanceof HTMLElement)) continue;
    if (!slot.firstChild) slot.appendChild(icon(slot.dataset.icon || "", slot.dataset.iconClass || "icon"));
  }
}
