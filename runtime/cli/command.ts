import { PlugboardError } from '../errors/plugboard-error.ts';

export interface Command {
  name: string;
  usage: string;
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

/** A failure the user can act on: printed as one line, exit 1. */
export class CliError extends PlugboardError {
  constructor(message: string) {
    super('validation', message, { code: 'cli' });
  }
}
