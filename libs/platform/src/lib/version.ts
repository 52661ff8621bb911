/**
 * The product version every app reports (build info metric, engine registry,
 * logs). Kept equal to the root package.json version by a unit test.
 */
export const PRODUCT_VERSION = '0.1.0';
