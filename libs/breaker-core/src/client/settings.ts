import { z } from 'zod';
import { secondsToMs } from '../config/schema.js';
import { boolean, nonEmptyString, nonNegativeNumber, positiveInt, positiveNumber } from '../validation.js';

/** One client-owned key of a service block and how its value is checked and converted. */
export interface SettingField<T> {
  /** The YAML key (`cache_ttl`). */
  key: string;
  schema: z.ZodType<T, unknown>;
}

export type SettingFields = Record<string, SettingField<unknown>>;

/** What `registry.settings(name, fields)` returns: each field's converted value, undefined when unset. */
export type ResolvedSettings<F extends SettingFields> = {
  [K in keyof F]: F[K] extends SettingField<infer T> ? T | undefined : never;
};

/**
 * Field builders for `registry.settings`. Durations are seconds in the file and milliseconds in
 * the result, converted in one place (`secondsToMs`); clients never read YAML keys or units.
 */
export const setting = {
  /** Seconds in the file, milliseconds out (`cache_ttl: 1.5` → 1500); `positive` refuses 0. */
  seconds: (key: string, options: { positive?: boolean } = {}): SettingField<number> => ({
    key,
    schema: (options.positive
      ? positiveNumber('a positive number of seconds')
      : nonNegativeNumber('a non-negative number of seconds')
    ).transform((s) => secondsToMs(s)!),
  }),
  /** Another service of the same group (`failover: desnz`). */
  service: (key: string, among: readonly string[]): SettingField<string> => ({
    key,
    schema: z.enum(among as [string, ...string[]], { error: `expected one of ${among.join(', ')}` }),
  }),
  string: (key: string): SettingField<string> => ({ key, schema: nonEmptyString() }),
  boolean: (key: string): SettingField<boolean> => ({ key, schema: boolean() }),
  positiveInt: (key: string): SettingField<number> => ({ key, schema: positiveInt() }),
  number: (key: string): SettingField<number> => ({ key, schema: nonNegativeNumber() }),
  /** Any other check, written as a zod schema. */
  custom: <T>(key: string, schema: z.ZodType<T, unknown>): SettingField<T> => ({ key, schema }),
};
