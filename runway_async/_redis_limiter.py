"""A ``Limiter`` whose slots live in Redis, shared by every process using the same namespace.

Several processes (replicas of a web app, batch workers on many hosts) spending one
organization's per-model concurrency and daily quota each believe, with an
``InProcessLimiter``, that they own the whole limit. ``RedisLimiter`` keeps the slots in Redis
instead, so the fleet as a whole stays within the organization's limits.

What Redis holds, per model (every key under the ``{namespace}`` hash tag, so one cluster
slot holds them all):

* ``held``: a sorted set of leases, member the slot's fencing token (``INCR``), score its
  expiry in Redis server milliseconds; ``info``: per token, the holder, the task once known,
  whether it is an orphan and who held it last (JSON).
* ``queue`` (score: an ``INCR`` sequence), ``qtime`` (score: when it queued) and ``alive``
  (score: heartbeat deadline): the FIFO of waiting acquires; a waiter whose heartbeat lapsed
  (its process died) is dropped.
* ``orphans``: tokens whose holder is gone while their task may still run; ``lent`` and
  ``lentnew``: held slots lent out (``Limiter.lend``), and those whose early create has not
  been granted yet (score: when the lender's task is expected to end); ``daily``: grant
  times of the rolling day's creates (the quota).

Namespace-wide: the organization's limits and usage (``org``, with when they were read and
whether they are stale), the claim lock of the one process that re-reads them, the
sequences, and the learned task durations. Two pub/sub channels: ``freed`` (a slot of a
model freed: waiting acquires look again) and ``wanted`` (a create of a model waits: holders
in every process poll their tasks).

Every state change is one Lua script (registered once per connection, run by ``EVALSHA``),
timed by Redis ``TIME``, never by a client's clock. Calls that must not wait (``release``,
``lend``, ``notify_when_wanted``, the organization handshake) are synchronous in the
``Limiter`` interface: they update the local view at once and send their script in the
background, retried within a bound. One refresher task per event loop extends the leases of
the slots held there every ``refresh_interval``; one subscriber connection per event loop
hears the two channels.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import importlib
import itertools
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from ._clock import SYSTEM_CLOCK, Clock, Timer, as_clock
from ._config import check_seconds
from ._duration_cache import EstimatorState
from ._exceptions import (
    DailyLimitError,
    LimiterUnavailableError,
    MissingExtraError,
    SlotTimeoutError,
)
from ._limits import AUTO, InProcessLimiter, ModelLimit, Slot
from ._loops import LoopLocal, call_soon_anywhere
from ._models import Organization

__all__ = ["RedisLimiter", "RedisSlot"]

logger = logging.getLogger("runway_async")

INSTALL_HINT: Final = "pip install 'runway_async[redis]'"
CLAIM_TTL: Final = 60.0
"""Seconds the organization-refresh claim lock lasts if its holder never reports back."""
RECHECK_FIRST: Final = 0.05
"""Seconds before the first look again of a waiting acquire that heard nothing."""
OP_BACKOFF_CAP: Final = 1.0
ADOPT_BATCH: Final = 16
"""Most orphaned slots one waiting acquire adopts at once."""

# -- the scripts --------------------------------------------------------------------------

_MODEL_HEAD = """
local HELD, INFO, QUEUE, ALIVE, QTIME, ORPHANS, LENT, LENTNEW, DAILY, ORG, SEQ, TOKENS, LOCK =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10],
  KEYS[11], KEYS[12], KEYS[13]
local MODEL, FREED, WANTED, OWNER = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ORPHAN_MS = tonumber(ARGV[5])
local clock = redis.call('TIME')
local NOW = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

_ORG_HEAD = """
local ORG, LOCK = KEYS[1], KEYS[2]
local FREED, OWNER = ARGV[1], ARGV[2]
local clock = redis.call('TIME')
local NOW = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

_CLAIM_FN = """
local function org_get(field)
  local value = redis.call('HGET', ORG, field)
  if value then return value end
  return nil
end

-- Take the claim to re-read the organization when its shared limits are due (never read,
-- stale, or older than the interval) and nobody holds the claim: one process at a time.
local function try_claim(interval_ms, claim_ms)
  local due = org_get('known') ~= '1' or org_get('stale') == '1'
    or NOW - tonumber(org_get('read_at') or '0') >= interval_ms
  if not due or NOW < tonumber(org_get('retry_at') or '0') then return 0 end
  if redis.call('SET', LOCK, OWNER, 'NX', 'PX', claim_ms) then
    redis.call('HSET', ORG, 'claimed_at', NOW)
    return 1
  end
  return 0
end
"""

_MODEL_FNS = """
local function get_info(tok)
  local raw = redis.call('HGET', INFO, tok)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function put_info(tok, info)
  redis.call('HSET', INFO, tok, cjson.encode(info))
end

local function drop(tok)
  redis.call('ZREM', HELD, tok)
  redis.call('HDEL', INFO, tok)
  redis.call('ZREM', ORPHANS, tok)
  redis.call('SREM', LENT, tok)
  redis.call('ZREM', LENTNEW, tok)
end

local function dequeue(waiter)
  redis.call('ZREM', QUEUE, waiter)
  redis.call('ZREM', ALIVE, waiter)
  redis.call('ZREM', QTIME, waiter)
end

-- Expired leases: one with a task becomes an orphan (the task may still run on Runway:
-- another process adopts it, or it frees ORPHAN_MS later); any other frees. Waiters whose
-- heartbeat lapsed leave the queue.
local function prune()
  local freed = 0
  for _, tok in ipairs(redis.call('ZRANGEBYSCORE', HELD, '-inf', NOW)) do
    local info = get_info(tok)
    if info and info.t ~= '' and info.o ~= 1 then
      if info.h ~= '' then info.p = info.h end
      info.h = ''
      info.o = 1
      put_info(tok, info)
      redis.call('ZADD', HELD, NOW + ORPHAN_MS, tok)
      redis.call('ZADD', ORPHANS, NOW, tok)
    else
      drop(tok)
      freed = freed + 1
    end
  end
  for _, waiter in ipairs(redis.call('ZRANGEBYSCORE', ALIVE, '-inf', '(' .. NOW)) do
    dequeue(waiter)
  end
  if freed > 0 then redis.call('PUBLISH', FREED, MODEL) end
end

local function limits_of()
  if org_get('known') ~= '1' then return nil end
  local raw = org_get('limits')
  if not raw then return {} end
  return cjson.decode(raw)
end

-- The cap of one acquire: -1 for none. "auto" before the organization is known: one slot
-- per model (every limit is at least one), or none after its first read failed.
local function cap_for(limit, limits)
  if limit == 'none' then return -1 end
  if limit ~= 'auto' then return tonumber(limit) end
  if limits then
    local model = limits[MODEL]
    if model == nil then return -1 end
    return model[1]
  end
  if org_get('open') == '1' then return -1 end
  return 1
end

local function daily_refusal(limits)
  if not limits then return nil end
  local model = limits[MODEL]
  if model == nil or model[2] < 0 then return nil end
  redis.call('ZREMRANGEBYSCORE', DAILY, '-inf', NOW - 86400000)
  local used = model[3] + redis.call('ZCOUNT', DAILY, org_get('base') or '0', '+inf')
  if used >= model[2] then return {model[2], used} end
  return nil
end
"""

# ARGV[6..]: waiter, limit, alive_ms, fairness_ms, lease_ms, interval_ms, claim_ms
_TRY = """
local waiter, limit = ARGV[6], ARGV[7]
local alive_ms, fairness_ms, lease_ms = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local interval_ms, claim_ms = tonumber(ARGV[11]), tonumber(ARGV[12])
prune()
local fresh = false
if not redis.call('ZSCORE', QUEUE, waiter) then
  redis.call('ZADD', QUEUE, redis.call('INCR', SEQ), waiter)
  redis.call('ZADD', QTIME, NOW, waiter)
  fresh = true
end
redis.call('ZADD', ALIVE, NOW + alive_ms, waiter)
local claimed = try_claim(interval_ms, claim_ms)
local limits = limits_of()
local refusal = daily_refusal(limits)
if refusal then
  dequeue(waiter)
  return {'daily', refusal[1], refusal[2], claimed}
end
local cap = cap_for(limit, limits)
local grant = cap < 0
if not grant then
  local free = cap - (redis.call('ZCARD', HELD) - redis.call('SCARD', LENT))
  if free > 0 then
    -- Waiters ahead in the queue, but not those that queued less than the fairness
    -- tolerance before this one (their process may simply not have looked yet).
    local ahead = redis.call('ZRANK', QUEUE, waiter)
    if fairness_ms > 0 and ahead >= free then
      local mine = tonumber(redis.call('ZSCORE', QTIME, waiter))
      local older = redis.call('ZCOUNT', QTIME, '-inf', '(' .. (mine - fairness_ms))
      if older < ahead then ahead = older end
    end
    grant = ahead < free
  end
end
if grant then
  dequeue(waiter)
  local tok = redis.call('INCR', TOKENS)
  redis.call('ZADD', HELD, NOW + lease_ms, tok)
  put_info(tok, {h = waiter, t = '', o = 0, p = '', w = waiter})
  redis.call('ZREMRANGEBYSCORE', DAILY, '-inf', NOW - 86400000)
  redis.call('ZADD', DAILY, NOW, tok)
  -- An early grant takes the lent slot expected to free first; it starts when that one's
  -- task ends, if its lender knew when (-1: it did not).
  local early, starts_in = 0, -1
  local lent = redis.call('ZPOPMIN', LENTNEW)
  if lent[1] then
    early = 1
    local lender = get_info(lent[1])
    if lender and lender.e == 1 then starts_in = math.max(0, tonumber(lent[2]) - NOW) end
  end
  return {'granted', tok, early, claimed, starts_in}
end
if fresh then redis.call('PUBLISH', WANTED, MODEL) end
return {'wait', redis.call('ZCARD', ORPHANS), claimed, redis.call('ZSCORE', QUEUE, waiter)}
"""

# ARGV[6]: waiter. A grant the waiter never heard of (its call was cancelled) frees too.
_DEQUEUE = """
local waiter = ARGV[6]
dequeue(waiter)
for _, tok in ipairs(redis.call('ZRANGE', HELD, 0, -1)) do
  local info = get_info(tok)
  if info and info.w == waiter and info.h == waiter and info.t == '' then
    drop(tok)
    redis.call('ZREM', DAILY, tok)
    redis.call('PUBLISH', FREED, MODEL)
  end
end
prune()
return 1
"""

# ARGV[6..]: token, holder, after_ms, created ('1'/'0'), task ('' if none)
_RELEASE = """
local tok, holder, after_ms, created, task =
  ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9], ARGV[10]
local info = get_info(tok)
if not info or (info.h ~= holder and not (info.h == '' and info.p == holder)) then
  return 0
end
if created == '0' then redis.call('ZREM', DAILY, tok) end
if after_ms > 0 then
  if task ~= '' then info.t = task end
  if info.h ~= '' then info.p = info.h end
  info.h = ''
  if info.t ~= '' then
    info.o = 1
    redis.call('ZADD', ORPHANS, NOW, tok)
  end
  put_info(tok, info)
  redis.call('ZADD', HELD, NOW + after_ms, tok)
else
  drop(tok)
end
redis.call('PUBLISH', FREED, MODEL)
return 1
"""

# ARGV[6..]: lease_ms, alive_ms, n, then n (token, holder, task), then waiter ids.
# Returns per slot: 0 kept, -1 held by another process now, or a new token: the lease was
# gone (expired and freed, or Redis lost its data) while the slot is still in use here, so
# it counts again under a new token.
_REFRESH = """
local lease_ms, alive_ms, n = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local out = {}
for i = 0, n - 1 do
  local tok, holder, task = ARGV[9 + 3 * i], ARGV[10 + 3 * i], ARGV[11 + 3 * i]
  local info = get_info(tok)
  if info and (info.h == holder or (info.h == '' and info.p == holder and info.o == 1)) then
    info.h = holder
    info.o = 0
    if task ~= '' then info.t = task end
    put_info(tok, info)
    redis.call('ZREM', ORPHANS, tok)
    redis.call('ZADD', HELD, NOW + lease_ms, tok)
    out[#out + 1] = 0
  elseif info then
    out[#out + 1] = -1
  else
    local new = redis.call('INCR', TOKENS)
    redis.call('ZADD', HELD, NOW + lease_ms, new)
    put_info(new, {h = holder, t = task, o = 0, p = '', w = ''})
    out[#out + 1] = new
  end
end
for i = 9 + 3 * n, #ARGV do
  redis.call('ZADD', ALIVE, 'XX', NOW + alive_ms, ARGV[i])
end
prune()
return out
"""

# ARGV[6..]: token, holder, task. Returns how many acquires wait for the model.
_ATTACH = """
local tok, holder, task = ARGV[6], ARGV[7], ARGV[8]
local info = get_info(tok)
if info and info.h == holder and task ~= '' and info.t ~= task then
  info.t = task
  put_info(tok, info)
end
prune()
return redis.call('ZCARD', QUEUE)
"""

# ARGV[6..]: token, holder, ends_in_ms (when the slot's task is expected to end; -1: unknown)
_LEND = """
local tok, holder, ends_in = ARGV[6], ARGV[7], tonumber(ARGV[8])
local info = get_info(tok)
if not info or info.h ~= holder then return 0 end
if redis.call('SADD', LENT, tok) == 1 then
  info.e = 0
  if ends_in >= 0 then info.e = 1 end
  put_info(tok, info)
  redis.call('ZADD', LENTNEW, NOW + math.max(ends_in, 0), tok)
  redis.call('PUBLISH', FREED, MODEL)
end
return 1
"""

# ARGV[6..]: holder prefix, lease_ms, most. Returns token, task, token, task, ...
_ADOPT = """
local prefix, lease_ms, most = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
prune()
local out = {}
for _, tok in ipairs(redis.call('ZRANGE', ORPHANS, 0, most - 1)) do
  local info = get_info(tok)
  redis.call('ZREM', ORPHANS, tok)
  if info and info.o == 1 and info.h == '' and info.t ~= '' then
    info.h = prefix .. tok
    info.o = 0
    info.p = ''
    put_info(tok, info)
    redis.call('ZADD', HELD, NOW + lease_ms, tok)
    out[#out + 1] = tok
    out[#out + 1] = info.t
  end
end
return out
"""

# ARGV[3..]: stale ('1' to mark), interval_ms, claim_ms. Returns 1 when the claim is ours.
_CLAIM = """
if ARGV[3] == '1' then redis.call('HSET', ORG, 'stale', '1') end
return try_claim(tonumber(ARGV[4]), tonumber(ARGV[5]))
"""

# ARGV[3]: the limits as JSON {model: [concurrency, daily, used]} (-1: none).
_UPDATE_ORG = """
local base = redis.call('HGET', ORG, 'claimed_at') or tostring(NOW)
redis.call('HSET', ORG, 'known', '1', 'open', '0', 'stale', '0', 'read_at', NOW,
  'retry_at', '0', 'base', base, 'limits', ARGV[3])
if redis.call('GET', LOCK) == OWNER then redis.call('DEL', LOCK) end
redis.call('PUBLISH', FREED, '*')
return 1
"""

# ARGV[3..]: abandoned ('1'/'0'), retry_ms
_REFRESH_FAILED = """
if ARGV[3] ~= '1' then
  redis.call('HSET', ORG, 'retry_at', NOW + tonumber(ARGV[4]))
  if redis.call('HGET', ORG, 'known') ~= '1' then redis.call('HSET', ORG, 'open', '1') end
  redis.call('PUBLISH', FREED, '*')
end
if redis.call('GET', LOCK) == OWNER then redis.call('DEL', LOCK) end
return 1
"""

_MODEL_SCRIPTS: Final = {
    "try": _TRY,
    "dequeue": _DEQUEUE,
    "release": _RELEASE,
    "refresh": _REFRESH,
    "attach": _ATTACH,
    "lend": _LEND,
    "adopt": _ADOPT,
}
_ORG_SCRIPTS: Final = {
    "claim": _CLAIM,
    "update_org": _UPDATE_ORG,
    "refresh_failed": _REFRESH_FAILED,
}
SCRIPTS: Final = {
    **{name: _MODEL_HEAD + _CLAIM_FN + _MODEL_FNS + body for name, body in _MODEL_SCRIPTS.items()},
    **{name: _ORG_HEAD + _CLAIM_FN + body for name, body in _ORG_SCRIPTS.items()},
}
"""Every Lua script by name, as sent to Redis (the model ones take ``_model_keys``)."""


class _RedisModules:
    """redis-py, imported on first use so ``import runway_async`` never needs it."""

    def __init__(self) -> None:
        try:
            self.asyncio: Any = importlib.import_module("redis.asyncio")
            self.retry: Any = importlib.import_module("redis.asyncio.retry")
            self.backoff: Any = importlib.import_module("redis.backoff")
            errors: Any = importlib.import_module("redis.exceptions")
        except ImportError:
            raise MissingExtraError(
                f"RedisLimiter needs redis-py: {INSTALL_HINT}", extra="redis"
            ) from None
        # What means "Redis cannot be used now" (and is retried within the bound); any other
        # error (a script bug) propagates as is.
        self.unavailable: tuple[type[BaseException], ...] = (
            errors.ConnectionError,
            errors.TimeoutError,
            errors.ReadOnlyError,
            errors.OutOfMemoryError,
            errors.TryAgainError,
            errors.ClusterDownError,
            OSError,
            asyncio.TimeoutError,
        )


class _Unavailable(Exception):
    """Redis could not be used within the bound (internal; becomes the public error)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def _describe(exc: BaseException) -> str:
    """Return an error as text: its type and message, never its objects."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class RedisSlot(Slot):
    """A slot granted by a ``RedisLimiter``: a lease in Redis with a fencing token.

    Attributes:
        token: The fencing token: every grant in the namespace gets a larger one (it changes
            only if the lease had to be re-registered, after Redis lost it).
        lost: The lease passed to another process (it adopted the slot while this one could
            not refresh it); releasing it here does nothing.

    """

    __slots__ = ("adopted_until", "holder", "hook", "lost", "state", "token", "wanted")

    def __init__(self, model: str, limiter: RedisLimiter, token: int, holder: str) -> None:
        super().__init__(model, limiter)
        self.token = token
        self.holder = holder
        self.lost = False
        self.hook: Callable[[], None] | None = None
        self.wanted = False
        self.adopted_until: float | None = None  # loop time after which it is not refreshed
        self.state: _LoopState | None = None

    def __repr__(self) -> str:
        state = "released" if self.released else "held"
        return f"<RedisSlot {self.model} #{self.token} {state}>"


class _Waiter:
    """One queued acquire in this event loop."""

    __slots__ = ("done", "event", "id", "poked", "seq")

    def __init__(self, waiter_id: str) -> None:
        self.id = waiter_id
        self.event = asyncio.Event()
        self.poked = False
        self.done = False
        self.seq = math.inf
        """Its place in the Redis queue, once known (local queues follow that order)."""

    def poke(self) -> None:
        self.poked = True
        self.event.set()


class _LoopState:
    """What a ``RedisLimiter`` has in one event loop: connections, tasks, local slots."""

    def __init__(self, limiter: RedisLimiter) -> None:
        self.limiter = limiter
        self.loop = asyncio.get_running_loop()
        self.redis: Any = limiter._new_client()
        self.scripts: dict[str, Any] = {
            name: self.redis.register_script(source) for name, source in SCRIPTS.items()
        }
        self.held: dict[str, dict[RedisSlot, None]] = {}
        self.queues: dict[str, list[_Waiter]] = {}
        self.adopted: dict[str, list[RedisSlot]] = {}
        self.ops: set[asyncio.Task[None]] = set()
        self.ops_lock = asyncio.Lock()
        self.refresher: asyncio.Task[None] | None = None
        self.listener: asyncio.Task[None] | None = None
        self.closed = False

    # -- background tasks -----------------------------------------------------------------

    def ensure_tasks(self) -> None:
        """Start the lease refresher and the channel listener of this loop, once."""
        if self.closed:
            return
        if self.refresher is None:
            self.refresher = self.loop.create_task(self.refresh_forever())
        if self.listener is None:
            self.listener = self.loop.create_task(self.listen_forever())

    async def refresh_forever(self) -> None:
        interval = self.limiter.refresh_interval
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.ops_lock:
                    await asyncio.wait_for(self.refresh_now(), self.limiter.unavailable_timeout)
            except self.limiter._modules.unavailable as exc:
                logger.info("Could not refresh Redis slot leases: %s", _describe(exc))
            except Exception:  # a bug must not stop the refresher (leases would expire)
                logger.exception("Refreshing Redis slot leases failed")
            if self.limiter._drop_unasked_claim():
                self.spawn_op(
                    "give back the organization-refresh claim",
                    lambda: self.run_org("refresh_failed", ["1", 0]),  # abandoned: unlock only
                )

    async def refresh_now(self) -> None:
        """Extend the leases held in this loop and the heartbeats of its waiters."""
        now = self.loop.time()
        limiter = self.limiter
        refreshed = False
        for model in sorted(set(self.held) | set(self.queues)):
            slots = []
            for slot in list(self.held.get(model, ())):
                if slot.adopted_until is not None and now > slot.adopted_until:
                    self.forget(slot)  # adopted but never released: let it expire again
                else:
                    slots.append(slot)
            waiters = [w.id for w in self.queues.get(model, ())]
            if not slots and not waiters:
                self.held.pop(model, None)
                continue
            args: list[object] = [limiter._lease_ms, limiter._alive_ms, len(slots)]
            for slot in slots:
                args += [slot.token, slot.holder, slot.task_id or ""]
            args += waiters
            reply = await self.run_model("refresh", model, args)
            refreshed = True
            for slot, outcome in zip(slots, reply, strict=True):
                outcome = int(outcome)
                if outcome < 0:
                    slot.lost = True
                    self.forget(slot)
                elif outcome > 0:
                    logger.info(
                        "The Redis lease of a %s slot was gone; it counts again as #%d",
                        model,
                        outcome,
                    )
                    slot.token = outcome
        if refreshed:
            await self.claim(stale=False)

    async def listen_forever(self) -> None:
        """Hear ``freed`` and ``wanted`` messages; resubscribe (with back-off) after errors."""
        limiter = self.limiter
        backoff = RECHECK_FIRST
        # ``closed`` is checked too: redis-py's get_message may swallow a cancellation.
        while not self.closed:
            pubsub = self.redis.pubsub()
            try:
                limiter._trip()
                await asyncio.wait_for(
                    pubsub.subscribe(limiter._freed_channel, limiter._wanted_channel),
                    limiter.unavailable_timeout,
                )
                backoff = RECHECK_FIRST
                self.poke_all()  # messages sent while we were not listening are lost
                while not self.closed:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self.dispatch(message.get("channel"), message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reconnect: the waits' own re-checks cover the gap
                logger.debug("Redis channel listener: %s", _describe(exc))
            finally:
                with contextlib.suppress(Exception):  # the connection is being dropped anyway
                    await asyncio.wait_for(pubsub.aclose(), limiter.unavailable_timeout)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, OP_BACKOFF_CAP)

    def dispatch(self, channel: object, data: object) -> None:
        """Act on one channel message: wake waiting acquires, or tell holders they are wanted."""
        if not isinstance(data, str):
            return
        if channel == self.limiter._freed_channel:
            if data == "*":
                self.poke_all()
            else:
                self.poke_head(data)
        elif channel == self.limiter._wanted_channel:
            self.fire_wanted(data)

    def poke_head(self, model: str) -> None:
        queue = self.queues.get(model)
        if queue:
            queue[0].poke()

    def poke_all(self) -> None:
        for model in list(self.queues):
            self.poke_head(model)

    def fire_wanted(self, model: str) -> None:
        for slot in list(self.held.get(model, ())):
            self.limiter._fire_hook(slot)

    # -- calls ------------------------------------------------------------------------------

    async def run_model(self, name: str, model: str, args: list[object]) -> Any:
        """Run one model script once (no retry)."""
        limiter = self.limiter
        head: list[object] = [
            model,
            limiter._freed_channel,
            limiter._wanted_channel,
            limiter.owner,
            limiter._orphan_ms,
        ]
        limiter._trip()
        return await self.scripts[name](
            keys=limiter._model_keys(model), args=head + args, client=self.redis
        )

    async def command(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Send one plain Redis command (``zcard``, ``hgetall``...) once (no retry)."""
        self.limiter._trip()
        return await getattr(self.redis, name)(*args, **kwargs)

    async def run_org(self, name: str, args: list[object]) -> Any:
        """Run one organization script once (no retry)."""
        limiter = self.limiter
        limiter._trip()
        return await self.scripts[name](
            keys=[limiter._key("org"), limiter._key("lock")],
            args=[limiter._freed_channel, limiter.owner, *args],
            client=self.redis,
        )

    async def bounded(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``call`` until it works, for at most ``unavailable_timeout`` seconds.

        Raises:
            _Unavailable: Redis could not be used within the bound.

        """
        limiter = self.limiter
        give_up = self.loop.time() + limiter.unavailable_timeout
        backoff = RECHECK_FIRST / 2
        while True:
            remaining = give_up - self.loop.time()
            try:
                return await asyncio.wait_for(call(), max(remaining, 0.001))
            except limiter._modules.unavailable as exc:
                remaining = give_up - self.loop.time()
                if remaining <= 0:
                    raise _Unavailable(_describe(exc)) from None
                await asyncio.sleep(min(backoff, remaining))
                backoff = min(backoff * 2, OP_BACKOFF_CAP / 2)

    def spawn_op(
        self,
        what: str,
        call: Callable[[], Awaitable[Any]],
        then: Callable[[Any], None] | None = None,
    ) -> None:
        """Run ``call`` in the background, in order, retried within a bound; never raises."""
        if self.closed:
            logger.debug("Redis limiter closed in this loop; could not %s", what)
            return
        task = self.loop.create_task(self.run_op(what, call, then))
        self.ops.add(task)
        task.add_done_callback(self.ops.discard)

    async def run_op(
        self, what: str, call: Callable[[], Awaitable[Any]], then: Callable[[Any], None] | None
    ) -> None:
        limiter = self.limiter
        give_up = self.loop.time() + limiter._op_bound
        backoff = RECHECK_FIRST
        while True:
            try:
                async with self.ops_lock:
                    result = await asyncio.wait_for(call(), limiter.unavailable_timeout)
            except limiter._modules.unavailable as exc:
                if self.loop.time() >= give_up:
                    logger.warning(
                        "Could not %s in Redis (%s); it is left to its lease's expiry",
                        what,
                        _describe(exc),
                    )
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, OP_BACKOFF_CAP)
                continue
            except Exception:
                logger.exception("Could not %s in Redis", what)
                return
            if then is not None:
                then(result)
            return

    def on_loop(self, action: Callable[[], None]) -> None:
        """Run ``action`` in this state's loop (from any thread); dropped if it closed."""
        try:
            call_soon_anywhere(self.loop, action)
        except RuntimeError:
            logger.debug("Redis limiter: the event loop of a slot is closed")

    async def claim(self, *, stale: bool) -> None:
        """Mark the organization stale (if asked) and try to take the refresh claim."""
        limiter = self.limiter
        claimed = await self.run_org(
            "claim", ["1" if stale else "0", limiter._org_interval_ms, limiter._claim_ms]
        )
        limiter._note_claim(claimed)

    # -- slots ------------------------------------------------------------------------------

    def keep(self, slot: RedisSlot) -> None:
        slot.state = self
        self.held.setdefault(slot.model, {})[slot] = None
        self.ensure_tasks()

    def forget(self, slot: RedisSlot) -> None:
        held = self.held.get(slot.model)
        if held is not None:
            held.pop(slot, None)
            if not held:
                del self.held[slot.model]

    async def acquire(
        self,
        model: str,
        limit: ModelLimit,
        *,
        deadline: float | None,
        timeout: float | None,
        on_wait: Callable[[], None] | None,
    ) -> RedisSlot:
        """Queue in Redis and wait for a grant; see ``RedisLimiter.acquire``."""
        limiter = self.limiter
        clock = limiter._clock
        waiter = _Waiter(limiter._new_id())
        queue = self.queues.setdefault(model, [])
        queue.append(waiter)
        self.ensure_tasks()
        limit_arg = "auto" if limit == AUTO else "none" if limit is None else str(limit)
        args: list[object] = [
            waiter.id,
            limit_arg,
            limiter._alive_ms,
            limiter._fairness_ms,
            limiter._lease_ms,
            limiter._org_interval_ms,
            limiter._claim_ms,
        ]
        backoff = RECHECK_FIRST
        look = True
        try:
            while True:
                if look:
                    look = False
                    waiter.poked = False
                    reply = await self.bounded(lambda: self.run_model("try", model, args))
                    kind = reply[0]
                    if kind == "granted":
                        waiter.done = True
                        limiter._note_claim(reply[3])
                        slot = RedisSlot(model, limiter, int(reply[1]), waiter.id)
                        slot.early = bool(int(reply[2]))
                        starts_in = int(reply[4])
                        if slot.early and starts_in >= 0:
                            slot.starts_at = clock.now() + starts_in / 1000
                        self.keep(slot)
                        return slot
                    if kind == "daily":
                        waiter.done = True
                        limiter._note_claim(reply[3])
                        raise _daily_error(model, int(reply[1]), int(reply[2]))
                    limiter._note_claim(reply[2])
                    self.place(queue, waiter, float(reply[3]))
                    if int(reply[1]) > 0 and on_wait is not None:
                        await self.adopt(model)
                now = clock.now()
                if deadline is not None and now >= deadline:
                    waiter.done = True
                    await self.dequeue_quietly(model, waiter.id)
                    raise SlotTimeoutError(
                        f"No {model} slot freed up within {timeout} s; the create was not sent.",
                        model=model,
                        timeout=float(timeout or 0.0),
                    )
                if on_wait is not None:
                    on_wait()
                recheck = backoff if queue and queue[0] is waiter else None
                waiter.event.clear()
                if not waiter.poked:
                    rechecked = await self.sleep(waiter.event, deadline, recheck)
                else:
                    rechecked = False
                if waiter.poked:
                    backoff = RECHECK_FIRST
                    look = True
                elif rechecked:
                    backoff = min(backoff * 2, limiter._recheck_cap)
                    look = True
                elif deadline is not None and clock.now() >= deadline:
                    look = True  # one last look before giving up
        except BaseException:
            if not waiter.done:
                waiter.done = True
                self.spawn_op(
                    "leave the queue", lambda: self.run_model("dequeue", model, [waiter.id])
                )
            raise
        finally:
            was_head = bool(queue) and queue[0] is waiter
            queue.remove(waiter)
            if not queue:
                self.queues.pop(model, None)
            elif was_head:
                queue[0].poke()

    @staticmethod
    def place(queue: list[_Waiter], waiter: _Waiter, seq: float) -> None:
        """Keep ``queue`` in Redis queue order: only its head looks again unprompted.

        Concurrent first looks may reach Redis in another order than they started, and a
        waiter can only be granted once those queued before it were (with one limit), so the
        local head must be the one queued first in Redis.
        """
        if waiter.seq == seq:
            return
        queue.remove(waiter)
        waiter.seq = seq
        bisect.insort(queue, waiter, key=lambda w: w.seq)

    async def sleep(
        self, event: asyncio.Event, deadline: float | None, recheck: float | None
    ) -> bool:
        """Wait for ``event``, the clock's ``deadline`` or ``recheck`` seconds of real time.

        Returns:
            Whether the wait ended because ``recheck`` seconds passed.

        """
        timers: list[Timer | asyncio.TimerHandle] = []
        rechecked = False

        def on_recheck() -> None:
            nonlocal rechecked
            rechecked = True
            event.set()

        if deadline is not None:
            if deadline <= self.limiter._clock.now():
                return False
            timers.append(self.limiter._clock.call_at(deadline, event.set))
        if recheck is not None:
            timers.append(self.loop.call_later(recheck, on_recheck))
        try:
            await event.wait()
        finally:
            for timer in timers:
                timer.cancel()
        return rechecked

    async def dequeue_quietly(self, model: str, waiter_id: str) -> None:
        try:
            await asyncio.wait_for(
                self.run_model("dequeue", model, [waiter_id]), self.limiter.unavailable_timeout
            )
        except self.limiter._modules.unavailable as exc:
            logger.info("Could not leave the Redis queue (%s); the entry expires", _describe(exc))

    async def adopt(self, model: str) -> None:
        """Take over orphaned slots of ``model`` (``orphans()`` hands them to the client)."""
        limiter = self.limiter
        prefix = f"{limiter.owner}:adopted:"
        try:
            reply = await asyncio.wait_for(
                self.run_model("adopt", model, [prefix, limiter._lease_ms, ADOPT_BATCH]),
                limiter.unavailable_timeout,
            )
        except limiter._modules.unavailable as exc:
            logger.info("Could not adopt orphaned %s slots: %s", model, _describe(exc))
            return
        until = self.loop.time() + limiter.orphan_ttl
        for token, task_id in zip(reply[::2], reply[1::2], strict=True):
            slot = RedisSlot(model, limiter, int(token), f"{prefix}{token}")
            slot.task_id = str(task_id)
            slot.adopted_until = until
            self.keep(slot)
            self.adopted.setdefault(model, []).append(slot)

    async def close(self) -> None:
        """Stop the background tasks, let pending writes finish (bounded), disconnect.

        Slots still held here are not released: their leases expire within ``lease_ttl``
        (an orphan, adoptable by another process, if a task is attached).
        """
        self.closed = True
        tasks = [t for t in (self.refresher, self.listener) if t is not None]
        for task in tasks:
            task.cancel()
        pending = list(self.ops)
        if pending:
            await asyncio.wait(pending, timeout=self.limiter.unavailable_timeout)
        for task in pending:
            task.cancel()
        everything = tasks + pending
        if everything:
            # Bounded: a task whose library call swallowed the cancellation ends at its
            # next check of ``closed`` (the listener's read times out every second).
            await asyncio.wait(everything, timeout=self.limiter.unavailable_timeout + 2.0)
        for queue in self.queues.values():
            for waiter in queue:
                waiter.poke()
        try:
            await asyncio.wait_for(self.redis.aclose(), self.limiter.unavailable_timeout)
        except Exception as exc:  # closing a broken connection
            logger.debug("Closing the Redis connection: %s", _describe(exc))


def _daily_error(model: str, limit: int, used: int) -> DailyLimitError:
    return DailyLimitError(
        f"Daily generation limit reached for model {model!r}: {used} of {limit} "
        "generations in the past 24 hours (counted across every process sharing the "
        "limiter); the create was not sent. The limit counts a rolling 24 hours, so retry "
        "once generations made 24 hours ago age out (within 24 hours at the latest); "
        "client.organization.retrieve() shows current usage.",
        model=model,
        limit=limit,
        used=used,
    )


def _check_limit(limit: object) -> None:
    if limit == AUTO or limit is None:
        return
    if not (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1):
        raise ValueError(f"limit must be 'auto', an int >= 1 or None, got {limit!r}")


def _where(url: str) -> str:
    """Return ``url`` without credentials, for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or parts.path or "?"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path if parts.hostname else ''}"
    except ValueError:
        return "(unparsable URL)"


class RedisLimiter:
    """Per-model slots shared through Redis by every process using the same namespace.

    Pass it as ``AsyncRunway(limiter=RedisLimiter("redis://host:6379/0"))`` in every
    process (and thread, and event loop) that spends one organization's limits: the
    organization's per-model concurrency and daily quota then hold for all of them
    together. It implements the ``Limiter`` interface:

    * A slot is a lease in Redis with a fencing token (``RedisSlot.token``), extended every
      ``refresh_interval`` while held. If its process dies, a slot without a task frees when
      its lease expires (``lease_ttl``); a slot whose task was created becomes an orphan: a
      create of the model waiting in another process adopts it, polls the task and frees
      the slot when it ends (unadopted, it frees after ``orphan_ttl``).
    * Waiting acquires form one FIFO queue per model across processes; a waiter may pass
      one that queued less than ``fairness`` seconds before it (whose process has not
      looked yet), never an older one.
    * One process at a time re-reads ``GET /v1/organization`` (a claim lock in Redis); all
      use the limits it wrote. Before they are known, one slot per model. The rolling
      day's creates of the fleet count against the daily quota (``DailyLimitError``).
    * A create waiting in any process makes holders in every process poll their tasks
      (``notify_when_wanted``); ``lend`` lets one more create through across the fleet.

    When Redis cannot be reached, ``unavailable="fail"`` (the default) makes an acquire
    raise ``LimiterUnavailableError`` after at most ``unavailable_timeout`` seconds (nothing
    is sent; tasks already created are still watched); ``"local"`` falls back to an
    ``InProcessLimiter`` of this process until Redis answers again. Releases and lease
    refreshes that fail are retried in the background for a bounded time.

    Args:
        url: The Redis URL (``redis://[:password@]host:port/db``, ``rediss://``,
            ``unix://``). It never appears in messages with its credentials.
        namespace: Prefix of every key (in a ``{...}`` hash tag); processes share slots
            when they use the same Redis and namespace (one per organization).
        lease_ttl: Seconds a slot's lease lasts without refresh.
        refresh_interval: Seconds between lease refreshes (default ``lease_ttl / 3``).
        fairness: Seconds of FIFO tolerance between processes.
        unavailable: ``"fail"`` (closed) or ``"local"`` (per-process limits meanwhile).
        unavailable_timeout: Seconds an acquire keeps trying Redis before giving up.
        organization_interval: Seconds after which the organization's limits are re-read.
        failure_retry: Seconds before a failed organization read is retried (fleet-wide).
        orphan_ttl: Seconds an orphaned slot (its holder died while its task ran) counts
            at most if nobody adopts it.
        clock: The time of acquire deadlines (a ``VirtualClock`` in tests); leases are
            timed by Redis and refreshes and re-checks by the event loop.

    Raises:
        MissingExtraError: redis-py is not installed (``pip install 'runway_async[redis]'``).

    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "runway_async",
        lease_ttl: float = 30.0,
        refresh_interval: float | None = None,
        fairness: float = 0.5,
        unavailable: Literal["fail", "local"] = "fail",
        unavailable_timeout: float = 5.0,
        organization_interval: float = 300.0,
        failure_retry: float = 60.0,
        orphan_ttl: float = 900.0,
        clock: Clock | Callable[[], float] = SYSTEM_CLOCK,
    ) -> None:
        self._modules = _RedisModules()
        if not isinstance(url, str) or not url:
            raise ValueError("url must be a Redis URL such as 'redis://localhost:6379/0'")
        if not isinstance(namespace, str) or not namespace or any(c in namespace for c in "{}"):
            raise ValueError(f"namespace must be a non-empty string without braces: {namespace!r}")
        if unavailable not in ("fail", "local"):
            raise ValueError(f"unavailable must be 'fail' or 'local', got {unavailable!r}")
        self.lease_ttl = check_seconds("lease_ttl", lease_ttl, positive=True)
        interval = self.lease_ttl / 3 if refresh_interval is None else refresh_interval
        self.refresh_interval = check_seconds("refresh_interval", interval, positive=True)
        if self.refresh_interval >= self.lease_ttl:
            raise ValueError("refresh_interval must be shorter than lease_ttl")
        self.fairness = check_seconds("fairness", fairness)
        self.unavailable = unavailable
        self.unavailable_timeout = check_seconds(
            "unavailable_timeout", unavailable_timeout, positive=True
        )
        self.organization_interval = check_seconds(
            "organization_interval", organization_interval, positive=True
        )
        self.failure_retry = check_seconds("failure_retry", failure_retry)
        self.orphan_ttl = check_seconds("orphan_ttl", orphan_ttl, positive=True)
        self._clock = as_clock(clock)
        self._url = url
        self.namespace = namespace
        self._where = _where(url)
        self.owner = uuid.uuid4().hex
        """This limiter's id in Redis (holder names and the claim lock start with it)."""
        self._prefix = "{" + namespace + "}:"
        self._freed_channel = self._prefix + "freed"
        self._wanted_channel = self._prefix + "wanted"
        self._lease_ms = _ms(self.lease_ttl)
        self._alive_ms = _ms(self.lease_ttl)
        self._fairness_ms = _ms(self.fairness)
        self._orphan_ms = _ms(self.orphan_ttl)
        self._org_interval_ms = _ms(self.organization_interval)
        self._claim_ms = _ms(CLAIM_TTL)
        self._recheck_cap = max(RECHECK_FIRST, self.lease_ttl / 10)
        self._op_bound = max(self.lease_ttl, self.unavailable_timeout)
        self._fallback = InProcessLimiter(
            refresh_interval=self.organization_interval,
            failure_retry=self.failure_retry,
            clock=self._clock,
        )
        self._ids = itertools.count(1)
        self._keys: dict[str, list[str]] = {}
        self._states: LoopLocal[_LoopState] = LoopLocal(_LoopState.close)
        self._lock = threading.Lock()
        self._claimed = False
        self._claimed_at = 0.0  # time.monotonic(), as the event loops' refresh timing
        self._refreshing = False
        self._fallback_claimed = False
        self._down_until = float("-inf")
        self._round_trips = 0

    @property
    def round_trips(self) -> int:
        """How many requests this limiter has sent to Redis (a script run counts one).

        Every event loop's, including retries and background writes, lease refreshes and
        channel subscriptions (messages heard on the channels are not requests).
        """
        return self._round_trips

    def _trip(self) -> None:
        """Count one request to Redis."""
        with self._lock:
            self._round_trips += 1

    def __repr__(self) -> str:
        return f"<RedisLimiter {self._where} namespace={self.namespace!r}>"

    async def __aenter__(self) -> RedisLimiter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close this limiter's connections and background tasks in every event loop.

        Pending writes get up to ``unavailable_timeout`` seconds. Slots still held are not
        released (their tasks may still run): their leases expire within ``lease_ttl``.
        Using the limiter again opens new connections.
        """
        await self._states.aclose()

    # -- helpers used by the loop states ------------------------------------------------

    def _new_client(self) -> Any:
        """Return a redis-py asyncio client for the running loop (no retries of its own)."""
        modules = self._modules
        retry = modules.retry.Retry(modules.backoff.NoBackoff(), 0)
        return modules.asyncio.Redis.from_url(
            self._url,
            decode_responses=True,
            socket_connect_timeout=self.unavailable_timeout,
            socket_timeout=self.unavailable_timeout,
            retry=retry,
            health_check_interval=max(1, int(self.refresh_interval)),
        )

    def _new_id(self) -> str:
        return f"{self.owner}:{next(self._ids)}"

    def _key(self, name: str) -> str:
        return self._prefix + name

    def _model_keys(self, model: str) -> list[str]:
        keys = self._keys.get(model)
        if keys is None:
            names = (
                "held",
                "info",
                "queue",
                "alive",
                "qtime",
                "orphans",
                "lent",
                "lentnew",
                "daily",
            )
            keys = [f"{self._prefix}{name}:{model}" for name in names]
            keys += [self._key("org"), self._key("seq"), self._key("token"), self._key("lock")]
            self._keys[model] = keys
        return keys

    def _note_claim(self, claimed: object) -> None:
        """Remember that a script took the organization-refresh claim for us."""
        if str(claimed) == "1":
            with self._lock:
                self._claimed = True
                self._claimed_at = time.monotonic()

    def _drop_unasked_claim(self) -> bool:
        """Forget a claim nobody took (``claim_refresh``) within ``lease_ttl``.

        A script takes the claim whenever the shared limits are due, also in a process
        that then goes idle (its lease refresher or ``mark_stale`` took it after its last
        create): held on for ``CLAIM_TTL``, it would keep every other process from
        re-reading the organization. Returns whether to remove the lock in Redis.
        """
        with self._lock:
            if not self._claimed or self._refreshing:
                return False
            if time.monotonic() - self._claimed_at <= self.lease_ttl:
                return False
            self._claimed = False
            return True

    def _fire_hook(self, slot: RedisSlot) -> None:
        with self._lock:
            hook = slot.hook
            if hook is None or slot.wanted or slot.released:
                return
            slot.wanted = True
        try:
            hook()
        except Exception:  # a hook only schedules work; one failing must not stop the rest
            logger.exception("A slot's wanted-callback failed")

    def _state(self) -> _LoopState:
        return self._states.get(lambda: _LoopState(self))

    def _any_state(self) -> _LoopState | None:
        try:
            return self._state()
        except RuntimeError:  # no running loop: any loop we have
            states = self._states.values()
            return states[0] if states else None

    def _unavailable_error(self, cause: str) -> LimiterUnavailableError:
        return LimiterUnavailableError(
            f"The shared limiter's Redis ({self._where}) could not be used within "
            f"{self.unavailable_timeout} s, so no slot could be taken; the create was not "
            f"sent. Cause: {cause}",
            cause=cause,
            timeout=self.unavailable_timeout,
        )

    # -- slots --------------------------------------------------------------------------

    async def acquire(
        self,
        model: str,
        *,
        limit: ModelLimit = AUTO,
        timeout: float | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Slot:
        """Wait for a slot of ``model``, first come first served across processes.

        See ``Limiter.acquire``. A coroutine cancelled while queued leaves the queue (in the
        background, bounded) and holds nothing.

        Raises:
            SlotTimeoutError: ``timeout`` passed; the caller is no longer queued.
            DailyLimitError: The model's daily quota is used up, fleet-wide.
            LimiterUnavailableError: Redis could not be used within ``unavailable_timeout``
                (with ``unavailable="fail"``).

        """
        _check_limit(limit)
        timeout = check_seconds("timeout", timeout, allow_none=True)
        started = self._clock.now()
        deadline = None if timeout is None else started + timeout
        if self.unavailable == "local" and self._clock.now() < self._down_until:
            return await self._acquire_locally(model, limit, deadline, on_wait)
        state = self._state()
        try:
            return await state.acquire(
                model, limit, deadline=deadline, timeout=timeout, on_wait=on_wait
            )
        except _Unavailable as exc:
            if self.unavailable == "local":
                logger.warning(
                    "Redis (%s) is unavailable (%s); slots are per process until it is back",
                    self._where,
                    exc.cause,
                )
                self._down_until = self._clock.now() + min(1.0, self.unavailable_timeout)
                return await self._acquire_locally(model, limit, deadline, on_wait)
            raise self._unavailable_error(exc.cause) from None

    async def _acquire_locally(
        self,
        model: str,
        limit: ModelLimit,
        deadline: float | None,
        on_wait: Callable[[], None] | None,
    ) -> Slot:
        remaining = None if deadline is None else max(0.0, deadline - self._clock.now())
        return await self._fallback.acquire(model, limit=limit, timeout=remaining, on_wait=on_wait)

    def release(self, slot: Slot, *, after: float = 0.0, created: bool = True) -> None:
        """Give ``slot`` back, now or ``after`` seconds from now; idempotent.

        See ``Limiter.release``. The lease is removed in the background; with ``after`` it
        stays until then and, if the slot's task is known, another process's waiting create
        may adopt it. A slot released here is no longer refreshed.
        """
        if not isinstance(slot, RedisSlot):
            self._fallback.release(slot, after=after, created=created)
            return
        after = check_seconds("after", after)
        with self._lock:
            if slot.released:
                return
            slot.released = True
            slot.hook = None
        state = slot.state
        if state is None:
            return
        args: list[object] = [_ms(after), "1" if created else "0", slot.task_id or ""]

        def start() -> None:
            state.forget(slot)
            if slot.lost:
                return
            state.spawn_op(
                f"release a {slot.model} slot",
                lambda: state.run_model("release", slot.model, [slot.token, slot.holder, *args]),
            )

        state.on_loop(start)

    def notify_when_wanted(self, slot: Slot, callback: Callable[[], None]) -> None:
        """Call ``callback`` once a create for ``slot``'s model waits, in any process.

        See ``Limiter.notify_when_wanted``. Also records the slot's task in Redis (the
        watcher sets ``slot.task_id`` just before), so the slot can be adopted if this
        process dies. Never fires after the slot is released.
        """
        if not isinstance(slot, RedisSlot):
            self._fallback.notify_when_wanted(slot, callback)
            return
        with self._lock:
            if slot.released:
                return
            slot.hook = callback
            fire_now = slot.wanted
            if fire_now:
                slot.wanted = False  # fire_hook sets it again
        if fire_now:
            self._fire_hook(slot)
            return
        state = slot.state
        if state is None:
            return

        def waiting(count: object) -> None:
            if int(str(count)) > 0:
                self._fire_hook(slot)

        def start() -> None:
            state.spawn_op(
                f"record the task of a {slot.model} slot",
                lambda: state.run_model(
                    "attach", slot.model, [slot.token, slot.holder, slot.task_id or ""]
                ),
                waiting,
            )

        state.on_loop(start)

    def lend(self, slot: Slot) -> None:
        """Let one more create of ``slot``'s model through, in any process; idempotent.

        See ``Limiter.lend``. The early grant, in whichever process, takes the lent slot
        expected to free first and gets its ``starts_at`` from the lender's ``ends_at``
        (sent as seconds from now, so the processes' clocks need not agree). Unlike
        ``InProcessLimiter``, the lender's ``successor`` is not set: a lender in another
        process cannot move its successor's schedule when it sees its own task end.
        """
        if not isinstance(slot, RedisSlot):
            self._fallback.lend(slot)
            return
        with self._lock:
            if slot.released or slot.lent:
                return
            slot.lent = True
        state = slot.state
        if state is None:
            return
        ends_in = -1 if slot.ends_at is None else _ms(slot.ends_at - self._clock.now())
        args: list[object] = [slot.token, slot.holder, ends_in]
        state.on_loop(
            lambda: state.spawn_op(
                f"lend a {slot.model} slot", lambda: state.run_model("lend", slot.model, args)
            )
        )

    def orphans(self, model: str) -> list[Slot]:
        """Hand over slots of ``model`` adopted from dead or closed holders; each once.

        See ``Limiter.orphans``. A waiting acquire (with an ``on_wait``, as the client's
        creates have) adopts orphaned slots in Redis just before it calls ``on_wait``; this
        returns them (and the local fallback's) to the caller, whose watcher polls their
        tasks and releases them when they end.
        """
        found: list[Slot] = list(self._fallback.orphans(model))
        state = self._states.current()
        if state is not None:
            found.extend(s for s in state.adopted.pop(model, []) if not s.released)
        return found

    # -- the organization ----------------------------------------------------------------

    def claim_refresh(self) -> bool:
        """Return ``True`` when this process should fetch the organization now.

        One process of the fleet at a time: the claim is a lock in Redis, taken by this
        limiter's scripts (an acquire, the lease refresher, ``mark_stale``) when the shared
        limits are due: never read, marked stale, or older than ``organization_interval``.
        A claim not taken here within ``lease_ttl`` is given back, so an idle process
        cannot hold up the fleet's re-reads.
        """
        with self._lock:
            if self._claimed and not self._refreshing:
                self._claimed = False
                self._refreshing = True
                return True
            redis_down = self._clock.now() < self._down_until
        if redis_down and self._fallback.claim_refresh():
            with self._lock:
                self._fallback_claimed = True
            return True
        return False

    def update_organization(self, organization: Organization) -> None:
        """Take the organization's limits and usage, and share them through Redis."""
        with self._lock:
            self._refreshing = False
            self._fallback_claimed = False
        self._fallback.update_organization(organization)
        usage = organization.usage.models
        limits = {
            model: [
                _count(lim.max_concurrent_generations),
                _count(lim.max_daily_generations),
                usage[model].daily_generations if model in usage else 0,
            ]
            for model, lim in organization.tier.models.items()
        }
        blob = json.dumps(limits, separators=(",", ":"), sort_keys=True)
        state = self._any_state()
        if state is not None:
            state.on_loop(
                lambda: state.spawn_op(
                    "share the organization's limits", lambda: state.run_org("update_org", [blob])
                )
            )

    def refresh_failed(self, *, abandoned: bool = False) -> None:
        """Report that the claimed fetch failed, or was ``abandoned`` (cancelled).

        After a failure no process re-reads for ``failure_retry`` seconds; until a first
        read succeeds, ``"auto"`` then means unlimited (as ``InProcessLimiter`` does).
        """
        with self._lock:
            self._refreshing = False
            fallback_claimed, self._fallback_claimed = self._fallback_claimed, False
        if fallback_claimed:
            self._fallback.refresh_failed(abandoned=abandoned)
        state = self._any_state()
        if state is not None:
            args: list[object] = ["1" if abandoned else "0", _ms(self.failure_retry)]
            state.on_loop(
                lambda: state.spawn_op(
                    "report a failed organization read",
                    lambda: state.run_org("refresh_failed", args),
                )
            )

    def mark_stale(self) -> None:
        """Ask the fleet for a refresh soon (a task was THROTTLED or the API said 429)."""
        self._fallback.mark_stale()
        state = self._any_state()
        if state is not None:
            state.on_loop(
                lambda: state.spawn_op(
                    "mark the organization's limits stale", lambda: state.claim(stale=True)
                )
            )

    # -- inspection and shared durations ------------------------------------------------

    async def in_use(self, model: str) -> int:
        """Return how many slots of ``model`` are held in Redis (orphans included).

        Raises:
            LimiterUnavailableError: Redis could not be used within ``unavailable_timeout``.

        """
        return await self._zcard(self._model_keys(model)[0])

    async def waiting(self, model: str) -> int:
        """Return how many acquires of ``model`` are queued in Redis, in every process.

        Raises:
            LimiterUnavailableError: Redis could not be used within ``unavailable_timeout``.

        """
        return await self._zcard(self._model_keys(model)[2])

    async def _zcard(self, key: str) -> int:
        state = self._state()
        try:
            return int(await state.bounded(lambda: state.command("zcard", key)))
        except _Unavailable as exc:
            raise self._unavailable_error(exc.cause) from None

    async def load_durations(self) -> dict[str, EstimatorState]:
        """Return the learned task durations the fleet shared (``save_durations``).

        The client seeds each new watcher with them (``SharesDurations``), so a new worker
        polls well from its first task. Invalid entries are skipped.

        Raises:
            LimiterUnavailableError: Redis could not be used within ``unavailable_timeout``.

        """
        state = self._state()
        try:
            raw = await state.bounded(lambda: state.command("hgetall", self._key("durations")))
        except _Unavailable as exc:
            raise self._unavailable_error(exc.cause) from None
        found: dict[str, EstimatorState] = {}
        for model, blob in raw.items():
            parsed = _parse_state(blob)
            if parsed is not None:
                found[model] = parsed
        return found

    async def save_durations(self, states: Mapping[str, EstimatorState]) -> None:
        """Share learned task durations with the fleet (one JSON entry per model).

        Raises:
            LimiterUnavailableError: Redis could not be used within ``unavailable_timeout``.

        """
        if not states:
            return
        mapping = {
            model: json.dumps(
                {
                    "aim": s.aim,
                    "exact": s.exact,
                    "observed": s.observed,
                    "spread": list(s.spread),
                    "pending": s.pending,
                },
                separators=(",", ":"),
            )
            for model, s in states.items()
        }
        state = self._state()
        try:
            await state.bounded(
                lambda: state.command("hset", self._key("durations"), mapping=mapping)
            )
        except _Unavailable as exc:
            raise self._unavailable_error(exc.cause) from None


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _count(value: int | None) -> int:
    return -1 if value is None else int(value)


def _parse_state(blob: object) -> EstimatorState | None:
    try:
        data = json.loads(str(blob))
        spread = data.get("spread") or ()
        pending = data.get("pending")
        state = EstimatorState(
            aim=float(data["aim"]),
            exact=int(data["exact"]),
            observed=int(data["observed"]),
            spread=tuple(float(v) for v in spread),
            pending=None if pending is None else float(pending),
        )
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    return state if state.is_plausible() else None
