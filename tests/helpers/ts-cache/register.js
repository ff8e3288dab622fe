/**
 * `node -r ./tests/helpers/ts-cache/register.js` is `node -r ts-node/register/transpile-only` with the
 * transpiled output of unchanged files kept on disk between processes (see transpiler.js). Mocha loads
 * the tests with it (.mocharc.json); the apps the tests start run as their npm scripts run them.
 */
"use strict";
require("ts-node").register({ transpileOnly: true, transpiler: require.resolve("./transpiler.js") });
