/**
 * A token bucket in Redis shared by every worker that calls TMDb, so N workers together stay under the
 * limit. One Lua script refills and takes a token atomically, using Redis' own clock (no skew between
 * hosts), and answers how long to wait when the bucket is empty. If Redis is unreachable the limiter
 * degrades to a bucket in this process rather than stopping the import.
 */
import type { Redis } from "ioredis";

/** Waits until one more request may be sent. */
export interface RateLimiter {
  acquire(): Promise<void>;
}

const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return wait`;

type TakeCommand = { tmdbTakeToken(key: string, rate: number, burst: number): Promise<number> };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An in-process token bucket: the fallback, and what tests compare against. */
export function localRateLimiter(rate: number, burst = rate): RateLimiter {
  let tokens = burst;
  let ts = performance.now();
  return {
    async acquire() {
      for (;;) {
        const now = performance.now();
        tokens = Math.min(burst, tokens + ((now - ts) * rate) / 1000);
        ts = now;
        if (tokens >= 1) {
          tokens -= 1;
          return;
        }
        await sleep(Math.ceil(((1 - tokens) * 1000) / rate));
      }
    },
  };
}

/**
 * `rate` requests per second with bursts of up to `burst`, counted in Redis under `key` (the client's key
 * prefix applies). `onDegraded` is told once when Redis fails and the local fallback takes over.
 */
export function redisRateLimiter(redis: Redis, opts: { key: string; rate: number; burst?: number; onDegraded?: (err: unknown) => void }): RateLimiter {
  const burst = opts.burst ?? Math.max(1, Math.floor(opts.rate / 4));
  if (!(redis as Partial<TakeCommand>).tmdbTakeToken) redis.defineCommand("tmdbTakeToken", { numberOfKeys: 1, lua: TAKE });
  const take = redis as unknown as TakeCommand;
  const local = localRateLimiter(opts.rate, burst);
  let warned = false;
  return {
    async acquire() {
      for (;;) {
        let wait: number;
        try {
          wait = Number(await take.tmdbTakeToken(opts.key, opts.rate, burst));
        } catch (e) {
          if (!warned) opts.onDegraded?.(e);
          warned = true;
          return local.acquire();
        }
        if (wait <= 0) return;
        await sleep(wait);
      }
    },
  };
}
