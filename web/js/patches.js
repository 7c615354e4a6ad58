// Applying a `patch` frame's operations to the state they change (the same
// format as server/game/patches.py; see docs/protocol.md, "patch"):
//
//   ["set", path, value]    replace the value at path ([] = the whole value), or add a key
//   ["del", path]           remove a key
//   ["push", path, value]   append value to the list at path
//   ["trim", path, length]  cut the list at path down to its first `length` items

/** An operation does not fit the state: the client must ask for a full state. */
export class PatchError extends Error {}

/**
 * @typedef {(string | number)[]} PatchPath
 * @typedef {unknown[]} PatchOp
 */

/**
 * The value `ops` turn `state` into. `state` is never changed: the objects
 * and arrays on each changed path are copied (once per call) and everything
 * else is shared, so a page may keep the previous state and compare.
 *
 * @template T
 * @param {T} state
 * @param {PatchOp[]} ops
 * @returns {T}
 */
export function applyPatch(state, ops) {
  /** @type {unknown[]} */
  const root = [state]; // a parent for the root, so path [] is not a special case
  /** @type {Set<unknown>} */
  const fresh = new Set([root]); // the containers this call copied: the only ones it may change
  for (const op of ops) {
    if (!Array.isArray(op) || !Array.isArray(op[1])) throw new PatchError("not an operation");
    const [kind, path] = /** @type {[unknown, PatchPath]} */ (op);
    if (kind === "set" && op.length === 3) {
      const [parent, key] = parentOf(root, fresh, path);
      if (Array.isArray(parent)) checkIndex(parent, key);
      put(parent, key, op[2]);
    } else if (kind === "del" && op.length === 2) {
      const [parent, key] = parentOf(root, fresh, path);
      if (Array.isArray(parent) || !Object.hasOwn(parent, key)) throw new PatchError("del: no such key");
      delete (/** @type {Record<string, unknown>} */ (parent))[key];
    } else if (kind === "push" && op.length === 3) {
      listAt(root, fresh, path).push(op[2]);
    } else if (kind === "trim" && op.length === 3) {
      const list = listAt(root, fresh, path);
      const length = op[2];
      if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > list.length) {
        throw new PatchError("trim: bad length");
      }
      list.length = length;
    } else {
      throw new PatchError("not an operation");
    }
  }
  return /** @type {T} */ (root[0]);
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Set an item or a key; a key named `__proto__` is an ordinary key, as in JSON.parse.
 * @param {unknown[] | Record<string, unknown>} container
 * @param {string | number} key
 * @param {unknown} value
 */
function put(container, key, value) {
  if (Array.isArray(container)) container[/** @type {number} */ (key)] = value;
  else Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * @param {unknown[]} list
 * @param {unknown} key
 */
function checkIndex(list, key) {
  if (typeof key !== "number" || !Number.isInteger(key) || key < 0 || key >= list.length) {
    throw new PatchError("no such list item");
  }
}

/**
 * @param {unknown} container
 * @param {unknown} key
 * @returns {unknown}
 */
function childOf(container, key) {
  if (Array.isArray(container)) {
    checkIndex(container, key);
    return container[/** @type {number} */ (key)];
  }
  if (isObject(container) && typeof key === "string" && Object.hasOwn(container, key)) return container[key];
  throw new PatchError("no such key");
}

/**
 * The container at `path`, after copying every container on the way that this call has not copied yet.
 * @param {unknown[]} root
 * @param {Set<unknown>} fresh
 * @param {PatchPath} path
 * @returns {unknown[] | Record<string, unknown>}
 */
function writableAt(root, fresh, path) {
  /** @type {unknown[] | Record<string, unknown>} */
  let node = root;
  for (const key of [0, ...path]) {
    let child = childOf(node, key);
    if (!fresh.has(child)) {
      if (Array.isArray(child)) child = [...child];
      else if (isObject(child)) child = { ...child };
      else throw new PatchError("not a container");
      fresh.add(child);
      put(node, key, child);
    }
    node = /** @type {unknown[] | Record<string, unknown>} */ (child);
  }
  return node;
}

/**
 * @param {unknown[]} root
 * @param {Set<unknown>} fresh
 * @param {PatchPath} path
 * @returns {[unknown[] | Record<string, unknown>, string | number]}
 */
function parentOf(root, fresh, path) {
  if (path.length === 0) return [root, 0];
  const parent = writableAt(root, fresh, path.slice(0, -1));
  const key = path[path.length - 1];
  if (!Array.isArray(parent) && typeof key !== "string") throw new PatchError("a key must be a string");
  return [parent, key];
}

/**
 * @param {unknown[]} root
 * @param {Set<unknown>} fresh
 * @param {PatchPath} path
 * @returns {unknown[]}
 */
function listAt(root, fresh, path) {
  const node = writableAt(root, fresh, path);
  if (!Array.isArray(node)) throw new PatchError("not a list");
  return node;
}
