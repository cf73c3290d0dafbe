// The brute-force throttle's budgets are settings: defaults as before, invalid values stop start-up
// with a message naming the variable.
import { describe, it, expect } from 'vitest';
import { readConfig } from '../../runtime/config/env.ts';

describe('brute-force throttle settings', () => {
  it('default to 20 per address, 10 per client id, 30 refused callbacks, in 10 minutes', () => {
    expect(readConfig({}).authThrottle).toEqual({ failuresPerAddress: 20, failuresPerClient: 10, windowSeconds: 600, callbackFailuresPerAddress: 30 });
  });

  it('take positive integers and a duration', () => {
    expect(readConfig({
      PLUGBOARD_AUTH_FAILURES_PER_ADDRESS: '3', PLUGBOARD_AUTH_FAILURES_PER_CLIENT: '2',
      PLUGBOARD_AUTH_FAILURE_WINDOW: '90s', PLUGBOARD_OAUTH_CALLBACK_FAILURES_PER_ADDRESS: '5',
    }).authThrottle).toEqual({ failuresPerAddress: 3, failuresPerClient: 2, windowSeconds: 90, callbackFailuresPerAddress: 5 });
    expect(readConfig({ PLUGBOARD_AUTH_FAILURE_WINDOW: '1h' }).authThrottle.windowSeconds).toBe(3600);
  });

  it('refuse anything else, naming the variable', () => {
    for (const name of ['PLUGBOARD_AUTH_FAILURES_PER_ADDRESS', 'PLUGBOARD_AUTH_FAILURES_PER_CLIENT', 'PLUGBOARD_OAUTH_CALLBACK_FAILURES_PER_ADDRESS']) {
      for (const bad of ['0', '-1', '2.5', 'ten', '1e3']) expect(() => readConfig({ [name]: bad }), `${name}=${bad}`).toThrow(new RegExp(`${name} must be a positive integer, got "${bad}"`));
    }
    for (const bad of ['ten minutes', '10x', '500ms', '1500ms']) expect(() => readConfig({ PLUGBOARD_AUTH_FAILURE_WINDOW: bad }), bad).toThrow(/PLUGBOARD_AUTH_FAILURE_WINDOW/);
  });
});
