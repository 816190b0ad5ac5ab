import { pathToFileURL } from 'node:url';

/**
 * `node dist/bench/PART.js`: when the module at `moduleUrl` is the process's entry point, runs
 * its benchmark and prints the result as JSON (exit 1 with the error's stack if it throws).
 */
export function printJsonWhenRunDirectly(moduleUrl: string, run: () => Promise<unknown>): void {
  if (moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  run().then((result) => {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  }, (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}
