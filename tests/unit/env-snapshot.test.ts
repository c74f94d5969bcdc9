import { afterEach, describe, expect, it } from 'vitest';
import { refreshEnvSnapshot, withEnvSnapshot } from '../../lib/observability/env-snapshot';

describe('withEnvSnapshot', () => {
  afterEach(() => {
    delete process.env.SNAPSHOT_TEST;
    delete process.env._X_AMZN_TRACE_ID;
    refreshEnvSnapshot();
  });

  it('runs the function with a plain copy of the environment and puts the real one back', () => {
    const real = process.env;
    process.env.SNAPSHOT_TEST = 'a';
    refreshEnvSnapshot();
    const seen = withEnvSnapshot(() => {
      expect(process.env).not.toBe(real);
      expect(Object.getPrototypeOf(process.env)).toBe(Object.prototype);
      return { value: process.env.SNAPSHOT_TEST, path: process.env.PATH };
    });
    expect(seen).toEqual({ value: 'a', path: real.PATH });
    expect(process.env).toBe(real);
  });

  it('puts the real environment back when the function throws, and answers its value otherwise', () => {
    const real = process.env;
    expect(() =>
      withEnvSnapshot(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(process.env).toBe(real);
    expect(withEnvSnapshot(() => 42)).toBe(42);
  });

  it('reads the per-invocation trace id afresh on every call, other variables once per refresh', () => {
    process.env.SNAPSHOT_TEST = 'first';
    refreshEnvSnapshot();
    const read = () => withEnvSnapshot(() => [process.env._X_AMZN_TRACE_ID, process.env.SNAPSHOT_TEST]);
    process.env._X_AMZN_TRACE_ID = 'Root=1-a';
    expect(read()).toEqual(['Root=1-a', 'first']);
    process.env._X_AMZN_TRACE_ID = 'Root=1-b';
    process.env.SNAPSHOT_TEST = 'second';
    expect(read()).toEqual(['Root=1-b', 'first']);
    delete process.env._X_AMZN_TRACE_ID;
    expect(read()[0]).toBeUndefined();
    refreshEnvSnapshot();
    expect(read()).toEqual([undefined, 'second']);
  });

  it('runs a nested call inside the same copy', () => {
    const real = process.env;
    withEnvSnapshot(() => {
      const outer = process.env;
      withEnvSnapshot(() => expect(process.env).toBe(outer));
      expect(process.env).toBe(outer);
    });
    expect(process.env).toBe(real);
  });
});
