// Text that does not fit its box on the screen is cut between two lines of
// text, never through one: the box is shortened to the bottom of the last
// line that fits whole, and the caller says how much more there is.

/**
 * Clip `box` (its CSS gives it the room it may take and `overflow: hidden`)
 * after the last whole line of text, and count the `items` (its children that
 * are story lines) not shown whole.
 *
 * @param {HTMLElement} box
 * @param {HTMLElement[]} items
 * @returns {number} how many items are cut off or hidden (0: everything fits)
 */
export function clipToWholeLines(box, items) {
  box.style.height = "";
  box.style.flex = "";
  const top = box.getBoundingClientRect().top;
  const limit = top + box.clientHeight + 0.5;
  let bottom = top;
  let fits = true;
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) {
      if (rect.height === 0) continue;
      if (rect.bottom <= limit) bottom = Math.max(bottom, rect.bottom);
      else fits = false;
    }
  }
  if (fits) return 0;
  const height = Math.max(0, Math.ceil(bottom - top));
  box.style.flex = "none";
  box.style.height = `${height}px`;
  const cut = top + height + 0.5;
  return items.filter((item) => textBottom(item) > cut).length;
}

/**
 * The bottom of the lowest line of text in `el` (its box may reach lower, by its line height).
 * @param {HTMLElement} el
 */
function textBottom(el) {
  let bottom = -Infinity;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) if (rect.height > 0) bottom = Math.max(bottom, rect.bottom);
  }
  return bottom;
}
