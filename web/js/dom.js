// Tiny DOM helpers. Every piece of text goes in as a text node, never as HTML:
// there is deliberately no way to pass markup through h().

/**
 * What h(), append() and fill() take as children: nodes, text (strings and
 * numbers become text nodes), nothing (null, undefined, false), or lists of these.
 * @typedef {Leaf | Child[]} Child
 * @typedef {Node | string | number | null | undefined | false} Leaf
 */

/**
 * Attributes for h(); see h().
 * @typedef {Record<string, unknown>} Attrs
 */

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
 *
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "indeterminate"]);

/**
 * @template {HTMLElement} E
 * @param {E} el
 * @param {Attrs} attrs
 * @returns {E}
 */
export function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") {
      const list = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
      if (list) el.className = String(list);
    } else if (key === "dataset") {
      for (const [k, v] of Object.entries(value || {})) {
        if (v !== null && v !== undefined) el.dataset[k] = String(v);
      }
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (PROPS.has(key)) {
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(key, String(value));
    }
  }
  return el;
}

/**
 * @template {Node} N
 * @param {N} el
 * @param {Child[]} children
 * @returns {N}
 */
export function append(el, children) {
  const leaves = /** @type {Leaf[]} */ (/** @type {unknown[]} */ (children).flat(Infinity));
  for (const child of leaves) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Replace all children of el (text only ever as text nodes).
 * @template {Element} E
 * @param {E} el
 * @param {...Child} children
 * @returns {E}
 */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/**
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLElement | null}
 */
export function $(selector, root = document) {
  return root.querySelector(selector);
}

/**
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLElement[]}
 */
export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

/**
 * The element with this id, checked to be a `type` (HTMLElement unless told):
 * a page whose markup lost an element it needs fails here, saying which.
 *
 *   byId("guess-input", HTMLInputElement).value
 *
 * @template {Element} [T=HTMLElement]
 * @param {string} id
 * @param {new (...args: never[]) => T} [type]
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  const want = type || HTMLElement;
  if (!(el instanceof want)) throw new Error(`#${id} is not a ${want.name} of this page`);
  return /** @type {T} */ (/** @type {unknown} */ (el));
}

/**
 * Set textContent only when it changed (keeps screen readers and selections calm).
 * @param {Node} el
 * @param {string | number | null | undefined} text
 */
export function setText(el, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}

/**
 * @param {HTMLElement | null | undefined} el
 * @param {boolean} [visible]
 */
export function show(el, visible = true) {
  if (el) el.hidden = !visible;
}

/**
 * Keyed list rendering: keep the node of an item whose key and signature did not
 * change (so focus, hover and transitions survive updates), render the others
 * again, and put everything in order.
 *
 *   keyed(ul, teams, t => t.id, t => JSON.stringify(t), t => h("li", {}, t.name))
 *
 * @template T
 * @param {HTMLElement} container
 * @param {T[]} items
 * @param {(item: T) => string | number} keyOf
 * @param {(item: T) => string} signatureOf
 * @param {(item: T) => HTMLElement} render
 */
export function keyed(container, items, keyOf, signatureOf, render) {
  const focused = document.activeElement;
  const focusKey = focused && container.contains(focused) ? focusKeyOf(focused) : null;
  /** @type {Map<string, HTMLElement>} */
  const old = new Map();
  for (const child of htmlChildren(container)) {
    if (child.dataset.key !== undefined) old.set(child.dataset.key, child);
  }
  /** @type {HTMLElement[]} */
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
  while (container.lastElementChild && container.children.length > nodes.length) container.lastElementChild.remove();
  if (focusKey && !container.contains(focused)) {
    const again = container.querySelector(`[data-fk="${CSS.escape(focusKey)}"]`);
    if (again instanceof HTMLElement && !(/** @type {HTMLButtonElement} */ (again).disabled)) again.focus();
  }
}

/**
 * @param {Element} el
 * @returns {string | null}
 */
function focusKeyOf(el) {
  const owner = el.closest("[data-fk]");
  return owner instanceof HTMLElement ? owner.dataset.fk || null : null;
}

/**
 * The element children that carry a dataset (every child keyed() and flip() deal with).
 * @param {Element} container
 * @returns {HTMLElement[]}
 */
function htmlChildren(container) {
  return Array.from(container.children).filter((child) => child instanceof HTMLElement);
}

export function prefersReducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/**
 * FLIP: call before a re-render to record positions, then call the returned
 * function after it to animate every moved child from its old place.
 *
 * @param {Element} container
 * @returns {() => void}
 */
export function flip(container) {
  /** @type {Map<string | undefined, number>} */
  const before = new Map();
  for (const child of htmlChildren(container)) {
    before.set(child.dataset.key, child.getBoundingClientRect().top);
  }
  return () => {
    if (prefersReducedMotion()) return;
    for (const child of htmlChildren(container)) {
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

/**
 * Save a Blob as a file (used by the host's downloads).
 * @param {Blob} blob
 * @param {string} filename
 */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
