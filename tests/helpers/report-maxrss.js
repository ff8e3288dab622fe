/**
 * Preloaded into an app's process (`node --require tests/helpers/report-maxrss.js …`): prints the peak
 * resident memory of the whole process (native libraries included) on stderr as it exits.
 */
"use strict";
process.on("exit", () => {
  require("fs").writeSync(2, `\nmaxrss-kb ${process.resourceUsage().maxRSS}\n`);
});
