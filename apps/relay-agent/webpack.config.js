const { appWebpackConfig } = require('../../tools/build/webpack-app.cjs');

/**
 * The SQL drivers and ORM a relay must not carry. The connector SDK holds the
 * SQL connector beside the CSV and LDAP ones, and Nx lists every npm package a
 * used lib names, so the generated package.json would name the drivers even
 * though the relay never registers the SQL connector (they are only required
 * when a SQL connector connects). They are taken out here, with everything in
 * the lock file that only they needed.
 */
const SQL_PACKAGES = ['pg', 'mysql2', 'mssql', 'tedious', 'better-sqlite3', 'typeorm'];

class OmitSqlDriversPlugin {
  apply(compiler) {
    const { sources, Compilation } = compiler.webpack;
    compiler.hooks.thisCompilation.tap('OmitSqlDriversPlugin', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'OmitSqlDriversPlugin', stage: Compilation.PROCESS_ASSETS_STAGE_SUMMARIZE }, () => {
        const pkgAsset = compilation.getAsset('package.json');
        if (pkgAsset) {
          const pkg = JSON.parse(pkgAsset.source.source().toString());
          omitFromManifest(pkg);
          compilation.updateAsset('package.json', new sources.RawSource(JSON.stringify(pkg, null, 2)));
        }
        const lockAsset = compilation.getAsset('package-lock.json');
        if (lockAsset) {
          const lock = JSON.parse(lockAsset.source.source().toString());
          pruneLock(lock);
          compilation.updateAsset('package-lock.json', new sources.RawSource(JSON.stringify(lock, null, 2)));
        }
      });
    });
  }
}

function omitFromManifest(manifest) {
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'overrides', 'resolutions']) {
    if (!manifest[field]) continue;
    for (const name of SQL_PACKAGES) delete manifest[field][name];
  }
}

/** Drops the drivers from the lock's root, then every package no longer reachable from it. */
function pruneLock(lock) {
  const packages = lock.packages ?? {};
  if (packages['']) omitFromManifest(packages['']);
  if (lock.overrides) omitFromManifest(lock);
  const reachable = new Set(['']);
  const queue = [''];
  while (queue.length > 0) {
    const path = queue.shift();
    const entry = packages[path] ?? {};
    const names = Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies });
    for (const name of names) {
      const found = resolveFrom(packages, path, name);
      if (found !== undefined && !reachable.has(found)) {
        reachable.add(found);
        queue.push(found);
      }
    }
  }
  for (const path of Object.keys(packages)) if (!reachable.has(path)) delete packages[path];
}

/** Node's lookup: the nearest node_modules/<name> walking up from the dependent's folder. */
function resolveFrom(packages, fromPath, name) {
  let base = fromPath;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

const config = appWebpackConfig({ outputPath: 'dist/apps/relay-agent' });
config.plugins.push(new OmitSqlDriversPlugin());
module.exports = config;
