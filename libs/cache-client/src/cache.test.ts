import { ManualClock } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { LocalCache } from './cache.js';

describe('LocalCache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const local = new LocalCache({
      maxEntries: 2,
      maxBytes: 1_000,
      maxTtlMs: 60_000,
      clock: new ManualClock(1_000_000),
    });
    local.set('a', '1', 60_000);
    local.set('b', '2', 60_000);
    local.get('a');
    local.set('c', '3', 60_000);
    expect([local.get('a'), local.get('b'), local.get('c')]).toEqual(['1', undefined, '3']);
    expect(local.size).toBe(2);
  });

  it('evicts the least recently used entries beyond maxBytes of JSON text, and keeps no value larger than it', () => {
    const local = new LocalCache({
      maxEntries: 100,
      maxBytes: 15,
      maxTtlMs: 60_000,
      clock: new ManualClock(1_000_000),
    });
    local.set('a', '"1234"', 60_000);
    local.set('b', '"5678"', 60_000);
    local.get('a');
    local.set('c', '"12345"', 60_000);
    expect([local.get('a'), local.get('b'), local.get('c')]).toEqual(['"1234"', undefined, '"12345"']);
    expect(local.bytes).toBe(13);
    local.set('a', '"too long for it"', 60_000);
    expect(local.get('a')).toBeUndefined();
    expect(local.bytes).toBe(7);
  });

  it('forgets an entry when its TTL has passed on the clock', () => {
    const clock = new ManualClock(1_000_000);
    const local = new LocalCache({ maxEntries: 10, maxBytes: 1_000, maxTtlMs: 60_000, clock });
    local.set('a', '1', 1_000);
    clock.advance(999);
    expect(local.get('a')).toBe('1');
    clock.advance(2);
    expect(local.get('a')).toBeUndefined();
  });

  it('keeps an entry at most maxTtlMs, whatever TTL it was written with', () => {
    const clock = new ManualClock(1_000_000);
    const local = new LocalCache({ maxEntries: 10, maxBytes: 1_000, maxTtlMs: 5_000, clock });
    local.set('a', '1', 3_600_000);
    clock.advance(5_001);
    expect(local.get('a')).toBeUndefined();
  });

  it('starts no timer: nothing to clean up when it is dropped', () => {
    const clock = new ManualClock(1_000_000);
    const local = new LocalCache({ maxEntries: 10, maxBytes: 1_000, maxTtlMs: 5_000, clock });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    local.set('a', '1', 1_000);
    local.get('a');
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    expect(clock.pendingTimers).toBe(0);
  });

  it('delete and clear remove entries', () => {
    const local = new LocalCache({
      maxEntries: 10,
      maxBytes: 1_000,
      maxTtlMs: 5_000,
      clock: new ManualClock(1_000_000),
    });
    local.set('a', '1', 1_000);
    local.set('b', '2', 1_000);
    local.delete('a');
    expect(local.get('a')).toBeUndefined();
    local.clear();
    expect(local.size).toBe(0);
  });
});
