/**
 * Preload for profiling a product child: BENCH_CHILD_NODE_OPTIONS="--import ./bench/cpu-profile.mjs" (Node 20
 * refuses --cpu-prof in NODE_OPTIONS). Only the process running main is profiled; its .cpuprofile (open it in
 * Chrome DevTools or speedscope) is written on exit to CPU_PROFILE_DIR (default: the temp folder).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import path from 'node:path';

if (/main\.[jt]s$/.test(process.argv[1] ?? '')) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    // A session on this thread answers synchronously, so the file is written before the process goes.
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      const file = path.join(process.env.CPU_PROFILE_DIR ?? tmpdir(), `CPU.${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(res.profile));
    });
  });
}
