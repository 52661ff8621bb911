const { appWebpackConfig } = require('../../tools/build/webpack-app.cjs');

// One main.js with the license lib bundled in: the vendor copies the folder to
// the machine that holds the private key and runs `node main.js <command>`.
module.exports = appWebpackConfig({ outputPath: 'dist/tools/license' });
