import type { Issue } from '@gl-vcci/breaker-core';
import { anObject, boolean, describeValue, durationMs, toIssues } from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import { DbArgumentError } from './errors.js';
import type { QueryOptions, TransactionOptions } from './types.js';

// A call's arguments, checked before anything touches the pool or the circuit.

const queryOptionsSchema = z.strictObject(
  {
    signal: z.instanceof(AbortSignal, { error: 'expected an AbortSignal' }).optional(),
    timeoutMs: durationMs('a positive integer number of ms').optional(),
    name: z
      .string({ error: 'expected a metric label' })
      .regex(/^[A-Za-z_][\w.:-]{0,99}$/, {
        error: 'expected a label of letters, digits, _ . : - (at most 100), never SQL',
      })
      .optional(),
    readOnly: boolean().optional(),
  },
  anObject('an object of query options'),
);
const sessionOptionsSchema = queryOptionsSchema.pick({ signal: true, name: true });
const transactionOptionsSchema = queryOptionsSchema.pick({ signal: true });

/** Checks the options of `transaction` and `withClient`; throws DbArgumentError. */
export function checkSessionOptions(fn: unknown, options: unknown): TransactionOptions {
  if (typeof fn !== 'function') {
    throw new DbArgumentError([{ path: 'fn', message: `expected a function, got ${typeof fn}` }]);
  }
  if (options === undefined) return {};
  const result = transactionOptionsSchema.safeParse(options);
  if (!result.success) throw new DbArgumentError(toIssues(result.error, options, ['options']));
  return result.data;
}

export interface QuerySpec {
  text: string;
  values: unknown[] | undefined;
  options: QueryOptions;
}

/** Checks a call's arguments before anything touches the pool or the circuit; throws DbArgumentError. */
export function checkQuery(
  text: unknown,
  params: unknown,
  options: unknown,
  kind: 'query' | 'session',
  statementTimeoutMs: number,
): QuerySpec {
  const issues: Issue[] = [];
  if (typeof text !== 'string' || text.trim() === '') {
    issues.push({ path: 'text', message: `expected a non-empty SQL string, got ${describeValue(text)}` });
  }
  if (params !== undefined && !Array.isArray(params)) {
    issues.push({ path: 'params', message: `expected an array of parameters, got ${describeValue(params)}` });
  }
  let parsed: QueryOptions = {};
  if (options !== undefined) {
    const result = (kind === 'query' ? queryOptionsSchema : sessionOptionsSchema).safeParse(options);
    if (result.success) parsed = result.data;
    else issues.push(...toIssues(result.error, options, ['options']));
  }
  if (parsed.timeoutMs !== undefined && parsed.timeoutMs > statementTimeoutMs) {
    issues.push({
      path: 'options.timeoutMs',
      message: `expected at most the pool's statement_timeout (${statementTimeoutMs} ms), got ${parsed.timeoutMs}`,
    });
  }
  if (issues.length > 0) throw new DbArgumentError(issues);
  return { text: text as string, values: params as unknown[] | undefined, options: parsed };
}
