// The Lua scripts the sync runs: each transition is one round trip, atomic on the server. Times in
// the quorum window are the Redis server's own (TIME), so the replicas' clocks need not agree;
// open periods travel as durations (ms left), never as clock times.

/**
 * A local trip. KEYS: open record, trips (sorted set), probe lease. ARGV: replica id, ms left
 * open, quorum, window ms, channel, message, release ('1': drop this replica's probe lease).
 * Counts the replica in the window; once `quorum` replicas tripped within it, writes the open
 * record (kept when a longer one is there) and publishes. Returns the count, negative when the
 * quorum is not reached (nothing published).
 */
export const TRIP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local within = tonumber(ARGV[4])
if ARGV[7] == '1' and redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - within)
redis.call('PEXPIRE', KEYS[2], within)
local count = redis.call('ZCARD', KEYS[2])
if count < tonumber(ARGV[3]) then return -count end
local ms = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], ARGV[1], 'PX', ms) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return count
`;

/**
 * A closing by a successful trial. KEYS: open record, trips, probe lease. ARGV: channel, message.
 * Forgets the opening and the lease, and publishes.
 */
export const CLOSE = `
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`;

/**
 * The cluster's probe lease. KEYS: probe lease. ARGV: replica id, lease ms. Returns -1 when this
 * replica holds it now (taken, or already its own: extended), else the ms the holder keeps it.
 */
export const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return -1
end
return redis.call('PTTL', KEYS[1])
`;

/** KEYS: open record. Returns the ms it has left, or a negative number when there is none. */
export const OPEN_LEFT = `return redis.call('PTTL', KEYS[1])`;
