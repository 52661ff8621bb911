const { appWebpackConfig } = require('../../tools/build/webpack-app.cjs');

module.exports = appWebpackConfig({ outputPath: 'dist/tools/demo' });
