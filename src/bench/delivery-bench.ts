/**
 * `npm run bench:delivery`: (1) emails per second from the delivery workers into a local SMTP server (`smtp-server`
 * on loopback, the whole pipeline: outbox rows, BullMQ jobs, claim, nodemailer, 'sent' update); (2) how long the
 * digest scheduler takes to find and queue (render + outbox rows + jobs) the weekly digest of 100,000 users due in
 * one tick, each with five recommendations. A throw-away database; everything it creates is dropped at the end.
 * Options (env): BENCH_EMAILS (default 2000), BENCH_CONCURRENCY (default 16), BENCH_DIGEST_USERS (default 100000).
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { closeAppDeps, openAppDeps } from "../server/app-deps.ts";
import { startWorkers } from "../worker/workers.ts";
import { openBenchDatabase } from "./bench-database.ts";
import { loadLine, machineLine } from "./conditions.ts";
import { createNotificationModule } from "../modules/notification/index.ts";

const EMAILS = Number(process.env.BENCH_EMAILS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DIGEST_USERS = Number(process.env.BENCH_DIGEST_USERS ?? 100_000);

async function main(): Promise<void> {
  console.log(machineLine());
  // Worker, SMTP server and PostgreSQL share this machine; the SMTP server runs in this process.
  console.log(`volume: ${EMAILS} emails (worker concurrency ${CONCURRENCY}), then a weekly digest for ${DIGEST_USERS} users`);
  let received = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _s, cb) {
      stream.on("data", () => {});
      stream.on("end", () => {
        received++;
        cb();
      });
    },
  });
  smtp.on("error", () => {}); // connection resets from the pool closing are not the bench's concern
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const db = await openBenchDatabase();
  const prefix = `bench${randomBytes(4).toString("hex")}`;
  try {
    const config = loadConfig({
      NODE_ENV: "development",
      LOG_LEVEL: "silent",
      DATABASE_URL: db.url,
      REDIS_URL: db.redisUrl,
      REDIS_PREFIX: prefix,
      DB_POOL_MAX: "20",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtpPort),
      SMTP_POOL_SIZE: "8",
    });
    const log = createLogger({ level: "silent" });
    const deps = await openAppDeps(config, log);
    const m = createNotificationModule(deps);
    const em = () => deps.orm.em.fork();
    try {
      // 1. Emails per second through the whole pipeline.
      const [user] = await em().execute<{ id: string }[]>("insert into users (password, username, email) values ('x', 'bench', 'bench@example.test') returning id");
      await em().execute("insert into notification_preferences (user_id) values (?)", [user!.id]);
      const template = await m.templates.create({
        name: "bench-recommendation",
        templateType: "email_recommendation",
        subject: "Pick {{n}} for {{user.username}}",
        htmlContent: '<p>{{#movies}}<a href="https://movies.example/{{id}}">{{title}}</a> {{/movies}}</p>',
        textContent: "{{#movies}}{{title}}\n{{/movies}}",
        isActive: true,
      });
      const movies = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, title: `Movie ${i + 1}` }));
      let t = performance.now();
      for (let i = 0; i < EMAILS; i += 500) {
        await m.outbox.queue(Array.from({ length: Math.min(500, EMAILS - i) }, (_, j) => ({ idempotencyKey: `bench-${i + j}`, userId: user!.id, kind: "manual" as const, template, data: { n: i + j, movies } })));
      }
      const queueMs = performance.now() - t;
      t = performance.now();
      const workers = startWorkers({ redisUrl: db.redisUrl, prefix, log, processors: { delivery: m.processors }, concurrency: CONCURRENCY });
      for (;;) {
        const [r] = await em().execute<{ n: number }[]>("select count(*)::int as n from notification_logs where status = 'sent'");
        if (r!.n >= EMAILS) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const sendMs = performance.now() - t;
      await workers.close();
      console.log(`outbox: ${EMAILS} emails rendered and queued in ${queueMs.toFixed(0)} ms (${((EMAILS / queueMs) * 1000).toFixed(0)}/s)`);
      console.log(`delivery: ${EMAILS} emails sent in ${sendMs.toFixed(0)} ms = ${((EMAILS / sendMs) * 1000).toFixed(0)} emails/s (worker concurrency ${CONCURRENCY}, ${config.notification.smtp.poolSize} SMTP connections); SMTP server received ${received}`);

      // 2. The weekly digest of DIGEST_USERS users, all due on Monday 09:00 UTC.
      t = performance.now();
      await em().execute(
        `insert into users (password, username, email) select 'x', 'd' || g, 'd' || g || '@example.test' from generate_series(1, ?) g`,
        [DIGEST_USERS],
      );
      await em().execute("insert into notification_preferences (user_id, digest_day, digest_time) select id, 1, '09:00' from users where username like 'd%' on conflict do nothing");
      await em().execute(`insert into movies (tmdb_id, title, original_title, original_language) select 990000000 + g, 'Film ' || g, 'Film ' || g, 'en' from generate_series(1, 2000) g`);
      await em().execute(
        `insert into user_recommendation_lists (user_id, algorithm, movie_ids, scores)
         select u.id, 'bench', array_agg(m.id order by k), array_agg((1 - k / 10.0)::real order by k) from users u cross join generate_series(1, 5) k
           join movies m on m.tmdb_id = 990000000 + 1 + ((u.id * 7 + k) % 2000)
          where u.username like 'd%' group by u.id`,
      );
      await em().execute("analyze");
      console.log(`digest setup: ${DIGEST_USERS} users with preferences and 5 recommendations each in ${(performance.now() - t).toFixed(0)} ms`);
      const digestTemplate = await m.templates.create({
        name: "bench-digest",
        templateType: "email_weekly_digest",
        subject: "Your week, {{user.username}}",
        htmlContent: '<ul>{{#movies}}<li><a href="{{url}}">{{title}}</a></li>{{/movies}}</ul><a href="{{unsubscribe_url}}">unsubscribe</a>',
        textContent: "{{#movies}}- {{title}} {{url}}\n{{/movies}}",
        isActive: true,
      });
      void digestTemplate;
      t = performance.now();
      const r = await m.digests.runWindow(new Date("2025-03-10T08:59:00Z"), new Date("2025-03-10T09:00:00Z"));
      const digestMs = performance.now() - t;
      const [logs] = await em().execute<{ n: number }[]>("select count(*)::int as n from notification_logs where request_key like 'digest:%'");
      console.log(
        `digest: ${r.due} users due, ${r.queued} digests rendered, written to the outbox and enqueued in ${(digestMs / 1000).toFixed(1)} s = ${((r.due / digestMs) * 1000).toFixed(0)} users/s (${logs!.n} digest rows)`,
      );
      const t2 = performance.now();
      const again = await m.digests.runWindow(new Date("2025-03-10T08:59:00Z"), new Date("2025-03-10T09:00:00Z"));
      console.log(`digest re-run of the same tick: ${again.due} due, ${again.queued} new (idempotency keys) in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
      console.log(`at the end: ${loadLine()}`);
    } finally {
      await deps.queues.delivery.obliterate({ force: true }).catch(() => {});
      m.close();
      await closeAppDeps(deps);
    }
  } finally {
    await db.drop();
    await new Promise<void>((r) => smtp.close(() => r()));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
