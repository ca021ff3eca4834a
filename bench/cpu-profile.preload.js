// Preloaded into a service process by a bench (NODE_OPTIONS=--require …; --cpu-prof is not allowed there):
// profiles the whole process and writes a .cpuprofile into KEEL_CPU_PROFILE_DIR when it exits, named after the
// app it runs (apps/<name>/src/main.ts) so a bench of several services tells their profiles apart.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.KEEL_CPU_PROFILE_DIR;
if (dir) {
  const app = /apps\/([^/]+)\//.exec(process.argv[1] ?? '')?.[1] ?? 'service';
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // The in-thread session answers synchronously, so the profile is written before the process is gone.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${app}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
