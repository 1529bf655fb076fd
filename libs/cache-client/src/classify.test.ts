import { CircuitOpenError, TimeoutError } from '@gl-vcci/breaker-core';
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  TimeoutError as RedisTimeoutError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from 'redis';
import { describe, expect, it } from 'vitest';
import { classifyRedisError, isCallerError, isCredentialsRefusal, isWriteRefusal } from './classify.js';

const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });

describe('classifyRedisError', () => {
  it.each([
    ['ECONNREFUSED', systemError('ECONNREFUSED')],
    ['ECONNRESET', systemError('ECONNRESET')],
    ['ConnectionTimeoutError', new ConnectionTimeoutError()],
    ['SocketTimeoutError', new SocketTimeoutError(2000)],
    ['SocketClosedUnexpectedlyError', new SocketClosedUnexpectedlyError()],
    ['ClientOfflineError', new ClientOfflineError()],
    ['ClientClosedError', new ClientClosedError()],
    ["node-redis' TimeoutError", new RedisTimeoutError()],
    ['a full command queue', new Error('The queue is full')],
    ["breaker-core's TimeoutError", new TimeoutError('cache.redis', 500)],
    ['CircuitOpenError', new CircuitOpenError('cache.redis', 'open', 1000)],
    ['an unknown error', new Error('something else')],
    ['a thrown non-error', 'boom'],
  ])('counts %s as a failure', (_name, error) => {
    expect(classifyRedisError(error)).toBe('failure');
  });

  it.each([
    'LOADING Redis is loading the dataset in memory',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.',
  ])('counts the reply "%s" as a failure', (message) => {
    const error = new ErrorReply(message);
    expect(classifyRedisError(error)).toBe('failure');
    expect(isCallerError(error)).toBe(false);
  });

  it.each([
    'NOAUTH Authentication required.',
    'WRONGPASS invalid username-password pair or user is disabled.',
    "NOPERM User default has no permissions to run the 'get' command",
  ])('counts the credentials refusal "%s" as a failure: the deployment’s problem, not the caller’s', (message) => {
    const error = new ErrorReply(message);
    expect(classifyRedisError(error)).toBe('failure');
    expect(isCallerError(error)).toBe(false);
    expect(isCredentialsRefusal(error)).toBe(true);
  });

  it.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    "ERR unknown command 'FOO', with args beginning with: ",
    'ERR syntax error',
    'NOSCRIPT No matching script. Please use EVAL.',
    'EXECABORT Transaction discarded because of previous errors.',
  ])('ignores the reply "%s": the caller sent the wrong command', (message) => {
    const error = new ErrorReply(message);
    expect(classifyRedisError(error)).toBe('ignore');
    expect(isCallerError(error)).toBe(true);
  });

  it.each([
    "READONLY You can't write against a read only replica.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    'NOREPLICAS Not enough good replicas to write.',
  ])(
    'ignores the write refusal "%s": reads still work, so it does not trip, and it is not the caller\'s error',
    (message) => {
      const error = new ErrorReply(message);
      expect(classifyRedisError(error)).toBe('ignore');
      expect(isCallerError(error)).toBe(false);
      expect(isWriteRefusal(error)).toBe(true);
    },
  );

  it('ignores DisconnectsClientError: the client was closed under the call, Redis did nothing wrong', () => {
    expect(classifyRedisError(new DisconnectsClientError())).toBe('ignore');
    expect(isCallerError(new DisconnectsClientError())).toBe(false);
  });
});
