"""The Lua scripts of the store: each state change is one script, hence atomic.

State names and event fields come from heartbeat_contract: the prelude defines them
as Lua locals, and the scripts use only those locals.
"""

from __future__ import annotations

from heartbeat_contract import events, states


def _lua_string(value: str) -> str:
    if not value.replace("_", "").isalnum():
        raise ValueError(f"{value!r} is not a plain name")
    return f"'{value}'"


def _constants() -> str:
    final = ", ".join(f"[{_lua_string(s)}]=true" for s in sorted(states.FINAL_STATES))
    names = {
        "PENDING": states.PENDING, "RUNNING": states.RUNNING,
        "EV_HEARTBEAT": events.HEARTBEAT, "EV_STATE": events.STATE, "EV_CANCEL": events.CANCEL,
        "F_TYPE": events.TYPE, "F_EXECUTION_ID": events.EXECUTION_ID, "F_AT": events.AT,
        "F_STATUS": events.STATUS, "F_PROGRESS": events.PROGRESS, "F_FROM": events.FROM,
        "F_TO": events.TO, "F_REASON": events.REASON, "F_ERROR": events.ERROR,
        "F_EXIT_CODE": events.EXIT_CODE, "F_TIMESTAMP": events.TIMESTAMP,
    }
    lines = [f"local FINAL = {{{final}}}"]
    lines += [f"local {name} = {_lua_string(value)}" for name, value in names.items()]
    return "\n".join(lines) + "\n"


# KEYS: 1 hash, 2 transitions, 3 stream, 4 global stream, 5 index, 6 start deadlines.
# ARGV: 1 execution id, 2 active TTL, 3 final TTL, 4 stream cap, 5 global cap, 6.. per script.
LUA_PRELUDE = _constants() + """
local function now()
  local t = redis.call('TIME')
  return t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
end
local function add_event(fields)
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[4], '*', unpack(fields))
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
end
local function set_ttl(ttl)
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
end
local function transition(from, to, at, reason, err, exit_code)
  redis.call('HSET', KEYS[1], 'status', to)
  -- built by hand: cjson would round the microseconds of 'at'
  redis.call('RPUSH', KEYS[2], '{"status":' .. cjson.encode(to) .. ',"at":' .. at
             .. ',"reason":' .. cjson.encode(reason) .. '}')
  local ev = {F_TYPE, EV_STATE, F_EXECUTION_ID, ARGV[1], F_AT, at, F_STATUS, to,
              F_FROM, from, F_TO, to, F_REASON, reason}
  if err ~= '' then ev[#ev + 1] = F_ERROR; ev[#ev + 1] = err end
  if exit_code ~= '' then ev[#ev + 1] = F_EXIT_CODE; ev[#ev + 1] = exit_code end
  add_event(ev)
  redis.call('ZADD', KEYS[5], at, ARGV[1])
  if to ~= PENDING then redis.call('ZREM', KEYS[6], ARGV[1]) end
end
local function snapshot()
  return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}
end
"""

# ARGV 6 dag_id, 7 task_id, 8 run_id, 9 container_name, 10 host, 11 task_type,
# 12 drop index entries older than, 13 seconds to the first heartbeat or ''.
REGISTER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('DEL', KEYS[2], KEYS[3])
local at = now()
local fields = {'status', PENDING, 'created_at', at, 'cancel_requested', '0'}
local names = {'dag_id', 'task_id', 'run_id', 'container_name', 'host', 'task_type'}
for i, name in ipairs(names) do
  if ARGV[5 + i] ~= '' then fields[#fields + 1] = name; fields[#fields + 1] = ARGV[5 + i] end
end
redis.call('HSET', KEYS[1], unpack(fields))
transition('', PENDING, at, 'registered', '', '')
set_ttl(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[12])
if ARGV[13] ~= '' then redis.call('ZADD', KEYS[6], tonumber(at) + tonumber(ARGV[13]), ARGV[1]) end
return {'ok', snapshot()}
"""

# ARGV 6 container_name, 7 container status, 8 progress JSON or '', 9 client timestamp or ''.
HEARTBEAT = """
local fields = redis.call('HMGET', KEYS[1], 'status', 'cancel_requested', 'container_name')
local st = fields[1]
if not st then return {'unknown'} end
if FINAL[st] then return {'final', st} end
local at = now()
local changed = ''
if st == PENDING then
  redis.call('HSET', KEYS[1], 'started_at', at)
  transition(PENDING, RUNNING, at, 'first heartbeat', '', '')
  changed = RUNNING
end
local update = {'last_heartbeat_at', at, 'container_status', ARGV[7]}
if ARGV[8] ~= '' then update[#update + 1] = 'progress'; update[#update + 1] = ARGV[8] end
if not fields[3] and ARGV[6] ~= '' then
  update[#update + 1] = 'container_name'; update[#update + 1] = ARGV[6]
end
redis.call('HSET', KEYS[1], unpack(update))
local ev = {F_TYPE, EV_HEARTBEAT, F_EXECUTION_ID, ARGV[1], F_AT, at, F_STATUS, ARGV[7]}
if ARGV[8] ~= '' then ev[#ev + 1] = F_PROGRESS; ev[#ev + 1] = ARGV[8] end
if ARGV[9] ~= '' then ev[#ev + 1] = F_TIMESTAMP; ev[#ev + 1] = ARGV[9] end
add_event(ev)
set_ttl(ARGV[2])
redis.call('ZADD', KEYS[5], at, ARGV[1])
return {'ok', fields[2] or '0', changed}
"""

# ARGV 6 container_name, 7 final status, 8 result JSON, 9 error message or ''.
COMPLETE = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'unknown'} end
if FINAL[st] then
  local old = redis.call('HMGET', KEYS[1], 'result_data', 'error_message', 'completed_by')
  if st == ARGV[7] and old[3] == 'completion' and (old[1] or 'null') == ARGV[8]
     and (old[2] or '') == ARGV[9] then
    return {'repeat', snapshot()}
  end
  return {'final', st}
end
local at = now()
local update = {'finished_at', at, 'result_data', ARGV[8], 'completed_by', 'completion'}
if ARGV[9] ~= '' then update[#update + 1] = 'error_message'; update[#update + 1] = ARGV[9] end
if ARGV[6] ~= '' and not redis.call('HGET', KEYS[1], 'container_name') then
  update[#update + 1] = 'container_name'; update[#update + 1] = ARGV[6]
end
redis.call('HSET', KEYS[1], unpack(update))
transition(st, ARGV[7], at, 'completion', ARGV[9], '')
set_ttl(ARGV[3])
return {'ok', snapshot(), st}
"""

# ARGV 6 final status, 7 error message or '', 8 exit code or '', 9 reason.
FINALIZE = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'unknown'} end
if FINAL[st] then return {'final', snapshot()} end
local at = now()
local update = {'finished_at', at, 'completed_by', 'finalize'}
if ARGV[7] ~= '' then update[#update + 1] = 'error_message'; update[#update + 1] = ARGV[7] end
if ARGV[8] ~= '' then update[#update + 1] = 'exit_code'; update[#update + 1] = ARGV[8] end
redis.call('HSET', KEYS[1], unpack(update))
transition(st, ARGV[6], at, ARGV[9], ARGV[7], ARGV[8])
set_ttl(ARGV[3])
return {'ok', snapshot(), st}
"""

CANCEL = """
local fields = redis.call('HMGET', KEYS[1], 'status', 'cancel_requested')
local st = fields[1]
if not st then return {'unknown'} end
if FINAL[st] then return {'final', st} end
local changed = ''
if fields[2] ~= '1' then
  local at = now()
  redis.call('HSET', KEYS[1], 'cancel_requested', '1', 'cancel_requested_at', at)
  add_event({F_TYPE, EV_CANCEL, F_EXECUTION_ID, ARGV[1], F_AT, at, F_STATUS, st,
             F_REASON, 'cancel requested'})
  redis.call('ZADD', KEYS[5], at, ARGV[1])
  changed = '1'
end
return {'ok', snapshot(), changed}
"""

# Executions whose first heartbeat is overdue, oldest deadline first (at most ARGV[1]).
OVERDUE = """
local t = redis.call('TIME')
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t[1], 'LIMIT', 0, tonumber(ARGV[1]))
"""
