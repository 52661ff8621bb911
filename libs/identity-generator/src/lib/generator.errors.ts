/** Stable codes of the generator's errors; callers branch on these, never on message text. */
export type IdentityGeneratorErrorCode = 'GENERATOR_PARAMETER_INVALID' | 'GENERATOR_VALUE_UNWRITABLE' | 'GENERATOR_OUTPUT_CLOSED';

/** A parameter out of range, a value the chosen file format cannot hold, or an output stream that closed early. */
export class IdentityGeneratorError extends Error {
  constructor(
    readonly code: IdentityGeneratorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityGeneratorError';
  }
}

/** Refuses a bad parameter with its name in the message, so a typo in a bench config is found at once. */
export function invalidParameter(name: string, problem: string): IdentityGeneratorError {
  return new IdentityGeneratorError('GENERATOR_PARAMETER_INVALID', `${name} ${problem}`);
}
