import type * as Cel from '@marcbachmann/cel-js';
import { expressionFunctions } from './expression-functions';

type CelModule = typeof Cel;
export type CelEnvironment = InstanceType<CelModule['Environment']>;

let celModule: CelModule | undefined;

/**
 * Loads the CEL library on first use. It ships as an ES module only: Node
 * (>= 20.19) requires it natively, but loading it together with this lib
 * would make every test runner that imports the domain lib transform it
 * (jest cannot require an ES module before Node 24.9). Loading on the first
 * compile confines that to code that really evaluates expressions.
 */
export function cel(): CelModule {
  // A static import would load the module together with the lib; see above.
  celModule ??= require('@marcbachmann/cel-js') as CelModule;
  return celModule;
}

/** How large an expression and its inputs may be. */
export interface ExpressionLimits {
  /** Characters of source text. @default 4096 */
  maxSourceLength: number;
  /** Nesting depth of the syntax tree (brackets, calls, operators). @default 24 */
  maxDepth: number;
  /** Nodes of the syntax tree. @default 256 */
  maxAstNodes: number;
  /** Elements of a list literal and entries of a map literal. @default 64 */
  maxLiteralElements: number;
  /** Arguments of one call. @default 16 */
  maxCallArguments: number;
  /** Characters of one input value and of a text a function produces. @default 16384 */
  maxStringLength: number;
  /** Values of one multi-valued input (a group's members). @default 100000 */
  maxListLength: number;
}

export const DEFAULT_EXPRESSION_LIMITS: Readonly<ExpressionLimits> = Object.freeze({
  maxSourceLength: 4096,
  maxDepth: 24,
  maxAstNodes: 256,
  maxLiteralElements: 64,
  maxCallArguments: 16,
  maxStringLength: 16384,
  maxListLength: 100_000,
});

/** A configured environment and the names of the functions it offers, for "unknown function" errors. */
export interface BaseEnvironment {
  env: CelEnvironment;
  limits: Readonly<ExpressionLimits>;
  globalFunctions: ReadonlySet<string>;
  receiverFunctions: ReadonlySet<string>;
}

const environments = new Map<string, BaseEnvironment>();

/**
 * The environment with the function library, one per set of limits (in
 * practice one per process). Building it costs far more than cloning it, so
 * each compile clones this one and adds only the variables it reads.
 */
export function baseEnvironment(limits: Readonly<ExpressionLimits>): BaseEnvironment {
  const key = JSON.stringify(limits);
  const cached = environments.get(key);
  if (cached) return cached;
  const env = new (cel().Environment)({
    unlistedVariablesAreDyn: false,
    // Rules mix values freely ([givenName, 1]); the checker still types each use.
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: false,
    limits: {
      maxAstNodes: limits.maxAstNodes,
      maxDepth: limits.maxDepth,
      maxListElements: limits.maxLiteralElements,
      maxMapEntries: limits.maxLiteralElements,
      maxCallArguments: limits.maxCallArguments,
    },
  });
  for (const fn of expressionFunctions(limits.maxStringLength)) {
    for (const signature of fn.signatures) {
      env.registerFunction(signature, fn.handler as (...args: unknown[]) => unknown, { description: fn.description });
    }
  }
  const globalFunctions = new Set<string>();
  const receiverFunctions = new Set<string>();
  for (const definition of env.getDefinitions().functions) {
    (definition.receiverType ? receiverFunctions : globalFunctions).add(definition.name);
  }
  const base: BaseEnvironment = { env, limits, globalFunctions, receiverFunctions };
  environments.set(key, base);
  return base;
}
