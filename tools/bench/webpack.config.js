const { appWebpackConfig } = require('../../tools/build/webpack-app.cjs');

// The benchmark runs from a checkout only (`npm run bench`), where node_modules holds every package it needs.
module.exports = appWebpackConfig({ outputPath: 'dist/tools/bench' });
