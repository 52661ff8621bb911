const { appWebpackConfig } = require('../../tools/build/webpack-app.cjs');

module.exports = appWebpackConfig({ outputPath: 'dist/apps/relay-agent' });
