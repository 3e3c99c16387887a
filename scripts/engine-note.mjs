#!/usr/bin/env node
// `npm install`'s preinstall: on a Node older than the project's, npm has just printed dozens of
// `npm warn EBADENGINE` lines (our package and wrangler's, vitest's... ask for Node 22-24). Say
// what they mean and that nothing needs doing. Plain JavaScript: it runs on that older Node.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  console.error(
    `\nnote: this is Node ${process.version}; the project runs on Node ${REQUIRED_MAJOR}. The "npm warn EBADENGINE" lines above say so,\n` +
      `and are harmless: the install goes on, and the npm scripts (npm start, npm test, npm run ...) run Node ${REQUIRED_MAJOR} themselves\n` +
      `(scripts/node24.mjs: /opt/node24, installed there on first use when run as root). See README, "Run it locally".\n`,
  );
}
