// A pack as a YAML file, written in the browser (download, save to a room).
//
// Plain data only: mappings, lists, texts, numbers and booleans. Every text is
// double-quoted, so nothing an author types can turn into YAML syntax ("no",
// "12", "a: b", "*x" all stay texts); characters YAML does not take raw are
// escaped as \uXXXX.

/** @typedef {null | undefined | boolean | number | string | Data[] | {[key: string]: Data}} Data */

const UNSAFE = /[\p{Cc}\p{Cs}\u2028\u2029\ufeff\ufffe\uffff"\\]/gu;

/** @param {string} text */
export function yamlString(text) {
  return `"${text.replace(UNSAFE, (c) => {
    if (c === '"' || c === "\\") return `\\${c}`;
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  })}"`;
}

/** @param {string} key */
function yamlKey(key) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : yamlString(key);
}

/**
 * @param {Data} value
 * @returns {value is {[key: string]: Data}}
 */
function isMapping(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {Data} value */
function isBlock(value) {
  return (Array.isArray(value) && value.length > 0) || (isMapping(value) && Object.keys(value).length > 0);
}

/** @param {Data} value */
function inline(value) {
  if (Array.isArray(value)) return "[]";
  if (isMapping(value)) return "{}";
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return yamlString(value);
  return String(value);
}

/**
 * @param {Data[] | {[key: string]: Data}} node
 * @param {string} indent
 * @returns {string[]}
 */
function lines(node, indent) {
  /** @type {string[]} */
  const out = [];
  if (Array.isArray(node)) {
    for (const item of node) {
      if (isMapping(item) && isBlock(item)) {
        const inner = lines(item, `${indent}  `);
        out.push(`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1));
      } else if (Array.isArray(item) && isBlock(item)) {
        out.push(`${indent}-`, ...lines(item, `${indent}  `));
      } else {
        out.push(`${indent}- ${inline(item)}`);
      }
    }
    return out;
  }
  for (const [key, value] of Object.entries(node)) {
    if (value === undefined) continue;
    if ((Array.isArray(value) || isMapping(value)) && isBlock(value)) {
      out.push(`${indent}${yamlKey(key)}:`, ...lines(value, `${indent}  `));
    } else {
      out.push(`${indent}${yamlKey(key)}: ${inline(value)}`);
    }
  }
  return out;
}

/**
 * The pack as the text of a YAML file.
 * @param {{[key: string]: Data}} pack
 */
export function toYaml(pack) {
  return `# Written with Ritrovo's pack editor.\n${lines(pack, "").join("\n")}\n`;
}
