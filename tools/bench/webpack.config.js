const { appWebpackConfig } = require('../../tools/build/webpack-app.cjs');

// The benchmark runs from a checkout only (`npm run bench`), where node_modules holds every package it needs.
// W5's socket.io echo server is an entry of its own: the benchmark starts it as a separate process.
module.exports = appWebpackConfig({
  outputPath: 'dist/tools/bench',
  additionalEntryPoints: [{ entryName: 'socket-echo-server', entryPath: './src/limits/socket-echo-server.ts' }],
});
