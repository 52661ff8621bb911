const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('path');

// Bundles the CLI and the workspace libs into one main.js; npm packages stay
// external and are listed in the generated package.json (see the persistence
// lib's driver loader for why the SQL drivers are found too).
module.exports = {
  output: { path: join(__dirname, '../../dist/tools/secretscli'), clean: true },
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
