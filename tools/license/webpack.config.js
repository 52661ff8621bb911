const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('path');

// One main.js with the license lib bundled in: the vendor copies the folder to
// the machine that holds the private key and runs `node main.js <command>`.
module.exports = {
  output: { path: join(__dirname, '../../dist/tools/license'), clean: true },
  devtool: 'source-map',
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      tsConfig: './tsconfig.app.json',
      assets: [],
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      externalDependencies: 'all',
      sourceMap: true,
      typeCheckOptions: false,
    }),
  ],
};
