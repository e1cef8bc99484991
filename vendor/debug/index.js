// dspy-agent's stand-in for npm's `debug` (see package.json): the same factory shape, every logger silent.
// The real package lists every environment variable when it loads, which needs the whole --allow-env; the only
// user here is docker-modem's own trace output, which dspy-agent does not show.
"use strict";
function createDebug(namespace) {
  function debug() {}
  debug.namespace = namespace;
  debug.enabled = false;
  debug.extend = (suffix, delimiter) => createDebug(namespace + (delimiter === undefined ? ":" : delimiter) + suffix);
  debug.destroy = () => {};
  debug.log = () => {};
  return debug;
}
createDebug.enable = () => {};
createDebug.disable = () => "";
createDebug.enabled = () => false;
createDebug.debug = createDebug;
createDebug.default = createDebug;
createDebug.names = [];
createDebug.skips = [];
createDebug.formatters = {};
module.exports = createDebug;
