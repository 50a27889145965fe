/** Bad input from a user (CLI arguments, corpus lines, request bodies): reported, never a crash. */
export class InputError extends Error {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'InputError';
    this.field = field;
  }
}
