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

/// For each entry in turn: acks and deletes it, and its marker if the marker still names it.
/// KEYS: stream, then one marker per entry. ARGV: group, then the entry ids in the markers' order.
/// Returns each entry's XACK count, in order.
pub(super) const ACK_MANY: &str = r"
local out = {}
for i = 2, #KEYS do
  local id = ARGV[i]
  out[#out + 1] = redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
  if redis.call('GET', KEYS[i]) == id then
    redis.call('DEL', KEYS[i])
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

/// Resets an entry's idle time if `consumer` still holds it (XCLAIM JUSTID keeps the count).
/// KEYS: stream. ARGV: group, consumer, entry id. Returns 1 if still held.
pub(super) const TOUCH: &str = r"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return 0
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
";
