// A separate OS process polling a shared SQLite jobs database (spawned by sqlite-backend.test.ts
// with `node --import <tsx loader> worker.fixture.ts <mode> <dbPath>`).
//   multi: runs 'mp-job', recording each run in the `runs` table, until the parent sends 'stop'.
//   hang:  starts 'crash-job', records that it started, then never finishes (the parent SIGKILLs it).
import Database from 'better-sqlite3';
import { createAgenda } from '../../runtime/jobs/agenda.ts';

const [mode, dbPath] = process.argv.slice(2);
if (!mode || !dbPath) {
  console.error('usage: worker.fixture.ts multi|hang <dbPath>');
  process.exit(2);
}

const runsDb = new Database(dbPath);
runsDb.pragma('busy_timeout = 15000');
const recordRun = runsDb.prepare('INSERT INTO runs (job_id, pid, at) VALUES (?, ?, ?)');

const agenda = createAgenda({ jobsUrl: `sqlite:${dbPath}`, processEvery: 50, name: `worker-${process.pid}`, defaultLockLimit: 5 });
agenda.on('error', (err) => console.error('agenda error:', err));

if (mode === 'multi') {
  agenda.define('mp-job', async (job) => {
    recordRun.run(String(job.attrs._id), process.pid, Date.now());
    await new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 15)));
  });
} else if (mode === 'hang') {
  agenda.define('crash-job', async (job) => {
    recordRun.run(String(job.attrs._id), process.pid, Date.now());
    await new Promise(() => {}); // never finishes: the parent kills this process mid-job
  });
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}

process.on('message', (msg) => {
  if (msg === 'stop') {
    void agenda.stop().then(() => {
      runsDb.close();
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));

await agenda.start();
process.send?.('ready');
