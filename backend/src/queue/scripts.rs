//! The Lua scripts behind the queue's multi-step operations, each atomic in Redis.

/// Adds a job unless the marker names an entry still in the stream.
/// KEYS: stream, marker. ARGV: maxlen, job JSON. Returns {1|0, entry id}.
pub(super) const ENQUEUE: &str = r"
local current = redis.call('GET', KEYS[2])
if current and #redis.call('XRANGE', KEYS[1], current, current) > 0 then
  return {0, current}
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'job', ARGV[2])
redis.call('SET', KEYS[2], id)
return {1, id}
";

/// For each entry in turn: acks and deletes it, and its marker and cancel key if they still
/// name it.
/// KEYS: stream, then a marker and a cancel key per entry. ARGV: group, then the entry ids in
/// the markers' order. Returns each entry's XACK count, in order.
pub(super) const ACK_MANY: &str = r"
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local marker, cancel = KEYS[2 * i - 2], KEYS[2 * i - 1]
  out[#out + 1] = redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
  if redis.call('GET', marker) == id then
    redis.call('DEL', marker)
  end
  if redis.call('GET', cancel) == id then
    redis.call('DEL', cancel)
  end
end
return out
";

/// XAUTOCLAIM, then each claimed entry's delivery count from XPENDING.
/// KEYS: stream. ARGV: group, consumer, min idle ms, start id, count.
/// Returns {next start id, {id, job JSON, deliveries}, …}.
pub(super) const RECLAIM: &str = r"
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {claimed[1]}
for _, entry in ipairs(claimed[2]) do
  if entry then
    local job = ''
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'job' then job = fields[i + 1] end
    end
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
    local count = 0
    if #pending > 0 then count = pending[1][4] end
    out[#out + 1] = {entry[1], job, count}
  end
end
return out
";

/// Takes over the jobs of consumers whose lease is gone: for each consumer in the group's
/// pending summary other than `me` without a key `lease prefix .. consumer`, XCLAIMs its
/// entries to `me` (raising each delivery count), at most `max` in all. Entries deleted from
/// the stream meanwhile are dropped from the pending list by XCLAIM and skipped.
/// KEYS: stream. ARGV: group, me, lease prefix, max.
/// Returns {{id, job JSON, deliveries, previous owner}, …}.
pub(super) const TAKE_OVER: &str = r"
local ok, summary = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1])
local out = {}
if not ok or not summary[4] then return out end
local max = tonumber(ARGV[4])
for _, holder in ipairs(summary[4]) do
  local owner = holder[1]
  if #out >= max then break end
  if owner ~= ARGV[2] and redis.call('EXISTS', ARGV[3] .. owner) == 0 then
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', max - #out, owner)
    for _, p in ipairs(pending) do
      local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, p[1])
      local entry = claimed[1]
      if entry then
        local job = ''
        local fields = entry[2]
        for i = 1, #fields, 2 do
          if fields[i] == 'job' then job = fields[i + 1] end
        end
        out[#out + 1] = {entry[1], job, p[4] + 1, owner}
      end
    end
  end
end
return out
";

/// Hands a held entry to `to` without raising its count, resetting its idle time (`to` may be
/// the holder itself).
/// KEYS: stream. ARGV: group, holder, entry id, to. Returns 1 if `holder` held it.
pub(super) const RELEASE: &str = r"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return 0
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[4], 0, ARGV[3], 'JUSTID')
return 1
";

/// Whether `consumer` still holds an entry and whether its cancel was asked for.
/// KEYS: stream, cancel key. ARGV: group, consumer, entry id.
/// Returns 0 (held by another consumer or gone), 1 (held) or 2 (held, cancel asked for).
pub(super) const CHECK: &str = r"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return 0
end
if redis.call('GET', KEYS[2]) == ARGV[3] then
  return 2
end
return 1
";

/// Where a container's open job is. KEYS: stream, marker. ARGV: group, lease prefix.
/// Returns 0 (no open job), 1 (waiting: never handed out), 2 (its worker stopped: waiting to
/// be taken over) or 3 (held by a worker with a live lease).
pub(super) const JOB_STATE: &str = r"
local id = redis.call('GET', KEYS[2])
if not id or #redis.call('XRANGE', KEYS[1], id, id) == 0 then return 0 end
local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], id, id, 1)
if not ok or #pending == 0 then return 1 end
if redis.call('EXISTS', ARGV[2] .. pending[1][2]) == 1 then return 3 end
return 2
";

/// Asks for a container's open job to be cancelled. When `may_remove` is `1` and the job was
/// never handed out, removes it (entry and marker) instead. Otherwise stores the entry id in
/// the cancel key, which the job's worker (or whoever takes it over) reads at its next check.
/// KEYS: stream, marker, cancel key. ARGV: group, may_remove.
/// Returns 0 (no open job), 1 (removed) or 2 (cancel stored).
pub(super) const CANCEL: &str = r"
local id = redis.call('GET', KEYS[2])
if not id or #redis.call('XRANGE', KEYS[1], id, id) == 0 then return 0 end
if ARGV[2] == '1' then
  local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if not ok or #pending == 0 then
    redis.call('XDEL', KEYS[1], id)
    redis.call('DEL', KEYS[2])
    return 1
  end
end
redis.call('SET', KEYS[3], id)
return 2
";
