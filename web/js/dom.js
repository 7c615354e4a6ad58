// Tiny DOM helpers. Every piece of text goes in as a text node, never as HTML:
// there is deliberately no way to pass markup through h().

/**
 * h("button", {class: "btn", onclick: fn, "aria-label": "Close"}, "text", child, [more])
 *
 * attrs:
 *   class      string or array (falsy entries dropped)
 *   dataset    object -> data-* attributes
 *   on<event>  function -> addEventListener(event)
 *   value, checked, disabled, hidden, selected  set as properties
 *   anything else: setAttribute (true -> "", false/null/undefined -> omitted)
 * children: strings and numbers become text nodes; null/false/undefined are skipped;
 * arrays are flattened.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "indeterminate"]);

export function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") {
      const list = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
      if (list) el.className = list;
    } else if (key === "dataset") {
      for (const [k, v] of Object.entries(value || {})) {
        if (v !== null && v !== undefined) el.dataset[k] = String(v);
      }
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (PROPS.has(key)) {
      el[key] = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(key, String(value));
    }
  }
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of el (text only ever as text nodes). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

export function byId(id) {
  return document.getElementById(id);
}

/** Set textContent only when it changed (keeps screen readers and selections calm). */
export function setText(el, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}

export function show(el, visible = true) {
  if (el) el.hidden = !visible;
}

/**
 * Keyed list rendering: keep the node of an item whose key and signature did not
 * change (so focus, hover and transitions survive updates), render the others
 * again, and put everything in order.
 *
 *   keyed(ul, teams, t => t.id, t => JSON.stringify(t), t => h("li", {}, t.name))
 */
export function keyed(container, items, keyOf, signatureOf, render) {
  const focused = document.activeElement;
  const focusKey = focused && container.contains(focused) ? focusKeyOf(focused) : null;
  const old = new Map();
  for (const child of Array.from(container.children)) {
    if (child.dataset.key !== undefined) old.set(child.dataset.key, child);
  }
  const nodes = [];
  for (const item of items) {
    const key = String(keyOf(item));
    const sig = signatureOf(item);
    let node = old.get(key);
    if (!node || node.dataset.sig !== sig) {
      node = render(item);
      node.dataset.key = key;
      node.dataset.sig = sig;
    }
    old.delete(key);
    nodes.push(node);
  }
  for (const stale of old.values()) stale.remove();
  nodes.forEach((node, index) => {
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  while (container.children.length > nodes.length) container.lastElementChild.remove();
  if (focusKey && !container.contains(focused)) {
    const again = container.querySelector(`[data-fk="${CSS.escape(focusKey)}"]`);
    if (again && !again.disabled) again.focus();
  }
}

function focusKeyOf(el) {
  const owner = el.closest("[data-fk]");
  return owner ? owner.dataset.fk : null;
}

export function prefersReducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/**
 * FLIP: call before a re-render to record positions, then call the returned
 * function after it to animate every moved child from its old place.
 */
export function flip(container) {
  const before = new Map();
  for (const child of Array.from(container.children)) {
    before.set(child.dataset.key, child.getBoundingClientRect().top);
  }
  return () => {
    if (prefersReducedMotion()) return;
    for (const child of Array.from(container.children)) {
      const top = before.get(child.dataset.key);
      if (top === undefined) continue;
      const dy = top - child.getBoundingClientRect().top;
      if (Math.abs(dy) < 1) continue;
      child.animate(
        [{ transform: `translateY(${dy}px)` }, { transform: "translateY(0)" }],
        { duration: 600, easing: "cubic-bezier(.2,.8,.2,1)" },
      );
    }
  };
}

/** Save a Blob as a file (used by the host's downloads). */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
