/* queue_scripts.c: the Lua scripts that make every queue state change atomic.
 *
 * Why scripts: an event must never exist in zero places (lost) nor be
 * recorded twice. Each outcome script acknowledges and deletes the stream
 * entry in the same atomic step that records where the event went.
 *
 * Ownership rule shared by the outcome scripts (done/skip/retry/dead/release):
 * they start with XACK. XACK returns 0 when the entry is no longer pending in
 * the group, i.e. another worker already recorded an outcome for it (it took
 * the entry over after the visibility timeout and finished first). The script
 * then records NOTHING and returns 0, so an outcome is never counted twice
 * and an event is never put back a second time; queue.c turns 0 into
 * M2J_ERR_CONFLICT. Success returns 1.
 *
 * Writes come after all reads/checks in each script, so an error raised by a
 * check cannot leave half a change behind. */
#include "queue/queue.h"
#include "queue/queue_scripts.h"

/* KEYS[1] stream, KEYS[2] stats, KEYS[3..] P:seen:<event_id> (one per event)
 * ARGV[1] dedup ttl seconds, ARGV[2..] job JSON (one per event)
 * Reply: array, per event the new stream id or "dup". A repeated event id
 * within the same batch is a duplicate of its first occurrence. */
const char *const M2J_ENQUEUE_SCRIPT =
    /* Type checks first: Redis does not roll a script back, so anything that
     * could fail half-way must be ruled out before the first write. */
    "local ts = redis.call('TYPE', KEYS[1]).ok\n"
    "if ts ~= 'none' and ts ~= 'stream' then return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is not a stream') end\n"
    "local th = redis.call('TYPE', KEYS[2]).ok\n"
    "if th ~= 'none' and th ~= 'hash' then return redis.error_reply('WRONGTYPE ' .. KEYS[2] .. ' is not a hash') end\n"
    "local n = #KEYS - 2\n"
    "local out, batch = {}, {}\n"
    "local fresh, dups = 0, 0\n"
    "for i = 1, n do\n"
    "  local k = KEYS[i + 2]\n"
    "  if batch[k] or redis.call('EXISTS', k) == 1 then\n"
    "    out[i] = 'dup'; dups = dups + 1\n"
    "  else\n"
    "    batch[k] = true; out[i] = false\n"
    "  end\n"
    "end\n"
    "for i = 1, n do\n"
    "  if out[i] == false then\n"
    "    local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[i + 1])\n"
    "    redis.call('SET', KEYS[i + 2], id, 'EX', ARGV[1])\n"
    "    out[i] = id; fresh = fresh + 1\n"
    "  end\n"
    "end\n"
    "if fresh > 0 then redis.call('HINCRBY', KEYS[2], 'received', fresh) end\n"
    "if dups > 0 then redis.call('HINCRBY', KEYS[2], 'duplicates', dups) end\n"
    /* Duplicates by kind for /metrics. The key is derived, not declared:
     * KEYS[3..] are the seen keys, and the receiver's argument layout is
     * shared with enqueue.c. Only duplicates are decoded, and they are rare. */
    "for i = 1, n do\n"
    "  if out[i] == 'dup' then\n"
    "    local ok, j = pcall(cjson.decode, ARGV[i + 1])\n"
    "    local kind = ok and type(j) == 'table' and type(j.event) == 'table' and j.event.kind\n"
    "    if type(kind) ~= 'string' then kind = 'unknown' end\n"
    "    redis.call('HINCRBY', KEYS[2] .. ':events', kind .. ':duplicate', 1)\n"
    "  end\n"
    "end\n"
    "return out\n";

/* The outcome scripts also count the outcome by the event's kind in
 * P:stats:events (field "<kind>:<outcome>", for /metrics), and add it to
 * the dashboard's activity log (queue/activity.h), in the same step that
 * records it, so the figures never disagree with the queue. */

/* activity(key, keep, outcome, event id, kind, ref, jortt id, reason):
 * one entry in the capped stream key (keep "0": none) and one more in the
 * outcome's count of the minute, which expires after two hours. The minute
 * comes from the entry id, Redis's clock, like the entry's time. */
#define LUA_ACTIVITY \
    "local function activity(key, keep, outcome, event_id, kind, ref, jortt_id, reason)\n" \
    "  if keep == '0' then return end\n" \
    "  local id = redis.call('XADD', key, 'MAXLEN', '~', keep, '*', 'event_id', event_id, 'kind', kind,\n" \
    "                        'outcome', outcome, 'ref', ref, 'jortt_id', jortt_id, 'reason', reason)\n" \
    "  local mk = key .. ':minute:' .. string.format('%d', math.floor(tonumber(string.match(id, '^%d+')) / 60000))\n" \
    "  redis.call('HINCRBY', mk, outcome, 1)\n" \
    "  redis.call('EXPIRE', mk, 7200)\n" \
    "end\n"

/* KEYS[1] stream, KEYS[2] stats, KEYS[3] stats:events, KEYS[4] activity
 * ARGV[1] group, ARGV[2] stream id, ARGV[3] events field,
 * ARGV[4] activity keep, ARGV[5] event id, ARGV[6] kind, ARGV[7] ref, ARGV[8] Jortt id */
const char *const M2J_SCRIPT_DONE =
    LUA_ACTIVITY
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "redis.call('HINCRBY', KEYS[2], 'processed', 1)\n"
    "redis.call('HINCRBY', KEYS[3], ARGV[3], 1)\n"
    "activity(KEYS[4], ARGV[4], 'processed', ARGV[5], ARGV[6], ARGV[7], ARGV[8], '')\n"
    "return 1\n";

/* KEYS[1] stream, KEYS[2] stats, KEYS[3] skipped stream, KEYS[4] stats:events, KEYS[5] activity
 * ARGV[1] group, ARGV[2] stream id, ARGV[3] event id, ARGV[4] ref, ARGV[5] reason,
 * ARGV[6] events field, ARGV[7] activity keep, ARGV[8] kind, ARGV[9] reason as the log keeps it */
const char *const M2J_SCRIPT_SKIP =
    LUA_ACTIVITY
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*',\n"
    "           'event_id', ARGV[3], 'ref', ARGV[4], 'reason', ARGV[5])\n"
    "redis.call('HINCRBY', KEYS[2], 'skipped', 1)\n"
    "redis.call('HINCRBY', KEYS[4], ARGV[6], 1)\n"
    "activity(KEYS[5], ARGV[7], 'skipped', ARGV[3], ARGV[8], ARGV[4], '', ARGV[9])\n"
    "return 1\n";

/* KEYS[1] stream, KEYS[2] stats, KEYS[3] retry zset, KEYS[4] stats:events, KEYS[5] activity
 * ARGV[1] group, ARGV[2] stream id, ARGV[3] due ms, ARGV[4] job JSON, ARGV[5] events field,
 * ARGV[6] activity keep ("0": a round of waiting, not in the log), ARGV[7] event id,
 * ARGV[8] kind, ARGV[9] ref, ARGV[10] reason */
const char *const M2J_SCRIPT_RETRY =
    LUA_ACTIVITY
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])\n"
    "redis.call('HINCRBY', KEYS[2], 'retried', 1)\n"
    "redis.call('HINCRBY', KEYS[4], ARGV[5], 1)\n"
    "activity(KEYS[5], ARGV[6], 'retried', ARGV[7], ARGV[8], ARGV[9], '', ARGV[10])\n"
    "return 1\n";

/* KEYS[1] stream, KEYS[2] stats, KEYS[3] P:dead:<event id>, KEYS[4] dead index,
 * KEYS[5] stats:events, KEYS[6] activity
 * ARGV[1] group, ARGV[2] stream id, ARGV[3] event id, ARGV[4] dead_at ms,
 * ARGV[5] events field, ARGV[6] activity keep, ARGV[7] kind, ARGV[8] ref,
 * ARGV[9] reason as the log keeps it, ARGV[10..] field, value pairs of the
 * dead record. The hash is replaced as a whole so no field of an earlier
 * death of the same event survives. */
const char *const M2J_SCRIPT_DEAD =
    LUA_ACTIVITY
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "redis.call('DEL', KEYS[3])\n"
    "redis.call('HSET', KEYS[3], unpack(ARGV, 10))\n"
    "redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])\n"
    "redis.call('HINCRBY', KEYS[2], 'dead_total', 1)\n"
    "redis.call('HINCRBY', KEYS[5], ARGV[5], 1)\n"
    "activity(KEYS[6], ARGV[6], 'dead_lettered', ARGV[3], ARGV[7], ARGV[8], '', ARGV[9])\n"
    "return 1\n";

/* KEYS[1] stream; ARGV[1] group, ARGV[2] stream id, ARGV[3] job JSON.
 * The copy goes in before the original leaves, in one step. */
const char *const M2J_SCRIPT_RELEASE =
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "redis.call('XADD', KEYS[1], '*', 'job', ARGV[3])\n"
    "return 1\n";

/* KEYS[1] retry zset, KEYS[2] stream; ARGV[1] now ms, ARGV[2] limit.
 * Reply: how many jobs moved. */
const char *const M2J_SCRIPT_PROMOTE =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "for _, job in ipairs(due) do\n"
    "  redis.call('XADD', KEYS[2], '*', 'job', job)\n"
    "  redis.call('ZREM', KEYS[1], job)\n"
    "end\n"
    "return #due\n";

/* Puts dead events back into the stream, each as one step.
 * KEYS[1] dead index, KEYS[2] stream, KEYS[3] stats, KEYS[4] activity,
 * KEYS[4+i] P:dead:<event id i>
 * ARGV[1] activity keep, ARGV[2] the log's reason ("replayed by ..."), then
 * per event three: event id, new job JSON, the job JSON the caller read.
 * Reply: per event the new stream id; 0 when it is no longer dead (someone
 * else replayed it); -1 when its record changed since the caller read it
 * (it was replayed and died again: the caller reads again rather than
 * replaying a stale copy). */
const char *const M2J_SCRIPT_REPLAY =
    LUA_ACTIVITY
    "local out = {}\n"
    "for i = 1, #KEYS - 4 do\n"
    "  local key, a = KEYS[4 + i], 3 + (i - 1) * 3\n"
    "  local cur = redis.call('HGET', key, 'job')\n"
    "  if not cur then out[i] = 0\n"
    "  elseif cur ~= ARGV[a + 2] then out[i] = -1\n"
    "  else\n"
    "    local kr = redis.call('HMGET', key, 'kind', 'ref')\n"
    "    out[i] = redis.call('XADD', KEYS[2], '*', 'job', ARGV[a + 1])\n"
    "    redis.call('DEL', key)\n"
    "    redis.call('ZREM', KEYS[1], ARGV[a])\n"
    "    redis.call('HINCRBY', KEYS[3], 'replayed', 1)\n"
    "    activity(KEYS[4], ARGV[1], 'replayed', ARGV[a], kr[1] or 'unknown', kr[2] or '', '', ARGV[2])\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS[1] lock key; ARGV[1] owner token. Reply 1 if deleted, 0 if not ours. */
const char *const M2J_SCRIPT_UNLOCK =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";

/* KEYS[1] lock; ARGV[1] owner token, ARGV[2] new ttl in ms. 1 when extended,
 * 0 when the lock is not ours any more. */
const char *const M2J_SCRIPT_LOCK_EXTEND =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "return 0\n";

/* KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] entry id. XCLAIM
 * with min-idle 0 would take the entry from whoever holds it, so only while
 * it is still pending for us; JUSTID leaves its delivery count alone.
 * Reply 1: still ours (idle time restarted), 0: not ours any more. */
const char *const M2J_HOLD_SCRIPT =
    "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])\n"
    "if #p == 0 then return 0 end\n"
    "redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')\n"
    "return 1\n";
