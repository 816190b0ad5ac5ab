/*
 * The Lua scripts of the Redis job store: every change that touches several keys runs as one
 * script, so it is atomic and any node can answer any call without forwarding. ARGV[1] of each
 * is the key prefix (`--cluster.prefix` plus `:`); keys are computed inside the scripts, which
 * a single Redis (or a primary with replicas) allows and Redis Cluster does not: the store
 * targets one Redis, as the README says.
 *
 * Key layout (P = prefix):
 *   P j:ID            HASH  one job: o owner, c created, s started, f finished, st status, oc outcome,
 *                           r retention, t type, nb no-body, rh status+headers, rb body,
 *                           dt details, wh webhook, wd its delivery attempts (msgpack, written by the
 *                           node that delivers them), n node that runs it, a attempt,
 *                           ld live details of a pending job (progress, log), written by its node,
 *                           wt '1' once a node watched it (its end is then told to P w:ID's nodes)
 *   P rq:ID           STRING a job's request (msgpack), while it may run again: a key of its own,
 *                           so that the job's hash keeps Redis's compact encoding (fields up to 64 bytes)
 *   P s:ST, P s:ST:OWNER   ZSET  ids by status (score = id): q queued, r running, c completed,
 *                           f failed (and timed out), x cancelled, w completed with errors
 *   P fin, P fin:OWNER ZSET  finished jobs by finish time (DELETE /_api/job/expired)
 *   P exp             ZSET  finished jobs with a retention, by the time it runs out
 *   P own             HASH  jobs stored per owner;  P n: jobs stored;  P ids: the newest id
 *   P lastfin         the latest finish time (a wall clock stepping back is clamped to it)
 *   P gone, P gonel   HASH id -> "owner|expiredAt" and the LIST bounding it to the newest removals
 *   P idem, P idemx   HASH "owner\0key" -> "id|expiresAt|fingerprint", ZSET of their expiry
 *   P wh              SET   ids of stored jobs with a webhook
 *   P whe:NODE        HASH  undelivered webhook events of a node
 *   P cl:NODE         SET   pending jobs a node claimed (runs, or will run)
 *   P q               STREAM the shared queue: entries `id ID` of stored jobs no node claimed yet,
 *                           and `f REQUEST` of fire-and-forget requests (msgpack),
 *                           read by the consumer group `workers` (one consumer per node)
 *   P in:NODE         STREAM a node's inbox: `cancel ID reason` and `watch|unwatch ID node N` for
 *                           jobs it runs, `ev ID e EVENT` (JSON) and `ended ID` for jobs it watches
 *   P w:ID            SET   nodes with watchers (SSE, WebSocket) of a pending job: told `ended` when it ends
 *   P nodes           ZSET  each live node's lease: when it runs out, in Redis's own clock (ms)
 *
 * Numbers are handled as the strings they arrive as; a computed one is formatted with `S`
 * (Lua 5.1's `tostring` would print a 16-digit id in exponent form).
 */

/** How many removed jobs `gone` remembers (the contract asks for at least 100,000). */
export const GONE_CAPACITY = 100_000;

const PRELUDE = `
local P = ARGV[1]
local function S(x) return string.format('%.0f', x) end
local ALL = {'q', 'r', 'c', 'f', 'x', 'w'}
local function jkey(id) return P .. 'j:' .. id end
local function visible(owner, user, super) return super == '1' or owner == user end
local function suffixOf(user, super) if super == '1' then return '' end return ':' .. user end
local function moveStatus(id, owner, from, to)
  if from then
    redis.call('ZREM', P .. 's:' .. from, id)
    redis.call('ZREM', P .. 's:' .. from .. ':' .. owner, id)
  end
  redis.call('ZADD', P .. 's:' .. to, id, id)
  redis.call('ZADD', P .. 's:' .. to .. ':' .. owner, id, id)
end
local function pending(st) return st == 'q' or st == 'r' end
local function finishedAt(now)
  local last = tonumber(redis.call('GET', P .. 'lastfin') or '0')
  local t = tonumber(now)
  if t < last then t = last end
  if t > last then redis.call('SET', P .. 'lastfin', S(t)) end
  return t
end
local function toFinished(id, owner, t, retention)
  redis.call('ZADD', P .. 'fin', S(t), id)
  redis.call('ZADD', P .. 'fin:' .. owner, S(t), id)
  local r = tonumber(retention or '0')
  if r > 0 then redis.call('ZADD', P .. 'exp', S(t + r), id) end
end
local function tell(node, ...) redis.call('XADD', P .. 'in:' .. node, 'MAXLEN', '~', '10000', '*', ...) end
-- The job ended (or was removed): every node watching it hears so and sends its final event.
-- \`watched\` is its 'wt' field, set by \`watch\`: a job nobody watched costs nothing here.
local function endWatches(id, watched)
  if not watched then return end
  local w = P .. 'w:' .. id
  for _, node in ipairs(redis.call('SMEMBERS', w)) do tell(node, 'ended', id) end
  redis.call('DEL', w)
end
-- HMGET of a job's fields, where 'rq' (its request) reads the key P rq:ID.
local function fields(id, ...)
  local names = {...}
  local f = redis.call('HMGET', jkey(id), unpack(names))
  for i, name in ipairs(names) do
    if name == 'rq' then f[i] = redis.call('GET', P .. 'rq:' .. id) end
  end
  return f
end
-- Removes a job. \`known\`: its fields {o, st, n, r} when the caller read them already (of a job
-- that is not pending). Returns the count of jobs stored after, or false when there was no such job.
local function removeJob(id, expiredAt, known)
  local k = jkey(id)
  local f = known or redis.call('HMGET', k, 'o', 'st', 'n', 'r', 'wt')
  local owner, st, node = f[1], f[2], f[3]
  if not owner then return false end
  redis.call('DEL', k, P .. 'rq:' .. id)
  redis.call('ZREM', P .. 's:' .. st, id)
  redis.call('ZREM', P .. 's:' .. st .. ':' .. owner, id)
  if pending(st) then
    if node then redis.call('SREM', P .. 'cl:' .. node, id) end
  else
    redis.call('ZREM', P .. 'fin', id)
    redis.call('ZREM', P .. 'fin:' .. owner, id)
    if tonumber(f[4] or '0') > 0 then redis.call('ZREM', P .. 'exp', id) end
  end
  if redis.call('HINCRBY', P .. 'own', owner, -1) <= 0 then redis.call('HDEL', P .. 'own', owner) end
  local n = redis.call('DECR', P .. 'n')
  if pending(st) then endWatches(id, f[5]) end
  redis.call('SREM', P .. 'wh', id)
  redis.call('HSET', P .. 'gone', id, owner .. '|' .. expiredAt)
  if redis.call('LPUSH', P .. 'gonel', id) > ${GONE_CAPACITY} then
    redis.call('HDEL', P .. 'gone', redis.call('RPOP', P .. 'gonel'))
  end
  return n
end
local function count() return tonumber(redis.call('GET', P .. 'n') or '0') end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A finish, start or cancel of the engine of node ARGV node, for its attempt ('' for any):
-- refused when the job was taken from that node meanwhile (its lease lapsed, another runs it).
local function fenced(node, attempt, f_node, f_attempt)
  if node == '' then return false end
  if f_node ~= node then return true end
  return attempt ~= '' and f_attempt ~= attempt
end
`;

/** The fields of a job view, in the order GET and TAKE answer them. */
export const VIEW_FIELDS = ['o', 'st', 'c', 's', 'f', 'oc', 'r', 't', 'rh', 'rb', 'dt', 'ld', 'n', 'wh', 'wd'] as const;
/** The fields of a history entry (a view without result and details). */
export const SUMMARY_FIELDS = ['o', 'st', 'c', 's', 'f', 'oc', 'r', 't'] as const;

const VIEW_HMGET = VIEW_FIELDS.map((field) => `'${field}'`).join(', ');
const SUMMARY_HMGET = SUMMARY_FIELDS.map((field) => `'${field}'`).join(', ');

/**
 * Each script's body, after the prelude. ARGV after the prefix is listed with each.
 */
const BODIES = {
  /**
   * id, owner, created, retention, type, noBody, request, webhook|'', idemName|'', idemExpires,
   * node, idemFingerprint, shared ('1': into the shared queue, unclaimed), maxQueued → count
   */
  add: `
local id, owner = ARGV[2], ARGV[3]
local k = jkey(id)
if redis.call('EXISTS', k) == 1 then return redis.error_reply('ERR_JOB_EXISTS job ' .. id .. ' is stored already') end
local shared = ARGV[14] == '1'
if shared and redis.call('XLEN', P .. 'q') >= tonumber(ARGV[15]) then
  return redis.error_reply('ERR_QUEUE_FULL the shared queue of the cluster holds ' .. ARGV[15] .. ' jobs')
end
local node = ARGV[12]
if shared then node = '' end
redis.call('HSET', k, 'o', owner, 'c', ARGV[4], 's', '0', 'f', '0', 'st', 'q', 'r', ARGV[5], 't', ARGV[6], 'nb', ARGV[7], 'a', '1', 'n', node)
redis.call('SET', P .. 'rq:' .. id, ARGV[8])
if ARGV[9] ~= '' then
  redis.call('HSET', k, 'wh', ARGV[9])
  redis.call('SADD', P .. 'wh', id)
end
moveStatus(id, owner, false, 'q')
redis.call('HINCRBY', P .. 'own', owner, 1)
local n = redis.call('INCR', P .. 'n')
local top = redis.call('GET', P .. 'ids')
if not top or tonumber(top) < tonumber(id) then redis.call('SET', P .. 'ids', id) end
if ARGV[10] ~= '' then
  redis.call('HSET', P .. 'idem', ARGV[10], id .. '|' .. ARGV[11] .. '|' .. ARGV[13])
  redis.call('ZADD', P .. 'idemx', ARGV[11], ARGV[10])
end
if shared then
  redis.call('XADD', P .. 'q', '*', 'id', id)
else
  redis.call('SADD', P .. 'cl:' .. node, id)
end
return n`,

  /** id, now, node|'', attempt|'' → 1 when it was queued */
  start: `
local k = jkey(ARGV[2])
local f = redis.call('HMGET', k, 'o', 'st', 'n', 'a')
if f[2] ~= 'q' or fenced(ARGV[4], ARGV[5], f[3], f[4]) then return 0 end
redis.call('HSET', k, 'st', 'r', 's', ARGV[3])
moveStatus(ARGV[2], f[1], 'q', 'r')
return 1`,

  /**
   * id, now, outcome, statusAndHeaders, body, hasBody, details|'', node|'', attempt|'',
   * startedAt|'' (a start not yet written: the node defers them, and most short jobs end first) → 1 when stored
   */
  finish: `
local id = ARGV[2]
local k = jkey(id)
local f = redis.call('HMGET', k, 'o', 'st', 'r', 'nb', 'n', 'a', 's', 'wt')
if not pending(f[2]) or fenced(ARGV[9], ARGV[10], f[5], f[6]) then return 0 end
local oc = ARGV[4]
local to = 'f'
if oc == 'completed' then to = 'c' elseif oc == 'completedWithErrors' then to = 'w' end
local t = finishedAt(ARGV[3])
-- One HSET of every field that changes.
local set = {'st', to, 'f', S(t), 'oc', oc, 'rh', ARGV[5]}
if ARGV[11] ~= '' and f[7] == '0' then set[#set + 1] = 's'; set[#set + 1] = ARGV[11] end
if ARGV[7] == '1' and f[4] ~= '1' then set[#set + 1] = 'rb'; set[#set + 1] = ARGV[6] end
if ARGV[8] ~= '' then set[#set + 1] = 'dt'; set[#set + 1] = ARGV[8] end
redis.call('HSET', k, unpack(set))
redis.call('HDEL', k, 'ld')
if to ~= 'f' then redis.call('DEL', P .. 'rq:' .. id) end
moveStatus(id, f[1], f[2], to)
toFinished(id, f[1], t, f[3])
if f[5] and f[5] ~= '' then redis.call('SREM', P .. 'cl:' .. f[5], id) end
endWatches(id, f[8])
return 1`,

  /**
   * id, now, details|'', node|'', attempt|'', startedAt|'' → {found, cancelled, node|false}. With a node: its
   * engine's cancel (fenced); without: a cancel of a job no node claimed (still in the queue),
   * which is never done here for a claimed one: its node is told (cancelRemote).
   */
  cancel: `
local id = ARGV[2]
local k = jkey(id)
local f = redis.call('HMGET', k, 'o', 'st', 'r', 'n', 'a', 's', 'wt')
if not f[1] then return {0, 0, false} end
if not pending(f[2]) then return {1, 0, f[4]} end
if ARGV[5] == '' and f[4] and f[4] ~= '' then return {1, 0, f[4]} end
if fenced(ARGV[5], ARGV[6], f[4], f[5]) then return {1, 0, f[4]} end
local t = finishedAt(ARGV[3])
redis.call('HSET', k, 'st', 'x', 'f', S(t))
if ARGV[7] and ARGV[7] ~= '' and f[6] == '0' then redis.call('HSET', k, 's', ARGV[7]) end
if ARGV[4] ~= '' then redis.call('HSET', k, 'dt', ARGV[4]) end
redis.call('HDEL', k, 'ld')
moveStatus(id, f[1], f[2], 'x')
toFinished(id, f[1], t, f[3])
if f[4] and f[4] ~= '' then redis.call('SREM', P .. 'cl:' .. f[4], id) end
endWatches(id, f[7])
return {1, 1, f[4]}`,

  /**
   * id, reason, user, super → {found, state, node}: 'queued' when no node had claimed it (the
   * caller cancels it in the store), 'sent' when its node's inbox got it, 'done' when it had ended.
   */
  cancelRemote: `
local id = ARGV[2]
local f = redis.call('HMGET', jkey(id), 'o', 'st', 'n')
if not f[1] or not visible(f[1], ARGV[4], ARGV[5]) then return {0, '', ''} end
if not pending(f[2]) then return {1, 'done', f[3] or ''} end
if not f[3] or f[3] == '' then return {1, 'queued', ''} end
tell(f[3], 'cancel', id, 'reason', ARGV[3])
return {1, 'sent', f[3]}`,

  /**
   * node, entryId, jobId → {request, created, attempt, webhook|false, {watching nodes}} when the
   * job is still pending and no node claimed it: now claimed by this node; nil otherwise. The queue entry is acknowledged and
   * deleted either way, in the same step, so no job is taken twice.
   */
  claim: `
local node, id = ARGV[2], ARGV[4]
redis.call('XACK', P .. 'q', 'workers', ARGV[3])
redis.call('XDEL', P .. 'q', ARGV[3])
local k = jkey(id)
local f = fields(id, 'st', 'n', 'rq', 'c', 'wh')
if f[1] ~= 'q' or (f[2] and f[2] ~= '') then return false end
redis.call('HSET', k, 'n', node)
local attempt = redis.call('HINCRBY', k, 'a', 1)
redis.call('SADD', P .. 'cl:' .. node, id)
return {f[3], f[4], attempt, f[5] or false, redis.call('SMEMBERS', P .. 'w:' .. id)}`,

  /**
   * id, node → {where, running node}: registers the node as a watcher of a pending job. where:
   * 'ended' (gone or finished: nothing registered), 'queued' (no node took it), 'here' (the
   * caller runs it), 'elsewhere' (that node's inbox got 'watch': it forwards the events).
   */
  watch: `
local id, node = ARGV[2], ARGV[3]
local f = redis.call('HMGET', jkey(id), 'st', 'n')
if not f[1] or not pending(f[1]) then return {'ended', ''} end
redis.call('SADD', P .. 'w:' .. id, node)
redis.call('HSET', jkey(id), 'wt', '1')
local owner = f[2] or ''
if owner == '' then return {'queued', ''} end
if owner == node then return {'here', owner} end
tell(owner, 'watch', id, 'node', node)
return {'elsewhere', owner}`,

  /** id, node → 1: the node's last watcher of the job went away; the node running it stops forwarding. */
  unwatch: `
local id, node = ARGV[2], ARGV[3]
redis.call('SREM', P .. 'w:' .. id, node)
local owner = redis.call('HGET', jkey(id), 'n')
if owner and owner ~= '' and owner ~= node then tell(owner, 'unwatch', id, 'node', node) end
return 1`,

  /** maxQueued, request → length: a fire-and-forget request into the shared queue */
  fire: `
if redis.call('XLEN', P .. 'q') >= tonumber(ARGV[2]) then
  return redis.error_reply('ERR_QUEUE_FULL the shared queue of the cluster holds ' .. ARGV[2] .. ' jobs')
end
redis.call('XADD', P .. 'q', '*', 'f', ARGV[3])
return 1`,

  /** entryId → 1 when this caller took the fire-and-forget entry (acknowledged and deleted), 0 when another did */
  takeFire: `
redis.call('XACK', P .. 'q', 'workers', ARGV[2])
return redis.call('XDEL', P .. 'q', ARGV[2])`,

  /** entryId, field, value → 1: an entry read by a node with no room for it after all, queued again at the end */
  giveBack: `
redis.call('XACK', P .. 'q', 'workers', ARGV[2])
if redis.call('XDEL', P .. 'q', ARGV[2]) == 0 then return 0 end
redis.call('XADD', P .. 'q', '*', ARGV[3], ARGV[4])
return 1`,

  /** node, leaseMs → Redis's time (ms): the node's lease runs until then + leaseMs */
  lease: `
local now = nowMs()
redis.call('ZADD', P .. 'nodes', S(now + tonumber(ARGV[3])), ARGV[2])
return S(now)`,

  /** id, details, node, attempt → 1 when written: the live progress and log of a job the node runs, for the other nodes' status answers */
  live: `
local k = jkey(ARGV[2])
local f = redis.call('HMGET', k, 'st', 'n', 'a')
if not pending(f[1]) or fenced(ARGV[4], ARGV[5], f[2], f[3]) then return 0 end
redis.call('HSET', k, 'ld', ARGV[3])
return 1`,

  /** id, deliveries → 1 when the job is stored: the webhook attempts of the node delivering them, for every node's status */
  deliveries: `
local k = jkey(ARGV[2])
if redis.call('EXISTS', k) == 0 then return 0 end
redis.call('HSET', k, 'wd', ARGV[3])
return 1`,

  /** node → 1; a node that stops cleanly gives its lease up */
  unlease: `
return redis.call('ZREM', P .. 'nodes', ARGV[2])`,

  /**
   * reaper, batch → {lost node|'', {id, request, created, attempt, webhook|false, {watching nodes}}...}: takes the pending jobs of
   * one node whose lease lapsed over to the reaper (attempt + 1: the lost node's late finish is
   * refused), queued again; the reaper runs the idempotent ones and fails the others. The lost
   * node leaves the lease set once it has no job left.
   */
  reap: `
local now = nowMs()
local lost = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', '(' .. S(now), 'LIMIT', 0, 1)[1]
if not lost then return {''} end
local reaper = ARGV[2]
local claimed = P .. 'cl:' .. lost
local out = {lost}
for _, id in ipairs(redis.call('SRANDMEMBER', claimed, tonumber(ARGV[3]))) do
  redis.call('SREM', claimed, id)
  local k = jkey(id)
  local f = fields(id, 'o', 'st', 'rq', 'c', 'wh')
  if pending(f[2]) then
    if f[2] == 'r' then moveStatus(id, f[1], 'r', 'q') end
    redis.call('HSET', k, 'st', 'q', 's', '0', 'n', reaper)
    local attempt = redis.call('HINCRBY', k, 'a', 1)
    redis.call('SADD', P .. 'cl:' .. reaper, id)
    out[#out + 1] = {id, f[3], f[4], attempt, f[5] or false, redis.call('SMEMBERS', P .. 'w:' .. id)}
  end
end
if redis.call('SCARD', claimed) == 0 then
  redis.call('ZREM', P .. 'nodes', lost)
  redis.call('DEL', P .. 'in:' .. lost, P .. 'whe:' .. lost)
end
return out`,

  /** id, now, node → {request, details|false, attempt} or nil */
  reopen: `
local id = ARGV[2]
local k = jkey(id)
local f = fields(id, 'o', 'st', 'rq', 'dt')
if (f[2] ~= 'f' and f[2] ~= 'x') or not f[3] then return false end
redis.call('HDEL', k, 'rh', 'rb', 'dt', 'oc', 'ld')
redis.call('HSET', k, 'st', 'q', 's', '0', 'f', '0', 'n', ARGV[4])
local attempt = redis.call('HINCRBY', k, 'a', 1)
redis.call('ZREM', P .. 'fin', id)
redis.call('ZREM', P .. 'fin:' .. f[1], id)
redis.call('ZREM', P .. 'exp', id)
moveStatus(id, f[1], f[2], 'q')
redis.call('SADD', P .. 'cl:' .. ARGV[4], id)
return {f[3], f[4] or false, attempt}`,

  /** id, user, super → view fields or nil */
  get: `
local f = redis.call('HMGET', jkey(ARGV[2]), ${VIEW_HMGET})
if not f[1] or not visible(f[1], ARGV[3], ARGV[4]) then return false end
return f`,

  /** id, user, super → {count, view fields...} or nil; removes a done or cancelled job */
  take: `
local id = ARGV[2]
local f = redis.call('HMGET', jkey(id), ${VIEW_HMGET})
if not f[1] or not visible(f[1], ARGV[3], ARGV[4]) then return false end
local n
if pending(f[2]) then n = count() else n = removeJob(id, '0', {f[1], f[2], f[${VIEW_FIELDS.indexOf('n') + 1}], f[${VIEW_FIELDS.indexOf('r') + 1}]}) end
table.insert(f, 1, n)
return f`,

  /** id, user, super → count, or -1 when not visible */
  remove: `
local owner = redis.call('HGET', jkey(ARGV[2]), 'o')
if not owner or not visible(owner, ARGV[3], ARGV[4]) then return -1 end
removeJob(ARGV[2], '0')
return count()`,

  /** state, count, user, super → ids ascending */
  list: `
local suffix = suffixOf(ARGV[4], ARGV[5])
local sets = {'c', 'f', 'x', 'w'}
if ARGV[2] == 'pending' then sets = {'q', 'r'} end
local n = tonumber(ARGV[3])
local all = {}
for _, s in ipairs(sets) do
  for _, id in ipairs(redis.call('ZRANGE', P .. 's:' .. s .. suffix, 0, n - 1)) do all[#all + 1] = id end
end
table.sort(all, function(a, b) return tonumber(a) < tonumber(b) end)
local out = {}
for i = 1, math.min(n, #all) do out[i] = all[i] end
return out`,

  /** user, super, batch → {count, removed, ids...} (ids only for a user's own) */
  removeAll: `
local suffix = suffixOf(ARGV[2], ARGV[3])
local batch = tonumber(ARGV[4])
local out = {0, 0}
local removed = 0
for _, s in ipairs(ALL) do
  if removed < batch then
    for _, id in ipairs(redis.call('ZRANGE', P .. 's:' .. s .. suffix, 0, batch - removed - 1)) do
      removeJob(id, '0')
      removed = removed + 1
      if ARGV[3] ~= '1' then out[#out + 1] = id end
    end
  end
end
out[1] = count()
out[2] = removed
return out`,

  /** stamp, user, super, batch → {count, ids...} */
  removeExpired: `
local key = P .. 'fin' .. suffixOf(ARGV[3], ARGV[4])
local out = {0}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[5]))) do
  removeJob(id, '0')
  out[#out + 1] = id
end
out[1] = count()
return out`,

  /** user, super, limit, before ('+inf' or an id), status|'' → flat {id, summary fields...} newest first */
  history: `
local suffix = suffixOf(ARGV[2], ARGV[3])
local limit = tonumber(ARGV[4])
local max = '+inf'
if ARGV[5] ~= '+inf' then max = '(' .. ARGV[5] end
local sets = ALL
if ARGV[6] ~= '' then sets = {ARGV[6]} end
local all = {}
for _, s in ipairs(sets) do
  for _, id in ipairs(redis.call('ZREVRANGEBYSCORE', P .. 's:' .. s .. suffix, max, '-inf', 'LIMIT', 0, limit)) do all[#all + 1] = id end
end
table.sort(all, function(a, b) return tonumber(a) > tonumber(b) end)
local out = {}
for i = 1, math.min(limit, #all) do
  local id = all[i]
  out[#out + 1] = id
  for _, v in ipairs(redis.call('HMGET', jkey(id), ${SUMMARY_HMGET})) do out[#out + 1] = v end
end
return out`,

  /** user, super, status|'' → how many */
  historyCount: `
local suffix = suffixOf(ARGV[2], ARGV[3])
local sets = ALL
if ARGV[4] ~= '' then sets = {ARGV[4]} end
local n = 0
for _, s in ipairs(sets) do n = n + redis.call('ZCARD', P .. 's:' .. s .. suffix) end
return n`,

  /** now, batch → {count, id, expiredAt, id, expiredAt, ...} */
  expire: `
local out = {0}
local due = redis.call('ZRANGEBYSCORE', P .. 'exp', '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #due, 2 do
  removeJob(due[i], due[i + 1])
  out[#out + 1] = due[i]
  out[#out + 1] = due[i + 1]
end
for _, name in ipairs(redis.call('ZRANGEBYSCORE', P .. 'idemx', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('HDEL', P .. 'idem', name)
  redis.call('ZREM', P .. 'idemx', name)
end
out[1] = count()
return out`,

  /**
   * node → {{id, owner, created, request, noBody, webhook|false, attempt}...}: the pending jobs the
   * node claimed (those it was running were queued again when its store opened: `counters`)
   */
  recover: `
local claimed = P .. 'cl:' .. ARGV[2]
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', claimed)) do
  local f = fields(id, 'o', 'st', 'c', 'rq', 'nb', 'wh', 'a', 'n')
  if pending(f[2]) and f[8] == ARGV[2] then
    out[#out + 1] = {id, f[1], f[3], f[4], f[5], f[6], f[7]}
  else
    redis.call('SREM', claimed, id)
  end
end
return out`,

  /** → {id, webhook, id, webhook, ...} of stored jobs with a webhook */
  webhooks: `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'wh')) do
  local wh = redis.call('HGET', jkey(id), 'wh')
  if wh then
    out[#out + 1] = id
    out[#out + 1] = wh
  end
end
return out`,

  /**
   * node → {newest id, jobs stored}, at a store's open: the node restarted, so the jobs it was
   * running are queued again (startedAt 0), as after any store's restart; `recover` then hands
   * them back with the rest it claimed.
   */
  counters: `
for _, id in ipairs(redis.call('SMEMBERS', P .. 'cl:' .. ARGV[2])) do
  local k = jkey(id)
  local f = redis.call('HMGET', k, 'o', 'st', 'n')
  if f[2] == 'r' and f[3] == ARGV[2] then
    redis.call('HSET', k, 'st', 'q', 's', '0')
    moveStatus(id, f[1], 'r', 'q')
  end
end
return {redis.call('GET', P .. 'ids') or '0', count()}`,

  /**
   * count → the last id of a block of `count` new ids, cluster-wide; the counter is first raised
   * to Redis's own clock × 1000 (firstJobIdAt), so that ids stay above those of earlier runs.
   */
  reserveIds: `
local t = redis.call('TIME')
local floor = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) * 1000
local top = redis.call('GET', P .. 'ids')
if not top or tonumber(top) < floor then redis.call('SET', P .. 'ids', S(floor)) end
return redis.call('INCRBY', P .. 'ids', tonumber(ARGV[2]))`,
} as const;

export type ScriptName = keyof typeof BODIES;

/**
 * The scripts a store runs once or more per job: calls of them made in one event-loop turn go
 * to Redis as one call of `BATCH_SCRIPT`, in the order they were made, which cuts the client's
 * per-command work (node-redis's encoding, queueing and promise per command) by the batch size.
 */
export const BATCHED = ['add', 'finish', 'take'] as const satisfies readonly ScriptName[];
export type BatchedScriptName = (typeof BATCHED)[number];

/** Every script with the prelude, by name. */
export const SCRIPTS: Readonly<Record<ScriptName, string>> = Object.fromEntries(
  Object.entries(BODIES).map(([name, body]) => [name, PRELUDE + body]),
) as Record<ScriptName, string>;

/**
 * Several calls of the BATCHED scripts as one: ARGV is the prefix, then for each call the
 * script's index in BATCHED, its argument count and its arguments; each body runs as a function
 * whose parameter is that call's ARGV, in order, and the answer is one `{1, reply}` or
 * `{0, error message}` per call. Atomic as a whole, as each call was on its own.
 */
export const BATCH_SCRIPT = `${PRELUDE}
${BATCHED.map((name, index) => `local function s${index}(ARGV)
${BODIES[name]}
end`).join('\n')}
local scripts = {${BATCHED.map((_, index) => `s${index}`).join(', ')}}
local out = {}
local i = 2
while i <= #ARGV do
  local script = scripts[tonumber(ARGV[i]) + 1]
  local count = tonumber(ARGV[i + 1])
  local args = {P}
  for j = 1, count do args[j + 1] = ARGV[i + 1 + j] end
  i = i + count + 2
  local r = script(args)
  if type(r) == 'table' and r.err then out[#out + 1] = {0, r.err} else out[#out + 1] = {1, r} end
end
return out`;
