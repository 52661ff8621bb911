const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('path');

const workspaceRoot = join(__dirname, '../..');

/**
 * The webpack config of a Node app or operator tool, used by each project's
 * webpack.config.js (run by `webpack-cli` from the project's folder, which the
 * relative `main` and `tsConfig` paths refer to).
 *
 * It bundles the project and the workspace libs into one main.js; npm packages
 * stay external and are listed in the generated package.json (see the
 * persistence lib's driver loader for why the SQL drivers are found too).
 *
 * @param {{ outputPath: string } & Partial<import('@nx/webpack/app-plugin').NxAppWebpackPluginOptions>} options
 *   `outputPath` is the build folder, from the workspace root (`dist/apps/admin-api`).
 *   Any other key replaces the NxAppWebpackPlugin option of that name below, such
 *   as `externalDependencies` for a project that must bundle some npm packages
 *   (@default 'all': none are bundled).
 */
function appWebpackConfig({ outputPath, ...pluginOptions }) {
  return {
    output: { path: join(workspaceRoot, outputPath), clean: true },
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
        ...pluginOptions,
      }),
    ],
  };
}

module.exports = { appWebpackConfig };
