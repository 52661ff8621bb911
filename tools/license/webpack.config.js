const { appWebpackConfig } = require('../../tools/build/webpack-app.cjs');

// One main.js with everything bundled in, npm packages included: the vendor
// copies the folder to the machine that holds the private key and runs
// `node main.js <command>` there, with no npm install.
module.exports = appWebpackConfig({ outputPath: 'dist/tools/license', externalDependencies: 'none' });
